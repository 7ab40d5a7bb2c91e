package feed

import (
	"context"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestARereadWhileUsedByIsReadStillReadsTheHour: a start defers the hour's
// read-back until its used_by read is in; a re-read that replaces the
// generation before then (a resync here; a gap, a rollover or a failover
// alike) drops that read, so the re-read must read the hour back itself, or
// the ledger waits for history for good (no burn, no 402 log, no run-out).
func TestARereadWhileUsedByIsReadStillReadsTheHour(t *testing.T) {
	srv := feedtest.StartReal(t, "no redis-server on PATH")
	rdb := srv.Client()
	ctx := context.Background()
	now := time.Now()
	pub := NewPublisher(rdb, PublisherOptions{Now: func() time.Time { return now }})
	at := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	if err := pub.TrackBatch(ctx, []model.Event{
		{TS: at(40 * time.Minute), Workspace: "dry", Project: "web", Endpoint: "/responses", Credits: 5, Status: 200},
		{TS: at(30 * time.Minute), Workspace: "dry", Endpoint: "/mave/chat", Status: 402, Code: model.CodeCreditsExhausted, Req: "dry-402"},
	}); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		s     LedgerState
		snaps []Reason
		done  *HistoryMsg
	)
	var sub *Subscriber
	opt := SubscriberOptions{Block: 100 * time.Millisecond}
	opt.usedByHook = func(stage string) {
		if stage != "before" {
			return
		}
		sub.Resync()
		// hold the read until the re-read has replaced its generation
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(snaps)
			mu.Unlock()
			if n >= 2 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	sub = NewSubscriber(rdb, opt)
	rctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = sub.Run(rctx, func(m Msg) {
			mu.Lock()
			defer mu.Unlock()
			switch m := m.(type) {
			case *SnapshotMsg:
				snaps = append(snaps, m.Reason)
			case *HistoryMsg:
				if m.Done {
					done = m
				}
			}
			s.Apply(m)
		})
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ok := done != nil && s.Ledger != nil && !s.Ledger.HistoryPending()
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			mu.Lock()
			pending := s.Ledger != nil && s.Ledger.HistoryPending()
			mu.Unlock()
			t.Fatalf("snapshots %v; history read back: %v; the ledger still waits for it: %v", snaps, done != nil, pending)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(snaps) != 2 || snaps[0] != ReasonStart || snaps[1] != ReasonResync {
		t.Errorf("snapshots %v, want [start resync]", snaps)
	}
	if done.Err != nil || done.Read != 2 {
		t.Fatalf("last history page: read %d, err %v; want 2 entries", done.Read, done.Err)
	}
	var reqs []string
	for _, r := range s.Ledger.Refusals(nil, model.DefaultRefusalLog) {
		reqs = append(reqs, r.Event.Req)
	}
	if len(reqs) != 1 || reqs[0] != "dry-402" {
		t.Errorf("402 log after the history: %v, want [dry-402]", reqs)
	}
	if got := countersOf(s.Ledger.Totals()); !got.equal(redisCounters(t, rdb, time.Now())) {
		t.Errorf("ledger totals differ from what Redis holds:\n%v", got)
	}
}
