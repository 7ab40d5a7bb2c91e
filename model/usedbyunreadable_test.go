package model

import (
	"strings"
	"testing"
	"time"
)

// TestAProjectWhoseCreditsCannotBeReadIsListed: a used_by field of a project
// without a usage limit that holds no integer ≥ 0 (Snapshot.UsedByUnreadable)
// leaves the project listed with its credits unknown, by a Seed and by a
// used_by read after it (MarkProjectsUnreadable), never dropped; its
// workspace's level is its own counters', and a budget alert of it neither
// holds nor ends. A budget set afterwards keeps its credits unknown.
func TestAProjectWhoseCreditsCannotBeReadIsListed(t *testing.T) {
	why := `counter "used_by:k1/p//x" cannot be read ("junk" is not an integer)`
	at := MonthlyUTC.At(t0)
	for _, way := range []string{"seed", "used_by later"} {
		s := &Snapshot{Period: at, StreamID: "0-0",
			Used:     map[string]int64{"k1": 1000},
			UsedBy:   map[string]int64{UsedByField("k1", "q", "/x"): 2},
			Settings: map[string]Settings{"k1": {Allocation: 10_000}},
			Budgets:  map[string]ProjectBudget{"k1/a": {Alert: 10}},
		}
		unreadable := map[string]string{"k1/p": why, "k1/a": why}
		if way == "seed" {
			for key, w := range unreadable {
				s.MarkProjectUnreadable(key, w)
			}
		}
		l := NewLedger(MonthlyUTC, t0)
		l.Seed(s, t0)
		if way != "seed" {
			l.MarkProjectsUnreadable(unreadable)
		}
		got := map[string]ProjectSummary{}
		for _, p := range l.Projects("k1") {
			got[p.Name] = p
		}
		for _, name := range []string{"p", "a"} {
			if p, ok := got[name]; !ok || p.Budget.UsageUnreadable != why || !p.Status.Unknown.Has(FigUsed) {
				t.Errorf("%s: project %s %+v (listed %v), want listed with its credits unreadable", way, name, p, ok)
			}
		}
		if sum, _ := l.Summary("k1"); sum.Status.Level != LevelOK || sum.Verdict.Level != LevelOK {
			t.Errorf("%s: k1 level %v verdict %v, want ok (its own counters)", way, sum.Status.Level, sum.Verdict.Level)
		}
		seen := 0
		for _, a := range EvaluateAlerts(l, t0.Add(time.Minute), FeedHealth{Connected: true}, AlertOptions{}, nil) {
			if a.Project != "a" {
				continue
			}
			seen++
			if a.Condition != ConditionUnknown {
				t.Errorf("%s: alert %s condition %v, want unknown", way, a.ID, a.Condition)
			}
		}
		if seen == 0 {
			t.Errorf("%s: no alert line of project a's budget alert", way)
		}
		l.SetBudget("k1", "p", ProjectBudget{Alert: 5}, t0.UnixMilli())
		for _, p := range l.Projects("k1") {
			if p.Name == "p" && !strings.Contains(p.Budget.UsageUnreadable, "used_by:k1/p//x") {
				t.Errorf("%s: p after a budget set: %q, want its credits still unreadable", way, p.Budget.UsageUnreadable)
			}
		}
	}
}
