package feed

import (
	"context"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestDriftHealIsNoBurn: credits written to the counters without a stream
// entry (a raw HINCRBY, an entry that said less than its counters) are found
// by the audit (a drift re-read: the stream was followed with no gap), counted
// as used, and left out of the burn. Before, they were spread from the last
// event read to the heal — a few seconds — and so read as this minute's
// spend: the burn jumped from 40/h to ~36k/h and run_out fired for a
// workspace with weeks of credits left at its real rate (README, "Drift").
func TestDriftHealIsNoBurn(t *testing.T) {
	rdb := feedtest.Start(t).Client()
	ctx := context.Background()
	rule := midPeriod(t, rdb)
	// credits for 1,000 h more at the ten charges' 40/h than the period has
	// left: no run-out at that rate, a run-out in minutes at the spike's
	left := rule.At(time.Now()).Left(time.Now()).Hours()
	alloc := 9010 + int64(40*left) + 40_000
	if err := NewSettingsStore(rdb, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: alloc}); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(rdb, PublisherOptions{})
	for range 10 {
		if err := pub.Track(ctx, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 1, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var s LedgerState
	var drift int
	var before *model.Ledger
	runState(t, rdb, SubscriberOptions{Block: 100 * time.Millisecond, AuditEvery: 100 * time.Millisecond}, &mu, &s, func(m Msg) {
		if sm, ok := m.(*SnapshotMsg); ok && sm.Reason == ReasonDrift {
			drift++
		}
	})
	used := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		if s.Ledger == nil {
			return -1
		}
		sum, _ := s.Ledger.Summary("acme")
		return sum.Used
	}
	// the ten charges in the counters and their burn read back from the
	// stream's hour: the snapshot can hold the credits before the history
	// is folded in (on a loaded machine, the clone below caught the ledger in
	// between, a burn of 0 before the heal)
	waitUntilFeed(t, "the ten charges and their burn", func() bool {
		if used() != 10 {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		return s.Ledger.Forecast("acme", time.Now()).BurnPerHour > 0
	})
	mu.Lock()
	before = s.Ledger.Clone()
	mu.Unlock()
	period := rule.At(time.Now()).Key
	if err := rdb.HIncrBy(ctx, Keys{}.Used(period), "acme", 9000).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntilFeed(t, "the audit to find the 9,000 credits", func() bool { return used() == 9010 })
	mu.Lock()
	defer mu.Unlock()
	now := time.Now()
	f, f0 := s.Ledger.Forecast("acme", now), before.Forecast("acme", now)
	sum, _ := s.Ledger.Summary("acme")
	var runOut []model.Alert
	for _, a := range model.EvaluateAlerts(s.Ledger, now, model.FeedHealth{Connected: true, Since: now}, model.AlertOptions{}, nil) {
		if a.Kind == model.AlertRunOut && a.Condition == model.ConditionHolds {
			runOut = append(runOut, a)
		}
	}
	if drift == 0 || sum.Used != 9010 || f0.BurnPerHour <= 0 || f.BurnPerHour != f0.BurnPerHour || f.RunsOut || len(runOut) > 0 {
		t.Fatalf("after the heal (%d drift re-reads): %d credits, burn %.3f/h (before the heal %.3f/h), runs out %v in %v, run_out alerts holding %v",
			drift, sum.Used, f.BurnPerHour, f0.BurnPerHour, f.RunsOut, f.RunsOutIn, runOut)
	}
}

// waitUntilFeed polls cond until it holds, failing after 20 s.
func waitUntilFeed(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
