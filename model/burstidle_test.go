package model

import (
	"slices"
	"testing"
	"time"
)

// rhythm charges ws of l credits each: bursts of n charges apart apart,
// every every, from from to to (exclusive), and returns the last charge's time.
func rhythm(l *Ledger, ws string, from, to time.Time, every time.Duration, n int, apart time.Duration, credits int64) time.Time {
	var last time.Time
	for at := from; at.Before(to); at = at.Add(every) {
		for i := range n {
			last = at.Add(time.Duration(i) * apart)
			ev := Event{TS: last.UnixMilli(), Workspace: ws, Endpoint: "/x", Credits: credits, Status: 200}
			l.Apply(&ev)
		}
	}
	return last
}

// TestIdleIsJudgedAgainstTheSilencesBetweenBursts: a workspace is idle only
// when its silence is long against the silences between its bursts (runs of
// 10-s buckets with charges), however many charges a burst holds. Before, the
// n charges of one bucket counted as intervals of 10 s / n, so a spender of
// 10 charges in 5 s every 5 minutes went idle a minute (MinIdle) after each
// burst and read "idle · 0/h" 4 minutes in 5.
func TestIdleIsJudgedAgainstTheSilencesBetweenBursts(t *testing.T) {
	start := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		every      time.Duration
		n          int
		apart      time.Duration
		offset     time.Duration // of the first burst in its bucket
		idleAfter  time.Duration
		busy, idle []time.Duration // after the last charge
	}{
		{"10 charges in 5 s every 5 min", 5 * time.Minute, 10, 500 * time.Millisecond, 0,
			BurnWindow, []time.Duration{3 * time.Second, time.Minute, 75 * time.Second, 4 * time.Minute, 14 * time.Minute}, []time.Duration{BurnWindow + time.Second}},
		{"10 charges in 5 s every 5 min, across two buckets", 5 * time.Minute, 10, 500 * time.Millisecond, 7 * time.Second,
			BurnWindow, []time.Duration{time.Minute, 14 * time.Minute}, []time.Duration{BurnWindow + time.Second}},
		{"10 charges in 5 s every minute, across two buckets", time.Minute, 10, 500 * time.Millisecond, 7 * time.Second,
			4 * 50 * time.Second, []time.Duration{time.Minute, 190 * time.Second}, []time.Duration{201 * time.Second, 10 * time.Minute}},
		{"one charge every 2 s", 2 * time.Second, 1, 0, 0,
			MinIdle, []time.Duration{4 * time.Second, 59 * time.Second}, []time.Duration{61 * time.Second}},
		{"one charge every 10 s", 10 * time.Second, 1, 0, 0,
			MinIdle, []time.Duration{30 * time.Second}, []time.Duration{61 * time.Second}},
		{"one charge every 20 s", 20 * time.Second, 1, 0, 0,
			80 * time.Second, []time.Duration{70 * time.Second}, []time.Duration{81 * time.Second}},
		{"one charge every 3 min", 3 * time.Minute, 1, 0, 0,
			12 * time.Minute, []time.Duration{11 * time.Minute}, []time.Duration{12*time.Minute + time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, start)
			l.SetSettings("w", Settings{Allocation: 1_000_000}, start.UnixMilli())
			last := rhythm(l, "w", start.Add(tc.offset), start.Add(time.Hour), tc.every, tc.n, tc.apart, 50)
			for _, d := range tc.busy {
				f := l.Forecast("w", last.Add(d))
				if f.Idle || f.IdleAfter != tc.idleAfter || f.BurnPerHour <= 0 {
					t.Errorf("%v after the last charge: idle %v after %v, burn %.0f/h; want busy, idle after %v", d, f.Idle, f.IdleAfter, f.BurnPerHour, tc.idleAfter)
				}
			}
			for _, d := range tc.idle {
				if f := l.Forecast("w", last.Add(d)); !f.Idle || f.BurnPerHour != 0 {
					t.Errorf("%v after the last charge: idle %v after %v, burn %.0f/h; want idle", d, f.Idle, f.IdleAfter, f.BurnPerHour)
				}
			}
		})
	}
}

// runOutOf returns the run_out alert of ws among EvaluateAlerts at now.
func runOutOf(t *testing.T, l *Ledger, ws string, now time.Time) (Alert, bool) {
	t.Helper()
	for _, a := range EvaluateAlerts(l, now, FeedHealth{Connected: true, Since: now.Add(-time.Hour)}, AlertOptions{}, nil) {
		if a.Kind == AlertRunOut && a.Workspace == ws {
			return a, true
		}
	}
	return Alert{}, false
}

// TestTheRowAndTheRunOutAlertShareOneIdleJudgement is the review's case: an
// hour of bursts of 10 charges of 50 every 5 min (6k/h, allocation 10,000),
// then a live burst of 10. At +3 s, +30 s, +60 s and +75 s the forecast runs
// out (it read "idle · 0/h" from +60 s while a run_out fired beside it), and
// at every second until the window is empty the run_out alert holds exactly
// while the forecast runs out, never beside an idle forecast. A steady
// spender that stops goes idle after a minute and its run_out resolves then.
func TestTheRowAndTheRunOutAlertShareOneIdleJudgement(t *testing.T) {
	start := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		every     time.Duration
		n         int
		credits   int64
		idleAfter time.Duration
	}{
		{"bursts every 5 min", 5 * time.Minute, 10, 50, BurnWindow},
		{"a charge every 10 s", 10 * time.Second, 1, 17, MinIdle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, start)
			l.SetSettings("w", Settings{Allocation: 10_000, Alerts: []int{99}}, start.UnixMilli())
			last := rhythm(l, "w", start, start.Add(time.Hour), tc.every, tc.n, 500*time.Millisecond, tc.credits)
			e := &episodes{opt: AlertOptions{ReFireAfter: time.Minute}, known: map[string]AlertRecord{}}
			runOut := "2026-11/w/-/run_out/-"
			if got := e.step(l, last.Add(3*time.Second)); !slices.Equal(got, []string{"firing " + runOut}) {
				t.Fatalf("+3 s: %q", got)
			}
			resolved := time.Duration(0)
			for d := 3 * time.Second; d <= BurnWindow+time.Minute; d += time.Second {
				now := last.Add(d)
				f := l.Forecast("w", now)
				a, ok := runOutOf(t, l, "w", now)
				if !ok {
					t.Fatalf("+%v: no run_out alert judged", d)
				}
				if holds := a.Condition == ConditionHolds; f.Idle && holds || f.RunsOut != holds {
					t.Fatalf("+%v: idle %v (after %v), runs out %v in %v; run_out %v", d, f.Idle, f.IdleAfter, f.RunsOut, f.RunsOutIn, a.Condition)
				}
				if f.IdleAfter != tc.idleAfter {
					t.Fatalf("+%v: idle after %v, want %v", d, f.IdleAfter, tc.idleAfter)
				}
				for _, tr := range e.step(l, now) {
					if tr != "resolved "+runOut || resolved != 0 {
						t.Fatalf("+%v: %s", d, tr)
					}
					resolved = d
				}
			}
			if want := tc.idleAfter + time.Second; resolved != want {
				t.Fatalf("run_out resolved at +%v, want +%v (when it turns idle)", resolved, want)
			}
		})
	}
}
