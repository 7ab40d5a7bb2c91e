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

// newAuditedApp is newApp fed by a follower that audits the counters
// (feed.SnapshotMsg.Audited): a 402 from the stream waits for an audit to
// see the counters hold it. Workspaces acme and z1 have 1,000 credits.
func newAuditedApp(t *testing.T, opt Options) (Model, *feed.Hub) {
	t.Helper()
	hub := feed.NewHub()
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	opt.Source, opt.Now, opt.Renderer = hub.Join(), func() time.Time { return testNow }, r
	m := New(opt)
	m = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	hub.Handle(auditedSnap(1, feed.ReasonStart, "1-0", map[string]int64{"acme": 5, "z1": 5}, nil))
	return pump(t, m), hub
}

func auditedSnap(gen uint64, why feed.Reason, id string, used, refused map[string]int64) *feed.SnapshotMsg {
	return &feed.SnapshotMsg{Gen: gen, Rule: model.MonthlyUTC, At: testNow, Reason: why, Audited: true,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: id, Used: used, Refused: refused,
			Settings: map[string]model.Settings{"acme": {Allocation: 1000}, "z1": {Allocation: 1000}}}}
}

func refusal402(id, ws, endpoint string, credits int64) model.Event {
	return model.Event{ID: id, TS: testNow.UnixMilli(), Workspace: ws, Endpoint: endpoint, Credits: credits,
		Status: 402, Code: model.CodeCreditsExhausted, Msg: "fake"}
}

// said402 reports whether the frame carries a BEL, and whether the alerts
// pane's list (the banner shows its newest) holds a 402 alert of ws.
func said402(m Model, ws string) (bell, words bool) {
	for i := range m.alerts.list {
		words = words || strings.Contains(m.alerts.list[i].Text, ws+" got 402")
	}
	return strings.Contains(m.View(), "\a"), words
}

// TestAppAlertsOnA402OnlyOnceTheCountersHoldIt (hostile review #2): a 402
// read from the stream that the counters never held (a raw XADD, an entry
// repeating its status field 200 then 402) rang the bell, showed the ✖
// banner and left "z1 got 402 credits_exhausted on /y" in the alerts pane,
// while the refusals alert rightly waited for the audit and never fired.
// The dashboard's alert on a 402 now follows the refusals alert's rule: it
// waits for an audit that sees the counters hold it, and a re-read that
// finds them without it drops it. A real 402 alerts as soon as the audit
// confirms it.
func TestAppAlertsOnA402OnlyOnceTheCountersHoldIt(t *testing.T) {
	m, hub := newAuditedApp(t, Options{Bell: true})
	before := m.alerts.Len()

	// the fake: no HINCRBY of the refused counter
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{refusal402("2-0", "z1", "/y", 0)}, LastID: "2-0"})
	m = pump(t, m)
	if bell, words := said402(m, "z1"); bell || words || m.alerts.Len() != before {
		t.Fatalf("a 402 not yet seen counted: bell %v, alert %v, %d alerts (want none):\n%s", bell, words, m.alerts.Len()-before, view(m))
	}
	// the audit finds the counters short (no refused count for z1) and
	// re-reads them: the 402 is not held, so no alert, ever
	hub.Handle(auditedSnap(2, feed.ReasonDrift, "2-0", map[string]int64{"acme": 5, "z1": 5}, nil))
	m = pump(t, m)
	// (the bell rings for the re-read's own notice here: no lifecycle)
	if _, words := said402(m, "z1"); words || strings.Contains(view(m), "z1 got 402") {
		t.Fatalf("a 402 the counters do not hold alerted after the re-read:\n%s", view(m))
	}
	if len(m.unconfirmed) != 0 {
		t.Fatalf("still holding %d 402s after the re-read", len(m.unconfirmed))
	}

	// a real 402: its counter is counted with it, and the next audit (due
	// within feed.RefusalAuditWithin) sees the counters hold it
	hub.Handle(&feed.BatchMsg{Gen: 2, Events: []model.Event{refusal402("3-0", "acme", "/x", 0)}, LastID: "3-0"})
	m = pump(t, m)
	if bell, words := said402(m, "acme"); bell || words {
		t.Fatalf("alerted before the audit: bell %v, alert %v", bell, words)
	}
	hub.Handle(&feed.AuditMsg{Gen: 2, StreamID: "3-0"})
	m = pump(t, m)
	if bell, words := said402(m, "acme"); !bell || !words {
		t.Fatalf("a counted 402 confirmed by the audit: bell %v, alert %v (want both):\n%s", bell, words, view(m))
	}
}

// TestAppAlertsOnA402ARereadCounts: a real 402 whose confirmation comes
// with a re-read of the counters (a re-read for another cause before the
// next audit) alerts then; an audit of an older id confirms nothing newer.
func TestAppAlertsOnA402ARereadCounts(t *testing.T) {
	m, hub := newAuditedApp(t, Options{Bell: true})
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{refusal402("2-0", "z1", "/y", 0)}, LastID: "2-0"})
	hub.Handle(&feed.AuditMsg{Gen: 1, StreamID: "1-5"}) // before the 402
	m = pump(t, m)
	if bell, words := said402(m, "z1"); bell || words {
		t.Fatalf("an audit of an older id confirmed the 402: bell %v, alert %v", bell, words)
	}
	hub.Handle(auditedSnap(2, feed.ReasonRestart, "2-0", map[string]int64{"acme": 5, "z1": 5},
		map[string]int64{model.RefusedField("z1", "", model.CodeCreditsExhausted): 1}))
	m = pump(t, m)
	if _, words := said402(m, "z1"); !words {
		t.Fatalf("a 402 the re-read counts raised no alert:\n%s", view(m))
	}
}

// TestAppAlertsOnA402AtOnceWithoutAudits: a follower that does not audit
// (a counters-only source, a ledger never told) alerts on a 402 at once,
// as before.
func TestAppAlertsOnA402AtOnceWithoutAudits(t *testing.T) {
	m, hub := newApp(t, 100, 30, Options{Bell: true})
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{refusal402("2-0", "acme", "/x", 0)}, LastID: "2-0"})
	m = pump(t, m)
	if bell, words := said402(m, "acme"); !bell || !words {
		t.Fatalf("bell %v, alert %v (want both):\n%s", bell, words, view(m))
	}
}
