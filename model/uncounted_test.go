package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// uncountedRecount is Uncounted counted afresh over the log's rows, as it
// was before it was kept: the rows of the period per field beyond the
// field's counter.
func uncountedRecount(l *Ledger) int {
	listed := map[refusalField]int64{}
	for _, r := range l.Refusals(nil, DefaultRefusalLog) {
		if l.period.Contains(r.Event.TS) {
			listed[fieldOf(&r.Event)]++
		}
	}
	n := 0
	for f, k := range listed {
		n += int(max(k-l.counted(f), 0))
	}
	return n
}

// Uncounted, kept as 402s arrive, is at every step what a recount of the
// log's rows against the counters says: with the log full (each 402 pushing
// one out, of its own field or another), counters read again lower or
// higher than the rows (a raw XADD's 402 listed, not counted), a new
// period, 402s read back from the history, and clones taken on the way,
// each asked from any point on.
func TestUncountedKeptIsARecount(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for seed := range uint64(12) {
		rnd := rand.New(rand.NewPCG(seed, 16))
		now := start
		l := NewLedger(MonthlyUTC, now)
		codes := []string{CodeCreditsExhausted, CodeBudgetExceeded, "subscription_lapsed"}
		snap := func() *Snapshot {
			s := &Snapshot{Period: MonthlyUTC.At(now), StreamID: "0-0", Used: map[string]int64{}, UsedBy: map[string]int64{},
				Refused: map[string]int64{}, Recharged: map[string]int64{}, Settings: map[string]Settings{}}
			for w := range 4 {
				ws := fmt.Sprintf("ws%d", w)
				s.Settings[ws] = Settings{Allocation: 1_000_000}
				for p := range 2 {
					for _, c := range codes {
						if rnd.IntN(3) > 0 {
							s.Refused[RefusedField(ws, fmt.Sprintf("p%d", p), c)] = int64(rnd.IntN(300))
						}
					}
				}
			}
			return s
		}
		l.Seed(snap(), now)
		ev := func(k int, ts time.Time) Event {
			return Event{ID: fmt.Sprintf("%d-%d", ts.UnixMilli(), k), TS: ts.UnixMilli(), Workspace: fmt.Sprintf("ws%d", rnd.IntN(4)),
				Project: fmt.Sprintf("p%d", rnd.IntN(2)), Endpoint: "/responses", Status: 402, Code: codes[rnd.IntN(len(codes))]}
		}
		asked, most := false, 0
		for k := range 2_500 {
			now = now.Add(time.Second)
			switch x := rnd.IntN(1000); {
			case x < 3: // counters read again
				l.Seed(snap(), now)
			case x < 4: // a new period: the log's rows are the last one's
				now = now.AddDate(0, 1, 0)
				l.Seed(snap(), now)
			case x < 8: // 402s read back from the history
				var evs []Event
				for j := range 1 + rnd.IntN(5) {
					evs = append(evs, ev(-j, now.Add(-time.Hour)))
				}
				l.Backfill(evs, now.Add(-2*time.Hour))
			case x < 14: // a viewer's copy: both go on, either is kept
				c := l.Clone()
				for range 3 {
					e := ev(k, now)
					c.Apply(&e)
					if got, want := c.Uncounted(), uncountedRecount(c); got != want {
						t.Fatalf("seed %d step %d: a clone says %d, a recount %d", seed, k, got, want)
					}
				}
				if rnd.IntN(2) == 0 {
					l = c
				}
			case x < 40: // an event that is not a 402
				e := ev(k, now)
				e.Status, e.Code, e.Credits = 200, "", 3
				l.Apply(&e)
			default:
				e := ev(k, now)
				l.Apply(&e)
			}
			if asked || rnd.IntN(50) == 0 {
				asked = true
				got, want := l.Uncounted(), uncountedRecount(l)
				if got != want {
					t.Fatalf("seed %d step %d: Uncounted %d, a recount %d", seed, k, got, want)
				}
				most = max(most, got)
			}
		}
		if most == 0 || len(l.Refusals(nil, DefaultRefusalLog)) != DefaultRefusalLog {
			t.Fatalf("seed %d: at most %d uncounted, %d rows: the case tries nothing", seed, most, len(l.Refusals(nil, DefaultRefusalLog)))
		}
	}
}
