package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkViewScale renders one 200×50 frame at 1k, 10k and 100k workspaces
// in every sort the table offers, an event applied before every frame (so
// every frame has news): a frame must cost what is on screen, not what exists.
func BenchmarkViewScale(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) { viewScale(b, n) })
	}
}

func viewScale(b *testing.B, n int) {
	{
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		hub := feed.NewHub()
		hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(n, now), Rule: model.MonthlyUTC, At: now.Add(-time.Hour),
			History: modeltest.History(n, n, now), HistoryFrom: now.Add(-time.Hour)})
		for o := range gaugeOrders {
			b.Run(strings.ReplaceAll(gaugeOrders[o].name, " ", "_"), func(b *testing.B) {
				r := lipgloss.NewRenderer(nil)
				r.SetColorProfile(termenv.TrueColor)
				m := New(Options{Source: hub.Join(), Now: func() time.Time { return now }, Renderer: r})
				msgs, _ := m.opt.Source.Next(b.Context())
				var tm tea.Model = m
				tm, _ = tm.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
				tm, _ = tm.Update(FeedMsg{Msgs: msgs})
				mm := tm.(Model)
				mm.gauges.order = gaugeOrder(o)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					ev := modeltest.Event(i*7919, n, now.UnixMilli()+int64(i))
					mm.feed.Ledger.Apply(&ev)
					mm.render()
				}
				if len(mm.frame) == 0 || !strings.Contains(mm.frame, gaugeOrders[o].name) {
					b.Fatalf("the frame is not in order %q", gaugeOrders[o].name)
				}
			})
		}
	}
}
