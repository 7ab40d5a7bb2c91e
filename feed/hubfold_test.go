package feed

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestHubAViewerThatNeverReadsCostsTheFeedNothing: a viewer that never reads
// falls behind again and again; each time the hub drops its queue for a copy
// of the ledger. That copy (one map of pointers at 100k workspaces: ms, and
// tens of ms on a loaded machine) was made by the feed, under the hub's lock,
// once for every stuck viewer and every time it fell behind: every other
// viewer and the feed's own reads waited for it. Now the hub freezes one
// copy, shared by every copy it hands out until the next (Hub.copies counts
// them), and each viewer forks it on its own goroutine: the copies the feed
// makes are the same with five stuck viewers as with none. Every viewer,
// stuck or not, then holds the hub's counters.
func TestHubAViewerThatNeverReadsCostsTheFeedNothing(t *testing.T) {
	const workspaces, batches = 20_000, 300 // 3,000 events: no refresh (refreshEvery 4,096)
	run := func(stuck int) (copies, longest int, viewers []*Viewer, h *Hub) {
		h = NewHub()
		h.maxQueue = 8
		snap := hubSnapshot(1)
		snap.Snap.Used = map[string]int64{}
		for i := range workspaces {
			snap.Snap.Used[fmt.Sprintf("ws%d", i)] = int64(i)
		}
		h.Handle(snap)
		reader := h.Join()
		for range stuck {
			viewers = append(viewers, h.Join())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var s LedgerState
		for i := range batches {
			before := h.copies
			b := &BatchMsg{Gen: 1}
			for j := range 10 {
				k := i*10 + j
				b.Events = append(b.Events, model.Event{ID: fmt.Sprintf("%d-0", k+1), TS: hubNow.UnixMilli() + int64(k),
					Workspace: fmt.Sprintf("ws%d", k*7919%workspaces), Endpoint: "/responses", Credits: 3, Status: 200})
			}
			b.LastID = b.Events[len(b.Events)-1].ID
			h.Handle(b)
			h.mu.Lock()
			longest = max(longest, h.copies-before) // the copies this one Handle made under the lock
			h.mu.Unlock()
			msgs, err := reader.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				s.Apply(m)
			}
		}
		h.mu.Lock()
		copies = h.copies
		h.mu.Unlock()
		var hub *model.Snapshot
		h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { hub = totals(l) })
		if !reflect.DeepEqual(totals(s.Ledger), hub) {
			t.Fatalf("with %d stuck viewers the reading viewer disagrees with the hub", stuck)
		}
		return copies, longest, viewers, h
	}
	alone, _, _, _ := run(0)
	copies, longest, stuck, h := run(5)
	if copies != alone || longest > 1 {
		t.Errorf("the feed made %d ledger copies under the hub's lock with 5 viewers that never read (up to %d in one batch), %d with none; want the same, at most 1 a batch",
			copies, longest, alone)
	}
	var hub *model.Snapshot
	h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { hub = totals(l) })
	for i, v := range stuck {
		var s LedgerState
		drain(t, v, &s)
		if s.Ledger == nil || !reflect.DeepEqual(totals(s.Ledger), hub) {
			t.Fatalf("stuck viewer %d, read at last, does not hold the hub's counters", i)
		}
	}
}

