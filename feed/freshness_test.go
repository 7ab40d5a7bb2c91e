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

// addUsageAt writes one usage entry of ws dated at (its id's time and its
// ts), as a producer that wrote it then left it; no counters (the tests
// below audit nothing).
func addUsageAt(t *testing.T, c redis.UniversalClient, ws string, at time.Time) string {
	t.Helper()
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	id, err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: Keys{}.Stream(), ID: ms + "-0",
		Values: []any{"v", "1", "ts", ms, "ws", ws, "endpoint", "/responses", "credits", "3", "status", "200"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newestID is the stream's newest entry's id.
func newestID(t *testing.T, c redis.UniversalClient) string {
	t.Helper()
	last, err := c.XRevRangeN(context.Background(), Keys{}.Stream(), "+", "-", 1).Result()
	if err != nil || len(last) != 1 {
		t.Fatalf("the newest entry: %v %v", last, err)
	}
	return last[0].ID
}

// TestAStartIsDatedByTheProducersNewestEntry (issue 11): a start and a
// re-read date the feed by the newest producer entry in the stream
// (model.NewestProducer), as a dashboard watching all along does, never by
// the stream's newest id when that is a settings entry. Producers silent
// for 2 h, then `budget set`: before, a fresh start read the settings
// entry's time (idle 0 s, /metrics' last event now) and a re-read moved a
// watching dashboard's 2 h to now. Producers writing, a settings entry
// older: still fresh. A stream of settings entries alone: no event (zero).
func TestAStartIsDatedByTheProducersNewestEntry(t *testing.T) {
	ctx := context.Background()
	opt := SubscriberOptions{StatsEvery: 50 * time.Millisecond, AuditEvery: -1}
	// the stats after the snapshot read up to id
	statsAt := func(f *follower, id string, snaps int) StatsMsg {
		t.Helper()
		var st StatsMsg
		f.waitFor("the stats after the read", 10*time.Second, func(f *follower) bool {
			if len(f.snaps) < snaps {
				return false
			}
			at := f.snaps[len(f.snaps)-1].At
			for i := len(f.stats) - 1; i >= 0; i-- {
				if s := f.stats[i]; s.LastID == id && s.At.After(at) {
					st = s
					return true
				}
			}
			return false
		})
		return st
	}

	t.Run("start", func(t *testing.T) {
		srv := feedtest.Start(t)
		c := srv.Client()
		old := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
		addUsageAt(t, c, "acme", old)
		if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 300}); err != nil {
			t.Fatal(err)
		}
		st := statsAt(startFollower(t, c, opt), newestID(t, c), 1)
		if !st.LastEntryAt.Equal(old) || st.IdleAtLeast || st.Idle < 2*time.Hour {
			t.Errorf("a start after `budget set` on producers silent 2 h: last entry %v (idle %v, bound %v), want the usage event's %v",
				st.LastEntryAt, st.Idle, st.IdleAtLeast, old)
		}
	})

	t.Run("re-read", func(t *testing.T) {
		srv := feedtest.Start(t)
		c := srv.Client()
		old := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
		id := addUsageAt(t, c, "acme", old)
		f := startFollower(t, c, opt)
		if st := statsAt(f, id, 1); !st.LastEntryAt.Equal(old) {
			t.Fatalf("a start on producers silent 2 h: last entry %v, want %v", st.LastEntryAt, old)
		}
		if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 300}); err != nil {
			t.Fatal(err)
		}
		set := newestID(t, c)
		if st := statsAt(f, set, 1); !st.LastEntryAt.Equal(old) {
			t.Fatalf("the settings entry read live: last entry %v, want %v", st.LastEntryAt, old)
		}
		f.sub.Resync()
		st := statsAt(f, set, 2)
		if !st.LastEntryAt.Equal(old) || st.IdleAtLeast || st.Idle < 2*time.Hour {
			t.Errorf("a re-read after `budget set` on producers silent 2 h: last entry %v (idle %v, bound %v), want the usage event's %v",
				st.LastEntryAt, st.Idle, st.IdleAtLeast, old)
		}
	})

	t.Run("producers writing, settings older", func(t *testing.T) {
		srv := feedtest.Start(t)
		c := srv.Client()
		hour := strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: Keys{}.Stream(), ID: hour + "-0",
			Values: []any{"v", "1", "ts", hour, "ws", "acme", "kind", "settings", "msg", `{"allocation":300}`}}).Err(); err != nil {
			t.Fatal(err)
		}
		recent := time.Now().Add(-5 * time.Second).Truncate(time.Millisecond)
		addUsageAt(t, c, "acme", recent)
		if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 400}); err != nil {
			t.Fatal(err) // newer still: read past it
		}
		st := statsAt(startFollower(t, c, opt), newestID(t, c), 1)
		if !st.LastEntryAt.Equal(recent) || st.IdleAtLeast {
			t.Errorf("a start on producers writing 5 s ago: last entry %v (bound %v), want %v", st.LastEntryAt, st.IdleAtLeast, recent)
		}
	})

	t.Run("settings entries alone", func(t *testing.T) {
		srv := feedtest.Start(t)
		c := srv.Client()
		if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 300}); err != nil {
			t.Fatal(err)
		}
		st := statsAt(startFollower(t, c, opt), newestID(t, c), 1)
		if !st.LastEntryAt.IsZero() || st.IdleAtLeast || st.Idle != 0 {
			t.Errorf("a stream without a producer entry: last entry %v (idle %v, bound %v), want none", st.LastEntryAt, st.Idle, st.IdleAtLeast)
		}
	})
}

