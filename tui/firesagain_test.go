package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestTheAlertsPaneSaysWhenAnAlertFiresAgain: a resolved alert's row says
// when it may fire again in the words of `mavtop alerts`' FIRES AGAIN column
// (model.FiresAgainText): "fires again after 14:52:05" during its hold-off,
// "fires again if it holds" after it, nothing for one firing or with no
// time (an episode a later one followed), beside its delivery, at 200 and
// 100 columns, and in the selected row's whole sentence. Before, the pane
// showed no re-fire time.
func TestTheAlertsPaneSaysWhenAnAlertFiresAgain(t *testing.T) {
	hold := testNow.Add(8 * time.Minute)
	entries := []LifecycleEntry{
		{ID: "2026-11/acme/-/threshold/75", Status: model.AlertResolved, Level: model.LevelHigh, At: testNow.Add(-2 * time.Minute),
			Summary: "acme is under 75 % again", Delivery: "✓ sent 2 sinks", FiresAgainAt: hold},
		{ID: "2026-11/beta/-/threshold/75", Status: model.AlertResolved, Level: model.LevelHigh, At: testNow.Add(-3 * time.Minute),
			Summary: "beta is under 75 % again", FiresAgainAt: testNow.Add(-time.Minute)},
		{ID: "2026-11/gamma/-/threshold/75", Status: model.AlertResolved, Level: model.LevelHigh, At: testNow.Add(-4 * time.Minute),
			Summary: "gamma is under 75 % again"},
		{ID: "2026-11/delta/-/threshold/90", Status: model.AlertFiring, Level: model.LevelCritical, At: testNow.Add(-5 * time.Minute),
			Summary: "delta used 90 % of its cap"},
	}
	for _, w := range []int{200, 100} {
		a := NewAlerts(testCommon())
		a.SetSize(w, 8)
		a.SetLifecycle(Lifecycle{Entries: entries})
		view := ansi.Strip(a.View())
		row := func(ws string) string {
			for _, line := range strings.Split(view, "\n") {
				if strings.Contains(line, ws+" is") || strings.Contains(line, ws+" used") {
					return line
				}
			}
			t.Fatalf("width %d: no row of %s:\n%s", w, ws, view)
			return ""
		}
		if r, want := row("acme"), "fires again "+model.FiresAgainText(hold, testNow); !strings.Contains(r, want) || !strings.Contains(r, "✓ sent 2 sinks") {
			t.Errorf("width %d: acme %q lacks %q and its delivery", w, r, want)
		}
		if r := row("beta"); !strings.Contains(r, "fires again if it holds") {
			t.Errorf("width %d: beta %q lacks fires again if it holds", w, r)
		}
		for _, ws := range []string{"gamma", "delta"} {
			if r := row(ws); strings.Contains(r, "fires again") {
				t.Errorf("width %d: %s %q says it fires again", w, ws, r)
			}
		}
	}
	a := NewAlerts(testCommon())
	a.SetSize(200, 8)
	a.SetLifecycle(Lifecycle{Entries: entries[:1]})
	if s := a.sentence(0); !strings.HasSuffix(s, "· ✓ sent 2 sinks · fires again "+model.FiresAgainText(hold, testNow)) {
		t.Errorf("the whole sentence %q", s)
	}
}
