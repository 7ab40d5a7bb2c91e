package tui

import (
	"cmp"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

func TestProbeRandomGauges(t *testing.T) {
	const n = 2000
	now := testNow
	firsts := map[string]func(a, b *model.Summary) int{
		"by use":          func(a, b *model.Summary) int { return 0 },
		"by name":         func(a, b *model.Summary) int { return cmp.Compare(a.Name, b.Name) },
		"by credits used": func(a, b *model.Summary) int { return cmp.Compare(b.Used, a.Used) },
		"by 402s":         func(a, b *model.Summary) int { return cmp.Compare(b.Refused.Total(), a.Refused.Total()) },
		"by last event":   func(a, b *model.Summary) int { return cmp.Compare(b.LastTS, a.LastTS) },
	}
	for seed := int64(0); seed < 6; seed++ {
		r := rand.New(rand.NewSource(seed))
		hub := model.NewLedger(model.MonthlyUTC, now)
		hub.Seed(modeltest.Snapshot(n, now), now)
		l := hub.Clone()
		g := NewGauges(testCommon())
		g.SetSize(200, 30)
		k := 0
		filter := ""
		prevSel, userMoved := "", false
		for step := 0; step < 400; step++ {
			userMoved = false
			switch a := r.Intn(12); a {
			case 0, 1, 2: // events
				c := r.Intn(200)
				for i := 0; i < c; i++ {
					k++
					e := modeltest.Event(k*7919+r.Intn(5), n, now.Add(time.Duration(k)*time.Millisecond).UnixMilli())
					if r.Intn(50) == 0 {
						e.Workspace = fmt.Sprintf("new-%d-1%d", seed, k)
					}
					e2 := e
					l.Apply(&e)
					hub.Apply(&e2)
				}
			case 3: // viewer gets fresh copy
				hub.Ordered(g.kept(), 0, 0, nil)
				l = hub.Clone()
			case 4:
				g, _ = g.Update(press([]string{"up", "down", "pgup", "pgdown", "home", "end"}[r.Intn(6)]))
				userMoved = true
			case 5:
				g, _ = g.Update(press([]string{"s", "<"}[r.Intn(2)]))
				userMoved = true
			case 6:
				f := []string{"", "1", "12", "7", "new", "ws-0019"}[r.Intn(6)]
				g, _ = g.Update(press("esc"))
				if f != "" {
					g, _ = g.Update(press("/"))
					for _, ch := range f {
						g, _ = g.Update(press(string(ch)))
					}
					g, _ = g.Update(press("enter"))
				}
				filter = f
				userMoved = true
			case 7:
				for i := 0; i < 1+r.Intn(30); i++ {
					g, _ = g.Update(press("down"))
				}
				userMoved = true
			default:
				k++
				e := modeltest.Event(k*7919, n, now.Add(time.Duration(k)*time.Millisecond).UnixMilli())
				l.Apply(&e)
				hub.Apply(&e)
			}
			g.Refresh(l)
			want := l.Summaries(nil)
			want = slices.DeleteFunc(want, func(s model.Summary) bool { return !strings.Contains(s.Name, filter) })
			name := gaugeOrders[g.order].name
			slices.SortFunc(want, func(a, b model.Summary) int { return cmp.Or(firsts[name](&a, &b), model.CompareByUse(&a, &b)) })
			if g.n != len(want) {
				t.Fatalf("seed %d step %d %s filter %q: n %d want %d", seed, step, name, filter, g.n, len(want))
			}
			from, _ := g.cur.window()
			for i, row := range g.visible {
				if row.Name != want[from+i].Name {
					t.Fatalf("seed %d step %d %s filter %q: row %d is %s want %s", seed, step, name, filter, from+i, row.Name, want[from+i].Name)
				}
			}
			if len(want) > 0 && g.Selected() != want[g.cur.pos].Name {
				t.Fatalf("seed %d step %d: selected %s want %s", seed, step, g.Selected(), want[g.cur.pos].Name)
			}
			if !userMoved && g.chosen && prevSel != "" && g.Selected() != prevSel && slices.ContainsFunc(want, func(s model.Summary) bool { return s.Name == prevSel }) {
				t.Fatalf("seed %d step %d: selection jumped from %s to %s", seed, step, prevSel, g.Selected())
			}
			prevSel = g.Selected()
		}
	}
}
