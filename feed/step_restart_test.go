package feed

import (
	"context"
	"math"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestALargeChargeBeforeEitherStart is the example on a real
// redis-server: allocation 1,000; a charge of 100; instance A starts; charges
// of 1; instance B starts. A said "402/h, out in 2 h" (it read the 100 back,
// and a charge read back was judged against the ones after it), B "4.0/h".
// Now A, B and W (started before all charges) show the same row: 103 used
// as the counters hold, the 100 a step left out of the burn, 12 credits an
// hour (3 in the 15-minute window: model.MinRateCharges, the fewest that are
// a rate), out in 75 h (897 credits at 12/h; the billing period, midPeriod's,
// ends 300 h or more after now), not in 2 h.
func TestALargeChargeBeforeEitherStart(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	rule := midPeriod(t, c) // the hour written inside the period at any hour CI runs
	ctx := context.Background()
	if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1_000}); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(c, PublisherOptions{})
	base := time.Now()
	charge := func(credits int64, ago time.Duration) {
		t.Helper()
		e := model.Event{TS: base.Add(-ago).UnixMilli(), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: credits, Status: 200}
		if err := pub.TrackBatch(ctx, []model.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	w := startInstance(t, srv, SubscriberOptions{})
	w.settled(srv, "W, started before the charges")
	charge(100, 3*time.Minute)
	w.settled(srv, "W after the 100")
	a := startInstance(t, srv, SubscriberOptions{})
	a.settled(srv, "A, started after the 100")
	for _, ago := range []time.Duration{90 * time.Second, 75 * time.Second, time.Minute} {
		charge(1, ago)
	}
	for _, in := range []*instance{w, a} {
		in.settled(srv, "after the 1s")
	}
	b := startInstance(t, srv, SubscriberOptions{})
	b.settled(srv, "B, started after the 1s")

	now := time.Now()
	used, err := c.HGet(ctx, Keys{}.Used(rule.At(now).Key), "acme").Int64()
	if err != nil {
		t.Fatal(err)
	}
	want := w.screen(now)
	for name, in := range map[string]*instance{"A": a, "B": b} {
		if got := in.screen(now); got.String() != want.String() {
			t.Errorf("instance %s shows\n%vwhere W, started before both charges, shows\n%v", name, got, want)
		}
	}
	r := want.Rows["acme"]
	outIn := time.Duration(float64(r.Remaining) / r.Burn * float64(time.Hour))
	// the window runs from the start of its first 10-s bucket: 15 min to 15 min 10 s
	lo, hi := 3/(model.BurnWindow+10*time.Second).Hours(), 3/model.BurnWindow.Hours()
	if used != 103 || r.Used != used || r.Remaining != 897 || r.Burn < lo-1e-9 || r.Burn > hi+1e-9 || !r.RunsOut ||
		(r.RunsOutIn-outIn).Abs() > time.Second || r.RunsOutIn < 70*time.Hour || r.Idle {
		t.Fatalf("acme: %+v (the counters hold %d); want 103 used, a burn of %.2f–%.2f/h (3 credits over the 15-minute window, to the bucket), out in 897 credits / 12/h = 75 h", r, used, lo, hi)
	}
	for name, in := range map[string]*instance{"W": w, "A": a, "B": b} {
		in.hub.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
			if f := l.Forecast("acme", now); f.Step != 100 {
				t.Errorf("instance %s: step %d, want the 100 left out of the burn", name, f.Step)
			}
		})
	}
}

// TestLargeChargesInOneBucketAreOneStep is issue 11's "two `emit --credits
// 3800` 100 ms apart" on a real redis-server: a workspace spending 3 credits
// every 5 s, then two charges of 3,800 within one 10-s bucket. W (started
// before them) and B (started after, reading them back) show the same row:
// the counters' used, a step of 7,600 left out of the burn, and the burn of
// the charges of 3 alone. Before, the second 3,800 counted as rate (the
// review measured "38.3k/h, out in 3 min").
func TestLargeChargesInOneBucketAreOneStep(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	// the charges inside the period at any hour CI runs, and 385 h at most left
	// in it: less than the 459 h the 991,716 credits left last at 2,160/h
	base := time.Now()
	ids, early := backdated(base.Add(-25 * time.Minute))
	rule := midPeriodBy(t, c, early)
	ctx := context.Background()
	if err := NewSettingsStore(c, early).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	w := startInstance(t, srv, SubscriberOptions{})
	w.settled(srv, "W, started before the charges")
	pub := NewPublisher(c, PublisherOptions{IDs: ids})
	var evs []model.Event
	for ago := 20 * time.Minute; ago >= time.Minute; ago -= 5 * time.Second {
		evs = append(evs, model.Event{TS: base.Add(-ago).UnixMilli(), Workspace: "acme", Endpoint: "/mave/chat", Credits: 3, Status: 200})
	}
	bucket := base.Add(-30*time.Second).UnixMilli() / 10_000 * 10_000 // the start of a 10-s bucket
	for _, at := range []int64{bucket + 2_000, bucket + 2_100} {
		evs = append(evs, model.Event{TS: at, Workspace: "acme", Endpoint: "/responses", Credits: 3800, Status: 200})
	}
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	w.settled(srv, "W after the charges")
	b := startInstance(t, srv, SubscriberOptions{})
	b.settled(srv, "B, started after the charges")

	now := time.Now()
	used, err := c.HGet(ctx, Keys{}.Used(rule.At(now).Key), "acme").Int64()
	if err != nil {
		t.Fatal(err)
	}
	// the charges of 3 within the window, from the start of its first bucket
	first := (now.UnixMilli() - model.BurnWindow.Milliseconds()) / 10_000 * 10_000
	var small int64
	for _, e := range evs {
		if e.Credits == 3 && e.TS >= first {
			small += e.Credits
		}
	}
	want := float64(small) * float64(time.Hour/time.Millisecond) / float64(now.UnixMilli()-first)
	ws, bs := w.screen(now), b.screen(now)
	if ws.String() != bs.String() {
		t.Errorf("B shows\n%vwhere W, started before the charges, shows\n%v", bs, ws)
	}
	r := ws.Rows["acme"]
	if used != int64(len(evs)-2)*3+7600 || r.Used != used || math.Abs(r.Burn-want) > 1e-6 || r.RunsOut {
		t.Fatalf("acme: %+v (the counters hold %d); want a burn of %.1f/h (the charges of 3 alone), no run-out", r, used, want)
	}
	for name, in := range map[string]*instance{"W": w, "B": b} {
		in.hub.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
			if f := l.Forecast("acme", now); f.Step != 7600 || f.StepAt.UnixMilli() != bucket {
				t.Errorf("instance %s: step %d at %v, want the two 3,800 (7,600) left out of the burn", name, f.Step, f.StepAt)
			}
		})
	}
}
