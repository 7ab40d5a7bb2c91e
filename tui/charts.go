package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/NimbleMarkets/ntcharts/linechart"
	tslc "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	"github.com/NimbleMarkets/ntcharts/sparkline"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"mavtop/model"
)

// Chart window: credits per minute over the last hour (the ledger's burn history).
const (
	chartStep   = time.Minute
	chartPoints = int(model.History / chartStep)
)

// Charts shows burn over time (credits per minute, a time-series line chart) and
// credits by endpoint (a bar chart), for the selected workspace or for all.
type Charts struct {
	common
	line     tslc.Model
	spark    sparkline.Model // instead of the line chart when it would be too flat to read
	bars     barchart.Model
	scopeAll bool
	ws       string
	// project is the selection's project whose usage limit sets its row's
	// level (model.Verdict.Project), when its burn is kept: the row's
	// figures are that project's, so the charts are too, and their titles
	// say "hooli-ml/training"; "" for the workspace's own
	project string
	idleWS  string // the selection, when it spent nothing in the last hour: the line shows all
	series  []float64
	eps     []model.EndpointTotal
	period  string // the billing period the endpoint credits are of ("2026-11", as the header names it)
	// usedByPending: endpoint credits are still being read (shown as loading)
	usedByPending bool
	// unsplit is what the scope has used this period when no credits of it
	// are known by endpoint (a workspace known from its counter alone): the
	// bars are empty, yet credits were spent
	unsplit int64
	epView  string
	view    string
	drawn   chartKey
	drawnAt time.Time // wall clock: pacing, not data
	every   time.Duration
	width   int
	height  int
	lineW   int
	barsW   int
}

// NewCharts returns empty charts.
func NewCharts(c common, every time.Duration) Charts {
	ch := Charts{common: c, every: every}
	ch.line = tslc.New(10, 3,
		tslc.WithStyle(c.st.ChartLine),
		tslc.WithAxesStyles(c.st.ChartAxis, c.st.ChartLabel),
		tslc.WithXLabelFormatter(clockLabel),
		tslc.WithYLabelFormatter(func(_ int, v float64) string { return compact(v) }),
	)
	ch.spark = sparkline.New(10, 2, sparkline.WithStyle(c.st.ChartLine))
	ch.bars = barchart.New(10, 3, barchart.WithHorizontalBars(), barchart.WithNoAxis(),
		barchart.WithNoAutoBarWidth(), barchart.WithBarWidth(1), barchart.WithBarGap(0),
		barchart.WithStyles(c.st.ChartAxis, c.st.ChartLabel))
	return ch
}

// clockLabel labels the time axis in local wall-clock minutes.
var clockLabel linechart.LabelFormatter = func(_ int, v float64) string {
	return time.Unix(int64(v), 0).Local().Format("15:04")
}

// SetSize splits the space: the line chart on the left, endpoints on the right.
func (c *Charts) SetSize(w, h int) {
	c.width, c.height = w, h
	c.barsW = 0
	if w >= 60 {
		c.barsW = max(w*2/5, 28)
	}
	c.lineW = w - c.barsW
	if c.barsW > 0 {
		c.lineW-- // gap
	}
	c.line.Resize(max(c.lineW, 10), max(h-1, 3))
	c.spark.Resize(max(c.lineW, 10), max(h-2, 1))
}

// sparkOnly: below this many rows an axis and labels leave no room for the line.
const sparkBelow = 6

func (c *Charts) sparkOnly() bool { return c.height < sparkBelow }

// ScopeAll reports whether the charts show every workspace.
func (c Charts) ScopeAll() bool { return c.scopeAll }

// Update toggles the scope between the selected workspace and all.
func (c Charts) Update(msg tea.Msg) (Charts, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, c.km.ChartScope) {
		c.scopeAll = !c.scopeAll
	}
	return c, nil
}

// chartKey is what the drawn charts depend on.
type chartKey struct {
	ws      string
	w, h    int
	version uint64 // the ledger's
	minute  int64  // the time axis moves on even without data
	all     bool   // the scope: every workspace
	picks   uint64 // the user's moves of the selection (Gauges.Picks)
}

