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

// TestAResyncAlertIsOneJudgementAcrossInstances: two watchers share one
// redis-server and one webhook. A restart onto older data fires
// counters_resync/restart (A saw it); B, started after, never saw it and
// resolved it about a second later (it judged from its own memory). Now the
// hold is judged from the stored record: nothing resolves while it holds.
// A second restart while it holds is news: the first resolves, superseded,
// and the second fires (before: nothing for 5 min, then nothing for the
// 10-minute re-fire wait), each delivered once though both instances saw it.
func TestAResyncAlertIsOneJudgementAcrossInstances(t *testing.T) {
	srv := feedtest.StartReal(t, "a restart onto older data needs redis-server")
	ctx := context.Background()
	usage := notifytest.NewUsage(t, srv.Client())
	p := usage.MidPeriod().At(time.Now())
	hook := notifytest.NewReceiver(t)
	was := model.ResyncSameEvent
	model.ResyncSameEvent = 3 * time.Second // the second restart comes 3 s on, not a minute
	t.Cleanup(func() { model.ResyncSameEvent = was })
	args := []string{"--redis", srv.URL, "--notify", hook.URL + "/mavtop", "--notify-retry-min", "100ms", "--audit", "200ms"}
	usage.Set("acme", model.Settings{Allocation: 1_000_000})
	usage.Spend("acme", 100)
	a := runWatch(t, args...)
	waitUntil(t, 60*time.Second, "the first instance to follow", func() bool {
		return strings.Contains(a.stderr.String(), "workspaces found")
	})
	defer func() {
		if t.Failed() {
			t.Logf("received %v\nA:\n%s", hook.Keys(), a.stderr.String())
		}
	}()
	restart := func(lose int64) {
		old := srv.CopyData()
		usage.Spend("acme", lose)
		time.Sleep(time.Second) // read by both
		srv.RestartFrom(old)
	}
	id := model.AlertID(p.Key, "", "", model.AlertResync, "restart")
	restart(2927)
	waitUntil(t, 60*time.Second, "the first restart's alert", hook.Has(id+"#firing"))
	b := runWatch(t, args...)
	waitUntil(t, 60*time.Second, "the second instance to follow", func() bool {
		return strings.Contains(b.stderr.String(), "workspaces found")
	})
	time.Sleep(3 * time.Second) // three cycles of each: B resolved it in one
	if n := hook.Keys()[id+"#resolved"]; n != 0 {
		t.Fatalf("%s#resolved arrived %d times a few seconds after it fired: B never saw the restart", id, n)
	}
	time.Sleep(model.ResyncSameEvent)
	restart(40)
	id2 := model.EpisodeID(id, 2)
	waitUntil(t, 60*time.Second, "the second restart's alert", hook.Has(id+"#resolved", id2+"#firing"))
	time.Sleep(3 * time.Second)
	waitUntil(t, 60*time.Second, "every delivery recorded", func() bool {
		return notifytest.Settled(ctx, feed.NewAlertStore(srv.Client(), ""), p.Key)
	})
	for k, n := range hook.Keys() {
		if strings.Contains(k, "counters_resync") && n != 1 {
			t.Errorf("%s arrived %d times, want once", k, n)
		}
		if strings.Contains(k, "counters_resync/restart~3") {
			t.Errorf("%s arrived: both instances saw one second restart", k)
		}
	}
	for _, m := range hook.Payloads() {
		if m["id"] == id && m["status"] == "resolved" && !strings.Contains(m["summary"].(string), "superseded by a new re-read of the counters (Redis restarted: counters re-read, −40 credits)") {
			t.Errorf("the first's resolution says %q, want it superseded by the second", m["summary"])
		}
	}
}
