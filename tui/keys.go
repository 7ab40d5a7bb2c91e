package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key the dashboard honours, in one place. Each pane lists the
// ones it honours now (ShortHelp, FullHelp below), with the bindings that do
// nothing in its current state disabled, so the footer and the ? screen are
// built from what the keys really do and never lie.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back                              key.Binding
	Filter, SortNext, SortPrev, ChartScope  key.Binding
	Focus, Estimator, Help, Quit, ForceQuit key.Binding
	// Alerts shows the alert list (the newest firing alert selected) where
	// it is not on screen beside the 402 log, and goes back from it.
	Alerts key.Binding

	// Estimator pane.
	NextField, PrevField, NextOption, PrevOption key.Binding
	Launch, Confirm, Cancel, Queue               key.Binding
	// The estimator's retry queue list: select a queued job, cancel it.
	QueuePrev, QueueNext, CancelQueued key.Binding

	// Filter input.
	FilterApply, FilterClear key.Binding
	// The question before quitting with a job running.
	QuitYes, QuitNo key.Binding
}

// DefaultKeyMap returns the standard bindings: vim-style and arrow keys like
// k9s, lazygit and btop.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return KeyMap{
		Up:         b([]string{"up", "k"}, "↑/k", "up"),
		Down:       b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:     b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown:   b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:        b([]string{"home", "g"}, "g/home", "top"),
		Bottom:     b([]string{"end", "G"}, "G/end", "bottom"),
		Open:       b([]string{"enter"}, "enter", "details"),
		Back:       b([]string{"esc"}, "esc", "back"),
		Filter:     b([]string{"/"}, "/", "filter"),
		SortNext:   b([]string{">", "s"}, ">/s", "next sort"),
		SortPrev:   b([]string{"<"}, "<", "previous sort"),
		ChartScope: b([]string{"c"}, "c", "chart: selected/all"),
		Focus:      b([]string{"l"}, "l", "next pane"),
		Alerts:     b([]string{"a"}, "a", "alerts"),
		Estimator:  b([]string{"e", "tab"}, "e", "estimator"),
		Help:       b([]string{"?"}, "?", "help"),
		Quit:       b([]string{"q"}, "q", "quit"),
		ForceQuit:  b([]string{"ctrl+c"}, "ctrl+c", "quit now"),

		NextField:    b([]string{"down", "tab"}, "↓/tab", "next field"),
		PrevField:    b([]string{"up", "shift+tab"}, "↑/S-tab", "prev field"),
		NextOption:   b([]string{"right"}, "→", "next choice"),
		PrevOption:   b([]string{"left"}, "←", "prev choice"),
		Launch:       b([]string{"enter", "ctrl+s"}, "enter", "launch"),
		Confirm:      b([]string{"y"}, "y", "confirm"),
		Cancel:       b([]string{"n", "esc"}, "n/esc", "cancel"),
		Queue:        b([]string{"r"}, "r", "queue for retry"),
		QueuePrev:    b([]string{"["}, "[", "prev queued"),
		QueueNext:    b([]string{"]"}, "]", "next queued"),
		CancelQueued: b([]string{"x"}, "x", "cancel queued job"),

		FilterApply: b([]string{"enter"}, "enter", "keep filter"),
		FilterClear: b([]string{"esc"}, "esc", "clear filter"),
		QuitYes:     b([]string{"y"}, "y", "quit"),
		QuitNo:      b([]string{"n", "esc"}, "n/esc", "stay"),
	}
}

// enabled returns a copy of b switched on or off: the shared key map is never
// changed, each pane decides for its own help.
func enabled(b key.Binding, on bool) key.Binding {
	b.SetEnabled(on)
	return b
}

// navigation is what every scrolling list honours.
func (km *KeyMap) navigation() []key.Binding {
	return []key.Binding{km.Up, km.Down, km.PageUp, km.PageDown, km.Top, km.Bottom}
}

// ShortHelp is the gauge list's keys for the footer.
func (g Gauges) ShortHelp() []key.Binding {
	km := g.km
	if g.editing {
		return []key.Binding{km.FilterApply, km.FilterClear}
	}
	nav := g.cur.navigation(km)
	return []key.Binding{nav[0], nav[1], enabled(km.Open, g.n > 0), km.Estimator,
		km.Filter, km.SortNext, km.Focus}
}

