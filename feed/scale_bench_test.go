package feed

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkJoinScale measures a viewer joining the hub at 1k, 10k and 100k
// workspaces: the time until it holds the present state, and the bytes that
// costs (B/op, and retained-B: what the viewer still holds once joined).
func BenchmarkJoinScale(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			h := NewHub()
			h.Handle(&SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(n, now), Rule: model.MonthlyUTC, At: now.Add(-time.Hour),
				History: modeltest.History(n, n, now), HistoryFrom: now.Add(-time.Hour)})
			var before, after runtime.MemStats
			viewers := make([]*Viewer, 0, b.N)
			var states []LedgerState
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				v := h.Join()
				msgs, err := v.Next(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				var s LedgerState
				for _, m := range msgs {
					s.Apply(m)
				}
				if s.Ledger == nil || s.Ledger.Len() != n {
					b.Fatalf("joined with %v workspaces, want %d", s.Ledger, n)
				}
				viewers, states = append(viewers, v), append(states, s)
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "retained-B/op")
			runtime.KeepAlive(states)
			for _, v := range viewers {
				v.Close()
			}
		})
	}
}
