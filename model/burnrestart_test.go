package model

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestEveryRestartPointJudgesLikeWatching is the invariant behind every
// forecast across a restart, for the step rule too: for random charge
// sequences within an hour — small and large charges, bursts in one bucket, a
// first charge that is large, steps near the BurnWindow's edge, refunds — and
// for EVERY restart point k, a ledger that applied every event live equals one
// started at k (the events before k read back newest first through Backfill,
// in random pages, with live events arriving between the pages, then the
// rest live): the same burn rate, run-out or idle, step, typical charge and
// interval, the same run_out alert, and where a project's usage limit sets
// the level, the same forecast of the project's own burn. A large charge was a step or not
// depending on whether it was seen live or read back (the issue's "402/h, out
// in 2 h" against "4.0/h").
func TestEveryRestartPointJudgesLikeWatching(t *testing.T) {
	eachRestartCase(160, 11, func(seed uint64, r *rand.Rand, evs []Event, queries []time.Time) {
		allocations := map[string]int64{}
		for _, e := range evs {
			allocations[e.Workspace] += e.Credits
		}
		settings := map[string]Settings{}
		for ws, used := range allocations {
			settings[ws] = Settings{Allocation: max(used, 0) + int64(r.IntN(3_000))}
		}
		// a usage limit on w0's web project: where it binds, the verdict's
		// forecast is of the project's own burn
		budgets := webLimit(r)
		period := MonthlyUTC.At(t0)
		whole := watchedLedger(period, t0.Add(-2*time.Hour), settings, budgets, evs)
		for k := 0; k <= len(evs); k++ {
			start := restartAt(r, evs, k)
			l := restartedLedger(r, evs, k, start, settings, budgets, period)
			for _, now := range queries {
				if now.Before(start) {
					continue
				}
				for _, ws := range []string{"w0", "w1", ""} {
					if msg := sameJudgement(whole, l, ws, now); msg != "" {
						t.Fatalf("seed %d, restart at event %d of %d (%v), %q at %v: %s\nevents: %s",
							seed, k, len(evs), start.Sub(t0), ws, now.Sub(t0), msg, describe(evs))
					}
				}
				if msg := sameRunOutAlerts(whole, l, now); msg != "" {
					t.Fatalf("seed %d, restart at event %d of %d (%v) at %v: %s\nevents: %s",
						seed, k, len(evs), start.Sub(t0), now.Sub(t0), msg, describe(evs))
				}
			}
		}
	})
}

// eachRestartCase calls f with the random case (restartCase) of each of
// seeds seeds (a quarter of them under -short) and the generator it was drawn
// from, for what f draws next; stream keeps one test's cases apart from
// another's.
func eachRestartCase(seeds, stream uint64, f func(seed uint64, r *rand.Rand, evs []Event, queries []time.Time)) {
	if testing.Short() {
		seeds /= 4
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		r := rand.New(rand.NewPCG(seed, stream))
		evs, queries := restartCase(r)
		f(seed, r, evs, queries)
	}
}

// webLimit is a random usage limit (1 to 2,000 credits) on w0's web project:
// where it binds, the verdict's forecast is of the project's own burn.
func webLimit(r *rand.Rand) map[string]ProjectBudget {
	return map[string]ProjectBudget{ProjectKey("w0", "web"): {Limit: 1 + int64(r.IntN(2_000))}}
}

// watchedLedger is a ledger that watched from start in period: seeded with
// settings and budgets, then every event of evs applied live.
func watchedLedger(period Period, start time.Time, settings map[string]Settings, budgets map[string]ProjectBudget, evs []Event) *Ledger {
	l := NewLedger(MonthlyUTC, start)
	l.Seed(&Snapshot{Period: period, Settings: settings, Budgets: budgets}, start)
	for i := range evs {
		l.Apply(&evs[i])
	}
	return l
}

