package cmd

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/demo"
	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// TestLogRecordsConnectionResyncLaunchesAndErrors runs the dashboard's wiring
// (flags, Redis, the API client, the hub, --log) against a real redis-server
// and the API sandbox, and reads the file: Redis going away and coming back,
// the counters re-read after it, a skipped entry, a launch, a refusal, a
// queued and a cancelled job are each recorded.
func TestLogRecordsConnectionResyncLaunchesAndErrors(t *testing.T) {
	srv := feedtest.StartReal(t, "needs redis-server (Kill/Restart with data)")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// the demo's sandbox and workspace settings, with no traffic: the only
	// launches are the test's
	d, err := demo.Start(ctx, demo.Options{Redis: srv.Client(), NoTraffic: true, Seed: 7, Clock: client.NewScaledClock(time.Now(), 20)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{}).SetWorkspace(ctx, "tight", model.Settings{Allocation: 50}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAVERA_API_KEY", d.Key)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	src, log, file := openLogged(ctx, t, "--redis", srv.URL, "--api-base", d.BaseURL, "--reconcile", "0", "--audit", "200ms", "--log-level", "info")
	// the counters are read before the dashboard asks for its launcher: the
	// log records the start all the same (its viewer joined before the hub ran)
	v := src.hub.JoinEvents()
	for started := false; !started; {
		msgs, err := v.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			switch m.(type) {
			case *feed.SnapshotMsg, *feed.LedgerMsg:
				started = true
			}
		}
	}
	v.Close()
	l := src.logged(log)
	if l == nil {
		t.Fatal("no launcher with MAVERA_API_KEY set")
	}
	read := func() string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	waitLogged := func(want ...string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			s, missing := read(), ""
			for _, w := range want {
				if !strings.Contains(s, w) {
					missing = w
				}
			}
			if missing == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log lacks %s:\n%s", missing, s)
			}
		}
	}
	waitLogged(`msg="dashboard started" demo=false launching=true`, `msg="counters read" reason=start`, `msg=redis state=connected`)

	// a launch and a refusal (the client's pre-flight), queued, then cancelled
	q, _ := estimator.Estimate(estimator.FocusGroup, estimator.Params{SampleSize: 25, Questions: 5})
	if _, err := l.Launch(ctx, tui.Job{Op: estimator.FocusGroup, Params: q.Params, Workspace: "acme-prod", Quote: q}, func(string) {}); err != nil {
		t.Fatal(err)
	}
	job := tui.Job{Op: estimator.FocusGroup, Params: q.Params, Workspace: "tight", Quote: q}
	_, refusal := l.Launch(ctx, job, func(string) {})
	if refusal == nil {
		t.Fatalf("a focus group of %d credits launched with 50 left", q.Required)
	}
	if err := l.Queue(ctx, job, refusal); err != nil {
		t.Fatal(err)
	}
	queued, err := l.Queued(ctx)
	if err != nil || len(queued) != 1 {
		t.Fatalf("queued %v, %v", queued, err)
	}
	if _, err := l.Cancel(ctx, queued[0].ID); err != nil {
		t.Fatal(err)
	}
	waitLogged(`msg="launch done" workspace=acme-prod operation=focus-group`,
		`msg="launch refused" workspace=tight operation=focus-group required=102 by="the client's pre-flight"`,
		`msg="queued for retry" workspace=tight operation=focus-group required=102`,
		`msg="queued job cancelled" id=`+queued[0].ID+` removed=true`)

	// the API's own 402: the sandbox has 10 credits left in acme-staging
	// while the counters (and so the client's pre-flight) see its allocation
	if err := d.Sandbox.SetAllocation(d.Key, "acme-staging", 10); err != nil {
		t.Fatal(err)
	}
	apiJob := tui.Job{Op: estimator.FocusGroup, Params: q.Params, Workspace: "acme-staging", Quote: q}
	if res, err := l.Launch(ctx, apiJob, func(string) {}); err == nil || !res.Refused {
		t.Fatalf("acme-staging with 10 credits left: %+v, %v", res, err)
	}
	waitLogged(`level=WARN msg="launch refused" workspace=acme-staging operation=focus-group required=102 by="the API: 402 credits_exhausted"`)

	// a launch that fails (the API answers 500, retries included): an error
	d.Sandbox.InjectFault(sandbox.Fault{Method: "POST", Path: "/focus-groups", Status: 500, Times: 100})
	if _, err := l.Launch(ctx, tui.Job{Op: estimator.FocusGroup, Params: q.Params, Workspace: "acme-prod", Quote: q}, func(string) {}); err == nil {
		t.Fatal("a launch answered 500 did not fail")
	}
	d.Sandbox.ClearFaults()
	waitLogged(`level=ERROR msg="launch failed" workspace=acme-prod operation=focus-group err="POST /focus-groups: 500`)

	// the retry queue's poller relaunches a queued job once its workspace has
	// the credits (settings raised in Redis and in the API)
	_, refusal = l.Launch(ctx, job, func(string) {})
	if err := l.Queue(ctx, job, refusal); err != nil {
		t.Fatal(err)
	}
	if err := d.Sandbox.SetAllocation(d.Key, "tight", 100_000); err != nil {
		t.Fatal(err)
	}
	if err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{}).SetWorkspace(ctx, "tight", model.Settings{Allocation: 100_000}); err != nil {
		t.Fatal(err)
	}
	waitLogged(`msg="queued job relaunched" id=`, `workspace=tight operation=focus-group remaining=100000`)

	// an entry that is not one: skipped, and said
	if err := srv.Client().XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), Values: []any{"v", 1, "ws", "acme-prod", "credits", "lots"}}).Err(); err != nil {
		t.Fatal(err)
	}
	waitLogged(`msg="malformed entry skipped"`)

	// Redis goes away and comes back: both said, with the error, and the
	// counters re-read
	srv.Kill()
	waitLogged(`level=WARN msg=redis state=reconnecting`)
	srv.Restart()
	waitLogged(`msg=redis state=connected`)
	// the stream deleted under the dashboard: the counters are re-read
	if err := srv.Client().Del(ctx, feed.Keys{}.Stream()).Err(); err != nil {
		t.Fatal(err)
	}
	// in the dashboard's words, at WARN: the log says what the screen says
	waitLogged(`level=WARN msg="Redis restarted: counters re-read`, `reason=restart period=`+model.MonthlyUTC.At(time.Now()).Key+` stream_id=0-0`)
	s := read()
	if i, j := strings.LastIndex(s, "state=reconnecting"), strings.LastIndex(s, "msg=redis state=connected"); j < i {
		t.Errorf("no connected after the reconnecting:\n%s", s)
	}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.Contains(line, "state=reconnecting") && !strings.Contains(line, "err=") {
			t.Errorf("a connection loss without its error: %s", line)
		}
	}
}

