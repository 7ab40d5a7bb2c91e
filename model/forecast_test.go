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
	// the ledger has observed 10 minutes: the hour window is clipped to them.
	// The first charge is no step: it is no larger than the others (600
	// credits in 10 min).
	if b := l.Burn("acme", time.Hour, now); math.Abs(b-3600) > 0.5 {
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
	// burn over the last 15 min (both ends' buckets: 16 charges of 100); the
	// 9000 at the start is an hour old and a step besides
	if f.Window != BurnWindow || math.Abs(f.BurnPerHour-6400) > 1 || f.Idle {
		t.Fatalf("burn %.0f over %v", f.BurnPerHour, f.Window)
	}
	// 15000 left at 6400/h → 2 h 20 min
	if want := time.Duration(15000.0 / 6400 * float64(time.Hour)); !f.RunsOut || f.RunsOutIn != want {
		t.Fatalf("runs out in %v, want %v (%+v)", f.RunsOutIn, want, f)
	}
	if want := 15000 / 47.0; math.Abs(f.PacePerHour-want) > 1 || math.Abs(f.PaceMultiple-f.BurnPerHour/want) > 0.5 {
		t.Fatalf("pace %.1f ×%.1f", f.PacePerHour, f.PaceMultiple)
	}
	l.SetSettings("acme", Settings{Allocation: 10_000_000}, now.UnixMilli())
	if f := l.Forecast("acme", now); f.RunsOut {
		t.Fatalf("large allocation still runs out: %+v", f)
	}
	if f := l.Forecast("acme", now.Add(3*time.Hour)); f.RunsOut || f.BurnPerHour != 0 || f.PaceMultiple != 0 || !f.Idle {
		t.Fatalf("later: %+v", f)
	}
	l.SetSettings("acme", Settings{}, now.UnixMilli())
	if f := l.Forecast("acme", now); f.RemainingKnown || f.RunsOut {
		t.Fatalf("no allocation must give no forecast: %+v", f)
	}
}

// spend applies credits every gap from `from` for n charges and returns the
// time of the last.
func spend(l *Ledger, ws string, from time.Time, gap time.Duration, n int, credits int64) time.Time {
	at := from
	for i := 0; i < n; i++ {
		at = from.Add(time.Duration(i) * gap)
		l.Apply(&Event{TS: at.UnixMilli(), Workspace: ws, Endpoint: "/mave/chat", Credits: credits, Status: 200})
	}
	return at
}

// TestForecastGoesIdleWhenSpendingStops is the demo's "out in 4 s from minute
// 5 to minute 14": a workspace that stopped with a few credits left.
func TestForecastGoesIdleWhenSpendingStops(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("initech", Settings{Allocation: 3000}, ms(0))
	// 2 credits every 2 s (3600/h) for 20 min, then nothing: 2 credits left
	last := spend(l, "initech", t0.Add(-20*time.Minute), 2*time.Second, 599, 2)
	l.Apply(&Event{TS: last.UnixMilli() + 1000, Workspace: "initech", Endpoint: "/personas", Credits: 3000 - 2*599 - 2, Status: 200})
	last = last.Add(time.Second)
	f := l.Forecast("initech", last)
	if f.Idle || f.Remaining != 2 || !f.RunsOut || f.RunsOutIn > 10*time.Second || f.Window != BurnWindow {
		t.Fatalf("while spending: %+v", f)
	}
	// the typical interval is 2 s: idle after MinIdle (1 min), not while the
	// window still holds the spending (15 min)
	if f := l.Forecast("initech", last.Add(MinIdle)); f.Idle || !f.RunsOut {
		t.Fatalf("at MinIdle: %+v", f)
	}
	for _, after := range []time.Duration{MinIdle + time.Second, 5 * time.Minute, 14 * time.Minute} {
		f := l.Forecast("initech", last.Add(after))
		if !f.Idle || f.BurnPerHour != 0 || f.RunsOut || f.IdleAfter != MinIdle || !f.LastCharge.Equal(last) {
			t.Fatalf("%v after the last charge: %+v", after, f)
		}
	}
	// a workspace charging every 5 min is not idle between its charges: it
	// is idle after 4 of its intervals (capped at the window)
	l.SetSettings("slow", Settings{Allocation: 1_000_000}, ms(0))
	last = spend(l, "slow", t0.Add(-time.Hour), 5*time.Minute, 12, 100)
	if f := l.Forecast("slow", last.Add(4*time.Minute)); f.Idle || f.BurnPerHour == 0 || f.IdleAfter != BurnWindow {
		t.Fatalf("between slow charges: %+v", f)
	}
	if f := l.Forecast("slow", last.Add(BurnWindow+time.Second)); !f.Idle {
		t.Fatalf("slow, after the window: %+v", f)
	}
}

