package cmd

import (
	"testing"
	"time"

	"mavtop/client"
	"mavtop/feed"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestTheDriftDoesNotHoldUpTheFeed: the drift sums what every workspace used
// (a summary each: at 100k workspaces tens of ms, more loaded); it did so
// under the hub's lock, so the feed and every viewer waited for it. The sum
// is held still by a hook while a batch is handed to the hub: it must go
// through, and the drift is the sum of the ledger as it was read.
func TestTheDriftDoesNotHoldUpTheFeed(t *testing.T) {
	now := time.Now()
	h := feed.NewHub()
	snap := modeltest.Snapshot(30, now)
	h.Handle(&feed.SnapshotMsg{Gen: 1, Snap: snap, Rule: model.MonthlyUTC, At: now})
	var want int64
	for _, v := range snap.Used {
		want += v
	}
	applied := make(chan bool, 1)
	summing = func() {
		done := make(chan struct{})
		go func() {
			h.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{{ID: "1-1", TS: now.UnixMilli(), Workspace: modeltest.Workspace(3),
				Project: "p0", Endpoint: modeltest.Endpoints[0], Credits: 7, Status: 200}}, LastID: "1-1"})
			close(done)
		}()
		select {
		case <-done:
			applied <- true
		case <-time.After(10 * time.Second): // not a speed: it never goes through while the sum holds the lock
			applied <- false
		}
	}
	t.Cleanup(func() { summing = nil })
	rec := client.Reconciliation{At: now, Usage: &client.UsageReport{}}
	d := driftOf(rec, h)
	if !<-applied {
		t.Fatal("the hub could not apply a batch while the drift summed the workspaces: it holds the hub's lock")
	}
	if d.Tracked != want {
		t.Fatalf("tracked %d, want %d (the ledger as read)", d.Tracked, want)
	}
}
