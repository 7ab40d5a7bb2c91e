package model

import (
	"strconv"
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

// TestNewestProducerIsTheProducersNewestEntry: a start or a re-read dates
// the feed by the newest producer entry among the entries read newest
// first, never by a settings entry written after it (issue 11: a `budget
// set` after producers died an hour ago read fresh at a start); when the
// bound comes before any, the age is unknown and at least the oldest entry
// read's, stale under a shorter limit and unknown (stale too) under a
// longer one; a stream holding none says no event; a producer entry whose
// id is ahead of the clock says its age is unknown.
func TestNewestProducerIsTheProducersNewestEntry(t *testing.T) {
	now := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	id := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) + "-0" }
	usage := func(d time.Duration) map[string]any {
		return map[string]any{"v": "1", "ts": strconv.FormatInt(now.Add(d).UnixMilli(), 10), "ws": "acme", "endpoint": "/responses", "credits": "3", "status": "200"}
	}
	recharge := func(d time.Duration) map[string]any {
		return map[string]any{"v": "1", "ts": strconv.FormatInt(now.Add(d).UnixMilli(), 10), "ws": "acme", "kind": "recharge", "credits": "500"}
	}
	settings := func(d time.Duration) map[string]any {
		return map[string]any{"v": "1", "ts": strconv.FormatInt(now.Add(d).UnixMilli(), 10), "ws": "acme", "kind": "settings", "msg": `{"allocation":300}`}
	}
	type entry struct {
		id     string
		fields map[string]any
	}
	for _, c := range []struct {
		name    string
		entries []entry // newest first
		whole   bool    // the read reached the stream's first entry
		want    Freshness
		read    int
		limit   time.Duration
		words   string
	}{
		{name: "a settings entry now, usage 2 h ago", entries: []entry{{id(0), settings(0)}, {id(-2 * time.Hour), usage(-2 * time.Hour)}},
			want: Freshness{Age: 2 * time.Hour, Known: true}, read: 2, limit: 30 * time.Minute, words: "no event for 2 h"},
		{name: "usage now, a settings entry an hour ago", entries: []entry{{id(-time.Second), usage(-time.Second)}, {id(-time.Hour), settings(-time.Hour)}},
			want: Freshness{Age: time.Second, Known: true}, read: 1, limit: 30 * time.Minute},
		{name: "a recharge is the producer's", entries: []entry{{id(0), settings(0)}, {id(-time.Minute), recharge(-time.Minute)}},
			want: Freshness{Age: time.Minute, Known: true}, read: 2, limit: 30 * time.Minute},
		{name: "an undecodable entry says nothing", entries: []entry{{id(0), map[string]any{"junk": "1"}}, {id(-40 * time.Minute), usage(-40 * time.Minute)}},
			want: Freshness{Age: 40 * time.Minute, Known: true}, read: 2, limit: 30 * time.Minute, words: "no event for 40 min"},
		{name: "settings entries to the bound, the oldest 2 h old", entries: []entry{{id(0), settings(0)}, {id(-2 * time.Hour), settings(-2 * time.Hour)}},
			want: Freshness{Beyond: 2, Over: 2 * time.Hour}, read: 2, limit: 30 * time.Minute, words: "no event for over 2 h"},
		{name: "settings entries to the bound, the oldest 10 min old", entries: []entry{{id(0), settings(0)}, {id(-10 * time.Minute), settings(-10 * time.Minute)}},
			want: Freshness{Beyond: 2, Over: 10 * time.Minute}, read: 2, limit: 30 * time.Minute, words: "no event in the newest 2 entries: freshness unknown"},
		{name: "settings entries only, the whole stream", entries: []entry{{id(0), settings(0)}}, whole: true,
			want: Freshness{}, read: 1, limit: 30 * time.Minute, words: "no event"},
		{name: "a producer id an hour ahead", entries: []entry{{id(0), settings(0)}, {id(time.Hour), usage(time.Hour)}},
			want: Freshness{Ahead: time.Hour}, read: 2, limit: 30 * time.Minute, words: "ids 1 h ahead of clock: freshness unknown"},
	} {
		var n NewestProducer
		for _, e := range c.entries {
			if n.See(e.id, e.fields, now) {
				break
			}
		}
		n.Whole = n.Whole || c.whole
		got := n.Freshness(now)
		if got != c.want || n.Read != c.read {
			t.Errorf("%s: %+v after %d entries, want %+v after %d", c.name, got, n.Read, c.want, c.read)
		}
		if stale, words := got.Stale(c.limit); stale != (c.words != "") || words != c.words {
			t.Errorf("%s, limit %v: stale %v %q, want %q", c.name, c.limit, stale, words, c.words)
		}
	}
}
