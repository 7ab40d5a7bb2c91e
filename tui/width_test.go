package tui

import (
	"math"
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

// Used and cap figures are cut to three significant digits, never rounded up,
// so they agree with the floored percent beside them.
func TestCompactCredits(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 999: "999", 1000: "1.00k", 9_999: "9.99k", 37_485: "37.4k", 849_600: "849k",
		999_999: "999k", 1_000_000: "1.00M", 1_659_999: "1.65M", 3_000_000: "3.00M",
		12_000_000: "12.0M", 999_999_999: "999M", 2_500_000_000: "2.50G", -1_659_999: "-1.65M",
		999_999_999_999: "999G", 1_000_000_000_000: "1.00T", 12_345_678_901_234_567: "12.3P", math.MaxInt64: "9.22E", -math.MaxInt64: "-9.22E",
	} {
		if got := compactCredits(n); got != want {
			t.Errorf("compactCredits(%d) = %q, want %q", n, got, want)
		}
	}
}
