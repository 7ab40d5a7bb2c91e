package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestChartsAreOfTheBudgetTheRowShows is the demo's hooli-ml at 80 columns
// (the charts' line 46 cells, its bars 32) and at 200: its row shows
// training's figures (its usage limit sets the level: "100 % /tra…",
// "90.0k/90.0k lim"), and the charts beside it showed the whole workspace's
// burn and endpoints under "hooli-ml". They are training's now, and their
// titles say so: "hooli-ml/training", its endpoints summing to its 90,000, its
// burn the one the row's forecast is made from. A workspace whose own cap
// sets its level keeps its own charts.
func TestChartsAreOfTheBudgetTheRowShows(t *testing.T) {
	start := testNow.Add(-3 * time.Hour)
	l := model.NewLedger(model.MonthlyUTC, start)
	l.SetSettings("hooli-ml", model.Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.SetSettings("acme", model.Settings{Allocation: 10_000}, start.UnixMilli())
	l.Apply(&model.Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "serving", Endpoint: "/mave/chat", Credits: 1_560_000, Status: 200})
	l.Apply(&model.Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/focus-groups", Credits: 80_000, Status: 200})
	for i := 1; i <= 40; i++ {
		at := testNow.Add(time.Duration(i-41) * time.Minute).UnixMilli()
		l.Apply(&model.Event{TS: at, Workspace: "hooli-ml", Project: "training", Endpoint: "/video-analyses", Credits: 250, Status: 200})
		l.Apply(&model.Event{TS: at, Workspace: "hooli-ml", Project: "serving", Endpoint: "/mave/chat", Credits: 9_000, Status: 200})
		l.Apply(&model.Event{TS: at, Workspace: "acme", Endpoint: "/responses", Credits: 10, Status: 200})
	}
	if v, ok := l.Verdict("hooli-ml"); !ok || v.Project != "training" {
		t.Fatalf("fixture: hooli-ml's verdict %+v, want set by training", v)
	}
	for _, w := range []int{80, 200} {
		ch := NewCharts(testCommon(), 0)
		ch.SetSize(w-2, 4)
		ch.Refresh(l, "hooli-ml", 0)
		view := ansi.Strip(ch.View())
		title, _, _ := strings.Cut(view, "\n")
		if strings.Count(title, "hooli-ml/training") != 2 {
			t.Errorf("width %d: titles %q: want both of hooli-ml/training", w, title)
		}
		// the bars are training's endpoints, not serving's /mave/chat
		if strings.Contains(view, "/mave/chat") || !strings.Contains(view, "/focus-groups") || !strings.Contains(view, "10,000") {
			t.Errorf("width %d: bars of the whole workspace:\n%s", w, view)
		}
		// the burn line is training's: 250 a minute, not serving's 9,250
		if last := ch.series[len(ch.series)-1]; last > 250 {
			t.Errorf("width %d: this minute's burn %v, want training's (≤ 250)", w, last)
		}
		ch.Refresh(l, "acme", 1)
		if title, _, _ := strings.Cut(ansi.Strip(ch.View()), "\n"); strings.Contains(title, "/") && !strings.Contains(title, "credits/min") || strings.Count(title, "acme") != 2 {
			t.Errorf("width %d: acme's titles %q", w, title)
		}
	}
}
