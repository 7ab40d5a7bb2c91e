package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"mavtop/feed"
	"mavtop/model"
)

// BenchmarkView renders a whole frame (ledger → components → string) with 1,000
// workspaces at 200×50 in true colour, as a busy operator's screen would: an
// event arrives before every frame, so every frame has new data (the charts,
// as in production, are redrawn at most once a second).
func BenchmarkView(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := feed.NewHub()
	snap := &model.Snapshot{Period: model.MonthlyUTC.At(now), StreamID: "0-0", Settings: map[string]model.Settings{}}
	var evs []model.Event
	eps := []string{"/responses", "/mave/chat", "/focus-groups", "/video-analyses"}
	for i := 0; i < 1000; i++ {
		ws := fmt.Sprintf("workspace-%04d", i)
		snap.Settings[ws] = model.Settings{Allocation: int64(1000 + i*10)}
		for j := 0; j < 20; j++ {
			evs = append(evs, model.Event{TS: now.Add(-time.Duration(j) * 3 * time.Minute).UnixMilli(), Workspace: ws,
				Project: fmt.Sprintf("p%d", j%3), Endpoint: eps[j%4], Credits: int64(i%50 + j), Status: 200})
		}
		if i%10 == 0 {
			evs = append(evs, model.Event{TS: now.UnixMilli() - 5000, Workspace: ws, Endpoint: "/focus-groups", Status: 402, Code: model.CodeCreditsExhausted, Msg: "out"})
		}
	}
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: snap, Rule: model.MonthlyUTC, At: now.Add(-time.Hour)})
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs})
	mm := benchModel(b, hub, now).(Model)
	ev := model.Event{TS: now.UnixMilli(), Workspace: "workspace-0007", Endpoint: "/responses", Credits: 1, Status: 200}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mm.feed.Ledger.Apply(&ev)
		mm.render()
	}
	if len(mm.frame) == 0 {
		b.Fatal("empty frame")
	}
}

// benchModel returns the dashboard as the frame benchmarks draw it: joined to
// hub with its clock stopped at now, in true colour at 200×50, the hub's
// first message (its snapshot and what followed) taken in.
func benchModel(tb testing.TB, hub *feed.Hub, now time.Time) tea.Model {
	tb.Helper()
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.TrueColor)
	m := New(Options{Source: hub.Join(), Now: func() time.Time { return now }, Renderer: r})
	msgs, _ := m.opt.Source.Next(tb.Context())
	var tm tea.Model = m
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	tm, _ = tm.Update(FeedMsg{Msgs: msgs})
	return tm
}
