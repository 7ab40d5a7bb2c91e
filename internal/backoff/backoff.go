// Package backoff spaces retries: the one capped exponential backoff with jitter
// that every retry loop of mavtop uses (the feed's reconnects and writes, the API
// client's retries), so they all spread out the same way and tests can seed them.
package backoff

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultMin is the first wait's ceiling when Min is not set.
const DefaultMin = 50 * time.Millisecond

// Backoff is a capped exponential backoff with jitter: attempt n waits between
// half and all of min(Max, Min·2ⁿ⁻¹), drawn from Rand, so clients that failed
// together do not come back together. It is safe for concurrent use.
//
// The zero Rand draws from a source seeded at random for each Backoff: two
// processes (or two retry loops of one) that failed at the same moment against
// the same server wait different times. A fixed seed would have them all retry
// in lockstep. Tests that want the same delays every run give Rand a seed.
type Backoff struct {
	// Min is the first attempt's ceiling (DefaultMin when ≤ 0); it doubles per
	// attempt up to Max, which caps every wait (≤ 0: Min, so no growth).
	Min, Max time.Duration
	// Rand draws the jitter; nil means a source seeded at random (from the
	// process's runtime-seeded generator) on first use.
	Rand *rand.Rand
	mu   sync.Mutex
}

// Delay returns how long to wait before attempt n (n ≥ 1: 1 is the first retry).
func (b *Backoff) Delay(n int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultMin
	}
	if hi <= 0 {
		hi = lo
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + b.Jitter(d/2)
}

// Jitter returns a random duration in [0, d) from Rand (0 when d ≤ 0), for waits
// that are not exponential but should still not line up (a Retry-After).
func (b *Backoff) Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	b.mu.Lock()
	if b.Rand == nil {
		b.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	f := b.Rand.Float64()
	b.mu.Unlock()
	return time.Duration(f * float64(d))
}

// Sleep waits d of real time or until ctx is done, whichever comes first; it
// returns ctx.Err() when ctx ended the wait (at once when d ≤ 0), else nil.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
