package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"mavtop/model"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func testCommon() common {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	st := DefaultStyles(r)
	km := DefaultKeyMap()
	return common{st: &st, km: &km, now: func() time.Time { return testNow }}
}

// testLedger has workspaces at every level: a (10 %), b (60 %), c (80 %), d (95 %), e (exhausted), f (no allocation).
func testLedger(t testing.TB) *model.Ledger {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	used := map[string]int64{"a": 100, "b": 600, "c": 800, "d": 950, "e": 1000, "f": 42}
	for ws, n := range used {
		if ws != "f" {
			l.SetSettings(ws, model.Settings{Allocation: 1000}, testNow.UnixMilli())
		}
		l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: n, Status: 200})
	}
	l.TakeCrossings()
	return l
}

// namedKeys are the keys press takes by name; any other string is typed.
var namedKeys = map[string]tea.KeyType{
	"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
	"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
	"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
}

// press is the key press s names (a binding's key: "up", "pgdown", "q").
func press(s string) tea.KeyMsg {
	if k, ok := namedKeys[s]; ok {
		return tea.KeyMsg{Type: k}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// detailOf is the detail view of ws in l, w×h cells, refreshed from l.
func detailOf(c common, l *model.Ledger, ws string, w, h int) Detail {
	d := NewDetail(c)
	d.SetSize(w, h)
	d.Open(ws)
	d.Refresh(l)
	return d
}
