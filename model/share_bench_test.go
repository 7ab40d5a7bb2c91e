package model_test

import (
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkApplyShared is one event of the steady load applied to a ledger of
// 100k workspaces whose states it shares with a clone (copy on write): every
// viewer's ledger after its fresh copy from the hub, and the hub's own after
// it handed one out. At 1,000 events/s over 100k workspaces nearly every
// event is the first change of its workspace since the last copy, so each
// copies the workspace's state (its projects and their endpoint counters):
// allocs/op is what each ledger adds to the collector's work per event.
//
//	go test ./model -run '^$' -bench ApplyShared -benchmem
func BenchmarkApplyShared(b *testing.B) {
	const n = 100_000
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, now.Add(-time.Hour))
	l.Seed(modeltest.Snapshot(n, now), now)
	evs := make([]model.Event, n)
	for i := range evs {
		evs[i] = modeltest.Event(i*7919, n, now.UnixMilli()+int64(i))
	}
	l.ApplyBatch(evs)                 // every workspace has its burn history and its projects
	l.Ordered(model.ByUse, 0, 0, nil) // kept as events arrive, as the hub keeps a dashboard's order
	// ordered: a dashboard's copy, which keeps the order (each move copies
	// the order blocks it still shares); unordered: the watcher's
	// (Ledger.DropOrders)
	for _, ordered := range []bool{true, false} {
		name := "ordered"
		if !ordered {
			name = "unordered"
		}
		b.Run(name, func(b *testing.B) {
			copyOf := func() *model.Ledger {
				c := l.Clone()
				if !ordered {
					c.DropOrders()
				}
				return c
			}
			shared := copyOf()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%n == 0 && i > 0 {
					b.StopTimer()
					shared = copyOf() // every state shared again
					b.StartTimer()
				}
				shared.Apply(&evs[i%n])
			}
		})
	}
	// hour: a watcher's copy (unordered) of a ledger that has read back an
	// hour of 36 charges a workspace, as one is after an hour of the steady
	// load: each copy of a state copies its burn ring of ~36 buckets
	b.Run("hour", func(b *testing.B) {
		h, now := watchedLedger(n)
		evs := make([]model.Event, n)
		for i := range evs {
			evs[i] = modeltest.Event(i*7919, n, now.UnixMilli()+int64(i))
		}
		copyOf := func() *model.Ledger {
			c := h.Clone()
			c.DropOrders()
			return c
		}
		shared := copyOf()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if i%n == 0 && i > 0 {
				b.StopTimer()
				shared = copyOf()
				b.StartTimer()
			}
			shared.Apply(&evs[i%n])
		}
	})
}
