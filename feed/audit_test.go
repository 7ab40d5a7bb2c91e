package feed

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// trackAll writes events one by one and fails the test on an error.
func trackAll(t *testing.T, pub *Publisher, evs ...model.Event) {
	t.Helper()
	for _, e := range evs {
		if err := pub.Track(context.Background(), e); err != nil {
			t.Fatalf("track: %v", err)
		}
	}
}

// snapOf returns the follower's snapshots of one reason.
func (f *follower) snapsOf(r Reason) []SnapshotMsg {
	var out []SnapshotMsg
	for _, s := range f.snaps {
		if s.Reason == r {
			out = append(out, s)
		}
	}
	return out
}

// convergedTo waits until the follower's ledger equals the Redis counters.
func (f *follower) convergedTo(c redis.UniversalClient, what string, timeout time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, want := f.totals(), redisCounters(f.t, c, time.Now())
		if got.equal(want) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: the ledger did not converge to the counters within %v:\nledger\n%v\nredis\n%v", what, timeout, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuditHealsARestartOntoOlderData is the first case: Redis comes
// back from an older copy of its data and producers write before mavtop
// reconnects, so the stream's first id is older than mavtop's resume point and
// its last id newer and the gap check passes. The audit finds the 2,927 credits
// the server lost, names the restart, and the screen equals HGETALL.
func TestAuditHealsARestartOntoOlderData(t *testing.T) {
	srv := feedtest.StartReal(t, "restarting onto older data needs redis-server (CI requires it)")
	c := srv.Client()
	pub := NewPublisher(c, PublisherOptions{})
	// 3,736 credits the older copy keeps.
	for range 8 {
		trackAll(t, pub, usage("alpha", "web", "/responses", 467))
	}
	older := srv.CopyData()
	f := startFollower(t, c, SubscriberOptions{
		AuditEvery: time.Second,
		// A slow first retry: the producers below write before mavtop is back.
		Backoff: &Backoff{Min: time.Second, Max: time.Second},
	})
	f.caughtUp(c, 10*time.Second)
	// 2,927 credits the server acknowledges, mavtop shows, and the restart loses.
	trackAll(t, pub, usage("alpha", "web", "/responses", 2000), usage("alpha", "batch", "/focus-groups", 927))
	f.caughtUp(c, 10*time.Second)
	if s, _ := f.ledgerSummary("alpha"); s.Used != 6663 {
		t.Fatalf("before the restart the screen shows %d, want 6,663", s.Used)
	}
	// The publisher keeps the digest: the audits on the cadence read it, and
	// the restart must still be found and healed.
	f.waitFor("audits by the digest", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.AuditByDigest && st.DigestAudits >= 1
	})

	srv.RestartFrom(older)
	// Producers write before mavtop reconnects (a new publisher: the old one's
	// lane counters went back in time with the data).
	pub2 := NewPublisher(c, PublisherOptions{})
	trackAll(t, pub2, usage("alpha", "web", "/responses", 100), usage("beta", "web", "/responses", 50))

	f.convergedTo(c, "after the restart", 30*time.Second)
	f.waitFor("the stats to count the restart", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.Resyncs[ReasonRestart] == 1 && st.Restarts == 1
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, _ := f.ledger.Summary("alpha"); s.Used != 3736+100 {
		t.Errorf("alpha shows %d, want %d (3,736 kept + 100 written after the restart)", s.Used, 3736+100)
	}
	restarts := f.snapsOf(ReasonRestart)
	if len(restarts) != 1 {
		t.Fatalf("%d restart re-reads, want 1 (snapshots: %v)", len(restarts), reasons(f.snaps))
	}
	r := restarts[0]
	if r.UsedDelta != -2927 || !r.Restarted {
		t.Errorf("restart re-read: delta %d restarted %v, want −2,927 and true", r.UsedDelta, r.Restarted)
	}
	if got, want := r.Note(), "Redis restarted: counters re-read, −2,927 credits"; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
}

// TestRestartOntoAnEmptyServerIsAReset: a server that comes back with nothing
// is named a reset (data lost), not a trim, with what was lost, also when
// producers wrote to it before mavtop reconnected.
func TestRestartOntoAnEmptyServerIsAReset(t *testing.T) {
	srv := feedtest.StartReal(t, "restarting onto no data needs redis-server (CI requires it)")
	c := srv.Client()
	pub := NewPublisher(c, PublisherOptions{})
	f := startFollower(t, c, SubscriberOptions{AuditEvery: time.Second, Backoff: &Backoff{Min: time.Second, Max: time.Second}})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	trackAll(t, pub, usage("alpha", "web", "/responses", 1200), usage("beta", "web", "/responses", 300))
	f.caughtUp(c, 10*time.Second)

	srv.RestartFrom("")
	pub2 := NewPublisher(c, PublisherOptions{})
	trackAll(t, pub2, usage("beta", "web", "/responses", 20))

	f.convergedTo(c, "after the restart onto an empty server", 30*time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.snapsOf(ReasonGap)) != 0 {
		t.Errorf("the restart was called a trim: %v", reasons(f.snaps))
	}
	resets := f.snapsOf(ReasonReset)
	if len(resets) != 1 {
		t.Fatalf("%d reset re-reads, want 1 (snapshots: %v)", len(resets), reasons(f.snaps))
	}
	// Shown 1,500; the server holds 20 (written after it came back) or 0 (when
	// mavtop was back first): the loss is the whole 1,500.
	r := resets[0]
	if r.UsedDelta != -1500 && r.UsedDelta != -1480 {
		t.Errorf("reset delta %d, want −1,500 (or −1,480 with the write after the restart)", r.UsedDelta)
	}
	if !strings.Contains(r.Note(), "reset / data lost") {
		t.Errorf("note %q does not say the data is lost", r.Note())
	}
	if s, _ := f.ledger.Summary("alpha"); s.Used != 0 {
		t.Errorf("alpha shows %d after the server lost it, want 0", s.Used)
	}
}

// followAFlush starts a follower (audits an hour apart: only the follow
// sees the flush) on a fresh redis-server, writes before and waits until it
// is shown, FLUSHDBs, writes after with a new publisher (the old one's lane
// counters went with the data) before the follower reads again, and returns
// the follower once it equals what Redis holds, having checked that the flush
// was not called a trim.
func followAFlush(t *testing.T, before []model.Event, after ...model.Event) *follower {
	t.Helper()
	c := feedtest.Start(t).Client()
	f := startFollower(t, c, SubscriberOptions{AuditEvery: time.Hour})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	trackAll(t, NewPublisher(c, PublisherOptions{}), before...)
	f.caughtUp(c, 10*time.Second)
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	trackAll(t, NewPublisher(c, PublisherOptions{}), after...)
	f.convergedTo(c, "after the flush", 30*time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.snapsOf(ReasonGap)) != 0 {
		t.Errorf("the flush was called a trim: %v", reasons(f.snaps))
	}
	return f
}

// TestFlushIsAReset: FLUSHDB while mavtop follows, then producers write
// before it reads again: the new stream is newer than the resume point, as
// after a trim, but the counters went down and none of the stream read is
// left, so it is a reset (data lost), not a trim.
func TestFlushIsAReset(t *testing.T) {
	f := followAFlush(t, []model.Event{usage("alpha", "web", "/responses", 1200), usage("beta", "web", "/responses", 300)},
		usage("beta", "web", "/responses", 20))
	f.mu.Lock()
	defer f.mu.Unlock()
	resets := f.snapsOf(ReasonReset)
	if len(resets) != 1 {
		t.Fatalf("%d reset re-reads, want 1 (snapshots: %v)", len(resets), reasons(f.snaps))
	}
	// the delta is what the flush lost (1,200 + 300), compared at the id the
	// counters were read at: the 20 written after it are no loss
	if r := resets[0]; r.UsedDelta != -1500 || !strings.Contains(r.Note(), "reset / data lost") {
		t.Errorf("reset: delta %d note %q, want −1,500 and data lost", r.UsedDelta, r.Note())
	}
	if s, _ := f.ledger.Summary("beta"); s.Used != 20 {
		t.Errorf("beta shows %d after the flush, want 20", s.Used)
	}
}

// TestFlushThenMoreWritesIsAReset: FLUSHDB while mavtop follows, then a
// producer writes more than the workspace had: its credits used rose, so only
// its lost 402 says the counters went back, and the new stream is newer than
// the resume point as after a trim. The stream's entries-added, lower than
// the session saw, names it a reset: the lost 402 leaves the 402 log (it was
// kept, and the workspace shown OUT, by a re-read called a trim).
func TestFlushThenMoreWritesIsAReset(t *testing.T) {
	f := followAFlush(t, []model.Event{usage("alpha", "web", "/responses", 100), refused("alpha", "web", "/mave/chat", "credits_exhausted")},
		usage("alpha", "web", "/responses", 150))
	f.mu.Lock()
	defer f.mu.Unlock()
	if resets := f.snapsOf(ReasonReset); len(resets) != 1 || !resets[0].Rewound {
		t.Fatalf("%d reset re-reads, want 1 that went back in time (snapshots: %v)", len(resets), reasons(f.snaps))
	}
	s, _ := f.ledger.Summary("alpha")
	if lost := f.ledger.Refusals(nil, 10); s.Used != 150 || s.Refused.Total() != 0 || len(lost) != 0 {
		t.Errorf("alpha shows %d used, %d 402s and %d in the 402 log after the flush, want 150, 0, 0", s.Used, s.Refused.Total(), len(lost))
	}
}

// TestAuditTakesTheCountersOverTheStream: when the counters and the stream
// disagree, the counters are the truth. A repeated field in one entry, a
// counter written without its entry, a settings entry written without its hash
// write and a settings hash write without its entry all end as HGETALL says.
func TestAuditTakesTheCountersOverTheStream(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	store := NewSettingsStore(c, StoreOptions{})
	if err := store.SetWorkspace(ctx, "beta", model.Settings{Allocation: 5000}); err != nil {
		t.Fatal(err)
	}
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 300 * time.Millisecond, Now: time.Now})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })

	// One MULTI: the counters say 5, the entry says "credits 5 … credits 500".
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, keys.Used(period), "alpha", 5)
		p.HIncrBy(ctx, keys.UsedBy(period), model.UsedByField("alpha", "web", "/responses"), 5)
		p.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), Values: []any{
			"v", "1", "ts", ts, "ws", "alpha", "project", "web", "endpoint", "/responses",
			"credits", "5", "status", "200", "credits", "500"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A settings entry whose hash write never happened: the hash says 5,000.
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), Values: []any{
		"v", "1", "ts", ts, "ws", "beta", "kind", "settings", "msg", `{"allocation":1000}`}}).Err(); err != nil {
		t.Fatal(err)
	}
	f.caughtUp(c, 10*time.Second)
	if s, _ := f.ledgerSummary("beta"); s.Settings.Allocation != 5000 {
		t.Errorf("a settings entry without its hash write set the allocation to %d; the hash says 5,000", s.Settings.Allocation)
	}
	// A counter and a setting written without any entry.
	if err := c.HIncrBy(ctx, keys.Used(period), "gamma", 40).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, keys.Settings(), "gamma", `{"allocation":700}`).Err(); err != nil {
		t.Fatal(err)
	}
	f.convergedTo(c, "after the disagreeing writes", 30*time.Second)
	f.waitFor("gamma's allocation from the hash", 30*time.Second, func(f *follower) bool {
		s, _ := f.ledger.Summary("gamma")
		return s.Settings.Allocation == 700
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, _ := f.ledger.Summary("alpha"); s.Used != 5 {
		t.Errorf("alpha shows %d, the counters say 5", s.Used)
	}
	var delta int64
	for _, s := range f.snapsOf(ReasonDrift) {
		delta += s.UsedDelta
	}
	// The stream said 500 where the counters say 5 (−495), and 40 credits came
	// without an entry (+40), whichever audits found them.
	if delta != -495+40 {
		t.Errorf("drift re-reads changed used by %d, want %d (snapshots: %v)", delta, -495+40, reasons(f.snaps))
	}
}

// TestAuditDoesNotReReadWhenAllAgrees: an audit that finds nothing different
// changes nothing (no new generation), however many run.
func TestAuditDoesNotReReadWhenAllAgrees(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	pub := NewPublisher(c, PublisherOptions{})
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 50 * time.Millisecond, StatsEvery: 50 * time.Millisecond})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	for i := range 300 {
		trackAll(t, pub, mixedEvent(i))
	}
	f.caughtUp(c, 10*time.Second)
	f.waitFor("five audits", 30*time.Second, func(f *follower) bool {
		return len(f.stats) > 0 && f.stats[len(f.stats)-1].Audits >= 5
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.snaps) != 1 {
		t.Errorf("%d snapshots, want only the start: audits re-read though nothing differed (%v)", len(f.snaps), reasons(f.snaps))
	}
}

