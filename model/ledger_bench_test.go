package model

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkLedgerApply measures the per-event cost of counting a realistic mix:
// 50 workspaces, 4 projects each, 6 endpoints, 1 % refusals, events a few ms apart.
func BenchmarkLedgerApply(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := NewLedger(MonthlyUTC, now)
	endpoints := []string{"/responses", "/mave/chat", "/focus-groups", "/video-analyses", "/personas", "/brand-voices"}
	const n = 4096
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{
			ID:        fmt.Sprintf("%d-0", now.UnixMilli()+int64(i)),
			TS:        now.UnixMilli() + int64(i)*7,
			Workspace: fmt.Sprintf("ws-%02d", i%50),
			Project:   fmt.Sprintf("p%d", i%4),
			Endpoint:  endpoints[i%len(endpoints)],
			Credits:   int64(1 + i%40),
			Status:    200,
		}
		if i%100 == 0 {
			evs[i].Status, evs[i].Code, evs[i].Credits = 402, CodeCreditsExhausted, 0
		}
	}
	for _, ws := range []string{"ws-00", "ws-01"} {
		l.SetSettings(ws, Settings{Allocation: 1 << 40}, now.UnixMilli())
	}
	l.ApplyBatch(evs) // create every key once: steady state is what we measure
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Apply(&evs[i%n])
	}
}
