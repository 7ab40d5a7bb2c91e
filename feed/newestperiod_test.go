package feed_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
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

// TestNewestInPeriodIsOfThePeriodsEvents: ReadNewestIn's InPeriod is each
// workspace's newest event whose ts lies in the period given, dated as At
// dates it: an entry written now with a ts in the period before is no event
// of this period (At still has it: freshness), an older one of the period
// stays; a workspace with none in the period has no InPeriod time.
func TestNewestInPeriodIsOfThePeriodsEvents(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	p := model.MonthlyUTC.At(time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	t0 := p.Start.UnixMilli() + 30_000 // 30 s into the period
	add := func(id, ts int64, ws string) {
		t.Helper()
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: strconv.FormatInt(id, 10) + "-0", Values: []any{
			"v", "1", "ts", strconv.FormatInt(ts, 10), "ws", ws, "endpoint", "/x", "credits", "1", "status", "200"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	add(t0, t0-1000, "both")            // this period's (ts 29 s in)
	add(t0+5000, t0-3_600_000, "both")  // written later, ts in the period before
	add(t0+6000, t0-3_600_000, "late")  // only the period before's
	add(t0+7000, t0-31_000, "boundary") // ts 1 s before the start, within a minute of its id: still the period before's
	n, err := feed.ReadNewestIn(ctx, c, feed.Keys{}, p, time.UnixMilli(t0-60_000), time.UnixMilli(t0+10_000), 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := n.InPeriod["both"]; !ok || got != t0-1000 {
		t.Errorf("both: InPeriod %d (%v), want %d", got-t0, ok, -1000)
	}
	if n.At["both"] != t0+5000 {
		t.Errorf("both: At %d, want %d (the late entry's id: fresh)", n.At["both"]-t0, 5000)
	}
	for _, ws := range []string{"late", "boundary"} {
		if got, ok := n.InPeriod[ws]; ok {
			t.Errorf("%s: InPeriod %d, want none", ws, got-t0)
		}
		if _, ok := n.At[ws]; !ok {
			t.Errorf("%s: no At", ws)
		}
	}
	if old, err := feed.ReadNewest(ctx, c, feed.Keys{}, time.UnixMilli(t0-60_000), time.UnixMilli(t0+10_000), 10, 10); err != nil || old.InPeriod != nil {
		t.Errorf("ReadNewest: InPeriod %v (%v), want nil", old.InPeriod, err)
	}
}