// restartCase makes one random sequence of charges (time order) within an
// hour ending near t0 and the times to judge it at.
func restartCase(r *rand.Rand) ([]Event, []time.Time) {
	var evs []Event
	n := 4 + r.IntN(36)
	first := -50*time.Minute + time.Duration(r.IntN(20*60))*time.Second
	at := first
	small := int64(1 + r.IntN(6))
	var edges []time.Duration
	for i := range n {
		c := small + int64(r.IntN(3))
		switch p := r.IntN(100); {
		case i == 0 && r.IntN(3) == 0, p < 12: // a large charge (the first one too)
			c = []int64{60, 100, 400, 1_000, 7_600}[r.IntN(5)]
			edges = append(edges, at)
		case p < 16: // a refund or correction
			c = -int64(1 + r.IntN(int(small)+2))
		}
		ws := fmt.Sprintf("w%d", r.IntN(2))
		evs = append(evs, use(ws, []string{"web", "batch"}[r.IntN(2)], "/responses", c, at))
		if p := r.IntN(100); p < 14 {
			// more charges in the same bucket (within 2 s, or the same
			// millisecond): large ones of alike or unlike sizes, ordinary
			// ones, a refund of part of a large one — bursts whose charges
			// together can be a step
			for range 1 + r.IntN(4) {
				c := []int64{small, small * 4, 60, 400, 1_000, 3_800, 3_800, 7_600, -1_900, -int64(1 + r.IntN(3))}[r.IntN(10)]
				if c > 60 {
					edges = append(edges, at)
				}
				evs = append(evs, use(ws, []string{"web", "batch"}[r.IntN(2)], "/responses", c,
					at+time.Duration(r.IntN(2))*time.Duration(r.IntN(2000))*time.Millisecond))
			}
		}
		switch p := r.IntN(10); {
		case p < 3: // a burst: the same bucket, the same millisecond even
			at += time.Duration(r.IntN(3)) * time.Millisecond * time.Duration(r.IntN(2000))
		case p < 8:
			at += time.Duration(1+r.IntN(90)) * time.Second
		default:
			at += time.Duration(1+r.IntN(8)) * time.Minute
		}
		if at > first+54*time.Minute { // within an hour
			break
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return cmp.Compare(a.TS, b.TS) })
	last := time.UnixMilli(evs[len(evs)-1].TS)
	queries := []time.Time{last}
	for _, d := range []time.Duration{time.Second, 30 * time.Second, 61 * time.Second, 3 * time.Minute, 9 * time.Minute, 16 * time.Minute} {
		queries = append(queries, last.Add(d))
	}
	for _, e := range edges { // a large charge at the window's edge, either side
		for _, d := range []time.Duration{-BucketWidth, -time.Millisecond, 0, time.Millisecond, BucketWidth} {
			if q := t0.Add(e + BurnWindow + d); !q.Before(last) {
				queries = append(queries, q)
			}
		}
	}
	return evs, queries
}

// restartAt is a start time between event k−1 and event k: events before k
// are at or before it, the others after it.
func restartAt(r *rand.Rand, evs []Event, k int) time.Time {
	switch {
	case k == 0:
		return time.UnixMilli(evs[0].TS - 1 - int64(r.IntN(60_000)))
	case k == len(evs):
		return time.UnixMilli(evs[k-1].TS + int64(r.IntN(120_000)))
	}
	lo, hi := evs[k-1].TS, evs[k].TS
	if lo == hi { // the same millisecond: cannot part them, start before both
		return restartAt(r, evs, k-1)
	}
	return time.UnixMilli(lo + int64(r.IntN(int(hi-lo))))
}

// restartedLedger is a ledger started at start, the way the feed starts one:
// the counters at start, the hour before it read back newest first in pages
// while the events after start arrive live, then the end of the read-back.
func restartedLedger(r *rand.Rand, evs []Event, k int, start time.Time, settings map[string]Settings, budgets map[string]ProjectBudget, period Period) *Ledger {
	counted, usedBy := map[string]int64{}, map[string]int64{}
	var past, live []Event
	for _, e := range evs {
		if e.TS <= start.UnixMilli() {
			counted[e.Workspace] += e.Credits
			usedBy[UsedByField(e.Workspace, e.Project, e.Endpoint)] += e.Credits
			past = append(past, e)
		} else {
			live = append(live, e)
		}
	}
	l := NewLedger(MonthlyUTC, start)
	l.Seed(&Snapshot{Period: period, Used: counted, UsedBy: usedBy, Settings: settings, Budgets: budgets, HistoryLater: true}, start)
	slices.Reverse(past)
	next := 0
	applyLive := func(n int) {
		for ; n > 0 && next < len(live); n-- {
			l.Apply(&live[next])
			next++
		}
	}
	applyLive(r.IntN(len(live) + 1))
	for first := true; first || len(past) > 0; first = false {
		n := min(1+r.IntN(len(past)+1), len(past))
		l.Backfill(past[:n], start.Add(-time.Hour))
		past = past[n:]
		applyLive(r.IntN(3))
	}
	l.EndHistory()
	applyLive(len(live))
	return l
}

