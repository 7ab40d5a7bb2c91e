package cmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestASlowProducerClockRunsOutOnEverySurface: a producer whose clock runs
// 20 minutes slow writes 10 charges of 50 credits now, their ts 20 minutes
// before their ids (Redis's clock). Its workspace burns (model.Event.At dates
// the burn by the id when ts is wrong): 500 credits of 2,000 spent now, it
// runs out within the hour, well before the period ends, so watch
// fires run_out — listed by `mavtop alerts --json`, counted by /metrics'
// mavtop_alerts_firing — and check's last_event_at is the ids' time. Before,
// ts dated the burn: "idle · 0/h", no run_out (alerts_firing 0). Real
// redis-server.
func TestASlowProducerClockRunsOutOnEverySurface(t *testing.T) {
	srv := feedtest.StartReal(t, "the ids' time is Redis's clock")
	c := srv.Client()
	ctx := context.Background()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	usage.Set("slow", model.Settings{Allocation: 2000})  // 25 % used: no threshold crossed
	pub := feed.NewPublisher(c, feed.PublisherOptions{}) // ids by Redis's clock
	written := time.Now()
	for i := range 10 {
		ts := written.Add(-20*time.Minute - time.Duration(10-i)*time.Second).UnixMilli()
		if err := pub.Track(ctx, model.Event{TS: ts, Workspace: "slow", Endpoint: "/responses", Credits: 50, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	out, _, _ := runMavtop(t, "check", "--redis", srv.URL, "--json")
	var got struct {
		Workspaces []struct {
			Workspace   string     `json:"workspace"`
			LastEventAt *time.Time `json:"last_event_at"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if len(got.Workspaces) != 1 || got.Workspaces[0].LastEventAt == nil || got.Workspaces[0].LastEventAt.Before(written.Add(-time.Second)) {
		t.Errorf("check --json: %s; want slow's last_event_at the ids' time, after %v", out, written)
	}

	stderr, stop := startWatch(t, "--redis", srv.URL, "--metrics", "127.0.0.1:0")
	defer stop()
	defer func() {
		if t.Failed() {
			t.Logf("%s", stderr.String())
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
	firing := regexp.MustCompile(`(?m)^mavtop_alerts_firing (\d+)$`)
	var last string
	waitUntil(t, 30*time.Second, "/metrics to count slow's run_out firing", func() bool {
		last = scrape()
		m := firing.FindStringSubmatch(last)
		return m != nil && m[1] == "1"
	})
	out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
	var listed struct {
		Alerts []feed.StoredAlert `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || code != 0 {
		t.Fatalf("alerts --json: exit %d, %v, %s\n%s", code, err, errOut, out)
	}
	id := model.AlertID(p.Key, "slow", "", model.AlertRunOut, "")
	found := false
	for _, a := range listed.Alerts {
		found = found || (a.Alert.ID == id && a.Status == model.AlertFiring)
	}
	if !found {
		t.Errorf("alerts --json does not list %s firing:\n%s", id, out)
	}
}
