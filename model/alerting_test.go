package model

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// lifecycle drives AlertTransitions like an instance would: it keeps the
// records and returns each step's transitions as "status id" lines.
type lifecycle struct {
	known map[string]AlertRecord
	h     FeedHealth
}

func newLifecycle() *lifecycle {
	return &lifecycle{known: map[string]AlertRecord{}, h: FeedHealth{Connected: true}}
}

func (lc *lifecycle) step(l *Ledger, now time.Time) []string {
	cands := EvaluateAlerts(l, now, lc.h, AlertOptions{}, nil)
	var out []string
	for _, tr := range AlertTransitions(lc.known, cands, l.Period().Key, l.StreamID(), now) {
		rec := lc.known[tr.Alert.ID]
		rec.Alert, rec.Status = tr.Alert, tr.Status
		if tr.Status == AlertFiring {
			rec.FiredAt, rec.FiredStream = now, tr.Stream
		} else {
			rec.ResolvedAt = now
		}
		lc.known[tr.Alert.ID] = rec
		out = append(out, string(tr.Status)+" "+tr.Alert.ID+": "+tr.Summary(l.Period().Key))
	}
	return out
}

func ids(lines []string) []string {
	var out []string
	for _, s := range lines {
		id, _, _ := strings.Cut(s, ":")
		out = append(out, id)
	}
	return out
}

func TestAlertLifecycle(t *testing.T) {
	type step struct {
		name string
		do   func(l *Ledger, lc *lifecycle)
		want []string // "status id" of the transitions, sorted by id
	}
	n := 0
	id := func() string { n++; return fmt.Sprintf("%d-0", t0.UnixMilli()+int64(n)) }
	spend := func(ws string, credits int64) func(l *Ledger, lc *lifecycle) {
		return func(l *Ledger, lc *lifecycle) {
			e := use(ws, "", "/responses", credits, time.Minute)
			e.ID = id()
			l.Apply(&e)
		}
	}
	steps := []step{
		{"allocation set, nothing used", func(l *Ledger, _ *lifecycle) {
			l.SetSettings("acme", Settings{Allocation: 1000}, ms(0))
		}, nil},
		{"400 of 1,000: under every threshold", spend("acme", 400), nil},
		{"510: 50 % fires", spend("acme", 110), []string{"firing 2026-11/acme/-/threshold/50"}},
		{"nothing new: nothing again", func(*Ledger, *lifecycle) {}, nil},
		{"920: 75 and 90 % fire together", spend("acme", 410), []string{
			"firing 2026-11/acme/-/threshold/75", "firing 2026-11/acme/-/threshold/90"}},
		{"1,000: the allocation is used up", spend("acme", 80), []string{"firing 2026-11/acme/-/allocation_reached/-"}},
		{"allocation raised to 1,500: 1,000 is 66.7 %, so 75, 90 and the allocation resolve", func(l *Ledger, _ *lifecycle) {
			l.SetSettings("acme", Settings{Allocation: 1500}, ms(time.Minute))
		}, []string{"resolved 2026-11/acme/-/allocation_reached/-", "resolved 2026-11/acme/-/threshold/75",
			"resolved 2026-11/acme/-/threshold/90"}},
		{"back over 75 % at once: its next episode waits until the resolution is 10 min old", spend("acme", 200), nil},
		{"a recharge of 2,000: 50 % resolves", func(l *Ledger, _ *lifecycle) {
			e := Event{Kind: KindRecharge, TS: ms(time.Minute), Workspace: "acme", Credits: 2000, ID: id()}
			l.Apply(&e)
		}, []string{"resolved 2026-11/acme/-/threshold/50"}},
	}
	l := NewLedger(MonthlyUTC, t0)
	lc := newLifecycle()
	now := t0.Add(2 * time.Minute)
	for _, s := range steps {
		s.do(l, lc)
		if got := ids(lc.step(l, now)); !slices.Equal(got, s.want) {
			t.Fatalf("%s:\n got  %q\n want %q", s.name, got, s.want)
		}
	}
	for id, rec := range lc.known {
		if rec.Status != AlertResolved {
			t.Errorf("%s still %s", id, rec.Status)
		}
	}
}

