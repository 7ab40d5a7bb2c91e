package feed

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
)

// moveProxy forwards TCP to one Redis; moveTo sends every new connection to
// another one and cuts the open ones, as a virtual IP or a DNS name moved to a
// promoted replica does: mavtop keeps dialling the same address.
type moveProxy struct{ *tcpProxy }

func newMoveProxy(t *testing.T, target string) *moveProxy {
	t.Helper()
	return &moveProxy{startProxy(t, target, func(c, s net.Conn) {
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		go func() { _, _ = io.Copy(c, s); c.Close() }()
	})}
}

// moveTo points new connections at target and closes the open ones.
func (p *moveProxy) moveTo(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	p.cutAll()
}

// TestFailoverToALaggingReplicaIsHealed is the third way for Redis to
// come back older than it was: a replica, cut off from its primary while the
// primary took more writes (REPLICAOF NO ONE), is promoted, producers write to
// it, and mavtop's address is moved to it (the same address, through a proxy).
// The promoted server's stream holds ids older than mavtop's resume point and
// newer ones, so no gap check can see the loss. The re-read is named with the
// credits lost, counted by reason (mavtop_feed_resyncs_total{reason} reads
// Resyncs), and the ledger equals the promoted server's HGETALL within the
// audit cadence. A server that says which one answers (CLIENT INFO's laddr)
// names a failover; one whose ACL refuses CLIENT is known only by its run id,
// which is another server's: named a restart, healed the same.
func TestFailoverToALaggingReplicaIsHealed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noClient bool // the follower's user may not run CLIENT
		reason   Reason
		note     string
	}{
		{"the server says who answers", false, ReasonFailover, "Redis failed over: counters re-read from the new master, −2,927 credits"},
		{"CLIENT refused: by the run id", true, ReasonRestart, "Redis restarted: counters re-read, −2,927 credits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failOverToALaggingReplica(t, tc.noClient, tc.reason, tc.note)
		})
	}
}

