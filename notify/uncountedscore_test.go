package notify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestARefusalTheCountersNeverHeldScoresNoForecast is the forecast part of
// hunt11's first defect: a credits_exhausted 402 in the stream that the
// counters never recorded (the entry repeats status, 200 then 402, inside
// the producer's MULTI) fired the refusal alert, and its firing was kept as
// the forecast's score ("12 h early", mavtop_forecast_error_seconds) after
// the audit re-read the counters and the alert resolved as gone from them.
// The counters are the truth: a refusal they never held fires nothing
// (stored nowhere) and scores nothing.
func TestARefusalTheCountersNeverHeldScoresNoForecast(t *testing.T) {
	srv, st, period := startStore(t)
	ctx := context.Background()
	setUp(t, srv, model.Settings{Allocation: 1000}, 100)
	u := notifytest.NewUsage(t, srv.Client())
	for range 5 {
		u.Spend("acme", 100)
	}
	w1 := startInstance(t, srv, "w1", newReceiver(t).srv.URL)
	runOut := model.AlertID(period, "acme", "", model.AlertRunOut, "")
	settledAll(t, st, period, 1, runOut)
	waitFor(t, "w1 to hold a projection", func() bool {
		w1.w.mu.Lock()
		defer w1.w.mu.Unlock()
		return !w1.w.runOut["acme"].IsZero()
	})
	keys := feed.Keys{}
	c := srv.Client()
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, keys.Used(period), "acme", 1)
		p.HIncrBy(ctx, keys.UsedBy(period), model.UsedByField("acme", "", "/responses"), 1)
		p.HIncrBy(ctx, keys.Digest(period), feed.DigestUsedField("acme"), 1)
		p.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), Values: []any{"v", "1", "ts", ts, "ws", "acme", "endpoint", "/responses",
			"credits", "1", "status", "200", "code", "credits_exhausted", "status", "402"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// it never fires (model.Ledger.CountersHeld): the audit finds the
	// counters apart and re-reads them (its own alert, counters_resync/drift)
	refusals := model.AlertID(period, "acme", "", model.AlertRefusals, model.CodeCreditsExhausted)
	drift := model.AlertID(period, "", "", model.AlertResync, "drift")
	settledAll(t, st, period, 2, runOut, drift)
	time.Sleep(time.Second) // a few cycles after it
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := recs[refusals]; ok {
		t.Errorf("a refusal the counters never held is stored: %+v", r)
	}
	if got := w1.w.Scores(); len(got) != 0 {
		t.Errorf("a refusal the counters never held is scored: %+v", got)
	}
}