// sameJudgement compares what the two ledgers say of ws at now ("" when alike).
func sameJudgement(whole, l *Ledger, ws string, now time.Time) string {
	a, b := whole.Forecast(ws, now), l.Forecast(ws, now)
	if a.Idle != b.Idle || a.IdleAfter.Round(time.Millisecond) != b.IdleAfter.Round(time.Millisecond) ||
		math.Abs(a.BurnPerHour-b.BurnPerHour) > 1e-6 || a.RunsOut != b.RunsOut ||
		a.RunsOutIn.Round(time.Second) != b.RunsOutIn.Round(time.Second) ||
		a.Step != b.Step || !a.StepAt.Equal(b.StepAt) || !a.LastCharge.Equal(b.LastCharge) {
		return fmt.Sprintf("restarted: idle %v (after %v) burn %.3f/h step %d at %v runs out %v in %v;\nwatched all along: idle %v (after %v) burn %.3f/h step %d at %v runs out %v in %v",
			b.Idle, b.IdleAfter, b.BurnPerHour, b.Step, b.StepAt.Sub(t0), b.RunsOut, b.RunsOutIn,
			a.Idle, a.IdleAfter, a.BurnPerHour, a.Step, a.StepAt.Sub(t0), a.RunsOut, a.RunsOutIn)
	}
	if ws != "" {
		va, fa, oka := whole.VerdictForecast(ws, now)
		vb, fb, okb := l.VerdictForecast(ws, now)
		if oka != okb || va.Level != vb.Level || va.Project != vb.Project || math.Abs(fa.BurnPerHour-fb.BurnPerHour) > 1e-6 ||
			fa.Idle != fb.Idle || fa.RunsOut != fb.RunsOut || fa.RunsOutIn.Round(time.Second) != fb.RunsOutIn.Round(time.Second) || fa.Step != fb.Step {
			return fmt.Sprintf("verdict forecast: restarted %v %q burn %.3f/h idle %v step %d runs out %v in %v; watched all along %v %q burn %.3f/h idle %v step %d runs out %v in %v",
				vb.Level, vb.Project, fb.BurnPerHour, fb.Idle, fb.Step, fb.RunsOut, fb.RunsOutIn, va.Level, va.Project, fa.BurnPerHour, fa.Idle, fa.Step, fa.RunsOut, fa.RunsOutIn)
		}
	}
	wr, gr := whole.ring(ws), l.ring(ws)
	if (wr == nil) != (gr == nil) {
		return fmt.Sprintf("ring %v, watched all along %v", gr != nil, wr != nil)
	}
	if wr == nil {
		return ""
	}
	n := now.UnixMilli()
	if wt, gt := wr.typicalCharge(n, 0, 0), gr.typicalCharge(n, 0, 0); !near(gt, wt) || !near(gr.typicalInterval(n), wr.typicalInterval(n)) {
		return fmt.Sprintf("typical charge %.6f interval %.3f ms, watched all along %.6f %.3f ms", gt, gr.typicalInterval(n), wt, wr.typicalInterval(n))
	}
	return ""
}

