package backoff

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestDelayDoublesFromMinUpToMaxWithHalfJitter(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name     string
		min, max time.Duration
		n        int
		ceiling  time.Duration
	}{
		{"first attempt", 100 * ms, 5 * time.Second, 1, 100 * ms},
		{"second doubles", 100 * ms, 5 * time.Second, 2, 200 * ms},
		{"sixth", 100 * ms, 5 * time.Second, 6, 3200 * ms},
		{"seventh reaches the cap", 100 * ms, 5 * time.Second, 7, 5 * time.Second},
		{"far past the cap", 100 * ms, 5 * time.Second, 500, 5 * time.Second},
		{"attempt 0 is the first", 100 * ms, 5 * time.Second, 0, 100 * ms},
		{"unset min", 0, time.Second, 1, DefaultMin},
		{"unset max: no growth", 20 * ms, 0, 5, 20 * ms},
		{"max below min caps", 500 * ms, 100 * ms, 1, 100 * ms},
	} {
		b := &Backoff{Min: tc.min, Max: tc.max, Rand: rand.New(rand.NewPCG(7, 8))}
		lo, hi := tc.ceiling, time.Duration(0)
		for range 2000 {
			d := b.Delay(tc.n)
			lo, hi = min(lo, d), max(hi, d)
		}
		// Every draw lies in [ceiling/2, ceiling), and 2,000 draws cover most of it.
		if lo < tc.ceiling/2 || hi >= tc.ceiling || lo > tc.ceiling/2+tc.ceiling/50 || hi < tc.ceiling-tc.ceiling/50 {
			t.Errorf("%s: draws in [%v, %v], want [%v, %v)", tc.name, lo, hi, tc.ceiling/2, tc.ceiling)
		}
	}
}

func TestSameSeedSameDelays(t *testing.T) {
	a := &Backoff{Min: time.Second, Max: time.Minute, Rand: rand.New(rand.NewPCG(3, 4))}
	b := &Backoff{Min: time.Second, Max: time.Minute, Rand: rand.New(rand.NewPCG(3, 4))}
	for n := 1; n < 20; n++ {
		if da, db := a.Delay(n), b.Delay(n); da != db {
			t.Fatalf("attempt %d: %v and %v from one seed", n, da, db)
		}
	}
	if j := a.Jitter(0); j != 0 {
		t.Fatalf("jitter of 0: %v", j)
	}
}

// Two instances left to the default source — two processes that failed
// against the same receiver at the same moment — do not wait the same times:
// with a fixed default seed every mavtop would retry in lockstep.
func TestDefaultSourcesDrawApart(t *testing.T) {
	a := &Backoff{Min: time.Second, Max: time.Hour}
	b := &Backoff{Min: time.Second, Max: time.Hour}
	same := 0
	for n := 1; n <= 20; n++ {
		if a.Delay(n) == b.Delay(n) {
			same++
		}
	}
	// Each delay has nanosecond resolution over at least half a second: a
	// single coincidence is already a one-in-10⁸ event.
	if same > 0 {
		t.Fatalf("%d of 20 delays equal between two default sources", same)
	}
}
