package feed

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// fakeClock is an injectable clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// runState runs a Subscriber (opt) on c into s, the dashboard's LedgerState,
// until the test ends; see, when not nil, looks at each message before s
// applies it. Both run under mu: hold it to read s.
func runState(t testing.TB, c redis.UniversalClient, opt SubscriberOptions, mu *sync.Mutex, s *LedgerState, see func(Msg)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = NewSubscriber(c, opt).Run(ctx, func(m Msg) {
			mu.Lock()
			defer mu.Unlock()
			if see != nil {
				see(m)
			}
			s.Apply(m)
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// follower runs a Subscriber into a model.Ledger, the way the dashboard will,
// and records every message for assertions.
type follower struct {
	t      testing.TB
	sub    *Subscriber
	cancel context.CancelFunc
	done   chan error
	now    func() time.Time

	mu        sync.Mutex
	ledger    *model.Ledger
	gen       uint64
	snaps     []SnapshotMsg
	conns     []ConnMsg
	malformed []MalformedMsg
	stats     []StatsMsg
	lastID    string
	events    int
	stale     int
	hold      chan struct{} // when set, handle waits on it (a paused consumer)
}

func startFollower(t testing.TB, c redis.UniversalClient, opt SubscriberOptions) *follower {
	t.Helper()
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Backoff == nil {
		opt.Backoff = &Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
	}
	if opt.Block == 0 {
		opt.Block = 200 * time.Millisecond
	}
	f := &follower{t: t, sub: NewSubscriber(c, opt), done: make(chan error, 1), now: opt.Now}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() { f.done <- f.sub.Run(ctx, f.handle) }()
	t.Cleanup(f.stop)
	return f
}

func (f *follower) stop() {
	f.cancel()
	f.mu.Lock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
	f.mu.Unlock()
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		f.t.Errorf("subscriber did not stop within 10 s of cancellation")
	}
}

// pause makes the consumer stall in its next handle call until resume.
func (f *follower) pause() {
	f.mu.Lock()
	f.hold = make(chan struct{})
	f.mu.Unlock()
}

func (f *follower) resume() {
	f.mu.Lock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
	f.mu.Unlock()
}

func (f *follower) handle(m Msg) {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m := m.(type) {
	case *SnapshotMsg:
		f.gen = m.Gen
		f.ledger = model.NewLedger(m.Rule, f.now())
		f.ledger.Seed(m.Snap, f.now())
		f.snaps = append(f.snaps, *m)
		f.lastID = m.Snap.StreamID
	case *UsedByMsg:
		if m.Gen == f.gen {
			f.ledger.MarkProjectsUnreadable(m.Unreadable) // as ledgerState does
			f.ledger.SeedUsedBy(m.UsedBy, m.StreamID)
		}
	case *BatchMsg:
		if m.Gen != f.gen {
			f.stale++
			return
		}
		f.ledger.ApplyBatch(m.Events)
		f.events += len(m.Events)
		f.lastID = m.LastID
	case *ConnMsg:
		f.conns = append(f.conns, *m)
	case *MalformedMsg:
		f.malformed = append(f.malformed, *m)
	case *StatsMsg:
		f.stats = append(f.stats, *m)
	}
}

// waitFor polls cond (under the lock) until it holds or timeout passes.
func (f *follower) waitFor(what string, timeout time.Duration, cond func(f *follower) bool) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		ok := cond(f)
		f.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.t.Fatalf("timed out after %v waiting for %s (snapshots %d, events %d, last id %s, conns %v)",
				timeout, what, len(f.snaps), f.events, f.lastID, f.conns)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// caughtUp waits until the follower has read up to the stream's newest entry.
func (f *follower) caughtUp(c redis.UniversalClient, timeout time.Duration) {
	f.t.Helper()
	ctx := context.Background()
	var last string
	msgs, err := c.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
	if err != nil {
		f.t.Fatalf("stream tail: %v", err)
	}
	if len(msgs) > 0 {
		last = msgs[0].ID
	}
	f.waitFor("the follower to reach "+last, timeout, func(f *follower) bool {
		// a start reads used_by right after the snapshot (UsedByMsg): caught up
		// means that read is in too, else totals lack the projects for a moment
		return f.ledger != nil && !f.ledger.UsedByPending() && (last == "" || compareIDs(f.lastID, last) >= 0)
	})
}

// totals returns the ledger's counters, zeros dropped.
func (f *follower) totals() counters {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ledger == nil {
		return counters{}
	}
	return countersOf(f.ledger.Totals())
}

// counters is the comparable part of a snapshot: the four period hashes.
type counters struct {
	Period                           string
	Used, UsedBy, Refused, Recharged map[string]int64
}

func nonZero(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func countersOf(s *model.Snapshot) counters {
	return counters{Period: s.Period.Key, Used: nonZero(s.Used), UsedBy: nonZero(s.UsedBy), Refused: nonZero(s.Refused), Recharged: nonZero(s.Recharged)}
}

func (c counters) equal(o counters) bool {
	return c.Period == o.Period && maps.Equal(c.Used, o.Used) && maps.Equal(c.UsedBy, o.UsedBy) &&
		maps.Equal(c.Refused, o.Refused) && maps.Equal(c.Recharged, o.Recharged)
}

func (c counters) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "period %s", c.Period)
	for _, part := range []struct {
		name string
		m    map[string]int64
	}{{"used", c.Used}, {"used_by", c.UsedBy}, {"refused", c.Refused}, {"recharged", c.Recharged}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "\n  %s:", part.name)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, part.m[k])
		}
	}
	return b.String()
}

