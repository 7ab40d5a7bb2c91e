package tui

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"mavtop/model"
)

// tiedPane is a pane of n lifecycle entries, scores and local alerts whose
// times fall on a few seconds, so that many rows of each source tie with
// rows of the others; want is its rows as one stable sort of every row
// (lifecycle, then scores, then local alerts, each newest first) orders
// them, named by keyOf.
func tiedPane(seed uint64, n int) (*Alerts, []rowID) {
	rnd := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func() time.Time { return base.Add(-time.Duration(rnd.IntN(40)) * time.Second) }
	es := make([]LifecycleEntry, n)
	for i := range es {
		es[i] = LifecycleEntry{ID: model.AlertID("2026-11", fmt.Sprintf("ws-%05d", i), "", model.AlertThreshold, "75"),
			At: at(), Status: model.AlertFiring, Level: model.LevelWarn, Summary: "used 75 %"}
	}
	scores := make([]model.ForecastScore, 1+rnd.IntN(12))
	for i := range scores {
		scores[i] = model.ForecastScore{Workspace: fmt.Sprintf("sc-%d", i), Refused: at(), Projected: base.Add(time.Duration(i) * time.Hour)}
	}
	a := NewAlerts(testCommon())
	a.SetSize(120, 30)
	locals := 1 + rnd.IntN(60)
	for range locals {
		a.add(Alert{At: at(), Level: model.LevelWarn, Text: "a notice"})
	}
	a.SetLifecycle(Lifecycle{Rows: newSliceRows(es), Scores: scores, Version: 1})

	type row struct {
		at  time.Time
		src byte
		id  rowID
	}
	var all []row
	sorted := newSliceRows(es)
	sorted.Each(func(e LifecycleEntry) bool {
		all = append(all, row{e.At, srcLife, rowID{src: srcLife, id: e.ID}})
		return true
	})
	ss := slices.Clone(scores)
	slices.SortStableFunc(ss, func(x, y model.ForecastScore) int { return y.Refused.Compare(x.Refused) })
	for _, s := range ss {
		all = append(all, row{s.Refused, srcScore, rowID{src: srcScore, id: s.Workspace, t1: s.Projected.UnixNano(), t2: s.Refused.UnixNano()}})
	}
	ls := slices.Clone(a.list)
	slices.SortStableFunc(ls, func(x, y Alert) int { return y.At.Compare(x.At) })
	for _, l := range ls {
		all = append(all, row{l.At, srcLocal, rowID{src: srcLocal, seq: l.seq}})
	}
	slices.SortStableFunc(all, func(x, y row) int { return cmp.Compare(y.at.UnixNano(), x.at.UnixNano()) })
	want := make([]rowID, len(all))
	for i, r := range all {
		want[i] = r.id
	}
	return &a, want
}

// The rows from any position are those of the whole order, and every row's
// position is found without walking the rows above it (the selection kept
// on its alert at each change), whatever ties there are between the
// lifecycle's entries, the forecast scores and the local alerts.
func TestAlertsRowsFromAnyPositionAreTheWholeOrders(t *testing.T) {
	for seed := range uint64(20) {
		a, want := tiedPane(seed, 30+int(seed)*25)
		if a.rows() != len(want) {
			t.Fatalf("seed %d: %d rows, want %d", seed, a.rows(), len(want))
		}
		for p := 0; p <= len(want); p++ {
			var got []rowID
			a.mergedFrom(p, func(i int, r rowRef) bool {
				if i != p+len(got) {
					t.Fatalf("seed %d from %d: row numbered %d, want %d", seed, p, i, p+len(got))
				}
				got = append(got, a.keyOf(r))
				return len(got) < 4
			})
			if w := want[p:min(p+4, len(want))]; !slices.Equal(got, w) {
				t.Fatalf("seed %d: rows from %d\n got %v\nwant %v", seed, p, got, w)
			}
		}
		for i, id := range want {
			if got, ok := a.position(id); !ok || got != i {
				t.Fatalf("seed %d: %+v found at %d (%v), want %d", seed, id, got, ok, i)
			}
		}
	}
}

// The selection stays on its alert, whichever source its row comes from,
// as lifecycle entries move above it and below it.
func TestAlertsSelectionStaysOnItsRowOfAnySource(t *testing.T) {
	a, _ := tiedPane(3, 400)
	a.focused = true
	for _, src := range []byte{srcLife, srcScore, srcLocal} {
		sel := -1
		a.mergedFrom(a.rows()/3, func(i int, r rowRef) bool {
			if r.src == src {
				sel = i
			}
			return sel < 0
		})
		if sel < 0 {
			sel = a.rows() - 1
		}
		a.cur.pos = sel
		a.cur.clamp()
		a.ensureShown()
		id := a.rowKey(sel)
		// every entry newer than the selected row moves to the top, then
		// to the bottom: the selection follows its row
		es := make([]LifecycleEntry, 0, a.entries.Len())
		a.entries.Each(func(e LifecycleEntry) bool { es = append(es, e); return true })
		for step, shift := range []time.Duration{time.Hour, -2 * time.Hour} {
			moved := 0
			for i := range es {
				if i%3 == step && es[i].ID != id.id {
					es[i].At = es[i].At.Add(shift)
					moved++
				}
			}
			a.SetLifecycle(Lifecycle{Rows: newSliceRows(es), Scores: a.life.Scores, Version: a.life.Version + 1})
			if got := a.rowKey(a.cur.pos); got != id {
				t.Fatalf("source %d, change %d (%d entries moved): row %d selected is %+v, want %+v", src, step, moved, a.cur.pos, got, id)
			}
		}
	}
}
