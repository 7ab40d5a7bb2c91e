package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Spending cycles: every workspace's rate swings around its average, each on
// its own phase, so burn rates and charts move the way real traffic does (busier
// and quieter stretches) while the average — and so the pace — stays as set.
const (
	// CyclePeriod is the length of one spending cycle.
	CyclePeriod = 20 * time.Minute
	// CycleSwing is how far the rate swings either way, as a share of the average.
	CycleSwing = 0.4
)

// cycle returns the rate multiplier of workspace ws at t (1 ± CycleSwing). It
// depends on the absolute time only, so History and Run draw the same curve.
func cycle(ws string, t time.Time) float64 {
	phase := float64(hash(ws)%1000) / 1000
	x := float64(t.UnixMilli())/float64(CyclePeriod.Milliseconds()) + phase
	return 1 + CycleSwing*math.Sin(2*math.Pi*x)
}

// nextArrival returns the wait from now to the next call of a workspace whose
// average rate is rate calls per second: Poisson arrivals at the cycle's peak
// rate, each kept with the cycle's share of it (thinning).
func nextArrival(r *rand.Rand, ws string, rate float64, now time.Time) time.Duration {
	peak := rate * (1 + CycleSwing)
	var wait time.Duration
	for {
		wait += time.Duration(-math.Log(1-r.Float64()) / peak * float64(time.Second))
		if r.Float64()*(1+CycleSwing) <= cycle(ws, now.Add(wait)) {
			return wait
		}
	}
}
