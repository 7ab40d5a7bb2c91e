package tui

import "time"

// common is the small value every component embeds: the theme, the key map and
// the clock, shared by pointer so copying a component stays cheap.
type common struct {
	st  *Styles
	km  *KeyMap
	now func() time.Time
}