func TestAlertSummariesSayWhatOf(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 1000, UsageLimit: 800, BudgetAlert: 300}, ms(0))
	e := use("acme", "", "/responses", 760, time.Minute)
	l.Apply(&e)
	lines := newLifecycle().step(l, t0.Add(2*time.Minute))
	want := []string{
		"firing 2026-11/acme/-/budget_alert/-: acme reached its budget alert (at the time: 760 credits used, alert at 300)",
		"firing 2026-11/acme/-/threshold/50: acme used 50 % of its 800-credit usage limit (at the time: 760 credits used, 95.0 %)",
		"firing 2026-11/acme/-/threshold/75: acme used 75 % of its 800-credit usage limit (at the time: 760 credits used, 95.0 %)",
		"firing 2026-11/acme/-/threshold/90: acme used 90 % of its 800-credit usage limit (at the time: 760 credits used, 95.0 %)",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestAlertProjectBudgets(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetBudget("acme", "web", ProjectBudget{Alert: 100, Limit: 200}, ms(0))
	lc := newLifecycle()
	e := use("acme", "web", "/responses", 150, time.Minute)
	l.Apply(&e)
	// 150 of the 200-credit limit is 75 %: the workspace's thresholds (50,
	// 75) as percents of the project's limit fire too, before any 402, at the
	// level the project's row shows (high)
	want := []string{
		"firing 2026-11/acme/web/project_budget_alert/-: acme/web reached its budget alert (at the time: 150 credits used, alert at 100)",
		"firing 2026-11/acme/web/threshold/50: acme/web used 50 % of its 200-credit usage limit (at the time: 150 credits used, 75 %)",
		"firing 2026-11/acme/web/threshold/75: acme/web used 75 % of its 200-credit usage limit (at the time: 150 credits used, 75 %)",
	}
	if got := lc.step(l, t0.Add(2*time.Minute)); !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range EvaluateAlerts(l, t0.Add(2*time.Minute), FeedHealth{Connected: true}, AlertOptions{}, nil) {
		if a.Kind == AlertThreshold && a.Project == "web" && a.Level != LevelHigh {
			t.Fatalf("project threshold alert at level %v, the project's row says high", a.Level)
		}
		// its percent is the project's, as its used is: 150 of the 200-credit
		// limit (a budget alert said 150 used, cap 100 and the workspace's 0 %)
		if a.Project == "web" && a.PercentUsed != 75 {
			t.Errorf("%s: percent_used %v with used %d, want the project's 75", a.ID, a.PercentUsed, a.Used)
		}
	}
	l.SetBudget("acme", "web", ProjectBudget{Alert: 500, Limit: 600}, ms(time.Minute))
	if got := ids(lc.step(l, t0.Add(2*time.Minute))); !slices.Equal(got, []string{"resolved 2026-11/acme/web/project_budget_alert/-",
		"resolved 2026-11/acme/web/threshold/50", "resolved 2026-11/acme/web/threshold/75"}) {
		t.Fatalf("got %q", got)
	}
}

func TestAlertRefusalsStartAndEnd(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	lc := newLifecycle()
	now := t0.Add(2 * time.Minute)
	r := refusal("acme", "web", CodeCreditsExhausted, time.Minute)
	l.Apply(&r)
	b := refusal("acme", "ml", CodeBudgetExceeded, time.Minute)
	l.Apply(&b)
	if got := ids(lc.step(l, now)); !slices.Equal(got, []string{
		"firing 2026-11/acme/-/refusals/budget_exceeded", "firing 2026-11/acme/-/refusals/credits_exhausted"}) {
		t.Fatalf("got %q", got)
	}
	// a success adds no credit: credits_exhausted goes on (the OUT rule)
	ok := use("acme", "", "/responses", 1, time.Minute)
	l.Apply(&ok)
	if got := ids(lc.step(l, now)); len(got) != 0 {
		t.Fatalf("a success ended credits_exhausted: %q", got)
	}
	// a recharge does: the account has credits again, but the ml project's
	// own limit still refuses
	rc := Event{TS: ms(time.Minute), Workspace: "acme", Credits: 100, Kind: KindRecharge}
	l.Apply(&rc)
	if got := ids(lc.step(l, now)); !slices.Equal(got, []string{"resolved 2026-11/acme/-/refusals/credits_exhausted"}) {
		t.Fatalf("got %q", got)
	}
	ok = use("acme", "ml", "/responses", 1, time.Minute)
	l.Apply(&ok)
	if got := ids(lc.step(l, now)); !slices.Equal(got, []string{"resolved 2026-11/acme/-/refusals/budget_exceeded"}) {
		t.Fatalf("got %q", got)
	}

	// a ledger seeded with 402s it did not see cannot say whether a limit's
	// go on: it neither fires nor resolves them; credits_exhausted it judges
	// as the row does (OUT by the counters: refused, no credit added)
	fresh := NewLedger(MonthlyUTC, t0)
	fresh.Seed(&Snapshot{Period: MonthlyUTC.At(t0), Refused: map[string]int64{"acme/web/budget_exceeded": 3}}, t0)
	known := map[string]AlertRecord{"2026-11/acme/-/refusals/budget_exceeded": {Status: AlertFiring,
		Alert: Alert{ID: "2026-11/acme/-/refusals/budget_exceeded", Period: "2026-11"}}}
	cands := EvaluateAlerts(fresh, now, FeedHealth{Connected: true}, AlertOptions{}, nil)
	if tr := AlertTransitions(known, cands, "2026-11", fresh.StreamID(), now); len(tr) != 0 {
		t.Fatalf("unknown condition made transitions %+v", tr)
	}
	if tr := AlertTransitions(nil, cands, "2026-11", fresh.StreamID(), now); len(tr) != 0 {
		t.Fatalf("unknown condition fired %+v", tr)
	}
	fresh = NewLedger(MonthlyUTC, t0)
	fresh.Seed(&Snapshot{Period: MonthlyUTC.At(t0), Refused: map[string]int64{"acme/web/credits_exhausted": 3}}, t0)
	cands = EvaluateAlerts(fresh, now, FeedHealth{Connected: true}, AlertOptions{}, nil)
	tr := AlertTransitions(nil, cands, "2026-11", fresh.StreamID(), now)
	if sum, _ := fresh.Summary("acme"); len(tr) != 1 || tr[0].Alert.ID != "2026-11/acme/-/refusals/credits_exhausted" || tr[0].Status != AlertFiring ||
		sum.Status.Level != LevelExhausted {
		t.Fatalf("a start that shows acme %s fired %+v", sum.Status.Level, tr)
	}
}

func TestAlertResolvedOnlyByALedgerAsFarAlong(t *testing.T) {
	a := Alert{ID: "2026-11/acme/-/threshold/50", Period: "2026-11", Kind: AlertThreshold, Condition: ConditionEnded}
	known := map[string]AlertRecord{a.ID: {Alert: a, Status: AlertFiring, FiredStream: "1700000000500-0"}}
	for _, tc := range []struct {
		stream string
		want   int
	}{{"1700000000499-9", 0}, {"1700000000500-0", 1}, {"1700000000600-0", 1}} {
		if got := AlertTransitions(known, []Alert{a}, "2026-11", tc.stream, t0); len(got) != tc.want {
			t.Errorf("ledger at %s: %d transitions, want %d", tc.stream, len(got), tc.want)
		}
	}
}

// A threshold removed from the settings while it fires resolves once, and its
// summary does not claim the workspace went back under it: it did not.
func TestAlertRemovedThresholdResolvesWithoutClaimingBackUnder(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 1000}, ms(0))
	e := use("acme", "", "/responses", 760, time.Minute)
	e.ID = fmt.Sprintf("%d-0", t0.UnixMilli()+1)
	l.Apply(&e)
	lc := newLifecycle()
	now := t0.Add(2 * time.Minute)
	if got := ids(lc.step(l, now)); len(got) != 2 {
		t.Fatalf("firings %q", got)
	}
	l.SetSettings("acme", Settings{Allocation: 1000, Alerts: []int{60, 80, 95}}, ms(time.Minute))
	lines := lc.step(l, now)
	want := []string{
		"resolved 2026-11/acme/-/threshold/50: acme is no longer alerted on (its line was removed from the settings); it had fired as: acme used 50 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)",
		"firing 2026-11/acme/-/threshold/60: acme used 60 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)",
		"resolved 2026-11/acme/-/threshold/75: acme is no longer alerted on (its line was removed from the settings); it had fired as: acme used 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestAlertPeriodRolloverResolves(t *testing.T) {
	old := Alert{ID: "2026-10/acme/-/threshold/90", Period: "2026-10", Workspace: "acme", Kind: AlertThreshold,
		Threshold: 90, Used: 950, Cap: 1000, PercentUsed: 95}
	known := map[string]AlertRecord{old.ID: {Alert: old, Status: AlertFiring, FiredStream: "9999999999999-0"}}
	l := NewLedger(MonthlyUTC, t0) // November
	cands := EvaluateAlerts(l, t0, FeedHealth{Connected: true}, AlertOptions{}, nil)
	tr := AlertTransitions(known, cands, l.Period().Key, l.StreamID(), t0)
	if len(tr) != 1 || tr[0].Status != AlertResolved || tr[0].Alert.ID != old.ID {
		t.Fatalf("got %+v", tr)
	}
	want := "billing period 2026-10 ended: acme used 90 % of its 1,000-credit cap (at the time: 950 credits used, 95.0 %)"
	if s := tr[0].Summary(l.Period().Key); s != want {
		t.Fatalf("summary %q\nwant    %q", s, want)
	}
}

