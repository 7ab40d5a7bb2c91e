package model

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Untrusted text (stream fields, hash fields, settings, HTTP bodies, SSH user
// names) reaches terminals, logs and metric labels. One rule makes it safe for
// all of them, applied where the text enters and again where it is drawn:
//
//   - a C0 control character (U+0000–U+001F, ESC included) is shown as its
//     control picture (ESC as ␛, LF as ␊), DEL as ␡, TAB as a space: a
//     terminal never sees it, a reader still sees that it was there;
//   - a C1 control character (U+0080–U+009F, among them the 8-bit CSI and
//     OSC introducers) and a byte that is not UTF-8 become U+FFFD;
//   - a format character (Unicode category Cf: bidi embeddings, overrides and
//     isolates, zero-width characters, the soft hyphen, tag characters) and a
//     line or paragraph separator are removed or made a space, so that text
//     cannot reorder or hide what is drawn beside it;
//   - grapheme clusters stay whole: inside a cluster that starts with a
//     printable character, a zero width joiner between two parts ("👩‍💻"), a
//     variation selector ("⚠️"), a skin-tone modifier ("👍🏽") and, after a
//     black flag, the tag characters of a subdivision flag are kept, so the
//     message reads as the API wrote it; the dashboard measures its width by
//     grapheme (uniseg). Alone, or after nothing they can join, they are
//     removed as the format characters they are (a tag character can hide
//     text; a lone joiner or selector draws nothing).
//
// The result holds only printable UTF-8, on one line, and never an escape
// sequence.

// Sanitize returns s with the rule above applied. It allocates only when s
// needs a change, so it is cheap to call at drawing time.
func Sanitize(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	// from the start of the cluster holding i: a joiner is judged by what
	// it joins
	out := RewriteClusters(s, clusterStart(s, i), writeCluster)
	if out == s {
		return s // every joiner and selector was in a cluster it belongs to
	}
	return out
}

// RewriteClusters returns s[:from], then every grapheme cluster of s[from:]
// (uniseg's segmentation) as write writes it to b: the one walk over clusters
// that Sanitize and the screen's width rule (tui) share. from must be the
// start of a cluster.
func RewriteClusters(s string, from int, write func(b *strings.Builder, cluster string)) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:from])
	rest, state := s[from:], -1
	for len(rest) > 0 {
		var cluster string
		cluster, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		write(&b, cluster)
	}
	return b.String()
}

// clusterStart returns the start of the grapheme cluster of s holding byte i.
func clusterStart(s string, i int) int {
	at, rest, state := 0, s, -1
	for len(rest) > 0 {
		var cluster string
		cluster, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if at+len(cluster) > i {
			return at
		}
		at += len(cluster)
	}
	return at
}

// writeCluster writes one grapheme cluster by the rule above: its first rune
// printable, its joiners, selectors, modifiers (and a flag's tags) are kept;
// every other rune goes through the one-rune rule.
func writeCluster(b *strings.Builder, cluster string) {
	first, size := utf8.DecodeRuneInString(cluster)
	base := size < len(cluster) && first >= 0x20 && first != 0x7f && !(first >= 0x80 && first <= 0x9f) &&
		first != utf8.RuneError && !unicode.Is(unicode.Cf, first) && !widthAmbiguous(first) && !unicode.IsSpace(first)
	for i := 0; i < len(cluster); {
		r, n := utf8.DecodeRuneInString(cluster[i:])
		if base && i > 0 && joins(r, first, i+n < len(cluster)) {
			b.WriteString(cluster[i : i+n])
		} else {
			writeRune(b, cluster[i:i+n], r, n)
		}
		i += n
	}
}

// joins reports whether r, inside a cluster that starts with first, is part
// of the character drawn: a joiner with something after it to join, a
// variation selector, a skin tone, or a tag of a subdivision flag (🏴…).
func joins(r, first rune, more bool) bool {
	switch {
	case r == '\u200d':
		return more
	case widthAmbiguous(r):
		return true
	case r >= 0xe0020 && r <= 0xe007f:
		return first == 0x1f3f4
	}
	return false
}

// writeRune writes one rune (its bytes s, size n) by the one-rune rule.
func writeRune(b *strings.Builder, s string, r rune, n int) {
	switch {
	case n == 1 && r < utf8.RuneSelf:
		writeASCII(b, byte(r))
	case r == utf8.RuneError && n == 1, r >= 0x80 && r <= 0x9f:
		b.WriteRune(utf8.RuneError)
	case r == '\u2028' || r == '\u2029':
		b.WriteByte(' ')
	case unicode.Is(unicode.Cf, r), widthAmbiguous(r):
		// dropped: invisible by design, dangerous by reordering, or a
		// modifier with nothing to modify
	default:
		b.WriteString(s)
	}
}

// IsClean reports whether Sanitize would return s unchanged.
func IsClean(s string) bool { return firstUnsafe(s) < 0 || Sanitize(s) == s }

// SanitizeMax is Sanitize, then Truncate to max bytes. truncated reports a cut.
func SanitizeMax(s string, max int) (clean string, truncated bool) {
	if len(s) > 4*max+64 {
		// Do not sanitise megabytes to keep kilobytes: the cut is a cut anyway.
		s, truncated = s[:4*max+64], true
	}
	clean = Sanitize(s)
	if len(clean) > max {
		return Truncate(clean, max), true
	}
	return clean, truncated
}

// TruncatedMark ends a value that was cut to its limit, so a reader knows the
// producer sent more.
const TruncatedMark = "…[truncated]"

// Truncate cuts s to at most max bytes on a rune boundary, ending it with
// TruncatedMark (or as much of it as fits). s shorter than max is returned as is.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	mark := TruncatedMark
	if len(mark) > max {
		mark = ""
	}
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func writeASCII(b *strings.Builder, c byte) {
	switch {
	case c == '\t':
		b.WriteByte(' ')
	case c < 0x20:
		b.WriteRune(0x2400 + rune(c)) // ␀ … ␟, ␛ for ESC
	case c == 0x7f:
		b.WriteRune('\u2421') // ␡
	default:
		b.WriteByte(c)
	}
}

// firstUnsafe returns the index of the first byte Sanitize would change, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r <= 0x9f || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) || widthAmbiguous(r) {
			return i
		}
		i += size
	}
	return -1
}

// widthAmbiguous reports the modifiers that change a character's width in
// some terminals and not in others: variation selectors and skin tones.
func widthAmbiguous(r rune) bool {
	return r >= 0xfe00 && r <= 0xfe0f || r >= 0x1f3fb && r <= 0x1f3ff
}
