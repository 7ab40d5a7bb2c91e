package client

import (
	"context"
	"time"
)

// Reconciliation is one reading of GET /usage, for comparing with in-app tracking
// (the seed: the dashboard is the source of truth; reconcile periodically).
type Reconciliation struct {
	// At is when the reading was taken (client clock).
	At time.Time
	// Usage is the reading; nil when Err is set.
	Usage *UsageReport
	// Err is why the reading failed.
	Err error
	// Quiet is true when the reading was taken while every credit the API had
	// charged this client was tracked (Client.Quiesce): a difference then is
	// real, not a call or a job in flight.
	Quiet bool
}

// Reconciler reads GET /usage every Interval and hands each reading to Sink, which
// compares it with the tracked credits (mavtop's header shows the drift).
type Reconciler struct {
	// Client is the client to read with.
	Client *Client
	// Interval is the time between readings (default 5 minutes).
	Interval time.Duration
	// Sink receives every reading, failed ones included; it must not block long.
	// With QuietWait it runs while the client's traffic waits (Client.Quiesce),
	// so it may read what was tracked and compare exactly.
	Sink func(Reconciliation)
	// QuietWait, when > 0, takes each reading at a quiet moment of the client
	// (Client.Quiesce), waiting up to this long for its jobs in flight to finish.
	QuietWait time.Duration
}

// Run reads at once, then every Interval, until ctx is done; it returns ctx.Err().
func (r *Reconciler) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	clock := r.Client.Clock()
	for {
		read := func(quiet bool) {
			u, err := r.Client.Usage(ctx)
			if ctx.Err() == nil && r.Sink != nil {
				r.Sink(Reconciliation{At: clock.Now(), Usage: u, Err: err, Quiet: quiet})
			}
		}
		if r.QuietWait > 0 {
			r.Client.Quiesce(ctx, r.QuietWait, read)
		} else {
			read(false)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := clock.Sleep(ctx, interval); err != nil {
			return err
		}
	}
}
