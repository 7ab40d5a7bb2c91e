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

// firstRows are the first n rows of a lifecycle the pane walks.
func firstRows(l tui.Lifecycle, n int) []tui.LifecycleEntry {
	var out []tui.LifecycleEntry
	l.Rows.Each(func(e tui.LifecycleEntry) bool {
		out = append(out, e)
		return len(out) < n
	})
	return out
}

// The dashboard polls the lifecycle every second: an unchanged poll takes
// nothing and answers the same Version (the pane skips it); a changed record
// shows in that same poll, at its place, whatever the number of records (no
// pause: the pace e2494e0 put on large lifecycles made the pane lag the store
// by seconds), and a lifecycle handed out before is never written.
func TestLifecyclePollTakesWhatChanged(t *testing.T) {
	for _, n := range []int{100, 6_000} {
		at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		idx := notify.NewIndex("2026-11")
		rec := func(i int) feed.StoredAlert {
			return feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: fmt.Sprintf("2026-11/ws%05d/-/threshold/50", i), Period: "2026-11"},
				Status: model.AlertFiring, FiredAt: at.Add(-time.Duration(i) * time.Second)},
				Deliveries: []feed.Delivery{{Summary: fmt.Sprintf("ws%05d used 50 %%", i), Done: true,
					Sinks: map[string]feed.SinkResult{"hook": {Result: feed.ResultSent, Attempts: 1}}}}}
		}
		for i := range n {
			r := rec(i)
			idx.Set(r.Alert.ID, &r)
		}
		takes := 0
		p := &lifecyclePoll{take: func(g uint64) *notify.Lifecycle { takes++; return idx.Lifecycle(g) }}
		l1 := p.poll()
		if l1.Rows.Len() != n || l1.Version == 0 || l1.Rows.Firing().Alerts != n || l1.Rows.Delivery() != "✓ sent 1 sink" {
			t.Fatalf("%d records, first poll: %d rows, version %d, firing %+v, delivery %q", n, l1.Rows.Len(), l1.Version, l1.Rows.Firing(), l1.Rows.Delivery())
		}
		if top := firstRows(l1, 2); top[0].ID != "2026-11/ws00000/-/threshold/50" || top[0].Summary != "ws00000 used 50 %" || top[0].Delivery != "✓ sent 1 sink" {
			t.Fatalf("%d records, newest row %+v", n, top[0])
		}
		for range 3 {
			if l := p.poll(); l.Version != l1.Version || l.Rows != l1.Rows {
				t.Fatalf("%d records, unchanged poll: version %d (was %d), rows replaced %v", n, l.Version, l1.Version, l.Rows != l1.Rows)
			}
		}

		// ws00007's alert resolves, now: the newest row at the next poll
		r := rec(7)
		r.Status, r.ResolvedAt = model.AlertResolved, at.Add(time.Minute)
		idx.Set(r.Alert.ID, &r)
		// ws00009's leaves the list
		idx.Set(rec(9).Alert.ID, nil)
		l2 := p.poll()
		if l2.Version == l1.Version || l2.Rows.Len() != n-1 {
			t.Fatalf("%d records, changed poll: version %d (was %d), %d rows; want a new one and %d", n, l2.Version, l1.Version, l2.Rows.Len(), n-1)
		}
		if e := firstRows(l2, 1)[0]; e.ID != "2026-11/ws00007/-/threshold/50" || e.Status != model.AlertResolved || !e.At.Equal(at.Add(time.Minute)) {
			t.Errorf("%d records, newest row %s %s at %v, want ws00007 resolved at %v", n, e.ID, e.Status, e.At, at.Add(time.Minute))
		}
		if f := l2.Rows.Firing().Alerts; f != n-2 {
			t.Errorf("%d records: %d firing after one resolved and one left, want %d", n, f, n-2)
		}
		if !l2.Rows.Lists("ws00007/-/threshold/50") || l2.Rows.Lists("ws00009/-/threshold/50") {
			t.Errorf("%d records: listed ws00007 %v (want true), ws00009 %v (want false)", n, l2.Rows.Lists("ws00007/-/threshold/50"), l2.Rows.Lists("ws00009/-/threshold/50"))
		}
		// the first lifecycle, which a viewer may still be drawing, is as it was
		if l1.Rows.Len() != n || firstRows(l1, 1)[0].ID != "2026-11/ws00000/-/threshold/50" || l1.Rows.Firing().Alerts != n {
			t.Errorf("%d records: the lifecycle handed out first changed: %d rows, newest %s", n, l1.Rows.Len(), firstRows(l1, 1)[0].ID)
		}
		if takes != 5 {
			t.Errorf("%d records: the watcher asked %d times, want 5 (every poll asks: nothing paces them)", n, takes)
		}
	}
}