// FullHelp is the gauge list's keys for the ? screen.
func (g Gauges) FullHelp() [][]key.Binding {
	km := g.km
	return [][]key.Binding{g.cur.allNavigation(km),
		{enabled(km.Open, g.n > 0), km.Estimator, km.Filter, enabled(km.Back, g.filter.Value() != ""), km.SortNext, km.SortPrev},
		{enabled(km.ChartScope, g.chartsShown), km.Focus, km.Alerts}}
}

// ShortHelp is the 402 log's keys for the footer: enter shows the selected
// refusal in full, and goes back from there.
func (r RefusalLog) ShortHelp() []key.Binding {
	km := r.km
	nav := r.cur.navigation(km)
	open := enabled(km.Open, len(r.rows) > 0)
	if r.open {
		open = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter/esc", "back to the list"))
		return []key.Binding{nav[0], nav[1], open}
	}
	return []key.Binding{nav[0], nav[1], open, nav[4], km.Focus, km.Back}
}

// FullHelp is the 402 log's keys for the ? screen.
func (r RefusalLog) FullHelp() [][]key.Binding {
	km := r.km
	return [][]key.Binding{r.cur.allNavigation(km), {enabled(km.Open, len(r.rows) > 0), km.Focus, km.Back}}
}

// ShortHelp is the alert list's keys for the footer.
func (a Alerts) ShortHelp() []key.Binding {
	km := a.km
	nav := a.cur.navigation(km) // the shared lifecycle and the scores scroll too
	return []key.Binding{nav[0], nav[1], nav[4], km.Focus, km.Back}
}

// FullHelp is the alert list's keys for the ? screen: on the alerts, a (the
// key that led there) and esc both go back to the workspaces, and the screen
// says so ("a alerts" read as a key to the view already shown).
func (a Alerts) FullHelp() [][]key.Binding {
	km := a.km
	back := key.NewBinding(key.WithKeys(append(km.Alerts.Keys(), km.Back.Keys()...)...),
		key.WithHelp(km.Alerts.Help().Key+"/"+km.Back.Help().Key, "back to workspaces"))
	return [][]key.Binding{a.cur.allNavigation(km), {km.Focus, back}}
}

// pager is the detail view's scroll position as a cursor over its first line.
func (d Detail) pager() listCursor {
	return listCursor{pos: d.top, n: d.maxTop() + 1, rows: max(d.height, 1)}
}

// ShortHelp is the detail view's keys for the footer: the ones that scroll
// only where they would (no pgdn at the end, no ↑ at the top).
func (d Detail) ShortHelp() []key.Binding {
	km := d.km
	c := d.pager()
	nav := c.navigation(km)
	return []key.Binding{nav[0], nav[1], nav[3], nav[4], km.Estimator, km.Back}
}

// FullHelp is the detail view's keys for the ? screen.
func (d Detail) FullHelp() [][]key.Binding {
	km := d.km
	c := d.pager()
	return [][]key.Binding{c.allNavigation(km), {km.Estimator, km.Back}}
}

// ShortHelp is the estimator's keys for the footer, by phase.
func (e Estimator) ShortHelp() []key.Binding {
	km := e.km
	switch {
	case e.askCancel:
		return []key.Binding{km.Confirm, km.Cancel}
	case e.phase == phaseConfirm:
		return []key.Binding{km.Confirm, km.Cancel}
	case e.phase == phaseRunning:
		return []key.Binding{km.Back}
	}
	var out []key.Binding
	if e.canQueue() {
		out = append(out, km.Queue)
	}
	if e.mayCancel() {
		out = append(out, km.CancelQueued)
	}
	out = append(out, km.NextField, km.NextOption, enabled(km.Launch, e.readOnly == ""))
	return append(out, km.Back)
}

// FullHelp is the estimator's keys for the ? screen: the ones that do
// nothing now (no question asked, nothing to queue, an empty queue) are off.
func (e Estimator) FullHelp() [][]key.Binding {
	km := e.km
	asking := e.phase == phaseConfirm || e.askCancel
	queued := len(e.queue) > 1
	return [][]key.Binding{{km.NextField, km.PrevField, km.NextOption, km.PrevOption},
		{enabled(km.Launch, e.readOnly == ""), enabled(km.Confirm, asking), enabled(km.Cancel, asking),
			enabled(km.Queue, e.canQueue()), km.Back},
		{enabled(km.QueuePrev, queued), enabled(km.QueueNext, queued), enabled(km.CancelQueued, e.mayCancel())}}
}
