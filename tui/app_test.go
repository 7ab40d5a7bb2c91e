package tui

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"mavtop/feed"
	"mavtop/model"
)

// newApp returns a root model fed with a snapshot, sized w×h.
func newApp(t *testing.T, w, h int, opt Options) (Model, *feed.Hub) {
	t.Helper()
	hub := feed.NewHub()
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	opt.Source, opt.Now, opt.Renderer = hub.Join(), func() time.Time { return testNow }, r
	m := New(opt)
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
			Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}})
	return pump(t, m), hub
}

func update(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		tm, _ := m.Update(msg)
		m = tm.(Model)
	}
	return m
}

// pump hands the model everything the hub queued, then draws a frame.
func pump(t *testing.T, m Model) Model {
	t.Helper()
	msgs, err := m.opt.Source.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m = update(t, m, FeedMsg{Msgs: msgs})
	if m.dirty {
		// not drawn by Update (a frame was drawn less than a frame's time
		// ago). Drawing again when Update did would replace its frame and
		// the BEL it carries: on a loaded machine, where Update's frame is
		// due, "no bell for the 402"
		m.render()
	}
	return m
}

func view(m Model) string { return ansi.Strip(m.View()) }

func TestAppDropsBatchesOfAnOldGeneration(t *testing.T) {
	m, hub := newApp(t, 100, 30, Options{})
	ev := model.Event{TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 100, Status: 200}
	hub.Handle(&feed.BatchMsg{Gen: 0, Events: []model.Event{ev}}) // from before the snapshot
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{ev, ev}})
	m = pump(t, m)
	if s := view(m); !strings.Contains(s, "200/1.00k") {
		t.Fatalf("want exactly the current generation's 200 credits:\n%s", s)
	}
}

func TestAppAlertsOnCrossingAndRefusal(t *testing.T) {
	m, hub := newApp(t, 100, 30, Options{Bell: true})
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{
		{TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 760, Status: 200},
	}})
	m = pump(t, m)
	if !strings.Contains(view(m), "acme used 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)") {
		t.Fatalf("no crossing banner:\n%s", view(m))
	}
	if !strings.Contains(m.View(), "\a") {
		t.Fatal("--bell did not ring")
	}
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{
		{TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/focus-groups", Status: 402, Code: model.CodeBudgetExceeded, Msg: "limit"},
		{TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/focus-groups", Status: 402, Code: model.CodeBudgetExceeded, Msg: "limit"},
	}})
	m = pump(t, m)
	if m.alerts.Len() != 3 { // 50 %, 75 %, one 402 alert for two refusals
		t.Fatalf("%d alerts: %+v", m.alerts.Len(), m.alerts.list)
	}
	if !strings.Contains(m.View(), "\a") {
		t.Fatal("no bell for the 402")
	}
	m.render() // nothing new since
	if strings.Contains(m.View(), "\a") {
		t.Fatal("the bell rang twice for one alert")
	}
}

func TestAppModesAndFocus(t *testing.T) {
	m, _ := newApp(t, 100, 30, Options{})
	m = update(t, m, press("?"))
	if !strings.Contains(view(m), "Levels (a word and a symbol each") {
		t.Fatalf("no help:\n%s", view(m))
	}
	m = update(t, m, press("esc"), press("l"))
	if m.focus != focusLog || m.mode != modeDashboard {
		t.Fatalf("focus %d mode %d", m.focus, m.mode)
	}
	m = update(t, m, press("l"), press("l"))
	if m.focus != focusGauges {
		t.Fatalf("focus did not cycle back: %d", m.focus)
	}
	m = update(t, m, press("enter"))
	if !strings.Contains(view(m), "Workspace acme · esc back") {
		// enter on the gauges asks for the detail view through a command
		tm, cmd := m.Update(press("enter"))
		m = tm.(Model)
		if cmd != nil {
			m = update(t, m, cmd())
		}
	}
	if m.mode != modeDetail || !strings.Contains(view(m), "Workspace acme · esc back") {
		t.Fatalf("no detail view:\n%s", view(m))
	}
	m = update(t, m, press("esc"), press("e"))
	if m.mode != modeEstimator || !strings.Contains(view(m), "Estimator") {
		t.Fatalf("no estimator:\n%s", view(m))
	}
	_, cmd := m.Update(press("q"))
	if cmd == nil {
		t.Fatal("q did not quit")
	}
}

