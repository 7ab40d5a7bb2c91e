package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"mavtop/model"
)

// TestAlertRowsAreOneStableSortOfEverySource: the pane keeps the
// lifecycle's rows sorted once per lifecycle and merges the local alerts
// into them (sortRows); the order must be the one stable sort of every
// row, newest first, ties in source order (lifecycle, scores, local), with
// the local alerts the lifecycle lists left out — over random lifecycles,
// scores and local alerts with many equal times, as each local alert
// arrives and as the lifecycle is replaced.
func TestAlertRowsAreOneStableSortOfEverySource(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 25))
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func() time.Time { return base.Add(time.Duration(r.IntN(40)) * time.Second) } // many ties
	merged := 0
	for round := range 200 {
		a := NewAlerts(testCommon())
		life := func() Lifecycle {
			var l Lifecycle
			l.Version = uint64(round)
			for i := range r.IntN(60) {
				id := model.AlertID("2026-11", fmt.Sprintf("ws%d", r.IntN(20)), "", model.AlertRefusals, "credits_exhausted")
				if r.IntN(2) == 0 {
					id = model.AlertID("2026-11", fmt.Sprintf("ws%d", i), "", model.AlertThreshold, "75")
				}
				l.Entries = append(l.Entries, LifecycleEntry{ID: id, At: at(), Status: model.AlertFiring})
			}
			for range r.IntN(5) {
				l.Scores = append(l.Scores, model.ForecastScore{Workspace: "ws1", Refused: at()})
			}
			return l
		}
		a.SetLifecycle(life())
		for range 40 {
			if r.IntN(10) == 0 {
				a.SetLifecycle(life())
			} else {
				ws := fmt.Sprintf("ws%d", r.IntN(30))
				a.add(Alert{At: at(), Level: model.LevelExhausted, Text: "402", Workspace: ws,
					key: lifecycleKey(model.AlertID("", ws, "", model.AlertRefusals, "credits_exhausted"))})
			}
			want := wholeSort(&a)
			if got := paneRows(&a); !slices.Equal(got, want) {
				t.Fatalf("round %d: rows\n%v\none stable sort gives\n%v", round, got, want)
			}
			merged += len(a.list)
		}
	}
	if merged == 0 {
		t.Fatal("no local alert was merged: the test proves nothing")
	}
}

// wholeSort is the pane's order made the way it was before sortRows kept
// the lifecycle's: one stable sort of every row, each row named by rowName.
func wholeSort(a *Alerts) []string {
	n, m := len(a.life.Entries), len(a.life.Scores)
	listed := map[string]bool{}
	for i := range a.life.Entries {
		listed[lifecycleKey(a.life.Entries[i].ID)] = true
	}
	at := func(r int) time.Time {
		switch {
		case r < n:
			return a.life.Entries[r].At
		case r < n+m:
			return a.life.Scores[r-n].Refused
		}
		return a.list[r-n-m].At
	}
	var order []int
	for i := range n + m + len(a.list) {
		if i >= n+m && a.list[i-n-m].key != "" && listed[a.list[i-n-m].key] {
			continue
		}
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(x, y int) int { return at(y).Compare(at(x)) })
	names := make([]string, len(order))
	for k, r := range order {
		switch {
		case r < n:
			names[k] = rowName(rowRef{src: srcLife, e: a.life.Entries[r]})
		case r < n+m:
			names[k] = rowName(rowRef{src: srcScore, i: r - n})
		default:
			names[k] = rowName(rowRef{src: srcLocal, i: r - n - m})
		}
	}
	return names
}

// paneRows names every row the pane lists, in its order (made as far as
// asked, all of them here).
func paneRows(a *Alerts) []string {
	names := make([]string, a.rows())
	for i := range names {
		names[i] = rowName(a.ref(i))
	}
	return names
}

func rowName(r rowRef) string {
	switch r.src {
	case srcLife:
		return fmt.Sprintf("life %s %s", r.e.ID, r.e.At.Format("15:04:05"))
	case srcScore:
		return fmt.Sprintf("score %d", r.i)
	}
	return fmt.Sprintf("local %d", r.i)
}

// BenchmarkAlertsAddRefusal is a 402 reaching the pane (a local alert) with
// the lifecycle of a 100k-workspace period listed (44k entries): the rows
// are merged, not sorted again.
//
//	go test ./tui -run '^$' -bench AlertsAddRefusal -benchmem
func BenchmarkAlertsAddRefusal(b *testing.B) {
	a := NewAlerts(testCommon())
	var l Lifecycle
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 44_000 {
		l.Entries = append(l.Entries, LifecycleEntry{ID: model.AlertID("2026-11", fmt.Sprintf("ws-%06d", i), "", model.AlertThreshold, "75"),
			At: base.Add(-time.Duration(i) * time.Second), Status: model.AlertFiring})
	}
	a.SetLifecycle(l)
	b.ReportAllocs()
	for i := range b.N {
		a.AddRefusal(&model.Event{Workspace: fmt.Sprintf("ws-%06d", i), Code: "credits_exhausted", Endpoint: "chat", Status: 402})
	}
}

// BenchmarkAlertsLifecycleChanged is the pane taking a new lifecycle of 100k
// entries (a poll after one record changed: the rows are shared, sorted and
// counted by their maker) and drawing a 120×40 frame of it, with 200 local
// alerts to merge and the selection kept on a row far down: it walks the
// rows it shows and the ones above the selection, not every entry.
//
//	go test ./tui -run '^$' -bench AlertsLifecycleChanged -benchmem
func BenchmarkAlertsLifecycleChanged(b *testing.B) {
	var es []LifecycleEntry
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 100_000 {
		es = append(es, LifecycleEntry{ID: model.AlertID("2026-11", fmt.Sprintf("ws-%06d", i), "", model.AlertThreshold, "75"),
			At: base.Add(-time.Duration(i) * time.Second), Status: model.AlertFiring, Summary: "used 75 % of its cap", Delivery: "✓ sent 1 sink"})
	}
	rows := newSliceRows(es)
	a := NewAlerts(testCommon())
	a.SetSize(120, 40)
	for i := range maxAlerts {
		a.add(Alert{At: base.Add(-time.Duration(i*7) * time.Second), Level: model.LevelWarn, Text: "a notice", Workspace: "x"})
	}
	a.SetLifecycle(Lifecycle{Rows: rows, Version: 1})
	a.focused = true
	a.cur.move(300) // a row far down stays selected
	a.ensureShown()
	b.ReportAllocs()
	v := uint64(1)
	for b.Loop() {
		v++
		a.SetLifecycle(Lifecycle{Rows: rows, Version: v})
		_ = a.View()
	}
}
