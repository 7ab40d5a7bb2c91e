package tui

import (
	"regexp"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/feed"
	"mavtop/model"
)

// TestChartsFollowTheUserAtOnceAndReorderingAtTheirPace: sorted by last event
// with the cursor riding the top row, every event makes another workspace the
// selected one; the charts were redrawn for each (most of a 200×50 frame at
// 100k workspaces). A selection moved by reordering now waits for the charts'
// redraw interval like new data, while the user's moves (cursor, scope) still
// show at once.
func TestChartsFollowTheUserAtOnceAndReorderingAtTheirPace(t *testing.T) {
	m, hub := newApp(t, 200, 50, Options{ChartRedraw: time.Hour})
	at := func(min int) int64 { return testNow.Add(-time.Duration(min) * time.Minute).UnixMilli() }
	spend := func(ws string, min int) {
		hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{{TS: at(min), Workspace: ws, Endpoint: "/responses", Credits: 10, Status: 200}}})
	}
	for i, ws := range []string{"alpha", "bravo", "charlie", "delta", "echo"} {
		spend(ws, 40-i) // every one listed first: the panes keep their sizes
	}
	m = pump(t, m)
	for gaugeOrders[m.gauges.order].name != "by last event" {
		m = update(t, m, press(">"))
	}
	chart := func() string { return view(m) }
	wantChart := func(step, ws string) {
		t.Helper()
		if v := chart(); !regexp.MustCompile(`Burn (last hour, )?credits/min · this min [0-9.k]+ · ` + ws + ` `).MatchString(v) {
			t.Fatalf("%s: the charts are not %s's:\n%s", step, ws, v)
		}
	}
	wantSelected := func(step, ws string) {
		t.Helper()
		if got := m.gauges.Selected(); got != ws {
			t.Fatalf("%s: selected %q, want %q", step, got, ws)
		}
	}
	wantSelected("sorted by last event", "echo")
	wantChart("sorted by last event (the user's key)", "echo")

	// new events reorder the rows under the cursor: the selection moves with
	// the top row, the charts stay until their redraw is due (an hour here)
	for i, ws := range []string{"alpha", "bravo", "charlie"} {
		spend(ws, 20-i)
		m = pump(t, m)
		wantSelected("after an event for "+ws, ws)
		wantChart("after an event for "+ws, "echo")
	}
	// a drag over the list moves nothing: not a pick either
	m = update(t, m, tea.MouseMsg{Button: tea.MouseButtonLeft, Action: tea.MouseActionMotion, X: 10, Y: 4})
	spend("delta", 10)
	m = pump(t, m)
	wantSelected("after a drag and an event for delta", "delta")
	wantChart("after a drag and an event for delta", "echo")
	// the user's moves show at once: delta, charlie, bravo, alpha, echo
	m = update(t, m, press("down"), press("down"))
	wantSelected("two rows down", "bravo")
	wantChart("two rows down", "bravo")
	m = update(t, m, press("c"))
	if v := chart(); !regexp.MustCompile(`Burn (last hour, )?credits/min · this min [0-9.k]+ · all workspaces`).MatchString(v) {
		t.Fatalf("scope all: the charts are not every workspace's:\n%s", v)
	}
}
