package tui

import (
	"math/bits"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"mavtop/model"
)

// Bar glyphs: a heavy line for what is used, a light one for what is left, and
// crosses at the alert thresholds so they read without colour.
const (
	barUsed      = "━"
	barLeft      = "─"
	tickUsed     = "╋"
	tickLeft     = "┼"
	limitMarker  = "╳"
	barUsedRune  = '━'
	barLeftRune  = '─'
	tickUsedRune = '╋'
	tickLeftRune = '┼'
	limitRune    = '╳'
)

// gaugeBar draws a width-cell bar for used of cap with ticks at thresholds (percent)
// and, when 0 < limit < cap, a marker where the usage limit stops requests.
func gaugeBar(width int, used, cap, limit int64, thresholds []int, fill lipgloss.Style, st *Styles) string {
	if width <= 0 || cap <= 0 {
		return ""
	}
	cells := make([]rune, width)
	filled := cellsOf(used, cap, width)
	if used > 0 && filled == 0 {
		filled = 1 // any use shows
	}
	// A threshold the usage has reached is drawn as passed, whatever the cell
	// rounding says: 90.3 % must not show its 90 % tick as still ahead.
	for _, t := range thresholds {
		if model.Reached(used, cap, t) {
			filled = max(filled, min(int(int64(t)*int64(width)/100), width-1)+1)
		}
	}
	for i := range cells {
		if i < filled {
			cells[i] = barUsedRune
		} else {
			cells[i] = barLeftRune
		}
	}
	for _, t := range thresholds {
		i := min(int(int64(t)*int64(width)/100), width-1)
		if i < filled {
			cells[i] = tickUsedRune
		} else {
			cells[i] = tickLeftRune
		}
	}
	if limit > 0 && limit < cap {
		cells[min(cellsOf(limit, cap, width), width-1)] = limitRune
	}
	// Two styled runs: the used part in the level's colour, the rest dim.
	var b strings.Builder
	b.WriteString(fill.Render(string(cells[:filled])))
	b.WriteString(st.BarEmpty.Render(string(cells[filled:])))
	return b.String()
}

// cellsOf is the cells of a width-cell bar that n of capCredits fills, the
// fraction clamped to [0, 1] and the product in 128 bits: min(used, cap)×width
// wrapped for a counter near 2^63 and a negative used (a wrapped ledger)
// sliced the bar at [:-92233720368547756], a panic that ended the dashboard
// (hostile11). capCredits > 0.
func cellsOf(n, capCredits int64, width int) int {
	if n <= 0 || width <= 0 {
		return 0
	}
	if n >= capCredits {
		return width
	}
	hi, lo := bits.Mul64(uint64(n), uint64(width)) // hi < capCredits: n < capCredits
	q, _ := bits.Div64(hi, lo, uint64(capCredits))
	return int(q)
}
