package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// safeFrame is the last line of defence between untrusted text and a viewer's
// terminal. Text from Redis, the API and SSH peers is sanitised where it enters
// (model.Sanitize) and again where panes draw it; whatever slipped through both
// is dropped here, so that a frame holds only what lipgloss writes: printable
// UTF-8, newlines and SGR colour sequences (ESC [ digits ; : m). Anything else —
// another escape sequence (OSC title or clipboard, alternate screen, clear),
// a C0 or C1 control, DEL, a bidi control, a byte that is not UTF-8 — is
// removed, which never widens a line. Then a sequence whose width terminals
// disagree on is drawn as one they agree on (agreedWidths). It allocates only
// when it changes s.
func safeFrame(s string) string {
	return agreedWidths(dropForeign(s))
}

// dropForeign removes what safeFrame says is foreign to a frame.
func dropForeign(s string) string {
	i := firstForeign(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i+foreignLen(s[i:]):]
		i = firstForeign(s)
	}
	b.WriteString(s)
	return b.String()
}

// sgrLen returns the length of the SGR sequence s starts with, 0 if none.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for j := 2; j < len(s); j++ {
		switch c := s[j]; {
		case c >= '0' && c <= '9', c == ';', c == ':':
		case c == 'm':
			return j + 1
		default:
			return 0
		}
	}
	return 0
}

// firstForeign returns the index of the first byte safeFrame removes, or -1.
func firstForeign(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			n := sgrLen(s[i:])
			if n == 0 {
				return i
			}
			i += n
		case c == '\n':
			i++
		case c < 0x20 || c == 0x7f:
			return i
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r <= 0x9f || isBidiControl(r) {
				return i
			}
			i += size
		}
	}
	return -1
}

// foreignLen is how many bytes to drop at the start of s (which starts with a
// foreign byte): a whole escape sequence when it is one, else one rune.
func foreignLen(s string) int {
	if s[0] == 0x1b {
		return escapeLen(s)
	}
	if s[0] < utf8.RuneSelf {
		return 1
	}
	_, size := utf8.DecodeRuneInString(s)
	return size
}

// escapeLen returns the length of the escape sequence s starts with (ESC
// first): CSI up to its final byte, OSC/DCS/APC/PM/SOS up to BEL or ST, else
// ESC and the byte after it. An unterminated string sequence runs to the end
// of the line, so its payload is never shown either.
func escapeLen(s string) int {
	if len(s) < 2 {
		return 1
	}
	switch s[1] {
	case '[':
		for j := 2; j < len(s); j++ {
			if c := s[j]; c >= 0x40 && c <= 0x7e {
				return j + 1
			} else if c < 0x20 || c > 0x7e {
				return j // broken: drop what was read, look at c afresh
			}
		}
		return len(s)
	case ']', 'P', '_', '^', 'X':
		for j := 2; j < len(s); j++ {
			switch s[j] {
			case 0x07:
				return j + 1
			case '\n':
				return j
			case 0x1b:
				if j+1 < len(s) && s[j+1] == '\\' {
					return j + 2
				}
			}
		}
		return len(s)
	}
	if s[1] < 0x20 || s[1] >= 0x7f {
		return 1 // keep a newline or a rune that follows a lone ESC
	}
	return 2
}

// isBidiControl reports the characters that reorder text around them.
func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// agreedWidths draws every grapheme cluster of s whose width terminals
// disagree on as one they agree on, padded with spaces to the width the layout
// measured it at (cellWidth), so that no line of a frame is wider or narrower
// on screen than the layout made it, whatever a producer wrote. Measured in
// tmux 3.3a (cursor_x after printf), where uniseg, and so the layout, counts 2:
// "⚠️" (U+26A0 U+FE0F) is 1 cell, "👍🏽" (a skin tone) 4, "🏳️‍🌈" 1; other
// terminals draw them 2. They agree on a base's own width: 1 for a base whose
// default presentation is text (⚠ ❤ ☺ 🏳, East Asian Width neutral), 2 for an
// emoji (👍 👩‍💻, flags, 中). So, inside a cluster: a variation selector and a
// skin tone are dropped, and after a base one cell wide, a zero width joiner
// and what it joins too (🏳️‍🌈 is drawn 🏳 and a space). The stream keeps the
// bytes as written (model.Sanitize); this is the screen's choice only.
func agreedWidths(s string) string {
	i := firstDisputed(s)
	if i < 0 {
		return s
	}
	// from the start of the line: a selector is judged with its base
	if nl := strings.LastIndexByte(s[:i], '\n'); nl >= 0 {
		i = nl + 1
	} else {
		i = 0
	}
	return model.RewriteClusters(s, i, func(b *strings.Builder, cluster string) {
		if firstDisputed(cluster) < 0 {
			b.WriteString(cluster)
			return
		}
		drawn := agreedCluster(cluster)
		b.WriteString(drawn)
		if pad := ansi.StringWidth(cluster) - ansi.StringWidth(drawn); pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
	})
}

// agreedCluster returns the part of one grapheme cluster every terminal draws
// the same width: its base, its combining marks and, after a base two cells
// wide, what a joiner joins (a flag's tags included); never a variation
// selector or a skin tone.
func agreedCluster(cluster string) string {
	_, n := utf8.DecodeRuneInString(cluster)
	narrowBase := ansi.StringWidth(cluster[:n]) < 2
	var b strings.Builder
	b.WriteString(cluster[:n])
	for i := n; i < len(cluster); {
		r, size := utf8.DecodeRuneInString(cluster[i:])
		switch {
		case disputed(r) && r != '\u200d':
		case r == '\u200d' && narrowBase:
			return b.String()
		default:
			b.WriteString(cluster[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstDisputed returns the index of the first rune of s that can make
// terminals disagree on its cluster's width, or -1.
func firstDisputed(s string) int {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if disputed(r) {
			return i
		}
		i += size
	}
	return -1
}

// disputed reports the runes that change a cluster's width in some terminals
// and not in others: variation selectors, skin tones and the zero width joiner.
func disputed(r rune) bool {
	return r >= 0xfe00 && r <= 0xfe0f || r >= 0x1f3fb && r <= 0x1f3ff || r == '\u200d'
}
