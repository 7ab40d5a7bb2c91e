package model_test

import (
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkUncountedAfterA402 is a 402 arriving at a 100k-workspace ledger
// whose 402 log is full (500 rows), and the 402 log pane taking its rows and
// asking how many of them the counters do not hold (apply+refresh: what
// RefusalLog.Refresh does for each 402). apply is the 402 alone.
//
//	go test ./model -run '^$' -bench UncountedAfterA402 -benchmem
func BenchmarkUncountedAfterA402(b *testing.B) {
	const n = 100_000
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, now.Add(-time.Hour))
	l.Seed(modeltest.Snapshot(n, now), now)
	refusal := func(k int) model.Event {
		e := modeltest.Event(k*7919, n, now.UnixMilli()+int64(k))
		e.Status, e.Code, e.Credits, e.Msg = 402, model.CodeCreditsExhausted, 0, "out of credits"
		return e
	}
	k := 0
	for ; k < 2*model.DefaultRefusalLog; k++ {
		e := refusal(k)
		l.Apply(&e)
	}
	var rows []model.Refusal
	for _, withTitle := range []bool{false, true} {
		name := "apply"
		if withTitle {
			name = "apply+refresh"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k++
				e := refusal(k)
				l.Apply(&e)
				if withTitle {
					rows = l.Refusals(rows[:0], model.DefaultRefusalLog)
					_ = l.Uncounted()
				}
			}
		})
	}
}
