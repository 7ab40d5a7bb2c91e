package tui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mavtop/model"
)

// Gauges is the workspace list: one row per workspace with its bar, numbers,
// burn, pace and forecast. Only the visible rows are computed and drawn.
type Gauges struct {
	common
	pool    []model.Summary  // every workspace, as read from the ledger
	all     []*model.Summary // into pool: filtered and sorted (pointers: cheap to swap)
	visible []gaugeRow
	cur     listCursor
	chosen  bool // the user moved the cursor: follow that workspace as rows reorder
	order   gaugeOrder
	filter  textinput.Model
	editing bool
	width   int
	height  int
	focused bool
	total   int // workspaces before filtering
}

type gaugeRow struct {
	model.Summary
	fc model.Forecast
}

// OpenDetailMsg asks the root to open a workspace's detail view.
type OpenDetailMsg struct{ Workspace string }

// NewGauges returns an empty gauge list.
func NewGauges(c common) Gauges {
	ti := textinput.New()
	ti.Prompt = "filter: "
	ti.CharLimit = model.MaxIDLen
	return Gauges{common: c, filter: ti, focused: true}
}

// SetSize sets the content size (inside the pane's border).
func (g *Gauges) SetSize(w, h int) {
	g.width, g.height = w, h
	g.cur.setRows(h - 1) // under the column header
}

// Selected returns the workspace under the cursor, "" when the list is empty.
func (g Gauges) Selected() string {
	if g.cur.pos < len(g.all) {
		return g.all[g.cur.pos].Name
	}
	return ""
}

// Editing reports whether the filter input has the keyboard.
func (g Gauges) Editing() bool { return g.editing }

// Filter returns the active filter text.
func (g Gauges) Filter() string { return g.filter.Value() }

// Update handles keys and mouse for the list.
func (g Gauges) Update(msg tea.Msg) (Gauges, tea.Cmd) {
	if g.editing {
		if k, ok := msg.(tea.KeyMsg); ok {
			switch k.Type {
			case tea.KeyEnter:
				g.editing = false
				g.filter.Blur()
				return g, nil
			case tea.KeyEsc:
				g.editing = false
				g.filter.Blur()
				g.filter.SetValue("")
				return g, nil
			}
		}
		var cmd tea.Cmd
		g.filter, cmd = g.filter.Update(msg)
		g.cur.pos, g.cur.offset = 0, 0
		return g, cmd
	}
	if g.cur.handle(msg, g.km) {
		g.chosen = true
		return g, nil
	}
	if msg, ok := msg.(tea.KeyMsg); ok {
		km := g.km
		switch {
		case key.Matches(msg, km.SortNext), key.Matches(msg, km.SortPrev):
			d := 1
			if key.Matches(msg, km.SortPrev) {
				d = len(gaugeOrders) - 1
			}
			name := g.Selected()
			g.order = (g.order + gaugeOrder(d)) % gaugeOrder(len(gaugeOrders))
			g.sortRows()
			g.follow(name)
		case key.Matches(msg, km.Filter):
			g.editing = true
			return g, g.filter.Focus()
		case key.Matches(msg, km.Back):
			g.filter.SetValue("")
		case key.Matches(msg, km.Open):
			if ws := g.Selected(); ws != "" {
				return g, func() tea.Msg { return OpenDetailMsg{Workspace: ws} }
			}
		}
	}
	return g, nil
}

// follow keeps the cursor on the named workspace as rows reorder; until the user
// picks one, it stays on the top row (the workspace most in trouble).
func (g *Gauges) follow(name string) {
	g.cur.setLen(len(g.all))
	if !g.chosen {
		g.cur.pos = 0
	}
	for i := range g.all {
		if !g.chosen {
			break
		}
		if g.all[i].Name == name {
			g.cur.pos = i
			break
		}
	}
	g.cur.clamp()
}

// gaugeOrder is the workspace table's sort, cycled with < and >.
type gaugeOrder uint8

// gaugeOrders are the sorts, by what the table shows; each breaks ties by use
// then name, so the order is stable from frame to frame.
var gaugeOrders = []struct {
	name string
	less func(a, b *model.Summary) int
}{
	{"by use", model.CompareByUse},
	{"by name", func(a, b *model.Summary) int { return cmp.Compare(a.Name, b.Name) }},
	{"by credits used", func(a, b *model.Summary) int {
		return cmp.Or(cmp.Compare(b.Used, a.Used), model.CompareByUse(a, b))
	}},
	{"by 402s", func(a, b *model.Summary) int {
		return cmp.Or(cmp.Compare(b.Refused.Total(), a.Refused.Total()), model.CompareByUse(a, b))
	}},
	{"by last event", func(a, b *model.Summary) int {
		return cmp.Or(cmp.Compare(b.LastTS, a.LastTS), model.CompareByUse(a, b))
	}},
}