func TestAlertStale(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	down := t0.Add(-time.Minute)
	for _, tc := range []struct {
		name string
		h    FeedHealth
		now  time.Time
		cond AlertCondition
		sum  string
	}{
		{"connected, no lag", FeedHealth{Connected: true, Since: down}, t0, ConditionEnded, "the usage feed is flowing again"},
		{"unreachable 4 min", FeedHealth{Since: down}, down.Add(4 * time.Minute), ConditionEnded, ""},
		{"unreachable 5 min", FeedHealth{Since: down}, down.Add(5 * time.Minute), ConditionHolds,
			"mavtop cannot reach Redis: no usage news for 5 min"},
		{"read 6 min late", FeedHealth{Connected: true, Lag: 6 * time.Minute}, t0, ConditionHolds,
			"the usage stream is read 6 min late"},
		{"never connected yet", FeedHealth{}, t0, ConditionEnded, ""},
	} {
		cands := EvaluateAlerts(l, tc.now, tc.h, AlertOptions{}, nil)
		a := cands[len(cands)-1]
		if a.Kind != AlertStale || a.Condition != tc.cond {
			t.Errorf("%s: %+v", tc.name, a)
			continue
		}
		status := AlertFiring
		if tc.cond == ConditionEnded {
			status = AlertResolved
		}
		tr := AlertTransition{Alert: a, Status: status}
		if tc.sum != "" && tr.Summary(l.Period().Key) != tc.sum {
			t.Errorf("%s: %q", tc.name, tr.Summary(l.Period().Key))
		}
	}
}

