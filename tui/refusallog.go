package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// RefusalLog is the 402 log: newest first, with the budget that refused each
// request and, for the selected one, what to tell the user and where to fix it.
type RefusalLog struct {
	common
	rows  []model.Refusal
	total int64
	// uncounted is how many rows the counters do not hold (model.Ledger.Uncounted)
	uncounted int
	// gen is the ledger's RefusalsVersion the rows, total and uncounted
	// were taken at (0: never)
	gen     uint64
	cur     listCursor
	sel     string // the selected refusal's identity: the selection follows it as rows arrive
	chosen  bool   // the user moved the selection (else, unfocused, it follows the newest)
	width   int
	height  int
	focused bool
	// open shows the selected refusal in full in place of the list (enter):
	// every fact, the message and the advice wrapped, at any size
	open bool
	// nameW is the cells a workspace name gets, the same in every pane
	nameW int
}

// NewRefusalLog returns an empty log.
func NewRefusalLog(c common) RefusalLog { return RefusalLog{common: c} }

// SetSize sets the content size; lines are kept under the list for the
// selected entry's facts and advice.
func (r *RefusalLog) SetSize(w, h int) {
	r.width, r.height = w, h
	r.cur.setRows(h - 1 - r.adviceLines())
}

// adviceLines is how many lines the selected entry gets under the list, at
// every size: what support asks for (workspace, code, request id) and its
// message on one line from 4 lines, the advice and where to fix it from 6, the
// message on a line of its own from 10, the message and the advice wrapped on
// up to two lines each from 16. enter shows all of it, wrapped.
func (r *RefusalLog) adviceLines() int {
	switch {
	case r.height >= 16:
		return 6
	case r.height >= 10:
		return 4
	case r.height >= 6:
		return 3
	case r.height >= 4:
		return 1
	}
	return 0
}

// clipLines keeps the first n of lines (at least one), the last one kept
// ending in "…" when more were cut.
func clipLines(lines []string, n, w int) []string {
	n = max(n, 1)
	if len(lines) <= n {
		return lines
	}
	out := slices.Clone(lines[:n])
	out[n-1] = truncate(out[n-1]+" "+strings.TrimSpace(lines[n]), w)
	if cellWidth(out[n-1]) < w {
		out[n-1] += "…"
	}
	return out
}

// Opened reports whether the selected refusal is shown in full.
func (r RefusalLog) Opened() bool { return r.open }

// refusalKey is a refusal's identity: its stream entry id, or what it says
// when it has none.
func refusalKey(e *model.Refusal) string {
	if e.Event.ID != "" {
		return e.Event.ID
	}
	return fmt.Sprintf("%d/%s/%s/%s", e.Event.TS, e.Event.Workspace, e.Event.Req, e.Event.Code)
}

// refusalTime is the clock time a 402 row shows: when it happened as far as
// mavtop can tell (model.Refusal.At: Redis's clock when the producer's ts
// disagrees with it), local, "15:04:05".
func refusalTime(r *model.Refusal) string {
	return time.UnixMilli(r.At()).Local().Format("15:04:05")
}

// Refresh takes the latest refusals from the ledger; the selected one stays
// selected as newer ones arrive above it.
//
// The rows, their total and how many the counters do not hold are taken
// again only when the ledger's RefusalsVersion says they may have changed:
// Uncounted looked up every row's counters (500 rows, a lookup among every
// workspace each), and at every frame that was 18 % of the dashboard's CPU
// samples at 100k workspaces and 1,000 events/s (scale harness, loaded);
// the ledger now keeps its answer as 402s arrive.
func (r *RefusalLog) Refresh(l *model.Ledger) {
	g := l.RefusalsVersion()
	changed := g != r.gen
	if changed {
		r.rows = l.Refusals(r.rows[:0], model.DefaultRefusalLog)
		r.total = l.RefusalTotals().Total()
		r.uncounted = l.Uncounted()
		r.gen = g
	}
	r.cur.setLen(len(r.rows))
	if changed && r.sel != "" && (r.focused || r.chosen) {
		for i := range r.rows {
			if refusalKey(&r.rows[i]) == r.sel {
				r.cur.pos = i
				r.cur.clamp()
				break
			}
		}
	}
	if r.cur.pos < len(r.rows) {
		r.sel = refusalKey(&r.rows[r.cur.pos])
	}
}

