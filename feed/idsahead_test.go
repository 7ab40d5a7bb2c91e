package feed

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// xaddAhead writes, as `redis-cli XADD {mavera}:usage <id> …` does, a
// settings entry of workspace zzz with the explicit id idMs-0: from it on,
// Redis gives every "*" entry an id in that millisecond (seq+1) until its
// clock passes it.
func xaddAhead(t *testing.T, c redis.UniversalClient, idMs int64) {
	t.Helper()
	if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: Keys{}.Stream(), ID: strconv.FormatInt(idMs, 10) + "-0", Values: []any{
		"v", "1", "ts", strconv.FormatInt(time.Now().UnixMilli(), 10), "ws", "zzz", "kind", "settings", "msg", "{}"}}).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestAWatchingLedgerIsIdleWhileIdsAreAhead (issue 11, hostile11 on a real
// redis-server): one entry XADDed with an id 20 minutes ahead of Redis's
// clock, then a producer charging 20 credits every 2 s (the follow's clock)
// that stops. Every one of its entries gets an id 20 minutes ahead. Three
// minutes after the last charge the watching ledger says idle (README
// "Idle"), no run-out, and the row's age is that of the last charge; the
// follow says the ids are ahead (StatsMsg.Ahead). Before, the ids dated the
// charges 20 minutes ahead: `out in 29 h · 3.4k/h · age now`, run_out
// firing, until the clock passed the ids.
func TestAWatchingLedgerIsIdleWhileIdsAreAhead(t *testing.T) {
	rdb := feedtest.Start(t).Client()
	ctx := context.Background()
	midPeriod(t, rdb)
	allocate(t, rdb, map[string]int64{"w1": 100000})
	clock := newClock(time.Now())
	f := startFollower(t, rdb, SubscriberOptions{Now: clock.Now})
	f.waitFor("the snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	xaddAhead(t, rdb, time.Now().Add(20*time.Minute).UnixMilli())
	pub := NewPublisher(rdb, PublisherOptions{})
	for i := range 60 {
		clock.Add(2 * time.Second)
		e := usage("w1", "", "/responses", 20)
		e.TS = clock.Now().UnixMilli()
		if err := pub.Track(ctx, e); err != nil {
			t.Fatal(err)
		}
		// read before the clock moves on: the follow reads each as written
		f.waitFor(fmt.Sprintf("charge %d", i+1), 10*time.Second, func(f *follower) bool {
			s, _ := f.ledger.Summary("w1")
			return s.Used == int64(20*(i+1))
		})
	}
	last := clock.Now()
	if ids, err := rdb.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result(); err != nil || len(ids) != 1 || !idTime(ids[0].ID).After(last.Add(10*time.Minute)) {
		t.Fatalf("the newest id %v (%v) is not ahead of the clock %v: the scenario did not happen", ids, err, last)
	}
	clock.Add(3 * time.Minute)
	f.mu.Lock()
	defer f.mu.Unlock()
	_, fc, ok := f.ledger.VerdictForecast("w1", clock.Now())
	s, _ := f.ledger.Summary("w1")
	if !ok || !fc.Idle || fc.RunsOut {
		t.Errorf("3 min after the last of 60 charges 2 s apart, ids 20 min ahead: idle %v, runs out %v in %v at %.0f/h; want idle", fc.Idle, fc.RunsOut, fc.RunsOutIn, fc.BurnPerHour)
	}
	if s.LastTS != last.UnixMilli() {
		t.Errorf("the row's newest event at %v, want the last charge's %v (age 3 min, not %v)", time.UnixMilli(s.LastTS).UTC(), last.UTC(), clock.Now().Sub(time.UnixMilli(s.LastTS)))
	}
	ahead := false
	for _, st := range f.stats {
		ahead = ahead || st.Ahead > 0
	}
	if !ahead {
		t.Errorf("no StatsMsg said the ids are ahead of the clock (%d stats)", len(f.stats))
	}
}

// TestAStartAfterAnIdIn2100DatesAsAControl (issue 11): old charged three
// times half an hour ago, then an entry XADDed with an id in 2100, then a
// producer's normal emits (Redis ids 2100-1, 2100-2, …): spender charged 25
// credits a second for 10 s up to 2 s ago, beta once 40 s ago. A dashboard started now reads back the same burn, run-out and
// ages as one started on a control server holding the same events under ids
// on time, and check's newest entries (ReadNewest, its LAST EVENT) date each
// workspace as the row does. Before, the start read spender as `burn 0/h ·
// lasts period` (every event dated 2100: outside the window) and the ages
// `now` until 2100, and the hour read back began an hour before 2100: none
// of old's charges.
func TestAStartAfterAnIdIn2100DatesAsAControl(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	type charge struct {
		ws      string
		ago     time.Duration
		credits int64
	}
	// old charged 30 minutes ago, before the entry in 2100: its ids are on
	// time, and the hour read back must reach them (it began an hour before
	// the newest id, in 2100, and read none of them)
	before := []charge{{"old", 30 * time.Minute, 5}, {"old", 29 * time.Minute, 5}, {"old", 28 * time.Minute, 5}}
	charges := append(before, charge{"beta", 40 * time.Second, 5})
	for i := range 10 {
		charges = append(charges, charge{"spender", 2*time.Second + time.Duration(9-i)*time.Second, 25})
	}
	type started struct {
		l      *model.Ledger
		newest Newest
	}
	start := func(ahead bool) started {
		rdb := feedtest.Start(t).Client()
		ids, opt := backdated(now.Add(-time.Hour))
		midPeriodBy(t, rdb, opt)
		allocateBy(t, rdb, opt, map[string]int64{"spender": 3000, "beta": 3000, "old": 3000})
		pub := NewPublisher(rdb, PublisherOptions{IDs: ids}) // ids on time, from ts
		for i, c := range charges {
			if ahead && i == len(before) {
				xaddAhead(t, rdb, 4102444800000)
				pub = NewPublisher(rdb, PublisherOptions{}) // Redis's "*": 2100-1, 2100-2, …
			}
			e := usage(c.ws, "", "/responses", c.credits)
			e.TS = now.Add(-c.ago).UnixMilli()
			if err := pub.Track(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		var s LedgerState
		clock := func() time.Time { return now }
		runState(t, rdb, SubscriberOptions{Now: clock, Block: 100 * time.Millisecond}, &mu, &s, nil)
		waitUntilFeed(t, "the start and its hour read back", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return s.Ledger != nil && !s.Ledger.HistoryPending() && !s.Ledger.UsedByPending()
		})
		newest, err := ReadNewest(ctx, rdb, Keys{}, now, now, 1000, 1000)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return started{s.Ledger.Clone(), newest}
	}
	control, ahead := start(false), start(true)
	if f := control.l.Forecast("spender", now); f.Idle || !f.RunsOut || f.BurnPerHour == 0 {
		t.Fatalf("the control's spender: idle %v, %.0f/h, runs out %v; want a run-out", f.Idle, f.BurnPerHour, f.RunsOut)
	}
	for _, ws := range []string{"spender", "beta", "old"} {
		want, got := control.l.Forecast(ws, now), ahead.l.Forecast(ws, now)
		if got.Idle != want.Idle || got.BurnPerHour != want.BurnPerHour || got.RunsOut != want.RunsOut || got.RunsOutIn != want.RunsOutIn || !got.LastCharge.Equal(want.LastCharge) {
			t.Errorf("%s after an id in 2100: idle %v, %.0f/h, runs out %v in %v, last charge %v; the control's: idle %v, %.0f/h, %v in %v, %v",
				ws, got.Idle, got.BurnPerHour, got.RunsOut, got.RunsOutIn, got.LastCharge, want.Idle, want.BurnPerHour, want.RunsOut, want.RunsOutIn, want.LastCharge)
		}
		g, _ := ahead.l.Summary(ws)
		w, _ := control.l.Summary(ws)
		if g.LastTS != w.LastTS {
			t.Errorf("%s after an id in 2100: newest event at %v, the control's at %v (the row's age)", ws, time.UnixMilli(g.LastTS).UTC(), time.UnixMilli(w.LastTS).UTC())
		}
		if at := ahead.newest.At[ws]; at != g.LastTS {
			t.Errorf("%s after an id in 2100: check's newest entries date it %v, the row %v", ws, time.UnixMilli(at).UTC(), time.UnixMilli(g.LastTS).UTC())
		}
	}
}
