package model

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestJudgeAllIsSummaryAndVerdict: JudgeAll visits every workspace once, in
// name order, with exactly what Summary, Verdict and Projects say of it — the
// one judgement, read without a lookup by name: workspaces with and without
// settings, own thresholds, usage limits that bind, recharges, OUT after a
// credits_exhausted 402, projects with limits that set the verdict (and ties),
// budgets without a limit, a project named only by its 402s.
func TestJudgeAllIsSummaryAndVerdict(t *testing.T) {
	s := &Snapshot{
		Period: MonthlyUTC.At(t0), StreamID: "0-0",
		Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{},
		Recharged: map[string]int64{}, Settings: map[string]Settings{}, Budgets: map[string]ProjectBudget{},
	}
	for i := range 300 {
		ws := fmt.Sprintf("w%03d", (i*7919)%300) // not in name order
		if i%5 != 0 {
			st := Settings{Allocation: int64(100 + i)}
			if i%7 == 0 {
				st.Alerts = []int{10, 40 + i%50}
			}
			if i%11 == 0 {
				st.UsageLimit = int64(50 + i)
			}
			s.Settings[ws] = st
		}
		if i%3 != 0 {
			s.Used[ws] = int64(i * 3 % 400)
		}
		if i%13 == 0 {
			s.Recharged[ws] = 20
		}
		if i%4 == 0 {
			s.Budgets[ProjectKey(ws, "b")] = ProjectBudget{Limit: int64(10 + i%30), Alert: 5}
			s.Budgets[ProjectKey(ws, "a")] = ProjectBudget{Limit: int64(10 + i%30)}
			s.UsedBy[UsedByField(ws, "b", "/responses")] = int64(i % 40)
			s.UsedBy[UsedByField(ws, "a", "/responses")] = int64(i % 40)
		}
		if i%6 == 0 {
			s.Budgets[ProjectKey(ws, "c")] = ProjectBudget{Alert: 7} // no limit: not weighed
		}
		if i%9 == 0 {
			s.Refused[RefusedField(ws, "z", CodeCreditsExhausted)] = 2
			s.Refused[RefusedField(ws, "b", CodeBudgetExceeded)] = 1
		}
	}
	l := NewLedger(MonthlyUTC, t0).WithDefaultAlerts([]int{30, 60, 80})
	l.Seed(s, t0)
	var names []string
	limitedSeen, projectVerdicts := 0, 0
	l.JudgeAll(func(j *Judged) {
		names = append(names, j.Name)
		sum, ok := l.Summary(j.Name)
		if !ok || !reflect.DeepEqual(j.Summary, sum) {
			t.Fatalf("%s: JudgeAll's summary %+v, Summary %+v", j.Name, j.Summary, sum)
		}
		v, _ := l.Verdict(j.Name)
		if !reflect.DeepEqual(j.Verdict, v) {
			t.Fatalf("%s: JudgeAll's verdict %+v, Verdict %+v", j.Name, j.Verdict, v)
		}
		if v.Project != "" {
			projectVerdicts++
		}
		var want []ProjectSummary
		for _, p := range l.Projects(j.Name) {
			if p.Budget.Limit > 0 {
				p.Endpoints = nil
				want = append(want, p)
			}
		}
		slices.SortFunc(want, func(a, b ProjectSummary) int { return strings.Compare(a.Name, b.Name) })
		if !reflect.DeepEqual(j.Limited, want) {
			t.Fatalf("%s: JudgeAll's limited projects %+v, Projects %+v", j.Name, j.Limited, want)
		}
		limitedSeen += len(j.Limited)
	})
	if len(names) != l.Len() || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("visited %d of %d workspaces, sorted %v", len(names), l.Len(), slices.IsSorted(names))
	}
	if limitedSeen != 2*75 || projectVerdicts == 0 {
		t.Fatalf("%d limited projects seen (want 150), %d verdicts set by a project: the fixture misses the cases", limitedSeen, projectVerdicts)
	}
}

// TestAnUnreadableProjectBudgetDoesNotHideAKnownLevel: a verdict ranks a
// project budget that cannot be read as check ranks UNKNOWN, below what is
// known not to be fine: a workspace used up (exhausted), at its last
// threshold (critical) or its second (high) keeps its own level beside such
// a project (check exited 3, not 2, for a workspace the API refused), and a
// workspace at ok or warn is unknown by it.
func TestAnUnreadableProjectBudgetDoesNotHideAKnownLevel(t *testing.T) {
	for _, c := range []struct {
		used    int64
		refused bool // a credits_exhausted 402 this period, no credit added
		want    Level
		project string
	}{
		{used: 100, want: LevelExhausted},
		{used: 10, refused: true, want: LevelExhausted},
		{used: 95, want: LevelCritical},
		{used: 80, want: LevelHigh},
		{used: 60, want: LevelUnknown, project: "p"},
		{used: 10, want: LevelUnknown, project: "p"},
	} {
		s := &Snapshot{
			Period: MonthlyUTC.At(t0), StreamID: "0-0",
			Used: map[string]int64{"w": c.used}, UsedBy: map[string]int64{UsedByField("w", "p", "/x"): 5},
			Refused: map[string]int64{}, Recharged: map[string]int64{},
			Settings: map[string]Settings{"w": {Allocation: 100}},
			Budgets:  map[string]ProjectBudget{ProjectKey("w", "p"): {Unreadable: `settings "w/p" cannot be read`}},
		}
		if c.refused {
			s.Refused[RefusedField("w", "", "credits_exhausted")] = 1
		}
		l := NewLedger(MonthlyUTC, t0)
		l.Seed(s, t0)
		v, ok := l.Verdict("w")
		if !ok || v.Level != c.want || v.Project != c.project {
			t.Errorf("used %d of 100, refused %v, project budget unreadable: verdict %v of %q, want %v of %q", c.used, c.refused, v.Level, v.Project, c.want, c.project)
		}
		l.JudgeAll(func(j *Judged) { // check's walk
			if j.Verdict.Level != c.want || j.Verdict.Project != c.project {
				t.Errorf("used %d of 100, refused %v: JudgeAll's verdict %v of %q, want %v of %q", c.used, c.refused, j.Verdict.Level, j.Verdict.Project, c.want, c.project)
			}
		})
	}
}