func (g *Gauges) sortRows() {
	slices.SortFunc(g.all, gaugeOrders[g.order].less)
}

// Refresh rebuilds the rows from the ledger: all summaries (cheap), then burn and
// forecast only for the rows on screen.
func (g *Gauges) Refresh(l *model.Ledger) {
	selected := g.Selected()
	g.pool = l.Summaries(g.pool[:0])
	g.total = len(g.pool)
	f := strings.ToLower(g.filter.Value())
	g.all = g.all[:0]
	for i := range g.pool {
		if f == "" || strings.Contains(strings.ToLower(g.pool[i].Name), f) {
			g.all = append(g.all, &g.pool[i])
		}
	}
	g.sortRows()
	g.follow(selected)
	now := g.now()
	g.visible = g.visible[:0]
	from, to := g.cur.window()
	for i := from; i < to; i++ {
		g.visible = append(g.visible, gaugeRow{Summary: *g.all[i], fc: l.Forecast(g.all[i].Name, now)})
	}
}

// Title is the pane title: count, order and filter.
func (g Gauges) Title() string {
	order := gaugeOrders[g.order].name
	t := fmt.Sprintf("Workspaces (%d) · %s", len(g.all), order)
	if f := g.filter.Value(); f != "" || g.editing {
		t = fmt.Sprintf("Workspaces (%d of %d) · %s", len(g.all), g.total, order)
	}
	return t
}

// column is one gauge column: its header, how to draw a row's cell in the
// width it gets, and that width, fixed by the terminal's size and never by the
// data on screen, so columns neither jump nor vanish when a number grows.
type column struct {
	head  string
	right bool
	cell  func(g *Gauges, r *gaugeRow, width int) string
	width int
}

// gaugeColumns in screen order; prio says which stay on a narrow screen (0
// first): when credits run out and how much is used are what an operator
// acts on.
var gaugeColumns = []struct {
	column
	prio int
}{
	{column{head: "used", right: true, cell: cellPercent, width: 12}, 1},
	{column{head: "credits", right: true, cell: cellCredits, width: 15}, 2},
	{column{head: "runs out", cell: cellRunsOut, width: 13}, 0},
	{column{head: "burn", right: true, cell: cellBurn, width: 7}, 3},
	{column{head: "pace", right: true, cell: cellPace, width: 9}, 5},
	{column{head: "402s", right: true, cell: cellRefused, width: 5}, 4},
	{column{head: "last event", right: true, cell: cellAge, width: 10}, 6},
}

const (
	maxBar   = 64
	levelW   = 7
	markerW  = 2
	minNameW = 10
	maxNameW = 32
)

// layout picks the name width, bar width and the columns for the pane's
// width alone.
func (g *Gauges) layout() (nameW, barW int, cols []column) {
	nameW = min(max(g.width/8, minNameW), 24)
	minBar := 10
	if g.width >= 100 {
		minBar = min(g.width/5, 24)
	}
	avail := g.width - markerW - nameW - 1 - levelW - 1 - minBar
	chosen := make([]bool, len(gaugeColumns))
	for prio := 0; prio < len(gaugeColumns); prio++ {
		for i, c := range gaugeColumns {
			if c.prio == prio && avail >= c.width+1 {
				chosen[i] = true
				avail -= c.width + 1
			}
		}
	}
	for i, c := range gaugeColumns {
		if chosen[i] {
			cols = append(cols, c.column)
		}
	}
	// what is left goes to the names first (up to the widest), then the bar
	longest := 0
	for _, r := range g.visible {
		longest = max(longest, cellWidth(r.Name))
	}
	if grow := min(avail, maxNameW-nameW, max(longest-nameW, 0)); grow > 0 && g.width >= 100 {
		nameW += grow
		avail -= grow
	}
	barW = min(minBar+avail, maxBar)
	if avail < 0 { // very narrow: squeeze the name
		nameW = max(nameW+avail, 4)
		barW = minBar
	}
	return nameW, barW, cols
}

