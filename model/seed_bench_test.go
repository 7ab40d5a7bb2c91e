package model_test

import (
	"fmt"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkSeedScale is the hub's Seed of a start snapshot (used_by read
// later, as a start reads it: Snapshot.UsedByLater) into a fresh ledger at
// 1k, 10k and 100k workspaces, then the first frame's 50 rows by use (its
// first listing: picked without sorting every workspace, see Ordered): the
// ledger part of the first frame (the README's first-frame row). It
// reports the process's CPU per seed (cpu-ms/op, the collector's included),
// which a loaded machine inflates far less than wall time.
//
//	go test ./model -run '^$' -bench SeedScale -benchmem
func BenchmarkSeedScale(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, n := range []int{1_000, 10_000, 100_000} {
		s := modeltest.Snapshot(n, now)
		s.UsedBy, s.UsedByLater, s.HistoryLater = nil, true, true
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			c0 := cpuTime()
			for range b.N {
				l := model.NewLedger(model.MonthlyUTC, now)
				l.Seed(s, now)
				if got := len(l.Ordered(model.ByUse, 0, 50, nil)); got != 50 {
					b.Fatalf("%d rows", got)
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
