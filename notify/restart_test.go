package notify

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// fixedClock is a clock the test moves: producers stamp events with it and
// every instance judges by it, so minutes of burn take no minutes.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// judged is what an instance's hub judges of a workspace at now: its forecast,
// and whether it still reads the hour back.
func (in *instance) judged(ws string, now time.Time) (f model.Forecast, pending, ok bool) {
	in.hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		if l != nil {
			f, pending, ok = l.Forecast(ws, now), l.HistoryPending(), true
		}
	})
	return f, pending, ok
}

// A watcher killed and restarted mid-burn judges run-out and idle as one that
// watched all along: the same burn, the same idle limit, the same run-out,
// and no run_out resolution reaches the receiver while the one that watched
// still forecasts a run-out. The burn slows down (charges every 10 s, then
// every minute): the hour folded newest first weighed its busy past most,
// and the restarted one went idle a minute after the last charge while the
// other waited almost three ("burn of 0 credits/h" against "out in 25 min").
// Idle resolves it, when both call it idle and not before; a burn that runs
// out again fires its second episode, once.
func TestARestartedWatcherJudgesRunOutLikeOneThatWatched(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	now := time.Now()
	// The clock runs from 40 min before now to about 25 min after it: the
	// rule puts all of it mid-period, with days left to run out in. Under the
	// default rule the test failed in a month's last 20 minutes (the period
	// ended before the workspace could run out) and moved t0 in its first.
	t0 := now.Add(-40 * time.Minute).Truncate(time.Second) // whole ms, as event times are
	// every entry's id by the test's clock (feed.ClockIDs), as a producer on
	// time writes it: the burn is dated by the ids (model.Event.At); the
	// settings before the clock starts
	ids := new(feed.ClockIDs)
	u := notifytest.NewUsageAt(t, srv.Client(), func() time.Time { return t0.Add(-time.Minute) }, ids)
	rule := u.MidPeriod()
	period := rule.At(t0).Key
	clock := &fixedClock{t: t0}
	u.Set("acme", model.Settings{Allocation: 2000})
	u.Spend("acme", 0)
	rc := newReceiver(t)
	// leases run on the same clock, which jumps minutes: long enough that
	// none runs out while its holder is alive
	long := func(o *WatcherOptions) { o.Lease, o.Alert.ReFireAfter = 2*time.Hour, time.Minute }
	a := startClocked(t, srv, "continuous", rc.srv.URL, clock.Now, long)
	b := startClocked(t, srv, "restarted", rc.srv.URL, clock.Now, long)
	pub := feed.NewPublisher(srv.Client(), feed.PublisherOptions{IDs: ids})
	var last model.Event
	charge := int64(10)
	spend := func(at time.Time) {
		t.Helper()
		clock.Set(at)
		var err error
		if last, err = pub.Record(ctx, model.Event{TS: at.UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: charge, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	caughtUp := func(ins ...*instance) {
		t.Helper()
		for _, in := range ins {
			waitFor(t, in.name+" to read the hour back and judge the last charge", func() bool {
				_, pending, ok := in.judged("acme", clock.Now())
				id := in.w.judged.Load()
				return ok && !pending && in.hub.Applied(last.ID) && id != nil && model.CompareStreamIDs(*id, last.ID) >= 0
			})
		}
	}
	caughtUp(a, b)
	// Each charge is read before the clock moves on, as in real time: a
	// clock ahead of the feed would see silences that never were.
	at := t0
	// busy: every 10 s, for longer than the burn window, so that the first
	// charge (a step to a watcher that saw it, not to one that read it back:
	// README "Forecasts") is out of the window when they are compared
	for range 100 {
		at = at.Add(10 * time.Second)
		spend(at)
		caughtUp(a, b)
	}
	// slowing down to a charge a minute, never silent for longer than the
	// idle rule allows at that point (4 typical intervals, at least 1 min)
	slow := []time.Duration{20, 30, 40, 50, 60, 60, 60, 60}
	for i, gap := range slow {
		at = at.Add(gap * time.Second)
		spend(at)
		switch i {
		case 3:
			b.stop()
		case 5:
			b = startClocked(t, srv, "restarted-2", rc.srv.URL, clock.Now, long)
		}
		if i < 3 || i >= 5 {
			caughtUp(a, b)
		} else {
			caughtUp(a)
		}
	}
	runOut := model.AlertID(period, "acme", "", model.AlertRunOut, "")
	same := func(at time.Time) model.Forecast {
		t.Helper()
		fa, _, _ := a.judged("acme", at)
		fb, _, _ := b.judged("acme", at)
		if fa.Idle != fb.Idle || fa.RunsOut != fb.RunsOut || math.Abs(fa.BurnPerHour-fb.BurnPerHour) > 1e-6 ||
			fa.RunsOutIn.Round(time.Second) != fb.RunsOutIn.Round(time.Second) || fa.IdleAfter.Round(time.Millisecond) != fb.IdleAfter.Round(time.Millisecond) {
			t.Fatalf("%v after the last charge: restarted idle %v (after %v) burn %.1f/h runs out %v in %v; watched all along idle %v (after %v) burn %.1f/h runs out %v in %v",
				at.Sub(time.UnixMilli(last.TS)), fb.Idle, fb.IdleAfter, fb.BurnPerHour, fb.RunsOut, fb.RunsOutIn,
				fa.Idle, fa.IdleAfter, fa.BurnPerHour, fa.RunsOut, fa.RunsOutIn)
		}
		return fa
	}
	f := same(at)
	// 60 charges of 10 credits in the 15-minute window (and the part of a
	// 10-s bucket it starts in: 60 or 61 charges): ~2,400/h, 920 of 2,000 left
	want := time.Duration(920 / f.BurnPerHour * float64(time.Hour))
	if !f.RunsOut || f.BurnPerHour < 600*3600/910 || f.BurnPerHour > 610*3600/900 || (f.RunsOutIn-want).Abs() > time.Second {
		t.Fatalf("forecast burn %.1f/h runs out %v in %v, want ~2,400/h, in %v", f.BurnPerHour, f.RunsOut, f.RunsOutIn, want)
	}
	waitFor(t, "run_out fired", func() bool {
		if time.Since(now) > 25*time.Second { // about to time out: say what there is
			recs, _, _ := feed.NewAlertStore(srv.Client(), "").Load(ctx, period)
			t.Logf("receiver %v; store %+v", rc.keys(), recs[runOut])
		}
		return rc.keys()[runOut+"#firing"] == 1
	})

	// The typical silence between bursts (runs of 10-s buckets with
	// charges: the busy minutes are one), silence by silence (the running
	// average, 1/8 each): 20 s, then 40.5 s after the slowdown; idle after
	// four of them (issue 11: before, every 10-s bucket counted as a 10-s
	// interval, and a bucket of n charges as intervals of 10 s / n).
	typical := float64(slow[0])
	for _, gap := range slow[1:] {
		typical += (float64(gap) - typical) / 8
	}
	idleAfter := time.Duration(4 * typical * float64(time.Second))
	// Silence past a minute (the restarted one's idle limit before) and
	// short of four typical intervals.
	quiet := time.UnixMilli(last.TS).Add(90 * time.Second)
	clock.Set(quiet)
	f = same(quiet)
	if f.Idle || !f.RunsOut || (f.IdleAfter-idleAfter).Abs() > time.Millisecond {
		t.Fatalf("90 s after the last charge: idle %v (after %v) runs out %v, want busy, idle after %v, running out", f.Idle, f.IdleAfter, f.RunsOut, idleAfter)
	}
	for _, in := range []*instance{a, b} { // both judge at this time, many times over
		from := in.w.cycles.Load()
		waitFor(t, in.name+" to judge on", func() bool { return in.w.cycles.Load() > from+20 })
	}
	if n := rc.keys()[runOut+"#resolved"]; n != 0 {
		for _, p := range rc.payloads() {
			t.Logf("received %s by %s at %s: %s", p.Key, p.Instance, p.At, p.Summary)
		}
		f, _, _ := a.judged("acme", quiet)
		t.Fatalf("run_out resolved %d times while the watcher that watched all along forecasts out in %v at %.1f/h", n, f.RunsOutIn, f.BurnPerHour)
	}

	// Past four typical silences both call it idle, as the row does, and
	// the run_out resolves with it, once: one judgement (before, it stayed
	// firing beside the idle row until the burn window held no charge).
	idle := time.UnixMilli(last.TS).Add(3 * time.Minute)
	clock.Set(idle)
	if f := same(idle); !f.Idle || f.RunsOut {
		t.Fatalf("3 min after the last charge: idle %v runs out %v, want idle", f.Idle, f.RunsOut)
	}
	waitFor(t, "run_out resolved", func() bool { return rc.keys()[runOut+"#resolved"] == 1 })
	clock.Set(time.UnixMilli(last.TS).Add(model.BurnWindow))
	for _, in := range []*instance{a, b} {
		from := in.w.cycles.Load()
		waitFor(t, in.name+" to judge the empty window", func() bool { return in.w.cycles.Load() > from+20 })
	}
	settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 1, runOut)
	if got := rc.keys(); got[runOut+"#firing"] != 1 || got[runOut+"#resolved"] != 1 {
		t.Fatalf("receiver got %v, want run_out fired and resolved once each", got)
	}

	// Spending again at a burn that runs out: its second episode fires,
	// once the resolution is ReFireAfter (here 1 min) old, once. 360 credits
	// in the 15-min window: 1,440/h, the 560 left last 23 min (days before
	// the period ends: the rule puts the test mid-period).
	at, charge = clock.Now(), 30
	for range 12 {
		at = at.Add(10 * time.Second)
		spend(at)
		caughtUp(a, b)
	}
	second := model.EpisodeID(runOut, 2)
	waitFor(t, "run_out's second episode fired", func() bool { return rc.keys()[second+"#firing"] == 1 })
	recs := settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 2, runOut, second)
	once(t, rc, recs)
	inOrder(t, rc)
}
