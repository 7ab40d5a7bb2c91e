package model

import (
	"testing"
	"time"
)

// TestTheUnreadableReasonIsTheMostSevere: of a workspace's reasons that
// something cannot be read, UnreadableWorkspaces gives the most severe by a
// documented order — used counter, own settings, recharged counter, then the
// first project in name order — not the least string (the choice between the
// recharged counter and a project's was `r < why`: a message starting "a"
// won whatever it was about).
func TestTheUnreadableReasonIsTheMostSevere(t *testing.T) {
	t0 := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	p := MonthlyUTC.At(t0)
	seed := func(s Snapshot) string {
		l := NewLedger(MonthlyUTC, t0)
		s.Period, s.StreamID = p, "0-0"
		if s.Used == nil {
			s.Used = map[string]int64{"acme": 10}
		}
		if s.Settings == nil {
			s.Settings = map[string]Settings{"acme": {Allocation: 1000}}
		}
		l.Seed(&s, t0)
		return l.UnreadableWorkspaces(nil)["acme"]
	}
	budgets := map[string]ProjectBudget{
		"acme/b": {Limit: 100, UsageUnreadable: "a: project b's credits"},
		"acme/a": {Limit: 100, UsageUnreadable: "z: project a's credits"},
	}
	for _, c := range []struct {
		name string
		s    Snapshot
		want string
	}{
		{"recharged before projects", Snapshot{Budgets: budgets, RechargedUnreadable: map[string]string{"acme": "y: recharged"}}, "y: recharged"},
		{"projects in name order", Snapshot{Budgets: budgets}, "z: project a's credits"},
		{"a project's settings before its credits", Snapshot{Budgets: map[string]ProjectBudget{
			"acme/a": {Limit: 100, Unreadable: "s: project a's settings", UsageUnreadable: "b: project a's credits"}}}, "s: project a's settings"},
		{"own settings before recharged", Snapshot{Budgets: budgets, RechargedUnreadable: map[string]string{"acme": "a: recharged"},
			Settings: map[string]Settings{"acme": {Unreadable: "x: settings"}}}, "x: settings"},
		{"the used counter first", Snapshot{Budgets: budgets, RechargedUnreadable: map[string]string{"acme": "a: recharged"},
			Used: map[string]int64{}, Unreadable: map[string]string{"acme": "z: used"}}, "z: used"},
	} {
		for range 5 { // map order: the same every time
			if got := seed(c.s); got != c.want {
				t.Errorf("%s: %q, want %q", c.name, got, c.want)
			}
		}
	}
}