func TestAppTooSmall(t *testing.T) {
	m, _ := newApp(t, 50, 10, Options{})
	if s := view(m); !strings.Contains(s, "needs at least 60×16") {
		t.Fatalf("%q", s)
	}
}

// TestAppSaysAFailoverHappened: after the feed re-read the counters from a new
// master, the header says so and a notice names the server, with the totals of
// the new master's snapshot.
func TestAppSaysAFailoverHappened(t *testing.T) {
	m, hub := newApp(t, 120, 30, Options{})
	hub.Handle(&feed.ConnMsg{State: feed.Connected, Since: testNow, Server: "10.0.0.7:6379"})
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonFailover,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0", Used: map[string]int64{"acme": 300},
			Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}})
	m = pump(t, m)
	s := view(m)
	for _, want := range []string{"re-read: failover", "failed over to 10.0.0.7:6379", "300/1.00k"} {
		if !strings.Contains(s, want) {
			t.Errorf("the screen lacks %q:\n%s", want, s)
		}
	}
}

// TestAppSaysItReadsPattern1Counters: the header names the Pattern 1 source
// and a notice says what it cannot show.
func TestAppSaysItReadsPattern1Counters(t *testing.T) {
	m, hub := newApp(t, 160, 30, Options{})
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart, Source: feed.CounterLabel,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), Used: map[string]int64{"acme": 40}}})
	m = pump(t, m)
	s := view(m)
	for _, want := range []string{"source: Pattern 1 counters", "no endpoints, no 402s"} {
		if !strings.Contains(s, want) {
			t.Errorf("the screen lacks %q:\n%s", want, s)
		}
	}
}

// TestFPSIsCapped: an --fps beyond what the renderer flushes is held at
// MaxFPS, so the frame tick (time.Second/FPS) is never a busy loop (it was 0
// above 10⁹ and 1 ms at 1,000); zero or less is the default.
func TestFPSIsCapped(t *testing.T) {
	hub := feed.NewHub()
	for _, c := range []struct{ fps, want int }{{1000, MaxFPS}, {1 << 40, MaxFPS}, {math.MaxInt, MaxFPS}, {0, DefaultFPS}, {-5, DefaultFPS}, {4, 4}, {MaxFPS, MaxFPS}} {
		v := hub.Join()
		m := New(Options{Source: v, FPS: c.fps})
		if m.opt.FPS != c.want || time.Second/time.Duration(m.opt.FPS) < time.Second/MaxFPS {
			t.Errorf("--fps %d: %d frames a second, want %d", c.fps, m.opt.FPS, c.want)
		}
		m.Close()
	}
}

// TestAppNamesWhatItCannotRead: counters and settings a re-read could not use
// are named in the alerts pane, once however many re-reads find them (check
// says UNKNOWN for them; the dashboard dropped the workspace without a word).
func TestAppNamesWhatItCannotRead(t *testing.T) {
	m, hub := newApp(t, 160, 30, Options{})
	snap := func(gen uint64) *feed.SnapshotMsg {
		return &feed.SnapshotMsg{Gen: gen, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonDrift,
			Snap:        &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0", Used: map[string]int64{"acme": 40}},
			BadCounters: map[string]error{"used:beta": errors.New(`"12.5" is not an integer`)},
			BadSettings: map[string]error{"gamma": errors.Join(errors.New("allocation -1 must be between 0 and 1000000000000"), errors.New("usage limit -2 must be"))}}
	}
	hub.Handle(snap(2))
	hub.Handle(snap(3))
	m = pump(t, m)
	s := view(m)
	for _, want := range []string{`counter "used:beta" cannot be read`, `settings "gamma" cannot be read`} {
		if n := strings.Count(s, want); n != 1 {
			t.Errorf("the screen holds %q %d times, want once:\n%s", want, n, s)
		}
	}
}

