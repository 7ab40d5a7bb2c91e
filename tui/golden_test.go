package tui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // times on screen are the same on every machine
	os.Exit(m.Run())
}

// goldenSizes are the terminal sizes every pane is pinned at.
var goldenSizes = [][2]int{{60, 16}, {80, 24}, {200, 50}}

// busyApp is a dashboard at w×h fed with workspaces at every level, two long
// names that differ only at the end, and 402s whose messages hold an emoji
// with a variation selector and a ZWJ sequence.
func busyApp(t *testing.T, w, h int, opts ...Options) Model {
	t.Helper()
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	m, hub := newApp(t, w, h, opt)
	settings := map[string]model.Settings{
		"acme-research-team-alpha": {Allocation: 1000}, "acme-research-team-beta": {Allocation: 1000},
		"ok-ws": {Allocation: 10_000}, "warn-ws": {Allocation: 1000}, "crit-ws": {Allocation: 1000}, "out-ws": {Allocation: 500},
	}
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0", Settings: settings}})
	at := func(min int) int64 { return testNow.Add(-time.Duration(min) * time.Minute).UnixMilli() }
	var evs []model.Event
	used := map[string]int64{"acme-research-team-alpha": 420, "acme-research-team-beta": 780, "ok-ws": 1200,
		"warn-ws": 610, "crit-ws": 930, "out-ws": 500, "no-alloc": 77}
	for _, ws := range slices.Sorted(maps.Keys(used)) { // one order: alerts come in it
		n := used[ws]
		for i := int64(0); i < 4; i++ {
			evs = append(evs, model.Event{TS: at(50 - 10*int(i)), Workspace: ws, Project: "web", Endpoint: "/responses", Credits: n / 4, Status: 200})
		}
		evs = append(evs, model.Event{TS: at(1), Workspace: ws, Endpoint: "/responses", Credits: n - n/4*4, Status: 200})
	}
	for i, msg := range []string{"Warning ⚠️ you have run out of credits", "Team 👩‍💻 budget exceeded", "You have run out of credits"} {
		evs = append(evs, model.Event{ID: fmt.Sprintf("%d-0", i+1), TS: at(3 - i), Workspace: "out-ws", Project: "trials",
			Endpoint: "/focus-groups", Status: 402, Code: model.CodeCreditsExhausted, Msg: msg, Req: fmt.Sprintf("req_01HZX4K7Q9%04d", i)})
	}
	hub.Handle(&feed.BatchMsg{Gen: 2, Events: evs})
	return pump(t, m)
}

// TestPaneGoldens pins every pane's View (styles stripped) at 60×16, 80×24
// and 200×50 (go test ./tui -run PaneGoldens -update rewrites them), and
// checks no line of the whole screen is wider than the terminal.
func TestPaneGoldens(t *testing.T) {
	for _, sz := range goldenSizes {
		w, h := sz[0], sz[1]
		m := busyApp(t, w, h)
		screens := map[string]func(Model) string{
			"screen": func(m Model) string { return m.View() },
			"header": func(m Model) string { return m.header.View() },
			"gauges": func(m Model) string { return m.gauges.View() },
			"log":    func(m Model) string { return m.log.View() },
			"alerts": func(m Model) string { return m.alerts.View() },
			"charts": func(m Model) string { return m.charts.View() },
			"footer": func(m Model) string { return m.footer() },
			"help":   func(m Model) string { return update(t, m, press("?")).View() },
			"detail": func(m Model) string { return update(t, m, press("enter"), OpenDetailMsg{Workspace: "out-ws"}).View() },
			"estimator": func(m Model) string {
				m = update(t, m, press("e"), press("enter"))
				return m.View()
			},
		}
		// the estimator with launches in the stream (recent jobs, calibration)
		// and two jobs in the retry queue, the second selected
		withJobs := busyApp(t, w, h, Options{Launcher: &queueLauncher{}})
		withJobs = update(t, withJobs, FeedMsg{Msgs: []feed.Msg{&feed.BatchMsg{Gen: 2, Events: jobEvents()}}},
			press("e"), QueueListMsg{Jobs: testQueue()}, press("]"))
		withJobs.render()
		screens["estimator-jobs"] = func(Model) string { return withJobs.View() }
		for name, draw := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", name, w, h), func(t *testing.T) {
				s := ansi.Strip(draw(m))
				for i, l := range strings.Split(s, "\n") {
					if n := ansi.StringWidth(l); n > w {
						t.Errorf("line %d is %d cells wide at %d columns: %q", i, n, w, l)
					}
				}
				golden.RequireEqual(t, []byte(s))
			})
		}
	}
}

