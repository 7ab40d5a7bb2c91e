package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"mavtop/feed"
	"mavtop/model"
)

// longWS is a workspace name longer than any size gives a name column.
const longWS = "acme-research-team-alpha-billing-east"

// longNameApp is a dashboard at w×h whose newest 402 is from a long-named
// workspace, with a request id and a message longer than any row has room for.
func longNameApp(t *testing.T, w, h int) Model {
	t.Helper()
	m, hub := newApp(t, w, h, Options{})
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
			Settings: map[string]model.Settings{longWS: {Allocation: 1000}, "ok-ws": {Allocation: 10_000}}}})
	at := func(min int) int64 { return testNow.Add(-time.Duration(min) * time.Minute).UnixMilli() }
	evs := []model.Event{
		{TS: at(20), Workspace: "ok-ws", Endpoint: "/responses", Credits: 300, Status: 200},
		{TS: at(10), Workspace: longWS, Endpoint: "/responses", Credits: 1000, Status: 200},
		{ID: "1-0", TS: at(5), Workspace: "ok-ws", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted,
			Msg: "older", Req: "req_older"},
		{ID: "2-0", TS: at(1), Workspace: longWS, Project: "trials", Endpoint: "/focus-groups", Status: 402,
			Code: model.CodeCreditsExhausted, Req: "req_01HZX4K7Q9ABCDEFGH",
			Msg: "You have run out of credits. Upgrade your plan, add credits in Settings > Billing, or wait for your credits to reset."},
	}
	hub.Handle(&feed.BatchMsg{Gen: 2, Events: evs})
	return pump(t, m)
}

// words is a screen's text without borders, its whitespace collapsed, so a
// wrapped message reads as one line.
func words(s string) string {
	s = strings.NewReplacer("│", " ", "┃", " ").Replace(ansi.Strip(s))
	return strings.Join(strings.Fields(s), " ")
}

// TestRefusalFactsAtEverySize: at every size the selected 402's code and
// request id are on screen whole under the list, and enter shows it alone
// with the workspace, project, request id and message whole; esc goes back
// to the list; the workspace's detail view lists it with its request id and
// message whole.
func TestRefusalFactsAtEverySize(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}, {200, 50}} {
		w, h := sz[0], sz[1]
		m := longNameApp(t, w, h)
		s := view(m)
		for _, want := range []string{"credits_exhausted", "req_01HZX4K7Q9ABCDEFGH"} {
			if !strings.Contains(s, want) {
				t.Errorf("%dx%d: no %q under the 402 list:\n%s", w, h, want, s)
			}
		}
		m = update(t, m, press("l"), press("enter"))
		m.render()
		if !m.log.Opened() {
			t.Fatalf("%dx%d: enter in the 402 log did not open the refusal", w, h)
		}
		got := words(m.log.View())
		for _, want := range []string{longWS + "/trials", "credits_exhausted", "req_01HZX4K7Q9ABCDEFGH",
			`"You have run out of credits. Upgrade your plan, add credits in Settings > Billing, or wait for your credits to reset."`} {
			if !strings.Contains(got, want) {
				t.Errorf("%dx%d: the opened refusal lacks %q:\n%s", w, h, want, m.log.View())
			}
		}
		for i, l := range strings.Split(view(m), "\n") {
			if n := ansi.StringWidth(l); n > w {
				t.Errorf("%dx%d: line %d is %d cells wide", w, h, i, n)
			}
		}
		m = update(t, m, press("esc"))
		if m.log.Opened() || m.focus != focusLog {
			t.Errorf("%dx%d: esc: opened %v focus %d, want the list with the log focused", w, h, m.log.Opened(), m.focus)
		}
		// the workspace's detail lists its 402s with the request id and the
		// message whole (the message wrapped under it when the line is full)
		m = update(t, m, OpenDetailMsg{Workspace: longWS})
		m.render()
		var all []string
		for _, l := range m.detail.lines {
			all = append(all, fit(l, m.detail.width))
		}
		got = words(strings.Join(all, "\n"))
		for _, want := range []string{"credits_exhausted req_01HZX4K7Q9ABCDEFGH",
			`"You have run out of credits. Upgrade your plan, add credits in Settings > Billing, or wait for your credits to reset."`} {
			if !strings.Contains(got, want) {
				t.Errorf("%dx%d: the detail view lacks %q:\n%s", w, h, want, strings.Join(all, "\n"))
			}
		}
	}
}