func TestAlertRunOut(t *testing.T) {
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) // 48 h before the period ends
	l := NewLedger(MonthlyUTC, start)
	l.SetSettings("acme", Settings{Allocation: 10000}, start.UnixMilli())
	runOut := func(now time.Time) Alert {
		for _, a := range EvaluateAlerts(l, now, FeedHealth{Connected: true}, AlertOptions{}, nil) {
			if a.Kind == AlertRunOut {
				return a
			}
		}
		t.Fatal("no run-out alert")
		return Alert{}
	}
	if a := runOut(start.Add(time.Minute)); a.Condition != ConditionUnknown {
		t.Fatalf("a minute in, the burn is not known yet: %+v", a)
	}
	// 600 credits an hour for an hour: 9,400 left last 15.7 h, 32.3 h before the end
	for i := range 60 {
		e := Event{TS: start.Add(time.Duration(i) * time.Minute).UnixMilli(), Workspace: "acme", Endpoint: "/x", Credits: 10, Status: 200}
		l.Apply(&e)
	}
	now := start.Add(time.Hour)
	a := runOut(now)
	f := l.Forecast("acme", now)
	if a.Condition != ConditionHolds || a.RunOutIn != f.RunsOutIn || a.Spare != f.Left-f.RunsOutIn {
		t.Fatalf("run-out %+v, forecast %+v", a, f)
	}
	tr := AlertTransition{Alert: a, Status: AlertFiring}
	want := fmt.Sprintf("acme runs out of credits in 15 h at %s credits/h, 31 h before the billing period ends (at the time: 600 credits used of its 10,000-credit cap)",
		FormatCredits(int64(f.BurnPerHour+0.5)))
	if s := tr.Summary(l.Period().Key); s != want {
		t.Fatalf("summary %q", s)
	}
	// quiet for a day: no burn, no run-out
	if a := runOut(start.Add(25 * time.Hour)); a.Condition != ConditionEnded {
		t.Fatalf("idle: %+v", a)
	}
}

