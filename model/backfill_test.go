package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// refusalState is what a ledger says about who is being refused: blocked
// workspaces, refusing project codes, and the 402 log's request ids.
func refusalState(l *Ledger) (blocked []string, refusing []string, log []string) {
	for name, w := range l.ws {
		if w.blocked {
			blocked = append(blocked, name)
		}
		for pn, p := range w.projects {
			for code, on := range p.refusing {
				if on {
					refusing = append(refusing, name+"/"+pn+"/"+code)
				}
			}
		}
	}
	slices.Sort(blocked)
	slices.Sort(refusing)
	for _, r := range l.Refusals(nil, DefaultRefusalLog) {
		log = append(log, r.Event.Req)
	}
	return blocked, refusing, log
}

// TestBackfillInPagesEqualsApply: a start that reads the hour back in pages,
// newest first, while live events arrive, ends with the refusal state and the
// 402 log a ledger that saw every event live has: the class is every mix of
// 402s (each code, with and without a project), successes, recharges and
// other statuses, over random page cuts.
func TestBackfillInPagesEqualsApply(t *testing.T) {
	codes := []string{CodeCreditsExhausted, CodeBudgetExceeded, "subscription_lapsed"}
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		n := 5 + r.IntN(60)
		evs := make([]Event, n)
		for i := range evs {
			ws := fmt.Sprintf("w%d", r.IntN(3))
			project := []string{"", "a", "b"}[r.IntN(3)]
			at := time.Duration(i-n) * time.Second
			switch k := r.IntN(10); {
			case k < 4:
				evs[i] = refusal(ws, project, codes[r.IntN(len(codes))], at)
			case k < 7:
				evs[i] = use(ws, project, "/responses", int64(r.IntN(5)), at)
			case k < 8:
				evs[i] = use(ws, project, "/responses", 0, at)
				evs[i].Status = 500
			default:
				evs[i] = Event{TS: ms(at), Workspace: ws, Kind: KindRecharge, Credits: 100}
			}
			evs[i].Req = fmt.Sprintf("r%d", i)
		}
		live := r.IntN(n / 2)                // the newest arrive live while the rest is read back
		whole := NewLedger(MonthlyUTC, t0)   // saw every event live
		counted := NewLedger(MonthlyUTC, t0) // the counters the start snapshot read
		for i := range evs {
			whole.Apply(&evs[i])
			if i < n-live {
				counted.Apply(&evs[i])
			}
		}
		l := NewLedger(MonthlyUTC, t0)
		l.Seed(counted.Totals(), t0)
		past := slices.Clone(evs[:n-live])
		slices.Reverse(past) // newest first, as read back
		next := n - live     // live events arrive in stream order, some before the first page, some between pages
		applyLive := func(k int) {
			for ; k > 0 && next < n; k-- {
				l.Apply(&evs[next])
				next++
			}
		}
		applyLive(r.IntN(live + 1))
		for len(past) > 0 {
			k := 1 + r.IntN(len(past))
			l.Backfill(past[:k], t0.Add(-time.Hour))
			past = past[k:]
			applyLive(r.IntN(3))
		}
		applyLive(n)
		wb, wr, wl := refusalState(whole)
		gb, gr, gl := refusalState(l)
		if !slices.Equal(wb, gb) || !slices.Equal(wr, gr) || !slices.Equal(wl, gl) {
			t.Fatalf("seed %d (%d events, %d live): backfilled blocked %v refusing %v log %v,\nwant blocked %v refusing %v log %v",
				seed, n, live, gb, gr, gl, wb, wr, wl)
		}
		for ws := range whole.ws {
			a, _ := whole.Summary(ws)
			b, _ := l.Summary(ws)
			ga, gb := whole.Series(ws, t0, time.Minute, 60, nil), l.Series(ws, t0, time.Minute, 60, nil)
			if a.Level != b.Level || a.Used != b.Used || !slices.Equal(ga, gb) {
				t.Fatalf("seed %d: %s level %v used %d burn %v, want %v %d %v", seed, ws, b.Level, b.Used, gb, a.Level, a.Used, ga)
			}
		}
	}
}