func reasons(snaps []SnapshotMsg) []string {
	var out []string
	for _, s := range snaps {
		out = append(out, string(s.Reason)+" "+strconv.FormatInt(s.UsedDelta, 10))
	}
	return out
}

func (f *follower) ledgerSummary(ws string) (model.Summary, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ledger.Summary(ws)
}

// lastStats returns the newest stats (nil before any); call with f.mu held.
func (f *follower) lastStats() *StatsMsg {
	if len(f.stats) == 0 {
		return nil
	}
	return &f.stats[len(f.stats)-1]
}

// TestAQuietStreamIsIdleFromTheStart: a dashboard started on a stream whose
// newest entry is a minute old says so at once (idle 1 min); it said "lag <1 ms"
// until a producer wrote again, since only entries read while following set
// how long the stream had been quiet.
func TestAQuietStreamIsIdleFromTheStart(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	old := time.Now().Add(-time.Minute).UnixMilli()
	if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: Keys{}.Stream(), ID: strconv.FormatInt(old, 10) + "-0", Values: []any{
		"v", "1", "ts", strconv.FormatInt(old, 10), "ws", "alpha", "endpoint", "/responses", "credits", "3", "status", "200"}}).Err(); err != nil {
		t.Fatal(err)
	}
	f := startFollower(t, c, SubscriberOptions{StatsEvery: 50 * time.Millisecond})
	f.waitFor("the first stats", 10*time.Second, func(f *follower) bool { return f.lastStats() != nil })
	if st := f.lastStats(); st.Idle < time.Minute || st.Idle > 10*time.Minute {
		t.Fatalf("a stream quiet for a minute: idle %v, want 1 min or a little more", st.Idle)
	}
}