func TestForecastScore(t *testing.T) {
	p := time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		refused time.Time
		want    string
	}{
		{p.Add(-13 * time.Minute), "acme: projected 14:05, refused 13:52: 13 min early"},
		{p.Add(2 * time.Hour), "acme: projected 14:05, refused 16:05: 2 h late"},
		{p.Add(20 * time.Second), "acme: projected 14:05, refused 14:05: on time"},
		// on another day each time says its date: "projected 06:56, refused
		// 05:14: 3 days early" read as a contradiction (rev11, the alerts pane)
		{p.Add(-3*24*time.Hour - 9*time.Minute), "acme: projected 11-25 14:05, refused 11-22 13:56: 3 days early"},
		{p.Add(10 * time.Hour), "acme: projected 11-25 14:05, refused 11-26 00:05: 10 h late"},
	} {
		s := ForecastScore{Workspace: "acme", Projected: p, Refused: tc.refused}
		if got := s.String(time.UTC); got != tc.want || s.Error() != tc.refused.Sub(p) {
			t.Errorf("got %q (%v), want %q", got, s.Error(), tc.want)
		}
	}
}

// Every kind has a firing and a resolved sentence, each saying what of what:
// the two wordings live side by side in one switch and must both stay.
func TestAlertSentencesEveryKind(t *testing.T) {
	base := Alert{Period: "2026-11", Workspace: "acme", Used: 760, Cap: 1000, CapKind: CapAllocation, PercentUsed: 76}
	with := func(f func(a *Alert)) Alert { a := base; f(&a); return a }
	for _, tc := range []struct {
		a                Alert
		firing, resolved string
	}{
		{with(func(a *Alert) { a.Kind, a.Threshold = AlertThreshold, 75 }),
			"acme used 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)",
			"acme is back under 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)"},
		{with(func(a *Alert) { a.Kind, a.Threshold, a.CapKind = AlertThreshold, 90, CapLimit }),
			"acme used 90 % of its 1,000-credit usage limit (at the time: 760 credits used, 76 %)",
			"acme is back under 90 % of its 1,000-credit usage limit (at the time: 760 credits used, 76 %)"},
		{with(func(a *Alert) { a.Kind = AlertAllocation }),
			"acme used all its credits (at the time: 760 of 1,000 credits)",
			"acme has credits again: its allocation is now 1,000 credits (at the time: 760 credits used)"},
		{with(func(a *Alert) { a.Kind = AlertUsageLimit }),
			"acme reached its usage limit (at the time: 760 of 1,000 credits): its calls now get 402 budget_exceeded",
			"acme is under its usage limit again: the limit is now 1,000 credits (at the time: 760 credits used)"},
		{with(func(a *Alert) { a.Kind, a.Project = AlertProjectLimit, "web" }),
			"acme/web reached its usage limit (at the time: 760 of 1,000 credits): its calls now get 402 budget_exceeded",
			"acme/web is under its usage limit again: the limit is now 1,000 credits (at the time: 760 credits used)"},
		{with(func(a *Alert) { a.Kind = AlertBudget }),
			"acme reached its budget alert (at the time: 760 credits used, alert at 1,000)",
			"acme is under its budget alert again: the alert is now at 1,000 credits (at the time: 760 credits used)"},
		{with(func(a *Alert) { a.Kind, a.Project = AlertProjectBudget, "web" }),
			"acme/web reached its budget alert (at the time: 760 credits used, alert at 1,000)",
			"acme/web is under its budget alert again: the alert is now at 1,000 credits (at the time: 760 credits used)"},
		{with(func(a *Alert) { a.Kind, a.Code, a.Refused = AlertRefusals, CodeBudgetExceeded, 3 }),
			"the API refuses acme's calls with 402 budget_exceeded (3 this period)",
			"acme's calls succeed again after 402 budget_exceeded (3 this period)"},
		// credits_exhausted ends only by credit added, never by a call: its
		// resolution says which credit
		{with(func(a *Alert) {
			a.Kind, a.Code, a.Refused = AlertRefusals, CodeCreditsExhausted, 3
			a.Allocation, a.Recharged, a.OutAllocation = 1_000, 50, 1_000
		}),
			"the API refuses acme's calls with 402 credits_exhausted (3 this period)",
			"credit added to acme: recharge +50, after 402 credits_exhausted (at the time: 3 this period; 1,050 credits: allocation 1,000 + recharges 50, 760 credits used)"},
		{with(func(a *Alert) {
			a.Kind, a.Code, a.Refused = AlertRefusals, CodeCreditsExhausted, 1
			a.Allocation, a.Recharged, a.OutAllocation, a.OutRecharged = 2_000, 100, 1_000, 50
		}),
			"the API refuses acme's calls with 402 credits_exhausted (1 this period)",
			"credit added to acme: recharge +50, allocation raised +1,000, after 402 credits_exhausted (at the time: 1 this period; 2,100 credits: allocation 2,000 + recharges 100, 760 credits used)"},
		{with(func(a *Alert) {
			a.Kind, a.BurnPerHour, a.RunOutIn, a.Spare = AlertRunOut, 40, 6*time.Hour, 3*24*time.Hour
		}),
			"acme runs out of credits in 6 h at 40 credits/h, 3 days before the billing period ends (at the time: 760 credits used of its 1,000-credit cap)",
			"acme no longer runs out before the billing period ends at its burn of 40 credits/h (at the time: 760 credits used)"},
		{Alert{Kind: AlertStale, Period: "2026-11", Down: 7 * time.Minute, Unreachable: true},
			"mavtop cannot reach Redis: no usage news for 7 min", "the usage feed is flowing again"},
		{Alert{Kind: AlertStale, Period: "2026-11", Down: 6 * time.Minute},
			"the usage stream is read 6 min late", "the usage feed is flowing again"},
	} {
		for _, st := range []AlertStatus{AlertFiring, AlertResolved} {
			tr := AlertTransition{Alert: tc.a, Status: st}
			want := tc.firing
			if st == AlertResolved {
				want = tc.resolved
			}
			if got := tr.Summary("2026-11"); got != want {
				t.Errorf("%s %s:\n got  %q\n want %q", tc.a.Kind, st, got, want)
			}
		}
	}
	// a firing alert of an ended period resolves with the period's sentence
	tr := AlertTransition{Alert: with(func(a *Alert) { a.Kind, a.Threshold = AlertThreshold, 50 }), Status: AlertResolved}
	if got, want := tr.Summary("2026-12"), "billing period 2026-11 ended: acme used 50 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)"; got != want {
		t.Errorf("rollover: %q", got)
	}
}

