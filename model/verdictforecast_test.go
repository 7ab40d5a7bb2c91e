package model

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestVerdictForecastIsOfTheBindingCap: hooli-ml at 55 % of its 3,000,000
// allocation spends 6,000 credits an hour on project serving, and project
// training, at 89,400 of its 90,000-credit usage limit (crit, the verdict),
// spends 1,200 an hour. The run-out beside the level is the limit's: 600
// credits left at 1,200/h, out in 30 min; the workspace's own forecast
// (1,350,000 left at 7,200/h) runs past the period's end. Before,
// the gauge showed the workspace's forecast beside the project's level.
func TestVerdictForecastIsOfTheBindingCap(t *testing.T) {
	start := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	l := NewLedger(MonthlyUTC, start)
	l.SetSettings("hooli-ml", Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.Apply(&Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "serving", Endpoint: "/x", Credits: 1_560_600, Status: 200})
	l.Apply(&Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 88_200, Status: 200})
	// an hour of minutes: 100 credits to serving, 20 to training
	for i := 1; i <= 60; i++ {
		at := start.Add(time.Duration(i) * time.Minute).UnixMilli()
		l.Apply(&Event{TS: at, Workspace: "hooli-ml", Project: "serving", Endpoint: "/x", Credits: 100, Status: 200})
		l.Apply(&Event{TS: at, Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 20, Status: 200})
	}
	now := start.Add(time.Hour)
	v, f, ok := l.VerdictForecast("hooli-ml", now)
	if !ok || v.Project != "training" || v.Level != LevelCritical || v.Status.Remaining != 600 {
		t.Fatalf("verdict %+v, %v: the fixture wants critical by training with 600 left", v, ok)
	}
	// 16 charges of 20 in the last 15 min's buckets, as TestForecastRunsOutAndPace counts them
	if f.Remaining != 600 || math.Abs(f.BurnPerHour-1280) > 1 {
		t.Fatalf("verdict forecast remaining %d burn %.0f/h, want the limit's 600 at 1,280/h", f.Remaining, f.BurnPerHour)
	}
	if want := time.Duration(600.0 / f.BurnPerHour * float64(time.Hour)); !f.RunsOut || f.RunsOutIn != want {
		t.Fatalf("verdict forecast runs out %v in %v, want in %v", f.RunsOut, f.RunsOutIn, want)
	}
	// a re-read of the counters keeps the project's burn, as the workspace's
	snap := l.Totals()
	snap.Settings = map[string]Settings{"hooli-ml": {Allocation: 3_000_000}}
	snap.Budgets = map[string]ProjectBudget{ProjectKey("hooli-ml", "training"): {Limit: 90_000}}
	l.Seed(snap, now)
	if _, again, _ := l.VerdictForecast("hooli-ml", now); again.BurnPerHour != f.BurnPerHour || again.Remaining != 600 {
		t.Fatalf("after a re-read: remaining %d burn %.0f/h, want 600 at %.0f/h", again.Remaining, again.BurnPerHour, f.BurnPerHour)
	}
	own := l.Forecast("hooli-ml", now)
	if own.Remaining != 3_000_000-1_656_000 || own.RunsOutIn < 24*time.Hour {
		t.Fatalf("the workspace's own forecast %+v: remaining %d, runs out %v", own, own.Remaining, own.RunsOut)
	}
	// a workspace judged by its own cap gets its own forecast
	l.SetBudget("hooli-ml", "training", ProjectBudget{Limit: 900_000}, now.UnixMilli())
	v, f, _ = l.VerdictForecast("hooli-ml", now)
	if v.Project != "" || f != own {
		t.Fatalf("judged by its own cap: verdict %+v, forecast %+v, want %+v", v, f, own)
	}
	// a clone keeps the project's burn (a viewer's ledger shares it)
	l.SetBudget("hooli-ml", "training", ProjectBudget{Limit: 90_000}, now.UnixMilli())
	c := l.Clone()
	c.Apply(&Event{TS: now.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 20, Status: 200})
	_, cf, _ := c.VerdictForecast("hooli-ml", now)
	if _, f, _ = l.VerdictForecast("hooli-ml", now); cf.Remaining != 580 || f.Remaining != 600 || cf.BurnPerHour <= f.BurnPerHour {
		t.Fatalf("clone: remaining %d burn %.0f, original remaining %d burn %.0f", cf.Remaining, cf.BurnPerHour, f.Remaining, f.BurnPerHour)
	}
	// at its limit: critical, limit reached (the workspace has credits: not
	// OUT), and the project out now
	c.Apply(&Event{TS: now.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 580, Status: 200})
	if v, f, _ := c.VerdictForecast("hooli-ml", now); v.Level != LevelCritical || !v.LimitReached || !f.RunsOut || f.RunsOutIn != 0 {
		t.Fatalf("refused project: level %v, runs out %v in %v", v.Level, f.RunsOut, f.RunsOutIn)
	}
}

