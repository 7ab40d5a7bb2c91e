package feed

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestIDsAheadEndWhenTheClockPassesThem: an entry id 3 s ahead of the clock
// is reported ahead (the header's "ids 3 s ahead of clock") until the clock
// passes it, with no entry after it: it was judged at the batch only, so a
// stream quiet after it said "ahead" for good. LastEntryAt is when it was
// read, never the future id's time.
func TestIDsAheadEndWhenTheClockPassesThem(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	// no audit on a cadence: its re-read also ends "ahead", 10 s later
	f := startFollower(t, c, SubscriberOptions{StatsEvery: 50 * time.Millisecond, AuditEvery: -1})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	at := time.Now().Add(3 * time.Second).UnixMilli()
	if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: Keys{}.Stream(), ID: strconv.FormatInt(at, 10) + "-0", Values: []any{
		"v", "1", "ts", strconv.FormatInt(at, 10), "ws", "alpha", "endpoint", "/responses", "credits", "3", "status", "200"}}).Err(); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the id reported ahead", 10*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.Ahead > 0
	})
	if st := f.lastStats(); st.LastEntryAt.IsZero() || st.LastEntryAt.After(time.Now()) || st.LastEntryAt.UnixMilli() >= at-time.Second.Milliseconds() {
		t.Fatalf("last entry at %v; read before %v, its id %v", st.LastEntryAt, time.Now(), time.UnixMilli(at))
	}
	f.waitFor("nothing ahead once the clock passed the id", 15*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.Ahead == 0 && st.At.UnixMilli() > at
	})
}

// TestSettingsEntriesAreNoSignOfTheProducer: `budget set` three times after
// a usage event leaves the freshness the header (idle, rate) and /metrics
// (feed_last_event_timestamp_seconds) read where the usage event put it,
// as check --stale judges it (model.FeedsFreshness). Before (issue 11) each
// settings entry moved it: "12 ev/min · idle 4 s" on a dashboard whose
// producer had been silent for 2 minutes, while check said "no event for 2
// min".
func TestSettingsEntriesAreNoSignOfTheProducer(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	f := startFollower(t, c, SubscriberOptions{StatsEvery: 50 * time.Millisecond, AuditEvery: -1})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	pub := NewPublisher(c, PublisherOptions{})
	usage, err := pub.Record(ctx, model.Event{TS: time.Now().UnixMilli(), Workspace: "pw", Endpoint: "/responses", Credits: 3, Status: 200})
	if err != nil {
		t.Fatal(err)
	}
	var seen time.Time
	f.waitFor("the usage event read", 10*time.Second, func(f *follower) bool {
		st := f.lastStats()
		if st != nil && st.LastID == usage.ID && !st.LastEntryAt.IsZero() {
			seen = st.LastEntryAt
			return true
		}
		return false
	})
	store := NewSettingsStore(c, StoreOptions{})
	for i := range 3 {
		if err := store.SetWorkspace(ctx, "pw", model.Settings{Allocation: int64(300 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	last, err := c.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
	if err != nil || len(last) != 1 || last[0].ID == usage.ID {
		t.Fatalf("the settings entries: %v %v", last, err)
	}
	var st *StatsMsg
	f.waitFor("the settings entries read, and a window with none but them", 10*time.Second, func(f *follower) bool {
		st = f.lastStats()
		return st != nil && st.LastID == last[0].ID && st.EventsPerSec == 0
	})
	if !st.LastEntryAt.Equal(seen) || st.Idle < st.At.Sub(seen) {
		t.Fatalf("after 3 settings entries: last entry at %v, idle %v; want the usage event's %v", st.LastEntryAt, st.Idle, seen)
	}
}
