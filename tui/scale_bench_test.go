package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkViewScale renders one 200×50 frame at 1k, 10k and 100k workspaces
// in every sort the table offers, an event applied before every frame (so
// every frame has news): a frame must cost what is on screen, not what exists.
// Beside the five sorts with the cursor on the top row: the cursor paged to the
// middle of the list (middle), and the / filter on names matching ~40 % of the
// workspaces (broad: the kept order is walked), ~5 % (narrow: the matches are
// sorted) and one (one), in the sort that moves every event and by use.
func BenchmarkViewScale(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) { viewScale(b, n) })
	}
}

// viewCase is one frame shape of BenchmarkViewScale.
type viewCase struct {
	order  gaugeOrder
	filter string // typed after /
	middle bool   // the cursor paged to the middle of the rows
}

func (c viewCase) name() string {
	s := strings.ReplaceAll(gaugeOrders[c.order].name, " ", "_")
	switch c.filter {
	case "":
	case "1":
		s += "_filter_broad"
	case "12":
		s += "_filter_narrow"
	default:
		s += "_filter_one"
	}
	if c.middle {
		s += "_middle"
	}
	return s
}

func viewCases(n int) []viewCase {
	var cases []viewCase
	for o := range gaugeOrders {
		cases = append(cases, viewCase{order: gaugeOrder(o)})
	}
	byUse, byLast := gaugeOrder(0), gaugeOrder(len(gaugeOrders)-1)
	cases = append(cases, viewCase{order: byUse, middle: true}, viewCase{order: byLast, middle: true})
	for _, o := range []gaugeOrder{byUse, byLast} {
		// names are ws-000000…: "1" is in ~40 % of them, "12" in ~5 %
		for _, f := range []string{"1", "12", modeltest.Workspace(n / 2)} {
			cases = append(cases, viewCase{order: o, filter: f})
		}
		cases = append(cases, viewCase{order: o, filter: "1", middle: true})
	}
	return cases
}

func viewScale(b *testing.B, n int) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := feed.NewHub()
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(n, now), Rule: model.MonthlyUTC, At: now.Add(-time.Hour),
		History: modeltest.History(n, n, now), HistoryFrom: now.Add(-time.Hour)})
	for _, c := range viewCases(n) {
		b.Run(c.name(), func(b *testing.B) {
			tm := benchModel(b, hub, now)
			if c.filter != "" {
				for _, k := range []string{"/", c.filter, "enter"} {
					tm, _ = tm.Update(press(k))
				}
			}
			mm := tm.(Model)
			mm.gauges.order = c.order
			mm.render()
			if c.middle { // as if paged down to the middle: the cursor follows that workspace
				mm.gauges.cur.pos, mm.gauges.chosen, mm.gauges.sel = mm.gauges.n/2, true, ""
				mm.render()
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				ev := modeltest.Event(i*7919, n, now.UnixMilli()+int64(i))
				mm.feed.Ledger.Apply(&ev)
				mm.render()
			}
			b.StopTimer()
			// CPU per frame: the process's (the collector's share included),
			// which a loaded machine inflates far less than wall time
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
			g := &mm.gauges
			if len(mm.frame) == 0 || !strings.Contains(mm.frame, gaugeOrders[c.order].name) || len(g.visible) == 0 {
				b.Fatalf("the frame is not in order %q or has no rows", gaugeOrders[c.order].name)
			}
			if c.filter != "" && (g.Filter() != c.filter || g.n == g.total) {
				b.Fatalf("filter %q: %d rows of %d", g.Filter(), g.n, g.total)
			}
			// sorted by last event the followed workspace rises when it
			// spends, so the cursor ends above the middle but off the top
			if c.middle && (g.cur.pos == 0 || g.Selected() == "") {
				b.Fatalf("the cursor is not below the top: row %d of %d, selected %q", g.cur.pos, g.n, g.Selected())
			}
			b.ReportMetric(float64(g.n), "rows")
			b.ReportMetric(float64(g.cur.pos), "cursor")
		})
	}
}
