package notify

import (
	"context"
	"testing"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// A resolution is held back per sink, not for all of them: while one
// receiver answers 503 to the firing (retried, for an hour if need be), the
// other, which took the firing, gets the resolution at once; the refusing one
// gets the firing, then the resolution, once it recovers. Two instances run,
// so the firing's holder and the resolution's claimer may differ.
func TestAResolutionWaitsOnlyForItsOwnSinksFiring(t *testing.T) {
	srv, st, period := startStore(t)
	ctx := context.Background()
	slow, quick := newReceiver(t), newReceiver(t)
	g := newGate(t, slow) // 503 to every firing while shut
	hooks := g.srv.URL + " " + quick.srv.URL
	w1 := startInstance(t, srv, "w1", hooks)
	startInstance(t, srv, "w2", hooks)
	setUp(t, srv, model.Settings{Allocation: 1000}, 600) // 50 % fires
	fifty := model.AlertID(period, "acme", "", model.AlertThreshold, "50")
	fired, resolved := fifty+"#firing", fifty+"#resolved"
	waitFor(t, "the firing at the quick receiver, refused at the slow one", func() bool {
		return quick.keys()[fired] == 1 && g.refusals() >= 2
	})
	notifytest.NewUsage(t, srv.Client()).Set("acme", model.Settings{Allocation: 5000})
	waitFor(t, "the resolution at the quick receiver while the slow one still refuses the firing", func() bool {
		return quick.keys()[resolved] == 1
	})
	if got := slow.keys(); got[fired] != 0 || got[resolved] != 0 {
		t.Fatalf("the slow receiver got %v before it took any firing", got)
	}
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	slowSink := w1.w.Sinks()[0]
	if d := recs[fifty].Deliveries; len(d) != 2 || d[0].Done || d[0].DoneFor(slowSink) || d[0].Sinks[slowSink].Result != feed.ResultRetrying {
		t.Fatalf("the firing's delivery %+v, want still retrying at the slow sink", d)
	}
	from := g.refusals()
	waitFor(t, "the firing refused 5 times more: time for a resolution out of turn", func() bool { return g.refusals() >= from+5 })
	if got := slow.keys(); got[resolved] != 0 {
		t.Fatalf("the slow receiver got the resolution before the firing: %v", got)
	}
	g.open()
	recs = settledAll(t, st, period, 1, fifty)
	for name, rc := range map[string]*receiver{"slow": slow, "quick": quick} {
		if got := rc.keys(); got[fired] != 1 || got[resolved] != 1 {
			t.Errorf("%s receiver got %v, want the firing and the resolution once each", name, got)
		}
		inOrder(t, rc)
	}
	once(t, quick, recs)
}
