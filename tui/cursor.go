package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// listCursor is the selection and scroll position of a list showing `rows` of
// `n` items; every list pane shares it.
type listCursor struct {
	pos, offset int
	n, rows     int
}

func (c *listCursor) setLen(n int) {
	c.n = n
	c.clamp()
}

func (c *listCursor) setRows(rows int) {
	c.rows = max(rows, 1)
	c.clamp()
}

func (c *listCursor) move(d int) {
	c.pos += d
	c.clamp()
}

func (c *listCursor) clamp() {
	c.pos = max(min(c.pos, c.n-1), 0)
	if c.pos < c.offset {
		c.offset = c.pos
	}
	if c.pos >= c.offset+c.rows {
		c.offset = c.pos - c.rows + 1
	}
	c.offset = max(min(c.offset, c.n-c.rows), 0)
}

// window returns the range of items on screen, [from, to).
func (c *listCursor) window() (from, to int) { return c.offset, min(c.offset+c.rows, c.n) }

// handle moves the cursor for navigation keys and the mouse wheel; it reports
// whether msg was one of them.
func (c *listCursor) handle(msg tea.Msg, km *KeyMap) bool {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, km.Up):
			c.move(-1)
		case key.Matches(msg, km.Down):
			c.move(1)
		case key.Matches(msg, km.PageUp):
			c.move(-c.rows)
		case key.Matches(msg, km.PageDown):
			c.move(c.rows)
		case key.Matches(msg, km.Top):
			c.move(-c.n)
		case key.Matches(msg, km.Bottom):
			c.move(c.n)
		default:
			return false
		}
		return true
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			c.move(-1)
		case tea.MouseButtonWheelDown:
			c.move(1)
		default:
			return false
		}
		return true
	}
	return false
}

// navigation is the keys that scroll this list, in KeyMap.navigation's order,
// each enabled only where it moves the cursor: up, page up and top not at the
// top, down, page down and bottom not at the bottom, none in a list of one.
// Help built from it never offers a key that does nothing.
func (c *listCursor) navigation(km *KeyMap) []key.Binding {
	up, down := c.pos > 0, c.pos < c.n-1
	return []key.Binding{enabled(km.Up, up), enabled(km.Down, down), enabled(km.PageUp, up), enabled(km.PageDown, down),
		enabled(km.Top, up), enabled(km.Bottom, down)}
}

// allNavigation is the keys that scroll this list for the ? screen, which
// lists what the pane honours wherever the cursor is: all of them when the
// list has more than one row, none when it has nothing to scroll.
func (c *listCursor) allNavigation(km *KeyMap) []key.Binding {
	nav := km.navigation()
	for i := range nav {
		nav[i] = enabled(nav[i], c.n > 1)
	}
	return nav
}
