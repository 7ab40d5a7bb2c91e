package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
				Summary: "acme used 75 % of its 1,000-credit cap", Delivery: "✓ sent 2 sinks"},
			{ID: "2026-11/globex/-/threshold/50", Status: model.AlertFiring, Level: model.LevelWarn, At: testNow,
				Summary: "globex used 50 % of its 500-credit cap", Delivery: "↻ retrying: 503 Service Unavailable"},
			{ID: "2026-11/initech/-/threshold/90", Status: model.AlertResolved, Level: model.LevelCritical, At: testNow,
				Summary: "initech is back under 90 %\x1b[2J", Delivery: "waiting: no mavtop runs with --notify"},
		},
		Scores: []model.ForecastScore{{Workspace: "acme", Projected: time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC),
			Refused: time.Date(2026, 11, 25, 13, 52, 0, 0, time.UTC)}},
	})
	view := ansi.Strip(a.View())
	for _, want := range []string{
		"firing: acme used 75 % of its 1,000-credit cap  ✓ sent 2 sinks",
		"firing: globex used 50 % of its 500-credit cap  ↻ retrying: 503 Service Unavailable",
		"resolved: initech is back under 90 %",
		"waiting: no mavtop runs with --notify",
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
	if got := a.Title(); got != "Alerts (5 listed, 2 alerts firing)" {
		t.Errorf("title %q", got)
	}
}

