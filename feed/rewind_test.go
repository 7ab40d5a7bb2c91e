package feed

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// instance is a mavtop following Redis the way the dashboard does: a
// Subscriber into a Hub (whose ledger every viewer copies), recording the
// snapshots and which generations' history has been read back.
type instance struct {
	t     *testing.T
	hub   *Hub
	mu    sync.Mutex
	snaps []SnapshotMsg
	// fresh is the generation whose history the ledger waits for (the start,
	// or the last re-read that started a fresh ledger: SnapshotMsg.Fresh);
	// read the generations whose history is all folded.
	fresh uint64
	read  map[uint64]bool
	// now is the instance's clock (SubscriberOptions.Now, time.Now when unset)
	now func() time.Time
}

func startInstance(t *testing.T, srv *feedtest.Server, opt SubscriberOptions) *instance {
	t.Helper()
	in := &instance{t: t, hub: NewHub(), read: map[uint64]bool{}, now: opt.Now}
	if in.now == nil {
		in.now = time.Now
	}
	if opt.Block == 0 {
		opt.Block = 200 * time.Millisecond
	}
	if opt.Backoff == nil {
		opt.Backoff = &Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
	}
	sub := NewSubscriber(srv.Client(), opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sub.Run(ctx, func(m Msg) {
			// Recorded under the lock the hub applies it in: a test that
			// sees the screen change, then takes the lock, finds the
			// snapshot that changed it (TestATrimmedStreamShowsWhatAFreshStartShows
			// failed when the hub had applied the trim re-read and the
			// test read the snapshots before it was recorded).
			in.mu.Lock()
			defer in.mu.Unlock()
			in.hub.Handle(m)
			switch m := m.(type) {
			case *SnapshotMsg:
				in.snaps = append(in.snaps, *m)
				if m.Reason == ReasonStart || m.Fresh() {
					in.fresh = m.Gen
				}
			case *HistoryMsg:
				if m.Done {
					in.read[m.Gen] = true
				}
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return in
}

// settled waits until the instance shows what Redis holds: its counters equal
// HGETALL, it has applied the stream's newest entry, and the history its
// ledger was started with is read back.
func (in *instance) settled(srv *feedtest.Server, what string) {
	in.t.Helper()
	c := srv.Client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var tail string
		if msgs, err := c.XRevRangeN(context.Background(), Keys{}.Stream(), "+", "-", 1).Result(); err == nil && len(msgs) > 0 {
			tail = msgs[0].ID
		}
		var got counters
		ok := true
		in.hub.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
			if l == nil || l.UsedByPending() {
				ok = false
				return
			}
			got = countersOf(l.Totals())
		})
		ok = ok && (tail == "" || in.hub.Applied(tail))
		in.mu.Lock()
		ok = ok && in.fresh != 0 && in.read[in.fresh]
		in.mu.Unlock()
		want := redisCounters(in.t, c, in.now())
		if ok && got.equal(want) {
			return
		}
		if time.Now().After(deadline) {
			in.mu.Lock()
			defer in.mu.Unlock()
			in.t.Fatalf("%s: not settled within 30 s (snapshots %v, history of gen %d read: %v):\nshown\n%v\nredis\n%v",
				what, reasons(in.snaps), in.fresh, in.read[in.fresh], got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// row is what the screen shows of one workspace, everything derived from
// events included.
type row struct {
	Used, Remaining int64
	Level           model.Level
	LastTS          int64
	Out             bool
	Burn            float64
	Idle            bool
	RunsOut         bool
	RunsOutIn       time.Duration
}

// screen is every workspace's row, the all-workspace burn and the 402 log.
type screen struct {
	Rows     map[string]row
	AllBurn  float64
	Refusals []string
}

func (in *instance) screen(now time.Time) screen {
	var s screen
	in.hub.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
		s.Rows = map[string]row{}
		for _, sum := range l.Summaries(nil) {
			f := l.Forecast(sum.Name, now)
			s.Rows[sum.Name] = row{
				Used: sum.Used, Remaining: sum.Remaining, Level: sum.Level, LastTS: sum.LastTS,
				Out: sum.Level == model.LevelExhausted, Burn: f.BurnPerHour, Idle: f.Idle,
				RunsOut: f.RunsOut, RunsOutIn: f.RunsOutIn,
			}
		}
		s.AllBurn = l.Burn("", model.BurnWindow, now)
		for _, r := range l.Refusals(nil, model.DefaultRefusalLog) {
			s.Refusals = append(s.Refusals, r.Event.Workspace+"/"+r.Event.Req)
		}
	})
	return s
}

func (s screen) String() string {
	var b strings.Builder
	names := make([]string, 0, len(s.Rows))
	for n := range s.Rows {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %s: %+v\n", n, s.Rows[n])
	}
	fmt.Fprintf(&b, "  all burn %.1f/h, 402 log %v\n", s.AllBurn, s.Refusals)
	return b.String()
}

// TestARewoundRedisShowsWhatAFreshStartShows is the convergence invariant for
// the derived state: after Redis goes back in time (restarted onto an older
// copy of its data, or flushed) and producers write on, the instance that
// watched all along heals and then shows, per workspace, the same used,
// remaining, level, age of the newest event, burn, forecast and OUT as a
// mavtop started afresh on the same Redis — none of it still made of the
// events Redis lost (measured before: acme aged 17 s where check said 7 min,
// a burn of thousands an hour from 2,927 lost credits).
func TestARewoundRedisShowsWhatAFreshStartShows(t *testing.T) {
	// "older snapshot, quiet": nobody writes after the restart, so the stream
	// ends before what mavtop read (a reset found by the id, not the counters).
	for _, how := range []string{"older snapshot", "older snapshot, quiet", "flushall"} {
		older := strings.HasPrefix(how, "older snapshot")
		t.Run(how, func(t *testing.T) {
			srv := feedtest.Start(t)
			if !srv.Real && older {
				t.Skip("restarting onto older data needs redis-server (CI requires it)")
			}
			c := srv.Client()
			ctx := context.Background()
			// the events of the last ten minutes inside one period at any hour
			// (in a month's first ten minutes some were the previous period's)
			base := time.Now()
			ids, early := backdated(base.Add(-15 * time.Minute))
			midPeriodBy(t, c, early)
			at := func(ago time.Duration) int64 { return base.Add(-ago).UnixMilli() }
			track := func(pub *Publisher, evs ...model.Event) {
				t.Helper()
				if err := pub.TrackBatch(ctx, inTimeOrder(evs)); err != nil {
					t.Fatal(err)
				}
			}
			allocateBy(t, c, early, map[string]int64{"acme": 10_000, "beta": 1_000, "gamma": 1_000})
			pub := NewPublisher(c, PublisherOptions{IDs: ids})
			// What the older copy keeps: acme spent 7 minutes ago, gamma was
			// refused for want of credits, beta spends steadily.
			track(pub,
				model.Event{TS: at(9 * time.Minute), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 40, Status: 200},
				model.Event{TS: at(7 * time.Minute), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 40, Status: 200},
				model.Event{TS: at(10 * time.Minute), Workspace: "gamma", Project: "web", Endpoint: "/responses", Credits: 30, Status: 200},
				model.Event{TS: at(8 * time.Minute), Workspace: "gamma", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "gamma-402"},
				model.Event{TS: at(6 * time.Minute), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 50, Status: 200},
				model.Event{TS: at(5 * time.Minute), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 50, Status: 200},
			)
			var copied string
			if older {
				copied = srv.CopyData()
			}
			long := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second, Backoff: &Backoff{Min: time.Second, Max: time.Second}})
			long.settled(srv, "the long-running instance at the start")
			// What Redis acknowledges, the instance shows, and the rewind loses:
			// 2,927 credits of acme 17 s ago, a recharge that ended gamma's OUT,
			// a 402 that made beta OUT, a workspace seen only then.
			track(pub,
				model.Event{TS: at(19 * time.Second), Workspace: "acme", Project: "batch", Endpoint: "/focus-groups", Credits: 975, Status: 200},
				model.Event{TS: at(18 * time.Second), Workspace: "acme", Project: "batch", Endpoint: "/focus-groups", Credits: 976, Status: 200},
				model.Event{TS: at(17 * time.Second), Workspace: "acme", Project: "batch", Endpoint: "/focus-groups", Credits: 976, Status: 200},
				model.Event{TS: at(60 * time.Second), Workspace: "gamma", Kind: model.KindRecharge, Credits: 500},
				model.Event{TS: at(30 * time.Second), Workspace: "beta", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "beta-402"},
				model.Event{TS: at(20 * time.Second), Workspace: "delta", Project: "web", Endpoint: "/responses", Credits: 300, Status: 200},
			)
			long.settled(srv, "the long-running instance before the rewind")
			before := long.screen(time.Now())
			if r := before.Rows["acme"]; r.Used != 80+2927 || r.LastTS != at(17*time.Second) || !before.Rows["beta"].Out || before.Rows["gamma"].Out {
				t.Fatalf("before the rewind the instance does not show the events about to be lost:\n%v", before)
			}

			pub2 := NewPublisher(c, PublisherOptions{IDs: ids}) // the old one's lanes went back in time too
			after := []model.Event{
				{TS: at(4 * time.Second), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 50, Status: 200},
				{TS: at(3 * time.Second), Workspace: "epsilon", Project: "web", Endpoint: "/responses", Credits: 20, Status: 200},
			}
			switch how {
			case "older snapshot":
				srv.RestartFrom(copied)
				track(pub2, after...) // before mavtop is back (its retry waits 1 s)
			case "older snapshot, quiet":
				srv.RestartFrom(copied)
			case "flushall":
				if err := flushAll(ctx, c); err != nil {
					t.Fatal(err)
				}
				midPeriodBy(t, c, StoreOptions{IDs: ids}) // the flush took the period rule too: the same again
				// More written after the flush than it lost: the credits shown
				// overall went up, acme's went down.
				after = append(after, model.Event{TS: at(2 * time.Second), Workspace: "zeta", Project: "web", Endpoint: "/responses", Credits: 9_000, Status: 200})
				track(pub2, after...)
			}
			long.settled(srv, "the long-running instance after the rewind")

			fresh := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
			fresh.settled(srv, "a fresh instance")
			now := time.Now()
			got, want := long.screen(now), fresh.screen(now)
			if got.String() != want.String() {
				t.Fatalf("after the rewind the instance that watched all along shows\n%vwhere a fresh start shows\n%v", got, want)
			}
			// The numbers themselves, not only their agreement.
			switch {
			case older:
				if r := got.Rows["acme"]; r.Used != 80 || r.LastTS != at(7*time.Minute) || r.Burn > 400 {
					t.Errorf("acme after the restore: %+v, want 80 used, newest event 7 min ago, a burn of 80 credits over 15 min", r)
				}
				if !got.Rows["gamma"].Out || got.Rows["beta"].Out {
					t.Errorf("OUT after the restore: gamma %v beta %v, want gamma OUT (its recharge was lost), beta not (its 402 was lost)",
						got.Rows["gamma"].Out, got.Rows["beta"].Out)
				}
				if slices.Contains(got.Refusals, "beta/beta-402") {
					t.Errorf("the 402 log still holds the lost 402: %v", got.Refusals)
				}
			default:
				if _, ok := got.Rows["acme"]; ok {
					t.Errorf("acme still shown after the flush: %+v", got.Rows["acme"])
				}
				if len(got.Refusals) != 0 || got.Rows["beta"].Used != 50 {
					t.Errorf("after the flush: 402 log %v, beta %+v; want no 402s and 50 used", got.Refusals, got.Rows["beta"])
				}
			}
			long.mu.Lock()
			defer long.mu.Unlock()
			var rewound []Reason
			for _, s := range long.snaps {
				if s.Rewound {
					rewound = append(rewound, s.Reason)
				}
			}
			if len(rewound) != 1 {
				t.Errorf("re-reads that went back in time: %v (snapshots %v), want one", rewound, reasons(long.snaps))
			}
		})
	}
}

// After a re-read that went back in time the viewers start a fresh ledger and
// the hour is read back for it: until its last page the ledger judges nothing
// that depends on history (burn, idle, run-out), as after a start.
func TestARewoundLedgerWaitsForItsHistory(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	if err := pub.TrackBatch(ctx, []model.Event{{TS: time.Now().UnixMilli(), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 40, Status: 200}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var st LedgerState
	pending := map[uint64]bool{} // rewound generation → its ledger waited for the history
	runState(t, c, SubscriberOptions{AuditEvery: 100 * time.Millisecond, Block: 100 * time.Millisecond}, &mu, &st, func(m Msg) {
		if sm, ok := m.(*SnapshotMsg); ok && sm.Rewound {
			pending[sm.Gen] = sm.Snap.HistoryLater
		}
	})
	waitUntilFeed(t, "the start's history", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return st.Ledger != nil && !st.Ledger.HistoryPending() && !st.Ledger.UsedByPending()
	})
	if err := flushAll(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := NewPublisher(c, PublisherOptions{}).TrackBatch(ctx, []model.Event{{TS: time.Now().UnixMilli(), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 5, Status: 200}}); err != nil {
		t.Fatal(err)
	}
	waitUntilFeed(t, "the rewound generation's history", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(pending) > 0 && st.Ledger != nil && !st.Ledger.HistoryPending()
	})
	mu.Lock()
	defer mu.Unlock()
	for gen, later := range pending {
		if !later {
			t.Errorf("generation %d went back in time and its ledger judged history before the hour was read back", gen)
		}
	}
}

// TestAPeriodConfigChangeShowsWhatAFreshStartShows: a change of the billing
// period config (here a zone with the same periods as UTC) gives every viewer
// a ledger under the new rule; it must be read back from the hour before, as
// a start reads it. Measured before: after `budget period --tz Europe/London`
// every running dashboard showed a workspace refused for want of credits as
// "▲ warn" (check: exhausted), every age as "—" and every burn as 0/h, where
// a dashboard started then showed ✖ OUT, the ages and the burn.
func TestAPeriodConfigChangeShowsWhatAFreshStartShows(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	// Periods that put now mid-period, so the events of the last ten minutes
	// are in this one at any hour (from 00:00 to 00:10 on the 1st, under
	// calendar months, gamma's were the previous period's and it was no OUT)
	base := time.Now()
	ids, early := backdated(base.Add(-15 * time.Minute))
	mid := midPeriodBy(t, c, early)
	at := func(ago time.Duration) int64 { return base.Add(-ago).UnixMilli() }
	store := allocateBy(t, c, StoreOptions{IDs: ids}, nil)
	allocateBy(t, c, early, map[string]int64{"acme": 10_000, "gamma": 1_000})
	if err := NewPublisher(c, PublisherOptions{IDs: ids}).TrackBatch(ctx, []model.Event{
		{TS: at(10 * time.Minute), Workspace: "gamma", Endpoint: "/responses", Credits: 30, Status: 200},
		{TS: at(8 * time.Minute), Workspace: "gamma", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "gamma-402"},
		{TS: at(7 * time.Minute), Workspace: "acme", Endpoint: "/responses", Credits: 400, Status: 200},
		{TS: at(5 * time.Minute), Workspace: "acme", Endpoint: "/responses", Credits: 400, Status: 200},
	}); err != nil {
		t.Fatal(err)
	}
	long := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
	long.settled(srv, "the long-running instance at the start")
	// Africa/Abidjan is UTC+0 all year: the same periods, another rule.
	if err := store.SetPeriod(ctx, model.PeriodConfig{StartDay: mid.StartDay, TZ: "Africa/Abidjan"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		long.mu.Lock()
		n := len(long.snaps)
		changed := n > 0 && long.snaps[n-1].Rule.Location.String() == "Africa/Abidjan"
		long.mu.Unlock()
		if changed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the period config change was not read within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	long.settled(srv, "the long-running instance after the period config change")
	fresh := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
	fresh.settled(srv, "a fresh instance")
	now := time.Now()
	got, want := long.screen(now), fresh.screen(now)
	if got.String() != want.String() {
		t.Fatalf("after the period config change the instance that watched all along shows\n%vwhere a fresh start shows\n%v", got, want)
	}
	if r := got.Rows["gamma"]; !r.Out || r.LastTS != at(8*time.Minute) {
		t.Errorf("gamma: %+v, want OUT (a credits_exhausted 402 and no credit added), newest event 8 min ago", r)
	}
	if r := got.Rows["acme"]; r.LastTS != at(5*time.Minute) || r.Burn < 3000 {
		t.Errorf("acme: %+v, want its newest event 5 min ago and a burn of 800 credits over 15 min", r)
	}
}
