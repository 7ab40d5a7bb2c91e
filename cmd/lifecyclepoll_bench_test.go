package cmd

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/tui"
)

// BenchmarkLifecyclePoll is one of the dashboard's once-a-second polls of the
// alert lifecycle with 44k records of this period (what 100k workspaces hold
// under the scale harness's load), each delivered to one sink. before is the
// poll as it was: every entry copied and converted at every poll. unchanged is
// a poll with nothing rebuilt since the last; one-changed a poll after one
// record changed (the watcher's own rebuild, its sort, is not in it: it
// happens once per change, polled or not).
//
//	go test -run '^$' -bench LifecyclePoll -benchmem ./cmd
func BenchmarkLifecyclePoll(b *testing.B) {
	const n = 44_000
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	entries := make([]notify.Entry, n)
	for i := range entries {
		a := model.Alert{ID: fmt.Sprintf("2026-11/ws%06d/-/threshold/50", i), Level: model.LevelWarn}
		entries[i] = notify.Entry{Rev: uint64(i + 1), Summary: "ws used 50 % of its 1,000-credit cap",
			StoredAlert: feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: at},
				Deliveries: []feed.Delivery{{Done: true, Sinks: map[string]feed.SinkResult{"hook": {Result: feed.ResultSent, Attempts: 1}}}}}}
	}
	b.Run("before", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var l tui.Lifecycle
			for _, e := range slices.Clone(entries) {
				l.Entries = append(l.Entries, tui.LifecycleEntry{ID: e.Alert.ID, Status: e.Status, Level: e.Alert.Level,
					At: e.At(), Summary: e.Summary, Delivery: e.DeliveryText()})
			}
		}
	})
	gen := uint64(1)
	p := &lifecyclePoll{rows: map[string]polledRow{}, since: func(g uint64) ([]notify.Entry, []model.ForecastScore, uint64) {
		if g == gen {
			return nil, nil, g
		}
		return entries, nil, gen
	}}
	p.poll()
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.poll()
		}
	})
	b.Run("one-changed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			gen++
			entries[7].Rev = gen << 32
			p.poll()
		}
	})
}
