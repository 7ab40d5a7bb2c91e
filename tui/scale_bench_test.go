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
	hub := viewScaleHub(n, now)
	for _, c := range viewCases(n) {
		b.Run(c.name(), func(b *testing.B) {
			mm := viewScaleModel(b, hub, c, now)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			lo, hi := viewFrames(mm, c, n, b.N, now)
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
			if c.middle && !middleBand(g, lo, hi) {
				b.Fatalf("the cursor left the middle: rows %d–%d of %d", lo, hi, g.n)
			}
			b.ReportMetric(float64(g.n), "rows")
			b.ReportMetric(float64(lo), "cursor-lo")
			b.ReportMetric(float64(hi), "cursor-hi")
		})
	}
}

// viewScaleHub is a hub holding n workspaces and an hour of their history.
func viewScaleHub(n int, now time.Time) *feed.Hub {
	hub := feed.NewHub()
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(n, now), Rule: model.MonthlyUTC, At: now.Add(-time.Hour),
		History: modeltest.History(n, n, now), HistoryFrom: now.Add(-time.Hour)})
	return hub
}

// viewScaleModel is a 200×50 dashboard of a viewer of hub in the frame shape
// c: its order, its filter typed, its cursor paged to the middle.
func viewScaleModel(tb testing.TB, hub *feed.Hub, c viewCase, now time.Time) *Model {
	tm := benchModel(tb, hub, now)
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
	return &mm
}

// viewFrames draws frames frames, an event applied before each, and returns
// the lowest and highest row the cursor was on. With the cursor in the middle
// it stays there: the workspace it follows moves as others spend (sorted by
// last event, every match below it that spends pushes it down a row; when it
// spends itself it jumps to the top), so the events skip it, and when it has
// drifted a quarter of a page from the middle the cursor is paged back (it follows
// the workspace it lands on), as a reader watching the middle would. Without
// that the cursor wandered over the whole list and the "middle" frames
// measured the top or the bottom.
func viewFrames(mm *Model, c viewCase, n, frames int, now time.Time) (lo, hi int) {
	g := &mm.gauges
	lo, hi = g.cur.pos, g.cur.pos
	for i, k := 0, 0; i < frames; i, k = i+1, k+1 {
		ev := modeltest.Event(k*7919, n, now.UnixMilli()+int64(i))
		if c.middle && ev.Workspace == g.sel {
			k++
			ev = modeltest.Event(k*7919, n, now.UnixMilli()+int64(i))
		}
		mm.feed.Ledger.Apply(&ev)
		mm.render()
		lo, hi = min(lo, g.cur.pos), max(hi, g.cur.pos)
		if mid := g.n / 2; c.middle && max(g.cur.pos-mid, mid-g.cur.pos)*4 >= g.cur.rows {
			g.cur.pos, g.sel = mid, ""
		}
	}
	return lo, hi
}

// middleBand reports whether the cursor rows lo–hi are within half a page of
// the middle of g's rows.
func middleBand(g *Gauges, lo, hi int) bool {
	mid := g.n / 2
	return lo > 0 && (mid-lo)*2 <= g.cur.rows && (hi-mid)*2 <= g.cur.rows
}

// TestViewScaleMiddleStays: the "middle" frames of BenchmarkViewScale draw the
// cursor in the middle of the rows, every frame, over 300 events (without the
// benchmark's care the cursor wandered: over 1,000 events to rows 0–751 of
// 1,000 sorted by last event, 112–153 of 271 by use with the broad filter;
// over 300, 0–137 of 271 by last event with it).
func TestViewScaleMiddleStays(t *testing.T) {
	const n = 1_000
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := viewScaleHub(n, now)
	for _, c := range viewCases(n) {
		if !c.middle {
			continue
		}
		t.Run(c.name(), func(t *testing.T) {
			mm := viewScaleModel(t, hub, c, now)
			lo, hi := viewFrames(mm, c, n, 300, now)
			g := &mm.gauges
			if c.filter != "" && (g.n == g.total || g.n < n/4) {
				t.Fatalf("filter %q: %d rows of %d, not a broad filter", c.filter, g.n, g.total)
			}
			if !middleBand(g, lo, hi) {
				t.Fatalf("the cursor left the middle: rows %d–%d, the middle %d of %d rows, a page %d", lo, hi, g.n/2, g.n, g.cur.rows)
			}
			t.Logf("rows %d–%d, the middle %d of %d, a page %d", lo, hi, g.n/2, g.n, g.cur.rows)
		})
	}
}