// TestNoStreamIsNotIdleSinceTheEpoch: a dashboard started where the stream
// does not exist (an empty db, a mistyped --key-prefix) read its id "0-0" as
// an entry written at the Unix epoch, and the header said "idle 20788 days".
// No entry read is no idle and no last entry.
func TestNoStreamIsNotIdleSinceTheEpoch(t *testing.T) {
	srv := feedtest.Start(t)
	f := startFollower(t, srv.Client(), SubscriberOptions{StatsEvery: 50 * time.Millisecond})
	f.waitFor("two stats", 10*time.Second, func(f *follower) bool { return len(f.stats) >= 2 })
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.lastStats(); st.Idle != 0 || !st.LastEntryAt.IsZero() {
		t.Fatalf("no stream: idle %v, last entry at %v; want none", st.Idle, st.LastEntryAt)
	}
}

// TestStatsNameTheStreamRead: the stats say which stream key the subscriber
// reads, so the dashboard's header can say where it found no events (a
// mistyped --key-prefix read "no events" and named nothing).
func TestStatsNameTheStreamRead(t *testing.T) {
	srv := feedtest.Start(t)
	f := startFollower(t, srv.Client(), SubscriberOptions{Prefix: "{maverra}", StatsEvery: 50 * time.Millisecond})
	f.waitFor("two stats", 10*time.Second, func(f *follower) bool { return len(f.stats) >= 2 })
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.lastStats(); st.Stream != "{maverra}:usage" || st.Events != 0 {
		t.Fatalf("stats name the stream %q (events %d), want {maverra}:usage", st.Stream, st.Events)
	}
}

