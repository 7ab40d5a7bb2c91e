package tui

import (
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
// burn, pace and forecast. Only the visible rows are read, computed and drawn:
// the ledger keeps every order the table offers as events arrive, so a frame
// costs the rows on screen, whether there are 50 workspaces or 100,000.
type Gauges struct {
	common
	l       *model.Ledger // of the last Refresh: the dashboard's own, read on its goroutine
	sel     string        // the workspace under the cursor
	n       int           // rows after filtering
	window  []string      // names on screen
	matches filterCache
	// past are the matches of the filters typed before (the newest last, a
	// few): a backspace back to one of them takes its matches again, and a
	// filter that holds the last one finds its matches among that one's
	// (typing narrows), not among every workspace
	past    []filterCache
	visible []gaugeRow
	cur     listCursor
	chosen  bool   // the user moved the cursor: follow that workspace as rows reorder
	picks   uint64 // the user's moves of the selection (Picks)
	order   gaugeOrder
	filter  textinput.Model
	editing bool
	width   int
	height  int
	focused bool
	total   int // workspaces before filtering
	nameW   int // the cells a workspace name gets, the same in every pane
	// chartsShown: the layout has room for the charts (c switches their
	// scope only then, and the help says c only then)
	chartsShown bool
}

type gaugeRow struct {
	model.Summary
	// verdict is the workspace judged with its projects' usage limits
	// (model.Ledger.Verdict): the level cell shows it, as check, budget show,
	// /metrics and the alerts do, and every figure after it is of the budget
	// that sets it (verdict.Status): the bar, the used cell (which names the
	// project after "/" when its usage limit sets the level), the credits and
	// the forecast fc (model.Ledger.VerdictForecast), so a row never puts a
	// project's percent beside the workspace's credits or run-out. The
	// workspace's own figures are in the detail view.
	verdict model.Verdict
	fc      model.Forecast
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

// filterCache is the workspaces whose names match the filter; it is made again
// only when the filter or the set of workspaces changes, not every frame.
type filterCache struct {
	filter  string
	ledger  *model.Ledger
	members uint64 // model.Ledger.Members: the count alone misses one gone, one come
	period  string
	names   []string // matching, by name
	set     map[string]struct{}
	// sorted is names in the order of the last frame: sorted again every
	// frame, it is nearly in order already (an event moves one workspace),
	// so the sort costs about one comparison a match, not m·log m
	sorted []string
	// many: the matches are too many to sort every frame; they are found in
	// the kept order's blocks instead, by each block's count of matches
	many bool
	// blocks are the kept order's blocks of the last Refresh, before[i] the
	// matches in the blocks ahead of block i (len(blocks)+1 entries), so the
	// match at any row and the row of any match cost the number of blocks
	// plus one block's names, wherever the cursor is, not the rows above it
	blocks []model.OrderBlock
	before []int
	// counts are the matches in a block by its version (model.OrderBlock):
	// counted again only when a block changed, about one a frame; next is
	// the counts of this Refresh's blocks, swapped in so the map holds only
	// blocks that still exist
	counts, next map[uint64]int
	buf          []string // one block's names
}

// Selected returns the workspace under the cursor, "" when the list is empty.
func (g Gauges) Selected() string { return g.sel }

// kept returns the ledger's order the list is in.
func (g *Gauges) kept() model.Order { return gaugeOrders[g.order].ledger }

// listed reports whether the rows are the filter's matches (matchRows) rather
// than the ledger's kept order.
func (g *Gauges) listed() bool { return g.filter.Value() != "" }

// nameAt returns the workspace at row i of the list as it stands now.
func (g *Gauges) nameAt(i int) string {
	switch {
	case i < 0 || i >= g.n:
		return ""
	case g.listed():
		if g.l != nil { // as the ledger stands now, as the kept order below
			g.match(g.l, strings.ToLower(g.filter.Value()))
		}
		if names := g.matchRows(i, i+1, nil); len(names) == 1 {
			return names[0]
		}
	case g.l != nil:
		if names := g.l.Ordered(g.kept(), i, i+1, nil); len(names) == 1 {
			return names[0]
		}
	}
	return ""
}

// Picks counts the user's moves of the selection: cursor keys and the mouse
// wheel, a change of sort, typing or clearing the filter (not a mouse drag
// or a key the list ignores). A selection that changes while it
// stays the same means the rows reordered under the cursor; the charts follow
// that at their redraw pace, and the user's moves at once.
func (g Gauges) Picks() uint64 { return g.picks }

// Editing reports whether the filter input has the keyboard.
func (g Gauges) Editing() bool { return g.editing }

// Filter returns the active filter text.
func (g Gauges) Filter() string { return g.filter.Value() }

// Update handles keys and mouse for the list.
func (g Gauges) Update(msg tea.Msg) (Gauges, tea.Cmd) {
	if g.editing {
		if k, ok := msg.(tea.KeyMsg); ok {
			g.picks++ // typing changes the rows listed
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
		g.picks++
		g.chosen = true
		g.sel = g.nameAt(g.cur.pos)
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
			g.order = (g.order + gaugeOrder(d)) % gaugeOrder(len(gaugeOrders)) // the next Refresh finds the selected workspace
			g.picks++
		case key.Matches(msg, km.Filter):
			g.editing = true
			return g, g.filter.Focus()
		case key.Matches(msg, km.Back):
			g.filter.SetValue("")
			g.picks++
		case key.Matches(msg, km.Open):
			if ws := g.Selected(); ws != "" {
				return g, func() tea.Msg { return OpenDetailMsg{Workspace: ws} }
			}
		}
	}
	return g, nil
}

// follow keeps the cursor on the selected workspace as rows reorder (found at
// position at, -1 when it is not listed); until the user picks one, the cursor
// stays on the top row (the workspace most in trouble).
func (g *Gauges) follow(at int) {
	g.cur.setLen(g.n)
	switch {
	case !g.chosen:
		g.cur.pos = 0
	case at >= 0:
		g.cur.pos = at
	}
	g.cur.clamp()
}

// gaugeOrder is the workspace table's sort, cycled with < and >.
type gaugeOrder uint8

// gaugeOrders are the sorts, by what the table shows; each breaks ties by use
// then name, so the order is stable from frame to frame. The ledger keeps
// every one as events arrive (model.Order), so no frame sorts workspaces.
var gaugeOrders = []struct {
	name   string
	ledger model.Order
}{
	{"by use", model.ByUse},
	{"by name", model.ByName},
	{"by credits used", model.ByCredits},
	{"by 402s", model.ByRefused},
	{"by last event", model.ByLastEvent},
}

// Refresh reads the rows on screen from the ledger: their place in the order,
// their summaries, burn and forecast. Without a filter it costs the rows on
// screen, in every order (the ledger keeps them all); with a filter, the
// matches (found again only when the filter or the set of workspaces changes)
// are sorted when few, else the kept order is walked as far as the screen needs.
func (g *Gauges) Refresh(l *model.Ledger) {
	g.l = l
	g.total = l.Len()
	if g.listed() {
		g.match(l, strings.ToLower(g.filter.Value()))
		g.n = len(g.matches.names)
		g.follow(g.matchIndex(g.sel))
		from, to := g.cur.window()
		g.window = g.matchRows(from, to, g.window[:0])
	} else {
		o := g.kept()
		g.n = g.total
		g.follow(l.Position(o, g.sel))
		from, to := g.cur.window()
		g.window = l.Ordered(o, from, to, g.window[:0])
	}
	g.sel = ""
	if i := g.cur.pos - g.cur.offset; i >= 0 && i < len(g.window) {
		g.sel = g.window[i]
	}
	now := g.now()
	g.visible = g.visible[:0]
	for _, name := range g.window {
		if s, ok := l.Summary(name); ok {
			v, fc, _ := l.VerdictForecast(name, now)
			g.visible = append(g.visible, gaugeRow{Summary: s, fc: fc, verdict: v})
		}
	}
}

// match finds the matches of filter f (lower case) in the current order:
// found again by name only when the filter or the set of workspaces changes;
// then, when few, sorted; else the kept order's blocks are listed and each
// block's matches counted, again only in the blocks that changed.
func (g *Gauges) match(l *model.Ledger, f string) {
	c := &g.matches
	if c.filter != f || c.ledger != l || c.members != l.Members() || c.period != l.Period().Key {
		g.matchAgain(l, f)
	}
	o := g.kept()
	if c.many = len(c.names)*16 >= l.Len(); !c.many { // few matches: sort them
		if len(c.sorted) != len(c.names) {
			c.sorted = append(c.sorted[:0], c.names...)
		}
		slices.SortFunc(c.sorted, func(a, b string) int { return l.CompareIn(o, a, b) })
		return
	}
	if c.set == nil {
		c.set = make(map[string]struct{}, len(c.names))
		for _, name := range c.names {
			c.set[name] = struct{}{}
		}
		c.counts, c.next = map[uint64]int{}, map[uint64]int{}
	}
	c.blocks = l.OrderBlocks(o, c.blocks[:0])
	c.before = append(c.before[:0], 0)
	for i, b := range c.blocks {
		k, ok := c.counts[b.Version]
		if !ok {
			c.buf = l.BlockNames(o, i, c.buf[:0])
			for _, name := range c.buf {
				if _, ok := c.set[name]; ok {
					k++
				}
			}
		}
		c.next[b.Version] = k
		c.before = append(c.before, c.before[i]+k)
	}
	clear(c.counts)
	c.counts, c.next = c.next, c.counts
}

// maxPastFilters is how many filters' matches are kept for a backspace.
const maxPastFilters = 8

// matchAgain finds the matches of filter f (lower case) afresh: the
// matches kept of f when it was typed before (a backspace), else those of
// the filter before it that f holds (a character typed: every match of f
// matches it), else every workspace by name, walked block by block. Each
// keystroke cost a walk and a copy of every name before (31 ms and 7.3 MB
// of CPU at 100k workspaces, loaded, hunt16).
func (g *Gauges) matchAgain(l *model.Ledger, f string) {
	c := &g.matches
	same := c.ledger == l && c.members == l.Members() && c.period == l.Period().Key
	if !same {
		g.past = nil
	}
	var from []string // the candidates: nil for every workspace
	if same && c.filter != "" {
		old := *c
		old.blocks, old.before, old.buf = nil, nil, nil // this Refresh's: made again
		// a new slice: copies of the pane share the old
		g.past = slices.DeleteFunc(slices.Clone(g.past), func(p filterCache) bool { return p.filter == old.filter })
		if g.past = append(g.past, old); len(g.past) > maxPastFilters {
			g.past = slices.Delete(g.past, 0, 1)
		}
		if strings.Contains(f, old.filter) {
			from = old.names
		}
	}
	scratch := filterCache{blocks: c.blocks[:0], before: c.before[:0], buf: c.buf[:0]}
	if i := slices.IndexFunc(g.past, func(p filterCache) bool { return p.filter == f }); i >= 0 && same {
		*c = g.past[i]
		g.past = slices.Delete(slices.Clone(g.past), i, i+1) // c owns its slices and maps again
		c.blocks, c.before, c.buf = scratch.blocks, scratch.before, scratch.buf
		return
	}
	*c = filterCache{filter: f, ledger: l, members: l.Members(), period: l.Period().Key,
		blocks: scratch.blocks, before: scratch.before, buf: scratch.buf} // names, sorted, set, counts: new (past may hold the old)
	if from != nil {
		for _, name := range from {
			if nameMatches(name, f) {
				c.names = append(c.names, name)
			}
		}
		return
	}
	for i := range l.OrderBlocks(model.ByName, c.blocks[:0]) {
		c.buf = l.BlockNames(model.ByName, i, c.buf[:0])
		for _, name := range c.buf {
			if nameMatches(name, f) {
				c.names = append(c.names, name)
			}
		}
	}
	c.blocks, c.buf = c.blocks[:0], c.buf[:0]
}

// nameMatches reports whether workspace name holds filter f (lower case),
// whatever the name's case.
func nameMatches(name, f string) bool { return strings.Contains(strings.ToLower(name), f) }

// matchIndex returns the row of workspace ws among the matches (as match
// left them), -1 when it does not match or is not there.
func (g *Gauges) matchIndex(ws string) int {
	c := &g.matches
	if !c.many {
		return slices.Index(c.sorted, ws)
	}
	if _, ok := c.set[ws]; !ok {
		return -1
	}
	o := g.kept()
	p := c.ledger.Position(o, ws)
	if p < 0 {
		return -1
	}
	for i, b := range c.blocks {
		if p >= b.Len {
			p -= b.Len
			continue
		}
		c.buf = c.ledger.BlockNames(o, i, c.buf[:0])
		at := c.before[i]
		for _, name := range c.buf[:p] {
			if _, ok := c.set[name]; ok {
				at++
			}
		}
		return at
	}
	return -1
}

// matchRows appends to dst the matches at rows [from, to) (as match left
// them): the blocks ahead are skipped by their counts.
func (g *Gauges) matchRows(from, to int, dst []string) []string {
	c := &g.matches
	if !c.many {
		from, to = max(min(from, len(c.sorted)), 0), min(to, len(c.sorted))
		if from >= to {
			return dst
		}
		return append(dst, c.sorted[from:to]...)
	}
	o := g.kept()
	for i := range c.blocks {
		if from >= to {
			break
		}
		if c.before[i+1] <= from {
			continue
		}
		at := c.before[i]
		c.buf = c.ledger.BlockNames(o, i, c.buf[:0])
		for _, name := range c.buf {
			if _, ok := c.set[name]; !ok {
				continue
			}
			if at >= from && at < to {
				dst = append(dst, name)
			}
			at++
		}
		from = max(from, c.before[i+1])
	}
	return dst
}

// Title is the pane title: count, order and filter.
func (g Gauges) Title() string {
	order := gaugeOrders[g.order].name
	t := fmt.Sprintf("Workspaces (%d) · %s", g.n, order)
	if f := g.filter.Value(); f != "" || g.editing {
		t = fmt.Sprintf("Workspaces (%d of %d) · %s", g.n, g.total, order)
	}
	if ws, whole, ok := g.projectCut(); ok && g.width >= narrowUsed {
		// a cut project reads as nothing ("/tra…"), and "/tra… is project
		// training" was a riddle: say whose row it is and what its figures
		// are of, in the row's name ("hooli-ml shows project training's limit";
		// "hooli-ml: project training's limit" read as a riddle too)
		t += " · " + ws + " shows project " + whole + "'s limit"
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
	{column{head: "used", right: true, cell: cellPercent, width: usedW}, 1},
	{column{head: "credits", right: true, cell: cellCredits, width: 15}, 2},
	{column{head: "runs out", cell: cellRunsOut, width: runsOutW}, 0},
	{column{head: "burn", right: true, cell: cellBurn, width: 7}, 3},
	{column{head: "pace", right: true, cell: cellPace, width: 9}, 5},
	{column{head: "402s", right: true, cell: cellRefused, width: 5}, 4},
	{column{head: "age", right: true, cell: cellAge, width: 7}, 6},
}

const (
	// runsOutW holds the longest forecast whole: "top-up in 31 days" (a
	// top-up or a run-out comes within the period, at most 31 days away)
	runsOutW = 17
	// usedW holds "99.9 % used" and "100 % lim" right-aligned
	usedW   = 12
	levelW  = 7
	markerW = 2
	// narrowUsed is the pane width under which "used" is the percent alone,
	// so it stays beside "runs out" at 60 columns
	narrowUsed = 70
	// wideCredits is the pane width from which credits are in full, in
	// fullCreditsW cells: "999,999,999 / 999,999,999 lim" (the widest form
	// of figures up to a billion)
	wideCredits  = 150
	fullCreditsW = 29
	// limTag follows the figures of a project's usage limit; every other
	// row leaves its cells blank so the cap figures end in one column
	limTag = " lim"
	// wideUsedExtra is what the used column takes from the bar when the
	// bar keeps twice as much beside it: "99.9 % /training" (a project's
	// usage limit sets the level) whole instead of "99.9 % /tra…" beside a
	// bar of 60 cells, as the help says it reads
	wideUsedExtra = 8
)

// names is the width of the name column: the one every pane gives names.
func (g *Gauges) names() int {
	if g.nameW > 0 {
		return g.nameW
	}
	return nameWidth(g.width + 2)
}

// layout picks the name width, bar width and the columns for the pane's
// width alone: the name gets the width every pane gives names, the columns
// come in by priority, and all that is left goes to the bar.
func (g *Gauges) layout() (nameW, barW int, cols []column) {
	nameW = g.names()
	minBar := 10
	if g.width >= 100 {
		minBar = min(g.width/6, 24)
	}
	avail := g.width - markerW - nameW - 1 - levelW - 1 - minBar
	width := func(c column) int {
		if c.head == "used" && g.width < narrowUsed { // "99.9 %": the header says used
			return 7
		}
		if c.head == "credits" && g.width >= wideCredits { // the figures in full
			return fullCreditsW
		}
		return c.width
	}
	chosen := make([]bool, len(gaugeColumns))
	for prio := 0; prio < len(gaugeColumns); prio++ {
		for i, c := range gaugeColumns {
			if c.prio == prio && avail >= width(c.column)+1 {
				chosen[i] = true
				avail -= width(c.column) + 1
			}
		}
	}
	extra := 0
	if chosen[0] && avail >= 2*wideUsedExtra { // gaugeColumns[0] is used
		extra = wideUsedExtra
		avail -= extra
	}
	for i, c := range gaugeColumns {
		if chosen[i] {
			col := c.column
			col.width = width(col)
			if col.head == "used" && extra > 0 {
				// the extra cells come after the column's own, so the
				// percents stay beside the bar: a row's own "84 % used"
				// keeps its place and a project's cue runs on to the right
				col.width += extra
				col.right = false
			}
			cols = append(cols, col)
		}
	}
	barW = minBar + avail
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
	if g.n == 0 {
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
			h := c.head
			right := c.right
			if c.head == "used" { // over the words' right edge
				h, right = align(h, usedEnd(c.width), true), false
			}
			head += " " + align(h, c.width, right)
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

// longestFit is the first of forms (longest first) that fits in width cells,
// else the last: a cut "counter unrea…" or "no allocation…" in the bar's place
// needed a second reading where a shorter whole form fits.
func longestFit(width int, forms ...string) string {
	for _, f := range forms {
		if cellWidth(f) <= width {
			return f
		}
	}
	return forms[len(forms)-1]
}

func (g *Gauges) row(r *gaugeRow, selected bool, nameW, barW int, cols []column) string {
	look := g.st.Level(r.verdict.Level)
	marker, name := "  ", pad(shortName(r.Name, nameW), nameW)
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
	if vs := &r.verdict.Status; vs.Unknown.Has(model.FigUsed) {
		bar = look.Style.Render(align(longestFit(barW, "counter unreadable: usage unknown", "counter unreadable", "unreadable"), barW, false))
	} else if vs.Unreadable != "" && !vs.HasCap() {
		// the credits used are known (the cell says them), the cap is not
		// (model.Status.Unknown): no bar drawn against a cap not known
		words := []string{"recharges unreadable: cap unknown", "recharges unreadable", "unreadable"}
		switch {
		case vs.UnreadableSettings && r.verdict.Project != "":
			// the project's budget, not the workspace's settings (which
			// may be readable): the cells beside name the project
			words = []string{"project budget unreadable: limit unknown", "budget unreadable", "unreadable"}
		case vs.UnreadableSettings:
			words = []string{"settings unreadable: cap unknown", "settings unreadable", "unreadable"}
		}
		bar = look.Style.Render(align(longestFit(barW, words...), barW, false))
	} else if vs.HasCap() {
		limit := r.Settings.UsageLimit // the workspace's ╳; a project's limit is the bar's end
		if r.verdict.Project != "" {
			limit = 0
		}
		bar = gaugeBar(barW, vs.Used, vs.Cap, limit, vs.Thresholds, look.Style, g.st)
	} else if vs.LimitHeld {
		// refused with budget_exceeded by a usage limit mavtop was not told of
		bar = look.Style.Render(align(longestFit(barW, "402 budget_exceeded: no limit set in mavtop", "402 budget_exceeded", "402"), barW, false))
	} else {
		bar = g.st.Dim.Render(align(longestFit(barW, "no allocation set", "no allocation", "no alloc"), barW, false))
	}
	var b strings.Builder
	b.WriteString(marker + name + " " + level + " " + bar)
	for _, c := range cols {
		b.WriteString(" " + align(c.cell(g, r, c.width), c.width, c.right))
	}
	return b.String()
}

// cellPercent is the percent behind the row's level: of the effective cap,
// and which cap binds when it is the usage limit; when a project's usage
// limit sets the level (the verdict), that project's percent of its limit
// and its name after "/" ("99.9 % /tra…", "99.9 % /training" where the
// column holds it), so a row at 55 % of its allocation marked crit says
// whose cap its figures are of at every width. The project is shortened
// to the column's room alone, one form per size. The figure is the
// model's own judgement (Verdict.Status), never worked out again here. The
// form depends on the column's width alone (the percent and its word from 11
// cells, the percent alone below, then "/" and what fits of a project),
// never on the figure: "99.9 % of lim" beside "84 % of lim" would not fit
// the same column.
func cellPercent(g *Gauges, r *gaugeRow, width int) string {
	// ">9999 %" (model.MaxShownPercent) is a cell wider than pctW: it takes
	// that cell ahead of the others' right edge ("">9999 % used" fills the
	// column), never cut to ">9999…", which says no figure
	p := percentOf(r)
	pw := max(pctW, min(cellWidth(p), width))
	return pad(align(p, pw, true)+percentWord(r, width-(pw-pctW)), width)
}

// pctW is the cells every row's percent is right-aligned in, at the left of
// the used column ("99.9 %"), so the percents of workspaces, of usage limits
// and of projects end in one column whatever words follow them.
var pctW = cellWidth(percent(99.9))

// usedEnd is where the used column's words end in width cells: the header
// "used" ends over them.
func usedEnd(width int) int {
	if width < 11 {
		return pctW
	}
	return pctW + len(" used")
}

// percentOf is the figure of cellPercent: the project's percent of its usage
// limit when that sets the level, "—" when there is no cap or usage is unknown.
func percentOf(r *gaugeRow) string {
	if v := &r.verdict; v.Project != "" {
		if !v.Status.HasCap() || v.Status.Unknown.Has(model.FigPercent) {
			// held by a limit mavtop was not told of, or its credits or
			// limit cannot be read (model.Status.Unknown): no percent of it
			return "—"
		}
		return percent(v.Status.Percent)
	}
	// the verdict's, the row's own status but where the usage limit sets the
	// level of a cap auto-recharge tops up (model.Verdict.Status)
	vs := &r.verdict.Status
	if vs.CapKind == model.CapNone || vs.Unknown.Has(model.FigPercent) { // none, or not known (model.Status.Unknown)
		return "—"
	}
	return percent(vs.Percent)
}

// percentWord is what follows the percent: " used", " lim", or "/" and the
// project whose usage limit sets the level, as much of its name as the
// column holds; nothing below 11 cells but a project's "/".
func percentWord(r *gaugeRow, width int) string {
	if v := &r.verdict; v.Project != "" {
		lead := " /"
		if width < 11 {
			lead = "/"
		}
		if room := width - pctW - len(lead); room > 0 {
			return lead + shortName(v.Project, room)
		}
		return strings.TrimSpace(lead)
	}
	switch vs := &r.verdict.Status; {
	case vs.CapKind == model.CapNone, vs.Unknown.Has(model.FigPercent), width < 11:
		return ""
	case vs.CapKind == model.CapLimit:
		return " lim"
	}
	return " used"
}

// projectCut is the first visible row whose project's name the used column
// cuts ("/tra…"): its workspace's name as the row shows it and the
// project's whole name, for the pane's title to say what it is. ok is false
// when every name shows whole.
func (g *Gauges) projectCut() (ws, whole string, ok bool) {
	nameW, _, cols := g.layout()
	for _, c := range cols {
		if c.head != "used" {
			continue
		}
		for i := range g.visible {
			r := &g.visible[i]
			if r.verdict.Project == "" {
				continue
			}
			w := strings.TrimSpace(percentWord(r, c.width))
			if name := model.Sanitize(r.verdict.Project); w != "/"+name {
				return shortName(r.Name, nameW), name, true
			}
		}
	}
	return "", "", false
}

// cellCredits is used / cap in one form per size, whatever the figures, so
// rows never mix "184,415/200,000", "29,980 / 30,000" and "850k/1.25M": in
// full ("1,234 / 10,000", exactly what Redis holds) in the wide column
// (fullCreditsW, from wideCredits cells), else compact (three significant
// digits, cut as compactCredits does: "99.9k/99.9k lim" fits 15 cells).
// Only a figure over 999,999,999 is compact in the wide column.
//
// They are of the budget that sets the level (the verdict's): a project's
// used of its usage limit, limTag after it, beside its percent. A row with
// no limit leaves limTag's cells blank, so in every row the cap ends in the
// same column and the slash separates the figures the same way at a size
// ("89,960 / 90,000 lim" above "29,980 / 30,000    ").
func cellCredits(g *Gauges, r *gaugeRow, width int) string {
	var full, short string
	tag := strings.Repeat(" ", len(limTag))
	switch vs := &r.verdict.Status; {
	case vs.Unknown.Has(model.FigUsed):
		full, short = "unreadable", "unreadable"
	case vs.CapKind == model.CapNone:
		// the verdict's budget's figures: a project's credits when its
		// 402 sets the level, the workspace's otherwise
		full, short = credits(vs.Used), compactCredits(vs.Used)
	case vs.CapKind == model.CapLimit:
		full, short = credits(vs.Used)+" / "+credits(vs.Cap), compactCredits(vs.Used)+"/"+compactCredits(vs.Cap)
		if cellRunsOut(g, r, runsOutW) != model.OutShort(model.CapLimit) {
			// beside "limit reached" the tag said limit twice ("90.0k/90.0k
			// lim limit reached"): the words name the limit there
			tag = limTag
		}
	default:
		full, short = credits(vs.Used)+" / "+credits(vs.Cap), compactCredits(vs.Used)+"/"+compactCredits(vs.Cap)
	}
	if width >= fullCreditsW && cellWidth(full+tag) <= width {
		return full + tag
	}
	if cellWidth(short+tag) > width {
		return strings.TrimRight(short+tag, " ")
	}
	return short + tag
}

// cellRunsOut is the forecast by README's "Forecasts" rules: refused until
// credits are added, out, the next auto-recharge top-up, idle, or lasts.
func cellRunsOut(g *Gauges, r *gaugeRow, width int) string {
	f := r.fc
	switch {
	case r.Blocked:
		// OUT by a credits_exhausted 402 (model.Status.Blocked): out now, as
		// the level says, whatever the counters leave ("402: refused" was a
		// state, not the time this column tells; the detail says why)
		return model.OutShort(model.CapAllocation)
	case f.LimitHeld:
		// a budget_exceeded 402 holds the verdict's usage limit reached,
		// one mavtop knows or not (model.Forecast.LimitHeld)
		return model.OutShort(model.CapLimit)
	case !f.RemainingKnown:
		return "—"
	case f.Loading && !(f.RunsOut && f.RunsOutIn == 0):
		// the hour is still read back: judged on part of it, the forecast
		// could differ from an instance that watched all along
		return "loading…"
	case f.Reached && (r.verdict.Project != "" || f.LimitHeld):
		// held at the project's usage limit, or at the workspace's own by a
		// budget_exceeded 402 (model.Forecast.LimitHeld): its calls are
		// refused, whatever burn the window still holds (model.Forecast.Reached)
		return model.OutShort(model.CapLimit)
	case f.Reached && f.Remaining > 0:
		// not out, and not one more typical charge fits (level stays crit)
		return "<1 charge left"
	case f.RunsOut && f.RunsOutIn == 0:
		// a usage limit reached is not credits run out: the alert's words
		return model.OutShort(r.verdict.Status.CapKind)
	case f.RunsOut:
		return "out in " + humanize(f.RunsOutIn)
	case f.RechargeDue:
		// the auto-recharge tops the credits up before they run out
		return "top-up " + model.TopUpIn(f.NextRechargeIn)
	case f.Idle:
		return "idle"
	case f.FewCharges:
		// too little spending to project (model.EnoughEvidence)
		return "few charges"
	}
	return "lasts period"
}

// cellBurn is the burn rate over the forecast's window (BurnWindow; the
// detail pane and the legend say which); 0/h when idle.
func cellBurn(g *Gauges, r *gaugeRow, _ int) string {
	if r.fc.BurnPerHour == 0 {
		return "0/h"
	}
	return compact(r.fc.BurnPerHour) + "/h"
}

func cellPace(g *Gauges, r *gaugeRow, _ int) string {
	f := r.fc
	switch {
	case !f.RemainingKnown || f.BurnPerHour == 0 || f.Reached:
		// no pace against a cap that cannot take one more typical charge
		// (or is used up: the demo's training at 90,000/90,000 drew >999×)
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

// cellAge is how long ago the workspace's newest event was, compact: "now",
// "2 s", "3 min", "5 h", "3 d"; "> 3 h" when it is older than what the start
// read back (Summary.LastBefore: credits used, no event read); "—" when none
// this period.
func cellAge(g *Gauges, r *gaugeRow, _ int) string {
	if r.LastTS == 0 && r.LastBefore > 0 {
		return ">" + shortAge(g.now(), r.LastBefore)
	}
	return shortAge(g.now(), r.LastTS)
}