// TestOneLargeChargeIsAStep: one `emit --credits 7600` raises used at once but
// is not a rate; repeated dear charges in a busy workspace are.
func TestOneLargeChargeIsAStep(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0.Add(-time.Hour))
	l.SetSettings("acme", Settings{Allocation: 1_000_000}, ms(0))
	// 1 credit a second: 3600/h
	last := spend(l, "acme", t0.Add(-30*time.Minute), time.Second, 1800, 1)
	l.Apply(&Event{TS: last.UnixMilli() + 500, Workspace: "acme", Endpoint: "/x", Credits: 7600, Status: 200})
	spend(l, "acme", last.Add(time.Second), time.Second, 60, 1)
	now := last.Add(time.Minute)
	f := l.Forecast("acme", now)
	if s, _ := l.Summary("acme"); s.Used != 1800+7600+60 {
		t.Fatalf("used %d", s.Used)
	}
	if math.Abs(f.BurnPerHour-3600) > 10 || f.Step != 7600 || f.RunsOut {
		t.Fatalf("burn %.0f/h with the step: %+v", f.BurnPerHour, f)
	}
	// the same charge into a workspace with nothing else: a step, then idle
	l.SetSettings("quiet", Settings{Allocation: 10_000}, ms(0))
	l.Apply(&Event{TS: ms(0), Workspace: "quiet", Endpoint: "/x", Credits: 7600, Status: 200})
	if f := l.Forecast("quiet", t0.Add(10*time.Second)); f.BurnPerHour != 0 || f.RunsOut || f.Step != 7600 || f.Idle {
		t.Fatalf("quiet, just after: %+v", f)
	}
	if f := l.Forecast("quiet", t0.Add(2*time.Minute)); f.BurnPerHour != 0 || f.RunsOut || !f.Idle {
		t.Fatalf("quiet, later: %+v", f)
	}
	// focus groups of 400 among chat in a busy workspace are its burn, not steps
	l.SetSettings("busy", Settings{Allocation: 1_000_000}, ms(0))
	for i := 0; i < 1200; i++ {
		c := int64(5)
		if i%30 == 0 {
			c = 400
		}
		l.Apply(&Event{TS: t0.Add(-20*time.Minute + time.Duration(i)*time.Second).UnixMilli(), Workspace: "busy", Endpoint: "/x", Credits: c, Status: 200})
	}
	want := float64(870*5+30*400) * 4 // 15 min of it, per hour
	if f := l.Forecast("busy", t0); math.Abs(f.BurnPerHour-want) > want/50 || f.Step != 0 {
		t.Fatalf("busy burn %.0f, want ≈%.0f (%+v)", f.BurnPerHour, want, f)
	}
}

// TestHealSpreadsCreditsOverTheGap: credits a re-read finds are spread from
// the last event read to the heal, so the burn counts them (the issue's
// "90 % used, 10/h, out in 9 h").
func TestHealSpreadsCreditsOverTheGap(t *testing.T) {
	p := MonthlyUTC.At(t0)
	l := NewLedger(MonthlyUTC, t0.Add(-time.Hour))
	snap := &Snapshot{Period: p, Settings: map[string]Settings{"acme": {Allocation: 10_000}}, Used: map[string]int64{"acme": 0}}
	l.Seed(snap, t0.Add(-time.Hour))
	// 10 credits over the first half hour, then a gap of 20 min the stream
	// lost, then the heal finds 9000 credits
	last := spend(l, "acme", t0.Add(-50*time.Minute), 3*time.Minute, 10, 1)
	if last != t0.Add(-23*time.Minute) {
		t.Fatalf("last %v", last)
	}
	heal := t0.Add(-3 * time.Minute)
	healed := *snap
	healed.Used = map[string]int64{"acme": 9010}
	l.Seed(&healed, heal)
	s, _ := l.Summary("acme")
	f := l.Forecast("acme", heal)
	// 9000 over the 20 min gap: the 15 min window holds 3/4 of it → 27000/h
	if s.Used != 9010 || s.Percent < 90 || math.Abs(f.BurnPerHour-27000) > 300 || !f.RunsOut || f.RunsOutIn > 5*time.Minute {
		t.Fatalf("after the heal: used %d, burn %.0f, %+v", s.Used, f.BurnPerHour, f)
	}
	// the credits sum exactly over the hour (none lost to rounding)
	if got := l.Burn("acme", time.Hour, heal) * float64(heal.Sub(t0.Add(-time.Hour))) / float64(time.Hour); math.Abs(got-9010) > 0.01 {
		t.Fatalf("the hour holds %.2f credits, want 9010", got)
	}
	// a re-read that finds fewer credits (Redis went back in time) adds none
	back := healed
	back.Used = map[string]int64{"acme": 5000}
	l.Seed(&back, heal.Add(time.Second))
	if f := l.Forecast("acme", heal.Add(time.Second)); math.Abs(f.BurnPerHour-27000) > 300 {
		t.Fatalf("after going back: %.0f", f.BurnPerHour)
	}
}