// TestLagCannotLie: an entry id an hour in the future is reported as ahead of
// the clock (it used to pin the lag at "<1 ms" for good), a quiet stream shows
// as idle, and while Redis is down the lag is unknown and grows.
func TestLagCannotLie(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	f := startFollower(t, c, SubscriberOptions{StatsEvery: 50 * time.Millisecond})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	future := time.Now().Add(time.Hour).UnixMilli()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: Keys{}.Stream(), ID: strconv.FormatInt(future, 10) + "-0", Values: []any{
		"v", "1", "ts", strconv.FormatInt(time.Now().UnixMilli(), 10), "ws", "alpha", "endpoint", "/responses", "credits", "3", "status", "200"}}).Err(); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the future id reported", 10*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.FutureIDs >= 1 && st.Ahead > 50*time.Minute && st.Lag == 0 && st.LagKnown
	})
	f.waitFor("the quiet stream shown idle", 10*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.Idle >= 200*time.Millisecond
	})
	if !srv.Real {
		return // the embedded server's restart keeps clients connected
	}
	// the data with the future id is flushed and a producer writes anew: the
	// re-read's stream id is the newest, so nothing is ahead any more (the
	// header said "ids 49 min ahead of clock" until the next event was read)
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := NewPublisher(c, PublisherOptions{}).Track(ctx, model.Event{Workspace: "alpha", Endpoint: "/responses", Credits: 5, Status: 200}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the reset re-read and nothing ahead", 20*time.Second, func(f *follower) bool {
		st := f.lastStats()
		s, _ := f.ledger.Summary("alpha")
		return st != nil && s.Used == 5 && st.Ahead == 0 && st.LagKnown
	})
	srv.Kill()
	f.waitFor("the lag unknown and growing while Redis is down", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && !st.LagKnown && st.Lag >= 200*time.Millisecond
	})
	srv.Restart()
}