// TestACapHeldAtItsLimitIsReached: project training spends 150 credits a
// minute (9,000/h) up to 89,960 of its 90,000-credit usage limit, then every
// call is refused (402 budget_exceeded) and nothing more is charged. The 40
// credits left cannot cover one typical charge (150): the limit is reached,
// out now with no pace, from the first minute of the refusals to the tenth
// — before, the burn still in the window said "out in 16 s" at a pace of
// >999× for as long as the window held the spending. The same for a
// workspace's own allocation; 400 left (more than a charge) still runs out
// in minutes at the burn.
func TestACapHeldAtItsLimitIsReached(t *testing.T) {
	start := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	l := NewLedger(MonthlyUTC, start)
	l.SetSettings("hooli-ml", Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetSettings("solo", Settings{Allocation: 80_000 + 40}, start.UnixMilli())
	l.SetSettings("roomy", Settings{Allocation: 80_000 + 400}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.Apply(&Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "serving", Endpoint: "/x", Credits: 1_500_000, Status: 200})
	l.Apply(&Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 80_960, Status: 200})
	l.Apply(&Event{TS: start.UnixMilli(), Workspace: "solo", Endpoint: "/x", Credits: 71_000, Status: 200})
	l.Apply(&Event{TS: start.UnixMilli(), Workspace: "roomy", Endpoint: "/x", Credits: 71_000, Status: 200})
	// two hours later, an hour of a charge of 150 a minute: 9,000 credits
	base := start.Add(2 * time.Hour)
	for i := 1; i <= 60; i++ {
		at := base.Add(time.Duration(i) * time.Minute).UnixMilli()
		l.Apply(&Event{TS: at, Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 150, Status: 200})
		l.Apply(&Event{TS: at, Workspace: "solo", Endpoint: "/x", Credits: 150, Status: 200})
		l.Apply(&Event{TS: at, Workspace: "roomy", Endpoint: "/x", Credits: 150, Status: 200})
	}
	last := base.Add(time.Hour)
	for _, after := range []time.Duration{0, time.Minute, 4 * time.Minute, 10 * time.Minute} {
		now := last.Add(after)
		l.Apply(&Event{TS: now.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Status: 402, Code: "budget_exceeded"})
		v, f, _ := l.VerdictForecast("hooli-ml", now)
		if v.Project != "training" || f.Remaining != 40 {
			t.Fatalf("%s after: verdict %+v remaining %d, the fixture wants training with 40 left", after, v, f.Remaining)
		}
		for name, f := range map[string]Forecast{"training": f, "solo": l.Forecast("solo", now)} {
			if !f.Reached || !f.RunsOut || f.RunsOutIn != 0 || f.PaceMultiple != 0 || f.Remaining != 40 || f.TypicalCharge != 150 {
				t.Errorf("%s %s after the last charge: reached %v, runs out %v in %v, pace %.0f×, %d left of a typical charge %.0f: want reached, out now, no pace",
					name, after, f.Reached, f.RunsOut, f.RunsOutIn, f.PaceMultiple, f.Remaining, f.TypicalCharge)
			}
		}
	}
	// more than one charge left: a run-out in minutes, not reached
	f := l.Forecast("roomy", last)
	if want := time.Duration(400.0 / f.BurnPerHour * float64(time.Hour)); f.Reached || !f.RunsOut || f.RunsOutIn != want || f.Remaining != 400 {
		t.Errorf("roomy: reached %v, runs out %v in %v (want %v), %d left", f.Reached, f.RunsOut, f.RunsOutIn, want, f.Remaining)
	}
}