// View draws the header row and the visible rows.
func (g Gauges) View() string {
	if g.width <= 0 || g.height <= 0 {
		return ""
	}
	var b strings.Builder
	if len(g.all) == 0 {
		msg := "No usage events yet this period. Waiting for the stream…"
		if g.filter.Value() != "" || g.editing {
			b.WriteString(fit(g.filter.View(), g.width) + "\n")
			msg = "No workspace matches the filter (esc clears it)."
		}
		b.WriteString(g.st.Dim.Render(fit("  "+msg, g.width)))
		return b.String()
	}
	nameW, barW, cols := g.layout()
	if g.editing || g.filter.Value() != "" {
		b.WriteString(fit(g.filter.View(), g.width))
	} else {
		head := strings.Repeat(" ", markerW) + pad("workspace", nameW) + " " + pad("level", levelW) + " " + align("usage", barW, false)
		for _, c := range cols {
			head += " " + align(c.head, c.width, c.right)
		}
		b.WriteString(g.st.Dim.Render(fit(head, g.width)))
	}
	for i := range g.visible {
		r := &g.visible[i]
		b.WriteByte('\n')
		b.WriteString(g.row(r, g.cur.offset+i == g.cur.pos, nameW, barW, cols))
	}
	return b.String()
}

func (g *Gauges) row(r *gaugeRow, selected bool, nameW, barW int, cols []column) string {
	look := g.st.Level(r.Level)
	marker, name := "  ", pad(shorten(model.Sanitize(r.Name), nameW), nameW)
	if selected {
		marker = "▸ "
		if g.focused {
			name = g.st.Selected.Render(name)
		} else {
			name = g.st.Bold.Render(name)
		}
	}
	level := look.Style.Render(pad(look.Symbol+" "+look.Word, levelW))
	var bar string
	if r.HasCap() {
		bar = gaugeBar(barW, r.Used, r.Cap, r.Settings.UsageLimit, r.Thresholds, look.Style, g.st)
	} else {
		bar = g.st.Dim.Render(align("no allocation set", barW, false))
	}
	var b strings.Builder
	b.WriteString(marker + name + " " + level + " " + bar)
	for _, c := range cols {
		b.WriteString(" " + align(c.cell(g, r, c.width), c.width, c.right))
	}
	return b.String()
}

// cellPercent is the percent of the effective cap, and which cap binds when it
// is the usage limit.
func cellPercent(g *Gauges, r *gaugeRow, width int) string {
	switch r.CapKind {
	case model.CapNone:
		return "—"
	case model.CapLimit:
		return firstFit(width, percent(r.Percent)+" of lim", percent(r.Percent)+" lim")
	}
	return firstFit(width, percent(r.Percent)+" used", percent(r.Percent))
}

// cellCredits is used / cap, in full when it fits, else in compact numbers.
func cellCredits(g *Gauges, r *gaugeRow, width int) string {
	switch r.CapKind {
	case model.CapNone:
		return firstFit(width, credits(r.Used), compact(float64(r.Used)))
	case model.CapLimit:
		return firstFit(width, credits(r.Used)+"/"+credits(r.Cap)+" lim",
			compact(float64(r.Used))+"/"+compact(float64(r.Cap))+" lim")
	}
	return firstFit(width, credits(r.Used)+" / "+credits(r.Cap), credits(r.Used)+"/"+credits(r.Cap),
		compact(float64(r.Used))+"/"+compact(float64(r.Cap)))
}

// firstFit returns the first of forms that fits in width cells, else the last.
func firstFit(width int, forms ...string) string {
	for _, f := range forms {
		if cellWidth(f) <= width {
			return f
		}
	}
	return forms[len(forms)-1]
}

func cellRunsOut(g *Gauges, r *gaugeRow, _ int) string {
	f := r.fc
	switch {
	case r.Blocked:
		return "402: refused"
	case !f.RemainingKnown:
		return "—"
	case f.RunsOut && f.RunsOutIn == 0:
		return "out now"
	case f.RunsOut:
		return "out in " + humanize(f.RunsOutIn)
	case f.BurnPerHour == 0:
		return "idle"
	}
	return "lasts period"
}

func cellBurn(g *Gauges, r *gaugeRow, _ int) string {
	if r.fc.BurnPerHour == 0 {
		return "0/h"
	}
	return compact(r.fc.BurnPerHour) + "/h"
}

func cellPace(g *Gauges, r *gaugeRow, _ int) string {
	f := r.fc
	switch {
	case !f.RemainingKnown || f.BurnPerHour == 0:
		return "—"
	case math.IsInf(f.PaceMultiple, 1) || f.PaceMultiple >= 1000:
		return ">999×"
	case f.PaceMultiple >= 10:
		return fmt.Sprintf("%.0f×", f.PaceMultiple)
	}
	return fmt.Sprintf("%.1f×", f.PaceMultiple)
}

func cellRefused(g *Gauges, r *gaugeRow, width int) string {
	if n := r.Refused.Total(); n > 0 {
		return g.st.Bad.Render(align(compact(float64(n)), width, true))
	}
	return "0"
}

func cellAge(g *Gauges, r *gaugeRow, _ int) string { return age(g.now(), r.LastTS) }