// TestHubFoldsUsedByOffItsLock: the start's used_by read (at 100k workspaces
// ~5 s of CPU to fold) was folded under the hub's lock, on the feed's
// goroutine: meanwhile no event reached any viewer, no viewer could join and
// the feed read nothing. Now it is folded into a copy of the ledger on a
// goroutine of its own; held in its fold here (Hub.foldHook), the hub goes on
// applying the events written meanwhile, a viewer joins and gets the ledger
// with them, and one that never reads falls behind; then the fold applies
// them to its copy too and that copy becomes the hub's. On a real
// redis-server: the hub's counters, the joined viewer's and the stuck
// viewer's equal what Redis holds, every event counted once.
func TestHubFoldsUsedByOffItsLock(t *testing.T) {
	srv := feedtest.StartReal(t, "no redis-server on PATH")
	c := srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := NewPublisher(c, PublisherOptions{})
	publish := func(from, to int) string {
		t.Helper()
		for i := from; i < to; i++ {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		tail, err := c.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
		if err != nil || len(tail) != 1 {
			t.Fatalf("stream tail: %v", err)
		}
		return tail[0].ID
	}
	publish(0, 60)

	h := NewHub()
	h.maxQueue = 4
	inFold, release := make(chan struct{}), make(chan struct{})
	h.foldHook = func() { close(inFold); <-release }
	stuck := h.Join() // never reads until the end
	opt := SubscriberOptions{Block: 50 * time.Millisecond, Backoff: &Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		StatsEvery: 10 * time.Millisecond, AuditEvery: time.Hour}
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx, NewSubscriber(c, opt)) }()
	defer func() { cancel(); <-done }()
	released := false
	defer func() { // before the feed is waited for: a fold held under the lock holds it up
		if !released {
			close(release)
		}
	}()
	select {
	case <-inFold:
	case <-time.After(30 * time.Second):
		t.Fatal("the used_by read never came to the hub")
	}

	// the fold is held: the feed goes on, a viewer joins
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(20 * time.Second) // not a speed: it never holds while the fold holds the lock
		ok := make(chan bool, 1)
		for {
			go func() { ok <- cond() }() // cond takes the hub's lock: it may wait for ever
			select {
			case held := <-ok:
				if held {
					return
				}
				time.Sleep(5 * time.Millisecond)
			case <-deadline:
				t.Fatalf("%s while the used_by fold was held: the fold holds the hub's lock", what)
			}
		}
	}
	during := publish(60, 120)
	wait("the hub did not apply the events written", func() bool { return h.Applied(during) })
	joined := make(chan *Viewer, 1)
	go func() { joined <- h.Join() }()
	var v *Viewer
	wait("no viewer could join", func() bool {
		select {
		case v = <-joined:
			return true
		default:
			return false
		}
	})
	var s LedgerState
	drain(t, v, &s)
	if s.Ledger == nil || !s.Ledger.UsedByPending() || compareIDs(s.Ledger.StreamID(), during) < 0 {
		t.Fatalf("the viewer that joined during the fold got %v; want the ledger up to %s, its project credits pending", s.Ledger, during)
	}
	if got, want := countersOf(s.Ledger.Totals()).Used, redisCounters(t, c, time.Now()).Used; !reflect.DeepEqual(got, want) {
		t.Fatalf("during the fold the joined viewer's used %v, Redis %v", got, want)
	}

	// more events while the fold catches up, then the end
	close(release)
	released = true
	tail := publish(120, 200)
	wait("the fold did not end", func() bool {
		pending := true
		h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { pending = l == nil || l.UsedByPending() })
		return !pending && h.Applied(tail)
	})
	want := redisCounters(t, c, time.Now())
	var hub counters
	h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { hub = countersOf(l.Totals()) })
	if !hub.equal(want) {
		t.Fatalf("hub after the fold:\n%v\nredis:\n%v", hub, want)
	}
	for name, viewer := range map[string]*Viewer{"joined": v, "stuck": stuck} {
		st := s
		if name == "stuck" {
			st = LedgerState{}
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			drainNow(viewer, &st)
			if st.Ledger != nil && !st.Ledger.UsedByPending() && compareIDs(st.Ledger.StreamID(), tail) >= 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the %s viewer never got the folded ledger up to %s", name, tail)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := countersOf(st.Ledger.Totals()); !got.equal(want) {
			t.Fatalf("%s viewer after the fold:\n%v\nredis:\n%v", name, got, want)
		}
	}
}

// drainNow applies whatever is queued for v to s, without waiting.
func drainNow(v *Viewer, s *LedgerState) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v.mu.Lock()
	queued := len(v.queue) > 0
	v.mu.Unlock()
	if !queued {
		return
	}
	msgs, _ := v.Next(ctx)
	for _, m := range msgs {
		s.Apply(m)
	}
}
