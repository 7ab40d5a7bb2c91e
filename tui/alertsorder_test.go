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
			if !slices.Equal(a.order, want) {
				t.Fatalf("round %d: rows %v, one stable sort gives %v", round, a.order, want)
			}
			merged += len(a.list)
		}
	}
	if merged == 0 {
		t.Fatal("no local alert was merged: the test proves nothing")
	}
}

// wholeSort is the pane's order made the way it was before sortRows kept
// the lifecycle's: one stable sort of every row.
func wholeSort(a *Alerts) []int {
	n, m := len(a.life.Entries), len(a.life.Scores)
	listed := map[string]bool{}
	for i := range a.life.Entries {
		listed[lifecycleKey(a.life.Entries[i].ID)] = true
	}
	var order []int
	for i := range n + m + len(a.list) {
		if i >= n+m && a.list[i-n-m].key != "" && listed[a.list[i-n-m].key] {
			continue
		}
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(x, y int) int { return a.rowAt(y).Compare(a.rowAt(x)) })
	return order
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
