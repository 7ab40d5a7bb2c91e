package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestSafeFrameKeepsOnlyWhatLipglossWrites(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain\n\x1b[1;38;5;196mred\x1b[0m", "plain\n\x1b[1;38;5;196mred\x1b[0m"},
		{"a\x1b]2;HACKED\a b", "a b"},
		{"a\x1b]52;c;aGk=\x1b\\b", "ab"},
		{"a\x1b[?1049h\x1b[2J\x1b[Hb", "ab"},
		{"a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"x\x1b]2;unterminated\nnext", "x\nnext"},
		{"lone\x1b\nesc", "lone\nesc"},
		{"c1\u009b2J and \u202eevil\u202c", "c12J and evil"},
		{"del\x7f bel\a nul\x00 cr\r", "del bel nul cr"},
		{"bad\xe9utf8", "badutf8"},
	}
	for _, c := range cases {
		got := safeFrame(c.in)
		if got != c.want {
			t.Errorf("safeFrame(%q) = %q, want %q", c.in, got, c.want)
		}
		if !strings.Contains(c.in, "\n") && ansi.StringWidth(got) > ansi.StringWidth(c.in) {
			t.Errorf("safeFrame(%q) widened the line", c.in)
		}
		if firstForeign(got) >= 0 {
			t.Errorf("safeFrame(%q) = %q still holds a foreign byte", c.in, got)
		}
	}
}
