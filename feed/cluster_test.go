package feed

import (
	"context"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// written tallies what producers were told is recorded: the counters they
// expect Redis and every subscriber to hold, and the stream entries.
type written struct {
	mu      sync.Mutex
	entries int64
	want    counters
}

func newWritten() *written {
	return &written{want: counters{Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{}, Recharged: map[string]int64{}}}
}

// add counts acknowledged events the way the publisher's MULTI does.
func (w *written) add(evs ...model.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range evs {
		w.entries++
		if e.Kind == model.KindRecharge {
			w.want.Recharged[e.Workspace] += e.Credits
			continue
		}
		w.want.Used[e.Workspace] += e.Credits
		w.want.UsedBy[model.UsedByField(e.Workspace, e.Project, e.Endpoint)] += e.Credits
		if e.Refused() {
			w.want.Refused[model.RefusedField(e.Workspace, e.Project, e.Code)]++
		}
	}
}

func (w *written) count() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.entries
}

// snapshot returns the tally so far with zeros dropped, for the given period.
func (w *written) snapshot(period string) (counters, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return counters{Period: period, Used: nonZero(w.want.Used), UsedBy: nonZero(w.want.UsedBy),
		Refused: nonZero(w.want.Refused), Recharged: nonZero(w.want.Recharged)}, w.entries
}

// waitWrites waits until at least n more events than at start are acknowledged.
func (w *written) waitWrites(t *testing.T, start, n int64, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.count() < start+n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes acknowledged %s", w.count()-start, n, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClusterSlotMoveMidStreamKeepsTotalsExact moves the {mavera} slot to
// another master while three publishers write (one event at a time and in
// batches) and three subscribers follow, each on its own cluster client. Writes
// land in each state of the move: the slot open with every key still on the
// source, every key on the target while the source still owns the slot (only
// ASK reaches them), and after the move (MOVED). Afterwards the Redis counters
// equal what the publishers were told is recorded, the stream holds each event
// once, and every subscriber's ledger equals the counters.
func TestClusterSlotMoveMidStreamKeepsTotalsExact(t *testing.T) {
	cl := feedtest.StartCluster(t)
	c := cl.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := newWritten()
	pre := NewPublisher(c, PublisherOptions{})
	for i := range 100 {
		e := mixedEvent(i)
		if err := pre.Track(ctx, e); err != nil {
			t.Fatal(err)
		}
		w.add(e)
	}
	var fs []*follower
	for i := range 3 {
		fs = append(fs, startFollower(t, cl.Client(), SubscriberOptions{Count: int64(10 + 40*i)}))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var pubs []*Publisher
	for p := range 3 {
		pub := NewPublisher(cl.Client(), PublisherOptions{
			RetryFor: time.Minute,
			Backoff:  &Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond},
		})
		pubs = append(pubs, pub)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := 1
				if p == 2 {
					n = 7 // batches
				}
				evs := make([]model.Event, n)
				for j := range evs {
					evs[j] = mixedEvent(1000*(p+1) + i*n + j)
				}
				if err := pub.TrackBatch(ctx, evs); err != nil {
					t.Errorf("publisher %d: %v", p, err)
					return
				}
				w.add(evs...)
			}
		}()
	}

	w.waitWrites(t, 100, 50, "before the move")
	from, to := cl.MoveSlot(ctx, Keys{}.Stream(), func(phase string) {
		w.waitWrites(t, w.count(), 50, "with the slot "+phase)
	})
	w.waitWrites(t, w.count(), 50, "after the move")
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}

	if owner := cl.Owner(ctx, Keys{}.Stream()); owner != to || to == from {
		t.Fatalf("the slot is on %s, want it moved from %s to %s", owner.Addr, from.Addr, to.Addr)
	}
	ask, moved := cl.Redirects(ctx)
	if ask == 0 || moved == 0 {
		t.Errorf("the nodes sent %d ASK and %d MOVED replies: the move did not redirect the clients in both ways", ask, moved)
	}
	now := time.Now()
	want, entries := w.snapshot(model.MonthlyUTC.At(now).Key)
	got := redisCounters(t, c, now)
	if !got.equal(want) {
		t.Fatalf("Redis holds:\n%v\nthe publishers were told:\n%v", got, want)
	}
	if n, err := c.XLen(ctx, Keys{}.Stream()).Result(); err != nil || n != entries {
		t.Errorf("the stream holds %d entries (%v), want %d acknowledged", n, err, entries)
	}
	for i, p := range pubs {
		if d := p.Stats().Duplicates; d != 0 {
			t.Errorf("publisher %d recorded %d events twice", i, d)
		}
	}
	for i, f := range fs {
		f.caughtUp(c, 20*time.Second)
		if g := f.totals(); !g.equal(want) {
			t.Errorf("subscriber %d:\n%v\nwant:\n%v", i, g, want)
		}
	}
	t.Logf("%d events, %d ASK and %d MOVED replies, slot moved %s → %s", entries, ask, moved, from.Addr, to.Addr)
}
