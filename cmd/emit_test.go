package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

func TestEmitRecordsOneEvent(t *testing.T) {
	srv := feedtest.Start(t)
	t.Setenv("REDIS_URL", srv.URL)
	out, errOut, code := runMavtop(t, "emit", "--ws", "acme", "--project", "research", "--endpoint", "/focus-groups",
		"--credits", "120", "--op", "focus-group", "--est", "150", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		ID     string         `json:"id"`
		Fields map[string]any `json:"fields"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.ID == "" || got.Fields["est"] != "150" {
		t.Fatalf("output %q (%v)", out, err)
	}
	_, errOut, code = runMavtop(t, "emit", "--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0",
		"--status", "402", "--code", "credits_exhausted", "--msg", "You've run out of credits")
	if code != 0 {
		t.Fatalf("402 emit: exit %d: %s", code, errOut)
	}
	_, errOut, code = runMavtop(t, "emit", "--ws", "acme", "--kind", "recharge", "--credits", "500")
	if code != 0 {
		t.Fatalf("recharge emit: exit %d: %s", code, errOut)
	}
	res, err := feed.ReadSnapshot(context.Background(), srv.Client(), feed.Keys{}, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Snap
	if s.Used["acme"] != 120 || s.UsedBy["acme/research//focus-groups"] != 120 ||
		s.Refused["acme//credits_exhausted"] != 1 || s.Recharged["acme"] != 500 {
		t.Errorf("counters after emit: %+v", s)
	}
}

func TestEmitBadInputWritesNothing(t *testing.T) {
	srv := feedtest.Start(t)
	t.Setenv("REDIS_URL", srv.URL)
	cases := [][]string{
		{"--ws", "acme corp", "--endpoint", "/responses", "--credits", "1"},
		{"--ws", "acme", "--endpoint", "responses", "--credits", "1"},
		{"--ws", "acme", "--endpoint", "/responses"},
		{"--ws", "acme", "--endpoint", "/responses", "--credits", "-3"},
		{"--ws", "acme", "--endpoint", "/responses", "--credits", "1", "--status", "999"},
		{"--ws", "acme", "--endpoint", "/responses", "--credits", "1", "--kind", "settings"},
		{"--ws", "acme", "--endpoint", "/responses", "--credits", "1", "--ts", "yesterday"},
		{"--endpoint", "/responses", "--credits", "1"},
		// terminal control in text flags (issue 10): refused, not written
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--status", "402", "--code", "credits_exhausted",
			"--msg", "\x1b]2;HACKED\a\x1b[31mred\x1b[0m x\ny"},
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--req", "r\x1b[2J"},
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--msg", "bidi \u202e override"},
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--code", "c\x9b1m"},
		// an emoji's parts beside what is still refused: the whole message is
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--msg", "Warning \u26a0\ufe0f \x1b[2J"},
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--msg", "Team \U0001f469\u200d\U0001f4bb \u202e"},
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--msg", "zero\u200bwidth space"},
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--msg", "bad \xff utf-8"},
		// emoji parts are allowed in --msg only
		{"--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0", "--req", "r\u200d1"},
	}
	for _, args := range cases {
		_, errOut, code := runMavtop(t, append([]string{"emit"}, args...)...)
		if code != 2 || errOut == "" {
			t.Errorf("emit %v: exit %d, stderr %q; want 2 with a message", args, code, errOut)
		}
	}
	if n, _ := srv.Client().DBSize(context.Background()).Result(); n != 0 {
		t.Errorf("bad input wrote %d keys", n)
	}
}

func TestCommandsSayWhenNoRedisIsConfigured(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"emit", "--ws", "acme", "--endpoint", "/responses", "--credits", "1"}, 2},
		{[]string{"check"}, 3},
		{[]string{"budget", "show"}, 2},
		{[]string{"budget", "set", "acme", "--allocation", "10"}, 2},
		{[]string{"budget", "period"}, 2},
	} {
		_, errOut, code := runMavtop(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, "no Redis configured") {
			t.Errorf("%v: exit %d, stderr %q; want %d saying no Redis is configured", tc.args, code, errOut, tc.code)
		}
	}
}

// TestEmitRetriesARedisThatComesBack: emit started while Redis is down keeps
// retrying, and when the server is back (seconds later, same port) it writes
// the event once: exit 0 and the counters hold its credits.
func TestEmitRetriesARedisThatComesBack(t *testing.T) {
	srv := feedtest.StartReal(t, "needs redis-server (Kill and Restart on one port)")
	srv.Kill()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		root := newRootCmd()
		root.SetOut(&out)
		root.SetErr(&errOut)
		done <- run(root, emitAcme(srv.URL, "37", "--retry-for", "60s"), &errOut)
	}()
	waitUntil(t, 30*time.Second, "emit to say it is retrying", func() bool { return strings.Contains(errOut.String(), "retrying for up to 1m0s") })
	srv.Restart()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "recorded") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatal("emit did not finish after Redis came back")
	}
	emittedOnce(t, srv.Client(), "37")
}

// TestEmitRetriesARedisStillLoading: a Redis restarting onto its data
// answers every command "LOADING Redis is loading the dataset in memory"
// until the data is in memory (seconds for a large RDB). That is the restart
// --retry-for is for: emit waits it out and writes the event once (before, it
// exited 1 at once and the event was lost).
func TestEmitRetriesARedisStillLoading(t *testing.T) {
	srv := feedtest.StartReal(t, "needs redis-server (a server loading its data)")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH")
	}
	ctx := context.Background()
	c := srv.Client()
	// 600 keys of 1,100 bytes, loaded 25 ms a key (key-load-delay) with the
	// server answering after each key: about 15 s of LOADING
	pipe := c.Pipeline()
	for i := range 600 {
		pipe.Set(ctx, fmt.Sprintf("k%d", i), strings.Repeat("x", 1100), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	_, port, _ := net.SplitHostPort(srv.Addr)
	loading := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--dir", srv.Dir(), "--save", "",
		"--appendonly", "no", "--dbfilename", "dump.rdb", "--key-load-delay", "25000", "--loading-process-events-interval-bytes", "1024")
	if err := loading.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = loading.Process.Kill(); _ = loading.Wait() })
	probe := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer probe.Close()
	waitUntil(t, 30*time.Second, "the server to answer LOADING", func() bool {
		err := probe.Ping(ctx).Err()
		return err != nil && strings.HasPrefix(err.Error(), "LOADING")
	})
	out, errOut, code := runMavtop(t, emitAcme(srv.URL, "37", "--retry-for", "60s")...)
	if code != 0 || !strings.Contains(out, "recorded") || !strings.Contains(errOut, "LOADING") || !strings.Contains(errOut, "retrying for up to 1m0s") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0, recorded after retrying", code, out, errOut)
	}
	emittedOnce(t, probe, "37")
}

// TestEmitRetriesARedisBusyWithAScript: a Redis running a script past
// busy-reply-threshold answers every command BUSY until the script ends; like
// LOADING that is "not now", so emit retries it and writes the event once
// (it exited 1 at once, the event lost, although --retry-for is for Redis
// being away a while).
func TestEmitRetriesARedisBusyWithAScript(t *testing.T) {
	srv := feedtest.StartReal(t, "needs redis-server (a server busy with a script)")
	ctx := context.Background()
	c := srv.Client()
	if err := c.ConfigSet(ctx, "busy-reply-threshold", "100").Err(); err != nil {
		t.Fatal(err)
	}
	// A script that runs 4 s of the server's clock and then ends on its own.
	busy := redis.NewClient(&redis.Options{Addr: srv.Addr, ReadTimeout: -1, MaxRetries: -1})
	defer busy.Close()
	done := make(chan error, 1)
	go func() {
		done <- busy.Eval(ctx, `local e = tonumber(redis.call('TIME')[1]) + 4
while tonumber(redis.call('TIME')[1]) < e do end
return 1`, nil).Err()
	}()
	probe := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer probe.Close()
	waitUntil(t, 30*time.Second, "the server to answer BUSY", func() bool {
		err := probe.Ping(ctx).Err()
		return err != nil && strings.HasPrefix(err.Error(), "BUSY")
	})
	out, errOut, code := runMavtop(t, emitAcme(srv.URL, "37", "--retry-for", "60s")...)
	if err := <-done; err != nil {
		t.Fatalf("the script: %v", err)
	}
	if code != 0 || !strings.Contains(out, "recorded") || !strings.Contains(errOut, "BUSY") || !strings.Contains(errOut, "retrying for up to 1m0s") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0, recorded after retrying", code, out, errOut)
	}
	emittedOnce(t, probe, "37")
}

// TestEmitGivesUpAfterRetryFor: with no Redis at all emit retries for
// --retry-for, then exits 1 saying why and how often it tried; 10 s by default.
func TestEmitGivesUpAfterRetryFor(t *testing.T) {
	url := closedPort(t)
	start := time.Now()
	_, errOut, code := runMavtop(t, emitAcme(url, "1", "--retry-for", "1s")...)
	took := time.Since(start)
	if code != 1 || !strings.Contains(errOut, "connection refused") || !strings.Contains(errOut, "retrying for up to 1s") ||
		!regexp.MustCompile(`gave up after ([2-9]|\d\d+) attempts in [\d.]+m?s, --retry-for 1s`).MatchString(errOut) {
		t.Errorf("exit %d, stderr %q; want 1 after several attempts", code, errOut)
	}
	if took < time.Second {
		t.Errorf("gave up after %v, before --retry-for 1s", took)
	}
	if _, errOut, code := runMavtop(t, emitAcme(url, "1", "--retry-for", "0")...); code != 1 || strings.Contains(errOut, "retrying") {
		t.Errorf("--retry-for 0: exit %d, stderr %q; want 1 at once", code, errOut)
	}
	if d := newEmitCmd().Flags().Lookup("retry-for").DefValue; d != "10s" {
		t.Errorf("--retry-for defaults to %s; the README says 10 s", d)
	}
}

// TestEmitWritesAMessageWithEmoji: a message as the API words it, with an
// emoji's variation selector ("⚠️"), a ZWJ sequence ("👩‍💻"), a toned hand
// and a subdivision flag, is written whole: model.Sanitize keeps grapheme
// clusters whole, so the stream holds the message byte for byte (it held
// "👩💻" and "⚠", the joiners and selectors dropped).
func TestEmitWritesAMessageWithEmoji(t *testing.T) {
	srv := feedtest.Start(t)
	t.Setenv("REDIS_URL", srv.URL)
	for _, msg := range []string{
		"Warning \u26a0\ufe0f you have run out of credits",
		"Team \U0001f469\u200d\U0001f4bb budget exceeded",
		"\U0001f44d\U0001f3fd ok",
		"\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f scotland",
	} {
		out, errOut, code := runMavtop(t, "emit", "--ws", "acme", "--endpoint", "/mave/chat", "--credits", "0",
			"--status", "402", "--code", "credits_exhausted", "--msg", msg, "--json")
		if code != 0 {
			t.Fatalf("emit --msg %q: exit %d: %s", msg, code, errOut)
		}
		var got struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		entries, err := srv.Client().XRange(context.Background(), feed.Keys{}.Stream(), got.ID, got.ID).Result()
		if err != nil || len(entries) != 1 || entries[0].Values["msg"] != msg {
			t.Errorf("emit --msg %q: the stream holds %+v (%v)", msg, entries, err)
		}
	}
}

// emitAcme is the command line of an emit of credits by acme on /responses
// to the Redis at url, flags after.
func emitAcme(url, credits string, flags ...string) []string {
	return append([]string{"emit", "--redis", url, "--ws", "acme", "--endpoint", "/responses", "--credits", credits}, flags...)
}

// acmeUsed reads acme's used counter of this period from c ("" when none).
func acmeUsed(c redis.UniversalClient) func() string {
	return func() string {
		v, _ := c.HGet(context.Background(), feed.Keys{}.Used(model.MonthlyUTC.At(time.Now()).Key), "acme").Result()
		return v
	}
}

// emittedOnce checks that c holds one emit by acme: its credits in this
// period's used counter, and one stream entry.
func emittedOnce(t *testing.T, c redis.UniversalClient, credits string) {
	t.Helper()
	if got := acmeUsed(c)(); got != credits {
		t.Errorf("used acme = %q, want the %s credits emitted once", got, credits)
	}
	if n, err := c.XLen(context.Background(), feed.Keys{}.Stream()).Result(); n != 1 {
		t.Errorf("the stream holds %d entries (%v), want 1", n, err)
	}
}
