package tui

import (
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// TestFiringAlertsSaidAndReachableAt80x24: at 80×24 the alerts pane is not on
// screen (it shares the row with the 402 log from 150 columns), and the header
// said nothing of the alerts firing. The header counts the workspaces with a
// lifecycle alert firing now (the records `mavtop alerts` lists as firing:
// resolved ones and this screen's own notices are not counted; see
// TestHeaderCountsWorkspacesFiring), with the worst one's symbol, and
// says nothing when none fires; `a` (in the footer wherever the alerts are not
// on screen) opens the alerts with the newest firing alert selected, and `a`
// again goes back.
func TestFiringAlertsSaidAndReachableAt80x24(t *testing.T) {
	m := busyApp(t, 80, 24)
	lines := func() []string { return strings.Split(view(m), "\n") }
	if head := lines()[0]; strings.Contains(head, "firing") {
		t.Fatalf("no lifecycle yet, the header says %q", head)
	}
	entry := func(ws string, st model.AlertStatus, lvl model.Level, ago time.Duration) LifecycleEntry {
		return LifecycleEntry{ID: "2026-11/" + ws + "/-/threshold/90", Status: st, Level: lvl, At: testNow.Add(-ago),
			Summary: ws + " used 90 % of its 1,000-credit cap"}
	}
	life := Lifecycle{Entries: []LifecycleEntry{
		entry("warn-ws", model.AlertFiring, model.LevelWarn, 5*time.Minute),
		entry("crit-ws", model.AlertFiring, model.LevelCritical, 2*time.Minute),
		entry("ok-ws", model.AlertResolved, model.LevelCritical, time.Minute), // newer, but resolved
		entry("out-ws", model.AlertFiring, model.LevelExhausted, 9*time.Minute),
	}}
	m = update(t, m, LifecycleMsg{Lifecycle: life})
	m.alerts.AddNotice(model.LevelHigh, "a local notice, the newest row")
	m.alerts.bannerEnd = time.Time{} // its banner has gone: the keys show
	m.render()
	ls := lines()
	if !strings.Contains(ls[0], "✖ 3 ws firing") {
		t.Errorf("header %q: want \"✖ 3 ws firing\" (3 workspaces firing, the worst OUT)", ls[0])
	}
	if foot := ls[len(ls)-1]; !strings.Contains(foot, "a alerts") {
		t.Errorf("footer %q does not say how to reach the alerts", foot)
	}
	if v := view(m); strings.Contains(v, "crit-ws used 90 %") {
		t.Fatalf("the alerts are on screen before a:\n%s", v)
	}
	m = update(t, m, press("a"))
	v := view(m)
	var sel string
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "▸ ") && strings.Contains(l, "used 90 %") {
			sel = l
		}
	}
	if !strings.Contains(sel, "firing: crit-ws used 90 %") {
		t.Errorf("after a the selected alert is %q, want the newest firing one (crit-ws):\n%s", sel, v)
	}
	if !strings.Contains(v, " listed, 3 alerts firing)") {
		t.Errorf("after a the alerts pane is not shown:\n%s", v)
	}
	m = update(t, m, press("a"))
	if v := view(m); strings.Contains(v, "Alerts (") || !strings.Contains(v, "402 refusals") {
		t.Errorf("a again does not go back to the 402 log:\n%s", v)
	}
	// none firing: nothing in the header
	for i := range life.Entries {
		life.Entries[i].Status = model.AlertResolved
	}
	m = update(t, m, LifecycleMsg{Lifecycle: life})
	m.render()
	if head := lines()[0]; strings.Contains(head, "firing") {
		t.Errorf("none firing, the header says %q", head)
	}
}

