package model

import (
	"testing"
	"time"
)

// TestJudgeFreshness: the one rule for the header, check --stale and
// /metrics: an entry more than MaxClockSkew ahead makes the age unknown
// (stale under any limit, its words saying why), within it the entry is
// written now; an event's time is never after its id's nor now.
func TestJudgeFreshness(t *testing.T) {
	now := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		newest time.Time
		want   Freshness
		stale  bool
		words  string
		limit  time.Duration
	}{
		{newest: now.Add(10 * time.Minute), want: Freshness{Ahead: 10 * time.Minute}, limit: time.Hour, stale: true, words: "ids 10 min ahead of clock: freshness unknown"},
		{newest: now.Add(time.Second), want: Freshness{Known: true}, limit: time.Second},
		{newest: now.Add(1001 * time.Millisecond), want: Freshness{Ahead: 1001 * time.Millisecond}, limit: time.Hour, stale: true, words: "ids 1 s ahead of clock: freshness unknown"},
		{newest: now.Add(-20 * time.Minute), want: Freshness{Age: 20 * time.Minute, Known: true}, limit: 10 * time.Minute, stale: true, words: "no event for 20 min"},
		{newest: now.Add(-20 * time.Minute), want: Freshness{Age: 20 * time.Minute, Known: true}, limit: 20 * time.Minute},
		{want: Freshness{}, limit: time.Minute, stale: true, words: "no event"},
		{newest: now.Add(time.Hour), want: Freshness{Ahead: time.Hour}, limit: 0},
	} {
		got := JudgeFreshness(c.newest, now)
		if got != c.want {
			t.Errorf("%v: %+v, want %+v", c.newest.Sub(now), got, c.want)
		}
		if stale, words := got.Stale(c.limit); stale != c.stale || words != c.words {
			t.Errorf("%v, limit %v: stale %v %q, want %v %q", c.newest.Sub(now), c.limit, stale, words, c.stale, c.words)
		}
	}
	ms := now.UnixMilli()
	for _, c := range []struct {
		ts     int64
		idTime time.Time
		want   int64
	}{
		{ms - 5000, now.Add(-time.Second), ms - 5000},           // written before its id: its own time
		{ms + 600_000, now.Add(-20 * time.Second), ms - 20_000}, // a fast producer clock: the id's
		{ms + 600_000, now.Add(time.Hour), ms},                  // both ahead: now
		{ms + 600_000, time.Time{}, ms},                         // no id: ts, not after now
	} {
		if got := EventTime(c.ts, c.idTime, now); got != c.want {
			t.Errorf("EventTime(%d, %v): %d, want %d", c.ts-ms, c.idTime.Sub(now), got-ms, c.want-ms)
		}
	}
}

// TestFeedsFreshnessIsTheProducersEntries pins which entries say the producer
// still sends (issue 11): usage events, served or refused, and recharges;
// no settings entry (budget set, budget pull, a period change).
func TestFeedsFreshnessIsTheProducersEntries(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want bool
	}{
		{Event{Kind: KindUsage, Status: 200, Credits: 3}, true},
		{Event{Kind: KindUsage, Status: 402, Code: CodeCreditsExhausted}, true},
		{Event{Kind: KindUsage, Status: 402, Code: CodeBudgetExceeded}, true},
		{Event{Kind: KindRecharge, Credits: 500}, true},
		{Event{Kind: KindSettings, Msg: `{"allocation":300}`}, false},
		{Event{Kind: KindSettings, Op: "period"}, false},
	} {
		if got := FeedsFreshness(tc.e.Kind); got != tc.want {
			t.Errorf("%v entry (status %d): feeds freshness %v, want %v", tc.e.Kind, tc.e.Status, got, tc.want)
		}
	}
}
