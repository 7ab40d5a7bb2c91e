package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// While the start's used_by read is not in, the detail view and the endpoint
// bars say "loading…" rather than drawing zero credits per project and
// endpoint; once it is in, they show what the hash holds.
func TestUsedByPendingSaysLoading(t *testing.T) {
	c := testCommon()
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	l.Seed(&model.Snapshot{
		Period:      model.MonthlyUTC.At(testNow),
		StreamID:    "1-0",
		Used:        map[string]int64{"acme": 4321},
		UsedByLater: true,
	}, testNow)
	d := detailOf(c, l, "acme", 120, 40)
	ch := NewCharts(c, 0)
	ch.SetSize(160, 12)
	ch.Refresh(l, "acme", 0)
	view := ansi.Strip(d.View())
	if n := strings.Count(view, "loading…"); n != 2 {
		t.Errorf("pending detail: %d × loading…, want 2 (projects, endpoints):\n%s", n, view)
	}
	if strings.Contains(view, "(no project)") || strings.Contains(view, "Projects (") {
		t.Errorf("pending detail draws projects:\n%s", view)
	}
	if bars := ansi.Strip(ch.View()); !strings.Contains(bars, "loading…") || strings.Contains(bars, "no credits spent yet") {
		t.Errorf("pending endpoint bars:\n%s", bars)
	}

	l.SeedUsedBy(map[string]int64{model.UsedByField("acme", "web", "/responses"): 4321}, "1-0")
	d.Refresh(l)
	ch.Refresh(l, "acme", 0)
	view = ansi.Strip(d.View())
	if strings.Contains(view, "loading…") {
		t.Errorf("detail still loading after SeedUsedBy:\n%s", view)
	}
	for _, want := range []string{"Projects (1)", "web", "/responses 4,321"} {
		if !strings.Contains(view, want) {
			t.Errorf("detail lacks %q:\n%s", want, view)
		}
	}
	if bars := ansi.Strip(ch.View()); strings.Contains(bars, "loading…") || !strings.Contains(bars, "4,321") {
		t.Errorf("endpoint bars after SeedUsedBy:\n%s", bars)
	}
}

// TestCountedOnlyIsNotNothingSpent: a workspace known from its counter alone
// (4,321 used, no used_by field, no event) has spent credits: its endpoint
// bars say what is not known, not "no credits spent yet"; every workspace's
// the same; a workspace at 0 has spent nothing yet.
func TestCountedOnlyIsNotNothingSpent(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	l.Seed(&model.Snapshot{
		Period:   model.MonthlyUTC.At(testNow),
		StreamID: "1-0",
		Used:     map[string]int64{"acme": 4321, "zero": 0, "other": 1000},
	}, testNow)
	for _, tc := range []struct {
		ws   string
		all  bool
		want string
	}{{"acme", false, "4,321 credits, by endpoint unknown"}, {"acme", true, "5,321 credits, by endpoint unknown"}, {"zero", false, "no credits spent yet"}} {
		ch := NewCharts(testCommon(), 0)
		ch.SetSize(160, 12)
		ch.scopeAll = tc.all
		ch.Refresh(l, tc.ws, 0)
		bars := ansi.Strip(ch.View())
		if !strings.Contains(bars, tc.want) {
			t.Errorf("%s (all %v): bars lack %q:\n%s", tc.ws, tc.all, tc.want, bars)
		}
		if tc.ws == "acme" && strings.Contains(bars, "no credits spent yet") {
			t.Errorf("%s (all %v): bars say no credits spent:\n%s", tc.ws, tc.all, bars)
		}
	}
}