// DefaultChartRedraw is how often the charts are redrawn for new data: they move
// by the minute, and drawing them is the most expensive part of a frame.
const DefaultChartRedraw = time.Second

// Refresh redraws both charts from the ledger for the selected workspace when
// their data changed, at most once per redraw interval unless the user acted:
// changed the scope, the size, or moved the selection (picks counts those
// moves, Gauges.Picks). A selection that moves because the rows reordered
// under a cursor riding the top row waits for the next redraw like new data:
// sorted by last event at 1,000 events/s the top row changes every frame, and
// redrawing the charts for each was most of the frame (5.7 ms of a 200×50
// frame at 100k workspaces, 3.5 ms at 1k).
func (c *Charts) Refresh(l *model.Ledger, selected string, picks uint64) {
	ws := selected
	if c.scopeAll {
		ws = ""
	}
	now := c.now()
	key := chartKey{ws, c.width, c.height, l.Version(), now.Unix() / 60, c.scopeAll, picks}
	switch {
	case key == c.drawn:
		return
	case key.w == c.drawn.w && key.h == c.drawn.h && key.all == c.drawn.all && key.picks == c.drawn.picks &&
		time.Since(c.drawnAt) < c.every:
		return // new data or rows reordered: it waits for the next redraw
	}
	c.ws = ws
	c.drawn, c.drawnAt = key, time.Now()
	c.project = ""
	if v, ok := l.Verdict(c.ws); ok && c.ws != "" && v.Project != "" {
		// the row's figures are the project's (its usage limit sets the
		// level): the charts beside them are of it too
		var kept bool
		if c.series, kept = l.ProjectSeries(c.ws, v.Project, now, chartStep, chartPoints, c.series[:0]); kept {
			c.project = v.Project
		}
	}
	if c.project == "" {
		c.series = l.Series(c.ws, now, chartStep, chartPoints, c.series[:0])
	}
	c.idleWS = ""
	if c.ws != "" && allZero(c.series) {
		// the selection spent nothing in the last hour (the default one,
		// the worst, is often a workspace refused with 402 since): the line
		// shows every workspace's burn instead, and its title says why
		c.idleWS = c.ws
		if c.project != "" {
			c.idleWS += "/" + c.project
		}
		c.series = l.Series("", now, chartStep, chartPoints, c.series[:0])
	}
	c.unsplit = 0
	if c.project != "" {
		c.eps = nil
		for _, p := range l.Projects(c.ws) {
			if p.Name == c.project {
				c.eps = p.Endpoints
				if len(c.eps) == 0 {
					c.unsplit = p.Used
				}
			}
		}
	} else {
		c.eps = l.Endpoints(c.ws)
		if len(c.eps) == 0 {
			c.unsplit = usedBy(l, c.ws)
		}
	}
	c.period = l.Period().Key
	c.usedByPending = l.UsedByPending()
	c.drawLine(now)
	if c.barsW > 0 {
		c.epView = c.endpointView()
	}
	c.view = c.compose()
}

// noBars says why there are no bars: nothing spent this period, or credits
// spent none of which are known by endpoint (the counter says what was used,
// no event or used_by field says where), in the words that fit.
func (c *Charts) noBars() string {
	if c.unsplit == 0 {
		return "no credits spent yet"
	}
	if long := credits(c.unsplit) + " credits, by endpoint unknown"; cellWidth(long) <= c.barsW {
		return long
	}
	return "by endpoint unknown"
}

// usedBy is what ws (every workspace for "") has used this period by its
// counters.
func usedBy(l *model.Ledger, ws string) int64 {
	if ws != "" {
		s, _ := l.Summary(ws)
		return s.Used
	}
	var n int64
	for _, s := range l.Summaries(nil) {
		n = model.AddCredits(n, s.Used) // a sum of counters: saturated, never wrapped
	}
	return n
}