// redisCounters reads the period hashes as Redis holds them now.
func redisCounters(t testing.TB, c redis.UniversalClient, now time.Time) counters {
	t.Helper()
	res, err := ReadSnapshot(context.Background(), c, Keys{}, now, model.MonthlyUTC)
	if err != nil {
		t.Fatalf("read counters: %v", err)
	}
	return countersOf(res.Snap)
}

// usage makes a usage event.
func usage(ws, project, endpoint string, credits int64) model.Event {
	return model.Event{Workspace: ws, Project: project, Endpoint: endpoint, Credits: credits, Status: 200}
}

func refused(ws, project, endpoint, code string) model.Event {
	return model.Event{Workspace: ws, Project: project, Endpoint: endpoint, Status: 402, Code: code, Msg: "no credits left"}
}

// flushAll empties the server, or every master of a cluster (a cluster client
// sends FLUSHALL to one node only).
func flushAll(ctx context.Context, c redis.UniversalClient) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushAll(ctx).Err() })
	}
	return c.FlushAll(ctx).Err()
}

// allocate gives each workspace its allocation in the settings hash and
// returns the store that wrote them.
func allocate(t testing.TB, c redis.UniversalClient, allocations map[string]int64) *SettingsStore {
	t.Helper()
	return allocateBy(t, c, StoreOptions{}, allocations)
}

// backdated is what a test that writes events dated before now needs for
// them to be dated by their ids as a producer on time writes them (the burn,
// idle and a row's age are: model.Event.At): ClockIDs shared by every writer
// of its stream, and store options (Now from) that date its settings before
// those events. Events are written oldest first (inTimeOrder).
func backdated(from time.Time) (*ClockIDs, StoreOptions) {
	ids := new(ClockIDs)
	return ids, StoreOptions{Now: func() time.Time { return from }, IDs: ids}
}

// inTimeOrder returns evs sorted by ts, the order a producer writes them.
func inTimeOrder(evs []model.Event) []model.Event {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b model.Event) int { return cmp.Compare(a.TS, b.TS) })
	return evs
}

// allocateBy is allocate through a settings store of opt.
func allocateBy(t testing.TB, c redis.UniversalClient, opt StoreOptions, allocations map[string]int64) *SettingsStore {
	t.Helper()
	store := NewSettingsStore(c, opt)
	for ws, alloc := range allocations {
		if err := store.SetWorkspace(context.Background(), ws, model.Settings{Allocation: alloc}); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// midPeriod stores in c's settings hash the billing-period rule that puts now
// about half-way through its period (model.MidPeriod) and returns it. A test
// that writes events up to an hour before now, or judges a forecast or a
// run-out against the time left, needs that hour and the next inside one
// period: under the default (calendar months, UTC) CI's run in a month's
// first hour put the hour written before now in the previous period, and one
// in its last minutes leaves no time to run out in.
func midPeriod(t testing.TB, c redis.UniversalClient) model.PeriodRule {
	t.Helper()
	return midPeriodBy(t, c, StoreOptions{})
}

// midPeriodBy is midPeriod writing through a settings store of opt: a test
// that writes a history dated before now by its ids (ClockIDs) dates the
// period's entry before it.
func midPeriodBy(t testing.TB, c redis.UniversalClient, opt StoreOptions) model.PeriodRule {
	t.Helper()
	cfg := model.MidPeriod(time.Now())
	if err := NewSettingsStore(c, opt).SetPeriod(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	return rule
}

// replicaPair starts two redis-servers for t (REPLICAOF needs real ones: t
// is skipped where there is none, failed under feedtest.RequireEnv) and
// returns them with makeReplica, which makes the second a replica of the
// first (REPLICAOF the first's host and port) when the test calls it: a
// full sync then replaces every key of the second, whose run id stays.
func replicaPair(t *testing.T) (master, replica *feedtest.Server, makeReplica func()) {
	t.Helper()
	master = feedtest.StartReal(t, "REPLICAOF needs redis-server (CI requires it)")
	replica = feedtest.StartReal(t, "REPLICAOF needs redis-server (CI requires it)")
	return master, replica, func() {
		t.Helper()
		host, port, _ := net.SplitHostPort(master.Addr)
		if err := replica.Client().Do(context.Background(), "REPLICAOF", host, port).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// tokyoFallback is an instant ts where the period rule meant, start day 15
// in Asia/Tokyo, and model.PeriodFallback (calendar months in UTC) differ:
// the 14th, 23:30 in Tokyo, of a month m ahead of now. meantKey is the
// rule's period there (m-1), fallbackKey the fallback's (m).
func tokyoFallback(t *testing.T) (ts time.Time, fallbackKey, meantKey string) {
	t.Helper()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	m := futureMonth()
	ts = time.Date(m.Year(), m.Month(), 14, 23, 30, 0, 0, tokyo)
	fallbackKey = model.PeriodFallback.At(ts).Key
	meantKey = time.Date(m.Year(), m.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	if fallbackKey == meantKey {
		t.Fatalf("fallback %s, meant %s: the instant tells nothing", fallbackKey, meantKey)
	}
	return ts, fallbackKey, meantKey
}
