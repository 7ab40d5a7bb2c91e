package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// The filter typed key by key, and taken back by backspace, lists at each
// keystroke what a filter of every name lists: its matches are found among
// the last filter's when the new one holds it, and taken again from a
// filter typed before on a backspace, so a workspace that appeared, a
// re-read or a clone between two keystrokes must not leave a match out or
// keep one that no longer matches.
func TestGaugesFilterTypedKeyByKeyMatchesANaiveFilter(t *testing.T) {
	const n = 700
	now := testNow
	rng := rand.New(rand.NewPCG(16, 1601))
	l := model.NewLedger(model.MonthlyUTC, now)
	l.Seed(modeltest.Snapshot(n, now), now)
	g := NewGauges(testCommon())
	g.SetSize(200, 30)
	words := []string{"ws-0001", "ws-00012", "1", "12", "new-00", "W", "0-1", "zz"}
	k, added, narrowed, restored := 0, 0, 0, 0
	check := func(at string) {
		t.Helper()
		g.Refresh(l)
		f := strings.ToLower(g.Filter())
		var want []string
		for _, s := range l.Summaries(nil) {
			if strings.Contains(strings.ToLower(s.Name), f) {
				want = append(want, s.Name)
			}
		}
		got := g.matchRows(0, g.n, nil)
		slices.Sort(want)
		slices.Sort(got)
		if g.n != len(want) || !slices.Equal(got, want) {
			t.Fatalf("%s, filter %q: %d rows %v…, want %d %v…", at, f, g.n, got[:min(len(got), 5)], len(want), want[:min(len(want), 5)])
		}
	}
	for round := range 60 {
		g, _ = g.Update(press("esc"))
		g, _ = g.Update(press("/"))
		w := words[rng.IntN(len(words))]
		for i, r := range w {
			switch rng.IntN(8) {
			case 0: // a workspace appears between two keystrokes
				added++
				e := modeltest.Event(rng.IntN(1<<20), n, now.Add(time.Duration(k)*time.Millisecond).UnixMilli())
				e.Workspace = fmt.Sprintf("new-%04d", added)
				l.Apply(&e)
			case 1:
				l = l.Clone()
			case 2:
				l.Seed(modeltest.Snapshot(n, now), now)
			default: // events of workspaces known
				for range 5 {
					k++
					e := modeltest.Event(rng.IntN(1<<20), n, now.Add(time.Duration(k)*time.Millisecond).UnixMilli())
					l.Apply(&e)
				}
			}
			before := len(g.past)
			g, _ = g.Update(press(string(r)))
			check(fmt.Sprintf("round %d, key %d", round, i))
			if i > 0 && len(g.past) > before {
				narrowed++
			}
		}
		for i := range rng.IntN(len(w) + 1) {
			before := len(g.past)
			g, _ = g.Update(press("backspace"))
			if g.Filter() == "" {
				break
			}
			check(fmt.Sprintf("round %d, backspace %d", round, i))
			if len(g.past) <= before {
				restored++
			}
		}
	}
	if narrowed == 0 || restored == 0 || added == 0 {
		t.Fatalf("narrowed %d times, took a past filter's matches %d times, %d workspaces added: the test tried neither", narrowed, restored, added)
	}
}