// The detail view of a workspace lists its forecast scores (its first
// credits_exhausted 402 against the projected run-out), newest first, and no
// other workspace's; the alerts pane lists them all.
func TestDetailShowsTheWorkspacesForecastScores(t *testing.T) {
	m := busyApp(t, 120, 40)
	at := func(h, min int) time.Time { return time.Date(2026, 11, 25, h, min, 0, 0, time.UTC) }
	scores := []model.ForecastScore{
		{Workspace: "out-ws", Projected: at(11, 58), Refused: at(11, 57)}, // this period: 1 min early
		{Workspace: "ok-ws", Projected: at(11, 0), Refused: at(11, 30)},   // another workspace
		{Workspace: "out-ws", Projected: at(14, 5), Refused: at(13, 52)},  // 13 min early
		{Workspace: "out-ws", Projected: at(9, 0), Refused: at(9, 0)},     // on time
		{Workspace: "out-ws", Projected: at(8, 0), Refused: at(10, 0)},    // the fourth: beyond the three shown
	}
	m = update(t, m, LifecycleMsg{Lifecycle: Lifecycle{Scores: scores}}, OpenDetailMsg{Workspace: "out-ws"})
	view := ansi.Strip(m.View())
	var got []string
	for _, l := range strings.Split(view, "\n") {
		if i := strings.Index(l, "forecast scored: "); i >= 0 {
			got = append(got, strings.TrimSpace(strings.TrimRight(l[i:], "┃│ ")))
		}
	}
	want := []string{
		"forecast scored: projected 11:58, refused 11:57: 1 min early",
		"forecast scored: projected 14:05, refused 13:52: 13 min early",
		"forecast scored: projected 09:00, refused 09:00: on time",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("detail of out-ws lists\n%s\nwant\n%s\n\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), view)
	}
	m = update(t, m, press("esc"), OpenDetailMsg{Workspace: "ok-ws"})
	if view := ansi.Strip(m.View()); !strings.Contains(view, "forecast scored: projected 11:00, refused 11:30: 30 min late") ||
		strings.Count(view, "forecast scored") != 1 {
		t.Fatalf("detail of ok-ws:\n%s", view)
	}
	if pane := ansi.Strip(m.alerts.View()); !strings.Contains(pane, "forecast out-ws: projected 14:05, refused 13:52: 13 min early") {
		t.Fatalf("alerts pane:\n%s", pane)
	}
}

// The selection stays on its alert (by identity) whatever arrives above it:
// a new lifecycle entry, a forecast score or a local alert, whether the
// selected row is a lifecycle entry, a score or a local alert.
func TestAlertsSelectionKeptWhileRowsArrive(t *testing.T) {
	entry := func(id string) LifecycleEntry {
		return LifecycleEntry{ID: id, Status: model.AlertFiring, Level: model.LevelHigh, At: testNow, Summary: id + " summary"}
	}
	score := model.ForecastScore{Workspace: "acme", Projected: testNow, Refused: testNow.Add(-time.Minute)}
	two := Lifecycle{Entries: []LifecycleEntry{entry("ws-b"), entry("ws-c")}, Scores: []model.ForecastScore{score}}
	three := Lifecycle{Entries: []LifecycleEntry{entry("ws-a"), entry("ws-b"), entry("ws-c")}, Scores: []model.ForecastScore{score}}
	for _, tc := range []struct {
		name   string
		downs  int // rows moved down from the top before rows arrive
		want   string
		arrive func(a *Alerts)
	}{
		{"lifecycle entry, an entry above", 1, "ws-c summary", func(a *Alerts) { a.SetLifecycle(three) }},
		// newest first: the entries and the local alert at 12:00, the score's 402 at 11:59
		{"score, an entry above", 3, "forecast acme", func(a *Alerts) { a.SetLifecycle(three) }},
		{"local alert, an entry above", 2, "first local", func(a *Alerts) { a.SetLifecycle(three) }},
		{"local alert, a local alert above", 2, "first local", func(a *Alerts) { a.AddNotice(model.LevelWarn, "second local") }},
		{"lifecycle entry, a local alert", 0, "ws-b summary", func(a *Alerts) { a.AddNotice(model.LevelWarn, "second local") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAlerts(testCommon())
			a.SetSize(120, 10)
			a.AddNotice(model.LevelWarn, "first local")
			a.SetLifecycle(two)
			a.focused = true
			for range tc.downs {
				a, _ = a.Update(press("j"))
			}
			selected := func() string {
				for _, l := range strings.Split(ansi.Strip(a.View()), "\n") {
					if strings.HasPrefix(l, "▸ ") {
						return l
					}
				}
				return ""
			}
			if before := selected(); !strings.Contains(before, tc.want) {
				t.Fatalf("before: selected %q, want %q", before, tc.want)
			}
			tc.arrive(&a)
			if after := selected(); !strings.Contains(after, tc.want) {
				t.Errorf("after rows arrived: selected %q, want %q:\n%s", after, tc.want, ansi.Strip(a.View()))
			}
		})
	}
}

// The footer offers ↑/↓ whenever the list has rows to move through, the
// shared lifecycle's included (it offered none with only lifecycle entries,
// which the keys moved through all the same).
func TestAlertsShortHelpCountsLifecycleRows(t *testing.T) {
	a := NewAlerts(testCommon())
	a.SetSize(120, 10)
	a.SetLifecycle(Lifecycle{Entries: []LifecycleEntry{
		{ID: "a", Status: model.AlertFiring, Level: model.LevelHigh, At: testNow, Summary: "a"},
		{ID: "b", Status: model.AlertFiring, Level: model.LevelHigh, At: testNow, Summary: "b"},
	}})
	keys := func() string {
		var on []string
		for _, b := range a.ShortHelp() {
			if b.Enabled() {
				on = append(on, b.Help().Desc)
			}
		}
		return strings.Join(on, ",")
	}
	// at the top of two rows: down, not up; at the bottom: up, not down
	if got := keys(); !strings.Contains(got, "down") || strings.Contains(got, "up") {
		t.Errorf("footer keys %q at the top of two lifecycle rows: want down and no up", got)
	}
	a, _ = a.Update(press("j"))
	if got := keys(); strings.Contains(got, "down") || !strings.Contains(got, "up") {
		t.Errorf("footer keys %q at the bottom of two lifecycle rows: want up and no down", got)
	}
}

// TestAlertsOneTimeOrder: the shared lifecycle's entries, the forecast scores
// and this screen's own alerts are listed together newest first (the
// lifecycle came first whatever its times, then the scores, then the local
// ones), and the title says what it counts.
func TestAlertsOneTimeOrder(t *testing.T) {
	c := testCommon()
	clock := testNow
	c.now = func() time.Time { return clock }
	a := NewAlerts(c)
	a.SetSize(140, 8)
	for _, at := range []int{-5, -1, 0} { // raised in this order, minutes from 12:00
		clock = testNow.Add(time.Duration(at) * time.Minute)
		a.AddNotice(model.LevelWarn, fmt.Sprintf("notice at %s", clock.Format("15:04")))
	}
	a.SetLifecycle(Lifecycle{
		Entries: []LifecycleEntry{
			{ID: "2026-11/acme/-/threshold/75", Status: model.AlertFiring, Level: model.LevelHigh, At: testNow.Add(-2 * time.Minute),
				Summary: "fired at 11:58"},
			{ID: "2026-11/globex/-/threshold/50", Status: model.AlertResolved, Level: model.LevelWarn, At: testNow.Add(-10 * time.Minute),
				Summary: "resolved at 11:50"},
			{ID: "2026-11/initech/-/threshold/50", Status: model.AlertFiring, Level: model.LevelWarn, At: testNow.Add(time.Minute),
				Summary: "fired at 12:01"},
		},
		Scores: []model.ForecastScore{{Workspace: "acme", Projected: testNow.Add(-3 * time.Minute), Refused: testNow.Add(-3 * time.Minute)}}, // 11:57
	})
	want := []string{"fired at 12:01", "notice at 12:00", "notice at 11:59", "fired at 11:58", "forecast acme", "notice at 11:55", "resolved at 11:50"}
	lines := strings.Split(ansi.Strip(a.View()), "\n")
	if len(lines) < len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("row %d %q, want %q (newest first):\n%s", i, lines[i], w, strings.Join(lines, "\n"))
		}
	}
	if got := a.Title(); got != "Alerts (7 listed, 2 alerts firing)" {
		t.Errorf("title %q", got)
	}
}

