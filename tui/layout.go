package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"mavtop/model"
)

// Below these sizes the dashboard asks for a larger terminal instead of drawing
// something unreadable.
const (
	minWidth  = 60
	minHeight = 16
	// sideBySide is the width from which the 402 log and the alerts share a row.
	sideBySide = 150
)

// layoutKey is what the children's sizes depend on.
type layoutKey struct {
	w, h int
	a    areas
}

// areas are the computed pane sizes (outer, with borders).
type areas struct {
	gaugesH        int
	chartsH        int
	bottomH        int
	logW, alertsW  int
	showCharts     bool
	bodyH          int
	alertsSeparate bool
}

func (m *Model) areas() areas {
	var a areas
	a.bodyH = max(m.height-2, 0) // header and footer lines
	rows := 1
	if m.feed.Ledger != nil {
		rows = max(m.feed.Ledger.Len(), 1)
	}
	want := rows + 1 + 2 // header row + borders
	a.gaugesH = min(want, max(a.bodyH/2, 5))
	if m.mode == modeEstimator || m.mode == modeDetail {
		// the pane below is what the operator is working in: it gets the room
		a.gaugesH = min(want, max(a.bodyH/4, 4))
	}
	rest := a.bodyH - a.gaugesH
	// the 402 log keeps a header, three rows and the selected one's advice;
	// the charts get what is left when that is enough to read them
	const minBottom = 8
	a.chartsH = min(max(rest*9/20, 5), rest-minBottom)
	a.alertsSeparate = m.width >= sideBySide
	// the alerts, opened where they share the row with the 402 log (a, l),
	// take the charts' room too: they are what the operator is reading
	a.showCharts = a.chartsH >= 5 && (a.alertsSeparate || m.focus != focusAlerts || m.mode != modeDashboard)
	if !a.showCharts {
		a.chartsH = 0
	}
	a.bottomH = rest - a.chartsH
	if a.alertsSeparate {
		a.alertsW = m.width * 2 / 5
		a.logW = m.width - a.alertsW
	} else {
		a.logW = m.width
	}
	return a
}

// layout hands every child its size: only the root knows the terminal. It does
// the work only when the areas changed (a resize, more workspaces).
func (m *Model) layout() {
	if m.width <= 0 {
		return
	}
	a := m.areas()
	key := layoutKey{m.width, m.height, a}
	if key == m.laidOut {
		return
	}
	m.laidOut = key
	m.gauges.chartsShown = a.showCharts
	inner := m.width - 2
	m.header.SetWidth(m.width)
	m.help.Width = m.width
	m.helpTop = min(m.helpTop, max(len(m.helpLines(inner))-(a.bodyH-2), 0))
	nw := nameWidth(m.width) // one width for names in every pane
	m.gauges.nameW, m.log.nameW, m.alerts.nameW, m.est.nameW = nw, nw, nw, nw
	m.gauges.SetSize(inner, a.gaugesH-2)
	m.charts.SetSize(inner, max(a.chartsH-2, 0))
	m.log.SetSize(a.logW-2, a.bottomH-2)
	if a.alertsSeparate {
		m.alerts.SetSize(a.alertsW-2, a.bottomH-2)
	} else {
		m.alerts.SetSize(inner, a.bottomH-2)
	}
	below := a.bodyH - a.gaugesH
	m.est.SetSize(inner, below-2)
	m.detail.SetSize(inner, below-2)
}

