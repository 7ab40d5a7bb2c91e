package cmd

import (
	"context"
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
