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

// TestAProducerClockOrdersNo402AgainstARaise (issue 11): whether a
// credits_exhausted 402 came before or after the allocation's raise
// (Settings.RaisedAt, stamped by mavtop's clock when `budget set` raised it)
// decides OUT when the history is read back at a start (Backfill). The 402
// is ordered by its trusted time (Event.At), as live (Apply, in stream
// order) it is: a 402 Redis took a minute after the raise, from a producer
// 3 h behind, keeps the workspace OUT; one Redis took a minute before it,
// from a producer 3 h ahead, is ended by it.
func TestAProducerClockOrdersNo402AgainstARaise(t *testing.T) {
	raised := t0.Add(-10 * time.Minute)
	for _, tc := range []struct {
		name      string
		redis     time.Duration // the 402's id time, from the raise
		skew      time.Duration // its ts, from its id time
		wantBlock bool
	}{
		{"after the raise, 3 h behind", time.Minute, -3 * time.Hour, true},
		{"after the raise, on time", time.Minute, 0, true},
		{"before the raise, 3 h ahead", -time.Minute, 3 * time.Hour, false},
		{"before the raise, on time", -time.Minute, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := raised.Add(tc.redis)
			e := refusal("acme", "", CodeCreditsExhausted, 0)
			e.ID, e.TS = fmt.Sprintf("%d-0", id.UnixMilli()), id.Add(tc.skew).UnixMilli()
			l := NewLedger(MonthlyUTC, t0)
			s := &Snapshot{Period: MonthlyUTC.At(t0), StreamID: fmt.Sprintf("%d-0", t0.UnixMilli()),
				Settings: map[string]Settings{"acme": {Allocation: 1500, RaisedAt: raised.UnixMilli()}},
				Used:     map[string]int64{"acme": 1000},
				Refused:  map[string]int64{RefusedField("acme", "", CodeCreditsExhausted): 1}}
			l.Seed(s, t0)
			l.Backfill([]Event{e}, t0.Add(-time.Hour))
			if got, _ := l.Summary("acme"); got.Blocked != tc.wantBlock {
				t.Errorf("read back: OUT %v, want %v (402 taken by Redis at %v, its ts %v, the raise at %v)",
					got.Blocked, tc.wantBlock, id.UTC(), time.UnixMilli(e.TS).UTC(), raised.UTC())
			}
		})
	}
}

// TestAProjectCrossingFoundByTheUsedByReadIsDatedByRedis (issue 11): while
// used_by is being read (Snapshot.UsedByLater), a charge's project credits
// wait for it; the project line the charge crossed fires when the read comes
// (SeedUsedBy), dated by the charge's trusted time, not its producer's ts
// 3 h ahead.
func TestAProjectCrossingFoundByTheUsedByReadIsDatedByRedis(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	start := t0.Add(-time.Hour)
	l.Seed(&Snapshot{Period: MonthlyUTC.At(t0), StreamID: fmt.Sprintf("%d-0", start.UnixMilli()), Used: map[string]int64{"acme": 150},
		Budgets: map[string]ProjectBudget{ProjectKey("acme", "web"): {Limit: 200}}, UsedByLater: true}, t0)
	redis := t0.Add(-time.Minute)
	e := use("acme", "web", "/responses", 100, 0)
	e.ID, e.TS = fmt.Sprintf("%d-0", redis.UnixMilli()), redis.Add(3*time.Hour).UnixMilli()
	l.Apply(&e)
	l.TakeCrossings()
	l.SeedUsedBy(map[string]int64{UsedByField("acme", "web", "/responses"): 150}, fmt.Sprintf("%d-0", start.UnixMilli()))
	var limit []Crossing
	for _, c := range l.TakeCrossings() {
		if c.Kind == CrossProjectLimit {
			limit = append(limit, c)
		}
	}
	if len(limit) != 1 || limit[0].TS != redis.UnixMilli() {
		t.Fatalf("project limit crossings %+v, want one at the stream id's time %v (ts %v)", limit, redis.UTC(), time.UnixMilli(e.TS).UTC())
	}
}
