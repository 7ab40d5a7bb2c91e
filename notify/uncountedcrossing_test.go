package notify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestACrossingTheCountersNeverHeldFiresNothing (hostile16 #6): an entry
// whose credits field says 800 while its MULTI adds 1 to the counter (a
// repeated field, a producer's bug) took a workspace from 10 % to 90 % on
// the stream: the threshold alerts fired to every sink and resolved at the
// audit seconds later. The counters are the truth: a crossing they never
// held is stored nowhere (model.Ledger.CountersHeld), while a real one,
// after, fires as before.
func TestACrossingTheCountersNeverHeldFiresNothing(t *testing.T) {
	srv, st, period := startStore(t)
	ctx := context.Background()
	setUp(t, srv, model.Settings{Allocation: 1000}, 100)
	w1 := startInstance(t, srv, "w1", newReceiver(t).srv.URL)
	select {
	case <-w1.hub.Seeded():
	case <-time.After(20 * time.Second):
		t.Fatal("w1 never read the counters")
	}
	time.Sleep(MaxStartHold) // its watcher judges from the hub's ledger
	keys := feed.Keys{}
	c := srv.Client()
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, keys.Used(period), "acme", 1)
		p.HIncrBy(ctx, keys.UsedBy(period), model.UsedByField("acme", "", "/responses"), 1)
		p.HIncrBy(ctx, keys.Digest(period), feed.DigestUsedField("acme"), 1)
		p.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), Values: []any{"v", "1", "ts", ts, "ws", "acme", "endpoint", "/responses",
			"credits", "1", "status", "200", "credits", "800"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// the audit finds the counters apart and re-reads them (its own alert)
	drift := model.AlertID(period, "", "", model.AlertResync, "drift")
	settledAll(t, st, period, 1, drift)
	time.Sleep(time.Second) // a few cycles after it
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range []int{50, 75, 90} {
		if r, ok := recs[model.AlertID(period, "acme", "", model.AlertThreshold, strconv.Itoa(th))]; ok {
			t.Errorf("a crossing of %d %% the counters never held is stored: %+v", th, r)
		}
	}
	// a real crossing still fires: 101 + 500 is past 50 %
	setUp(t, srv, model.Settings{Allocation: 1000}, 500)
	settledAll(t, st, period, 2, drift, model.AlertID(period, "acme", "", model.AlertThreshold, "50"))
}