// TestAStartBeyondItsBoundSaysSo: producers silent 2 h, then more settings
// entries than a start reads back (FreshSeedEntries): the start cannot find
// the producer's newest entry and says so, a bound (StatsMsg.IdleAtLeast,
// the oldest entry read's time, which the producer's is older than), never
// the newest id's time as if written then; the first usage event read
// ends it.
func TestAStartBeyondItsBoundSaysSo(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	old := time.Now().Add(-2 * time.Hour)
	addUsageAt(t, c, "acme", old)
	first := time.Now().Add(-10 * time.Minute).UnixMilli()
	pipe := c.Pipeline()
	for i := range FreshSeedEntries + 10 {
		ms := strconv.FormatInt(first+int64(i), 10)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: Keys{}.Stream(), ID: ms + "-0",
			Values: []any{"v", "1", "ts", ms, "ws", "acme", "kind", "settings", "msg", `{"allocation":300}`}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	f := startFollower(t, c, SubscriberOptions{StatsEvery: 50 * time.Millisecond, AuditEvery: -1})
	var st StatsMsg
	f.waitFor("the stats after the start", 10*time.Second, func(f *follower) bool {
		if n := len(f.stats); n > 0 && len(f.snaps) > 0 {
			st = f.stats[n-1]
			return st.At.After(f.snaps[0].At)
		}
		return false
	})
	// the oldest of the newest 256: the 11th written
	bound := time.UnixMilli(first + 10)
	if !st.IdleAtLeast || !st.LastEntryAt.Equal(bound) || st.Idle < 10*time.Minute {
		t.Fatalf("no producer entry among the newest %d: last entry %v (idle %v, bound %v), want the bound %v", FreshSeedEntries, st.LastEntryAt, st.Idle, st.IdleAtLeast, bound)
	}
	pub := NewPublisher(c, PublisherOptions{})
	ev, err := pub.Record(ctx, model.Event{TS: time.Now().UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 1, Status: 200})
	if err != nil {
		t.Fatal(err)
	}
	f.waitFor("a usage event read", 10*time.Second, func(f *follower) bool {
		st = f.stats[len(f.stats)-1]
		return st.LastID == ev.ID
	})
	if st.IdleAtLeast || st.LastEntryAt.Before(bound.Add(10*time.Minute-time.Second)) {
		t.Errorf("a usage event read: last entry %v (bound %v), want when it was read", st.LastEntryAt, st.IdleAtLeast)
	}
}
