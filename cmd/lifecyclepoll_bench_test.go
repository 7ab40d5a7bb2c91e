package cmd

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/tui"
)

// BenchmarkLifecyclePoll is one record of the alert lifecycle changing and
// the dashboard's next poll taking it, with 44k and 100k records listed
// (44k: what 100k workspaces hold under the scale harness's load). before is
// what a change cost before the lifecycle was kept incrementally: the
// watcher's build (every record made an entry and sorted) and the poll's
// conversion of every entry into a row. one-changed is the record changed in
// the watcher's index (moved in place) and the poll taking the new snapshot
// and walking the 60 rows a pane shows; unchanged a poll with nothing
// changed.
//
//	go test -run '^$' -bench LifecyclePoll -benchmem ./cmd
func BenchmarkLifecyclePoll(b *testing.B) {
	for _, n := range []int{44_000, 100_000} {
		at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		recs := make(map[string]feed.StoredAlert, n)
		idx := notify.NewIndex("2026-11")
		for i := range n {
			a := model.Alert{ID: fmt.Sprintf("2026-11/ws%06d/-/threshold/50", i), Period: "2026-11", Level: model.LevelWarn}
			r := feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: at.Add(-time.Duration(i) * time.Second)},
				Deliveries: []feed.Delivery{{Summary: "ws used 50 % of its 1,000-credit cap", Done: true,
					Sinks: map[string]feed.SinkResult{"hook": {Result: feed.ResultSent, Attempts: 1}}}}}
			recs[a.ID] = r
			idx.Set(a.ID, &r)
		}
		name := fmt.Sprintf("%dk", n/1000)
		b.Run("before-"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				es := make([]notify.Entry, 0, len(recs))
				for _, r := range recs {
					es = append(es, notify.Entry{StoredAlert: &r, Summary: r.Deliveries[0].Summary})
				}
				slices.SortFunc(es, func(a, b notify.Entry) int {
					return cmp.Or(b.At().Compare(a.At()), cmp.Compare(a.Alert.ID, b.Alert.ID))
				})
				rows := make([]tui.LifecycleEntry, 0, len(es))
				for i := range es {
					e := &es[i]
					rows = append(rows, tui.LifecycleEntry{ID: e.Alert.ID, Status: e.Status, Level: e.Alert.Level,
						At: e.At(), Summary: e.Summary, Delivery: e.DeliveryText()})
				}
			}
		})
		p := &lifecyclePoll{take: idx.Lifecycle}
		p.poll()
		b.Run("unchanged-"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.poll()
			}
		})
		ids := slices.Sorted(maps.Keys(recs))
		k := 0
		b.Run("one-changed-"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k++
				r := recs[ids[k%len(ids)]]
				r.Status, r.ResolvedAt = model.AlertResolved, at.Add(time.Duration(k)*time.Millisecond)
				idx.Set(r.Alert.ID, &r)
				firstRows(p.poll(), 60)
			}
		})
	}
}
