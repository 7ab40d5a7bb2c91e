package client

import (
	"context"
	"sync"
	"time"

	"mavtop/internal/backoff"
)

// Clock is the time source of the client, the sandbox and the simulator. Injecting
// it lets tests and the demo run in compressed time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first; it returns
	// ctx.Err() when ctx ended the wait.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is wall-clock time.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d of real time, or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d) }

// ScaledClock runs Speed times faster than real time from Start: after one real
// second, Now is Start plus Speed seconds, and Sleep(d) takes d/Speed of real time.
// Every component sharing one ScaledClock agrees on the time, so ten minutes of
// simulated traffic take a few real seconds.
type ScaledClock struct {
	start time.Time
	speed float64

	mu       sync.Mutex
	realBase time.Time
	offset   time.Duration
}

// NewScaledClock returns a clock that starts at start and runs speed times faster
// than real time (speed ≤ 0 means 1).
func NewScaledClock(start time.Time, speed float64) *ScaledClock {
	if speed <= 0 {
		speed = 1
	}
	return &ScaledClock{start: start, speed: speed, realBase: time.Now()}
}

// Speed returns how many times faster than real time the clock runs.
func (c *ScaledClock) Speed() float64 { return c.speed }

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	elapsed := time.Since(c.realBase)
	return c.start.Add(c.offset + time.Duration(float64(elapsed)*c.speed))
}

// Advance moves the clock forward by d at once (for tests that jump past a delay).
func (c *ScaledClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Sleep waits for d of scaled time: d/Speed of real time.
func (c *ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return backoff.Sleep(ctx, time.Duration(float64(d)/c.speed))
}
