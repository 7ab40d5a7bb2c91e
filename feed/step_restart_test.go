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
// redis-server: allocation 1,000; a charge of 100; instance A starts; a charge
// of 1; instance B starts. A said "402/h, out in 2 h" (it read the 100 back,
// and a charge read back was judged against the ones after it), B "4.0/h".
// Now A, B and W (started before both charges) show the same row: 101 used
// as the counters hold, the 100 a step left out of the burn, 4 credits an
// hour (1 in the 15-minute window), no run-out.
func TestALargeChargeBeforeEitherStart(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
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
	charge(1, time.Minute)
	for _, in := range []*instance{w, a} {
		in.settled(srv, "after the 1")
	}
	b := startInstance(t, srv, SubscriberOptions{})
	b.settled(srv, "B, started after the 1")

	now := time.Now()
	used, err := c.HGet(ctx, Keys{}.Used(model.MonthlyUTC.At(now).Key), "acme").Int64()
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
	if used != 101 || r.Used != used || math.Abs(r.Burn-4) > 0.05 || r.RunsOut || r.Idle {
		t.Fatalf("acme: %+v (the counters hold %d); want 101 used, a burn of 4.0/h (1 credit over the 15-minute window, to the bucket), no run-out", r, used)
	}
	for name, in := range map[string]*instance{"W": w, "A": a, "B": b} {
		in.hub.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
			if f := l.Forecast("acme", now); f.Step != 100 {
				t.Errorf("instance %s: step %d, want the 100 left out of the burn", name, f.Step)
			}
		})
	}
}
