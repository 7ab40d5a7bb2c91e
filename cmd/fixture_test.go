package cmd

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// fixture is a real redis-server and what a test writes to it with: settings
// through the settings store, events through a publisher, counters of the
// billing period current when it started (MonthlyUTC).
type fixture struct {
	srv    *feedtest.Server
	ctx    context.Context
	c      redis.UniversalClient
	store  *feed.SettingsStore
	pub    *feed.Publisher
	period string
}

// newFixture starts a redis-server for t (stopped when t ends).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := feedtest.Start(t)
	c := srv.Client()
	return &fixture{srv: srv, ctx: context.Background(), c: c,
		store: feed.NewSettingsStore(c, feed.StoreOptions{}), pub: feed.NewPublisher(c, feed.PublisherOptions{}),
		period: model.MonthlyUTC.At(time.Now()).Key}
}

// allocate sets each workspace's settings to an allocation alone (credits).
func (f *fixture) allocate(t *testing.T, allocation int64, workspaces ...string) {
	t.Helper()
	for _, ws := range workspaces {
		if err := f.store.SetWorkspace(f.ctx, ws, model.Settings{Allocation: allocation}); err != nil {
			t.Fatal(err)
		}
	}
}

// track publishes each event as a producer does (the stream entry and its
// counters in one MULTI).
func (f *fixture) track(t *testing.T, events ...model.Event) {
	t.Helper()
	for _, e := range events {
		if err := f.pub.Track(f.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// hset writes one hash field as it is, bypassing every producer (a hostile
// or broken value).
func (f *fixture) hset(t *testing.T, key, field string, value any) {
	t.Helper()
	if err := f.c.HSet(f.ctx, key, field, value).Err(); err != nil {
		t.Fatal(err)
	}
}

// startedLedger follows f's Redis as a dashboard started now does — a
// subscriber into a feed.LedgerState — until t ends, and waits (up to 20 s)
// until it has read its hour back and the projects' credits. It returns a
// function that runs fn with the ledger under the follow's lock.
func (f *fixture) startedLedger(t *testing.T) func(fn func(l *model.Ledger)) {
	t.Helper()
	var mu sync.Mutex
	var s feed.LedgerState
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = feed.NewSubscriber(f.c, feed.SubscriberOptions{Block: 100 * time.Millisecond}).Run(ctx, func(m feed.Msg) {
			mu.Lock()
			defer mu.Unlock()
			s.Apply(m)
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitUntil(t, 20*time.Second, "the dashboard's ledger started and read its hour back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return s.Ledger != nil && !s.Ledger.HistoryPending() && !s.Ledger.UsedByPending()
	})
	return func(fn func(l *model.Ledger)) {
		mu.Lock()
		defer mu.Unlock()
		fn(s.Ledger)
	}
}
