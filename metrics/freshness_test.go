package metrics

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestFeedFreshnessCannotLie: feed_last_event_timestamp_seconds is when the
// newest entry was read, by mavtop's clock, and stays there while no entry
// comes (a producer that stopped: time() minus it grows, where
// feed_lag_seconds kept the last batch's 0.0006 for ever); feed_lag_seconds
// is NaN while disconnected, at every scrape (it was the last StatsMsg's
// figure, which rose in steps of one retry: 5.0, 10.1, 15.2 …) and while the
// ids are ahead of the clock (it read 0); an id an hour ahead does not move
// the last event's time into the future.
func TestFeedFreshnessCannotLie(t *testing.T) {
	srv := feedtest.Start(t)
	r := startRigOn(t, srv.Client(), func() {}, Options{})
	gauge := func(name string) (float64, bool) {
		t.Helper()
		v, ok := series(t, scrape(t, r.url), name, dto.MetricType_GAUGE)[""]
		return v, ok
	}
	statsAt := func() time.Time {
		var at time.Time
		r.hub.Read(func(_ *model.Ledger, _ *feed.ConnMsg, s *feed.StatsMsg) {
			if s != nil {
				at = s.At
			}
		})
		return at
	}
	before := time.Now()
	r.publish(t, usage("acme", "", "/responses", 10))
	var last float64
	waitFor(t, "the last event's time", func() bool {
		last, _ = gauge("mavtop_feed_last_event_timestamp_seconds")
		return last > 0
	})
	if at := time.UnixMilli(int64(last * 1e3)); at.Before(before.Add(-time.Second)) || at.After(time.Now()) {
		t.Fatalf("last event at %v, published between %v and now", at, before)
	}
	if lag, ok := gauge("mavtop_feed_lag_seconds"); !ok || math.IsNaN(lag) || lag < 0 || lag > 5 {
		t.Fatalf("connected, caught up: lag %v (%v)", lag, ok)
	}
	// quiet: the stats go on, the last event's time stays
	seen := statsAt()
	waitFor(t, "two more stats", func() bool { return statsAt().After(seen.Add(100 * time.Millisecond)) })
	if again, _ := gauge("mavtop_feed_last_event_timestamp_seconds"); again != last {
		t.Fatalf("quiet stream: last event %v, was %v", again, last)
	}

	srv.Kill()
	waitFor(t, "the feed to see Redis gone", func() bool {
		c, _ := gauge("mavtop_feed_connected")
		return c == 0
	})
	for i := range 5 {
		if lag, ok := gauge("mavtop_feed_lag_seconds"); ok && !math.IsNaN(lag) {
			t.Fatalf("disconnected, scrape %d: lag %v, want NaN (unknown)", i, lag)
		}
		if got, _ := gauge("mavtop_feed_last_event_timestamp_seconds"); got != last {
			t.Fatalf("disconnected, scrape %d: last event %v, want %v kept", i, got, last)
		}
		time.Sleep(50 * time.Millisecond) // scrapes spread over retries, not a wait for a state
	}

	srv.Restart()
	waitFor(t, "the feed back", func() bool {
		c, _ := gauge("mavtop_feed_connected")
		return c == 1
	})
	future := time.Now().Add(time.Hour).UnixMilli()
	if err := srv.Client().XAdd(context.Background(), &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: strconv.FormatInt(future, 10) + "-0",
		Values: []any{"v", "1", "ws", "acme", "endpoint", "/responses", "credits", "1", "status", "200", "ts", strconv.FormatInt(future, 10)}}).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ids ahead reported", func() bool {
		a, _ := gauge("mavtop_feed_ids_ahead_seconds")
		return a > 3500
	})
	if lag, ok := gauge("mavtop_feed_lag_seconds"); ok && !math.IsNaN(lag) {
		t.Errorf("ids an hour ahead: lag %v, want NaN (unknown)", lag)
	}
	got, _ := gauge("mavtop_feed_last_event_timestamp_seconds")
	if at := time.UnixMilli(int64(got * 1e3)); at.After(time.Now()) || got <= last {
		t.Errorf("ids an hour ahead: last event at %v, want when it was read (after %v, not after now)", at, time.UnixMilli(int64(last*1e3)))
	}
}

// TestAStartsLastEventIsTheProducers (issue 11): producers silent for 2 h,
// then `budget set`: a start's feed_last_event_timestamp_seconds is the
// usage event's time, as a collector watching all along has it (time()
// minus it, 2 h, fires MaveraNoUsage), not the settings entry's. Before,
// the start was seeded from the stream's newest id of any kind: now.
func TestAStartsLastEventIsTheProducers(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	old := time.Now().Add(-2 * time.Hour)
	ms := strconv.FormatInt(old.UnixMilli(), 10)
	// the usage event and its counter, as its producer left them
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, feed.Keys{}.Used(model.MonthlyUTC.At(old).Key), "acme", 3)
		p.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: ms + "-0",
			Values: []any{"v", "1", "ts", ms, "ws", "acme", "endpoint", "/responses", "credits", "3", "status", "200"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	r := startRigOn(t, c, func() {}, Options{})
	var last float64
	waitFor(t, "the last event's time", func() bool {
		last = series(t, scrape(t, r.url), "mavtop_feed_last_event_timestamp_seconds", dto.MetricType_GAUGE)[""]
		return last > 0
	})
	if got := int64(math.Round(last * 1e3)); got != old.UnixMilli() {
		t.Errorf("a start after `budget set` on producers silent 2 h: last event at %v, want the usage event's %v",
			time.UnixMilli(got), old.Truncate(time.Millisecond))
	}
}
