package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"mavtop/feed"
	"mavtop/model"
)

// TestShortAgeFitsItsColumn: the gauges' age column reads "now", "2 s",
// "3 min", "5 h", "3 d" or "—", never wider than the column.
func TestShortAgeFitsItsColumn(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var width int
	for _, c := range gaugeColumns {
		if c.head == "age" {
			width = c.width
		}
	}
	for _, tc := range []struct {
		ago  time.Duration
		want string
	}{
		{300 * time.Millisecond, "now"}, {2 * time.Second, "2 s"}, {59 * time.Minute, "59 min"}, {3 * time.Minute, "3 min"},
		{5 * time.Hour, "5 h"}, {47 * time.Hour, "47 h"}, {3 * 24 * time.Hour, "3 d"}, {31 * 24 * time.Hour, "31 d"},
	} {
		got := shortAge(now, now.Add(-tc.ago).UnixMilli())
		if got != tc.want || cellWidth(got) > width {
			t.Errorf("%v ago: %q (column %d wide), want %q", tc.ago, got, width, tc.want)
		}
	}
	if got := shortAge(now, 0); got != "—" {
		t.Errorf("no event: %q", got)
	}
	// a row whose newest event is older than what was read back
	// (Summary.LastBefore) reads "> 59 min", whole, in the same column
	g := &Gauges{common: common{now: func() time.Time { return now }}}
	for _, ago := range []time.Duration{59 * time.Minute, 47 * time.Hour, 31 * 24 * time.Hour} {
		r := &gaugeRow{Summary: model.Summary{LastBefore: now.Add(-ago).UnixMilli()}}
		got := cellAge(g, r, width)
		if want := ">" + shortAge(now, now.Add(-ago).UnixMilli()); got != want || cellWidth(got) > width {
			t.Errorf("older than %v: %q (column %d wide), want %q", ago, got, width, want)
		}
	}
	if got := cellAge(g, &gaugeRow{}, width); got != "—" {
		t.Errorf("none this period: %q", got)
	}
}

// TestClockStepHoldsTimeTextBetweenSteps: with ClockStep 5 s (serve's), a
// frame drawn 1–4 s later with no news is the same frame, ages and countdown
// included, so nothing goes to the viewer; at the step they move. Credits
// that arrive between steps show at once and exactly.
func TestClockStepHoldsTimeTextBetweenSteps(t *testing.T) {
	clock := testNow
	hub := feed.NewHub()
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	m := New(Options{Source: hub.Join(), Now: func() time.Time { return clock }, Renderer: r, ClockStep: 5 * time.Second})
	m = update(t, m, tea.WindowSizeMsg{Width: 200, Height: 50})
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
			Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}})
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{{TS: testNow.Add(-20 * time.Second).UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 100, Status: 200}}})
	m = pump(t, m)
	first := view(m)
	if !strings.Contains(first, "20 s") {
		t.Fatalf("want the age 20 s:\n%s", first)
	}
	for s := 1; s <= 4; s++ {
		clock = testNow.Add(time.Duration(s) * time.Second)
		m = update(t, m, secondMsg{})
		m.render()
		if got := view(m); got != first {
			t.Fatalf("%d s later, between steps, the frame changed:\n%s\nwas\n%s", s, got, first)
		}
	}
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{{TS: clock.UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 23, Status: 200}}})
	m = pump(t, m)
	if got := view(m); !strings.Contains(got, "123 / 1,000") || !strings.Contains(got, "now") {
		t.Fatalf("credits between steps must show at once, exactly (123 / 1,000, age now):\n%s", got)
	}
	clock = testNow.Add(5 * time.Second)
	m = update(t, m, secondMsg{})
	m.render()
	if got := view(m); !strings.Contains(got, "1 s") {
		t.Fatalf("at the step the age moves (1 s since the last credits, on the stepped clock):\n%s", got)
	}
}
