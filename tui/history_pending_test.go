package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// While the start's hour is read back, the runs-out column says "loading…"
// instead of a forecast made on part of the hour (a restarted dashboard said
// "idle" where one that watched all along said "out in 3 min"); once read, it
// forecasts, and a workspace out of credits is "out now" either way.
func TestHistoryPendingRunsOutSaysLoading(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow)
	l.Seed(&model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "1-0",
		Used: map[string]int64{"acme": 900, "spent": 500}, HistoryLater: true,
		Settings: map[string]model.Settings{"acme": {Allocation: 1000}, "spent": {Allocation: 500}}}, testNow)
	for i := range 20 {
		e := model.Event{TS: testNow.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 2, Status: 200}
		l.Apply(&e)
	}
	now := testNow.Add(200 * time.Second)
	cell := func(ws string) string {
		r := gaugeRow{fc: l.Forecast(ws, now)}
		return cellRunsOut(nil, &r, runsOutW)
	}
	if got := cell("acme"); got != "loading…" {
		t.Errorf("acme while the hour is read back: %q, want loading…", got)
	}
	if got := cell("spent"); got != "out now" {
		t.Errorf("spent while the hour is read back: %q, want out now", got)
	}
	d := NewDetail(testCommon())
	d.SetSize(160, 40)
	d.Open("acme")
	d.now = func() time.Time { return now }
	d.Refresh(l)
	if view := ansi.Strip(d.View()); !strings.Contains(view, "burn and forecast: loading…") || strings.Contains(view, "runs out in") {
		t.Errorf("detail while the hour is read back:\n%s", view)
	}
	l.Backfill(nil, testNow.Add(-time.Hour))
	l.EndHistory()
	d.Refresh(l)
	if view := ansi.Strip(d.View()); strings.Contains(view, "loading…") || !strings.Contains(view, "runs out in") {
		t.Errorf("detail once read:\n%s", view)
	}
	f := l.Forecast("acme", now)
	if got, want := cell("acme"), "out in "+humanize(f.RunsOutIn); !f.RunsOut || got != want {
		t.Errorf("acme once read: %q, want %q (forecast %+v)", got, want, f)
	}
}
