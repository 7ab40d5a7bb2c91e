package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
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
	rest := a.bodyH - a.gaugesH
	a.showCharts = rest >= 12
	if a.showCharts {
		a.chartsH = max(rest*9/20, 6)
	}
	a.bottomH = rest - a.chartsH
	a.alertsSeparate = m.width >= sideBySide
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
	inner := m.width - 2
	m.header.SetWidth(m.width)
	m.help.Width = m.width
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
		switch m.mode {
		case modeDashboard:
			if a.showCharts {
				m.charts.Refresh(l, m.gauges.Selected())
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
		parts = append(parts, pane(m.st, "Help · ? or esc to close", m.helpView(), m.width, a.bodyH, true))
	case m.feed.Ledger == nil:
		parts = append(parts, pane(m.st, "Workspaces", m.waitingView(), m.width, a.bodyH, false))
	default:
		parts = append(parts, pane(m.st, m.gauges.Title(), m.gauges.View(), m.width, a.gaugesH, m.mode == modeDashboard && m.focus == focusGauges))
		below := a.bodyH - a.gaugesH
		switch m.mode {
		case modeDetail:
			parts = append(parts, pane(m.st, m.detail.Title(), m.detail.View(), m.width, below, true))
		case modeEstimator:
			parts = append(parts, pane(m.st, "Estimator · price a job, pre-flight it, launch it", m.est.View(), m.width, below, true))
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

// footer is the key help for the current mode, or the newest alert while it is
// fresh, or a notice.
func (m *Model) footer() string {
	if al, ok := m.alerts.Banner(); ok {
		look := m.st.Level(al.Level)
		return look.Style.Inherit(m.st.Banner).Render(fit(" "+look.Symbol+" "+al.Text+" ", m.width))
	}
	if m.notice != "" && m.opt.Now().Before(m.noticeUntil) {
		return m.st.Warn.Render(fit(m.notice, m.width))
	}
	return fit(m.help.ShortHelpView(m.shortHelp()), m.width)
}

func (m *Model) shortHelp() []key.Binding {
	km := m.km
	switch m.mode {
	case modeHelp:
		return []key.Binding{km.Help, km.Quit}
	case modeEstimator:
		return []key.Binding{km.NextField, km.NextOption, km.Launch, km.Back}
	case modeDetail:
		return []key.Binding{km.Up, km.Down, km.Estimator, km.Back, km.Quit}
	}
	return []key.Binding{km.Up, km.Down, km.Open, km.Estimator, km.Filter, km.Sort, km.Focus, km.Help, km.Quit}
}

func (m *Model) helpView() string {
	km := m.km
	groups := [][]key.Binding{
		{km.Up, km.Down, km.PageUp, km.PageDown, km.Top, km.Bottom},
		{km.Open, km.Back, km.Filter, km.Sort, km.ChartScope, km.Focus},
		{km.Estimator, km.NextField, km.NextOption, km.Launch, km.Confirm, km.Queue},
		{km.Help, km.Quit},
	}
	meaning := [...]string{
		"no allocation set: absolute credits only",
		"below the first alert threshold",
		"past the first threshold (50 % unless set)",
		"past the second (75 %)",
		"past the last (90 %)",
		"allocation or usage limit used up, or the API refusing with 402",
	}
	legend := []string{"", "Levels (a word and a symbol each, so they read without colour):"}
	for i, l := range m.st.Levels {
		legend = append(legend, "  "+l.Style.Render(pad(l.Symbol+" "+l.Word, 9))+meaning[i])
	}
	legend = append(legend, "",
		"Bars: ━ used, ─ left, ┼/╋ alert thresholds, ╳ usage limit. Percent is of the allocation plus recharges.",
		"burn: credits per hour over the last hour (at least 5 min). pace: burn ÷ the rate that lasts to the period's end.",
		"runs out: when credits end at that burn; \"not this period\" means they last to the reset.",
		"Every number is what Redis holds for this billing period; the stream only adds to it.")
	return m.help.FullHelpView(groups) + strings.Join(legend, "\n")
}
