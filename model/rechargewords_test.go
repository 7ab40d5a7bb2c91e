package model

import (
	"strings"
	"testing"
	"time"
)

// TestRechargeWordsAreExactAndOne: the words of a workspace auto-recharge
// keeps alive are one phrase, shared by the detail view and the run_out alert
// (RechargeWords), and exact: one top-up is "~1 top-up" (it said "~1
// top-ups"), a top-up due now is "now" (it said "in 0 s"), and the run_out
// alert of a workspace whose usage limit stops the top-ups says it runs out
// after recharges at that limit (it said "runs out of credits … of its
// 12,000-credit cap", credits the auto-recharge adds).
func TestRechargeWordsAreExactAndOne(t *testing.T) {
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) // 48 h before the period ends
	l := NewLedger(MonthlyUTC, start.Add(-time.Hour))
	set := Settings{Allocation: 10_000, RechargeBelow: 500, RechargeAmount: 2000}
	l.SetSettings("globex", set, start.UnixMilli())
	l.Apply(&Event{TS: start.Add(-time.Hour).UnixMilli(), Workspace: "globex", Endpoint: "/x", Credits: 8000, Status: 200})
	// 100 credits a minute (6000/h) for 15 min: 9500 used, 500 left
	last := spend(l, "globex", start.Add(-15*time.Minute+time.Minute), time.Minute, 15, 100)
	if got, want := RechargeWords(l.Forecast("globex", last)), "recharges at 500 left now, ~144 top-ups of 2,000 left this period"; got != want {
		t.Errorf("at the threshold: %q, want %q", got, want)
	}
	l.Apply(&Event{TS: last.UnixMilli() + 1, Workspace: "globex", Credits: 2000, Kind: KindRecharge})
	if got, want := RechargeWords(l.Forecast("globex", last)), "recharges at 500 left in 20 min, ~143 top-ups of 2,000 left this period"; got != want {
		t.Errorf("after a top-up: %q, want %q", got, want)
	}
	// a usage limit of 12,500: 3,000 more at 6,000/h, one top-up (after
	// 2,000) before it
	set.UsageLimit = 12_500
	l.SetSettings("globex", set, last.UnixMilli())
	f := l.Forecast("globex", last)
	if got, want := RechargeWords(f), "runs out after recharges in 30 min (~1 top-up of 2,000, then the usage limit)"; got != want {
		t.Errorf("with a usage limit: %q, want %q (%+v)", got, want, f)
	}
	var run *Alert
	alerts := EvaluateAlerts(l, last, FeedHealth{Connected: true}, AlertOptions{}, nil)
	for i := range alerts {
		if alerts[i].ID == AlertID(l.Period().Key, "globex", "", AlertRunOut, "") {
			run = &alerts[i]
		}
	}
	if run == nil || run.Condition != ConditionHolds {
		t.Fatalf("no run_out holding: %+v", run)
	}
	text := run.sentence(false)
	if want := "globex runs out after recharges in 30 min at 6,000 credits/h (~1 top-up of 2,000, then its 12,500-credit usage limit)"; !strings.HasPrefix(text, want) || strings.Contains(text, "of credits") {
		t.Errorf("run_out alert %q, want it to begin %q", text, want)
	}
	// once the limit binds (below the allocation and its recharges), it is a
	// plain run-out at the usage limit, with no top-up
	set.UsageLimit = 11_000
	l.SetSettings("globex", set, last.UnixMilli())
	if f := l.Forecast("globex", last); RechargeWords(f) != "" || f.Recharges {
		t.Errorf("limit binding: %q (%+v)", RechargeWords(f), f)
	}
	if got := TopUpsWords(3, 2000); got != "~3 top-ups of 2,000" {
		t.Errorf("TopUpsWords(3): %q", got)
	}
	// a count is a number on screen: grouped as every credit figure is (the
	// detail pane said "~9930 top-ups")
	if got := TopUpsWords(9930, 500); got != "~9,930 top-ups of 500" {
		t.Errorf("TopUpsWords(9930): %q", got)
	}
}
