package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// pad fills s with spaces to width cells (never cuts).
func pad(s string, width int) string {
	if w := cellWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// align pads s to width on the left (right-aligned) or right.
func align(s string, width int, right bool) string {
	w := cellWidth(s)
	if w >= width {
		return truncate(s, width)
	}
	if right {
		return strings.Repeat(" ", width-w) + s
	}
	return s + strings.Repeat(" ", width-w)
}

// truncate cuts s (which may hold ANSI styles) to width cells, marking the cut.
func truncate(s string, width int) string {
	if cellWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// fit truncates every line of s to width cells.
func fit(s string, width int) string {
	if !strings.Contains(s, "\n") {
		return truncate(s, width)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = truncate(l, width)
	}
	return strings.Join(lines, "\n")
}

// shorten fits a name into width cells keeping both ends (acme-res…team-alpha):
// names that differ only at the end, as generated ids and team suffixes do,
// stay distinguishable. The end gets the larger half.
func shorten(s string, width int) string {
	w := cellWidth(s)
	if w <= width {
		return s
	}
	if width < 5 {
		return truncate(s, width)
	}
	tail := (width - 1 + 1) / 2
	head := width - 1 - tail
	return ansi.Truncate(s, head, "") + "…" + ansi.TruncateLeft(s, w-tail, "")
}