// render refreshes the children from the ledger and composes the frame.
func (m *Model) render() {
	defer m.noteFirstGauges()
	m.dirty = false
	m.renderedAt = time.Now()
	if m.width <= 0 || m.height <= 0 {
		m.frame = ""
		return
	}
	if m.width < minWidth || m.height < minHeight {
		m.frame = m.st.Warn.Render(fit("mavtop needs at least 60×16; this terminal is "+strconv.Itoa(m.width)+"×"+strconv.Itoa(m.height)+".", m.width))
		return
	}
	m.layout() // the gauge pane grows with the number of workspaces
	a := m.areas()
	if l := m.feed.Ledger; l != nil {
		m.gauges.Refresh(l)
		if v := m.opt.Source; v != nil {
			// the hub keeps the order listed, so its fresh copies come sorted
			v.Keep(m.gauges.kept())
			if m.gauges.listed() {
				v.Keep(model.ByName) // the filter's matches are found by name
			}
		}
		switch m.mode {
		case modeDashboard:
			if a.showCharts {
				m.charts.Refresh(l, m.gauges.Selected(), m.gauges.Picks())
			}
			m.log.Refresh(l)
		case modeDetail:
			m.detail.Refresh(l)
		case modeEstimator:
			m.est.Refresh(l)
		}
	}
	parts := []string{m.header.View()}
	switch {
	case m.mode == modeHelp:
		parts = append(parts, pane(m.st, "Help · ? or esc to close · ↑/↓ scroll", m.helpView(m.width-2, a.bodyH-2), m.width, a.bodyH, true))
	case m.feed.Ledger == nil:
		parts = append(parts, pane(m.st, "Workspaces", m.waitingView(), m.width, a.bodyH, false))
	default:
		parts = append(parts, pane(m.st, m.gauges.Title(), m.gauges.View(), m.width, a.gaugesH, m.mode == modeDashboard && m.focus == focusGauges))
		below := a.bodyH - a.gaugesH
		switch m.mode {
		case modeDetail:
			parts = append(parts, pane(m.st, m.detail.Title(), m.detail.View(), m.width, below, true))
		case modeEstimator:
			parts = append(parts, pane(m.st, m.est.Title(), m.est.View(), m.width, below, true))
		default:
			if a.showCharts {
				parts = append(parts, pane(m.st, "Charts · c: selected/all", m.charts.View(), m.width, a.chartsH, false))
			}
			parts = append(parts, m.bottomView(a))
		}
	}
	parts = append(parts, m.footer())
	m.frame = safeFrame(strings.Join(parts, "\n"))
	if m.ring {
		m.frame = "\a" + m.frame // zero width: the terminal rings, nothing moves
		m.ring = false
	}
}

// noteFirstGauges calls Options.FirstGauges (once: New wraps it) when the
// frame just composed had a ledger to draw from (the gauges, or the warning
// of a terminal too small for them).
func (m *Model) noteFirstGauges() {
	if m.feed.Ledger != nil && m.opt.FirstGauges != nil {
		m.opt.FirstGauges()
	}
}

// bottomView is the 402 log and the alerts: side by side when wide, else the
// focused one of the two.
func (m *Model) bottomView(a areas) string {
	logPane := func(w int) string {
		return pane(m.st, m.log.Title(), m.log.View(), w, a.bottomH, m.focus == focusLog)
	}
	alertPane := func(w int) string {
		return pane(m.st, m.alerts.Title(), m.alerts.View(), w, a.bottomH, m.focus == focusAlerts)
	}
	if a.alertsSeparate {
		return lipgloss.JoinHorizontal(lipgloss.Top, logPane(a.logW), alertPane(a.alertsW))
	}
	if m.focus == focusAlerts {
		return alertPane(m.width)
	}
	return logPane(m.width)
}

func (m *Model) waitingView() string {
	lines := []string{"Waiting for the first snapshot from Redis…"}
	if e := m.header.conn.Err; e != nil {
		lines = append(lines, "", "Last error: "+e.Error(), "Retrying with backoff; the header shows each attempt.")
	}
	if m.opt.Demo && m.opt.DemoHint != "" {
		lines = append(lines, "", m.opt.DemoHint)
	}
	wrap := m.st.Renderer.NewStyle().Width(max(m.width-2, 1))
	for i, l := range lines {
		lines[i] = m.st.Dim.Render(wrap.Render(l))
	}
	return strings.Join(lines, "\n")
}

// footer is one line: on the left the question being asked, the newest
// alert while it is fresh, a notice, or the focused pane's keys; on the right,
// always, how to get help and how to quit.
func (m *Model) footer() string {
	right := m.help.ShortHelpView(m.globalHelp())
	leftW := max(m.width-cellWidth(right)-1, 0)
	var left string
	switch al, ok := m.alerts.Banner(); {
	case m.askQuit:
		right = m.help.ShortHelpView([]key.Binding{m.km.QuitYes, m.km.QuitNo})
		leftW = max(m.width-cellWidth(right)-1, 0)
		left = m.st.Bad.Render(fit(" "+m.quitQuestion()+" ", leftW))
	case ok:
		// the banner is the alert itself: it keeps the line's room, the key
		// to the list comes back with the keys
		right = m.help.ShortHelpView([]key.Binding{m.km.Help, m.km.Quit})
		leftW = max(m.width-cellWidth(right)-1, 0)
		look := m.st.Level(al.Level)
		text := bannerText(model.Sanitize(al.Text), al.Workspace, leftW-3-cellWidth(look.Symbol), m.alerts.names())
		left = look.Style.Inherit(m.st.Banner).Render(fit(" "+look.Symbol+" "+text+" ", leftW))
	case m.notice != "" && m.opt.Now().Before(m.noticeUntil):
		left = m.st.Warn.Render(fit(m.notice, leftW))
	default:
		// bubbles' help drops the keys that do not fit, whole, and says "…":
		// a binding is never cut mid-word.
		h := m.help
		h.Width = leftW
		left = fit(h.ShortHelpView(m.paneHelp()), leftW)
	}
	return left + strings.Repeat(" ", max(m.width-cellWidth(left)-cellWidth(right), 0)) + right
}

