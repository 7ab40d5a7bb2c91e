package model

import (
	"math"
	"testing"
	"time"
)

func TestBurnOverWindows(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	// 60 credits a minute for 10 minutes
	for i := 0; i < 600; i++ {
		e := use("acme", "", "/responses", 1, time.Duration(i)*time.Second)
		l.Apply(&e)
	}
	now := t0.Add(10 * time.Minute)
	// the ledger has observed 10 minutes: the hour window is clipped to them
	if b := l.Burn("acme", time.Hour, now); math.Abs(b-3600) > 1 {
		t.Fatalf("1h burn %.1f, want 3600/h", b)
	}
	if b := l.Burn("acme", 5*time.Minute, now); math.Abs(b-3600) > 13 {
		t.Fatalf("5m burn %.1f, want ≈3600/h", b)
	}
	if b := l.Burn("", 5*time.Minute, now); math.Abs(b-3600) > 13 {
		t.Fatalf("all burn %.1f", b)
	}
	// an hour later and nothing since: the recent window is empty
	if b := l.Burn("acme", 5*time.Minute, now.Add(time.Hour)); b != 0 {
		t.Fatalf("idle burn %.1f", b)
	}
	if b := l.Burn("nobody", time.Hour, now); b != 0 {
		t.Fatalf("unknown ws burn %.1f", b)
	}
}

func TestForecastRunsOutAndPace(t *testing.T) {
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) // 48 h before the period ends
	l := NewLedger(MonthlyUTC, start)
	l.SetSettings("acme", Settings{Allocation: 10000}, start.UnixMilli())
	l.Apply(&Event{TS: start.Add(10 * time.Second).UnixMilli(), Workspace: "acme", Endpoint: "/x", Credits: 9000, Status: 200})
	// then 100 credits every minute for an hour: 6000/h
	for i := 1; i <= 60; i++ {
		l.Apply(&Event{TS: start.Add(time.Duration(i) * time.Minute).UnixMilli(), Workspace: "acme", Endpoint: "/x", Credits: 100, Status: 200})
	}
	now := start.Add(time.Hour)
	f := l.Forecast("acme", now)
	// 15000 used of 10000: out already
	if !f.RunsOut || f.RunsOutIn != 0 || f.Remaining != 0 || !math.IsInf(f.PaceMultiple, 1) {
		t.Fatalf("exhausted forecast %+v", f)
	}
	l.SetSettings("acme", Settings{Allocation: 30000}, now.UnixMilli())
	f = l.Forecast("acme", now)
	// burn over the hour: 9000 + 6000 credits → 15000/h; 15000 left → 1 h
	if math.Abs(f.BurnPerHour-15000) > 300 {
		t.Fatalf("burn %.0f", f.BurnPerHour)
	}
	if !f.RunsOut || f.RunsOutIn < 55*time.Minute || f.RunsOutIn > 65*time.Minute {
		t.Fatalf("runs out in %v (%+v)", f.RunsOutIn, f)
	}
	if want := 15000 / 47.0; math.Abs(f.PacePerHour-want) > 1 || math.Abs(f.PaceMultiple-f.BurnPerHour/want) > 0.5 {
		t.Fatalf("pace %.1f ×%.1f", f.PacePerHour, f.PaceMultiple)
	}
	l.SetSettings("acme", Settings{Allocation: 10_000_000}, now.UnixMilli())
	if f := l.Forecast("acme", now); f.RunsOut {
		t.Fatalf("large allocation still runs out: %+v", f)
	}
	if f := l.Forecast("acme", now.Add(3*time.Hour)); f.RunsOut || f.BurnPerHour != 0 || f.PaceMultiple != 0 {
		t.Fatalf("later: %+v", f)
	}
	l.SetSettings("acme", Settings{}, now.UnixMilli())
	if f := l.Forecast("acme", now); f.RemainingKnown || f.RunsOut {
		t.Fatalf("no allocation must give no forecast: %+v", f)
	}
}

func TestSeries(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	for i := 0; i < 3; i++ {
		e := use("acme", "", "/responses", int64(10*(i+1)), time.Duration(i)*time.Minute)
		l.Apply(&e)
	}
	got := l.Series("acme", t0.Add(2*time.Minute+30*time.Second), time.Minute, 4, nil)
	want := []float64{0, 10, 20, 30}
	if len(got) != 4 {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("series %v, want %v", got, want)
		}
	}
}

func TestBackfillGivesBurnAtStart(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(&Snapshot{Period: MonthlyUTC.At(t0), Used: map[string]int64{"acme": 600}}, t0)
	var past []Event
	for i := 0; i < 60; i++ {
		past = append(past, use("acme", "", "/responses", 10, -time.Duration(i)*time.Minute))
	}
	l.Backfill(past, t0.Add(-time.Hour))
	if b := l.Burn("acme", time.Hour, t0); math.Abs(b-600) > 15 {
		t.Fatalf("burn after backfill %.1f, want ≈600/h", b)
	}
	if s, _ := l.Summary("acme"); s.Used != 600 {
		t.Fatalf("backfill changed counters: %d", s.Used)
	}
}

func TestBurnIsNotExtrapolatedFromABurst(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	e := use("acme", "", "/personas", 1200, 5*time.Second) // a burst right after start
	l.Apply(&e)
	// 10 s after start: measured over MinSpan (5 min), not over 10 s
	if b := l.Burn("acme", TrendWindow, t0.Add(10*time.Second)); math.Abs(b-14400) > 1 {
		t.Fatalf("burn %.0f/h, want 1200 per 5 min = 14400/h", b)
	}
}

func TestBackfillFillsTheRefusalLog(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(&Snapshot{Period: MonthlyUTC.At(t0), Used: map[string]int64{"acme": 10},
		Refused: map[string]int64{"acme//credits_exhausted": 2}}, t0)
	r1 := refusal("acme", "", CodeCreditsExhausted, -2*time.Minute)
	r1.Req = "older"
	r2 := refusal("acme", "", CodeCreditsExhausted, -time.Minute)
	r2.Req = "newer"
	ok := use("acme", "", "/responses", 10, -90*time.Second)
	l.Backfill([]Event{r2, ok, r1}, t0.Add(-time.Hour)) // newest first, as read back
	log := l.Refusals(nil, 10)
	if len(log) != 2 || log[0].Event.Req != "newer" || log[1].Event.Req != "older" || log[0].By != BudgetAccount {
		t.Fatalf("log %+v", log)
	}
	if s, _ := l.Summary("acme"); s.Used != 10 || s.Refused.Total() != 2 {
		t.Fatalf("backfill changed counters: %+v", s)
	}
}
