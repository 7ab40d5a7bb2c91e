package model

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// negativeFigure finds a negative number in words ("-9,223,…", "~-3 top-ups").
var negativeFigure = regexp.MustCompile(`[-−]\d`)

// TestCountersNearTheTopJudgeAsCheckDoes (issue 11, hostile11): counters
// near 2^63 — a used, recharged, used_by or refused counter written behind
// the stream's back, then entries whose HINCRBY Redis refuses ("increment or
// decrement would overflow", the entry written) — on every surface's figure
// of the ledger: the ledger's sums (used, recharged, projects, endpoints,
// 402s) never wrap below 0, its level, cap and thresholds passed are check's
// (JudgeSnapshot of what Redis holds), each alert holds exactly when check's
// figures reach its line and says no negative number, each crossing fired is
// past its line, and the forecast (burn, top-ups) and its words say no
// negative figure. Before, one charge of 10 on 2^63−8 wrapped the ledger to
// −9.2×10^18 (the gauge panicked, watch resolved allocation_reached), a
// recharged counter near 2^63 fired allocation_reached and every threshold,
// the 50 % line of a cap near 2^63 wrapped below 0 and fired at once, and a
// heal of such a counter made a burn whose top-ups read "~-9,223,… top-ups".
func TestCountersNearTheTopJudgeAsCheckDoes(t *testing.T) {
	const top = math.MaxInt64
	alloc := func(n int64) map[string]Settings { return map[string]Settings{"acme": {Allocation: n}} }
	cases := []struct {
		name string
		// before is seeded at t0; healed (when not nil) is a re-read of the
		// counters 10 minutes later, same period (its credits spread for burn)
		before, healed *Snapshot
		events         []Event
		// after is what Redis holds once the events were written
		after Snapshot
		// burns: the forecast has a burn (the healed gap's credits)
		burns bool
	}{
		{
			name:   "a charge on a used counter at 2^63-8",
			before: &Snapshot{Used: map[string]int64{"acme": top - 7}, UsedBy: map[string]int64{"acme///responses": 10}, Settings: alloc(100)},
			events: []Event{use("acme", "", "/responses", 10, time.Minute)},
			after:  Snapshot{Used: map[string]int64{"acme": top - 7}, UsedBy: map[string]int64{"acme///responses": 20}, Settings: alloc(100)},
		},
		{
			name:   "a huge recharged counter and 50 used of 10^12",
			before: &Snapshot{Used: map[string]int64{"acme": 50}, Recharged: map[string]int64{"acme": 9223372036854775000}, Settings: alloc(1_000_000_000_000)},
			after:  Snapshot{Used: map[string]int64{"acme": 50}, Recharged: map[string]int64{"acme": 9223372036854775000}, Settings: alloc(1_000_000_000_000)},
		},
		{
			name:   "a recharge on a recharged counter at the top, 2^62 used",
			before: &Snapshot{Used: map[string]int64{"acme": 1 << 62}, Recharged: map[string]int64{"acme": top - 5}, Settings: alloc(1000)},
			events: []Event{{Kind: KindRecharge, TS: ms(time.Minute), Workspace: "acme", Credits: 100}, use("acme", "", "/x", 1, 2*time.Minute)},
			after:  Snapshot{Used: map[string]int64{"acme": 1<<62 + 1}, Recharged: map[string]int64{"acme": top - 5}, Settings: alloc(1000)},
		},
		{
			name:   "charges past 2^62 of a cap saturated at 2^63-1 cross 50 %",
			before: &Snapshot{Used: map[string]int64{"acme": 1<<62 - 10}, Recharged: map[string]int64{"acme": top - 100}, Settings: alloc(1000)},
			events: []Event{use("acme", "", "/x", 5, time.Minute), use("acme", "", "/x", 5, 2*time.Minute)},
			after:  Snapshot{Used: map[string]int64{"acme": 1 << 62}, Recharged: map[string]int64{"acme": top - 100}, Settings: alloc(1000)},
		},
		{
			name: "a project's used_by at the top with a usage limit, charged",
			before: &Snapshot{Used: map[string]int64{"acme": top - 1}, UsedBy: map[string]int64{"acme/train/x": top - 3, "acme/train/y": 2},
				Settings: map[string]Settings{"acme": {Allocation: 1000, UsageLimit: 900}}, Budgets: map[string]ProjectBudget{"acme/train": {Limit: 500, Alert: 100}}},
			events: []Event{use("acme", "train", "/x", 10, time.Minute)},
			after: Snapshot{Used: map[string]int64{"acme": top - 1}, UsedBy: map[string]int64{"acme/train/x": top - 3, "acme/train/y": 2},
				Settings: map[string]Settings{"acme": {Allocation: 1000, UsageLimit: 900}}, Budgets: map[string]ProjectBudget{"acme/train": {Limit: 500, Alert: 100}}},
		},
		{
			name: "endpoint totals of two workspaces near the top",
			before: &Snapshot{Used: map[string]int64{"acme": top - 5, "beta": top - 5},
				UsedBy:   map[string]int64{"acme///responses": top - 5, "beta///responses": top - 5},
				Settings: map[string]Settings{"acme": {Allocation: 10}, "beta": {Allocation: 10}}},
			events: []Event{use("acme", "", "/responses", 1, time.Minute)},
			after: Snapshot{Used: map[string]int64{"acme": top - 4, "beta": top - 5},
				UsedBy:   map[string]int64{"acme///responses": top - 4, "beta///responses": top - 5},
				Settings: map[string]Settings{"acme": {Allocation: 10}, "beta": {Allocation: 10}}},
		},
		{
			name: "a 402 on a refused counter at the top",
			before: &Snapshot{Used: map[string]int64{"acme": 10}, Refused: map[string]int64{"acme//credits_exhausted": top},
				Settings: alloc(100)},
			events: []Event{refusal("acme", "", CodeCreditsExhausted, time.Minute)},
			after: Snapshot{Used: map[string]int64{"acme": 10}, Refused: map[string]int64{"acme//credits_exhausted": top},
				Settings: alloc(100)},
		},
		{
			// the gap's credits count for burn, spread over it: the spread's
			// last share, 2^63 as a float, converted to MinInt64, and the
			// charge after it wrapped its bucket: burn 0, the charge a "step"
			name:   "a heal of a used counter to the top spreads for burn, then a charge",
			before: &Snapshot{Used: map[string]int64{"acme": 100}, Settings: alloc(1000)},
			healed: &Snapshot{Used: map[string]int64{"acme": top - 100}, Settings: alloc(1000)},
			events: []Event{use("acme", "", "/x", 50, 10*time.Minute)},
			after:  Snapshot{Used: map[string]int64{"acme": top - 50}, Settings: alloc(1000)},
			burns:  true,
		},
		{
			name:   "a heal of a used counter to 2^61: a burn of 10^19/h, auto-recharge's top-ups",
			before: &Snapshot{Used: map[string]int64{"acme": 100}, Settings: map[string]Settings{"acme": {Allocation: 1000, RechargeBelow: 100, RechargeAmount: 1}}},
			healed: &Snapshot{Used: map[string]int64{"acme": top / 4}, Settings: map[string]Settings{"acme": {Allocation: 1000, RechargeBelow: 100, RechargeAmount: 1}}},
			events: []Event{use("acme", "", "/x", 50, 10*time.Minute)},
			after:  Snapshot{Used: map[string]int64{"acme": top/4 + 50}, Settings: map[string]Settings{"acme": {Allocation: 1000, RechargeBelow: 100, RechargeAmount: 1}}},
			burns:  true,
		},
		{
			name:   "a heal of a used counter to the top, no recharge: run_out's burn",
			before: &Snapshot{Used: map[string]int64{"acme": 100}, Settings: alloc(top / 2)},
			healed: &Snapshot{Used: map[string]int64{"acme": top / 4}, Settings: alloc(top / 2)},
			events: []Event{use("acme", "", "/x", 50, 10*time.Minute)},
			after:  Snapshot{Used: map[string]int64{"acme": top/4 + 50}, Settings: alloc(top / 2)},
			burns:  true,
		},
	}
	period := MonthlyUTC.At(t0)
	now := t0.Add(11 * time.Minute)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			c.before.Period, c.before.StreamID = period, "5-0"
			l.Seed(c.before, t0)
			if c.healed != nil {
				c.healed.Period, c.healed.StreamID = period, "6-0"
				l.Seed(c.healed, t0.Add(10*time.Minute))
			}
			l.TakeCrossings() // a seed fires nothing
			l.ApplyBatch(c.events)
			c.after.Period, c.after.StreamID = period, "9-0"
			checked := map[string]Judged{}
			JudgeSnapshot(&c.after, nil, nil, func(j *Judged) { checked[j.Name] = *j })

			for _, e := range l.Endpoints("") {
				if e.Credits < 0 {
					t.Errorf("all workspaces' %s: %d credits", e.Endpoint, e.Credits)
				}
			}
			for ws, j := range checked {
				s, ok := l.Summary(ws)
				if !ok {
					t.Fatalf("no %s", ws)
				}
				if s.Used < 0 || s.Recharged < 0 {
					t.Errorf("%s: used %d, recharged %d", ws, s.Used, s.Recharged)
				}
				for i, n := range s.Refused {
					if n < 0 {
						t.Errorf("%s: %d refusals of class %d", ws, n, i)
					}
				}
				for _, p := range l.Projects(ws) {
					if p.Used < 0 {
						t.Errorf("%s/%s: used %d", ws, p.Name, p.Used)
					}
					for _, e := range p.Endpoints {
						if e.Credits < 0 {
							t.Errorf("%s/%s %s: %d credits", ws, p.Name, e.Endpoint, e.Credits)
						}
					}
				}
				for _, e := range l.Endpoints(ws) {
					if e.Credits < 0 {
						t.Errorf("%s %s: %d credits", ws, e.Endpoint, e.Credits)
					}
				}
				got, want := s.Status, j.Status
				if got.Level != want.Level || got.Passed != want.Passed || got.Cap != want.Cap || got.CapKind != want.CapKind {
					t.Errorf("%s: the ledger says %v, %d thresholds passed of a %s cap %d; check says %v, %d of %s %d",
						ws, got.Level, got.Passed, got.CapKind, got.Cap, want.Level, want.Passed, want.CapKind, want.Cap)
				}
				if s.Verdict.Level != j.Verdict.Level {
					t.Errorf("%s: verdict %v, check's %v", ws, s.Verdict.Level, j.Verdict.Level)
				}

				f := l.Forecast(ws, now)
				if c.burns && (f.BurnPerHour <= 0 || f.Step != 0) {
					t.Errorf("%s: burn %v/h, a step of %d, after a heal of 2^63 credits spread over 10 minutes", ws, f.BurnPerHour, f.Step)
				}
				if f.BurnPerHour < 0 || math.IsNaN(f.BurnPerHour) || f.Remaining < 0 || f.RechargesLeft < 0 || f.RunsOutIn < 0 {
					t.Errorf("%s: forecast burn %v/h, remaining %d, %d top-ups, runs out in %v", ws, f.BurnPerHour, f.Remaining, f.RechargesLeft, f.RunsOutIn)
				}
				for _, w := range []string{RechargeWords(f), TopUpsWords(f.RechargesLeft, f.RechargeAmount), FormatCredits(f.Remaining)} {
					if negativeFigure.MatchString(w) {
						t.Errorf("%s: the forecast says %q", ws, w)
					}
				}
			}

			for _, a := range EvaluateAlerts(l, now, FeedHealth{Connected: true, Since: t0}, AlertOptions{}, nil) {
				if w := a.sentence(false); negativeFigure.MatchString(w) {
					t.Errorf("%s says %q", a.ID, w)
				}
				j, ok := checked[a.Workspace]
				if !ok || a.Project != "" || a.Condition == ConditionUnknown {
					continue
				}
				var want bool
				switch a.Kind {
				case AlertThreshold:
					want = Reached(j.Status.Used, j.Status.Cap, a.Threshold)
				case AlertAllocation:
					want = j.Status.Used >= AddCredits(j.Settings.Allocation, j.Recharged)
					if a.Cap != AddCredits(j.Settings.Allocation, j.Recharged) || a.Cap < 0 {
						t.Errorf("%s: line at %d", a.ID, a.Cap)
					}
				default:
					continue
				}
				if (a.Condition == ConditionHolds) != want {
					t.Errorf("%s %v (cap %d, used %d); check's figures: used %d of %d", a.ID, a.Condition, a.Cap, a.Used, j.Status.Used, j.Status.Cap)
				}
			}

			for _, x := range l.TakeCrossings() {
				past := x.Used >= x.Of
				if x.Kind == CrossThreshold {
					past = Reached(x.Used, x.Of, x.Threshold)
				}
				if !past || x.Used < 0 {
					t.Errorf("crossing %q fired at %d of a line of %d", x.Sentence(), x.Used, x.Of)
				}
				if s := x.Sentence(); negativeFigure.MatchString(s) || strings.Contains(s, "NaN") {
					t.Errorf("crossing says %q", s)
				}
			}
		})
	}
}