// jobEvents are four launches as the client's tracker writes them: two focus
// groups (one above its estimate), a chat, and a 402.
func jobEvents() []model.Event {
	at := func(min int) int64 { return testNow.Add(-time.Duration(min) * time.Minute).UnixMilli() }
	return []model.Event{
		{ID: "10-0", TS: at(30), Workspace: "ok-ws", Endpoint: "/focus-groups", Op: "focus-group", Est: 85, Credits: 81, Status: 200, Req: "fg_1"},
		{ID: "11-0", TS: at(20), Workspace: "ok-ws", Endpoint: "/focus-groups", Op: "focus-group", Est: 85, Credits: 97, Status: 200, Req: "fg_2"},
		{ID: "12-0", TS: at(10), Workspace: "warn-ws", Endpoint: "/responses", Op: "chat", Est: 5, Credits: 4, Status: 200, Req: "resp_1"},
		{ID: "13-0", TS: at(5), Workspace: "out-ws", Endpoint: "/focus-groups", Op: "focus-group", Est: 85, Status: 402, Code: model.CodeCreditsExhausted, Req: "fg_3"},
	}
}

// testQueue is two refused focus groups waiting in the retry queue.
func testQueue() []QueuedJob {
	return []QueuedJob{
		{ID: "rj_1", Op: estimator.FocusGroup, Workspace: "out-ws", Estimate: 85, EnqueuedAt: testNow.Add(-4 * time.Minute),
			Wait: estimator.Waiting{Required: 102, LastTriedRemaining: 0}},
		{ID: "rj_2", Op: estimator.FocusGroup, Workspace: "crit-ws", Estimate: 13_818, EnqueuedAt: testNow.Add(-2 * time.Minute),
			Wait: estimator.Waiting{Required: 16_581, LastTriedRemaining: 70}},
	}
}

// queueLauncher is a launcher whose queue the test sets; it launches nothing.
type queueLauncher struct{ cancelled []string }

func (q *queueLauncher) Launch(context.Context, Job, func(string)) (LaunchResult, error) {
	return LaunchResult{}, errors.New("not in this test")
}
func (q *queueLauncher) Queue(context.Context, Job, error) error { return nil }
func (q *queueLauncher) Queued(context.Context) ([]QueuedJob, error) {
	return testQueue(), nil
}
func (q *queueLauncher) Cancel(_ context.Context, id string) (bool, error) {
	q.cancelled = append(q.cancelled, id)
	return true, nil
}

// TestScreenLinesFitAndKeepEssentials: at every size the footer keeps
// "? help" and "q quit", the 402 log keeps a refusal's workspace, code and
// request id (whole from 80 columns), and two names that differ only at the
// end stay apart.
func TestScreenLinesFitAndKeepEssentials(t *testing.T) {
	for _, sz := range append(goldenSizes, [2]int{100, 30}) {
		w, h := sz[0], sz[1]
		m := busyApp(t, w, h)
		s := view(m)
		lines := strings.Split(s, "\n")
		if len(lines) != h {
			t.Errorf("%dx%d: %d lines", w, h, len(lines))
		}
		last := lines[len(lines)-1]
		if !strings.Contains(last, "? help") || !strings.Contains(last, "q quit") {
			t.Errorf("%dx%d: footer %q lacks ? help / q quit", w, h, last)
		}
		wants := []string{"out-ws", "credits_exhausted", "req_01HZX4K7Q9000", "alpha ", "beta "}
		if w < 80 { // the request column is left out, the selected one's id whole under the list; 4 rows of 7 workspaces
			wants = []string{"out-ws", "credits_exhausted", "req_01HZX4K7Q90002"}
		}
		for _, want := range wants {
			if !strings.Contains(s, want) {
				t.Errorf("%dx%d: screen lacks %q:\n%s", w, h, want, s)
			}
		}
	}
}

