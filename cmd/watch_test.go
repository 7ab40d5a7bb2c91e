package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// `mavtop watch` follows the stream headless, delivers a firing to the
// webhook, `mavtop alerts --json` lists it, and cancelling (what SIGTERM does)
// ends it without an error.
func TestWatchDeliversAndAlertsLists(t *testing.T) {
	srv := feedtest.Start(t)
	hook := notifytest.NewReceiver(t)
	stderr, stop := startWatch(t, "--redis", srv.URL, "--notify", hook.URL+"/mavtop", "--metrics", "127.0.0.1:0")

	usage := notifytest.NewUsage(t, srv.Client())
	usage.Set("acme", model.Settings{Allocation: 1000})
	usage.Spend("acme", 600)
	period := model.MonthlyUTC.At(time.Now()).Key
	id := model.AlertID(period, "acme", "", model.AlertThreshold, "50")
	fired := notifytest.ThresholdKey(period, "acme", "50", model.AlertFiring)
	waitUntil(t, 30*time.Second, "the webhook to get "+fired, hook.Has(fired))
	if n := hook.Keys()[fired]; n != 1 {
		t.Errorf("%s arrived %d times, want once", fired, n)
	}
	host, _ := os.Hostname()
	for _, m := range hook.Payloads() {
		if want := fmt.Sprintf("%s/watch[%d]", host, os.Getpid()); m["id"] == id && m["status"] == "firing" && m["instance"] != want {
			t.Errorf("payload instance %v, want %s", m["instance"], want)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	var listed struct {
		Alerts []feed.StoredAlert `json:"alerts"`
	}
	for {
		out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
		if code != 0 {
			t.Fatalf("alerts: %d %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &listed); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		sent := false
		for _, a := range listed.Alerts {
			if a.Alert.ID == id && a.Status == model.AlertFiring && len(a.Deliveries) == 1 && a.Deliveries[0].Done {
				for _, r := range a.Deliveries[0].Sinks {
					sent = r.Result == feed.ResultSent
				}
			}
		}
		if sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts --json never showed %s sent:\n%s", id, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, _, _ := runMavtop(t, "alerts", "--redis", srv.URL)
	if !strings.Contains(out, "acme used 50 % of its 1,000-credit cap") || !strings.Contains(out, "✓ sent 1 sink") {
		t.Errorf("alerts:\n%s", out)
	}
	stop()
	if log := stderr.String(); strings.Contains(log, "no --notify") {
		t.Errorf("watch with --notify says alerts are not delivered:\n%s", log)
	}
	if log := stderr.String(); !strings.Contains(log, "alert firing") || !strings.Contains(log, "mavtop watch stopping") {
		t.Errorf("log:\n%s", log)
	}
}

func TestWatchNeedsRedis(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	_, errOut, code := runMavtop(t, "watch")
	if code != 2 || !strings.Contains(errOut, "no Redis configured") {
		t.Fatalf("code %d: %s", code, errOut)
	}
}

// startWatch runs `mavtop watch` with args in this process; stop cancels it
// (what SIGTERM does) and fails the test unless it ends cleanly.
func startWatch(t *testing.T, args ...string) (stderr *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stderr = &syncBuffer{}
	root := newRootCmd()
	root.SetArgs(append([]string{"watch"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(stderr)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	return stderr, func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("watch ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("watch did not stop")
		}
	}
}

// TestWatchAuditsOnItsCadence: watch audits what it follows against the
// counters like the dashboard (--audit, default feed.DefaultAuditEvery): a
// counter written without its stream entry is healed, and /metrics says so.
func TestWatchAuditsOnItsCadence(t *testing.T) {
	if d := newWatchCmd().Flags().Lookup("audit"); d == nil || d.DefValue != feed.DefaultAuditEvery.String() {
		t.Fatalf("watch --audit: %+v, want the dashboard's default %v", d, feed.DefaultAuditEvery)
	}
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	stderr, stop := startWatch(t, "--redis", srv.URL, "--metrics", "127.0.0.1:0", "--audit", "200ms")
	var url string
	waitUntil(t, 30*time.Second, "watch to log its metrics address", func() bool {
		m := regexp.MustCompile(`metrics=(http://\S+/metrics)`).FindStringSubmatch(stderr.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	})
	if err := feed.NewPublisher(c, feed.PublisherOptions{}).Track(ctx, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 100, Status: 200}); err != nil {
		t.Fatal(err)
	}
	scrape := func() string {
		resp, err := http.Get(url)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	used := `mavtop_credits_used_total{endpoint="/responses",project="",workspace="acme"} `
	waitUntil(t, 30*time.Second, "the event in /metrics", func() bool { return strings.Contains(scrape(), used+"100\n") })
	// a counter without its entry: only an audit can find it
	p := model.MonthlyUTC.At(time.Now())
	if err := c.HIncrBy(ctx, feed.Keys{}.Used(p.Key), "acme", 400).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HIncrBy(ctx, feed.Keys{}.UsedBy(p.Key), model.UsedByField("acme", "", "/responses"), 400).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "watch to heal to the counters (500) by an audit", func() bool {
		m := scrape()
		return strings.Contains(m, used+"500\n") && strings.Contains(m, `mavtop_feed_resyncs_total{reason="drift"} 1`)
	})
	// and says so on stderr, in the dashboard's words (journalctl reads it)
	logged := func(what string) {
		t.Helper()
		waitUntil(t, 30*time.Second, "watch to log "+what, func() bool { return strings.Contains(stderr.String(), what) })
	}
	logged(`level=WARN msg="the counters and the stream disagreed: counters re-read, +400 credits" reason=drift`)
	// without --notify it said once, at the start, that alerts are only stored
	if n := strings.Count(stderr.String(), "no --notify: alerts are only stored in Redis (mavtop alerts lists them), not delivered"); n != 1 {
		t.Errorf("watch without --notify said %d times that alerts are not delivered, want once:\n%s", n, stderr.String())
	}
	if !srv.Real {
		stop()
		return // a restart onto older data needs redis-server
	}
	// Redis comes back older than it was (restart from an older snapshot):
	// the credits it lost are said, with the run id's change
	old := srv.CopyData()
	if err := feed.NewPublisher(c, feed.PublisherOptions{}).Track(ctx, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 2927, Status: 200}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the event in /metrics", func() bool { return strings.Contains(scrape(), used+"3427\n") })
	srv.RestartFrom(old)
	logged(`level=WARN msg="Redis restarted: counters re-read, −2,927 credits" reason=restart`)
	stop()
}

// watchProcess is a `mavtop watch` running as a process of its own (the test
// binary standing in for mavtop, see TestMain), so that it can be SIGKILLed.
type watchProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
}

func startWatchProcess(t *testing.T, args ...string) *watchProcess {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &watchProcess{stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(self)
	p.cmd.Env = append(os.Environ(), "MAVTOP_AS_MAIN=1", "MAVTOP_ARGS="+strings.Join(append([]string{"watch"}, args...), " "))
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	waitUntil(t, 90*time.Second, "mavtop watch to follow the stream", func() bool {
		return strings.Contains(p.stderr.String(), "mavtop watch following the stream")
	})
	return p
}

// kill ends the process with SIGKILL: no cleanup of any kind runs in it.
func (p *watchProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// The test, with processes: allocation 1,000; usage driven across 50,
// 75 and 90 %; two `mavtop watch` processes and a dashboard following one
// redis-server; one watcher SIGKILLed and started again midway; each firing
// arrives once. The allocation is raised: each resolution arrives once. Then
// the receiver answers 503 for a minute while a second workspace crosses its
// lines and the watcher holding those deliveries is SIGKILLed mid-retry: every
// transition still arrives, once, after the receiver recovers. The counts are
// checked against the deliveries Redis holds.
func TestWatchProcessesKilledDeliverEachTransitionOnce(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	hook := notifytest.NewReceiver(t)
	period := model.MonthlyUTC.At(time.Now()).Key
	key := func(ws, th string, st model.AlertStatus) string { return notifytest.ThresholdKey(period, ws, th, st) }
	c := srv.Client()
	usage := notifytest.NewUsage(t, c)
	spend := usage.Spend
	store := feed.NewAlertStore(c, "")
	settled := func() bool { return notifytest.Settled(ctx, store, period) }
	usage.Set("acme", model.Settings{Allocation: 1000})

	// the lease and the retries compressed: a killed holder is taken over in 5 s
	args := []string{"--redis", srv.URL, "--notify", hook.URL + "/mavtop", "--notify-lease", "5s",
		"--notify-retry-min", "100ms", "--notify-retry-max", "2s"}
	w1 := startWatchProcess(t, args...)
	w2 := startWatchProcess(t, args...)
	// the dashboard: the same wiring as `mavtop`, without a screen or --notify
	var df dashboardFlags
	dcmd := &cobra.Command{}
	df.addFlags(dcmd)
	if err := dcmd.Flags().Parse([]string{"--redis", srv.URL}); err != nil {
		t.Fatal(err)
	}
	df.noAPI = true
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	dash, err := df.open(dctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dash.close()

	spend("acme", 400) // 40 %
	spend("acme", 110) // 51 %
	waitUntil(t, 90*time.Second, "the 50 % firing", hook.Has(key("acme", "50", model.AlertFiring)))
	waitUntil(t, 90*time.Second, "the 50 % delivery recorded", settled)
	w2.kill()
	spend("acme", 250) // 76 %
	waitUntil(t, 90*time.Second, "the 75 % firing", hook.Has(key("acme", "75", model.AlertFiring)))
	w2 = startWatchProcess(t, args...)
	spend("acme", 160) // 92 %
	fired := []string{key("acme", "50", model.AlertFiring), key("acme", "75", model.AlertFiring), key("acme", "90", model.AlertFiring)}
	waitUntil(t, 90*time.Second, "every firing", hook.Has(fired...))

	// 920 of 2,000 is 46 %: under every threshold
	usage.Set("acme", model.Settings{Allocation: 2000})
	resolved := []string{key("acme", "50", model.AlertResolved), key("acme", "75", model.AlertResolved), key("acme", "90", model.AlertResolved)}
	waitUntil(t, 90*time.Second, "every resolution", hook.Has(resolved...))
	waitUntil(t, 90*time.Second, "the resolutions recorded", settled)

	// a minute of 503s; globex crosses its lines meanwhile, and whichever
	// watcher holds its deliveries is killed while it retries
	failUntil := time.Now().Add(time.Minute)
	hook.Refuse(func(string) int {
		if time.Now().Before(failUntil) {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	usage.Set("globex", model.Settings{Allocation: 1000})
	spend("globex", 950)
	later := []string{key("globex", "50", model.AlertFiring), key("globex", "75", model.AlertFiring), key("globex", "90", model.AlertFiring)}
	var holder string
	waitUntil(t, 90*time.Second, "a delivery of globex refused, and its holder", func() bool {
		var ids []string
		for k := range hook.Refused() {
			ids = append(ids, strings.TrimSuffix(k, "#firing"))
		}
		recs, _, err := store.Load(ctx, period)
		if err != nil {
			return false
		}
		for _, id := range ids {
			if d := recs[id].Deliveries; len(d) > 0 && d[0].Owner != "" && !d[0].Done {
				holder = d[0].Owner
				return true
			}
		}
		return false
	})
	pid := func(p *watchProcess) string { return "/" + strconv.Itoa(p.cmd.Process.Pid) + "/" }
	switch {
	case strings.Contains(holder, pid(w1)):
		w1.kill()
		w1 = startWatchProcess(t, args...)
	case strings.Contains(holder, pid(w2)):
		w2.kill()
		w2 = startWatchProcess(t, args...)
	default:
		t.Fatalf("globex's deliveries are held by %q, neither watcher", holder)
	}
	waitUntil(t, 90*time.Second, "globex's firings after the outage", hook.Has(later...))
	waitUntil(t, 90*time.Second, "every delivery recorded", settled)

	recs, _, err := store.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	g := hook.Keys()
	n := 0
	for _, r := range recs {
		for _, d := range r.Deliveries {
			n++
			if g[d.Transition.Key()] != 1 {
				t.Errorf("%s arrived %d times, want once", d.Transition.Key(), g[d.Transition.Key()])
			}
		}
	}
	if len(g) != n {
		t.Errorf("the receiver got %d transitions, Redis holds %d deliveries: %v", len(g), n, g)
	}
	for _, k := range slices.Concat(fired, resolved, later) {
		if g[k] != 1 {
			t.Errorf("%s arrived %d times, want once", k, g[k])
		}
	}
	t.Logf("503s answered during the outage: %v", hook.Refused())
	// the dashboard shows the same lifecycle: six threshold alerts, each sent
	waitUntil(t, 90*time.Second, "the dashboard's list", func() bool {
		sent := 0
		for _, e := range dash.watcher.Entries() {
			if s, _, _, _, _ := e.Delivery(); e.Alert.Kind == model.AlertThreshold && s == 1 {
				sent++
			}
		}
		return sent == 6
	})
}

// TestWatchNeverAlertsOnA402TheCountersDoNotHold: a 402 entry written
// without its counters fired a refusals alert, stored and delivered, that
// resolved a second later when the audit re-read the counters ("a 402 the
// counters do not hold refuses nothing", README). It never fires now: the
// refusals alerts wait for an audit to see the counters hold the 402
// (model.Ledger.CountersHeld); the audit finds them apart instead, re-reads
// them (the drift's own alert, counters_resync/drift, says so) and they show
// no such 402. A 402 the counters hold fires as before, once. Real webhook.
func TestWatchNeverAlertsOnA402TheCountersDoNotHold(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	hook := notifytest.NewReceiver(t)
	stderr, stop := startWatch(t, "--redis", srv.URL, "--notify", hook.URL+"/mavtop", "--audit", "200ms")
	defer func() {
		if t.Failed() {
			t.Logf("received %v\n%s", hook.Keys(), stderr.String())
		}
	}()
	defer stop()
	// the entry must come after the start's read, or that read already covers it
	waitUntil(t, 30*time.Second, "watch to read the counters", func() bool { return strings.Contains(stderr.String(), "history read back") })
	now := time.Now()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), Values: []any{
		"v", "1", "ts", strconv.FormatInt(now.UnixMilli(), 10), "ws", "acme", "endpoint", "/x",
		"credits", "0", "status", "402", "code", "foo", "msg", "m"}}).Err(); err != nil {
		t.Fatal(err)
	}
	drift := model.AlertID(p.Key, "", "", model.AlertResync, "drift")
	waitUntil(t, 30*time.Second, "the audit to re-read the counters", hook.Has(drift+"#firing"))
	time.Sleep(time.Second) // a few cycles after it
	for key := range hook.Keys() {
		if strings.Contains(key, "/refusals/") {
			t.Errorf("%s delivered for a 402 the counters never held", key)
		}
	}
	out, _, _ := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
	if strings.Contains(out, "/refusals/") {
		t.Errorf("alerts --json stores a refusals alert for a 402 the counters never held:\n%s", out)
	}
	// one the counters hold fires, once
	if err := feed.NewPublisher(c, feed.PublisherOptions{}).Track(ctx, model.Event{Workspace: "acme", Endpoint: "/x", Status: 402, Code: "foo"}); err != nil {
		t.Fatal(err)
	}
	id := model.AlertID(p.Key, "acme", "", model.AlertRefusals, "foo")
	waitUntil(t, 30*time.Second, "the refusals alert of a counted 402", hook.Has(id+"#firing"))
	if n := hook.Keys()[id+"#firing"]; n != 1 {
		t.Errorf("%s#firing delivered %d times, want once", id, n)
	}
}

// TestWatchSaysOnceWhenACounterIsUnreadable: `mavtop watch` says when a
// workspace's counter becomes unreadable (its used, a 402 count, a limited
// project's used_by: text, negative), once, naming the workspace, the field
// and why, with the hostile value sanitised (an escape sequence in it never
// reaches the log raw), and once when it can be read again; the audits in
// between, which find nothing new, say nothing (it was silent before).
func TestWatchSaysOnceWhenACounterIsUnreadable(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	period := model.MonthlyUTC.At(time.Now()).Key
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	for _, ws := range []string{"acme", "beta", "gamma"} {
		if err := store.SetProject(ctx, ws, "p1", model.ProjectBudget{Limit: 10_000}); err != nil {
			t.Fatal(err)
		}
		if err := pub.Track(ctx, model.Event{Workspace: ws, Project: "p1", Endpoint: "/responses", Credits: 80, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	// beta's is broken before watch starts: its used_by is read after the first frame
	if err := c.HSet(ctx, feed.Keys{}.UsedBy(period), model.UsedByField("beta", "p1", "/responses"), "-4").Err(); err != nil {
		t.Fatal(err)
	}
	stderr, stop := startWatch(t, "--redis", srv.URL, "--audit", "100ms")
	defer func() {
		if t.Failed() {
			t.Logf("%s", stderr.String())
		}
	}()
	defer stop()
	said := func(ws, what string) int {
		n := 0
		for _, line := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(line, what) && strings.Contains(line, "workspace="+ws) {
				n++
			}
		}
		return n
	}
	const unreadable, readable = "counter unreadable: usage and level unknown", "counter readable again"
	waitUntil(t, 30*time.Second, "beta said unreadable", func() bool { return said("beta", unreadable) > 0 })
	if err := c.HSet(ctx, feed.Keys{}.Recharged(period), "acme", "\x1b[31mred").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "acme said unreadable", func() bool { return said("acme", unreadable) > 0 })
	if err := c.HSet(ctx, feed.Keys{}.Used(period), "gamma", "lots").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "gamma said unreadable", func() bool { return said("gamma", unreadable) > 0 })
	// a settings value present but unreadable, written as a producer writes
	// settings (the hash and an entry): said as settings, once
	const badSettings, goodSettings = "settings unreadable: level unknown", "settings readable again"
	if err := store.SetWorkspace(ctx, "delta", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, feed.Keys{}.Settings(), "delta", `{"allocation":"1000"}`).Err(); err != nil {
		t.Fatal(err)
	}
	entry := model.Event{TS: time.Now().UnixMilli(), Kind: model.KindSettings, Workspace: "delta", Msg: `{"allocation":"1000"}`}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), Values: entry.Fields()}).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "delta said settings unreadable", func() bool { return said("delta", badSettings) > 0 })
	if err := store.SetWorkspace(ctx, "delta", model.Settings{Allocation: 2000}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "delta said settings readable again", func() bool { return said("delta", goodSettings) > 0 })
	for _, h := range []struct{ key, field, value string }{
		{feed.Keys{}.UsedBy(period), model.UsedByField("beta", "p1", "/responses"), "80"},
		{feed.Keys{}.Recharged(period), "acme", "1"},
		{feed.Keys{}.Used(period), "gamma", "80"},
	} {
		if err := c.HSet(ctx, h.key, h.field, h.value).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 30*time.Second, "each said readable again", func() bool {
		return said("acme", readable) > 0 && said("beta", readable) > 0 && said("gamma", readable) > 0
	})
	log := stderr.String()
	if strings.Contains(log, "\x1b") {
		t.Errorf("the hostile value reached the log raw")
	}
	if n, m := said("delta", badSettings), said("delta", goodSettings); n != 1 || m != 1 || said("delta", unreadable) != 0 {
		t.Errorf("delta: said settings unreadable %d times, readable again %d times; want once each (and no counter said)", n, m)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, badSettings) && !strings.Contains(line, `settings \"delta\" cannot be read`) {
			t.Errorf("delta: %q does not name its settings", line)
		}
	}
	for ws, field := range map[string]string{"acme": "recharged:acme", "beta": "used_by:beta/p1//responses", "gamma": "used:gamma"} {
		if n, m := said(ws, unreadable), said(ws, readable); n != 1 || m != 1 {
			t.Errorf("%s: said unreadable %d times, readable again %d times; want once each", ws, n, m)
		}
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, unreadable) && strings.Contains(line, "workspace="+ws) && !strings.Contains(line, field) {
				t.Errorf("%s: %q does not name %s", ws, line, field)
			}
		}
	}
}
