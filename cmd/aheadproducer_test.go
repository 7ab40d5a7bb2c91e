package cmd

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestAProducerAheadDatesNoAlert (issue 11): a producer whose clock runs
// 2 h fast writes a charge that puts its workspace past 50 %; Redis takes
// it now (the entry's id is Redis's clock). The threshold alert `mavtop
// watch` fires is stored, listed by `mavtop alerts --json` (fired_at, and
// its delivery's transition) and sent (the payload's "at") at Redis's time,
// between the TIME read before the charge and the TIME read once the record
// is listed — not 2 h in the future at the producer's ts. The charge counts
// in the period its ts names (this one, the period rule putting now
// mid-period). Real redis-server.
func TestAProducerAheadDatesNoAlert(t *testing.T) {
	srv := feedtest.StartReal(t, "the alert's time is Redis's clock")
	c := srv.Client()
	ctx := context.Background()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	usage.Set("ahead", model.Settings{Allocation: 1000})
	hook := notifytest.NewReceiver(t)
	stderr, stop := startWatch(t, "--redis", srv.URL, "--notify", hook.URL+"/mavtop")
	defer stop()
	defer func() {
		if t.Failed() {
			t.Logf("%s", stderr.String())
		}
	}()
	redisTime := func() time.Time {
		t.Helper()
		now, err := c.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return now
	}
	before := redisTime()
	ts := before.Add(2 * time.Hour)
	if !p.Contains(ts.UnixMilli()) {
		t.Fatalf("the producer's ts %v is outside the period %s: MidPeriod puts now mid-period", ts, p.Key)
	}
	if err := feed.NewPublisher(c, feed.PublisherOptions{}).Track(ctx, model.Event{TS: ts.UnixMilli(), Workspace: "ahead",
		Endpoint: "/responses", Credits: 600, Status: 200}); err != nil {
		t.Fatal(err)
	}
	id := notifytest.ThresholdID(p.Key, "ahead", "50")
	waitUntil(t, 30*time.Second, "the webhook to get "+id+"#firing", hook.Has(id+"#firing"))
	var listed struct {
		Alerts []feed.StoredAlert `json:"alerts"`
	}
	var rec *feed.StoredAlert
	waitUntil(t, 30*time.Second, "alerts --json to list "+id+" with its delivery", func() bool {
		out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
		if code != 0 {
			t.Fatalf("alerts --json: exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &listed); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for i := range listed.Alerts {
			if a := &listed.Alerts[i]; a.Alert.ID == id && a.Status == model.AlertFiring && len(a.Deliveries) > 0 {
				rec = a
			}
		}
		return rec != nil
	})
	after := redisTime()
	// Redis's clock and this process's are the same machine's: a second
	// either side is the clocks' granularity, not a timing assumption
	within := func(what string, at time.Time) {
		t.Helper()
		if at.Before(before.Add(-time.Second)) || at.After(after.Add(time.Second)) {
			t.Errorf("%s %v, want Redis's time, between %v and %v (the producer's ts: %v)", what, at.UTC(), before.UTC(), after.UTC(), ts.UTC())
		}
	}
	within("alerts --json: fired_at", rec.FiredAt)
	within("alerts --json: the delivery's transition at", rec.Deliveries[0].Transition.At)
	for _, m := range hook.Payloads() {
		if m["id"] != id || m["status"] != "firing" {
			continue
		}
		s, _ := m["at"].(string)
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("payload at %q: %v", s, err)
		}
		within("the webhook payload's at", at.Add(999*time.Millisecond)) // RFC 3339: whole seconds
	}
}
