package feed

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestKillAndRestartMidStream kills redis-server (SIGKILL, AOF on) twice while
// four publishers write 50,000 events, two one at a time and two in batches.
// The publishers retry; their lane counters make each retry exact. Afterwards a
// subscriber that followed throughout, the Redis counters and the acknowledged
// writes agree to the credit, and the stream holds each event once.
func TestKillAndRestartMidStream(t *testing.T) {
	srv := feedtest.StartReal(t, "killing the server mid-stream needs redis-server (CI requires it)")
	const total = 50_000
	const writers = 4
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	f := startFollower(t, srv.Client(), SubscriberOptions{})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })

	var acked atomic.Int64        // events acknowledged
	var ackedCredits atomic.Int64 // their credits
	var pubs []*Publisher
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		pub := NewPublisher(srv.Client(), PublisherOptions{
			RetryFor: time.Minute,
			Backoff:  &Backoff{Min: 20 * time.Millisecond, Max: 300 * time.Millisecond},
		})
		pubs = append(pubs, pub)
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := total / writers
			batch := 0
			if w >= 2 {
				batch = 25
			}
			for i := 0; i < n; {
				if batch == 0 {
					e := mixedEvent(w*n + i)
					if err := pub.Track(ctx, e); err != nil {
						errs <- err
						return
					}
					acked.Add(1)
					ackedCredits.Add(e.Credits)
					i++
					continue
				}
				evs := make([]model.Event, 0, batch)
				var credits int64
				for j := 0; j < batch && i+j < n; j++ {
					e := mixedEvent(w*n + i + j)
					evs = append(evs, e)
					credits += e.Credits
				}
				if err := pub.TrackBatch(ctx, evs); err != nil {
					errs <- err
					return
				}
				acked.Add(int64(len(evs)))
				ackedCredits.Add(credits)
				i += len(evs)
			}
		}()
	}

	// Kill the server twice while the writes flow: once long enough for every
	// client to see it, once so briefly that go-redis's own retries may hide it.
	for k, at := range []int64{total / 4, total * 3 / 5} {
		for acked.Load() < at {
			select {
			case err := <-errs:
				t.Fatalf("publisher gave up: %v", err)
			case <-time.After(2 * time.Millisecond):
			}
		}
		srv.Kill()
		if k == 0 && srv.Real {
			// While Redis is down the subscriber must say so (on a loaded machine
			// it may be busy with a backlog for a while: wait for it, not a fixed time).
			f.waitFor("a reconnecting report while Redis is down", 30*time.Second, func(f *follower) bool {
				for _, cm := range f.conns {
					if cm.State == Reconnecting {
						return true
					}
				}
				return false
			})
		} else {
			time.Sleep(200 * time.Millisecond)
		}
		srv.Restart()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("publisher gave up: %v", err)
	}

	c := srv.Client()
	f.caughtUp(c, time.Minute)
	ledger := f.totals()
	redisNow := redisCounters(t, c, time.Now())
	if !ledger.equal(redisNow) {
		t.Fatalf("subscriber and Redis disagree:\nledger\n%v\nredis\n%v", ledger, redisNow)
	}
	var used, recharged int64
	for _, n := range redisNow.Used {
		used += n
	}
	for _, n := range redisNow.Recharged {
		recharged += n
	}
	if acked.Load() != total || used+recharged != ackedCredits.Load() {
		t.Fatalf("acknowledged %d events with %d credits; Redis counts %d used + %d recharged",
			acked.Load(), ackedCredits.Load(), used, recharged)
	}
	if n, err := c.XLen(ctx, Keys{}.Stream()).Result(); err != nil || n != total {
		t.Fatalf("stream holds %d entries (%v), want %d: an event was written twice or lost", n, err, total)
	}
	var retries, dups, lost int64
	for _, p := range pubs {
		st := p.Stats()
		retries += st.Retries
		dups += st.Duplicates
		lost += st.LostReplies
	}
	if dups != 0 {
		t.Errorf("%d duplicates detected", dups)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var reconnecting int
	for _, cm := range f.conns {
		if cm.State == Reconnecting {
			reconnecting++
		}
	}
	t.Logf("50,000 events, 2 kills: %d publisher retries, %d lost replies resolved by lane counters; subscriber: %d snapshots, %d reconnecting reports",
		retries, lost, len(f.snaps), reconnecting)
	if srv.Real && reconnecting == 0 {
		t.Errorf("the subscriber never reported reconnecting")
	}
}