// TestAPeriodConfigNoteIsResolvedWhenRepaired: the alerts pane's "period
// config unreadable (…)" note goes once a re-read finds the config readable
// again, and a row "resolved: period config unreadable (…)" says so, as the
// header stops naming it; broken again, the note is raised again (it was
// said once per dashboard, never again); broken otherwise, the note is
// replaced, not listed beside the old one. Before, the note stayed for as
// long as the dashboard ran, beside a header that no longer named it.
func TestAPeriodConfigNoteIsResolvedWhenRepaired(t *testing.T) {
	m, hub := newApp(t, 160, 30, Options{})
	gen := uint64(1)
	read := func(reason string) {
		t.Helper()
		gen++
		sm := &feed.SnapshotMsg{Gen: gen, Rule: model.PeriodFallback, At: testNow, Reason: feed.ReasonPeriod, PeriodUnreadable: reason,
			Snap: &model.Snapshot{Period: model.PeriodFallback.At(testNow), StreamID: "0-0", Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}}
		if reason != "" {
			sm.BadSettings = map[string]error{feed.PeriodSettingsField: &model.PeriodConfigError{Reason: reason}}
		}
		hub.Handle(sm)
		m = pump(t, m)
	}
	// notices are the pane's notices about the period config, newest first
	notices := func() []string {
		var out []string
		for _, al := range m.alerts.list {
			if strings.Contains(al.Text, "period config unreadable") {
				out = append(out, al.Level.String()+" "+al.Text)
			}
		}
		return out
	}
	header := func() string { return strings.SplitN(view(m), "\n", 2)[0] }
	const day99 = `billing period config {"start_day":99}: start day 99 must be between 1 and 28`
	const mars = `billing period config {"tz":"Mars/Olympus"}: unknown time zone Mars/Olympus`
	words99, wordsMars := model.PeriodUnreadableWords(day99), model.PeriodUnreadableWords(mars)
	high, ok := model.LevelHigh.String(), model.LevelOK.String()

	read(day99)
	if got := notices(); !slices.Equal(got, []string{high + " " + words99}) || !strings.Contains(header(), PeriodUnreadableNote) {
		t.Fatalf("broken: notices %q, header %q; want the note, the header naming it", got, header())
	}
	read(day99) // another re-read of the same: nothing new
	read("")
	if got := notices(); !slices.Equal(got, []string{ok + " resolved: " + words99}) || strings.Contains(header(), PeriodUnreadableNote) {
		t.Errorf("repaired: notices %q, header %q; want only 'resolved: %s', the header silent", got, header(), words99)
	}
	if s := view(m); !strings.Contains(s, "resolved: period config unreadable") || strings.Count(s, "period config unreadable") != strings.Count(s, "resolved: period config unreadable") {
		t.Errorf("repaired: the pane shows the note unresolved:\n%s", s)
	}
	read(day99)
	if got := notices(); !slices.Equal(got, []string{high + " " + words99, ok + " resolved: " + words99}) {
		t.Errorf("broken again: notices %q, want the note raised again above the resolved one", got)
	}
	read(mars)
	if got := notices(); !slices.Equal(got, []string{high + " " + wordsMars, ok + " resolved: " + words99}) {
		t.Errorf("broken otherwise: notices %q, want the note replaced by the new reason's", got)
	}
	read("")
	if got := notices(); !slices.Equal(got, []string{ok + " resolved: " + wordsMars, ok + " resolved: " + words99}) {
		t.Errorf("repaired again: notices %q, want both resolved", got)
	}
}

// TestTheBellRingsWithTheAlertsPaneFull: --bell rang when the pane's list
// grew, and the list stops at maxAlerts lines: a dashboard that had raised
// 200 alerts never rang again (hostile14 #2). It rings on every alert added.
func TestTheBellRingsWithTheAlertsPaneFull(t *testing.T) {
	m, hub := newApp(t, 100, 30, Options{Bell: true})
	for i := range maxAlerts + 5 {
		m.alerts.add(Alert{At: testNow, Level: model.LevelWarn, Text: "earlier " + strconv.Itoa(i)})
	}
	m.render()
	if m.alerts.Len() != maxAlerts {
		t.Fatalf("%d alerts listed, want the pane full (%d)", m.alerts.Len(), maxAlerts)
	}
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{
		{TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 760, Status: 200},
	}})
	m = pump(t, m)
	if !strings.Contains(view(m), "acme used 75 %") || !strings.Contains(m.View(), "\a") {
		t.Fatalf("with the pane full, a crossing rang no bell:\n%s", view(m))
	}
}
