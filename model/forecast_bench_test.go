package model

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkForecast is one workspace's forecast (what EvaluateAlerts asks of
// every workspace, and the dashboard of each row it shows), with the step
// rule judged over the hour's buckets: a workspace charged every 100 s (36
// buckets) and one charged every second (all 360), with a step among them
// and without (where no charge can be one, the hour's sums say so at once).
// A forecast reuses what the last one judged while the ring's buckets are
// the same (ringJudged); -walk drops it before each, as a charge does: the
// cost of the first forecast after the ring changed.
func BenchmarkForecast(b *testing.B) {
	for _, c := range []struct {
		every time.Duration
		step  int64
	}{{100 * time.Second, 7_600}, {time.Second, 7_600}, {time.Second, 0}} {
		for _, walk := range []bool{false, true} {
			every := c.every
			name := fmt.Sprintf("every-%v-step-%d", every, c.step)
			if walk {
				name += "-walk"
			}
			b.Run(name, func(b *testing.B) {
				l := NewLedger(MonthlyUTC, t0.Add(-2*time.Hour))
				l.SetSettings("acme", Settings{Allocation: 1_000_000}, ms(-2*time.Hour))
				last := spend(l, "acme", t0.Add(-time.Hour), every, int(time.Hour/every), 3)
				if c.step > 0 {
					e := use("acme", "", "/x", c.step, -10*time.Minute)
					l.Apply(&e)
				}
				b.ReportAllocs()
				b.ResetTimer()
				r := l.ring("acme")
				for range b.N {
					if walk {
						r.judged.Store(nil)
					}
					if f := l.Forecast("acme", last); f.Step != c.step {
						b.Fatalf("step %d", f.Step)
					}
				}
			})
		}
	}
}
