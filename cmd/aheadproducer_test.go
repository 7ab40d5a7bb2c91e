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

// TestA402FromASlowProducerAfterARaiseIsOut (issue 11): refused with
// credits_exhausted at its allocation of 100, a workspace's allocation is
// raised to 1,000 (raised_at stamped now), then refused again by a producer
// whose clock runs 3 h slow: Redis takes the 402 after the raise. check and
// budget show order the 402 by its trusted time (the id's, model.Event.At),
// as the dashboard does live: OUT (exhausted, CRITICAL). Before, its ts put
// it 3 h before the raise, which ended it: "ok". Real redis-server.
func TestA402FromASlowProducerAfterARaiseIsOut(t *testing.T) {
	f := newFixture(t)
	usage := notifytest.NewUsage(t, f.c)
	p := usage.MidPeriod().At(time.Now())
	f.allocate(t, 100, "w")
	f.track(t, model.Event{TS: time.Now().Add(-2 * time.Second).UnixMilli(), Workspace: "w", Endpoint: "/responses", Credits: 100, Status: 200},
		model.Event{TS: time.Now().Add(-time.Second).UnixMilli(), Workspace: "w", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	set, err := f.store.UpdateWorkspace(f.ctx, "w", func(s *model.Settings) error { s.Allocation = 1000; return nil })
	if err != nil || set.RaisedAt == 0 {
		t.Fatalf("raise: %+v %v", set, err)
	}
	for time.Now().UnixMilli() <= set.RaisedAt { // the 402 is taken after the raise, to the millisecond
		time.Sleep(time.Millisecond)
	}
	ts := time.Now().Add(-3 * time.Hour)
	if !p.Contains(ts.UnixMilli()) {
		t.Fatalf("the 402's ts %v is outside the period %s: MidPeriod puts now mid-period", ts, p.Key)
	}
	f.track(t, model.Event{TS: ts.UnixMilli(), Workspace: "w", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	var js surfaceJSON
	out, _, code := runMavtop(t, "check", "--redis="+f.srv.URL, "--json", "w")
	decodeInto(t, out, &js)
	if len(js.Workspaces) != 1 || js.Workspaces[0].Level != "exhausted" || code != checkCritical {
		t.Errorf("check: exit %d, %s; want w exhausted, CRITICAL: the 402 came after the raise", code, out)
	}
	out, _, _ = runMavtop(t, "budget", "show", "--redis="+f.srv.URL, "--json", "w")
	decodeInto(t, out, &js)
	if len(js.Workspaces) != 1 || js.Workspaces[0].Level != "exhausted" {
		t.Errorf("budget show: %s; want w exhausted", out)
	}
}