// TestLogRecordsDemoErrors starts the dashboard's wiring in demo mode (no
// --redis) with --log and makes the demo's API answer 500 to every call: the
// simulated applications' errors reach the log file, said as errors, with the
// workspace whose call failed.
func TestLogRecordsDemoErrors(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("MAVERA_API_KEY", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, _, file := openLogged(ctx, t, "--reconcile", "0", "--log-level", "warn")
	if src.demo == nil {
		t.Fatal("no demo without --redis")
	}
	src.demo.Sandbox.InjectFault(sandbox.Fault{Path: "/*", Status: 500, Times: 1 << 30})
	names := map[string]bool{}
	for _, w := range src.demo.Workspaces {
		names[w.Name] = true
	}
	var s string
	waitUntil(t, 60*time.Second, "a demo error in the log", func() bool {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s = string(b)
		return strings.Contains(s, `level=ERROR msg=demo err=`)
	})
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		_, rest, ok := strings.Cut(line, `level=ERROR msg=demo err="`)
		if !ok {
			continue
		}
		ws, _, _ := strings.Cut(rest, ":")
		if !names[ws] || !strings.Contains(rest, "500") {
			t.Errorf("a demo error without its workspace or the API's status: %s", line)
		}
	}
}

// openLogged opens what the dashboard reads with its flags parsed from args
// and --log set to a new file, as the dashboard command does; the source and
// the log close with the test.
func openLogged(ctx context.Context, t *testing.T, args ...string) (*source, *slog.Logger, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "mavtop.log")
	var f dashboardFlags
	c := &cobra.Command{}
	f.addFlags(c)
	if err := c.Flags().Parse(append(args, "--log", file)); err != nil {
		t.Fatal(err)
	}
	log, closeLog, err := f.log.openLog()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeLog)
	f.logger = log
	src, err := f.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.close)
	return src, log, file
}

// TestLogConnNamesTheServerOnlyWhenKnown: a server that cannot name itself (a
// unix socket, the embedded one) is not logged as server="".
func TestLogConnNamesTheServerOnlyWhenKnown(t *testing.T) {
	for _, c := range []struct {
		server, want string
	}{
		{"", "level=INFO msg=redis state=connected\n"},
		{"10.0.0.7:6379", "level=INFO msg=redis state=connected server=10.0.0.7:6379\n"},
	} {
		var b strings.Builder
		log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
		logConn(log, &feed.ConnMsg{State: feed.Connected, Server: c.server})
		if got := b.String(); got != c.want {
			t.Errorf("server %q: logged %q, want %q", c.server, got, c.want)
		}
	}
}
