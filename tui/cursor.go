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
