package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestAProjectWhoseBudgetCannotBeReadShowsNoFigureOfZero: a project whose
// stored budget cannot be read (or whose credits cannot) sets its
// workspace's verdict unknown; the detail view (80x24, as Enter opens it)
// read "verdict: project p at 0 % of its usage limit (95 of 0 credits)" and
// "project p's usage limit (sets the level): idle · burn 0/h", its Projects
// row "— / —" (no budget) or used 0, and the gauge's used cell "0 % /p" for
// credits that cannot be read. Now it names what cannot be read, gives the
// credits known and no forecast against a limit not known.
func TestAProjectWhoseBudgetCannotBeReadShowsNoFigureOfZero(t *testing.T) {
	why := `settings "c1/p" cannot be read (project budget JSON: "Usage_Limit" is not "usage_limit" (keys are matched exactly))`
	usedWhy := `counter "used_by:c1/p/b" cannot be read ("notanumber" is not an integer)`
	for _, c := range []struct {
		name   string
		budget model.ProjectBudget
		want   []string // in the detail view, its lines joined
		row    string   // in the project's row of the detail's Projects
		cell   string   // in the gauge row at 80 cells
	}{
		{"budget", model.ProjectBudget{Unreadable: why},
			[]string{"verdict: project p's budget cannot be read: level unknown (95 credits used) · " + why,
				"project p's usage limit cannot be read: no forecast against it"},
			"p 95 unreadable 0", "— /p 95"},
		{"credits", model.ProjectBudget{Limit: 1000, UsageUnreadable: usedWhy},
			[]string{"verdict: project p's credits cannot be read: level unknown against its usage limit of 1,000 credits · " + usedWhy,
				"project p's credits cannot be read: no forecast against its usage limit"},
			"p unreadable — / 1,000 0", "— /p unreadable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
			s := model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
				Used:     map[string]int64{"c1": 95},
				UsedBy:   map[string]int64{"c1/p/a": 95},
				Settings: map[string]model.Settings{"c1": {Allocation: 1000}},
				Budgets:  map[string]model.ProjectBudget{"c1/p": c.budget}}
			if c.name == "credits" {
				delete(s.UsedBy, "c1/p/a") // not read: its field holds no integer
			}
			l.Seed(&s, testNow)
			v, ok := l.Verdict("c1")
			if !ok || v.Level != model.LevelUnknown || v.Project != "p" {
				t.Fatalf("Verdict = %+v, %v; the fixture wants unknown by p", v, ok)
			}
			cm := testCommon()
			view := ansi.Strip(detailOf(cm, l, "c1", 78, 40).View())
			// the sentences wrap: compare them on one line
			var joined []string
			for _, line := range strings.Split(view, "\n") {
				joined = append(joined, strings.TrimSpace(line))
			}
			text := strings.Join(joined, " ")
			for _, want := range c.want {
				if !strings.Contains(text, want) {
					t.Errorf("detail lacks %q:\n%s", want, view)
				}
			}
			for _, bad := range []string{"of 0 credits", "0 % of its usage limit", "(sets the level)", "— / —"} {
				if strings.Contains(text, bad) {
					t.Errorf("detail says %q:\n%s", bad, view)
				}
			}
			found := false
			for _, line := range joined {
				if strings.Join(strings.Fields(line), " ") == c.row || strings.HasPrefix(strings.Join(strings.Fields(line), " "), c.row+" ") {
					found = true
				}
			}
			if !found {
				t.Errorf("detail's Projects lack the row %q:\n%s", c.row, view)
			}
			row := strings.Join(strings.Fields(gaugeLine(cm, l, 80, "c1")), " ")
			if !strings.Contains(row, c.cell) || strings.Contains(row, "0 %") {
				t.Errorf("gauge row %q, want %q and no 0 %%", row, c.cell)
			}
			// the workspace's settings are readable: its bar names the project's budget
			if wide := gaugeLine(cm, l, 200, "c1"); c.name == "budget" && (!strings.Contains(wide, "project budget unreadable: limit unknown") || strings.Contains(wide, "settings unreadable")) {
				t.Errorf("gauge row at 200 %q: the bar does not name the project's budget", wide)
			}
		})
	}
}

// TestBannerDropsNestedParens: a reason that names why in parentheses
// within parentheses is shortened whole, not to `cannot be read)`.
func TestBannerDropsNestedParens(t *testing.T) {
	s := `settings "c1/p" cannot be read (project budget JSON: "Usage_Limit" is not "usage_limit" (keys are matched exactly)): its level is unknown until the value is fixed`
	if got, want := dropParens(s), `settings "c1/p" cannot be read: its level is unknown until the value is fixed`; got != want {
		t.Errorf("dropParens = %q, want %q", got, want)
	}
	if got, want := bannerText(s, "c1", 60, 10), `settings "c1/p" cannot be read`; got != want {
		t.Errorf("bannerText = %q, want %q", got, want)
	}
	if got := dropParens("a (b (c) d"); got != "a (b (c) d" {
		t.Errorf("an unclosed group: %q, kept", got)
	}
}
