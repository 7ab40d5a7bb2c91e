package model

import (
	"fmt"
	"testing"
	"time"
)

// TestAProducerClockDatesNoCrossingSettingsChangeOr402 (issue 11, "Lag and
// freshness that cannot lie"): a producer whose clock is hours ahead or
// behind, or whose ts is 0 or negative (hostile), writes entries Redis takes
// at known times (their stream ids). When each happened — the firing time of
// the line a usage event crosses, of the lines a settings or budget change
// puts behind a workspace, and the 402 log's row — is the trusted time
// (Event.At: the id's time here), never the producer's ts: a crossing that
// just happened is not "3 h ago" nor in the future. Which billing period an
// event counts in still follows its ts (the producer keyed the counters by
// it): across the period's end a ts 3 h behind counts in the month before,
// one 3 h ahead in the month after (skipped by this month's ledger).
func TestAProducerClockDatesNoCrossingSettingsChangeOr402(t *testing.T) {
	midMonth := t0                                             // 2026-11-25 12:00 UTC
	monthEnd := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC) // 2 h before 2026-12
	nextMonth := time.Date(2026, 12, 1, 0, 10, 0, 0, time.UTC) // 10 min into 2026-12
	for _, tc := range []struct {
		name     string
		redis    time.Time              // the id time of the skewed producer's first entry
		ts       func(idMs int64) int64 // the ts it writes on an entry Redis takes at idMs
		inPeriod bool                   // its usage counts in the ledger's period (2026-11)
	}{
		{name: "on time", redis: midMonth, ts: func(id int64) int64 { return id }, inPeriod: true},
		{name: "3 h ahead", redis: midMonth, ts: func(id int64) int64 { return id + (3 * time.Hour).Milliseconds() }, inPeriod: true},
		{name: "3 h behind", redis: midMonth, ts: func(id int64) int64 { return id - (3 * time.Hour).Milliseconds() }, inPeriod: true},
		{name: "ts 0", redis: midMonth, ts: func(int64) int64 { return 0 }, inPeriod: false},
		{name: "ts negative", redis: midMonth, ts: func(int64) int64 { return -86_400_000 }, inPeriod: false},
		{name: "3 h behind, Redis in the next month", redis: nextMonth, ts: func(id int64) int64 { return id - (3 * time.Hour).Milliseconds() }, inPeriod: true},
		{name: "3 h ahead, ts in the next month", redis: monthEnd, ts: func(id int64) int64 { return id + (3 * time.Hour).Milliseconds() }, inPeriod: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			// an honest producer's 600 credits on project web, on time
			base := use("acme", "web", "/responses", 600, -time.Hour)
			base.ID = fmt.Sprintf("%d-0", base.TS)
			l.Apply(&base)
			if c := l.TakeCrossings(); len(c) != 0 {
				t.Fatalf("no line is set, yet %d crossings", len(c))
			}
			step := 0
			// apply writes e as the skewed producer, Redis taking it one
			// minute after the last: it returns the id's time
			apply := func(e Event) int64 {
				idMs := tc.redis.Add(time.Duration(step) * time.Minute).UnixMilli()
				step++
				e.ID, e.TS = fmt.Sprintf("%d-0", idMs), tc.ts(idMs)
				l.Apply(&e)
				return idMs
			}
			// crossed checks the lines the last entry fired: n of them
			// (the workspace's and the project's), each dated want
			crossed := func(what string, want int64, n int) {
				t.Helper()
				got := l.TakeCrossings()
				if len(got) != n {
					t.Fatalf("%s: %d crossings %+v, want %d", what, len(got), got, n)
				}
				for _, c := range got {
					if c.TS != want {
						t.Errorf("%s: %s fired at %v, want the stream id's time %v (ts %v)", what, c.Sentence(),
							time.UnixMilli(c.TS).UTC(), time.UnixMilli(want).UTC(), time.UnixMilli(tc.ts(want)).UTC())
					}
					if c.Period != "2026-11" {
						t.Errorf("%s: fired in period %q, want the ledger's 2026-11", what, c.Period)
					}
				}
			}

			// a settings change: an allocation of 1,000 puts 600 used past 50 %
			at := apply(Event{Workspace: "acme", Kind: KindSettings, Msg: `{"allocation":1000}`})
			crossed("settings change", at, 1) // the workspace's 50 %
			// a budget change: a 1,000-credit usage limit puts project web past 50 % of it
			at = apply(Event{Workspace: "acme", Project: "web", Kind: KindSettings, Msg: `{"usage_limit":1000}`})
			crossed("budget change", at, 1)

			// a usage event crosses 75 % (800 of 1,000) when it counts in the period
			at = apply(use("acme", "web", "/responses", 200, 0))
			s, _ := l.Summary("acme")
			if tc.inPeriod {
				crossed("usage", at, 2) // the workspace's 75 % and the project's
				if s.Used != 800 {
					t.Errorf("used %d, want 800: the event's ts is in the period", s.Used)
				}
			} else {
				crossed("usage", at, 0)
				if s.Used != 600 || l.Counts().OtherPeriod != 1 {
					t.Errorf("used %d, %d in another period; want 600 and 1: the event's ts is in another period", s.Used, l.Counts().OtherPeriod)
				}
			}

			// a 402: the log's row is dated by Redis's clock, its ts kept
			at = apply(refusal("acme", "web", CodeBudgetExceeded, 0))
			rows := l.Refusals(nil, DefaultRefusalLog)
			if !tc.inPeriod {
				if len(rows) != 0 {
					t.Errorf("%d rows in the 402 log for a 402 of another period, want 0", len(rows))
				}
				return
			}
			if len(rows) != 1 {
				t.Fatalf("%d rows in the 402 log, want 1", len(rows))
			}
			if got := rows[0].At(); got != at {
				t.Errorf("402 row at %v, want the stream id's time %v (ts %v)", time.UnixMilli(got).UTC(), time.UnixMilli(at).UTC(), time.UnixMilli(tc.ts(at)).UTC())
			}
			if rows[0].Event.TS != tc.ts(at) {
				t.Errorf("402 row's ts %d, want the producer's %d kept", rows[0].Event.TS, tc.ts(at))
			}

			// read back at a start (Backfill), the row is dated the same
			b := NewLedger(MonthlyUTC, t0)
			b.Seed(&Snapshot{Period: l.Period(), Used: map[string]int64{"acme": 800},
				Refused: map[string]int64{RefusedField("acme", "web", CodeBudgetExceeded): 1}}, t0)
			e := rows[0].Event
			b.Backfill([]Event{e}, time.UnixMilli(at).Add(-time.Hour))
			if back := b.Refusals(nil, DefaultRefusalLog); len(back) != 1 || back[0].At() != at {
				t.Errorf("read back, the 402 log holds %+v, want one row at %v", back, time.UnixMilli(at).UTC())
			}
		})
	}
}
