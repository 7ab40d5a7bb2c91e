package tui

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func FuzzCellWidth(f *testing.F) {
	for _, s := range []string{"", "abc", "\x1b[31mred\x1b[0m", "━━╋──┼╳", "⣀⡰⠉", "✓ ok", "▲ high", "✖ OUT", "日本語", "e\u0301", "👍🏽", "\x1b]8;;x\x07", "\x1b[", "a\tb", "…—·"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Fatalf("cellWidth(%q) = %d, ansi says %d", s, got, want)
		}
	})
}

// TestNarrowRunesAgree checks every rune of the fast path against the library.
func TestNarrowRunesAgree(t *testing.T) {
	for r := rune(0); r < 0x3000; r++ {
		if !narrow(r) {
			continue
		}
		if got, want := cellWidth(string(r)), ansi.StringWidth(string(r)); got != want {
			t.Errorf("%U: fast path %d, ansi %d", r, got, want)
		}
	}
}