// TestSaturatedSums: AddCredits, thresholdAt and RoundCredits at the edges.
func TestSaturatedSums(t *testing.T) {
	const top = math.MaxInt64
	for _, c := range []struct{ a, b, want int64 }{
		{1, 2, 3}, {top - 7, 10, top}, {top, top, top}, {-5, 3, -2}, {math.MinInt64, -1, -top}, {math.MinInt64, 0, -top}, {top, -top, 0},
	} {
		if got := AddCredits(c.a, c.b); got != c.want {
			t.Errorf("AddCredits(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, c := range []struct {
		cap  int64
		t    int
		want int64
	}{
		{100, 50, 50}, {1000, 90, 900}, {7, 50, 4}, {top, 50, 1 << 62}, {top, 99, 9131138316486228049}, {top - 100, 1, top / 100}, {0, 50, 0},
	} {
		got := thresholdAt(c.cap, c.t)
		if got != c.want || !Reached(got, c.cap, c.t) || got > 0 && Reached(got-1, c.cap, c.t) {
			t.Errorf("thresholdAt(%d, %d) = %d, want %d, the fewest that Reached", c.cap, c.t, got, c.want)
		}
	}
	for _, c := range []struct {
		x    float64
		want int64
	}{{1.5, 2}, {1e30, top}, {-1e30, -top}, {math.NaN(), 0}, {math.Inf(1), top}, {float64(top), top}} {
		if got := RoundCredits(c.x); got != c.want {
			t.Errorf("RoundCredits(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

// A workspace's 402 total saturates as each code's count does: two codes
// near 2^63 summed to -2 in check's row and JSON, budget show and the detail
// pane (hostile12 #1), while each code's own figure read 2^63-1.
func TestRefusalTotalSaturates(t *testing.T) {
	for _, c := range []struct {
		r    Refusals
		want int64
	}{
		{Refusals{3, 4, 5}, 12},
		{Refusals{math.MaxInt64, math.MaxInt64, 5}, math.MaxInt64},
		{Refusals{math.MaxInt64, 0, 0}, math.MaxInt64},
		{Refusals{math.MaxInt64 - 1, 1, math.MaxInt64}, math.MaxInt64},
	} {
		if got := c.r.Total(); got != c.want {
			t.Errorf("%v.Total() = %d, want %d", c.r, got, c.want)
		}
	}
}