// TestBannerFitsFromEightyColumns: the banner (the newest alert, on the
// footer's line for a few seconds) was cut at 100 columns ("…reached its
// usage limit (at the time: 90,000 of 90,000 credits): requests n…"). From 80 columns
// every alert's banner fits without a cut: whole when the line holds it,
// else without its parenthesised figures, then without the consequence after
// the last ": ", then with the name short; help and quit stay at the right.
func TestBannerFitsFromEightyColumns(t *testing.T) {
	crossings := []model.Crossing{
		{Kind: model.CrossProjectLimit, Workspace: "umbrella-research", Project: "training", Used: 90_000, Of: 90_000, CapKind: model.CapLimit},
		{Kind: model.CrossThreshold, Workspace: "umbrella-research", Threshold: 90, Used: 184_402, Of: 200_000, CapKind: model.CapAllocation},
		{Kind: model.CrossExhausted, Workspace: "umbrella-research", Used: 1_000_000, Of: 1_000_000, CapKind: model.CapAllocation},
		{Kind: model.CrossBudgetAlert, Workspace: "umbrella-research", Project: "training", Used: 45_000, Of: 90_000, CapKind: model.CapLimit},
	}
	for _, w := range []int{80, 90, 100, 120, 150, 200} {
		for _, c := range crossings {
			m := busyApp(t, w, 30)
			m.alerts.AddCrossing(c)
			m.render()
			ls := strings.Split(view(m), "\n")
			foot := ls[len(ls)-1]
			if strings.Contains(foot, "…") || cellWidth(foot) != w || !strings.HasSuffix(foot, "? help • q quit") {
				t.Errorf("%d columns: banner %q (%d cells) for %q", w, foot, cellWidth(foot), c.Sentence())
			}
			if whole := c.Sentence(); w >= 150 && !strings.Contains(foot, whole) {
				t.Errorf("%d columns: banner %q, want %q whole", w, foot, whole)
			}
		}
	}
}

// A lifecycle poll answering the Version the pane already shows changed
// nothing: the pane keeps what it has (the poll costs no sort); a new Version
// shows at once, in the same poll.
func TestLifecycleVersionSkipsAnUnchangedPoll(t *testing.T) {
	m := busyApp(t, 80, 24)
	entry := LifecycleEntry{ID: "2026-11/crit-ws/-/threshold/90", Status: model.AlertFiring, Level: model.LevelCritical,
		At: testNow.Add(-time.Minute), Summary: "crit-ws used 90 % of its 1,000-credit cap"}
	m = update(t, m, LifecycleMsg{Lifecycle: Lifecycle{Version: 7, Entries: []LifecycleEntry{entry}}})
	if got := m.header.firing.Alerts; got != 1 {
		t.Fatalf("version 7: header counts %d firing, want 1", got)
	}
	order := m.alerts.order
	// the same version again (a poll that found nothing new) is not taken,
	// whatever it carries: nothing is sorted again
	m = update(t, m, LifecycleMsg{Lifecycle: Lifecycle{Version: 7}})
	if n := len(m.alerts.life.Entries); n != 1 || &m.alerts.order[0] != &order[0] {
		t.Errorf("the same version again: %d entries, order rebuilt %v; want 1 and the same order", n, &m.alerts.order[0] != &order[0])
	}
	resolved := entry
	resolved.Status = model.AlertResolved
	m = update(t, m, LifecycleMsg{Lifecycle: Lifecycle{Version: 8, Entries: []LifecycleEntry{resolved}}})
	if got := m.header.firing.Alerts; got != 0 || m.alerts.life.Entries[0].Status != model.AlertResolved {
		t.Errorf("version 8 (resolved): header counts %d firing, entry %s; want 0 and resolved", got, m.alerts.life.Entries[0].Status)
	}
}

// TestAlertsHelpSaysHowBack: the ? screen opened on the alerts (reached with
// a at 80×24) listed "a alerts", the key that led there, and no way back. It
// lists a/esc as going back to the workspaces, and both do.
func TestAlertsHelpSaysHowBack(t *testing.T) {
	m := busyApp(t, 80, 24)
	m = update(t, m, press("a"))
	if m.focus != focusAlerts {
		t.Fatalf("a did not open the alerts (focus %d)", m.focus)
	}
	m = update(t, m, press("?"))
	v := view(m)
	var section []string
	for _, l := range strings.Split(v, "\n")[2:] {
		if strings.Contains(l, "Everywhere") {
			break
		}
		section = append(section, l)
	}
	keys := strings.Join(section, "\n")
	if !strings.Contains(v, "Alerts") || !strings.Contains(keys, "a/esc   back to workspaces") {
		t.Errorf("the alerts' help does not say a/esc go back:\n%s", v)
	}
	if strings.Contains(keys, " alerts ") || strings.HasSuffix(strings.TrimRight(keys, " ┃│\n"), "alerts") {
		t.Errorf("the alerts' help lists a key to the alerts, the view already shown:\n%s", keys)
	}
	for _, k := range []string{"a", "esc"} {
		m2 := update(t, m, press("?")) // the help closed, the alerts again
		if m2.focus != focusAlerts || m2.mode != modeDashboard {
			t.Fatalf("closing help left the alerts")
		}
		m2 = update(t, m2, press(k))
		if m2.focus != focusGauges {
			t.Errorf("%s on the alerts: focus %d, want the workspaces as the help says", k, m2.focus)
		}
	}
}
