package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// dashboardInTmux starts `mavtop --bell --redis URL --metrics ADDR --log
// FILE` in a private tmux, its raw output piped to a file, and returns the
// screen, the raw output so far and the /metrics URL.
func dashboardInTmux(t *testing.T, srv *feedtest.Server) (capture func() string, raw func() []byte, metricsURL string) {
	t.Helper()
	self, tmux := privateTmux(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	rawFile := filepath.Join(dir, "raw")
	session := fmt.Sprintf("mavtop-402-%d", os.Getpid())
	cmd := fmt.Sprintf("env MAVTOP_AS_MAIN=1 MAVTOP_ARGS='--bell --redis %s --metrics %s --log %s' %s; sleep 30",
		srv.URL, addr, filepath.Join(dir, "log"), self)
	if out, err := tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = tmux("kill-session", "-t", session).Run() })
	if out, err := tmux("pipe-pane", "-t", session, "-o", "cat >> "+rawFile).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	capture = func() string {
		out, err := tmux("capture-pane", "-p", "-t", session).Output()
		if err != nil {
			t.Fatalf("capture-pane: %v", err)
		}
		return string(out)
	}
	raw = func() []byte { b, _ := os.ReadFile(rawFile); return b }
	return capture, raw, "http://" + addr + "/metrics"
}

// scrapeGauge reads one gauge of a /metrics scrape (-1: none yet).
func scrapeGauge(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil || fams[name] == nil || len(fams[name].Metric) != 1 {
		return -1
	}
	return fams[name].Metric[0].GetGauge().GetValue()
}

// ringingDashboard starts a redis-server holding z1 (allocation 1,000, 5
// credits used, written as a producer does) and the dashboard with --bell
// on it in tmux, once it shows z1: the client, z1's publisher, the screen
// and the raw bytes the terminal was sent.
func ringingDashboard(t *testing.T) (redis.UniversalClient, *feed.Publisher, func() string, func() []byte) {
	t.Helper()
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "z1", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	if err := pub.Track(ctx, model.Event{Workspace: "z1", Endpoint: "/x", Credits: 5, Status: 200}); err != nil {
		t.Fatal(err)
	}
	capture, raw, _ := dashboardInTmux(t, srv)
	waitUntil(t, 30*time.Second, "the dashboard", func() bool { return strings.Contains(capture(), "z1") })
	return c, pub, capture, raw
}

// staysQuiet fails t if, for d, the screen shows any of words or the
// terminal is sent a BEL: what must raise nothing.
func staysQuiet(t *testing.T, capture func() string, raw func() []byte, d time.Duration, what string, words ...string) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		s := capture()
		for _, w := range words {
			if strings.Contains(s, w) {
				t.Fatalf("%s alerted (%q on screen):\n%s", what, w, s)
			}
		}
	}
	if n := bytes.Count(raw(), []byte{'\a'}); n != 0 {
		t.Errorf("%d BELs for %s", n, what)
	}
}

// TestDashboardRingsOnlyForA402TheCountersHold (hostile review #2) runs the
// dashboard with --bell in tmux: a 402 written with a raw XADD (no refused
// counter) rang the bell and showed "✖ z1 got 402 credits_exhausted on /y"
// until the audit healed it, and the line stayed in the Alerts pane. Now
// it raises nothing: no BEL, no banner, no line. A real 402 (the counter
// with it, in one MULTI) still rings and says so, within the audit's 5 s.
func TestDashboardRingsOnlyForA402TheCountersHold(t *testing.T) {
	ctx := context.Background()
	c, pub, capture, raw := ringingDashboard(t)

	// the fake: a raw XADD, no counter
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), Values: map[string]any{
		"v": "1", "ts": fmt.Sprint(time.Now().UnixMilli()), "ws": "z1", "endpoint": "/y", "credits": "0",
		"status": "402", "code": "credits_exhausted", "msg": "fake"}}).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the fake in the 402 log", func() bool { return strings.Contains(capture(), "fake") })
	// past the audit (due within 5 s of a 402) and its re-read
	staysQuiet(t, capture, raw, 9*time.Second, "a 402 the counters never held", "got 402")

	// a real one: the counter with it
	start := time.Now()
	if err := pub.Track(ctx, model.Event{Workspace: "z1", Endpoint: "/z", Status: 402, Code: model.CodeCreditsExhausted}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 8*time.Second, "the real 402's banner and bell", func() bool {
		return strings.Contains(capture(), "z1 got 402 credits_exhausted on /z") && bytes.Count(raw(), []byte{'\a'}) > 0
	})
	t.Logf("a counted 402 rang the bell %v after it was written", time.Since(start).Round(100*time.Millisecond))
}

// TestDashboardWithMetricsCountsItsReaders (hostile review #8): one
// dashboard run with --metrics (and --log) said mavtop_feed_viewers 4,
// counting the alert watcher and the log's reader, where the help says
// "dashboards, SSH sessions and this exporter": 2.
func TestDashboardWithMetricsCountsItsReaders(t *testing.T) {
	srv := feedtest.Start(t)
	capture, _, url := dashboardInTmux(t, srv)
	waitUntil(t, 30*time.Second, "the dashboard and its metrics", func() bool {
		return strings.Contains(capture(), "Workspaces") && scrapeGauge(t, url, "mavtop_feed_viewers") >= 0
	})
	time.Sleep(time.Second) // every reader joined
	if got := scrapeGauge(t, url, "mavtop_feed_viewers"); got != 2 {
		t.Errorf("mavtop_feed_viewers = %v for one dashboard with --metrics, want 2 (the dashboard and the exporter)", got)
	}
}

// TestDashboardRingsOnlyForACrossingTheCountersHold (hostile16 #6): an
// entry whose credits field says 800 while its MULTI adds 1 to the counter
// (a repeated field) took z1 from 0.5 % to 80 %: the dashboard rang, its
// header said "1 ws firing" and its Alerts pane listed "z1 crossed 50 %"
// and "75 %" though the counters never held it (and every sink was sent
// them, resolved at the audit). Now the crossing
// waits for the audit to see the counters hold it: this one never does,
// and a real one still rings, within the audit's cadence (5 s).
func TestDashboardRingsOnlyForACrossingTheCountersHold(t *testing.T) {
	ctx := context.Background()
	c, pub, capture, raw := ringingDashboard(t)

	// the fake: 800 credits in the entry, 1 in the counters
	keys, period := feed.Keys{}, model.MonthlyUTC.At(time.Now()).Key
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, keys.Used(period), "z1", 1)
		p.HIncrBy(ctx, keys.UsedBy(period), model.UsedByField("z1", "", "/y"), 1)
		p.HIncrBy(ctx, keys.Digest(period), feed.DigestUsedField("z1"), 1)
		p.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), Values: []any{"v", "1", "ts", fmt.Sprint(time.Now().UnixMilli()),
			"ws", "z1", "endpoint", "/y", "credits", "1", "status", "200", "credits", "800"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// past the audit (every 5 s) and its re-read
	staysQuiet(t, capture, raw, 12*time.Second, "a crossing the counters never held", "crossed", "ws firing")

	// a real one: 6 + 800 is past 75 %
	start := time.Now()
	if err := pub.Track(ctx, model.Event{Workspace: "z1", Endpoint: "/z", Credits: 800, Status: 200}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 12*time.Second, "the real crossing's alert and bell", func() bool {
		return strings.Contains(capture(), "1 ws firing") && bytes.Count(raw(), []byte{'\a'}) > 0
	})
	t.Logf("a counted crossing rang the bell %v after it was written", time.Since(start).Round(100*time.Millisecond))
}
