package cmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestEveryResyncIsAnAlertOnEverySurface: a re-read of the counters because
// Redis changed under mavtop (the counters and the stream disagreed, Redis
// restarted onto older data) was a line in the dashboard's pane and the log
// only: `mavtop alerts` did not list it and no webhook got it. Each reason is
// now an alert of the lifecycle (model.AlertResync, one per reason): fired
// once, delivered once to the webhook (a real HTTP server), listed by `mavtop
// alerts` (text and --json) with the same sentence the dashboard's notice
// says, and counted in /metrics' mavtop_alerts_firing. Real redis-server.
func TestEveryResyncIsAnAlertOnEverySurface(t *testing.T) {
	srv := feedtest.StartReal(t, "a restart onto older data needs redis-server")
	c := srv.Client()
	ctx := context.Background()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	hook := notifytest.NewReceiver(t)
	stderr, stop := startWatch(t, "--redis", srv.URL, "--notify", hook.URL+"/mavtop", "--metrics", "127.0.0.1:0", "--audit", "200ms")
	defer stop()
	defer func() {
		if t.Failed() {
			t.Logf("received %v\n%s", hook.Keys(), stderr.String())
		}
	}()
	var url string
	waitUntil(t, 30*time.Second, "watch to log its metrics address", func() bool {
		m := regexp.MustCompile(`metrics=(http://\S+/metrics)`).FindStringSubmatch(stderr.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	})
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
	usage.Set("acme", model.Settings{Allocation: 1_000_000})
	usage.Spend("acme", 100)
	waitUntil(t, 30*time.Second, "the event in /metrics", func() bool { return strings.Contains(scrape(), used+"100\n") })
	firing := 0
	for _, tc := range []struct {
		reason, note string
		cause        func()
	}{
		{"drift", "the counters and the stream disagreed: counters re-read, +400 credits", func() {
			// a counter without its entry: only an audit can find it
			c.HIncrBy(ctx, feed.Keys{}.Used(p.Key), "acme", 400)
			c.HIncrBy(ctx, feed.Keys{}.UsedBy(p.Key), model.UsedByField("acme", "", "/responses"), 400)
		}},
		{"restart", "Redis restarted: counters re-read, −2,927 credits", func() {
			old := srv.CopyData()
			usage.Spend("acme", 2927)
			waitUntil(t, 30*time.Second, "the event in /metrics", func() bool { return strings.Contains(scrape(), used+"3427\n") })
			srv.RestartFrom(old)
		}},
	} {
		tc.cause()
		id := model.AlertID(p.Key, "", "", model.AlertResync, tc.reason)
		key := id + "#firing"
		waitUntil(t, 30*time.Second, "the webhook to get "+key, hook.Has(key))
		firing++
		time.Sleep(time.Second) // a second delivery would come within a cycle or two
		if n := hook.Keys()[key]; n != 1 {
			t.Errorf("%s: %s arrived %d times, want once", tc.reason, key, n)
		}
		for _, m := range hook.Payloads() {
			if m["id"] == id && m["status"] == "firing" && m["summary"] != tc.note {
				t.Errorf("%s: webhook summary %q, want %q", tc.reason, m["summary"], tc.note)
			}
		}
		out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
		var listed struct {
			Alerts []feed.StoredAlert `json:"alerts"`
		}
		if err := json.Unmarshal([]byte(out), &listed); err != nil || code != 0 {
			t.Fatalf("alerts --json: exit %d, %v, %s\n%s", code, err, errOut, out)
		}
		found := false
		for _, a := range listed.Alerts {
			if a.Alert.ID == id {
				found = a.Status == model.AlertFiring && a.Alert.Kind == model.AlertResync && a.Alert.Note == tc.note
			}
		}
		if !found {
			t.Errorf("%s: alerts --json does not list %s firing with the note %q:\n%s", tc.reason, id, tc.note, out)
		}
		if out, _, _ := runMavtop(t, "alerts", "--redis", srv.URL); !strings.Contains(out, tc.note) {
			t.Errorf("%s: alerts does not say %q:\n%s", tc.reason, tc.note, out)
		}
		want := regexp.MustCompile(`(?m)^mavtop_alerts_firing (\d+)$`)
		waitUntil(t, 30*time.Second, "/metrics to count it firing", func() bool {
			m := want.FindStringSubmatch(scrape())
			return m != nil && m[1] != "0"
		})
	}
}
