package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/feed"
	"mavtop/model"
)

// TestHeaderNamesTheFeedAlertAndItsCause: after a FLUSHALL the header read
// "✖ the feed firing" (and `mavtop alerts` "the feed firing (1 alert
// firing)"): nothing an operator can act on. It names the alert
// (model.FeedAlertName) and, where there is room, what it says.
func TestHeaderNamesTheFeedAlertAndItsCause(t *testing.T) {
	note := "Redis lost data mavtop had read (reset / data lost: flushed, deleted or restored): counters re-read, −3,000 credits"
	life := Lifecycle{Entries: []LifecycleEntry{
		{ID: model.AlertID("2026-11", "", "", model.AlertResync, "reset"), Status: model.AlertFiring, Level: model.LevelCritical, Summary: note},
	}}
	for _, c := range []struct {
		w    int
		want string
	}{{80, "▲ feed reset firing"}, {250, "▲ feed reset (" + note + ") firing"}} {
		m := busyApp(t, c.w, 24)
		m = update(t, m, LifecycleMsg{Lifecycle: life})
		s := ansi.Strip(m.header.View())
		if !strings.Contains(s, c.want) {
			t.Errorf("%d columns: header %q lacks %q", c.w, s, c.want)
		}
		if strings.Contains(s, "the feed firing") || strings.Contains(s, " feed firing") {
			t.Errorf("%d columns: header %q says the feed fires without naming the alert", c.w, s)
		}
	}
	// the other feed alerts and an id of no kind known are named too
	for id, want := range map[string]string{
		model.AlertID("2026-11", "", "", model.AlertStale, ""):                "feed stale",
		model.AlertID("2026-11", "", "", model.AlertResync, "restart") + "~2": "feed restart",
		model.AlertID("2026-11", "", "", model.AlertResync, "drift"):          "feed drift",
		model.AlertID("2026-11", "", "", "what", "x"):                         "feed alert",
		"junk": "feed alert",
	} {
		var f model.FiringCount
		f.AddAlert(id, model.LevelWarn, "")
		if got := f.Short(); got != want+" firing" {
			t.Errorf("%s: short %q, want %q", id, got, want+" firing")
		}
		if got := f.String(); got != want+" firing" {
			t.Errorf("%s: words %q, want %q", id, got, want+" firing")
		}
	}
}

// TestHeaderCountsWorkspacesFiring: "N firing" counts the workspaces with an
// alert firing, and the feed, not the alerts: one workspace past its 50, 75
// and 90 % thresholds is one thing to look at ("✖ 18 firing" with 6
// workspaces read as alarming noise). The alerts pane still counts alerts.
func TestHeaderCountsWorkspacesFiring(t *testing.T) {
	id := func(ws, kind, detail string) string {
		return model.AlertID("2026-11", ws, "", model.AlertKind(kind), detail)
	}
	life := Lifecycle{Entries: []LifecycleEntry{
		{ID: id("acme", "threshold", "50"), Status: model.AlertFiring, Level: model.LevelWarn},
		{ID: id("acme", "threshold", "75"), Status: model.AlertFiring, Level: model.LevelHigh},
		{ID: id("acme", "threshold", "90"), Status: model.AlertFiring, Level: model.LevelCritical},
		{ID: id("globex", "threshold", "50"), Status: model.AlertFiring, Level: model.LevelWarn},
		{ID: id("initech", "threshold", "50"), Status: model.AlertResolved, Level: model.LevelWarn},
		{ID: id("", "feed_stale", ""), Status: model.AlertFiring, Level: model.LevelCritical},
	}}
	f := life.Firing()
	if f.Alerts != 5 || f.Workspaces != 2 || !f.Feed || f.N() != 3 || f.Worst != model.LevelCritical {
		t.Fatalf("firing %+v: want 5 alerts, 2 workspaces and the feed (3), critical", f)
	}
	for _, c := range []struct {
		w    int
		want string
	}{{80, "▲ feed stale + 2 ws firing"}, {200, "▲ feed stale and 2 workspaces firing"}} {
		m := busyApp(t, c.w, 24)
		m = update(t, m, LifecycleMsg{Lifecycle: life})
		if s := ansi.Strip(m.header.View()); !strings.Contains(s, c.want) {
			t.Errorf("%d columns: header %q lacks %q", c.w, s, c.want)
		}
		m.alerts.SetLifecycle(life)
		if got := m.alerts.Title(); !strings.Contains(got, "5 alerts firing") {
			t.Errorf("%d columns: alerts pane title %q does not count the 5 alerts firing", c.w, got)
		}
	}
	// one workspace alone: "1 workspace firing", its thresholds one
	var one model.FiringCount
	for range 3 {
		one.Add("acme", model.LevelHigh)
	}
	if s := one.String(); s != "1 workspace firing" || one.N() != 1 {
		t.Errorf("one workspace's three thresholds: %q (%d), want \"1 workspace firing\" (1)", s, one.N())
	}
	// every count of firing names what it counts: the header's workspaces
	// ("ws"), the pane's and `mavtop alerts`' alerts; a bare "N firing"
	// beside another "N firing" read as two counts of one thing
	if s, a := one.Short(), one.AlertsFiring(); s != "1 ws firing" || a != "3 alerts firing" {
		t.Errorf("one workspace's three thresholds: short %q, alerts %q; want \"1 ws firing\", \"3 alerts firing\"", s, a)
	}
	for _, c := range []struct {
		w    int
		want string
	}{{80, "▲ 1 ws firing"}, {200, "▲ 1 workspace firing"}} {
		m := busyApp(t, c.w, 24)
		m = update(t, m, LifecycleMsg{Lifecycle: Lifecycle{Entries: life.Entries[:3]}})
		m.alerts.SetLifecycle(Lifecycle{Entries: life.Entries[:3]})
		head := ansi.Strip(m.header.View())
		if !strings.Contains(head, c.want) {
			t.Errorf("%d columns: header %q lacks %q", c.w, head, c.want)
		}
		if got := m.alerts.Title(); !strings.Contains(got, " listed, 3 alerts firing)") {
			t.Errorf("%d columns: pane title %q, want \"3 alerts firing\"", c.w, got)
		}
	}
}

