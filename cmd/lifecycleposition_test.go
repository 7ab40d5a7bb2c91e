package cmd

import (
	"fmt"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/tui"
)

// The dashboard's lifecycle rows answer the pane's questions of positions
// (an entry's position, the entries from a position, those at a time or
// later) as a walk of every row answers them, ties included, before and
// after records change: the pane keeps a selection far down on its alert by
// them, without walking the rows above it.
func TestLifecycleRowsPositionsAreTheWalks(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	idx := notify.NewIndex("2026-11")
	const n = 3_000
	set := func(i int, st model.AlertStatus, when time.Time) {
		r := feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: fmt.Sprintf("2026-11/ws%05d/-/threshold/50", i), Period: "2026-11"},
			Status: st, FiredAt: when, ResolvedAt: when}}
		idx.Set(r.Alert.ID, &r)
	}
	for i := range n {
		set(i, model.AlertFiring, at.Add(-time.Duration(i%97)*time.Second)) // 97 times: ~31 entries each
	}
	p := &lifecyclePoll{take: idx.Lifecycle}
	check := func(step string) {
		rows := p.poll().Rows
		var all []tui.LifecycleEntry
		rows.Each(func(e tui.LifecycleEntry) bool { all = append(all, e); return true })
		if len(all) != rows.Len() {
			t.Fatalf("%s: walked %d rows of %d", step, len(all), rows.Len())
		}
		for i := 0; i < len(all); i += 7 {
			e := all[i]
			if got, gotAt, ok := rows.Position(e.ID); !ok || got != i || !gotAt.Equal(e.At) {
				t.Fatalf("%s: %s at %d (%v, %v), want %d (%v)", step, e.ID, got, ok, gotAt, i, e.At)
			}
			var from []string
			rows.EachFrom(i, func(e tui.LifecycleEntry) bool { from = append(from, e.ID); return len(from) < 3 })
			for k, id := range from {
				if id != all[i+k].ID {
					t.Fatalf("%s: row %d from %d is %s, want %s", step, k, i, id, all[i+k].ID)
				}
			}
			want := 0
			for want < len(all) && !all[want].At.Before(e.At) {
				want++
			}
			if got := rows.AtOrAfter(e.At); got != want {
				t.Fatalf("%s: %d entries at %v or later, want %d", step, got, e.At, want)
			}
		}
		if _, _, ok := rows.Position("2026-11/nosuch/-/threshold/50"); ok {
			t.Fatalf("%s: an alert not listed has a position", step)
		}
	}
	check("start")
	for i := 0; i < n; i += 5 {
		set(i, model.AlertResolved, at.Add(time.Duration(i%13)*time.Second))
	}
	for i := 1; i < n; i += 11 {
		idx.Set(fmt.Sprintf("2026-11/ws%05d/-/threshold/50", i), nil)
	}
	check("changed")
}
