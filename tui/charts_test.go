package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestChartsShowBurnWhenTheSelectionHasNone: the default selection is the
// worst workspace, often one refused with 402 for a while, so the chart read
// "no credits spent in the last hour" at every size; the line then shows every
// workspace's burn, and its title says whose is none.
func TestChartsShowBurnWhenTheSelectionHasNone(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-3*time.Hour))
	l.Apply(&model.Event{TS: testNow.Add(-90 * time.Minute).UnixMilli(), Workspace: "out", Endpoint: "/focus-groups", Credits: 500, Status: 200})
	l.Apply(&model.Event{TS: testNow.Add(-5 * time.Minute).UnixMilli(), Workspace: "busy", Endpoint: "/responses", Credits: 600, Status: 200})
	for _, sz := range [][2]int{{58, 3}, {98, 8}, {198, 14}} {
		ch := NewCharts(testCommon(), 0)
		ch.SetSize(sz[0], sz[1])
		ch.Refresh(l, "out", 0)
		view := ansi.Strip(ch.View())
		if strings.Contains(view, "no credits spent in the last hour") || !strings.Contains(view, "all") {
			t.Errorf("%dx%d, out selected (idle for 90 min):\n%s", sz[0], sz[1], view)
		}
		if sz[0] >= 198 && !strings.Contains(view, "out spent none this hour") { // narrower, the note is what the title cuts
			t.Errorf("%dx%d: the title does not say why all are shown:\n%s", sz[0], sz[1], view)
		}
		ch.Refresh(l, "busy", 0)
		if view := ansi.Strip(ch.View()); !strings.Contains(view, "credits/min · this min 0 · busy") || strings.Contains(view, "all workspaces") {
			t.Errorf("%dx%d, busy selected:\n%s", sz[0], sz[1], view)
		}
	}
	// nothing spent anywhere in the hour: it says so
	quiet := model.NewLedger(model.MonthlyUTC, testNow.Add(-3*time.Hour))
	quiet.Apply(&model.Event{TS: testNow.Add(-90 * time.Minute).UnixMilli(), Workspace: "out", Endpoint: "/focus-groups", Credits: 500, Status: 200})
	ch := NewCharts(testCommon(), 0)
	ch.SetSize(98, 8)
	ch.Refresh(quiet, "out", 0)
	if view := ansi.Strip(ch.View()); !strings.Contains(view, "no credits spent in the last hour") {
		t.Errorf("all quiet:\n%s", view)
	}
}

// TestBurnTitleKeepsItsFigure: the burn chart's title is its figure, then
// whose, then why all are shown, so a chart too narrow for all of it (46
// cells at 80×24) leaves the note out, never this minute's burn (it read
// "Burn, credits/min · all workspaces · this min…" there); the note is whole,
// its name shortened as every pane shortens it, or absent, never cut ("all ·
// umbr…" read as another scope). The line's title says the last hour where
// it fits beside the note; the endpoint bars' title says "this period", and
// which, where it fits.
func TestBurnTitleKeepsItsFigure(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-3*time.Hour))
	l.Apply(&model.Event{TS: testNow.Add(-90 * time.Minute).UnixMilli(), Workspace: "umbrella-research", Endpoint: "/focus-groups", Credits: 500, Status: 200})
	l.Apply(&model.Event{TS: testNow.Add(-10 * time.Second).UnixMilli(), Workspace: "busy", Endpoint: "/responses", Credits: 1427, Status: 200})
	series := l.Series("", testNow, chartStep, chartPoints, nil)
	figure := "this min " + compact(series[len(series)-1])
	if figure != "this min 1.4k" {
		t.Fatalf("fixture: the last minute holds %q, want 1.4k", figure)
	}
	for _, c := range []struct {
		w                 int
		head, scope, bars string
	}{
		{46, "Credits/min", "all workspaces", "This period"},
		{60, "Burn, credits/min", "all workspaces", "By endpoint this period"},
		{118, "Burn last hour, credits/min", "all workspaces · umbrella-research spent none this hour", "By endpoint this period (2026-11)"},
		{150, "Burn last hour, credits/min", "all workspaces · umbrella-research spent none this hour", "By endpoint this period (2026-11)"},
	} {
		ch := NewCharts(testCommon(), 0)
		ch.SetSize(c.w*5/3+1, 3) // the line chart gets 3/5 of the pane
		if ch.lineW != c.w {
			t.Fatalf("pane %d: line chart %d cells, want %d", c.w*5/3+1, ch.lineW, c.w)
		}
		ch.Refresh(l, "umbrella-research", 0)
		title, _, _ := strings.Cut(ansi.Strip(ch.View()), "\n")
		want := c.head + " · " + figure + " · " + c.scope
		if !strings.HasPrefix(title, want) || strings.HasPrefix(title, want+" ·") || strings.Contains(title, "… By endpoint") {
			t.Errorf("%d cells: title %q, want it to start %q", c.w, strings.TrimRight(title, " "), want)
		}
		// the endpoint bars say which period their credits are of, and whose,
		// in the one short form of the name at this size
		// ("none this hour" beside bars of the period's credits read as a
		// contradiction while the bars said only "2026-11")
		bars := c.bars + " · " + nameFor("umbrella-research", ch.barsW-cellWidth(c.bars)-3, nameWidth(ch.width+2))
		if l.Period().Key != "2026-11" || !strings.Contains(title, bars) || cellWidth(title) > ch.width {
			t.Errorf("%d cells: title %q lacks %q or is wider than %d", c.w, title, bars, ch.width)
		}
	}
}

// TestAllWorkspacesTitlesAreNeverCut: with c switched to all workspaces at
// 80×24 both chart titles read "all", not "all worksp…" and "all work…";
// from where "all workspaces" fits they say it whole.
func TestAllWorkspacesTitlesAreNeverCut(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-3*time.Hour))
	l.Apply(&model.Event{TS: testNow.Add(-10 * time.Second).UnixMilli(), Workspace: "busy", Endpoint: "/responses", Credits: 1427, Status: 200})
	for _, c := range []struct {
		w    int
		want int // how many titles say "all workspaces" whole
	}{{78, 2}, {98, 2}, {198, 2}} {
		ch := NewCharts(testCommon(), 0)
		ch.SetSize(c.w, 3)
		ch.Refresh(l, "", 0)
		title, _, _ := strings.Cut(ansi.Strip(ch.View()), "\n")
		if strings.Contains(title, "work…") || strings.Contains(title, "worksp…") || strings.Count(title, " · all workspaces") != 2 {
			t.Errorf("%d cells: titles %q cut their scope", c.w, title)
		}
		if n := strings.Count(title, "all workspaces"); n != c.want {
			t.Errorf("%d cells: titles %q say all workspaces %d times, want %d", c.w, title, n, c.want)
		}
	}
}