// TestARefusedProjectHasReachedItsLimit: the demo's hooli-ml row read
// "▲ crit … 89.9k/90.0k lim out in 13 s" beside its own 402 budget_exceeded
// (the banner "✖ hooli-ml/training got 402 budget_exceeded"): the API was
// refusing the project, mavtop's counters still left 600 credits. A project
// refused with budget_exceeded has reached its limit, as a credits_exhausted
// 402 makes a workspace OUT, until a success of the project ends it.
func TestARefusedProjectHasReachedItsLimit(t *testing.T) {
	start := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	l := NewLedger(MonthlyUTC, start)
	l.SetSettings("hooli-ml", Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.Apply(&Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 89_400, Status: 200})
	// two hours later (the large charge out of the hour): 1 credit a minute
	for i := 1; i <= 30; i++ {
		l.Apply(&Event{TS: start.Add(2*time.Hour + time.Duration(i)*time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 1, Status: 200})
	}
	now := start.Add(2*time.Hour + 31*time.Minute)
	if _, f, _ := l.VerdictForecast("hooli-ml", now); f.Reached {
		t.Fatalf("before any 402: %+v, want not reached (570 left)", f)
	}
	l.Apply(&Event{TS: now.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Status: 402, Code: CodeBudgetExceeded})
	v, f, _ := l.VerdictForecast("hooli-ml", now)
	if v.Project != "training" || !f.Reached || !f.RunsOut || f.RunsOutIn != 0 || f.PaceMultiple != 0 {
		t.Fatalf("refused with budget_exceeded: verdict %+v, forecast %+v, want the limit reached, no pace", v, f)
	}
	// a success of the project ends the refusal: the forecast is the burn's again
	later := now.Add(time.Minute)
	l.Apply(&Event{TS: later.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 1, Status: 200})
	if _, f, _ := l.VerdictForecast("hooli-ml", later); f.Reached {
		t.Fatalf("after a success: %+v, want not reached", f)
	}
}

// TestTheRunOutAlertIsTheRowsForecast: the run_out alert judges the forecast
// the row shows (VerdictForecast): when a project's usage limit sets the
// level, the project's credits against its limit — the alert names the
// project, its credits, its limit and when they run out — not the
// workspace's own allocation, which lasts the period. A workspace with no cap
// of its own but a limited project has its run_out alert too. Before, the
// alert judged the workspace's allocation alone: ended, while the row said
// "out in 3 min".
func TestTheRunOutAlertIsTheRowsForecast(t *testing.T) {
	start := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	l := NewLedger(MonthlyUTC, start)
	l.SetSettings("hooli", Settings{Allocation: 3_000_000}, start.UnixMilli())
	for _, ws := range []string{"hooli", "bare"} {
		l.SetBudget(ws, "training", ProjectBudget{Limit: 2_000}, start.UnixMilli())
	}
	// 10 credits every 10 s for 30 min: 1,800 of the 2,000-credit limit, 3,600/h
	for i := 1; i <= 180; i++ {
		for _, ws := range []string{"hooli", "bare"} {
			l.Apply(&Event{TS: start.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Workspace: ws, Project: "training", Endpoint: "/x", Credits: 10, Status: 200})
		}
	}
	now := start.Add(30*time.Minute + 5*time.Second)
	alerts := EvaluateAlerts(l, now, FeedHealth{Connected: true}, AlertOptions{}, nil)
	for _, ws := range []string{"hooli", "bare"} {
		v, f, _ := l.VerdictForecast(ws, now)
		if v.Project != "training" || !f.RunsOut || f.RunsOutIn <= 0 || f.RunsOutIn > 5*time.Minute {
			t.Fatalf("%s: the row's verdict %+v forecast %+v; want training's limit running out within minutes", ws, v, f)
		}
		var got *Alert
		for i := range alerts {
			if alerts[i].ID == AlertID(l.Period().Key, ws, "", AlertRunOut, "") {
				got = &alerts[i]
			}
		}
		if got == nil {
			t.Fatalf("%s: no run_out alert", ws)
		}
		if got.Condition != ConditionHolds || got.Project != "training" || got.RunOutIn != f.RunsOutIn ||
			got.Cap != 2_000 || got.CapKind != CapLimit || got.Used != 1_800 || got.PercentUsed != v.Status.Percent || got.Level != v.Level {
			t.Errorf("%s: run_out alert %+v; want holding, of training: %v, 1,800 of 2,000, level %v", ws, *got, f.RunsOutIn, v.Level)
		}
		if text := got.sentence(false); !strings.Contains(text, ws+"/training reaches its usage limit in ") || !strings.Contains(text, "2,000-credit usage limit") {
			t.Errorf("%s: %q does not say whose credits run out", ws, text)
		}
	}
}
