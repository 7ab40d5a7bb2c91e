package cmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// `mavtop watch` follows the stream headless, delivers a firing to the
// webhook, `mavtop alerts --json` lists it, and cancelling (what SIGTERM does)
// ends it without an error.
func TestWatchDeliversAndAlertsLists(t *testing.T) {
	srv := feedtest.Start(t)
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}
	}))
	defer hook.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	root := newRootCmd()
	root.SetArgs([]string{"watch", "--redis", srv.URL, "--notify", hook.URL + "/mavtop", "--metrics", "127.0.0.1:0"})
	root.SetOut(io.Discard)
	root.SetErr(stderr)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	c := srv.Client()
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := feed.NewPublisher(c, feed.PublisherOptions{}).Track(ctx, model.Event{TS: time.Now().UnixMilli(), Workspace: "acme",
		Endpoint: "/responses", Credits: 600, Status: 200}); err != nil {
		t.Fatal(err)
	}
	id := model.AlertID(model.MonthlyUTC.At(time.Now()).Key, "acme", "", model.AlertThreshold, "50")
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, m := range got {
			if m["id"] == id && m["status"] == "firing" {
				n++
			}
		}
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook never got %s; stderr:\n%s", id, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	if !strings.Contains(out, "acme used 50 % of its 1,000-credit allocation") || !strings.Contains(out, "✓ sent 1 sink") {
		t.Errorf("alerts:\n%s", out)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop")
	}
	if log := stderr.String(); !strings.Contains(log, "alert firing") || !strings.Contains(log, "mavtop watch stopping") {
		t.Errorf("log:\n%s", log)
	}
}

func TestWatchNeedsRedis(t *testing.T) {
	_, errOut, code := runMavtop(t, "watch", "--redis", "")
	if code != 2 || !strings.Contains(errOut, "no Redis configured") {
		t.Fatalf("code %d: %s", code, errOut)
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	root := newRootCmd()
	root.SetArgs([]string{"watch", "--redis", srv.URL, "--metrics", "127.0.0.1:0", "--audit", "200ms"})
	root.SetOut(io.Discard)
	root.SetErr(stderr)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
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