func failOverToALaggingReplica(t *testing.T, noClient bool, reason Reason, note string) {
	primary := feedtest.StartReal(t, "replication needs redis-server (CI requires it)")
	replica := feedtest.StartReal(t, "replication needs redis-server (CI requires it)")
	ctx := context.Background()
	pc, rc := primary.Client(), replica.Client()
	url := "redis://" + proxyPlaceholder + "/0"
	if noClient {
		// ACLs are not replicated: the same user on both servers.
		for _, c := range []redis.UniversalClient{pc, rc} {
			if err := c.Do(ctx, "ACL", "SETUSER", "reader", "on", ">pw", "~*", "&*", "+@all", "-client").Err(); err != nil {
				t.Fatal(err)
			}
		}
		url = "redis://reader:pw@" + proxyPlaceholder + "/0"
	}
	host, port, _ := net.SplitHostPort(primary.Addr)
	if err := rc.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	proxy := newMoveProxy(t, primary.Addr)
	mc, err := NewClient(ConnectOptions{URL: strings.Replace(url, proxyPlaceholder, proxy.addr(), 1), DialTimeout: time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	if err := mc.Do(ctx, "CLIENT", "INFO").Err(); (err != nil) != noClient {
		t.Fatalf("CLIENT INFO through the proxy: %v (refused wanted: %v)", err, noClient)
	}

	pub := NewPublisher(pc, PublisherOptions{})
	// 3,736 credits the replica receives before it is cut off.
	for range 8 {
		trackAll(t, pub, usage("alpha", "web", "/responses", 467))
	}
	f := startFollower(t, mc, SubscriberOptions{AuditEvery: time.Second})
	f.caughtUp(pc, 10*time.Second)
	waitReplicated(t, pc, rc)
	if err := rc.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	// 2,927 credits the primary acknowledges, mavtop shows, and the replica
	// never gets.
	trackAll(t, pub, usage("alpha", "web", "/responses", 2000), usage("alpha", "batch", "/focus-groups", 927))
	f.caughtUp(pc, 10*time.Second)
	if s, _ := f.ledgerSummary("alpha"); s.Used != 6663 {
		t.Fatalf("before the failover the screen shows %d, want 6,663", s.Used)
	}
	f.mu.Lock()
	resume := f.lastID
	f.mu.Unlock()
	// Producers write to the promoted server before mavtop is moved to it (a
	// new publisher: the old one's lane counters are the primary's).
	pub2 := NewPublisher(rc, PublisherOptions{})
	trackAll(t, pub2, usage("alpha", "web", "/responses", 100), usage("beta", "web", "/responses", 50))
	if got := redisCounters(t, rc, time.Now()).Used["alpha"]; got != 3736+100 {
		t.Fatalf("the promoted replica holds %d for alpha, want 3,836: it is not lagging", got)
	}
	// The case no gap check can see: the promoted stream starts before the
	// resume point and ends after it.
	info, err := rc.XInfoStream(ctx, Keys{}.Stream()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if compareIDs(info.FirstEntry.ID, resume) >= 0 || compareIDs(info.LastGeneratedID, resume) <= 0 {
		t.Fatalf("the promoted stream spans %s..%s, want it around mavtop's resume point %s", info.FirstEntry.ID, info.LastGeneratedID, resume)
	}

	moved := time.Now()
	proxy.moveTo(replica.Addr)
	f.convergedTo(rc, "after the failover", 30*time.Second)
	took := time.Since(moved)
	f.waitFor("the stats to count the re-read", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.Resyncs[reason] == 1
	})
	// Producers keep writing to the new primary: mavtop follows it.
	trackAll(t, pub2, usage("beta", "web", "/responses", 7))
	f.caughtUp(rc, 10*time.Second)
	f.convergedTo(rc, "after writes to the promoted replica", 10*time.Second)

	f.mu.Lock()
	defer f.mu.Unlock()
	t.Logf("the ledger equalled the promoted replica's counters %v after the move (audit every 1 s); re-reads %v",
		took.Round(time.Millisecond), reasons(f.snaps))
	if s, _ := f.ledger.Summary("alpha"); s.Used != 3736+100 {
		t.Errorf("alpha shows %d, want %d (3,736 replicated + 100 written after the failover)", s.Used, 3736+100)
	}
	if s, _ := f.ledger.Summary("beta"); s.Used != 57 {
		t.Errorf("beta shows %d, want 57", s.Used)
	}
	got := f.snapsOf(reason)
	if len(got) != 1 {
		t.Fatalf("%d %s re-reads, want 1 (snapshots: %v)", len(got), reason, reasons(f.snaps))
	}
	if len(f.snaps) != 2 {
		t.Errorf("re-reads %v, want the start and one %s", reasons(f.snaps), reason)
	}
	r := got[0]
	// The loss is compared at the id the counters were read at: the 150
	// written to the promoted server after are no loss.
	if r.UsedDelta != -2927 || !r.Rewound {
		t.Errorf("%s re-read: delta %d rewound %v, want −2,927 and true", reason, r.UsedDelta, r.Rewound)
	}
	if r.Note() != note {
		t.Errorf("note %q, want %q", r.Note(), note)
	}
	if want := replica.Addr; !noClient && f.conns[len(f.conns)-1].Server != want {
		t.Errorf("the last connection state names %q, want the promoted replica %s", f.conns[len(f.conns)-1].Server, want)
	}
}

const proxyPlaceholder = "PROXY"

// waitReplicated waits until the replica's stream ends where the primary's does.
func waitReplicated(t *testing.T, primary, replica redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	tail := func(c redis.UniversalClient) string {
		msgs, err := c.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
		if err != nil || len(msgs) == 0 {
			return ""
		}
		return msgs[0].ID
	}
	want := tail(primary)
	deadline := time.Now().Add(30 * time.Second)
	for tail(replica) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not reach the primary's %s within 30 s", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
