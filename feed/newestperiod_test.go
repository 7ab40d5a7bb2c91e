package feed_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
)

// TestNewestPeriodIsTheProducersClock: ReadNewest dates freshness (At) by an
// entry's id when its ts lies over a minute before it, but the billing
// period its counters went to is its ts's (Newest.Period), the newest
// over every entry of the workspace read, whichever order the re-dated and
// the plain entries come in; a workspace whose entries are all dated alike
// holds nothing apart (Stamped).
func TestNewestPeriodIsTheProducersClock(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC).UnixMilli()
	add := func(id, ts int64, ws string) {
		t.Helper()
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: strconv.FormatInt(id, 10) + "-0", Values: []any{
			"v", "1", "ts", strconv.FormatInt(ts, 10), "ws", ws, "endpoint", "/x", "credits", "1", "status", "200"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	h := int64(time.Hour / time.Millisecond)
	add(t0, t0-10_000, "redated-newest")   // plain, older
	add(t0+1, t0-3*h, "plain-newest")      // re-dated, older
	add(t0+2, t0-5, "plain")               // plain only
	add(t0+1000, t0-3*h, "redated-newest") // re-dated, newer
	add(t0+1001, t0+990, "plain-newest")   // plain, newer
	n, err := feed.ReadNewest(ctx, c, feed.Keys{}, time.UnixMilli(t0-h), time.UnixMilli(t0+5000), 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	for ws, want := range map[string][2]int64{
		"redated-newest": {t0 + 1000, t0 - 10_000}, // fresh by its id; its period's time the plain entry's
		"plain-newest":   {t0 + 990, t0 + 990},
		"plain":          {t0 - 5, t0 - 5},
	} {
		got, _ := n.Period(ws)
		if n.At[ws] != want[0] || got != want[1] {
			t.Errorf("%s: At %d, Period %d; want %d, %d", ws, n.At[ws]-t0, got-t0, want[0]-t0, want[1]-t0)
		}
	}
	if _, ok := n.Stamped["plain"]; ok || len(n.Stamped) > 2 {
		t.Errorf("Stamped holds workspaces dated alike: %v", n.Stamped)
	}
}
