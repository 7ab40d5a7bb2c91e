package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// pane draws content in a rounded border of exactly w×h cells with the title set
// into the top edge. The focused pane has a thick border, a coloured one and a
// ▶ before its title: the shape and the marker tell focus apart without colour
// (NO_COLOR, monochrome terminals).
func pane(st *Styles, title, content string, w, h int, focused bool) string {
	if w < 4 || h < 2 {
		return ""
	}
	edge := st.Edge
	border := lipgloss.RoundedBorder()
	title = " " + title + " "
	if focused {
		edge = st.EdgeFocus
		border = lipgloss.ThickBorder()
		title = " ▶" + title
	}
	inner := w - 2
	t := truncate(title, max(inner-2, 0))
	top := edge.Render(border.TopLeft+border.Top) + st.PaneTitle.Render(t) +
		edge.Render(strings.Repeat(border.Top, max(inner-1-cellWidth(t), 0))+border.TopRight)
	lines := strings.Split(content, "\n")
	body := make([]string, 0, h-2)
	side := edge.Render(border.Left)
	rside := edge.Render(border.Right)
	for i := 0; i < h-2; i++ {
		l, w := "", 0
		if i < len(lines) {
			l, w = lines[i], cellWidth(lines[i])
			if w > inner {
				l, w = ansi.Truncate(l, inner, "…"), inner
			}
		}
		body = append(body, side+l+strings.Repeat(" ", inner-w)+rside)
	}
	bottom := edge.Render(border.BottomLeft + strings.Repeat(border.Bottom, inner) + border.BottomRight)
	return top + "\n" + strings.Join(body, "\n") + "\n" + bottom
}
