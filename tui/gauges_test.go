package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestGaugesOrderAndKeys(t *testing.T) {
	l := testLedger(t)
	g := NewGauges(testCommon())
	g.SetSize(100, 10)
	g.Refresh(l)
	if got := g.Selected(); got != "e" {
		t.Fatalf("first row %q, want the exhausted workspace e", got)
	}
	steps := []struct {
		key  string
		want string
	}{
		{"down", "d"}, {"j", "c"}, {"down", "b"}, {"down", "a"}, {"down", "f"}, {"down", "f"},
		{"up", "a"}, {"g", "e"}, {"G", "f"}, {"s", "f"}, {"g", "a"}, {"s", "a"},
	}
	for _, s := range steps {
		g, _ = g.Update(press(s.key))
		g.Refresh(l)
		if got := g.Selected(); got != s.want {
			t.Fatalf("after %q: selected %q, want %q", s.key, got, s.want)
		}
	}
	_, cmd := g.Update(press("enter"))
	if cmd == nil {
		t.Fatal("enter gave no command")
	}
	if msg, ok := cmd().(OpenDetailMsg); !ok || msg.Workspace != "a" {
		t.Fatalf("enter: %#v", cmd())
	}
}

func TestGaugesFilter(t *testing.T) {
	l := testLedger(t)
	g := NewGauges(testCommon())
	g.SetSize(100, 10)
	g.Refresh(l)
	g, _ = g.Update(press("/"))
	if !g.Editing() {
		t.Fatal("/ did not open the filter")
	}
	g, _ = g.Update(press("c"))
	g, _ = g.Update(press("enter"))
	g.Refresh(l)
	if g.Editing() || g.Selected() != "c" || !strings.Contains(g.Title(), "1 of 6") {
		t.Fatalf("filter c: editing %v selected %q title %q", g.Editing(), g.Selected(), g.Title())
	}
	g, _ = g.Update(press("esc"))
	g.Refresh(l)
	if g.Filter() != "" || !strings.Contains(g.Title(), "(6)") {
		t.Fatalf("esc did not clear: %q", g.Title())
	}
}

func TestGaugeRowsSayLevelsInWords(t *testing.T) {
	l := testLedger(t)
	g := NewGauges(testCommon())
	g.SetSize(120, 10)
	g.Refresh(l)
	view := ansi.Strip(g.View())
	for _, want := range []string{"✖ OUT", "▲ crit", "▲ high", "▲ warn", "✓ ok", "· unset", "95.0 % used", "10 % used", "950/1.00k", "no allocation set"} {
		if !strings.Contains(view, want) {
			t.Errorf("gauges lack %q:\n%s", want, view)
		}
	}
	for _, line := range strings.Split(view, "\n") {
		if w := cellWidth(line); w > 120 {
			t.Errorf("line wider than 120 (%d): %q", w, line)
		}
	}
}

func TestGaugeBarTicks(t *testing.T) {
	st := testCommon().st
	got := ansi.Strip(gaugeBar(20, 12, 20, 0, []int{50, 75, 90}, st.Bar, st))
	if got != "━━━━━━━━━━╋━───┼──┼─" {
		t.Fatalf("bar %q", got)
	}
	// 90.3 % on 16 cells: rounding alone would leave the 90 % tick unpassed
	if got := ansi.Strip(gaugeBar(16, 903, 1000, 0, []int{50, 75, 90}, st.Bar, st)); got != "━━━━━━━━╋━━━╋━╋─" {
		t.Fatalf("bar at 90.3 %% %q", got)
	}
	if got := ansi.Strip(gaugeBar(16, 899, 1000, 0, []int{50, 75, 90}, st.Bar, st)); got != "━━━━━━━━╋━━━╋━┼─" {
		t.Fatalf("bar at 89.9 %% %q", got)
	}
	got = ansi.Strip(gaugeBar(20, 0, 20, 10, []int{50, 75, 90}, st.Bar, st))
	if got != "──────────╳────┼──┼─" {
		t.Fatalf("bar with limit %q", got)
	}
}

// TestGaugeBarWordsAreWholeAtEveryWidth: where a row has no bar (no
// allocation, a counter unreadable) the words in its place were cut to
// "no allocation…" and "counter unrea…" at 100 columns; a shorter form is
// shown whole instead.
func TestGaugeBarWordsAreWholeAtEveryWidth(t *testing.T) {
	l := testLedger(t)
	l.MarkUnreadable(map[string]string{"b": `counter "used:b" cannot be read`})
	for _, w := range []int{80, 90, 100, 110, 120, 150, 200} {
		g := NewGauges(testCommon())
		g.SetSize(w, 10)
		g.Refresh(l)
		view := ansi.Strip(g.View())
		if strings.Contains(view, "unrea…") || strings.Contains(view, "alloc…") || strings.Contains(view, "allocation…") {
			t.Errorf("width %d: a cut word in a bar's place:\n%s", w, view)
		}
		var unset, unknown bool
		for _, line := range strings.Split(view, "\n") {
			unset = unset || strings.Contains(line, "· unset") && strings.Contains(line, " no alloc")
			unknown = unknown || strings.Contains(line, "? unkn") && strings.Contains(line, " unreadable")
		}
		if !unset || !unknown {
			t.Errorf("width %d: no whole 'no alloc…' (%v) or 'unreadable' (%v) form:\n%s", w, unset, unknown, view)
		}
	}
}
