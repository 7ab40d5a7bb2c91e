package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

func TestAlertsPaneShowsLifecycleAndDelivery(t *testing.T) {
	a := NewAlerts(testCommon())
	a.SetSize(140, 6)
	a.AddNotice(model.LevelHigh, "a local notice")
	a.SetLifecycle(Lifecycle{
		Entries: []LifecycleEntry{
			{ID: "2026-11/acme/-/threshold/75", Status: model.AlertFiring, Level: model.LevelHigh, At: testNow,
				Summary: "acme used 75 % of its 1,000-credit allocation", Delivery: "✓ sent 2 sinks"},
			{ID: "2026-11/globex/-/threshold/50", Status: model.AlertFiring, Level: model.LevelWarn, At: testNow,
				Summary: "globex used 50 % of its 500-credit allocation", Delivery: "↻ retrying: 503 Service Unavailable"},
			{ID: "2026-11/initech/-/threshold/90", Status: model.AlertResolved, Level: model.LevelCritical, At: testNow,
				Summary: "initech is back under 90 %\x1b[2J", Delivery: "… not sent: no mavtop with --notify"},
		},
		Scores: []string{"acme: projected 14:05, refused 13:52: 13 min early"},
	})
	view := ansi.Strip(a.View())
	for _, want := range []string{
		"firing: acme used 75 % of its 1,000-credit allocation  ✓ sent 2 sinks",
		"firing: globex used 50 % of its 500-credit allocation  ↻ retrying: 503 Service Unavailable",
		"resolved: initech is back under 90 %",
		"… not sent: no mavtop with --notify",
		"forecast acme: projected 14:05, refused 13:52: 13 min early",
		"a local notice",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("pane lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(a.View(), "\x1b[2J") {
		t.Error("a summary's escape reached the screen")
	}
	if got := a.Title(); got != "Alerts (1, 2 firing)" {
		t.Errorf("title %q", got)
	}
}
