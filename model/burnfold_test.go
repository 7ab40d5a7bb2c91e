package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestARestartedLedgerJudgesLikeOneThatWatched is the invariant behind the
// run-out and idle rules across a restart: a ledger that starts at t0, reads
// the hour back in pages newest first while live charges arrive, and ends
// the read-back judges every workspace as one that applied every charge as it
// came — the same typical charge and interval, idle after the same silence,
// the same burn and run-out. Until the read-back ends it judges none of it.
// The class is any rhythm of charges: steady, slowing down (the case that
// went idle sooner: the hour folded newest first weighed its busy past most),
// speeding up, bursts, over random page cuts and live arrivals.
func TestARestartedLedgerJudgesLikeOneThatWatched(t *testing.T) {
	rhythms := []func(r *rand.Rand, i, n int) time.Duration{
		func(r *rand.Rand, i, n int) time.Duration { return 20 * time.Second },                       // steady
		func(r *rand.Rand, i, n int) time.Duration { return time.Duration(5+i*60/n) * time.Second },  // slowing down
		func(r *rand.Rand, i, n int) time.Duration { return time.Duration(90-i*80/n) * time.Second }, // speeding up
		func(r *rand.Rand, i, n int) time.Duration {
			return time.Duration(1+r.IntN(2)*r.IntN(120)) * time.Second
		}, // bursts
	}
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 13))
		rhythm := rhythms[int(seed)%len(rhythms)]
		n := 10 + r.IntN(80)
		// charges of a few credits each (TestEveryRestartPointJudgesLikeWatching
		// adds large ones), spread so the newest is near t0+5m
		var evs []Event
		at := -55 * time.Minute
		for i := range n {
			at += rhythm(r, i, n)
			ws := fmt.Sprintf("w%d", r.IntN(2))
			evs = append(evs, use(ws, "", "/responses", int64(2+r.IntN(5)), at))
		}
		restart := at - time.Duration(r.IntN(int(at+55*time.Minute)/int(time.Second)+1))*time.Second // somewhere mid-burn
		settings := map[string]Settings{"w0": {Allocation: 2_000}, "w1": {Allocation: 900}}
		period := MonthlyUTC.At(t0)

		whole := NewLedger(MonthlyUTC, t0.Add(-2*time.Hour))
		whole.Seed(&Snapshot{Period: period, Settings: settings}, t0.Add(-2*time.Hour))
		counted := map[string]int64{}
		var past, live []Event
		for i := range evs {
			whole.Apply(&evs[i])
			if t0.Add(restart).UnixMilli() >= evs[i].TS {
				counted[evs[i].Workspace] += evs[i].Credits
				past = append(past, evs[i])
			} else {
				live = append(live, evs[i])
			}
		}
		start := t0.Add(restart)
		l := NewLedger(MonthlyUTC, start)
		l.Seed(&Snapshot{Period: period, Used: counted, Settings: settings, HistoryLater: true}, start)
		slices.Reverse(past) // newest first, as read back
		next := 0
		applyLive := func(k int) {
			for ; k > 0 && next < len(live); k-- {
				l.Apply(&live[next])
				next++
			}
		}
		applyLive(r.IntN(len(live) + 1))
		for first := true; first || len(past) > 0; first = false { // an empty hour is read back too
			k := min(1+r.IntN(len(past)+1), len(past))
			l.Backfill(past[:k], start.Add(-time.Hour))
			past = past[k:]
			applyLive(r.IntN(3))
			for _, a := range EvaluateAlerts(l, start.Add(time.Hour), FeedHealth{Connected: true}, AlertOptions{}, nil) {
				if (a.Kind == AlertRunOut || a.Kind == AlertRefusals) && a.Condition != ConditionUnknown {
					t.Fatalf("seed %d: %s judged %d before the hour was read back", seed, a.ID, a.Condition)
				}
			}
		}
		l.EndHistory()
		applyLive(len(live))
		last := time.UnixMilli(evs[len(evs)-1].TS)
		for _, ws := range []string{"w0", "w1", ""} {
			wr, gr := whole.ring(ws), l.ring(ws)
			if (wr == nil) != (gr == nil) {
				t.Fatalf("seed %d %q: ring %v, want %v", seed, ws, gr != nil, wr != nil)
			}
			if wr == nil {
				continue
			}
			n := last.UnixMilli()
			if gt, wt := gr.typicalCharge(n, 0, 0), wr.typicalCharge(n, 0, 0); !near(gt, wt) || !near(gr.typicalInterval(n), wr.typicalInterval(n)) {
				t.Fatalf("seed %d %q (restart %v): typical charge %.6f interval %.3f ms, watched all along %.6f %.3f ms",
					seed, ws, restart, gt, gr.typicalInterval(n), wt, wr.typicalInterval(n))
			}
			// judged over the silence after the last charge, past each idle limit
			for _, after := range []time.Duration{0, 30 * time.Second, 61 * time.Second, 2 * time.Minute, 5 * time.Minute, 14 * time.Minute} {
				now := last.Add(after)
				a, b := whole.Forecast(ws, now), l.Forecast(ws, now)
				if a.Idle != b.Idle || a.IdleAfter.Round(time.Millisecond) != b.IdleAfter.Round(time.Millisecond) || a.RunsOut != b.RunsOut ||
					math.Abs(a.BurnPerHour-b.BurnPerHour) > 1e-6 || a.RunsOutIn.Round(time.Second) != b.RunsOutIn.Round(time.Second) {
					t.Fatalf("seed %d %q %v after the last charge: restarted idle %v (after %v) burn %.3f/h runs out %v in %v;\nwatched all along idle %v (after %v) burn %.3f/h runs out %v in %v",
						seed, ws, after, b.Idle, b.IdleAfter, b.BurnPerHour, b.RunsOut, b.RunsOutIn, a.Idle, a.IdleAfter, a.BurnPerHour, a.RunsOut, a.RunsOutIn)
				}
			}
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b), 1) }