// A restarted instance reads the project credits (used_by) after the first
// frame: until they are in, its projects read 0 credits, and it must not
// resolve (or fire) a project's alert that one that watched all along judges
// still holding.
func TestAlertProjectsWaitForTheirCredits(t *testing.T) {
	snap := func(later bool) *Snapshot {
		s := &Snapshot{Period: MonthlyUTC.At(t0), StreamID: "100-0", Used: map[string]int64{"acme": 150},
			Budgets: map[string]ProjectBudget{ProjectKey("acme", "web"): {Alert: 100, Limit: 200}}, UsedByLater: later}
		if !later {
			s.UsedBy = map[string]int64{UsedByField("acme", "web", "/responses"): 150}
		}
		return s
	}
	now := t0.Add(2 * time.Minute)
	watched := NewLedger(MonthlyUTC, t0)
	watched.Seed(snap(false), t0)
	lc := newLifecycle()
	fired := ids(lc.step(watched, now))
	if len(fired) != 3 {
		t.Fatalf("the instance that watched fired %q, want the project's budget alert and its 50 and 75 %% thresholds", fired)
	}
	restarted := NewLedger(MonthlyUTC, t0)
	restarted.Seed(snap(true), t0)
	if got := lc.step(restarted, now); got != nil {
		t.Fatalf("before its project credits are read the restarted instance decided %q; want nothing", got)
	}
	restarted.SeedUsedBy(map[string]int64{UsedByField("acme", "web", "/responses"): 150}, "100-0")
	if got := lc.step(restarted, now); got != nil {
		t.Fatalf("with its project credits read the restarted instance decided %q; want nothing (they still hold)", got)
	}
	for id, rec := range lc.known {
		if rec.Status != AlertFiring {
			t.Errorf("%s is %s, want firing", id, rec.Status)
		}
	}
}

