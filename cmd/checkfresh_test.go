package cmd

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// freshFixture is a fixture whose billing period has now mid-period (an
// event 2 h old is in it at any hour) and whose stream is empty.
func freshFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	if err := f.store.SetPeriod(f.ctx, model.MidPeriod(time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Del(f.ctx, feed.Keys{}.Stream()).Err(); err != nil {
		t.Fatal(err) // the period's settings entry: no producer's
	}
	return f
}

// TestCheckStaleAfterASettingsEntry (issue 11): producers silent for 2 h,
// then `budget set`: check --stale 30m is WARNING "no event for 2 h", as the
// dashboard's start and re-read and /metrics now say (one rule,
// model.ProducerTime); producers writing and a settings entry after them:
// OK. (check read it so before too: it guards the rule.)
func TestCheckStaleAfterASettingsEntry(t *testing.T) {
	f := freshFixture(t)
	r := "--redis=" + f.srv.URL
	old := time.Now().Add(-2 * time.Hour)
	addStamped(t, f, old, old)
	f.allocate(t, 1000, "acme") // a settings entry, now
	out, _, code := runMavtop(t, "check", r, "--stale", "30m")
	if code != checkWarning || !strings.HasPrefix(out, "MAVTOP WARNING - no event for 2 h (--stale 30m0s)") {
		t.Errorf("producers silent 2 h, then budget set: exit %d\n%s", code, out)
	}
	recent := time.Now()
	addStamped(t, f, recent, recent)
	f.allocate(t, 2000, "acme")
	if out, _, code := runMavtop(t, "check", r, "--stale", "30m"); code != checkOK {
		t.Errorf("producers writing, then budget set: exit %d\n%s", code, out)
	}
}

// TestCheckStaleBeyondItsRead (issue 11): producers silent for 2 h, then
// more settings entries within --stale than check reads back
// (checkStaleEntries): no producer entry is among them, so how long the
// producer has been quiet is unknown — WARNING saying so, no
// feed_idle_seconds. Before, the stream's newest id (a settings entry's,
// now) dated the feed: OK.
func TestCheckStaleBeyondItsRead(t *testing.T) {
	f := freshFixture(t)
	r := "--redis=" + f.srv.URL
	old := time.Now().Add(-2 * time.Hour)
	addStamped(t, f, old, old)
	from := time.Now().Add(-5 * time.Minute).UnixMilli()
	for done := 0; done < checkStaleEntries; {
		pipe := f.c.Pipeline()
		for range min(20_000, checkStaleEntries-done) {
			ts := strconv.FormatInt(from, 10)
			pipe.XAdd(f.ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: ts + "-" + strconv.Itoa(done),
				Values: []any{"v", "1", "ts", ts, "ws", "acme", "kind", "settings"}})
			done++
		}
		if _, err := pipe.Exec(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	f.allocate(t, 1000, "acme")
	out, _, code := runMavtop(t, "check", r, "--stale", "30m", "--json", "--redis-timeout", "2m") // 200 reads on a loaded machine
	var got struct {
		Status string   `json:"status"`
		Reason string   `json:"reason"`
		Idle   *float64 `json:"feed_idle_seconds"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if code != checkWarning || got.Reason != "no event in the newest 200,000 entries: freshness unknown (--stale 30m0s)" || got.Idle != nil {
		t.Errorf("no producer entry among the newest %d entries, all within --stale: exit %d, %+v; want WARNING, freshness unknown", checkStaleEntries, code, got)
	}
}

// TestCheckStaleOnAStreamTrimmedToSettings (hostile12 #5): a producer wrote a
// minute ago, then budget sets, then the stream was trimmed to those
// settings entries: check read the whole stream, found no event, and said
// "no event for over 10m" — an age nobody measured (the event trimmed away
// was a minute old). It says the age is unknown.
func TestCheckStaleOnAStreamTrimmedToSettings(t *testing.T) {
	f := newFixture(t) // calendar months: the counter addStamped writes is this period's
	r := "--redis=" + f.srv.URL
	recent := time.Now().Add(-time.Minute)
	addStamped(t, f, recent, recent)
	for i := range 3 {
		f.allocate(t, int64(1001+i), "acme")
	}
	if err := f.c.XTrimMaxLen(f.ctx, feed.Keys{}.Stream(), 3).Err(); err != nil {
		t.Fatal(err)
	}
	out, _, code := runMavtop(t, "check", r, "--stale", "10m")
	if code != checkWarning || !strings.Contains(out, "no event in the newest 3 entries: freshness unknown (--stale 10m0s)") ||
		strings.Contains(out, "no event for over") {
		t.Errorf("a stream trimmed to 3 settings entries: exit %d\n%s", code, out)
	}
}
