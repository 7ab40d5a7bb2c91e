package feed

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
)

// TestSentinelFailoverMidStreamFollowsTheNewMaster runs SENTINEL FAILOVER while
// two publishers write through go-redis's failover client (built by NewClient,
// as mavtop builds it), with a subscriber following through its own. The
// subscriber must end on the promoted server, say that it failed over
// (ReasonFailover, the new address in its ConnMsg), and its totals must equal
// the new master's counters, whatever the old master acknowledged that never
// reached the replica; writes after the failover keep counting.
func TestSentinelFailoverMidStreamFollowsTheNewMaster(t *testing.T) {
	sn := feedtest.StartSentinel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	connect := func(maxRetries int) redis.UniversalClient {
		c, err := NewClient(ConnectOptions{URL: sn.URL, SentinelMaster: feedtest.SentinelMaster, DialTimeout: time.Second, MaxRetries: maxRetries})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	// The subscriber's client is mavtop's: no retries inside go-redis, the
	// subscriber backs off itself.
	f := startFollower(t, connect(-1), SubscriberOptions{})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	old := sn.Master(ctx)
	f.mu.Lock()
	if n := len(f.conns); n == 0 || f.conns[n-1].Server != old.Addr {
		t.Errorf("connection states %+v, want the last to name the master %s", f.conns, old.Addr)
	}
	f.mu.Unlock()

	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range 2 {
		pub := NewPublisher(connect(0), PublisherOptions{RetryFor: time.Minute, Backoff: &Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e := usage([]string{"acme", "beta"}[p], "", "/responses", int64(i%9+1))
				if err := pub.Track(ctx, e); err != nil {
					// A write the old master took and lost leaves its
					// publisher unsure; the totals still follow the new master.
					t.Logf("publisher %d during the failover: %v", p, err)
					continue
				}
				acked.Add(1)
			}
		}()
	}
	waitAcked := func(n int64, what string) {
		t.Helper()
		start := acked.Load()
		deadline := time.Now().Add(30 * time.Second)
		for acked.Load() < start+n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d writes acknowledged %s", acked.Load()-start, n, what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitAcked(100, "before the failover")
	from, to := sn.Failover(ctx)
	newMaster := to.Client()
	atFailover := redisCounters(t, newMaster, time.Now())
	waitAcked(200, "after the failover")
	close(stop)
	wg.Wait()

	if from != old || to == from {
		t.Fatalf("failed over from %s to %s, want away from %s", from.Addr, to.Addr, old.Addr)
	}
	f.waitFor("a failover snapshot naming the new master", 20*time.Second, func(f *follower) bool {
		for _, s := range f.snaps {
			if s.Reason == ReasonFailover {
				return f.conns[len(f.conns)-1].Server == to.Addr
			}
		}
		return false
	})
	f.caughtUp(newMaster, 20*time.Second)
	want := redisCounters(t, newMaster, time.Now())
	if got := f.totals(); !got.equal(want) {
		t.Fatalf("the subscriber holds:\n%v\nthe new master %s holds:\n%v", got, to.Addr, want)
	}
	if grew := want.Used["acme"] + want.Used["beta"] - atFailover.Used["acme"] - atFailover.Used["beta"]; grew <= 0 {
		t.Errorf("the new master's counters did not grow after the failover (%v then %v)", atFailover.Used, want.Used)
	}
	t.Logf("%d writes acknowledged; failover %s → %s; new master used %v", acked.Load(), from.Addr, to.Addr, want.Used)
}

// TestSubscriberFollowsAServerThatWillNotSayWhoItIs: a user whose ACL refuses
// CLIENT (or a proxy that does) still gets every event; only failover
// detection is off.
func TestSubscriberFollowsAServerThatWillNotSayWhoItIs(t *testing.T) {
	srv := feedtest.StartReal(t, "ACLs need redis-server")
	ctx := context.Background()
	admin := srv.Client()
	if err := admin.Do(ctx, "ACL", "SETUSER", "reader", "on", ">pw", "~*", "&*", "+@all", "-client").Err(); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(ConnectOptions{URL: "redis://reader:pw@" + srv.Addr + "/0", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Do(ctx, "CLIENT", "INFO").Err(); err == nil {
		t.Fatal("the ACL lets CLIENT INFO through: the test proves nothing")
	}
	f := startFollower(t, c, SubscriberOptions{})
	pub := NewPublisher(admin, PublisherOptions{})
	for i := range 50 {
		if err := pub.Track(ctx, mixedEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	f.caughtUp(admin, 10*time.Second)
	if got, want := f.totals(), redisCounters(t, admin, time.Now()); !got.equal(want) {
		t.Fatalf("ledger:\n%v\nredis:\n%v", got, want)
	}
}
