package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/client"
	"mavtop/feed"
	"mavtop/model"
	"mavtop/tui"
)

// startHub follows the stream in the background and fans it out; every
// dashboard (local or over SSH) and the metrics read from the one hub.
func startHub(ctx context.Context, rdb redis.UniversalClient, prefix string) *feed.Hub {
	hub := feed.NewHub()
	sub := feed.NewSubscriber(rdb, feed.SubscriberOptions{Prefix: prefix})
	go func() { _ = hub.Run(ctx, sub) }()
	return hub
}

// api is the dashboard's link to the Mavera API: launches, the retry queue, and
// reconciliation readings for the header.
type api struct {
	client   *client.Client
	retries  *client.RetryQueue
	balances *feed.Balances
	latest   atomic.Pointer[client.Reconciliation]
}

// launcher returns the estimator's launcher, or nil without an API client.
func (a *api) launcher() tui.Launcher {
	if a == nil || a.client == nil {
		return nil
	}
	return &tui.ClientLauncher{Client: a.client, Retries: a.retries}
}

// run reconciles with GET /usage every interval and retries queued jobs whose
// workspace has credits again, until ctx is done.
func (a *api) run(ctx context.Context, reconcileEvery time.Duration) {
	if a == nil || a.client == nil {
		return
	}
	if reconcileEvery > 0 {
		r := &client.Reconciler{Client: a.client, Interval: reconcileEvery, Sink: func(rec client.Reconciliation) { a.latest.Store(&rec) }}
		go func() { _ = r.Run(ctx) }()
	}
	if a.retries != nil {
		go func() {
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					_, _ = a.retries.Poll(ctx, a.balances, a.client.Relaunch)
				}
			}
		}()
	}
}

// status is the header's API status: requests left, and drift between what the
// API says the account used and what the stream counted (every workspace).
func (a *api) status(hub *feed.Hub) func() tui.APIStatus {
	if a == nil || a.client == nil {
		return nil
	}
	return func() tui.APIStatus {
		st := tui.APIStatus{RateLimit: a.client.RateLimit()}
		rec := a.latest.Load()
		if rec == nil {
			return st
		}
		d := &tui.Drift{At: rec.At, Err: rec.Err}
		if rec.Err == nil && rec.Usage != nil {
			d.APIUsed = rec.Usage.Credits.Used
			hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
				if l != nil {
					for _, s := range l.Summaries(nil) {
						d.Tracked += s.Used
					}
				}
			})
		} else if d.Err == nil {
			d.Err = errors.New("no usage in the reading")
		}
		st.Drift = d
		return st
	}
}
