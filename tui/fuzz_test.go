package tui

import (
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

// FuzzHostileInput drives the whole path with untrusted bytes (issue 10):
// every stream field and a counter hash field → decode → ledger → every pane's
// View() at a few terminal sizes, in colour. Whatever the bytes: no panic, no
// escape sequence but the SGR colours lipgloss writes (checked on each pane
// before the frame filter, and on the frame), no line wider than the terminal
// and no more lines than it has. The seeds are the attacks the issue names;
// `go test` runs only them, `go test -fuzz FuzzHostileInput ./tui` explores.
func FuzzHostileInput(f *testing.F) {
	title := "\x1b]2;HACKED\a\x1b[31mred\x1b[0m x\ny"
	f.Add("acme", "", "/mave/chat", "credits_exhausted", title, "r1", "0", "402", "", "acme", "5")
	f.Add("acme", "web", "/mave/chat", "Credits_Exhausted", "\x1b[?1049h\x1b[2J\x1b[H", strings.Repeat("r", 129), "300", "402", "", "bad\xe9", "5")
	f.Add("acme", "p\x1b", "/x\x1b]52;c;aGk=\a", "CODE\x9b", "\x1b]52;c;aGk=\a clip", "\u202eevil", "7", "200", "soon", "acme/p\xff/\x1b]2;x\a", "3")
	f.Add("acme", "", "/responses", "", strings.Repeat("m", 5000), "", "12", "200", "1764072000000", "acme//\xe9", "x")
	f.Add("wide", "", "/r", "", "日本語の長いメッセージ👨‍👩‍👧 \u0301\u0301\u0301", "\x00\x7f\x85", "1", "429", "", "wide", "1")
	f.Fuzz(func(t *testing.T, ws, project, endpoint, code, msg, req, credits, status, ts, hashField, hashValue string) {
		r := lipgloss.NewRenderer(nil)
		r.SetColorProfile(termenv.TrueColor)
		hub := feed.NewHub()
		m := New(Options{Source: hub.Join(), Now: nowFunc, Renderer: r})
		defer m.Close()

		// the snapshot, through the names the feed keeps (feed.ReadSnapshot)
		snap := &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
			Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{}, Recharged: map[string]int64{},
			Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}
		if n, err := strconv.ParseInt(hashValue, 10, 64); err == nil {
			if name, ok := model.CleanWorkspaceField(hashField); ok {
				snap.Used[name] += n
			}
			if name, ok := model.CleanUsedByField(hashField); ok {
				snap.UsedBy[name] += n
			}
			if name, ok := model.CleanRefusedField(hashField); ok {
				snap.Refused[name] += n
			}
		}
		hub.Handle(&feed.SnapshotMsg{Gen: 1, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart, Snap: snap})

		if ts == "" {
			ts = strconv.FormatInt(testNow.UnixMilli(), 10)
		}
		fields := map[string]any{"v": "1", "ts": ts, "ws": ws, "project": project, "endpoint": endpoint,
			"credits": credits, "status": status, "code": code, "msg": msg, "req": req}
		id := strconv.FormatInt(testNow.UnixMilli(), 10) + "-0"
		var evs []model.Event
		if e, err := model.DecodeEvent(id, fields); err == nil {
			evs = append(evs, e)
		} else {
			hub.Handle(&feed.MalformedMsg{Gen: 1, ID: id, Err: err, Total: 1})
		}
		// the same text as settings JSON and as a recharge
		for _, extra := range []map[string]any{
			{"v": "1", "ts": ts, "ws": ws, "kind": "settings", "msg": msg},
			{"v": "1", "ts": ts, "ws": ws, "kind": "recharge", "credits": credits, "req": req},
		} {
			if e, err := model.DecodeEvent(id, extra); err == nil {
				evs = append(evs, e)
			}
		}
		hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs, LastID: id})

		msgs, err := m.opt.Source.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		m = fuzzUpdate(m, FeedMsg{Msgs: msgs})
		for _, size := range [][2]int{{80, 24}, {60, 16}, {132, 43}, {200, 60}} {
			w, h := size[0], size[1]
			m = fuzzUpdate(m, tea.WindowSizeMsg{Width: w, Height: h})
			for _, keys := range [][]string{nil, {"l"}, {"enter"}, {"esc", "e"}, {"esc", "?"}, {"esc", "/", msg, "enter"}, {"esc", "esc"}} {
				for _, k := range keys {
					m = fuzzUpdate(m, press(k))
				}
				m.render()
				checkFrame(t, m, w, h)
			}
		}
	})
}

func nowFunc() time.Time { return testNow }

func fuzzUpdate(m Model, msg tea.Msg) Model {
	tm, _ := m.Update(msg)
	return tm.(Model)
}

// checkFrame asserts the frame fits w×h and that neither the frame nor any
// pane holds an escape sequence other than SGR.
func checkFrame(t *testing.T, m Model, w, h int) {
	t.Helper()
	frame := m.View()
	lines := strings.Split(frame, "\n")
	if len(lines) > h {
		t.Fatalf("%d lines on a %d×%d terminal", len(lines), w, h)
	}
	for i, l := range lines {
		if cw := ansi.StringWidth(l); cw > w {
			t.Fatalf("line %d is %d cells wide on a %d×%d terminal: %q", i, cw, w, h, l)
		}
	}
	for name, v := range map[string]string{
		"frame": frame, "header": m.header.View(), "gauges": m.gauges.View(), "charts": m.charts.View(),
		"402 log": m.log.View(), "alerts": m.alerts.View(), "estimator": m.est.View(), "detail": m.detail.View(),
	} {
		if i := firstForeign(v); i >= 0 {
			t.Fatalf("%s holds a foreign sequence at %d: %q", name, i, v[max(i-20, 0):min(i+40, len(v))])
		}
	}
}
