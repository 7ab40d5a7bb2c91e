package tui

import (
	"fmt"
	"os"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/feed"
	"mavtop/model"
)

func TestLook(t *testing.T) {
	if os.Getenv("LOOK") == "" {
		t.Skip()
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := feed.NewHub()
	snap := &model.Snapshot{Period: model.MonthlyUTC.At(now), StreamID: "0-0",
		Used: map[string]int64{}, Settings: map[string]model.Settings{
			"acme-prod": {Allocation: 5000}, "globex": {Allocation: 2000, UsageLimit: 1900}, "initech": {Allocation: 1000},
			"umbrella-research": {Allocation: 500}, "hooli-ml": {Allocation: 20000}, "acme-staging": {},
		}}
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: snap, Rule: model.MonthlyUTC, At: now.Add(-time.Hour)})
	hub.Handle(&feed.ConnMsg{State: feed.Connected})
	hub.Handle(&feed.StatsMsg{EventsPerSec: 42, Lag: 12 * time.Millisecond, At: now})
	var evs []model.Event
	add := func(ws, ep string, c int64, n int) {
		for i := 0; i < n; i++ {
			evs = append(evs, model.Event{TS: now.Add(-time.Duration(n-i) * 50 * time.Second).UnixMilli(), Workspace: ws, Project: "web", Endpoint: ep, Credits: c, Status: 200})
		}
	}
	add("acme-prod", "/focus-groups", 60, 70)
	add("globex", "/mave/chat", 25, 62)
	add("initech", "/responses", 3, 200)
	add("umbrella-research", "/video-analyses", 250, 2)
	add("hooli-ml", "/responses", 4, 300)
	add("acme-staging", "/personas", 300, 2)
	evs = append(evs, model.Event{TS: now.UnixMilli() - 1000, Workspace: "umbrella-research", Endpoint: "/focus-groups", Status: 402, Code: "credits_exhausted", Msg: "You have run out of credits", Req: "req_1"})
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs})
	w, h := 100, 30
	if s := os.Getenv("LOOK"); s != "1" {
		fmt.Sscanf(s, "%dx%d", &w, &h)
	}
	m := New(Options{Source: hub.Join(), Now: func() time.Time { return now }, Demo: true})
	var tm tea.Model = m
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: w, Height: h})
	msgs, _ := m.opt.Source.Next(t.Context())
	tm, _ = tm.Update(FeedMsg{Msgs: msgs})
	tm, _ = tm.Update(frameMsg{})
	for _, k := range os.Args {
		_ = k
	}
	if keys := os.Getenv("KEYS"); keys != "" {
		for _, r := range keys {
			tm, _ = tm.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
		tm, _ = tm.Update(frameMsg{})
	}
	fmt.Println(tm.View())
}
