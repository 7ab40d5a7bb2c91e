package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/feed"
	"mavtop/model"
)

// refusalsApp is a dashboard at w×h with the demo's two kinds of 402 and
// request ids of 17 to 20 characters, as the API and the sandbox make them.
func refusalsApp(t *testing.T, w, h int) (Model, []model.Event) {
	t.Helper()
	m, hub := newApp(t, w, h, Options{})
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
			Settings: map[string]model.Settings{"umbrella-research": {Allocation: 30_000}, "hooli-ml": {Allocation: 3_000_000}},
			Budgets:  map[string]model.ProjectBudget{model.ProjectKey("hooli-ml", "training"): {Limit: 90_000}}}})
	var evs []model.Event
	for i, req := range []string{"req_1zn27iw6katra", "req_i151r5rs4oqwts", "req_3so4sts8bcigs2x", "req_2ilkt48rsx2bd0zz"} {
		ev := model.Event{ID: fmt.Sprintf("%d-0", i+1), TS: testNow.Add(time.Duration(i-10) * time.Minute).UnixMilli(),
			Workspace: "umbrella-research", Project: "trials", Endpoint: "/focus-groups", Status: 402, Code: model.CodeCreditsExhausted,
			Msg: "You have run out of credits. Upgrade your plan, add credits in Settings > Billing, or wait for your credits to reset.", Req: req}
		if i%2 == 1 {
			ev.Workspace, ev.Project, ev.Code = "hooli-ml", "training", model.CodeBudgetExceeded
			ev.Msg = `Budget exceeded: project "training" has reached its usage limit`
		}
		evs = append(evs, ev)
	}
	hub.Handle(&feed.BatchMsg{Gen: 2, Events: evs})
	return pump(t, m), evs
}

// logLines is the 402 log pane's lines on screen, borders removed.
func logLines(m Model) []string {
	var out []string
	for _, l := range strings.Split(ansi.Strip(m.log.View()), "\n") {
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

// TestRefusalLogReadsAtASmallSize is the 402 log as the demo opens at 80×24
// and as small as 60×16, focused or not: the selected row carries the "▸"
// (it was on the facts line under the list, which read as a third row
// repeating the first), the facts are labelled "↳" and name the selected
// entry, its request id whole; no row shows a request id cut (the column
// holds 20 characters or is left out of every row); and the advice is whole
// (it was cut at "Ask a workspace own…"), for both kinds of 402.
func TestRefusalLogReadsAtASmallSize(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}} {
		w, h := sz[0], sz[1]
		m, evs := refusalsApp(t, w, h)
		for _, focus := range []string{"unfocused", "focused"} {
			if focus == "focused" {
				m = update(t, m, press("l"))
			}
			for step := range 1 + btoi(focus == "focused") { // the newest (a budget_exceeded), then the one under it
				if step == 1 {
					m = update(t, m, press("j"))
				}
				lines := logLines(m)
				sel := evs[len(evs)-1-step]
				if m.log.cur.pos != step || refusalKey(&m.log.rows[step]) != sel.ID {
					t.Fatalf("%dx%d %s: selected %d, want %s", w, h, focus, m.log.cur.pos, sel.ID)
				}
				var marked, facts []string
				for _, l := range lines {
					switch {
					case strings.HasPrefix(l, "▸ "):
						marked = append(marked, l)
					case strings.HasPrefix(l, "↳ "):
						facts = append(facts, l)
					}
					for _, e := range evs {
						if i := strings.Index(l, "req_"); i >= 0 && strings.HasPrefix(l[i:], e.Req[:7]) && !strings.HasPrefix(l[i:], e.Req) {
							t.Errorf("%dx%d %s: line %q cuts %s", w, h, focus, l, e.Req)
						}
					}
				}
				if len(marked) != 1 || !strings.Contains(marked[0], shortName(sel.Workspace, m.log.names())) || !strings.Contains(marked[0], sel.Code) {
					t.Errorf("%dx%d %s: rows marked ▸ %q, want one: the selected %s %s", w, h, focus, marked, sel.Workspace, sel.Code)
				}
				// the code and the request id whole, each once: in the row,
				// else on the facts line under the list
				if len(facts) != 1 {
					t.Fatalf("%dx%d %s: facts %q, want one line", w, h, focus, facts)
				}
				for _, f := range []string{sel.Code, sel.Req} {
					if n := strings.Count(marked[0]+"\n"+facts[0], f); n != 1 {
						t.Errorf("%dx%d %s: %s whole %d times in the row %q and the facts %q, want once", w, h, focus, f, n, marked[0], facts[0])
					}
				}
				if w < 70 {
					continue // 5 lines: the facts alone under the list
				}
				advice := model.RefusalAdvice(sel.Code)
				if got := words(strings.Join(lines, "\n")); !strings.Contains(got, "→ "+advice.Message) && !strings.Contains(got, "→ "+adviceAction(advice.Message)) {
					t.Errorf("%dx%d %s: the advice for %s is not whole:\n%s", w, h, focus, sel.Code, strings.Join(lines, "\n"))
				}
				if n := len(lines); n != m.log.height {
					t.Errorf("%dx%d %s: %d lines in a pane of %d", w, h, focus, n, m.log.height)
				}
			}
		}
	}
}

// TestAShortMessageIsSaidOnce: a message its row shows whole is not said
// again under the list (each fact once); the facts line and the lines the
// advice left repeated it ('↳ project web · “over quota”' under a row ending
// 'over quota'), at every size.
func TestAShortMessageIsSaidOnce(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}, {200, 50}} {
		m, hub := newApp(t, sz[0], sz[1], Options{})
		hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
			Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0"}})
		hub.Handle(&feed.BatchMsg{Gen: 2, Events: []model.Event{{ID: "1-0", TS: testNow.Add(-time.Minute).UnixMilli(),
			Workspace: "beta", Project: "web", Endpoint: "/x", Status: 402, Code: model.CodeBudgetExceeded, Msg: "over quota"}}})
		m = pump(t, m)
		if n := strings.Count(strings.Join(logLines(m), "\n"), "over quota"); n != 1 {
			t.Errorf("%dx%d: the message %d times, want once:\n%s", sz[0], sz[1], n, strings.Join(logLines(m), "\n"))
		}
	}
}
