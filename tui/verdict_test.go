package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestGaugeShowsVerdict: a workspace at 9.5 % of its allocation whose project
// "research" is at 95 of its 100-credit usage limit is critical on the gauge's
// level (model.Ledger.Verdict, check's status), its row names the project and
// the detail view says which limit; the bar and percent stay the workspace's.
func TestGaugeShowsVerdict(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	l.SetSettings("acme", model.Settings{Allocation: 1000}, testNow.UnixMilli())
	l.SetBudget("acme", "research", model.ProjectBudget{Limit: 100}, testNow.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "acme", Project: "research", Endpoint: "/responses", Credits: 95, Status: 200})
	v, ok := l.Verdict("acme")
	if !ok || v.Level != model.LevelCritical || v.Project != "research" {
		t.Fatalf("Verdict = %+v, %v; the fixture wants critical by research", v, ok)
	}
	c := testCommon()
	g := NewGauges(c)
	g.SetSize(160, 10)
	g.Refresh(l)
	var row string
	for _, line := range strings.Split(ansi.Strip(g.View()), "\n") {
		if strings.Contains(line, "acme") {
			row = line
		}
	}
	look := c.st.Level(v.Level)
	for _, want := range []string{"acme /research ", look.Symbol + " " + look.Word, "9 % used", "95 / 1,000"} {
		if !strings.Contains(row, want) {
			t.Errorf("gauge row %q lacks %q", row, want)
		}
	}
	d := NewDetail(c)
	d.SetSize(160, 20)
	d.Open("acme")
	d.Refresh(l)
	if s := ansi.Strip(d.View()); !strings.Contains(s, "verdict: project research at 95.0 % of its usage limit (95 of 100 credits)") {
		t.Errorf("detail lacks the verdict:\n%s", s)
	}
}

// A workspace name is never shortened to make room for its project: it reads
// as the other panes draw it, and the project takes only what is left.
func TestVerdictNameKeepsTheWorkspace(t *testing.T) {
	for _, c := range []struct {
		ws, project string
		w           int
		want        string
	}{
		{"acme", "research", 14, "acme /research"},
		{"hooli-ml", "training", 14, "hooli-ml /" + shortName("training", 4)},
		{"hooli-ml", "training", 13, "hooli-ml"},
		{"hooli-ml", "training", 12, shortName("hooli-ml", 12)},
		{"umbrella-research", "trials", 14, shortName("umbrella-research", 14)},
		{"acme", "", 14, "acme"},
	} {
		got := verdictName(c.ws, c.project, c.w)
		if got != c.want {
			t.Errorf("verdictName(%q, %q, %d) = %q, want %q", c.ws, c.project, c.w, got, c.want)
		}
		if cellWidth(got) > c.w {
			t.Errorf("verdictName(%q, %q, %d) = %q is wider than %d", c.ws, c.project, c.w, got, c.w)
		}
	}
}
