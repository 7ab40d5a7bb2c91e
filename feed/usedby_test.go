package feed

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestTheLiveStreamFlowsWhileUsedByIsRead: a start draws from the workspace
// counters and follows the stream at once; the used_by hash (the project
// credits) comes later. Entries written while it is read — before the read
// (in the hash, delivered before it comes), during it (in the hash, delivered
// either side of it) and after it (not in the hash, delivered before it
// comes) — are each counted once: the ledger's project totals equal HGETALL
// afterwards, and the audits (which wait for the read) find nothing to heal.
func TestTheLiveStreamFlowsWhileUsedByIsRead(t *testing.T) {
	srv := feedtest.StartReal(t, "no redis-server on PATH")
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	publish := func(from, to int) string {
		t.Helper()
		for i := from; i < to; i++ {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Error(err)
			}
		}
		tail, err := c.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
		if err != nil || len(tail) != 1 {
			t.Errorf("stream tail: %v", err)
			return ""
		}
		return tail[0].ID
	}
	publish(0, 60)
	var (
		mu      sync.Mutex
		state   LedgerState
		snaps   int
		usedBys []*UsedByMsg
		stats   StatsMsg
	)
	// flowed[stage]: the ledger reached the entries written in the hook of
	// that stage while used_by was still pending
	flowed := map[string]bool{}
	// auditsPending: audits run while used_by was pending (none should: there
	// is nothing to compare the project credits with)
	var auditsPending int64
	reach := func(stage, id string) {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			l := state.Ledger
			ok := l != nil && compareIDs(l.StreamID(), id) >= 0
			if ok {
				flowed[stage] = l.UsedByPending()
				auditsPending = max(auditsPending, stats.Audits)
			}
			mu.Unlock()
			if ok {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// fullEvery: the producers keep the digest, which has no used_by: every
	// third audit reads the counters whole
	opt := SubscriberOptions{AuditEvery: 20 * time.Millisecond, Block: 100 * time.Millisecond,
		Backoff: &Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}, StatsEvery: 10 * time.Millisecond, fullEvery: 3}
	opt.usedByHook = func(stage string) {
		switch stage {
		case "before":
			reach(stage, publish(60, 80)) // in the hash, delivered before it comes
			publish(80, 90)               // in the hash, delivered either side of it
		case "after":
			reach(stage, publish(90, 110)) // not in the hash, delivered before it comes
		}
	}
	runState(t, c, opt, &mu, &state, func(m Msg) {
		switch m := m.(type) {
		case *SnapshotMsg:
			snaps++
		case *UsedByMsg:
			usedBys = append(usedBys, m)
		case *StatsMsg:
			stats = *m
		}
	})
	// the used_by read has come once the ledger says so; then some more
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		done := len(usedBys) > 0
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the used_by read did not come")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tail := publish(110, 140)
	for {
		mu.Lock()
		ok := state.Ledger != nil && compareIDs(state.Ledger.StreamID(), tail) >= 0 && stats.Audits > 2*opt.fullEvery
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follow did not reach %s with %d audits", tail, 2*opt.fullEvery+1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	got := countersOf(state.Ledger.Totals())
	pending := state.Ledger.UsedByPending()
	before, after := flowed["before"], flowed["after"]
	audited := auditsPending
	nSnaps, nUsedBy, resyncs := snaps, len(usedBys), stats.Resyncs
	mu.Unlock()
	if want := redisCounters(t, c, time.Now()); !got.equal(want) {
		t.Fatalf("ledger:\n%v\nredis:\n%v", got, want)
	}
	if !before || !after {
		t.Errorf("the stream flowed while used_by was read: before the read %v, after it %v; want both", before, after)
	}
	if audited != 0 {
		t.Errorf("%d audits while used_by was pending, want none", audited)
	}
	if nSnaps != 1 || nUsedBy != 1 || pending || len(resyncs) != 0 {
		t.Errorf("%d snapshots, %d used_by reads, pending %v, re-reads %v: want one each, none pending, no re-read (an audit that found the tally off heals with one)",
			nSnaps, nUsedBy, pending, resyncs)
	}
}

// TestTallyCountsWhatUsedByHoldsOnce: the audit's tally of a start whose
// used_by comes later takes the hash and the entries delivered meanwhile that
// are newer than the read, each once, whether the follow was ahead of the
// read's id or behind it: it then equals the tally of the counters Redis
// holds. Before the read comes, a comparison leaves used_by out.
func TestTallyCountsWhatUsedByHoldsOnce(t *testing.T) {
	now := time.Now()
	period := model.MonthlyUTC.At(now)
	evs := make([]model.Event, 8)
	for i := range evs {
		evs[i] = usage([]string{"acme", "beta"}[i%2], []string{"web", "research"}[i%3%2], "/responses", int64(10+i))
		evs[i].ID, evs[i].TS = fmt.Sprintf("%d-0", i+1), now.UnixMilli()
	}
	// counters holds what Redis holds after the first n entries
	counters := func(n int, withUsedBy bool) *model.Snapshot {
		s := &model.Snapshot{Period: period, StreamID: evs[n-1].ID, Used: map[string]int64{}, UsedBy: map[string]int64{}, UsedByLater: !withUsedBy}
		for _, e := range evs[:n] {
			s.Used[e.Workspace] += e.Credits
			if withUsedBy {
				s.UsedBy[model.UsedByField(e.Workspace, e.Project, e.Endpoint)] += e.Credits
			}
		}
		return s
	}
	seed := maphash.MakeSeed()
	want := tallyOf(seed, counters(8, true), nil)
	usedByAt5 := counters(5, true).UsedBy // the read comes at entry 5
	for _, c := range []struct {
		name      string
		delivered int // entries delivered (from entry 3) before the read comes
	}{{"the follow ahead of the read", 7}, {"the follow behind it", 4}} {
		t.Run(c.name, func(t *testing.T) {
			got := tallyOf(seed, counters(2, false), nil) // the start snapshot at entry 2
			for i := 2; i < c.delivered; i++ {
				got.add(&evs[i], period)
			}
			if _, changed, _ := got.diff(tallyOf(seed, counters(c.delivered, true), nil)); changed != 0 {
				t.Errorf("with used_by pending %d workspaces differ from what Redis holds besides used_by, want 0", changed)
			}
			got.addUsedBy(usedByAt5, nil, evs[4].ID)
			for i := c.delivered; i < len(evs); i++ {
				got.add(&evs[i], period)
			}
			if _, changed, _ := got.diff(want); changed != 0 {
				for ws, w := range got.ws {
					t.Logf("%s: got %+v, want %+v", ws, *w, *want.ws[ws])
				}
				t.Fatalf("%d workspaces differ from what Redis holds, want 0", changed)
			}
		})
	}
}