// A pane narrower than a summary still shows each alert's delivery: the
// summary is cut to leave room for it (at 78 cells, the alerts pane of a
// 200-column dashboard, the delivery was cut off every real summary).
func TestAlertsPaneKeepsTheDeliveryOfALongSummary(t *testing.T) {
	a := NewAlerts(testCommon())
	a.SetSize(78, 4)
	a.SetLifecycle(Lifecycle{Entries: []LifecycleEntry{
		{ID: "2026-11/acme/-/threshold/75", Status: model.AlertFiring, Level: model.LevelHigh, At: testNow,
			Summary: "acme used 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)", Delivery: "✓ sent 2 sinks"},
		{ID: "2026-11/globex/-/run_out/-", Status: model.AlertFiring, Level: model.LevelWarn, At: testNow,
			Summary:  "globex runs out of credits in 14 min at 996 credits/h, 14 h before the billing period ends (at the time: 910 credits used of its 1,000-credit cap)",
			Delivery: "↻ retrying: 503 Service Unavailable"},
	}})
	view := ansi.Strip(a.View())
	lines := strings.Split(view, "\n")
	if len(lines) < 2 || !strings.HasSuffix(strings.TrimRight(lines[0], " "), "  ✓ sent 2 sinks") ||
		!strings.Contains(lines[1], "…  ↻ retrying: 503 Service") {
		t.Errorf("a delivery was cut off (want ✓ sent 2 sinks, and ↻ retrying: 503 after the cut summary):\n%s", view)
	}
	if !strings.Contains(lines[0], "firing: acme used 75 % of its") {
		t.Errorf("the summary's start is gone:\n%s", view)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 78 {
			t.Errorf("row %d is %d cells wide, pane 78", i, w)
		}
	}
}

// A delivery every shared entry has alike (no sink anywhere) is said once, in
// the title, and each row keeps its summary whole.
func TestAlertsSayACommonDeliveryOnce(t *testing.T) {
	a := NewAlerts(testCommon())
	a.SetSize(78, 8)
	const d = "waiting: no mavtop runs with --notify"
	a.SetLifecycle(Lifecycle{Entries: []LifecycleEntry{
		{ID: "2026-11/acme/-/threshold/75", Status: model.AlertFiring, Level: model.LevelHigh, At: testNow,
			Summary: "acme used 75 % of its 1,000-credit cap", Delivery: d},
		{ID: "2026-11/globex/-/threshold/50", Status: model.AlertFiring, Level: model.LevelWarn, At: testNow,
			Summary: "globex used 50 % of its 500-credit cap", Delivery: d},
	}})
	view := ansi.Strip(a.View())
	if n := strings.Count(view+a.Title(), "--notify"); n != 1 || !strings.Contains(a.Title(), "--notify") {
		t.Errorf("the common delivery is said %d times (title %q), want once in the title:\n%s", n, a.Title(), view)
	}
	for _, want := range []string{"acme used 75 % of its 1,000-credit cap", "globex used 50 % of its 500-credit cap"} {
		if !strings.Contains(view, want) {
			t.Errorf("a row's summary is cut, lacks %q:\n%s", want, view)
		}
	}
}

