package tui

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// cellWidth is ansi.StringWidth with a fast path for what the dashboard draws
// almost only: ASCII, box-drawing and braille runes, and SGR colour sequences.
// Grapheme segmentation is the largest cost of a frame; it is only needed for
// wide or combining characters, which take the slow path.
func cellWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			// CSI: ESC [ parameters… final byte in 0x40–0x7e
			if i+1 >= len(s) || s[i+1] != '[' {
				return ansi.StringWidth(s)
			}
			j := i + 2
			for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
				j++
			}
			if j >= len(s) || s[j] < 0x40 || s[j] > 0x7e {
				return ansi.StringWidth(s)
			}
			i = j + 1
		case c < 0x20 || c == 0x7f:
			return ansi.StringWidth(s)
		case c < utf8.RuneSelf:
			n++
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !narrow(r) {
				return ansi.StringWidth(s)
			}
			n++
			i += size
		}
	}
	return n
}

// narrow reports runes known to take one cell and never to combine.
func narrow(r rune) bool {
	switch {
	case r >= 0xa0 && r < 0x300 && r != 0xad: // Latin-1 and Latin Extended, not the soft hyphen
		return true
	case r >= 0x2010 && r <= 0x2027: // dashes, quotes, bullet, ellipsis
		return true
	case r >= 0x2190 && r <= 0x21ff: // arrows
		return true
	case r >= 0x2500 && r <= 0x25fc: // box drawing, blocks, geometric shapes (not the wide ◽◾)
		return true
	case r >= 0x2800 && r <= 0x28ff: // braille (charts)
		return true
	case r == 0x2713 || r == 0x2716 || r == 0x26a0 || r == 0x00d7 || r == 0x221e: // ✓ ✖ ⚠ × ∞
		return true
	}
	return false
}