// globalHelp is the right end of the footer: help and quit, which work from
// everywhere except while typing (then only ctrl+c quits).
func (m *Model) globalHelp() []key.Binding {
	switch {
	case m.mode == modeDashboard && m.gauges.Editing():
		return []key.Binding{m.km.ForceQuit}
	case m.typing():
		return []key.Binding{m.km.Help, m.km.ForceQuit}
	}
	if m.mode == modeDashboard && m.feed.Ledger != nil && !m.areas().alertsSeparate && m.focus != focusAlerts {
		// the alerts are not on screen: the key to them is always in sight
		// (on them, the pane's own keys say "esc back", once)
		return []key.Binding{m.km.Alerts, m.km.Help, m.km.Quit}
	}
	return []key.Binding{m.km.Help, m.km.Quit}
}

// helpPager is the ? screen's scroll position as a cursor over its first line.
func (m *Model) helpPager() listCursor {
	lines := len(m.helpLines(m.width - 2))
	return listCursor{pos: m.helpTop, n: max(lines-(m.areas().bodyH-2), 0) + 1, rows: max(m.areas().bodyH-2, 1)}
}

// paneHelp is the focused pane's own short help.
func (m *Model) paneHelp() []key.Binding {
	km := m.km
	switch m.mode {
	case modeHelp:
		c := m.helpPager()
		nav := c.navigation(km)
		return []key.Binding{nav[0], nav[1], km.Back}
	case modeEstimator:
		return m.est.ShortHelp()
	case modeDetail:
		return m.detail.ShortHelp()
	}
	if m.feed.Ledger == nil {
		return nil
	}
	switch m.focus {
	case focusLog:
		return m.log.ShortHelp()
	case focusAlerts:
		return m.alerts.ShortHelp()
	}
	return m.gauges.ShortHelp()
}

// paneFullHelp is the focused pane's keys for the ? screen.
func (m *Model) paneFullHelp() (string, [][]key.Binding) {
	switch m.helpFor {
	case modeEstimator:
		return "Estimator", m.est.FullHelp()
	case modeDetail:
		return "Workspace details", m.detail.FullHelp()
	}
	switch m.focus {
	case focusLog:
		return "402 refusals", m.log.FullHelp()
	case focusAlerts:
		return "Alerts", m.alerts.FullHelp()
	}
	return "Workspaces", m.gauges.FullHelp()
}

// helpView is the ? screen, scrolled to helpTop.
func (m *Model) helpView(w, h int) string {
	lines := m.helpLines(w)
	from := min(m.helpTop, len(lines))
	return strings.Join(lines[from:min(from+h, len(lines))], "\n")
}

