package notify

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAUserWithoutXInfoStillAlerts (hostile18 E): a cycle that cannot read
// the stream's end holds the ledger for that cycle (it may be one Redis
// lost), but a user the ACL denies XINFO gets the same refusal every cycle:
// held each time, acme at 600 of 1,000 never fired its 50 % (only feed_stale
// and the reset's alert were judged). A refusal that will not pass judges
// the ledger whole, as before the hold.
func TestAUserWithoutXInfoStillAlerts(t *testing.T) {
	srv := feedtest.Start(t)
	if !srv.Real {
		t.Skip("ACL users need a real redis-server")
	}
	ctx := context.Background()
	admin := srv.Client()
	if err := admin.Do(ctx, "ACL", "SETUSER", "noxinfo", "on", ">pw", "~*", "&*", "+@all", "-xinfo").Err(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "noxinfo", Password: "pw"})
	t.Cleanup(func() { _ = c.Close() })
	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), Values: []any{"v", "1"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	st := feed.NewAlertStore(c, "")
	if _, err := st.StreamEnd(ctx); err == nil {
		t.Fatal("fixture: XINFO allowed")
	}
	rule := model.PeriodRule{StartDay: 1, Location: time.UTC}
	now := time.Now()
	period := rule.At(now)
	l := model.NewLedger(rule, now)
	l.Seed(&model.Snapshot{Period: period, StreamID: id, Used: map[string]int64{"acme": 600},
		Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}, now)
	fifty := model.AlertID(period.Key, "acme", "", model.AlertThreshold, "50")
	w := NewWatcher(WatcherOptions{Store: st, Now: func() time.Time { return now }, Instance: "w"})
	w.source = feed.SourceStream // as Run sets it from a ledger read from the stream
	h := model.FeedHealth{Connected: true, Since: now}
	for range 5 {
		now = now.Add(time.Second)
		w.cycle(ctx, l, h, false)
	}
	recs, _, err := st.Load(ctx, period.Key)
	if err != nil {
		t.Fatal(err)
	}
	if recs[fifty].Status != model.AlertFiring {
		t.Errorf("5 cycles, Redis lost nothing, acme at 600 of 1,000: the 50 %% is %q, want firing (%v)", recs[fifty].Status, w.StoreErr())
	}
}