// Title says how many 402s this period, by the counters, and how many of
// the rows listed (from the stream) the counters do not hold, when any: a
// 402 written without its counter is listed under a count that leaves it out.
func (r RefusalLog) Title() string {
	if r.uncounted > 0 {
		return fmt.Sprintf("402 refusals (%s this period · %d listed not counted)", credits(r.total), r.uncounted)
	}
	return fmt.Sprintf("402 refusals (%s this period)", credits(r.total))
}

// Update scrolls the log; enter shows the selected refusal in full (the
// arrows then step through the refusals in full), enter or esc goes back.
func (r RefusalLog) Update(msg tea.Msg) (RefusalLog, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, r.km.Open):
			r.open = !r.open && len(r.rows) > 0
			return r, nil
		case r.open && key.Matches(k, r.km.Back):
			r.open = false
			return r, nil
		}
	}
	if r.cur.handle(msg, r.km) && r.cur.pos < len(r.rows) {
		r.sel, r.chosen = refusalKey(&r.rows[r.cur.pos]), true
	}
	return r, nil
}

// View draws the log.
func (r RefusalLog) View() string {
	if r.width <= 0 || r.height <= 0 {
		return ""
	}
	if len(r.rows) == 0 {
		msg := "  No 402s this period: every request was paid for."
		if r.total > 0 { // counted in Redis, but older than the stream history read at start
			msg = fmt.Sprintf("  None in the last hour; the %s of this period are in the counters and the workspace details.", credits(r.total))
		}
		return r.st.Dim.Render(fit(msg, r.width))
	}
	if r.open {
		return r.full()
	}
	cols := r.columns()
	var b strings.Builder
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = align(c.head, c.width, false)
	}
	b.WriteString(r.st.Dim.Render(fit("  "+strings.TrimRight(strings.Join(heads, " "), " "), r.width)))
	from, to := r.cur.window()
	for i := from; i < to; i++ {
		e := &r.rows[i]
		cells := make([]string, len(cols))
		for j, c := range cols {
			cells[j] = c.fit(model.Sanitize(c.cell(e)), c.width)
		}
		// the selected row carries the marker, focused or not (as the
		// gauges' does), so the facts under the list read as its facts
		marker := "  "
		if i == r.cur.pos {
			marker = "▸ "
		}
		s := fit(marker+strings.Join(cells, " "), r.width)
		switch {
		case i == r.cur.pos && r.focused:
			s = r.st.Selected.Render(pad(s, r.width))
		case i == r.cur.pos:
			s = r.st.Bold.Render(s)
		}
		b.WriteString("\n" + s)
	}
	if n := r.adviceLines(); n > 0 {
		block := r.selectedLines(n)
		for i := to - from + len(block); i < r.cur.rows+n; i++ {
			b.WriteByte('\n') // keep the selected one at the bottom of the pane
		}
		for _, l := range block {
			b.WriteString("\n" + l)
		}
	}
	return b.String()
}

