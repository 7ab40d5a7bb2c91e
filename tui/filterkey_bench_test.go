package tui

import (
	"testing"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkFilterKeystroke is one keystroke in the workspaces filter at 100k
// workspaces and the list's next Refresh: the first character ("1", ~40 %
// of the names), a second one narrowing it ("12"), and a backspace back to
// "1". Each op starts from the state before the keystroke (cpu-ms/op: the
// process's CPU, which a loaded machine inflates far less than wall time).
//
//	go test ./tui -run '^$' -bench FilterKeystroke -benchmem
func BenchmarkFilterKeystroke(b *testing.B) {
	const n = 100_000
	now := testNow
	l := model.NewLedger(model.MonthlyUTC, now)
	l.Seed(modeltest.Snapshot(n, now), now)
	g := NewGauges(testCommon())
	g.SetSize(200, 40)
	g.Refresh(l)
	type step struct{ name, before, after string }
	for _, s := range []step{{"first-1", "", "1"}, {"narrow-12", "1", "12"}, {"backspace-1", "12", "1"}} {
		b.Run(s.name, func(b *testing.B) {
			// the state before: the filters typed up to it, each refreshed
			start := g
			start.matches, start.past = filterCache{}, nil
			if s.before == "12" {
				start.filter.SetValue("1")
				start.Refresh(l)
			}
			if s.before != "" {
				start.filter.SetValue(s.before)
				start.Refresh(l)
			}
			b.ReportAllocs()
			cpu, ops := processCPU(), 0
			for b.Loop() {
				h := start
				h.past = append([]filterCache(nil), start.past...)
				h.filter.SetValue(s.after)
				h.Refresh(l)
				ops++
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(ops)/1e6, "cpu-ms/op")
		})
	}
}
