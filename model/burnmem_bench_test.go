package model

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkBurnRingBytes reports what a burn ring holds (bytes/ring: heap in
// use after building 1,000 of them, over 1,000) for an hour of charges: 36 an
// hour (a bucket each), one a second alike (360 buckets of 10), one every
// 350 ms of 1–40 credits (LedgerApply's mix: unlike sizes in every bucket),
// and one a second with a burst of large charges every 5 minutes.
func BenchmarkBurnRingBytes(b *testing.B) {
	start := t0.UnixMilli()
	for _, c := range []struct {
		name   string
		every  time.Duration
		credit func(i int) int64
	}{
		{"36-an-hour", 100 * time.Second, func(int) int64 { return 3 }},
		{"1s-alike", time.Second, func(int) int64 { return 3 }},
		{"350ms-1to40", 350 * time.Millisecond, func(i int) int64 { return int64(1 + i*11%40) }},
		{"1s-bursts", time.Second, func(i int) int64 {
			if i%300 < 3 {
				return 3800
			}
			return 3
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			const rings = 1000
			n := int(time.Hour / c.every)
			var per float64
			for range b.N {
				keep := make([]*burnRing, rings)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for k := range keep {
					r := new(burnRing)
					for i := range n {
						r.charge(start+int64(time.Duration(i)*c.every/time.Millisecond), c.credit(i))
					}
					keep[k] = r
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				per = float64(after.HeapAlloc-before.HeapAlloc) / rings
				runtime.KeepAlive(keep)
			}
			b.ReportMetric(per, "bytes/ring")
			b.ReportMetric(0, "ns/op")
		})
	}
}