// sameRunOutAlerts compares the run_out alerts of the two ledgers at now.
func sameRunOutAlerts(whole, l *Ledger, now time.Time) string {
	pick := func(l *Ledger) map[string]Alert {
		m := map[string]Alert{}
		for _, a := range EvaluateAlerts(l, now, FeedHealth{Connected: true, Since: now}, AlertOptions{}, nil) {
			if a.Kind == AlertRunOut {
				m[a.ID] = a
			}
		}
		return m
	}
	a, b := pick(whole), pick(l)
	for id, x := range a {
		y := b[id]
		if x.Condition != y.Condition || x.RunOutIn.Round(time.Second) != y.RunOutIn.Round(time.Second) ||
			math.Abs(x.BurnPerHour-y.BurnPerHour) > 1e-6 {
			return fmt.Sprintf("%s: restarted %v (burn %.3f/h, out in %v), watched all along %v (burn %.3f/h, out in %v)",
				id, y.Condition, y.BurnPerHour, y.RunOutIn, x.Condition, x.BurnPerHour, x.RunOutIn)
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("%d run_out alerts, watched all along %d", len(b), len(a))
	}
	return ""
}

func describe(evs []Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf(" %s:%d@%v", e.Workspace, e.Credits, time.UnixMilli(e.TS).Sub(t0))
	}
	return s
}

// TestALargeChargeReadBackIsAStepToo is the example: allocation
// 1,000, a charge of 100, instance A starts, a charge of 1, instance B
// starts. A said "402/h, out in 2 h", B "4.0/h": now both, and one that
// watched all along, leave the 100 out as a step and burn 4 credits an hour.
func TestALargeChargeReadBackIsAStepToo(t *testing.T) {
	evs := []Event{use("acme", "", "/responses", 100, -3*time.Minute), use("acme", "", "/responses", 1, -time.Minute)}
	settings := map[string]Settings{"acme": {Allocation: 1_000}}
	period := MonthlyUTC.At(t0)
	whole := watchedLedger(period, t0.Add(-2*time.Hour), settings, nil, evs)
	r := rand.New(rand.NewPCG(1, 1))
	a := restartedLedger(r, evs, 1, t0.Add(-2*time.Minute), settings, nil, period)
	b := restartedLedger(r, evs, 2, t0, settings, nil, period)
	for _, l := range []*Ledger{whole, a, b} {
		f := l.Forecast("acme", t0)
		if math.Abs(f.BurnPerHour-4) > 1e-9 || f.Step != 100 || f.RunsOut {
			t.Fatalf("burn %.1f/h, step %d, runs out %v in %v; want 4.0/h (1 credit in 15 min), the 100 a step, no run-out",
				f.BurnPerHour, f.Step, f.RunsOut, f.RunsOutIn)
		}
	}
}

// TestWhatCameBeforeTheHourDoesNotCount: a restarted instance reads one hour
// back, so nothing older may change a judgement. A workspace busy (a charge
// every 10 s) until 65 minutes ago, then charging every 3 minutes: the typical
// interval was a running average over every charge ever seen, so one that
// watched all along still weighed the busy past and the 45-minute silence
// (idle after 15 min) where one started at t0 said 12 min — 11 minutes after
// t0 one said 20/h, the other idle.
func TestWhatCameBeforeTheHourDoesNotCount(t *testing.T) {
	var evs []Event
	for at := -3 * time.Hour; at < -65*time.Minute; at += 10 * time.Second {
		evs = append(evs, use("acme", "", "/x", 5, at))
	}
	for at := -20 * time.Minute; at <= -2*time.Minute; at += 3 * time.Minute {
		evs = append(evs, use("acme", "", "/x", 5, at))
	}
	settings := map[string]Settings{"acme": {Allocation: 1_000_000}}
	period := MonthlyUTC.At(t0)
	whole := watchedLedger(period, t0.Add(-4*time.Hour), settings, nil, evs)
	var hour []Event // what a start at t0 reads back
	for _, e := range evs {
		if e.TS >= t0.Add(-time.Hour).UnixMilli() {
			hour = append(hour, e)
		}
	}
	l := restartedLedger(rand.New(rand.NewPCG(1, 1)), hour, len(hour), t0, settings, nil, period)
	for _, after := range []time.Duration{0, 11 * time.Minute, 20 * time.Minute, 70 * time.Minute} {
		if msg := sameJudgement(whole, l, "acme", t0.Add(after)); msg != "" {
			t.Fatalf("%v after t0: %s", after, msg)
		}
	}
	if f := l.Forecast("acme", t0.Add(11*time.Minute)); !f.Idle || f.IdleAfter != 12*time.Minute {
		t.Fatalf("11 min after t0: idle %v after %v, want idle after 12 min (4 intervals of 3 min)", f.Idle, f.IdleAfter)
	}
}