// selectedLines is the selected refusal under the list in n lines (at most):
// the facts its row above does not show whole, labelled "↳" as the row is
// marked "▸"; then what to do, never cut where the lines can hold it: the
// advice's action (its first sentence only says what the row's code and
// message say: "You've run out of credits.") and where to fix it, else the
// action alone (it names the place: "Settings > Billing"), wrapped; the
// message whole gets the lines left from 4 (its start is on the facts line
// below that). enter shows all of it.
func (r *RefusalLog) selectedLines(n int) []string {
	sel := &r.rows[r.cur.pos]
	ev := &sel.Event
	u := model.RefusalAdvice(ev.Code)
	facts := r.facts(sel, n >= 4)
	msgW := 0 // the row's own start of the message
	if cols := r.columns(); len(cols) > 0 {
		msgW = cols[len(cols)-1].width
	}
	// a message its row shows whole is not said again (each fact once)
	msgWhole := cellWidth(model.Sanitize(ev.Msg)) <= msgW
	if rest := r.width - cellWidth(facts) - 3; n < 4 && !msgWhole && rest > msgW+4 { // more of the message than the row shows, never over the id
		facts += " · " + truncateWords(quoted(ev.Msg), rest)
	}
	lines := []string{r.st.Bold.Render(fit(facts, r.width))}
	if n < 3 {
		return lines
	}
	avail := n - 1
	adv := wrapLines("→ "+adviceAction(u.Message), r.width, 2)
	link := len(adv)+1 <= avail
	if len(adv) > avail {
		adv = clipLines(adv, avail, r.width)
	}
	if left := avail - len(adv) - btoi(link); n >= 4 && !msgWhole && left > 0 {
		for _, l := range clipLines(wrapLines("  "+quoted(ev.Msg), r.width, 3), left, r.width) {
			lines = append(lines, l)
		}
	}
	for _, l := range adv {
		lines = append(lines, r.st.Warn.Render(l))
	}
	if link {
		lines = append(lines, r.st.Dim.Render(fit("  "+u.ActionURL, r.width)))
	}
	return lines
}