// TestAlertsFooterSaysBackOnce: on the alerts pane (below 150 columns, where
// it takes the 402 log's place) the footer says how to go back once: it read
// "esc back … a back".
func TestAlertsFooterSaysBackOnce(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {100, 30}} {
		m := update(t, busyApp(t, sz[0], sz[1]), press("a"))
		m.alerts.bannerEnd = time.Time{} // the keys, not the newest alert's banner
		if m.focus != focusAlerts {
			t.Fatalf("%dx%d: a did not open the alerts", sz[0], sz[1])
		}
		f := ansi.Strip(m.footer())
		if n := strings.Count(f, "back"); n != 1 || !strings.Contains(f, "esc back") {
			t.Errorf("%dx%d: footer %q says back %d times, want \"esc back\" once", sz[0], sz[1], f, n)
		}
		// esc goes back, and off the alerts the key to them stays in sight
		back := update(t, m, press("esc"))
		if f := ansi.Strip(back.footer()); !strings.Contains(f, "a alerts") {
			t.Errorf("%dx%d: after esc (focus %d) footer %q lacks the key to the alerts", sz[0], sz[1], back.focus, f)
		}
	}
}

// TestOneQuoteStyleOnScreen: the API's message is quoted the way the
// messages quote inside ("project \"training\"") and the rest of the screen
// does: the 402 list's facts line, the opened refusal and the workspace's
// detail read “…"training"…” before, two styles on one line.
func TestOneQuoteStyleOnScreen(t *testing.T) {
	const msg = `Budget exceeded: project "training" is over its usage limit`
	for _, sz := range [][2]int{{80, 24}, {200, 50}} {
		w, h := sz[0], sz[1]
		m := refusedApp(t, w, h, msg)
		screens := map[string]string{"dashboard": view(m)}
		o := update(t, m, press("l"), press("enter"))
		o.render()
		screens["opened"] = view(o)
		d := update(t, m, OpenDetailMsg{Workspace: "hooli-ml"})
		d.render()
		screens["detail"] = view(d)
		for name, s := range screens {
			if strings.ContainsAny(s, "“”‘’") {
				t.Errorf("%dx%d %s: curly quotes beside the message's straight ones:\n%s", w, h, name, s)
			}
		}
		if got := words(screens["opened"]); !strings.Contains(got, `"`+msg+`"`) {
			t.Errorf("%dx%d: the opened refusal lacks the message quoted straight:\n%s", w, h, screens["opened"])
		}
	}
}

