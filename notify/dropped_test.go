package notify

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// The memory of deliveries a full queue dropped (each counted as dropped
// once) is pruned at a billing period's rollover: what the store no longer
// holds pending goes (an older period's alert, one absent, one another
// instance finished), what is still pending stays — against what Redis holds.
func TestDroppedMemoryIsPrunedAtRollover(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	st := feed.NewAlertStore(srv.Client(), "")
	nov := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC)
	// calendar months, as the dates say: not model.MonthlyUTC, which a run
	// at a period's edge (feedtest.EdgeEnv) moves
	calendar := model.PeriodRule{StartDay: 1, Location: time.UTC}
	claim := func(id string, delivered bool) string {
		t.Helper()
		period, _ := model.SplitAlertID(id)
		tr := model.AlertTransition{Alert: model.Alert{ID: id, Period: period, Workspace: "acme", Kind: model.AlertThreshold}, Status: model.AlertFiring, At: dec}
		if ok, err := st.Claim(ctx, tr, "s", feed.ClaimOptions{Delivered: delivered}); !ok || err != nil {
			t.Fatalf("claim %s: %v %v", id, ok, err)
		}
		return tr.Key()
	}
	pending := claim("2026-12/acme/-/threshold/50", false)
	done := claim("2026-12/acme/-/threshold/75", true)
	older := "2026-10/acme/-/threshold/90#firing"
	absent := "2026-11/gone/-/threshold/50#firing"

	clock := &fixedClock{t: nov}
	w := NewWatcher(WatcherOptions{Store: st, Now: clock.Now, Instance: "w"})
	var h model.FeedHealth
	w.cycle(ctx, model.NewLedger(calendar, nov), h, true)
	w.mu.Lock()
	for _, k := range []string{pending, done, older, absent} {
		w.droppedOnce[[2]string{k, "hook"}] = true
	}
	w.mu.Unlock()
	remembered := func() []string {
		w.mu.Lock()
		defer w.mu.Unlock()
		var keys []string
		for ks := range maps.Keys(w.droppedOnce) {
			keys = append(keys, ks[0])
		}
		slices.Sort(keys)
		return keys
	}
	w.cycle(ctx, model.NewLedger(calendar, nov), h, true)
	if got := remembered(); len(got) != 4 {
		t.Fatalf("within the period: %v, want all 4 kept", got)
	}
	clock.Set(dec)
	w.cycle(ctx, model.NewLedger(calendar, dec), h, true)
	recs, _, err := st.Load(ctx, "2026-12")
	p50, p75 := recs["2026-12/acme/-/threshold/50"], recs["2026-12/acme/-/threshold/75"]
	if err != nil || p50.Pending() != 0 || p75.Pending() != -1 {
		t.Fatalf("store: %v %+v", err, recs)
	}
	if got := remembered(); !slices.Equal(got, []string{pending}) {
		t.Fatalf("after the rollover: %v, want only the delivery still pending in Redis (%s)", got, pending)
	}
}
