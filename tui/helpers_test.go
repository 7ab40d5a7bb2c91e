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

func press(s string) tea.KeyMsg {
	switch s {
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}
