package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/feed"
	"mavtop/model"
)

// TestMergedKeysActAsTyped: Bubble Tea v1 reads printable keys that arrive
// together as one KeyRunes message. "/acme" typed fast opened nothing (it is
// no "/"); now "/" opens the filter and "acme" is its text, "jj" moves down
// two rows, and a paste stays one message of text.
func TestMergedKeysActAsTyped(t *testing.T) {
	m, hub := newApp(t, 100, 30, Options{})
	at := testNow.Add(-time.Minute).UnixMilli()
	var evs []model.Event
	for i, ws := range []string{"acme", "globex", "initech", "hooli"} {
		evs = append(evs, model.Event{TS: at, Workspace: ws, Endpoint: "/responses", Credits: int64(400 - 100*i), Status: 200})
	}
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs})
	m = pump(t, m)

	typed := update(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/acme")})
	if !typed.gauges.Editing() || typed.gauges.Filter() != "acme" {
		t.Fatalf(`"/acme" in one message: filter open %v with %q, want open with "acme"`, typed.gauges.Editing(), typed.gauges.Filter())
	}
	if g := typed.gauges; g.n != 1 || g.Selected() != "acme" {
		t.Errorf(`"/acme": %d rows, selected %q; want acme alone`, g.n, g.Selected())
	}

	top := m.gauges.cur.pos
	moved := update(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jj")})
	if moved.gauges.cur.pos != top+2 {
		t.Errorf(`"jj" in one message: cursor %d, want %d`, moved.gauges.cur.pos, top+2)
	}

	pasted := update(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/acme"), Paste: true})
	if pasted.gauges.Editing() {
		t.Errorf("a paste of %q opened the filter: a paste is text, not keys", "/acme")
	}
}
