package tui

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/model"
)

// RefusalLog is the 402 log: newest first, with the budget that refused each
// request and, for the selected one, what to tell the user and where to fix it.
type RefusalLog struct {
	common
	rows    []model.Refusal
	total   int64
	cur     listCursor
	width   int
	height  int
	focused bool
}

// NewRefusalLog returns an empty log.
func NewRefusalLog(c common) RefusalLog { return RefusalLog{common: c} }

// SetSize sets the content size; two lines are kept for the selected entry's advice.
func (r *RefusalLog) SetSize(w, h int) {
	r.width, r.height = w, h
	r.cur.setRows(h - 1 - r.adviceLines())
}

func (r *RefusalLog) adviceLines() int {
	if r.height >= 6 {
		return 2
	}
	return 0
}

// Refresh takes the latest refusals from the ledger.
func (r *RefusalLog) Refresh(l *model.Ledger) {
	r.rows = l.Refusals(r.rows[:0], model.DefaultRefusalLog)
	r.total = l.RefusalTotals().Total()
	r.cur.setLen(len(r.rows))
}

// Title says how many 402s this period.
func (r RefusalLog) Title() string {
	return fmt.Sprintf("402 refusals (%s this period)", credits(r.total))
}

// Update scrolls the log.
func (r RefusalLog) Update(msg tea.Msg) (RefusalLog, tea.Cmd) {
	r.cur.handle(msg, r.km)
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
	cols := r.columns()
	var b strings.Builder
	head := ""
	for _, c := range cols {
		head += align(c.head, c.width, false) + " "
	}
	b.WriteString(r.st.Dim.Render(fit(head, r.width)))
	from, to := r.cur.window()
	for i := from; i < to; i++ {
		e := &r.rows[i]
		var line strings.Builder
		for _, c := range cols {
			line.WriteString(align(model.Sanitize(c.cell(e)), c.width, false) + " ")
		}
		s := fit(line.String(), r.width)
		if i == r.cur.pos && r.focused {
			s = r.st.Selected.Render(pad(s, r.width))
		} else if i == r.cur.pos {
			s = r.st.Bold.Render(s)
		}
		b.WriteString("\n" + s)
	}
	if n := r.adviceLines(); n > 0 {
		// keep the advice at the bottom of the pane
		for i := to - from; i < r.cur.rows; i++ {
			b.WriteByte('\n')
		}
		sel := &r.rows[r.cur.pos]
		u := model.RefusalAdvice(sel.Event.Code)
		b.WriteString("\n" + r.st.Warn.Render(fit("→ "+u.Message, r.width)))
		b.WriteString("\n" + r.st.Dim.Render(fit("  "+u.ActionURL, r.width)))
	}
	return b.String()
}

type logColumn struct {
	head  string
	width int
	cell  func(e *model.Refusal) string
}

// columns fits the log's columns to the width; the message takes what is left.
func (r *RefusalLog) columns() []logColumn {
	all := []logColumn{
		{"time", 8, func(e *model.Refusal) string { return time.UnixMilli(e.Event.TS).Local().Format("15:04:05") }},
		{"workspace", 14, func(e *model.Refusal) string { return e.Event.Workspace }},
		{"project", 10, func(e *model.Refusal) string { return orDash(e.Event.Project) }},
		{"endpoint", 15, func(e *model.Refusal) string { return e.Event.Endpoint }},
		{"code", 17, func(e *model.Refusal) string { return orDash(e.Event.Code) }},
		{"refused by", 15, func(e *model.Refusal) string { return e.By.String() }},
		{"request", 12, func(e *model.Refusal) string { return orDash(e.Event.Req) }},
	}
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
	for _, name := range []string{"request", "project", "refused by", "endpoint"} {
		if r.width-used() >= 20 {
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
	return append(cols, logColumn{"message", max(r.width-used(), 0), func(e *model.Refusal) string { return e.Event.Msg }})
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