// TestAnAlertIsListedOnceInTheLifecyclesWords: the crossings and the 402 that
// the shared lifecycle also alerts on are said in the lifecycle's words (the
// banner says what the notification says) and, once the lifecycle lists
// them, are not listed a second time: before, the pane listed "acme passed 90
// % of its usage limit" beside "firing: acme used 90 % of its 1,000-credit
// usage limit" at the same second, and the local line stayed marked ▲ after
// the lifecycle's resolved.
func TestAnAlertIsListedOnceInTheLifecyclesWords(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow)
	l.SetSettings("acme", model.Settings{UsageLimit: 1000}, testNow.UnixMilli())
	use := model.Event{TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 1100, Status: 200}
	refused := model.Event{TS: testNow.UnixMilli() + 1, Workspace: "acme", Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded}
	l.Apply(&use)
	a := NewAlerts(testCommon())
	a.SetSize(200, 20)
	crossings := l.TakeCrossings()
	for _, c := range crossings {
		a.AddCrossing(c)
	}
	l.Apply(&refused)
	a.AddRefusal(&refused)
	if a.rows() != len(crossings)+1 {
		t.Fatalf("%d rows before the lifecycle, want the %d crossings and the 402", a.rows(), len(crossings))
	}
	var life Lifecycle
	summaries := map[string]string{}
	cands := model.EvaluateAlerts(l, testNow, model.FeedHealth{Connected: true}, model.AlertOptions{}, nil)
	for _, tr := range model.AlertTransitions(map[string]model.AlertRecord{}, cands, l.Period().Key, l.StreamID(), testNow) {
		sum := tr.Summary(l.Period().Key)
		summaries[tr.Alert.ID] = sum
		life.Entries = append(life.Entries, LifecycleEntry{ID: tr.Alert.ID, Status: tr.Status, Level: tr.Alert.Level, At: testNow, Summary: sum})
	}
	for _, c := range crossings {
		al := c.Alert()
		if sum, ok := summaries[al.ID]; !ok || sum != c.Sentence() {
			t.Errorf("crossing %q (id %s): the lifecycle says %q", c.Sentence(), al.ID, sum)
		}
	}
	a.SetLifecycle(life)
	if a.rows() != len(life.Entries) {
		t.Errorf("%d rows, want the lifecycle's %d alone:\n%s", a.rows(), len(life.Entries), ansi.Strip(a.View()))
	}
	if v := ansi.Strip(a.View()); strings.Contains(v, "got 402") || strings.Count(v, "used 90 % of its 1,000-credit usage limit") != 1 {
		t.Errorf("a condition listed twice:\n%s", v)
	}
	// the banner is the newest local alert, in the lifecycle's words
	if b, ok := a.Banner(); !ok || !strings.Contains(b.Text, "got 402 budget_exceeded") {
		t.Errorf("banner %+v %v", b, ok)
	}
}

// The common delivery in the title is said in full where it fits and in a
// shorter form where it does not, never cut mid-word by the frame (at 200×50
// the pane drew "waiting: no mavtop runs with --noti…").
func TestAlertsTitleSaysTheDeliveryWhole(t *testing.T) {
	const d = "waiting: no mavtop runs with --notify"
	for _, c := range []struct{ entries, w int }{{2, 78}, {18, 78}, {120, 78}} {
		a := NewAlerts(testCommon())
		a.SetSize(c.w, 8)
		var es []LifecycleEntry
		for i := range c.entries {
			st := model.AlertFiring
			if c.entries == 2 {
				st = model.AlertResolved // "Alerts (2 listed)": room for the whole delivery
			}
			es = append(es, LifecycleEntry{ID: fmt.Sprintf("2026-11/ws-%03d/-/threshold/75", i), Status: st,
				Level: model.LevelHigh, At: testNow, Summary: fmt.Sprintf("ws-%03d used 75 %% of its 1,000-credit cap", i), Delivery: d})
		}
		a.SetLifecycle(Lifecycle{Entries: es})
		top := strings.SplitN(ansi.Strip(pane(testCommon().st, a.Title(), a.View(), c.w+2, 10, true)), "\n", 2)[0]
		if strings.Contains(top, "…") || !strings.Contains(top, "--notify") {
			t.Errorf("%d entries at %d cells: the pane's title is cut: %q", c.entries, c.w+2, top)
		}
		if full, want := strings.Contains(top, d), c.entries == 2; full != want {
			t.Errorf("%d entries at %d cells: the title says the delivery in full: %v, want %v: %q", c.entries, c.w+2, full, want, top)
		}
	}
}
