package tui

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestGaugesFilterMatchesANaiveFilter drives the list through random events
// (workspaces moving in every order, blocks of the kept order splitting,
// workspaces appearing), filters (none, most names, a few, one, none
// matching), cursor moves, sort changes, re-reads and the ledger handed over
// as a clone, and after each compares what the list shows with a naive
// filter: every summary whose name holds the filter, fully sorted. The rows
// on screen, the count, the workspace under the cursor and the cursor's row
// (following the chosen workspace wherever it moved, else kept where it was)
// must be the naive list's.
func TestGaugesFilterMatchesANaiveFilter(t *testing.T) {
	const n = 900
	now := testNow
	rng := rand.New(rand.NewPCG(16, 1600))
	l := model.NewLedger(model.MonthlyUTC, now)
	l.Seed(modeltest.Snapshot(n, now), now)
	filters := []string{"", "1", "0", "-00", "12", "ws-0007", modeltest.Workspace(777), "zz", "new", "WS-001"}
	g := NewGauges(testCommon())
	g.SetSize(200, 30)
	k, added, deep := 0, 0, 0
	for step := 0; step < 500; step++ {
		what := ""
		switch op := rng.IntN(20); {
		case op < 8: // events, a few of them from workspaces not seen before
			for range 1 + rng.IntN(40) {
				k++
				e := modeltest.Event(rng.IntN(1<<20), n, now.Add(time.Duration(k)*time.Millisecond).UnixMilli())
				if rng.IntN(50) == 0 {
					added++
					e.Workspace = fmt.Sprintf("new-%04d", added)
				}
				l.Apply(&e)
			}
			what = "events"
		case op < 14:
			key := []string{"up", "down", "pgup", "pgdown", "pgdown", "pgdown", "home", "end", "j", "k"}[rng.IntN(10)]
			for range 1 + rng.IntN(8) {
				g, _ = g.Update(press(key))
			}
			what = "cursor " + key
		case op < 16:
			g, _ = g.Update(press("s"))
			what = "sort"
		case op < 19:
			f := filters[rng.IntN(len(filters))]
			g, _ = g.Update(press("esc"))
			if f != "" {
				g, _ = g.Update(press("/"))
				g, _ = g.Update(press(f))
				g, _ = g.Update(press("enter"))
			}
			what = "filter " + f
		default:
			if rng.IntN(2) == 0 {
				l.Seed(modeltest.Snapshot(n, now), now)
				what = "re-read"
			} else {
				l = l.Clone()
				what = "clone"
			}
		}
		prevSel, prevPos, chosen := g.sel, g.cur.pos, g.chosen
		g.Refresh(l)

		f := strings.ToLower(g.Filter())
		want := l.Summaries(nil)
		want = slices.DeleteFunc(want, func(s model.Summary) bool { return !strings.Contains(strings.ToLower(s.Name), f) })
		order := gaugeOrders[g.order].name
		slices.SortFunc(want, func(a, b model.Summary) int { return cmp.Or(sortFirsts[order](&a, &b), model.CompareByUse(&a, &b)) })
		at := fmt.Sprintf("step %d (%s), %s, filter %q", step, what, order, f)
		if g.n != len(want) {
			t.Fatalf("%s: %d rows, want %d", at, g.n, len(want))
		}
		if len(want) == 0 {
			if len(g.visible) != 0 || g.Selected() != "" {
				t.Fatalf("%s: no match, yet %d rows shown, %q selected", at, len(g.visible), g.Selected())
			}
			continue
		}
		wantPos := 0
		if chosen {
			wantPos = max(min(prevPos, len(want)-1), 0)
			if i := slices.IndexFunc(want, func(s model.Summary) bool { return s.Name == prevSel }); i >= 0 {
				wantPos = i
			}
		}
		if g.cur.pos != wantPos || g.Selected() != want[wantPos].Name {
			t.Fatalf("%s: cursor on row %d (%s), want row %d (%s)", at, g.cur.pos, g.Selected(), wantPos, want[wantPos].Name)
		}
		from, to := g.cur.window()
		if len(g.visible) != to-from {
			t.Fatalf("%s: %d rows shown, want %d", at, len(g.visible), to-from)
		}
		for i, r := range g.visible {
			if r.Name != want[from+i].Name {
				t.Fatalf("%s: row %d is %s, want %s", at, from+i, r.Name, want[from+i].Name)
			}
		}
		deep = max(deep, g.cur.pos)
	}
	if deep < n/2 || added == 0 {
		t.Fatalf("the cursor went no deeper than row %d, %d workspaces added: the test did not reach the middle", deep, added)
	}
}