func (c *Charts) drawLine(now time.Time) {
	if c.lineW < 10 || c.height < 2 {
		return
	}
	top := 1.0
	for _, v := range c.series {
		top = max(top, v)
	}
	if c.sparkOnly() {
		c.spark.Clear()
		c.spark.SetMax(top)
		// the last lineW minutes, one column each
		c.spark.PushAll(c.series[max(len(c.series)-c.lineW, 0):])
		c.spark.Draw()
		return
	}
	c.line.ClearAllData()
	start := now.Truncate(chartStep).Add(-time.Duration(len(c.series)-1) * chartStep)
	c.line.SetTimeRange(start, now)
	c.line.SetViewTimeRange(start, now)
	c.line.SetYRange(0, top*1.1)
	c.line.SetViewYRange(0, top*1.1)
	for i, v := range c.series {
		c.line.Push(tslc.TimePoint{Time: start.Add(time.Duration(i) * chartStep), Value: v})
	}
	c.line.DrawBraille()
}

// scopeName is the charts' workspace for a title of w cells whose other
// words take rest cells: whole when it fits, else in the one short form
// every pane draws it in at this size (nameFor), so names differing at the
// end stay apart and a name never reads two ways on one screen; "all
// workspaces" for all (titleIn shortens the other words first).
func (c *Charts) scopeName(ws string, w, rest int) string {
	if ws == "" {
		return "all workspaces"
	}
	if c.project == "" || ws != c.ws {
		return nameFor(ws, w-rest, nameWidth(c.width+2))
	}
	// the project whose figures the row shows, whole after its workspace
	// (titleIn takes a shorter head for it to fit): a third cut form of
	// its name beside the row's "/tra…" would read as another project
	project := "/" + model.Sanitize(c.project)
	return nameFor(ws, w-rest-cellWidth(project), nameWidth(c.width+2)) + project
}

// titleIn picks the first of heads (a title's words before its scope, the
// longest first) with which the scope fits whole in w cells: the scope is
// what a title must not lose ("· all" read as no scope at all: all of what?).
// With none, the last head, and "all" for all workspaces (the pane title's
// word), the only place a scope is shortened.
func (c *Charts) titleIn(ws string, w int, heads ...string) (head, scope string) {
	for _, head = range heads {
		if scope = c.scopeName(ws, w, cellWidth(head)); cellWidth(head+scope) <= w {
			return head, scope
		}
	}
	if ws == "" {
		scope = "all"
	}
	return head, scope
}

// allZero reports whether no credits were spent in any step of series.
func allZero(series []float64) bool {
	for _, v := range series {
		if v != 0 {
			return false
		}
	}
	return true
}

// View returns the charts drawn by the last Refresh.
func (c Charts) View() string { return c.view }

