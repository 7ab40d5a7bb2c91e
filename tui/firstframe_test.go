package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestTheFirstGaugesShowAtOnce: a viewer that joins draws its frame at once
// (connecting), then the hub's ledger arrives; its gauges must show at once,
// not after the frame period the first frame started (at serve's --fps 4,
// the first rows came after two frame periods, ~0.5 s; BenchmarkServeJoin).
func TestTheFirstGaugesShowAtOnce(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := feed.NewHub()
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(20, now), Rule: model.MonthlyUTC, At: now})
	m := New(Options{Source: hub.Join(), Now: func() time.Time { return now }, Renderer: lipgloss.NewRenderer(nil), FPS: 1})
	t.Cleanup(m.Close)
	var tm tea.Model = m
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	if strings.Contains(tm.View(), "ws-0000") {
		t.Fatal("gauges before the ledger came")
	}
	msgs, err := m.opt.Source.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tm, _ = tm.Update(FeedMsg{Msgs: msgs})
	if !strings.Contains(tm.View(), "ws-0000") {
		t.Fatalf("the first gauges wait for the next frame:\n%s", tm.View())
	}
}

// TestFirstGaugesIsCalledOnceAtTheFirstGauges: Options.FirstGauges (the
// dashboard releases the alert watcher's start with it) is called once, when
// the first frame drawn from a ledger is composed, not at a frame before it
// (connecting) nor again after.
func TestFirstGaugesIsCalledOnceAtTheFirstGauges(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := feed.NewHub()
	calls := 0
	m := New(Options{Source: hub.Join(), Now: func() time.Time { return now }, Renderer: lipgloss.NewRenderer(nil),
		FirstGauges: func() { calls++ }})
	t.Cleanup(m.Close)
	var tm tea.Model = m
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	if calls != 0 {
		t.Fatalf("called %d times before a ledger came", calls)
	}
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(20, now), Rule: model.MonthlyUTC, At: now})
	msgs, err := m.opt.Source.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tm, _ = tm.Update(FeedMsg{Msgs: msgs})
	if !strings.Contains(tm.View(), "ws-0000") || calls != 1 {
		t.Fatalf("called %d times with the gauges drawn, want 1:\n%s", calls, tm.View())
	}
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 180, Height: 40})
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	if calls != 1 {
		t.Fatalf("called %d times after two more frames, want 1", calls)
	}
}
