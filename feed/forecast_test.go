package feed

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestGapHealBurn is the "90 % used, 10/h, out in 9 h" on a real
// redis-server: credits the stream never carried (written to the counters
// alone, as a gap or a lost entry leaves them) are found by the audit and
// spread over the gap they filled, so the burn counts them and the forecast
// says the workspace runs out in minutes.
func TestGapHealBurn(t *testing.T) {
	rdb := feedtest.Start(t).Client()
	ctx := context.Background()
	rule := midPeriod(t, rdb) // 99 s to run out in, and the counters of one period
	if err := NewSettingsStore(rdb, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 10_000}); err != nil {
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
	waitUntilFeed(t, "the ten charges", func() bool { return used() == 10 })
	period := rule.At(time.Now()).Key
	if err := rdb.HIncrBy(ctx, Keys{}.Used(period), "acme", 9000).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntilFeed(t, "the audit to find the 9,000 credits", func() bool { return used() == 9010 })
	mu.Lock()
	defer mu.Unlock()
	now := time.Now()
	f := s.Ledger.Forecast("acme", now)
	sum, _ := s.Ledger.Summary("acme")
	// The start read the (quiet) hour back, so the window is the full 15 min,
	// measured from the start of the 10 s bucket it begins in: 15 min and the
	// part of a bucket now is into. Every credit counts for the burn: the
	// ten charges of 1 are each the typical charge (no step, README "steps"),
	// and the 9,000 were spread over the gap the audit filled, within the
	// window. Without the spread the burn would be 40/h; with the first charge
	// left out as a step, 4/h less than this.
	nowMs, bucket := now.UnixMilli(), model.BucketWidth.Milliseconds()
	span := nowMs - (nowMs-model.BurnWindow.Milliseconds())/bucket*bucket
	want := 9010 * float64(time.Hour.Milliseconds()) / float64(span)
	if drift == 0 || sum.Used != 9010 || sum.Percent < 90 || f.Window != model.BurnWindow || f.Step != 0 ||
		math.Abs(f.BurnPerHour-want) > 1e-6*want ||
		!f.RunsOut || f.RunsOutIn > 2*time.Minute { // 990 left: 99 s, not 27 h
		t.Fatalf("after the heal (%d drift re-reads): %d credits, %.1f %% used, burn %.3f/h (want %.3f/h: 9,010 credits over %d ms) over %v, step %d, runs out %v in %v",
			drift, sum.Used, sum.Percent, f.BurnPerHour, want, span, f.Window, f.Step, f.RunsOut, f.RunsOutIn)
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