// compose draws the two charts side by side with their titles.
func (c *Charts) compose() string {
	if c.width <= 0 || c.height <= 0 {
		return ""
	}
	last := 0.0
	if n := len(c.series); n > 0 {
		last = c.series[n-1]
	}
	// the figure first, then whose it is, then why all are shown: a title
	// too wide for the chart loses its end, never this minute's burn (at 80
	// columns the note before it cut the title at "this min…")
	figure := " · this min " + compact(last) + " · "
	ws := c.ws
	if c.idleWS != "" {
		ws = "" // the line shows all workspaces
	}
	// the line is the last hour's, the bars beside it the period's: each
	// title says which, so "none this hour" beside bars of credits reads right
	heads := []string{"Burn last hour, credits/min" + figure, "Burn, credits/min" + figure, "Credits/min" + figure}
	if c.idleWS != "" && cellWidth(heads[0]+"all workspaces · "+model.Sanitize(c.idleWS)+" spent none this hour") > c.lineW {
		heads = heads[1:] // the note says the hour: it comes before the longest head
	}
	head, scope := c.titleIn(ws, c.lineW, heads...)
	title, _, _ := strings.Cut(head, " · ")
	if c.idleWS != "" {
		// all workspaces, then why, with the name as every pane draws it, or
		// not at all: a cut note ("all · umbr…") reads as another scope
		note := " · " + model.Sanitize(c.idleWS) + " spent none this hour"
		if left := c.lineW - cellWidth(head+scope+note); left < 0 {
			note = " · " + nameFor(c.idleWS, cellWidth(model.Sanitize(c.idleWS))+left, nameWidth(c.width+2)) + " spent none this hour"
		}
		if cellWidth(head+scope+note) <= c.lineW {
			scope += note
		}
	}
	lineTitle := c.st.PaneTitle.Render(title) + c.st.Dim.Render(figure+scope)
	left := fit(lineTitle, c.lineW)
	idle := allZero(c.series)
	switch {
	case idle:
		left += "\n" + c.st.Dim.Render(fit("no credits spent in the last hour", c.lineW))
	case c.lineW >= 10 && c.sparkOnly():
		top := 0.0
		for _, v := range c.series {
			top = max(top, v)
		}
		left += "\n" + c.spark.View() + "\n" + c.st.Dim.Render(fit(fmt.Sprintf("last %d min, peak %s/min", min(len(c.series), c.lineW), compact(top)), c.lineW))
	case c.lineW >= 10:
		left += "\n" + c.line.View()
	}
	left = c.st.Renderer.NewStyle().Width(c.lineW).MaxHeight(c.height).Render(left)
	if c.barsW == 0 {
		return left
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, left, " ", c.epView)
}

// endpointView draws (in Refresh) credits by endpoint: label, bar (ntcharts),
// value. The title names the billing period the credits are of (beside a
// burn line of the last hour they read as if of that hour), then whose; the
// name is whole or in its one short form at this size, as in the table; a
// title too narrow for that form says "Endpoints", then leaves the period
// out (the header names it), rather than cut the name into a third form.
func (c *Charts) endpointView() string {
	head, scope := c.titleIn(c.ws, c.barsW, "By endpoint this period ("+c.period+") · ", "By endpoint this period · ",
		"Endpoints this period · ", "This period · ", "Endpoints · ")
	word := "Endpoints"
	for _, w := range []string{"By endpoint", "This period"} {
		if strings.HasPrefix(head, w) {
			word = w
		}
	}
	period := strings.TrimSuffix(strings.TrimPrefix(head, word), " · ") // " this period (2026-11)", " this period (2026-11)", " this period" or none
	title := c.st.PaneTitle.Render(word) + c.st.Dim.Render(period+" · "+scope)
	if c.usedByPending {
		return fit(title, c.barsW) + "\n" + c.st.Dim.Render(fit("loading…", c.barsW))
	}
	rows := min(len(c.eps), c.height-1)
	if rows <= 0 {
		return fit(title, c.barsW) + "\n" + c.st.Dim.Render(fit(c.noBars(), c.barsW))
	}
	labelW, valueW := 0, 0
	for _, e := range c.eps[:rows] {
		labelW = max(labelW, cellWidth(e.Endpoint))
		valueW = max(valueW, len(credits(e.Credits)))
	}
	labelW = min(labelW, 16)
	barW := max(c.barsW-labelW-valueW-2, 4)
	data := make([]barchart.BarData, rows)
	labels := make([]string, rows)
	values := make([]string, rows)
	for i, e := range c.eps[:rows] {
		data[i] = barchart.BarData{Label: e.Endpoint, Values: []barchart.BarValue{{Name: e.Endpoint, Value: float64(e.Credits), Style: c.st.Bar}}}
		labels[i] = pad(truncate(e.Endpoint, labelW), labelW)
		values[i] = align(credits(e.Credits), valueW, true)
	}
	c.bars.Resize(barW, rows)
	c.bars.Clear()
	c.bars.PushAll(data)
	c.bars.SetMax(float64(max(c.eps[0].Credits, 1)))
	c.bars.Draw()
	body := lipgloss.JoinHorizontal(lipgloss.Top,
		strings.Join(labels, "\n"), " ", c.bars.View(), " ", strings.Join(values, "\n"))
	return fit(title, c.barsW) + "\n" + body
}