// TestHelpSaysWhatTheFiguresMean: the ? screen says that percents are
// floored, what "N firing" counts and the units of the rates, and words the
// levels plainly ("past the second-to-last" read oddly).
func TestHelpSaysWhatTheFiguresMean(t *testing.T) {
	m := update(t, busyApp(t, 80, 24), press("?"))
	help := words(strings.Join(m.helpLines(78), "\n"))
	for _, want := range []string{"Percents are floored", "84.96 % reads 84 %", "counts the workspaces with an alert firing",
		"events read from the stream per second or minute", "burn in credits per hour (/h)", "credits per minute",
		"used its first alert threshold or more (50 % unless set)"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	for _, odd := range []string{"second-to-last", "past the first of three"} {
		if strings.Contains(help, odd) {
			t.Errorf("help still says %q", odd)
		}
	}
}

// TestSentencesCutAfterAWord: a message or an alert cut to its cell ends
// after a whole word, marked "…" ("Budget exceeded: project \"train…" and
// "allocation (608 credits us…" read as garbled); an alert's row first drops
// its figures in parentheses (the selected one is whole under the list).
func TestSentencesCutAfterAWord(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{`Budget exceeded: project "training" is over its limit`, 30, `Budget exceeded: project …`},
		{"You have run out of credits. Upgrade your plan", 29, "You have run out of credits.…"},
		{"You have run out of credits. Upgrade your plan", 31, "You have run out of credits. …"},
		{"You have run out of credits. Upgrade your plan", 31, "You have run out of credits. …"},
		{"fits whole", 10, "fits whole"},
		{"runs out in 42 h at 296 credits/h, 13 days before", 35, "runs out in 42 h at 296 credits/h…"}, // no dangling comma
		{"runs out in 42 h at 296 credits/h, 13 days before", 37, "runs out in 42 h at 296 credits/h …"},
		{"runs out in 42 h at 296 credits/h, 13 days before", 37, "runs out in 42 h at 296 credits/h …"},
		{"a supercalifragilisticexpialidocious word", 20, "a supercalifragilis…"}, // no word fills half
	} {
		if got := truncateWords(c.s, c.w); got != c.want || cellWidth(got) > c.w {
			t.Errorf("truncateWords(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
	}
	const msg = `Budget exceeded: project "training" is over its usage limit of 90,000 credits this billing period`
	for _, sz := range [][2]int{{80, 24}, {100, 30}, {200, 50}} {
		w, h := sz[0], sz[1]
		m := refusedApp(t, w, h, msg)
		m.alerts.SetSize(60, 10) // a narrow alerts list at every size
		for name, v := range map[string]string{"402 log": m.log.View(), "alerts": m.alerts.View()} {
			for _, l := range strings.Split(ansi.Strip(v), "\n") {
				l = strings.TrimRight(l, " │┃")
				if !strings.HasSuffix(l, "…") {
					continue
				}
				body := strings.TrimSuffix(l, "…")
				if last := body[strings.LastIndexAny(body, " ")+1:]; last != "" && !strings.Contains(msg+" hooli-ml used 50 % of its 1,000-credit cap (at the time: 608 credits used)", last+" ") {
					t.Errorf("%dx%d %s: %q ends mid-word (%q)", w, h, name, l, last)
				}
			}
		}
	}
}

// refusedApp is a dashboard at w×h whose hooli-ml used 608 of its 1,000
// credits, then its project training was refused with 402 budget_exceeded
// and msg.
func refusedApp(t *testing.T, w, h int, msg string) Model {
	t.Helper()
	m, hub := newApp(t, w, h, Options{})
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
			Settings: map[string]model.Settings{"hooli-ml": {Allocation: 1000}}}})
	hub.Handle(&feed.BatchMsg{Gen: 2, Events: []model.Event{
		{TS: testNow.Add(-2 * time.Minute).UnixMilli(), Workspace: "hooli-ml", Endpoint: "/responses", Credits: 608, Status: 200},
		{ID: "1-0", TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/responses",
			Status: 402, Code: model.CodeBudgetExceeded, Req: "req_1", Msg: msg},
	}})
	return pump(t, m)
}

// TestHeaderWhileRedisIsDown: with Redis gone the header says for how long
// the figures have not moved ("reconnecting for 12 s"), and the rate is
// unknown, not "0 ev/min" (a quiet stream), as the lag reads "lag ?".
func TestHeaderWhileRedisIsDown(t *testing.T) {
	h := NewHeader(testCommon(), false)
	h.SetWidth(200)
	h.conn = feed.ConnMsg{State: feed.Connected}
	h.noteStats(&feed.StatsMsg{At: testNow.Add(-time.Minute), Events: 40, LagKnown: true})
	h.noteStats(&feed.StatsMsg{At: testNow.Add(-20 * time.Second), Events: 40, LagKnown: true})
	if s := ansi.Strip(h.View()); !strings.Contains(s, "0 ev/min") {
		t.Fatalf("connected and quiet: header %q, want 0 ev/min", s)
	}
	h.conn = feed.ConnMsg{State: feed.Reconnecting, Attempt: 9, Err: errors.New("dial tcp 127.0.0.1:6399: connect: connection refused"),
		Since: testNow.Add(-12 * time.Second)}
	s := ansi.Strip(h.View())
	for _, want := range []string{"↻ reconnecting for 12 s (attempt 9): connection refused", rateUnknown, "lag ?"} {
		if !strings.Contains(s, want) {
			t.Errorf("Redis down: header %q lacks %q", s, want)
		}
	}
	if strings.Contains(s, "0 ev/min") {
		t.Errorf("Redis down: header %q says the stream is quiet", s)
	}
}