// TestRefusalAlertsAreNeverOK: a workspace at 2 % of its own allocation whose
// project "research" is refused at its usage limit (the demo's hooli-ml, and
// acme in the README's first steps) fires a refusals alert at the row's
// verdict (critical: a project at its limit is not its workspace OUT); one
// refused with budget_exceeded far under its counters is held at the limit
// that refused it (critical, "limit reached"), and one refused with another
// code at warn at least: the pane drew "✓ firing: the API refuses acme's
// calls" and the webhook said "level": "ok" for refused calls.
func TestRefusalAlertsAreNeverOK(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 10_000}, ms(0))
	l.SetBudget("acme", "research", ProjectBudget{Limit: 200}, ms(0))
	l.SetSettings("beta", Settings{Allocation: 10_000}, ms(0))
	l.SetSettings("gamma", Settings{Allocation: 10_000}, ms(0))
	for _, e := range []Event{use("acme", "research", "/responses", 200, time.Minute), refusal("acme", "research", "budget_exceeded", 2*time.Minute),
		use("beta", "", "/responses", 100, time.Minute), refusal("beta", "", "budget_exceeded", 2*time.Minute),
		use("gamma", "", "/responses", 100, time.Minute), refusal("gamma", "", "subscription_lapsed", 2*time.Minute)} {
		l.Apply(&e)
	}
	want := map[string]Level{"acme": LevelCritical, "beta": LevelCritical, "gamma": LevelWarn}
	n := 0
	for _, a := range EvaluateAlerts(l, t0.Add(3*time.Minute), FeedHealth{Connected: true}, AlertOptions{}, nil) {
		if a.Kind != AlertRefusals {
			continue
		}
		n++
		if a.Level != want[a.Workspace] {
			t.Errorf("%s: refusals alert at level %v, want %v", a.ID, a.Level, want[a.Workspace])
		}
	}
	if n != 3 {
		t.Fatalf("%d refusals alerts, want 3 (acme's, beta's and gamma's)", n)
	}
}

// TestRunOutAlertOfAnExhaustedWorkspace: a workspace whose allocation is used
// up has run out; its run-out alert said "runs out of credits in 0 s at 0
// credits/h", a burn that runs nothing out.
func TestRunOutAlertOfAnExhaustedWorkspace(t *testing.T) {
	a := Alert{Kind: AlertRunOut, Workspace: "full", Cap: 500, CapKind: CapAllocation, Used: 500, Spare: 9 * time.Hour}
	tr := AlertTransition{Alert: a, Status: AlertFiring}
	want := "full has run out of credits, 9 h before the billing period ends (at the time: 500 credits used of its 500-credit cap)"
	if s := tr.Summary("2026-11"); s != want {
		t.Fatalf("summary %q, want %q", s, want)
	}
}

// TestRunOutAlertOfAReachedCap: a cap with credits left that cannot cover
// one more typical charge (Forecast.Reached: run-out in 0 s) has not run out;
// its alert says what holds.
func TestRunOutAlertOfAReachedCap(t *testing.T) {
	a := Alert{Kind: AlertRunOut, Workspace: "crit", Cap: 1000, CapKind: CapAllocation, Used: 930, Spare: 9 * time.Hour}
	tr := AlertTransition{Alert: a, Status: AlertFiring}
	want := "crit cannot cover one more typical charge, 9 h before the billing period ends (at the time: 930 credits used of its 1,000-credit cap)"
	if s := tr.Summary("2026-11"); s != want {
		t.Fatalf("summary %q, want %q", s, want)
	}
}

