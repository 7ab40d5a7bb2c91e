package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key the dashboard honours, in one place.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back                              key.Binding
	Filter, Sort, ChartScope, Focus         key.Binding
	Estimator, Help, Quit                   key.Binding

	// Estimator pane.
	NextField, PrevField, NextOption, PrevOption key.Binding
	Launch, Confirm, Cancel, Queue               key.Binding
}

// DefaultKeyMap returns the standard bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return KeyMap{
		Up:         b([]string{"up", "k"}, "↑/k", "up"),
		Down:       b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:     b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown:   b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:        b([]string{"home", "g"}, "g", "top"),
		Bottom:     b([]string{"end", "G"}, "G", "bottom"),
		Open:       b([]string{"enter"}, "enter", "details"),
		Back:       b([]string{"esc"}, "esc", "back"),
		Filter:     b([]string{"/"}, "/", "filter"),
		Sort:       b([]string{"s"}, "s", "sort use/name"),
		ChartScope: b([]string{"c"}, "c", "chart: selected/all"),
		Focus:      b([]string{"l"}, "l", "focus gauges/402s/alerts"),
		Estimator:  b([]string{"e", "tab"}, "e/tab", "estimator"),
		Help:       b([]string{"?"}, "?", "help"),
		Quit:       b([]string{"q", "ctrl+c"}, "q", "quit"),

		NextField:  b([]string{"down", "tab"}, "↓/tab", "next field"),
		PrevField:  b([]string{"up", "shift+tab"}, "↑/S-tab", "prev field"),
		NextOption: b([]string{"right"}, "→", "next choice"),
		PrevOption: b([]string{"left"}, "←", "prev choice"),
		Launch:     b([]string{"ctrl+s", "enter"}, "enter/ctrl+s", "launch"),
		Confirm:    b([]string{"y"}, "y", "confirm"),
		Cancel:     b([]string{"n", "esc"}, "n/esc", "cancel"),
		Queue:      b([]string{"r"}, "r", "queue for retry"),
	}
}