// TestNamesShortenedAlikeInEveryPane: a long name reads the same in the
// gauges, the 402 log and the alerts at every size, in the width every pane
// gives names, which grows with the terminal and not with the names.
func TestNamesShortenedAlikeInEveryPane(t *testing.T) {
	prev := 0
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}, {200, 50}} {
		w, h := sz[0], sz[1]
		m := longNameApp(t, w, h)
		nw := nameWidth(w)
		if nw < prev {
			t.Errorf("%d columns: names get %d cells, fewer than %d at a smaller size", w, nw, prev)
		}
		prev = nw
		short := shortName(longWS, nw)
		if !strings.Contains(short, "…") || !strings.HasSuffix(short, "east") || ansi.StringWidth(short) != nw {
			t.Fatalf("%d columns: %q is not %s shortened in the middle to %d cells", w, short, longWS, nw)
		}
		for name, v := range map[string]string{"gauges": m.gauges.View(), "log": m.log.View(), "alerts": m.alerts.View()} {
			if s := ansi.Strip(v); !strings.Contains(s, short) {
				t.Errorf("%dx%d: %s lacks %q:\n%s", w, h, name, short, s)
			}
		}
		// the gauges give every cell to content: the name, the level, the
		// bar and the columns fill the pane
		nameW, barW, cols := m.gauges.layout()
		used := markerW + nameW + 1 + levelW + 1 + barW
		for _, c := range cols {
			used += c.width + 1
		}
		if nameW != nw || used != m.gauges.width {
			t.Errorf("%dx%d: gauges: name %d cells (want %d), %d of %d cells used", w, h, nameW, nw, used, m.gauges.width)
		}
	}
	if got := nameWidth(200); got < 32 {
		t.Errorf("names get %d cells at 200 columns", got)
	}
}

// TestFooterNeverOffersDeadKeys: in every pane, at its top, at its bottom and
// empty, a navigation key the footer offers moves what is on screen, and one
// it does not offer does not.
func TestFooterNeverOffersDeadKeys(t *testing.T) {
	km := DefaultKeyMap()
	navs := km.navigation()
	isNav := func(b key.Binding) bool {
		for _, n := range navs {
			if n.Help().Key == b.Help().Key {
				return true
			}
		}
		return false
	}
	detail := func(m Model) Model {
		m = update(t, m, press("enter"), OpenDetailMsg{Workspace: "out-ws"})
		m.render()
		return m
	}
	states := map[string]func() Model{
		"gauges top":    func() Model { return busyApp(t, 100, 30) },
		"gauges bottom": func() Model { return update(t, busyApp(t, 100, 30), press("G")) },
		"log top":       func() Model { return update(t, busyApp(t, 100, 30), press("l")) },
		"log bottom":    func() Model { return update(t, busyApp(t, 100, 30), press("l"), press("G")) },
		"log opened":    func() Model { return update(t, busyApp(t, 100, 30), press("l"), press("enter")) },
		"log empty": func() Model {
			m, _ := newApp(t, 100, 30, Options{})
			return update(t, m, press("l"))
		},
		"alerts top":    func() Model { return update(t, busyApp(t, 100, 30), press("l"), press("l")) },
		"alerts bottom": func() Model { return update(t, busyApp(t, 100, 30), press("l"), press("l"), press("G")) },
		"detail top":    func() Model { return detail(busyApp(t, 60, 16)) },
		"detail bottom": func() Model { return update(t, detail(busyApp(t, 60, 16)), press("G")) },
		"help top":      func() Model { return update(t, busyApp(t, 60, 16), press("?")) },
		"help bottom":   func() Model { return update(t, busyApp(t, 60, 16), press("?"), press("G")) },
		"help fits":     func() Model { return update(t, busyApp(t, 200, 50), press("?")) },
	}
	for name, state := range states {
		t.Run(name, func(t *testing.T) {
			m := state()
			m.render()
			before := view(m)
			offered := map[string]bool{}
			for _, b := range m.paneHelp() {
				if isNav(b) {
					offered[b.Help().Key] = b.Enabled()
				}
			}
			for _, n := range navs {
				after := update(t, m, press(n.Keys()[0]))
				after.render()
				moved := view(after) != before
				if on, listed := offered[n.Help().Key]; listed && on != moved {
					t.Errorf("%s: footer offers %q: %v, but the key moves the view: %v", name, n.Help().Key, on, moved)
				}
			}
		})
	}
}
