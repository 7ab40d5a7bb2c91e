package feed

import (
	"context"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestStartReadsBurnHistory: a mavtop started after an hour of traffic shows its
// burn at once (from the stream), while the counters still come from the snapshot.
func TestStartReadsBurnHistory(t *testing.T) {
	rdb := feedtest.Start(t).Client()
	ctx := context.Background()
	now := time.Now()
	pub := NewPublisher(rdb, PublisherOptions{Now: func() time.Time { return now }})
	var evs []model.Event
	for i := 119; i >= 0; i-- { // 10 credits every 30 s for the last hour, oldest first
		evs = append(evs, model.Event{TS: now.Add(-time.Duration(i) * 30 * time.Second).UnixMilli(), Workspace: "acme",
			Endpoint: "/responses", Credits: 10, Status: 200})
	}
	evs = append(evs, model.Event{TS: now.Add(-3 * time.Hour).UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 1000, Status: 200})
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	res, err := ReadSnapshot(ctx, rdb, Keys{}, now, model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	hist, from, err := ReadHistory(ctx, rdb, Keys{}, res.Snap.StreamID, now, time.Hour, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 120 || !from.Equal(now.Add(-time.Hour)) {
		t.Fatalf("history: %d events from %v", len(hist), from)
	}
	var s LedgerState
	s.Apply(&SnapshotMsg{Gen: 1, Snap: res.Snap, Rule: res.Rule, At: now, History: hist, HistoryFrom: from})
	if b := s.Ledger.Burn("acme", time.Hour, now); b < 1150 || b > 1250 {
		t.Fatalf("burn at start %.0f/h, want ≈1200/h", b)
	}
	sum, _ := s.Ledger.Summary("acme")
	if period := model.MonthlyUTC.At(now); sum.Used != 1200+func() int64 {
		if period.Contains(now.Add(-3 * time.Hour).UnixMilli()) {
			return 1000
		}
		return 0
	}() {
		t.Fatalf("history changed the counters: used %d", sum.Used)
	}
	// a limit keeps the newest and says how far back that reaches
	hist, from, err = ReadHistory(ctx, rdb, Keys{}, res.Snap.StreamID, now, time.Hour, 10)
	if err != nil || len(hist) != 10 || from.Before(now.Add(-5*time.Minute)) {
		t.Fatalf("limited history: %d from %v (%v)", len(hist), from, err)
	}
}
