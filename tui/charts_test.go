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
		if strings.Contains(view, "no credits spent in the last hour") || !strings.Contains(view, "all workspaces") {
			t.Errorf("%dx%d, out selected (idle for 90 min):\n%s", sz[0], sz[1], view)
		}
		if sz[0] >= 198 && !strings.Contains(view, "out spent none this hour") { // narrower, the note is what the title cuts
			t.Errorf("%dx%d: the title does not say why all are shown:\n%s", sz[0], sz[1], view)
		}
		ch.Refresh(l, "busy", 0)
		if view := ansi.Strip(ch.View()); !strings.Contains(view, "Burn, credits/min · busy") || strings.Contains(view, "all workspaces") {
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