// TestAuditHealsABusyWorkspaceEditedBehindTheStream: a producer charges W
// every 50 ms, so W's counters move during every piecewise full read (made
// sure of: each read waits between hashes for W's next entry), while its
// per-project credits and its 402s are raised behind the stream's back
// (HINCRBY of used_by and refused, which neither the digest nor its slices
// read), then its credits used (which the slices read too). The dashboard's
// ledger comes to equal HGETALL on the full read's cadence; before, the full
// read left W out on every audit and the first two edits were never healed.
func TestAuditHealsABusyWorkspaceEditedBehindTheStream(t *testing.T) {
	srv := feedtest.StartReal(t, "a busy workspace edited behind the stream needs redis-server (CI requires it)")
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	pub := NewPublisher(c, PublisherOptions{})
	trackAll(t, pub, usage("W", "web", "/responses", 5), usage("quiet", "web", "/responses", 5))
	newest := func() string {
		m, err := c.XRevRangeN(ctx, keys.Stream(), "+", "-", 1).Result()
		if err != nil || len(m) == 0 {
			return ""
		}
		return m[0].ID
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = pub.Track(ctx, usage("W", "web", "/responses", 3))
			}
		}
	}()
	defer func() { close(stop); <-done }()
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 100 * time.Millisecond, StatsEvery: 50 * time.Millisecond, fullEvery: 2,
		scanBetween: func() {
			// W moves while the scan runs, as at 100k workspaces a scan of
			// a second sees a workspace charged every 50 ms move
			from := newest()
			for deadline := time.Now().Add(5 * time.Second); newest() == from && time.Now().Before(deadline); {
				time.Sleep(2 * time.Millisecond)
			}
		}})
	f.waitFor("audits by the digest", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.AuditByDigest && st.DigestAudits >= 2
	})
	p := model.MonthlyUTC.At(time.Now()).Key
	audits := func() int64 {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.lastStats().Audits
	}
	before := audits()
	if err := c.HIncrBy(ctx, keys.UsedBy(p), model.UsedByField("W", "web", "/responses"), 1000).Err(); err != nil {
		t.Fatal(err)
	}
	f.convergedTo(c, "after W's used_by was raised behind the stream", 30*time.Second)
	// within the full read's cadence: the next full read finds it (one in
	// fullEvery audits), the stats a cadence or two behind at most
	if n := audits() - before; n > 2*2+2 {
		t.Errorf("healed %d audits after the edit, want within the full read's cadence (every 2nd audit)", n)
	}
	if err := c.HIncrBy(ctx, keys.Refused(p), model.RefusedField("W", "web", model.CodeCreditsExhausted), 2).Err(); err != nil {
		t.Fatal(err)
	}
	f.convergedTo(c, "after W's 402s were raised behind the stream", 30*time.Second)
	if err := c.HIncrBy(ctx, keys.Used(p), "W", 1000).Err(); err != nil {
		t.Fatal(err)
	}
	f.convergedTo(c, "after W's used was raised behind the stream", 30*time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.snapsOf(ReasonDrift)); n < 3 {
		t.Errorf("%d drift re-reads, want one for each edit (snapshots: %v)", n, reasons(f.snaps))
	}
	if got := f.ledger.Totals().UsedBy[model.UsedByField("W", "web", "/responses")]; got < 1005 {
		t.Errorf("W's web/responses shows %d, want at least 1,005 (the edit healed)", got)
	}
}
