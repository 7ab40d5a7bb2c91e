package feed

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff is a capped exponential backoff with jitter: attempt n waits between
// half and all of min(Max, Min·2ⁿ⁻¹), so reconnecting clients spread out.
type Backoff struct {
	// Min is the first wait and Max the cap.
	Min, Max time.Duration
	// Rand draws the jitter; nil means a fixed-seed source (deterministic).
	Rand *rand.Rand
	mu   sync.Mutex
}

// Delay returns how long to wait before attempt n (n ≥ 1).
func (b *Backoff) Delay(n int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 50 * time.Millisecond
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	b.mu.Lock()
	if b.Rand == nil {
		b.Rand = rand.New(rand.NewPCG(1, 2))
	}
	f := b.Rand.Float64()
	b.mu.Unlock()
	return d/2 + time.Duration(f*float64(d/2))
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