// TestUpdateKeysPerPane is each pane's Update, table-driven: a key, the pane's
// state before, what it must be after.
func TestUpdateKeysPerPane(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		check func(t *testing.T, m Model)
	}{
		{"gauges: G then g", []string{"G", "g"}, func(t *testing.T, m Model) {
			if m.gauges.cur.pos != 0 {
				t.Errorf("pos %d", m.gauges.cur.pos)
			}
		}},
		{"gauges: end", []string{"end"}, func(t *testing.T, m Model) {
			if m.gauges.cur.pos != m.gauges.n-1 || m.gauges.n != 7 {
				t.Errorf("pos %d of %d", m.gauges.cur.pos, m.gauges.n)
			}
		}},
		{"gauges: > sorts by name, < back", []string{">"}, func(t *testing.T, m Model) {
			if m.gauges.visible[0].Name != "acme-research-team-alpha" || !strings.Contains(m.gauges.Title(), "by name") {
				t.Errorf("first %s, title %q", m.gauges.visible[0].Name, m.gauges.Title())
			}
			m = update(t, m, press("<"))
			if !strings.Contains(m.gauges.Title(), "by use") {
				t.Errorf("title %q", m.gauges.Title())
			}
		}},
		{"gauges: q in the filter is text", []string{"/", "q"}, func(t *testing.T, m Model) {
			if m.gauges.Filter() != "q" {
				t.Errorf("filter %q", m.gauges.Filter())
			}
		}},
		{"log: pgdown then home", []string{"l", "pgdown", "home"}, func(t *testing.T, m Model) {
			if m.focus != focusLog || m.log.cur.pos != 0 {
				t.Errorf("focus %d pos %d", m.focus, m.log.cur.pos)
			}
		}},
		{"log: G selects the oldest", []string{"l", "G"}, func(t *testing.T, m Model) {
			if m.log.cur.pos != len(m.log.rows)-1 {
				t.Errorf("pos %d of %d", m.log.cur.pos, len(m.log.rows))
			}
		}},
		{"alerts: j moves down", []string{"l", "l", "j"}, func(t *testing.T, m Model) {
			if m.focus != focusAlerts || m.alerts.cur.pos != 1 {
				t.Errorf("focus %d pos %d", m.focus, m.alerts.cur.pos)
			}
		}},
		{"detail: G stays on content", []string{"enter", "G"}, func(t *testing.T, m Model) {
			if m.mode != modeDetail {
				t.Fatalf("mode %d", m.mode)
			}
			if v := view(m); !strings.Contains(v, "Recent 402s") && !strings.Contains(v, "Endpoints") {
				t.Errorf("G scrolled the content away:\n%s", v)
			}
		}},
		{"estimator: q in a number field", []string{"e", "down", "down", "q"}, func(t *testing.T, m Model) {
			if m.mode != modeEstimator || !m.est.Typing() {
				t.Errorf("mode %d typing %v", m.mode, m.est.Typing())
			}
		}},
		{"help: ? lists the focused pane's keys", []string{"l", "?"}, func(t *testing.T, m Model) {
			if v := view(m); !strings.Contains(v, "402 refusals") || !strings.Contains(v, "pgdn") {
				t.Errorf("help:\n%s", v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := busyApp(t, 100, 30)
			for _, k := range tt.keys {
				k := k
				var msg tea.Msg = press(k)
				switch k {
				case "pgdown":
					msg = tea.KeyMsg{Type: tea.KeyPgDown}
				case "home":
					msg = tea.KeyMsg{Type: tea.KeyHome}
				case "end":
					msg = tea.KeyMsg{Type: tea.KeyEnd}
				}
				tm, cmd := m.Update(msg)
				m = tm.(Model)
				if k == "q" && cmd != nil {
					if _, quit := cmd().(tea.QuitMsg); quit {
						t.Fatal("q quit")
					}
				}
				if cmd != nil && k == "enter" {
					if o, ok := cmd().(OpenDetailMsg); ok {
						m = update(t, m, o)
					}
				}
			}
			m.render()
			tt.check(t, m)
		})
	}
}
