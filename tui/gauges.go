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
	byName  bool
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
		case key.Matches(msg, km.Sort):
			name := g.Selected()
			g.byName = !g.byName
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

func (g *Gauges) sortRows() {
	if g.byName {
		slices.SortFunc(g.all, func(a, b *model.Summary) int { return cmp.Compare(a.Name, b.Name) })
	} else {
		slices.SortFunc(g.all, model.CompareByUse)
	}
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
	order := "by use"
	if g.byName {
		order = "by name"
	}
	t := fmt.Sprintf("Workspaces (%d) · %s", len(g.all), order)
	if f := g.filter.Value(); f != "" || g.editing {
		t = fmt.Sprintf("Workspaces (%d of %d) · %s", len(g.all), g.total, order)
	}
	return t
}

// column is one gauge column: its header, how to draw a row's cell, and the
// width it gets (the widest of its header and the visible cells).
type column struct {
	head  string
	right bool
	cell  func(g *Gauges, r *gaugeRow) string
	width int
}

// gaugeColumns in screen order; prio says which go first on a narrow screen.
var gaugeColumns = []struct {
	column
	prio int
}{
	{column{head: "used", right: true, cell: cellPercent}, 0},
	{column{head: "credits", right: true, cell: cellCredits}, 1},
	{column{head: "runs out", cell: cellRunsOut}, 2},
	{column{head: "burn", right: true, cell: cellBurn}, 3},
	{column{head: "pace", right: true, cell: cellPace}, 5},
	{column{head: "402s", right: true, cell: cellRefused}, 4},
	{column{head: "last event", right: true, cell: cellAge}, 6},
}

const (
	maxBar   = 64
	levelW   = 7
	markerW  = 2
	minNameW = 9
	maxNameW = 24
)

// layout picks the name width, bar width and the columns that fit in width.
func (g *Gauges) layout() (nameW, barW int, cols []column) {
	nameW = minNameW
	for _, r := range g.visible {
		nameW = max(nameW, cellWidth(r.Name))
	}
	nameW = min(nameW, maxNameW, max(g.width/6, minNameW))
	minBar := 10
	if g.width >= 100 {
		minBar = min(g.width/5, 24)
	}
	avail := g.width - markerW - nameW - 1 - levelW - 1 - minBar
	widths := make([]int, len(gaugeColumns))
	for i, c := range gaugeColumns {
		widths[i] = cellWidth(c.head)
		for j := range g.visible {
			widths[i] = max(widths[i], cellWidth(c.cell(g, &g.visible[j])))
		}
	}
	chosen := make([]bool, len(gaugeColumns))
	for prio := 0; prio < len(gaugeColumns); prio++ {
		for i, c := range gaugeColumns {
			if c.prio == prio && avail >= widths[i]+1 {
				chosen[i] = true
				avail -= widths[i] + 1
			}
		}
	}
	for i, c := range gaugeColumns {
		if chosen[i] {
			c.column.width = widths[i]
			cols = append(cols, c.column)
		}
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
	marker, name := "  ", pad(truncate(r.Name, nameW), nameW)
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
		b.WriteString(" " + align(c.cell(g, r), c.width, c.right))
	}
	return b.String()
}

// cellPercent is the percent of the effective cap, and which cap binds when it
// is the usage limit.
func cellPercent(g *Gauges, r *gaugeRow) string {
	switch r.CapKind {
	case model.CapNone:
		return "—"
	case model.CapLimit:
		return percent(r.Percent) + " of limit"
	}
	return percent(r.Percent) + " used"
}

func cellCredits(g *Gauges, r *gaugeRow) string {
	switch r.CapKind {
	case model.CapNone:
		return credits(r.Used)
	case model.CapLimit:
		return credits(r.Used) + " / " + credits(r.Cap) + " lim"
	}
	return credits(r.Used) + " / " + credits(r.Cap)
}

func cellRunsOut(g *Gauges, r *gaugeRow) string {
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
	return "not this period"
}

func cellBurn(g *Gauges, r *gaugeRow) string {
	if r.fc.BurnPerHour == 0 {
		return "0/h"
	}
	return compact(r.fc.BurnPerHour) + "/h"
}

func cellPace(g *Gauges, r *gaugeRow) string {
	f := r.fc
	switch {
	case !f.RemainingKnown || f.BurnPerHour == 0:
		return "—"
	case math.IsInf(f.PaceMultiple, 1) || f.PaceMultiple >= 1000:
		return ">999× pace"
	case f.PaceMultiple >= 10:
		return fmt.Sprintf("%.0f× pace", f.PaceMultiple)
	}
	return fmt.Sprintf("%.1f× pace", f.PaceMultiple)
}

func cellRefused(g *Gauges, r *gaugeRow) string {
	if n := r.Refused.Total(); n > 0 {
		return g.st.Bad.Render(align(compact(float64(n)), 6, true))
	}
	return "0"
}

func cellAge(g *Gauges, r *gaugeRow) string { return age(g.now(), r.LastTS) }