// TestAutoRechargeForecast: a workspace kept alive by auto-recharge does not
// "run out in minutes" for ever; where a usage limit stops the top-ups, it
// runs out after them.
func TestAutoRechargeForecast(t *testing.T) {
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) // 48 h before the period ends
	l := NewLedger(MonthlyUTC, start.Add(-time.Hour))
	set := Settings{Allocation: 10_000, RechargeBelow: 500, RechargeAmount: 2000}
	l.SetSettings("globex", set, start.UnixMilli())
	l.Apply(&Event{TS: start.Add(-time.Hour).UnixMilli(), Workspace: "globex", Endpoint: "/x", Credits: 8000, Status: 200})
	// 100 credits a minute (6000/h) for 15 min: 9500 used, 500 left
	last := spend(l, "globex", start.Add(-15*time.Minute+time.Minute), time.Minute, 15, 100)
	f := l.Forecast("globex", last)
	// "below" is strict (Pattern 5: "when credits fall below 100"): at 500
	// left one more credit is spent first, 0.6 s at 6000/h
	if f.Remaining != 500 || f.RunsOut || !f.Recharges || !f.RechargeDue || f.NextRechargeIn != 600*time.Millisecond || math.Abs(f.BurnPerHour-6000) > 1 {
		t.Fatalf("at the threshold: %+v", f)
	}
	// 48 h at 6000/h is 288,000 credits: top-ups after 1, 2001, …, 286,001
	if f.RechargesLeft != 144 {
		t.Fatalf("top-ups left %d, want 144", f.RechargesLeft)
	}
	// one credit more and it is below: due now
	below := f
	below.Remaining = 499
	if below = below.recharge(f.Left.Hours()); !below.RechargeDue || below.NextRechargeIn != 0 || below.RechargesLeft != 145 { // at 0, 2000, …, 288,000
		t.Fatalf("below the threshold: %+v", below)
	}
	rc := Event{TS: last.UnixMilli() + 1, Workspace: "globex", Credits: 2000, Kind: KindRecharge}
	l.Apply(&rc)
	f = l.Forecast("globex", last)
	// 2500 left: the next top-up after 2001 more credits, 20 min 0.6 s;
	// then every 2000: after 2001, …, 286,001 of the 288,000
	if f.Remaining != 2500 || f.RunsOut || f.NextRechargeIn != 20*time.Minute+600*time.Millisecond || f.RechargesLeft != 143 {
		t.Fatalf("after a top-up: %+v", f)
	}
	// a usage limit of 15,000 stops them: 5500 more credits at 6000/h, after
	// top-ups at 2000 and 4000 more
	set.UsageLimit = 15_000
	l.SetSettings("globex", set, last.UnixMilli())
	f = l.Forecast("globex", last)
	if !f.RunsOut || !f.AfterRecharges || f.RunsOutIn != 55*time.Minute || f.RechargesLeft != 2 {
		t.Fatalf("with a usage limit: %+v", f)
	}
	// once the limit binds, recharges cannot help: a plain run-out
	set.UsageLimit = 10_000
	l.SetSettings("globex", set, last.UnixMilli())
	if f := l.Forecast("globex", last); !f.RunsOut || f.Recharges || f.RunsOutIn != 5*time.Minute {
		t.Fatalf("limit binding: %+v", f)
	}
	// without auto-recharge the same workspace runs out in 25 min
	l.SetSettings("globex", Settings{Allocation: 10_000}, last.UnixMilli())
	if f := l.Forecast("globex", last); !f.RunsOut || f.Recharges || f.RunsOutIn != 25*time.Minute {
		t.Fatalf("no recharge: %+v", f)
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
	for i := range 4 { // a burst right after start (charges alike: none is a step)
		e := use("acme", "", "/personas", 400, 5*time.Second+time.Duration(i)*time.Second)
		l.Apply(&e)
	}
	// 10 s after start: measured over MinSpan (5 min), not over 10 s
	if b := l.Burn("acme", TrendWindow, t0.Add(10*time.Second)); math.Abs(b-19200) > 1 {
		t.Fatalf("burn %.0f/h, want 1600 per 5 min = 19200/h", b)
	}
	if f := l.Forecast("acme", t0.Add(10*time.Second)); f.Window != MinSpan || math.Abs(f.BurnPerHour-19200) > 1 {
		t.Fatalf("forecast window %v burn %.0f", f.Window, f.BurnPerHour)
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
