package tui

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestGaugesEveryOrderMatchesAFullSort checks each sort the table offers, with
// and without a filter matching most workspaces, against a full sort of every
// summary: the rows on screen and the workspace under the cursor after paging
// deep into the list, while events keep moving workspaces.
func TestGaugesEveryOrderMatchesAFullSort(t *testing.T) {
	const n = 3000
	now := testNow
	l := model.NewLedger(model.MonthlyUTC, now)
	l.Seed(modeltest.Snapshot(n, now), now)
	apply := func(from, count int) {
		for k := from; k < from+count; k++ {
			e := modeltest.Event(k*7919, n, now.Add(time.Duration(k)*time.Millisecond).UnixMilli())
			l.Apply(&e)
		}
	}
	apply(0, 500)
	for _, filter := range []string{"", "1", "12"} { // "1": most names, so the kept order is walked; "12": few, sorted (kept sorted from frame to frame)
		g := NewGauges(testCommon())
		g.SetSize(200, 40)
		if filter != "" {
			g, _ = g.Update(press("/"))
			g, _ = g.Update(press(filter))
			g, _ = g.Update(press("enter"))
		}
		for range gaugeOrders {
			name := gaugeOrders[g.order].name
			for step := 0; step < 4; step++ {
				g.Refresh(l)
				want := l.Summaries(nil)
				want = slices.DeleteFunc(want, func(s model.Summary) bool { return !strings.Contains(s.Name, filter) })
				slices.SortFunc(want, func(a, b model.Summary) int { return cmp.Or(sortFirsts[name](&a, &b), model.CompareByUse(&a, &b)) })
				if g.n != len(want) {
					t.Fatalf("%s, filter %q: %d rows, want %d", name, filter, g.n, len(want))
				}
				from, _ := g.cur.window()
				for i, r := range g.visible {
					if r.Name != want[from+i].Name {
						t.Fatalf("%s, filter %q, step %d: row %d is %s, want %s", name, filter, step, from+i, r.Name, want[from+i].Name)
					}
				}
				if g.Selected() != want[g.cur.pos].Name {
					t.Fatalf("%s, filter %q: selected %s at %d, want %s", name, filter, g.Selected(), g.cur.pos, want[g.cur.pos].Name)
				}
				for range 17 { // deeper each step
					g, _ = g.Update(tea.KeyMsg{Type: tea.KeyPgDown})
				}
				apply(500+step*50, 50)
			}
			g, _ = g.Update(press("g"))
			g, _ = g.Update(press("s"))
		}
	}
}

// TestGaugesFilterFollowsAReReadThatSwapsAWorkspace re-reads the counters with
// one workspace gone and another come, the count unchanged: the filter's
// matches must drop the one and list the other (they were kept by count).
func TestGaugesFilterFollowsAReReadThatSwapsAWorkspace(t *testing.T) {
	const n = 3000
	now := testNow
	l := model.NewLedger(model.MonthlyUTC, now)
	l.Seed(modeltest.Snapshot(n, now), now)
	for _, filter := range []string{"12", "1"} { // few matches (sorted), many (the kept order walked)
		g := NewGauges(testCommon())
		g.SetSize(200, 40)
		g, _ = g.Update(press("/"))
		g, _ = g.Update(press(filter))
		g, _ = g.Update(press("enter"))
		g.Refresh(l)
		s := modeltest.Snapshot(n, now)
		gone, came := modeltest.Workspace(12), "zz-12-1"
		delete(s.Used, gone)
		delete(s.Settings, gone)
		for f := range s.UsedBy {
			if strings.HasPrefix(f, gone+"/") {
				delete(s.UsedBy, f)
			}
		}
		s.Used[came], s.Settings[came] = 5_000, model.Settings{Allocation: 1_000} // 500 %: the top row by use
		l.Seed(s, now)
		if l.Len() != n {
			t.Fatalf("the re-read holds %d workspaces, want %d", l.Len(), n)
		}
		g.Refresh(l)
		want := 0
		for _, name := range l.Names(nil) {
			if strings.Contains(name, filter) {
				want++
			}
		}
		if g.n != want || g.visible[0].Name != came || slices.Contains(g.matchRows(0, g.n, nil), gone) {
			t.Fatalf("filter %q after the re-read: %d rows (want %d), top %s (want %s), %s listed %v",
				filter, g.n, want, g.visible[0].Name, came, gone, slices.Contains(g.matchRows(0, g.n, nil), gone))
		}
		l.Seed(modeltest.Snapshot(n, now), now)
	}
}

// sortFirsts are each sort's own comparison, by the sort's title; ties go
// by use (model.CompareByUse), as the pane breaks them.
var sortFirsts = map[string]func(a, b *model.Summary) int{
	"by use":          func(a, b *model.Summary) int { return 0 },
	"by name":         func(a, b *model.Summary) int { return cmp.Compare(a.Name, b.Name) },
	"by credits used": func(a, b *model.Summary) int { return cmp.Compare(b.Used, a.Used) },
	"by 402s":         func(a, b *model.Summary) int { return cmp.Compare(b.Refused.Total(), a.Refused.Total()) },
	"by last event":   func(a, b *model.Summary) int { return cmp.Compare(b.LastTS, a.LastTS) },
}
