package feed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// BenchmarkAlertLoad is what a watcher's read of the shared alert lifecycle
// costs per second (one op: one cycle's read of a period) with 10k and 100k
// records in the period (the scale harness leaves ~33k after two minutes at
// 100k workspaces): full is a full read and decode (AlertStore.Load, what
// every cycle did before the mirror, and what the mirror's safety net does
// at most every max(1 min, 100× its duration)); quiet is the mirror's second
// when nothing was written; changed100 its second after 100 records were
// written through the store (the writes are not timed).
//
//	go test ./feed -run '^$' -bench AlertLoad -benchtime 20x
func BenchmarkAlertLoad(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srv := feedtest.StartReal(b, "the benchmark measures a real redis-server")
			// a full read of 100k records takes seconds on a loaded machine
			c := redis.NewClient(&redis.Options{Addr: srv.Addr, ReadTimeout: time.Minute})
			defer c.Close()
			ctx := context.Background()
			const period = "2026-11"
			fillAlerts(b, c, period, n)
			st := NewAlertStore(c, "")
			b.Run("full", func(b *testing.B) {
				for b.Loop() {
					recs, _, err := st.Load(ctx, period)
					if err != nil || len(recs) != n {
						b.Fatalf("%d records (%v), want %d", len(recs), err, n)
					}
				}
			})
			m := NewAlertMirror(st, nil)
			if _, err := m.Sync(ctx, period); err != nil || len(m.Records()) != n {
				b.Fatalf("%d records (%v), want %d", len(m.Records()), err, n)
			}
			b.Run("quiet", func(b *testing.B) {
				for b.Loop() {
					if changed, err := m.Sync(ctx, period); err != nil || len(changed) != 0 {
						b.Fatalf("%d changed (%v)", len(changed), err)
					}
				}
			})
			at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			k := 0
			b.Run("changed100", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					for range 100 {
						id := model.AlertID(period, fmt.Sprintf("workspace-%06d", k%n), "", model.AlertThreshold, "75")
						k += 7919
						if ok, err := st.Report(ctx, period, id, 0, "host/1234/abcd", nil, false, at.Add(time.Duration(k)*time.Second)); !ok || err != nil {
							b.Fatalf("report %s: %v %v", id, ok, err)
						}
					}
					b.StartTimer()
					if changed, err := m.Sync(ctx, period); err != nil || len(changed) != 100 {
						b.Fatalf("%d changed (%v), want 100", len(changed), err)
					}
				}
			})
			full, partial := m.Reads(period)
			b.Logf("%d records: %d full reads, %d incremental", n, full, partial)
		})
	}
}