// helpLines are the keys of the pane ? was pressed in, then the keys that
// work everywhere, then the legend, wrapped to w cells.
func (m *Model) helpLines(w int) []string {
	km := m.km
	name, groups := m.paneFullHelp()
	var lines []string
	lines = append(lines, m.st.PaneTitle.Render(name))
	lines = append(lines, m.bindingLines(groups, w)...)
	lines = append(lines, "", m.st.PaneTitle.Render("Everywhere"))
	lines = append(lines, m.bindingLines([][]key.Binding{{km.Help, km.Quit, km.ForceQuit}}, w)...)
	meaning := [...]string{
		"no allocation set: absolute credits only",
		"used less than its first alert threshold",
		"used its first alert threshold or more (50 % unless set)",
		"used its second alert threshold or more (75 % unless set); with auto-recharge topping the allocation up, its last one too (living on top-ups)",
		"used its third and last alert threshold or more (90 % unless set); with auto-recharge, of its usage limit",
		"cap used up, or a credits_exhausted 402 newer than the last credit added",
		"a figure its level needs cannot be read from Redis: its used or recharged counter (no integer ≥ 0), its settings, or the budget or credits of a project with a usage limit (the detail view says which)",
	}
	lines = append(lines, "")
	lines = append(lines, wrapLines(m.st.PaneTitle.Render("Levels")+" (a word and a symbol each, so they read without colour):", w, 2)...)
	for i, l := range m.st.Levels {
		lines = append(lines, wrapLines("  "+l.Style.Render(pad(l.Symbol+" "+l.Word, 9))+meaning[i], w, 11)...)
	}
	lines = append(lines, "")
	for _, p := range []string{
		"Bars: ━ used, ─ left, ┼/╋ alert thresholds, ╳ usage limit. Percent is of the effective cap: the allocation plus recharges (an alert's \"cap\"), or the usage limit when smaller; \"99.9 % /training\" (\"99.9 %/\" when narrow): project training's usage limit sets the level, at that percent, and the row's bar, credits (\"lim\") and run-out are of that limit.",
		"burn: credits per hour over the last 15 min (at least 5 min), one large charge left out as a step; 0 once idle. pace: burn ÷ the rate that lasts to the period's end.",
		"runs out: when credits end at that burn; \"out now\" the row is OUT; \"limit reached\" its usage limit refuses its calls; \"<1 charge left\" what is left cannot cover one typical charge; \"top-up in 12 min\" when the auto-recharge adds credits (they do not run out before); \"idle\" no charge for 4 usual intervals (1–15 min); \"few charges\" too little spending in the window to forecast (under 3 charges, within 5 min); \"lasts period\" they last to the reset.",
		"Percents are floored, never rounded up: 84.96 % reads 84 %, so a percent shown at or past a threshold means the usage is; from 90 % one decimal (99.9 %), and 100 % only once the cap is used up.",
		"Header: \"✖ 3 ws firing\" (\"3 workspaces firing\" where wide) counts the workspaces with an alert firing now (a workspace past 50, 75 and 90 % is one; the feed is added while an alert of its own fires: \"feed stale\", Redis unreachable or read late, or \"feed reset\", \"feed drift\" and the like, its counters re-read because Redis changed under it), with the worst one's symbol; the alerts pane (a) lists each alert and counts them (\"18 alerts firing\"), as the command mavtop alerts does. ev/s or ev/min: events read from the stream per second or minute; lag: how far the screen is behind the stream's newest entry (idle when none came for 2 s).",
		"Units: credits in full or k (thousand), M (million), G (10^9), T (10^12), P (10^15), E (10^18); burn in credits per hour (/h), the burn chart in credits per minute.",
		"Every number is what Redis holds for this billing period; the stream only adds to it.",
	} {
		lines = append(lines, wrapLines(p, w, 0)...)
	}
	return lines
}

// bindingLines lays enabled bindings out in as many columns as fit in w.
func (m *Model) bindingLines(groups [][]key.Binding, w int) []string {
	var cells []string
	keyW := 0
	for _, g := range groups {
		for _, b := range g {
			if b.Enabled() {
				keyW = max(keyW, cellWidth(b.Help().Key))
			}
		}
	}
	cellW := 0
	for _, g := range groups {
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			c := "  " + m.st.Bold.Render(pad(b.Help().Key, keyW)) + "  " + m.st.Help.Render(b.Help().Desc)
			cells = append(cells, c)
			cellW = max(cellW, cellWidth(c))
		}
	}
	cols := max(w/(cellW+1), 1)
	rows := (len(cells) + cols - 1) / cols
	out := make([]string, 0, rows)
	for r := 0; r < rows; r++ {
		var line strings.Builder
		for c := 0; c < cols; c++ {
			if i := c*rows + r; i < len(cells) {
				line.WriteString(pad(cells[i], cellW+1))
			}
		}
		out = append(out, fit(strings.TrimRight(line.String(), " "), w))
	}
	return out
}

// wrapLines wraps s to w cells, indenting continuation lines by indent.
func wrapLines(s string, w, indent int) []string {
	if cellWidth(s) <= w {
		return []string{s}
	}
	lead := len(s) - len(strings.TrimLeft(s, " "))
	words := strings.Split(s[lead:], " ")
	var out []string
	line := strings.Repeat(" ", lead)
	for _, word := range words {
		switch {
		case strings.TrimSpace(line) == "":
			line += word
		case cellWidth(line)+1+cellWidth(word) <= w:
			line += " " + word
		default:
			out = append(out, fit(line, w))
			line = strings.Repeat(" ", indent) + word
		}
	}
	return append(out, fit(line, w))
}