// TestAUsedUpCapIsSaidOnceInItsOwnWords: a workspace whose usage limit is
// used up has its line's alert (usage_limit_reached: "reached its usage
// limit"), not a second one from the run-out saying the same in other
// words ("has run out of credits", at the same second: a usage limit
// reached is not credits run out). After the limit is raised, what was
// judged against it resolves, and the run-out, judged against the new
// limit, says when that one is reached ("reaches its usage limit in").
func TestAUsedUpCapIsSaidOnceInItsOwnWords(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{UsageLimit: 1000}, ms(0))
	lc := newLifecycle()
	for i := range 11 { // 1,100 of 1,000 over ten minutes: used up
		e := use("acme", "", "/responses", 100, time.Duration(i)*time.Minute)
		e.ID = fmt.Sprintf("%d-0", e.TS) // written when its ts says (Event.At)
		l.Apply(&e)
	}
	now := t0.Add(11 * time.Minute)
	got := ids(lc.step(l, now))
	want := []string{"firing 2026-11/acme/-/threshold/50", "firing 2026-11/acme/-/threshold/75",
		"firing 2026-11/acme/-/threshold/90", "firing 2026-11/acme/-/usage_limit_reached/-"}
	if !slices.Equal(got, want) {
		t.Fatalf("used up:\n got  %q\n want %q (no run_out beside the limit's own alert)", got, want)
	}
	l.SetSettings("acme", Settings{UsageLimit: 5000}, ms(11*time.Minute))
	lines := lc.step(l, now)
	want = []string{
		"firing 2026-11/acme/-/run_out/-: acme reaches its usage limit in 39 min at 6,000 credits/h, 5 days before the billing period ends (at the time: 1,100 credits used of its 5,000-credit usage limit)",
		"resolved 2026-11/acme/-/threshold/50: acme is back under 50 % of its 5,000-credit usage limit (at the time: 1,100 credits used, 22 %)",
		"resolved 2026-11/acme/-/threshold/75: acme is back under 75 % of its 5,000-credit usage limit (at the time: 1,100 credits used, 22 %)",
		"resolved 2026-11/acme/-/threshold/90: acme is back under 90 % of its 5,000-credit usage limit (at the time: 1,100 credits used, 22 %)",
		"resolved 2026-11/acme/-/usage_limit_reached/-: acme is under its usage limit again: the limit is now 5,000 credits (at the time: 1,100 credits used)",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("raised:\n got  %q\n want %q", lines, want)
	}
}

// TestAlertFiguresAreSaidToBeOfTheirTime: an alert keeps the figures it was
// judged with, shown beside rows of the figures of now ("fired at 75 %: 760
// credits used" beside a row at 92 %), and called its cap "allocation" while
// it counted the recharges. Every sentence with figures heads them "at the
// time:", and none calls the allocation plus recharges an allocation.
func TestAlertFiguresAreSaidToBeOfTheirTime(t *testing.T) {
	base := Alert{Period: "2026-11", Workspace: "acme", Used: 1125, Cap: 1500, CapKind: CapAllocation, PercentUsed: 75,
		Threshold: 75, Allocation: 1000, Recharged: 500, BurnPerHour: 40, RunOutIn: 3 * time.Hour, Spare: 9 * time.Hour, Refused: 2, Code: CodeCreditsExhausted}
	for _, k := range []AlertKind{AlertThreshold, AlertAllocation, AlertUsageLimit, AlertBudget, AlertRunOut, AlertRefusals} {
		for _, st := range []AlertStatus{AlertFiring, AlertResolved} {
			a := base
			a.Kind = k
			tr := AlertTransition{Status: st, Alert: a}
			s := tr.Summary("2026-11")
			if strings.Contains(s, "credit allocation") || strings.Contains(s, "whole allocation") {
				t.Errorf("%s %s: %q calls allocation + recharges an allocation", k, st, s)
			}
			if strings.Contains(s, "1,125") && !strings.Contains(s, "(at the time: ") {
				t.Errorf("%s %s: %q gives its figures as if current", k, st, s)
			}
		}
	}
	a := base
	a.Kind = AlertThreshold
	tr := AlertTransition{Status: AlertFiring, Alert: a}
	if s, want := tr.Summary("2026-11"), "acme used 75 % of its 1,500-credit cap (at the time: 1,125 credits used, 75 %)"; s != want {
		t.Errorf("threshold: %q, want %q", s, want)
	}
}