// adviceAction is the advice's action: what follows its first sentence (which
// says what the code already says: "You've run out of credits."), or all of
// it when it is one sentence.
func adviceAction(advice string) string {
	if _, rest, ok := strings.Cut(advice, ". "); ok && rest != "" {
		return rest
	}
	return advice
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// facts is the selected refusal on one line, labelled "↳" (the facts of the
// row marked "▸" above, not a row of its own): only what that row does not
// show whole, each fact once. What support asks for first (the request id,
// the code), then the project and the workspace whole where it fits (the
// row has its one short form); with the rest (who refused, endpoint, time)
// when all is asked, each while it fits whole, so the request id is never
// cut.
func (r *RefusalLog) facts(sel *model.Refusal, all bool) string {
	ev := &sel.Event
	whole := map[string]bool{} // the row's cells that hold their fact whole
	for _, c := range r.columns() {
		whole[c.head] = cellWidth(model.Sanitize(c.cell(sel))) <= c.width
	}
	var parts []string
	add := func(s string) {
		if cellWidth("↳ "+strings.Join(append(parts, s), " · ")) <= r.width {
			parts = append(parts, s)
		}
	}
	if !whole["request"] {
		add("request " + model.Sanitize(orDash(ev.Req)))
	}
	if !whole["code"] {
		add(model.Sanitize(orDash(ev.Code)))
	}
	if ev.Project != "" && !whole["project"] {
		add("project " + model.Sanitize(ev.Project))
	}
	if !whole["workspace"] {
		add(model.Sanitize(ev.Workspace))
	}
	if all {
		for _, f := range []struct{ head, s string }{{"refused by", sel.By.String()}, {"endpoint", model.Sanitize(ev.Endpoint)}, {"time", refusalTime(sel)}} {
			if !whole[f.head] {
				add(f.s)
			}
		}
	}
	return "↳ " + strings.Join(parts, " · ")
}

// where is the refusal's workspace and project, in full.
func (r *RefusalLog) where(ev *model.Event) string {
	s := model.Sanitize(ev.Workspace)
	if ev.Project != "" {
		s += "/" + model.Sanitize(ev.Project)
	}
	return s
}

// full is the selected refusal alone, every fact whole and wrapped to the
// pane: the workspace, code and request id, the message, the advice and where
// to fix it, then which budget refused it, the endpoint and when.
func (r RefusalLog) full() string {
	sel := &r.rows[r.cur.pos]
	ev := &sel.Event
	u := model.RefusalAdvice(ev.Code)
	var lines []string
	// each part wrapped under its lead ("▸ ", "→ ", "  "), grapheme by grapheme
	add := func(style func(...string) string, lead, s string) {
		for i, l := range strings.Split(ansi.Wrap(s, max(r.width-2, 1), " -/_"), "\n") {
			if i > 0 {
				lead = "  "
			}
			lines = append(lines, style(fit(lead+strings.TrimRight(l, " "), r.width)))
		}
	}
	plain := func(s ...string) string { return strings.Join(s, "") }
	add(r.st.Bold.Render, "▸ ", r.where(ev))
	add(r.st.Bold.Render, "  ", model.Sanitize(orDash(ev.Code))+" · request "+model.Sanitize(orDash(ev.Req)))
	add(plain, "  ", quoted(ev.Msg))
	add(r.st.Warn.Render, "→ ", u.Message)
	add(r.st.Dim.Render, "  ", u.ActionURL)
	add(r.st.Dim.Render, "  ", fmt.Sprintf("%s · %s · %s · %d of %d · enter/esc: back to the list", model.Sanitize(sel.Why()), model.Sanitize(ev.Endpoint),
		refusalTime(sel), r.cur.pos+1, len(r.rows)))
	return strings.Join(lines[:min(len(lines), r.height)], "\n")
}

type logColumn struct {
	head  string
	width int
	cell  func(e *model.Refusal) string
	// fit cuts a cell to its width: names keep both ends, the rest their start
	fit func(s string, w int) string
}

func cutEnd(s string, w int) string { return align(s, w, false) }
func cutMid(s string, w int) string { return pad(shortName(s, w), w) }

// names is the width of the workspace column: the one every pane gives names.
func (r *RefusalLog) names() int {
	if r.nameW > 0 {
		return r.nameW
	}
	return nameWidth(r.width + 2)
}

// columns fits the log's columns to the width alone, never to the rows: the
// workspace, code and message stay, the message gets what the others leave,
// and project, who refused, endpoint, time and the request id go, in that
// order, as the width shrinks (the selected one's request id stays whole
// under the list).
func (r *RefusalLog) columns() []logColumn {
	inner := r.width - 2 // the selection marker
	wsW := r.names()
	// request ids are 17–20 characters from the API and the sandbox: the
	// column holds 20 whole, or is left out of every row where it and the
	// message do not fit side by side (the selected one's id is whole under
	// the list at every size), so no row shows an id cut and another whole.
	// Ids from other producers, up to 128 bytes, are shortened in the middle.
	reqW := min(max(inner/5, 20), 24)
	all := []logColumn{
		{"time", 8, refusalTime, cutEnd},
		{"workspace", wsW, func(e *model.Refusal) string { return e.Event.Workspace }, cutMid},
		{"project", 12, func(e *model.Refusal) string { return orDash(e.Event.Project) }, cutMid},
		{"endpoint", 15, func(e *model.Refusal) string { return e.Event.Endpoint }, cutEnd},
		{"code", 17, func(e *model.Refusal) string { return orDash(e.Event.Code) }, cutEnd},
		{"refused by", 15, func(e *model.Refusal) string { return e.By.String() }, cutEnd},
		{"request", reqW, func(e *model.Refusal) string { return orDash(e.Event.Req) }, cutMid},
	}
	minMessage := max(24, inner/4)
	drop := map[string]bool{}
	used := func() int {
		n := 0
		for _, c := range all {
			if !drop[c.head] {
				n += c.width + 1
			}
		}
		return n
	}
	for _, name := range []string{"project", "refused by", "endpoint", "time", "request"} {
		if inner-used() >= minMessage {
			break
		}
		drop[name] = true
	}
	var cols []logColumn
	for _, c := range all {
		if !drop[c.head] {
			cols = append(cols, c)
		}
	}
	return append(cols, logColumn{"message", max(inner-used(), 0), func(e *model.Refusal) string { return e.Event.Msg }, cutWords})
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
