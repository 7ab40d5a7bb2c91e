package feed

import (
	"testing"
	"time"

	"mavtop/feed/feedtest"
)

// TestARereadWhileUsedByIsReadStillReadsTheHour: a start defers the hour's
// read-back until its used_by read is in; a re-read that replaces the
// generation before then (a resync here; a gap, a rollover or a failover
// alike) drops that read, so the re-read must read the hour back itself, or
// the ledger waits for history for good (no burn, no 402 log, no run-out).
func TestARereadWhileUsedByIsReadStillReadsTheHour(t *testing.T) {
	srv := feedtest.StartReal(t, "no redis-server on PATH")
	rdb := srv.Client()
	writeHour(t, rdb)
	var sub *Subscriber
	r := &hourRun{}
	opt := SubscriberOptions{Block: 100 * time.Millisecond}
	opt.usedByHook = func(stage string) {
		if stage != "before" {
			return
		}
		sub.Resync()
		// hold the read until the re-read has replaced its generation
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			r.mu.Lock()
			n := len(r.snaps)
			r.mu.Unlock()
			if n >= 2 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	sub = NewSubscriber(rdb, opt)
	r.run(t, sub, nil)
	r.waitFor(t, "the hour read back and the ledger no longer waiting for it", func() bool {
		return r.done != nil && r.state.Ledger != nil && !r.state.Ledger.HistoryPending()
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.snaps) != 2 || r.snaps[0] != ReasonStart || r.snaps[1] != ReasonResync {
		t.Errorf("snapshots %v, want [start resync]", r.snaps)
	}
	r.checkHour(t, rdb)
}
