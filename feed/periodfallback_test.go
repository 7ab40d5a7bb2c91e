package feed

import (
	"context"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAProducerWritesIntoTheFallbackPeriodWhenTheConfigIsUnreadable: with a
// stored billing-period config no one can read, the Go publisher (emit, the
// proxy, the client) still records every event, into the period
// model.PeriodFallback gives (calendar months in UTC), the period every
// reader judges by meanwhile: the counters a dashboard reads (ReadSnapshot)
// hold the events. Before, Track returned the parse error and wrote nothing
// (emit retried it for 10 s, then lost the event). Once repaired, the
// producer follows the stored rule again (within PeriodRefresh).
func TestAProducerWritesIntoTheFallbackPeriodWhenTheConfigIsUnreadable(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	ts, fallbackKey, meantKey := tokyoFallback(t)
	for _, raw := range []string{`{"start_day":99,"tz":"Asia/Tokyo"}`, `{"start_day":15,"tz":"Asia/Tokio"}`, `not json`} {
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.HSet(ctx, keys.Settings(), PeriodSettingsField, raw).Err(); err != nil {
			t.Fatal(err)
		}
		clock := newClock(ts)
		pub := NewPublisher(c, PublisherOptions{Now: clock.Now, RetryFor: time.Second})
		if err := pub.Track(ctx, usage("acme", "research", "/responses", 4)); err != nil {
			t.Fatalf("%s: Track: %v; want the event recorded in the fallback's period", raw, err)
		}
		if err := pub.TrackBatch(ctx, []model.Event{usage("acme", "", "/responses", 3), usage("globex", "", "/responses", 2)}); err != nil {
			t.Fatalf("%s: TrackBatch: %v", raw, err)
		}
		if pub.PeriodUnreadable() == nil {
			t.Errorf("%s: the publisher does not say the config is unreadable", raw)
		}
		for ws, want := range map[string]string{"acme": "7", "globex": "2"} {
			if v, err := c.HGet(ctx, keys.Used(fallbackKey), ws).Result(); err != nil || v != want {
				t.Errorf("%s: HGET used:%s %s = %q, %v; want %s", raw, fallbackKey, ws, v, err, want)
			}
		}
		if v, err := c.HGet(ctx, keys.UsedBy(fallbackKey), "acme/research//responses").Result(); err != nil || v != "4" {
			t.Errorf("%s: HGET used_by:%s = %q, %v; want 4", raw, fallbackKey, v, err)
		}
		if n, _ := c.Exists(ctx, keys.Used(meantKey)).Result(); n != 0 {
			t.Errorf("%s: used:%s written: the producer did not use the fallback", raw, meantKey)
		}
		// the dashboard's read judges the same period, and holds the events
		res, err := ReadSnapshot(ctx, c, keys, ts, model.MonthlyUTC)
		if err != nil {
			t.Fatal(err)
		}
		if res.Snap.Period.Key != fallbackKey || res.Snap.Used["acme"] != 7 || res.Snap.Used["globex"] != 2 || res.PeriodUnreadable == "" {
			t.Errorf("%s: the dashboard's read: period %s, used %v, unreadable %q; want %s, acme 7, globex 2, named",
				raw, res.Snap.Period.Key, res.Snap.Used, res.PeriodUnreadable, fallbackKey)
		}
		if n, _ := c.XLen(ctx, keys.Stream()).Result(); n != 3 {
			t.Errorf("%s: %d stream entries, want 3", raw, n)
		}
		// repaired: the producer follows the stored rule again once it re-reads it
		if err := NewSettingsStore(c, StoreOptions{}).SetPeriod(ctx, model.PeriodConfig{StartDay: 15, TZ: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		clock.Add(2 * time.Minute) // past PeriodRefresh (1 min)
		if err := pub.Track(ctx, usage("acme", "", "/responses", 5)); err != nil {
			t.Fatal(err)
		}
		if v, _ := c.HGet(ctx, keys.Used(meantKey), "acme").Result(); v != "5" || pub.PeriodUnreadable() != nil {
			t.Errorf("%s, repaired: used:%s acme = %q, unreadable %v; want 5, nil", raw, meantKey, v, pub.PeriodUnreadable())
		}
	}
}
