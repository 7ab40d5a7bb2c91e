package model

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// episodes drives the lifecycle rule with opt as an instance would, the
// records claimed as the store writes them (ResolvedStream too).
type episodes struct {
	opt   AlertOptions
	known map[string]AlertRecord
}

func (e *episodes) step(l *Ledger, now time.Time) []string {
	cands := EvaluateAlerts(l, now, FeedHealth{Connected: true, Since: now.Add(-time.Hour)}, e.opt, nil)
	var out []string
	for _, tr := range e.opt.Transitions(e.known, cands, l.Period().Key, l.StreamID(), now) {
		rec := e.known[tr.Alert.ID]
		rec.Apply(&tr)
		e.known[tr.Alert.ID] = rec
		out = append(out, string(tr.Status)+" "+tr.Alert.ID)
	}
	return out
}

func TestEpisodeIDs(t *testing.T) {
	for _, tc := range []struct {
		id, base string
		n        int
		episode  bool
	}{
		{"2026-11/acme/-/threshold/75", "2026-11/acme/-/threshold/75", 1, false},
		{"2026-11/acme/-/threshold/75~2", "2026-11/acme/-/threshold/75", 2, true},
		{"2026-11/acme/p1/project_limit_reached/-~13", "2026-11/acme/p1/project_limit_reached/-", 13, true},
		{"2026-11/ord2/-/refusals/credits_exhausted@150", "2026-11/ord2/-/refusals/credits_exhausted@150", 1, true},
		{"2026-11/ord2/-/refusals/credits_exhausted@150~3", "2026-11/ord2/-/refusals/credits_exhausted@150", 3, true},
		{"2026-11/-/-/feed_stale/-~2", "2026-11/-/-/feed_stale/-", 2, true},
		// not episode numbers: kept whole
		{"2026-11/acme/-/threshold/75~1", "2026-11/acme/-/threshold/75~1", 1, false},
		{"2026-11/acme/-/threshold/75~02", "2026-11/acme/-/threshold/75~02", 1, false},
		{"2026-11/acme/-/threshold/75~x", "2026-11/acme/-/threshold/75~x", 1, false},
	} {
		base, n := SplitEpisode(tc.id)
		if base != tc.base || n != tc.n || isEpisode(tc.id) != tc.episode {
			t.Errorf("%s: base %s, episode %d, counted %v", tc.id, base, n, isEpisode(tc.id))
		}
		if tc.n > 1 && EpisodeID(base, n) != tc.id {
			t.Errorf("%s: made again as %s", tc.id, EpisodeID(base, n))
		}
	}
	if o := episodeOwner("2026-11/acme/p1/threshold/50~4"); o != "2026-11/acme" {
		t.Errorf("owner %s", o)
	}
}

// A threshold resolved by a raised allocation fires again as episode 2
// when usage crosses it of the new cap — once the resolution is
// ReFireAfter old, and only on a ledger that has read as far as the one
// that resolved it.
func TestAResolvedAlertFiresAgainAsItsNextEpisode(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	e := &episodes{opt: AlertOptions{ReFireAfter: 10 * time.Minute}, known: map[string]AlertRecord{}}
	seq := 0
	spend := func(credits int64) {
		seq++
		ev := use("acme", "", "/responses", credits, time.Minute)
		ev.ID = fmt.Sprintf("%d-%d", t0.UnixMilli(), seq)
		l.Apply(&ev)
	}
	now := t0.Add(2 * time.Minute)
	l.SetSettings("acme", Settings{Allocation: 1000, Alerts: []int{50}}, ms(0))
	spend(600)
	if got := e.step(l, now); !slices.Equal(got, []string{"firing 2026-11/acme/-/threshold/50"}) {
		t.Fatalf("600 of 1,000: %q", got)
	}
	l.SetSettings("acme", Settings{Allocation: 2000, Alerts: []int{50}}, ms(time.Minute))
	if got := e.step(l, now); !slices.Equal(got, []string{"resolved 2026-11/acme/-/threshold/50"}) {
		t.Fatalf("allocation raised: %q", got)
	}
	spend(500) // 1,100 of 2,000
	if got := e.step(l, now.Add(9*time.Minute)); len(got) != 0 {
		t.Fatalf("9 min after the resolution: %q", got)
	}
	// a ledger behind the one that resolved it (the raise not read) does not fire
	rec := e.known["2026-11/acme/-/threshold/50"]
	rec.ResolvedStream = "99999999999999-0"
	e.known["2026-11/acme/-/threshold/50"] = rec
	if got := e.step(l, now.Add(10*time.Minute)); len(got) != 0 {
		t.Fatalf("resolved further on than this ledger read: %q", got)
	}
	rec.ResolvedStream = l.StreamID()
	e.known["2026-11/acme/-/threshold/50"] = rec
	if got := e.step(l, now.Add(10*time.Minute)); !slices.Equal(got, []string{"firing 2026-11/acme/-/threshold/50~2"}) {
		t.Fatalf("10 min after the resolution: %q", got)
	}
	l.SetSettings("acme", Settings{Allocation: 4000, Alerts: []int{50}}, ms(2*time.Minute))
	if got := e.step(l, now.Add(11*time.Minute)); !slices.Equal(got, []string{"resolved 2026-11/acme/-/threshold/50~2"}) {
		t.Fatalf("raised again: %q", got)
	}
	// its line removed: the resolved episodes stay as they are, none fires
	l.SetSettings("acme", Settings{Allocation: 4000, Alerts: []int{90}}, ms(3*time.Minute))
	if got := e.step(l, now.Add(30*time.Minute)); len(got) != 0 {
		t.Fatalf("line removed: %q", got)
	}
}

// A workspace hovering at the edge of a condition — each call refused with
// budget_exceeded, the next served, every second for a day — fires at most
// once per ReFireAfter (not every second), and in all MaxEpisodes episodes
// after the first in the period: the alerts hash does not grow past them.
func TestAHoveringConditionIsHeldOffAndBounded(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	e := &episodes{opt: AlertOptions{}, known: map[string]AlertRecord{}}
	now := t0.Add(time.Minute)
	fired := 0
	firstHour := 0
	for i := range 24 * 3600 {
		now = now.Add(time.Second)
		ev := Event{ID: fmt.Sprintf("%d-0", now.UnixMilli()), TS: now.UnixMilli(), Workspace: "acme", Endpoint: "/x", Status: 200}
		if i%2 == 0 {
			ev.Status, ev.Code = 402, CodeBudgetExceeded
		}
		l.Apply(&ev)
		for _, s := range e.step(l, now) {
			if s[:6] == "firing" {
				fired++
				if i < 3600 {
					firstHour++
				}
			}
		}
	}
	t.Logf("%d firings in the first hour, %d in the day", firstHour, fired)
	// one episode per ReFireAfter at most: 6 in the first hour (a firing
	// each 10 min and 1 s: the resolution comes the second after)
	if firstHour > int(time.Hour/DefaultReFireAfter)+1 {
		t.Errorf("%d firings in the first hour", firstHour)
	}
	if fired != MaxEpisodes+1 || len(e.known) != MaxEpisodes+1 {
		t.Errorf("fired %d, %d ids in the lifecycle: want the first and %d more", fired, len(e.known), MaxEpisodes)
	}
	if _, ok := e.known[EpisodeID("2026-11/acme/-/refusals/budget_exceeded", MaxEpisodes+1)]; !ok {
		t.Errorf("the last episode is not %d", MaxEpisodes+1)
	}
	// another workspace is not held by acme's bound
	ev := Event{ID: fmt.Sprintf("%d-1", now.UnixMilli()), TS: now.UnixMilli(), Workspace: "beta", Endpoint: "/x", Status: 402, Code: CodeBudgetExceeded}
	l.Apply(&ev)
	if got := e.step(l, now); !slices.Equal(got, []string{"firing 2026-11/beta/-/refusals/budget_exceeded"}) {
		t.Errorf("beta: %q", got)
	}
}

// A run-out resolves when its workspace turns idle (4 typical silences
// between its bursts, at least a minute: Forecast.Idle, what the row says),
// and a burn that runs out again fires episode 2. Before (issue 11) idle held
// a firing run_out until the burn window held no charge, so the row said
// "idle · 0/h" beside a run_out that fired; earlier still a minute's pause
// resolved it and it never fired again that period.
func TestARunOutResolvesWhenIdleAndFiresAgain(t *testing.T) {
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	l := NewLedger(MonthlyUTC, start)
	l.SetSettings("acme", Settings{Allocation: 10000, Alerts: []int{99}}, start.UnixMilli())
	e := &episodes{opt: AlertOptions{ReFireAfter: time.Minute}, known: map[string]AlertRecord{}}
	seq := 0
	burn := func(from time.Time, d time.Duration) time.Time {
		for at := from; at.Before(from.Add(d)); at = at.Add(10 * time.Second) {
			seq++
			ev := Event{ID: fmt.Sprintf("%d-%d", at.UnixMilli(), seq), TS: at.UnixMilli(), Workspace: "acme", Endpoint: "/x", Credits: 10, Status: 200}
			l.Apply(&ev)
		}
		return from.Add(d)
	}
	runOut := "2026-11/acme/-/run_out/-"
	now := burn(start, 20*time.Minute) // 3,600/h: 8,000 left last 2.2 h
	if got := e.step(l, now); !slices.Equal(got, []string{"firing " + runOut}) {
		t.Fatalf("burning: %q", got)
	}
	last := now.Add(-10 * time.Second)
	// a minute of silence (MinIdle: no silence between its bursts, it
	// charges in every bucket) is no stop; past it the row says idle and the
	// run_out resolves with it: one judgement (before, it held until the
	// burn window was empty, beside a row that said idle)
	if f := l.Forecast("acme", last.Add(time.Minute)); f.Idle {
		t.Fatalf("a minute after the last charge: idle")
	}
	if got := e.step(l, last.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("a minute after the last charge: %q", got)
	}
	now = last.Add(time.Minute + time.Second)
	if f := l.Forecast("acme", now); !f.Idle {
		t.Fatalf("61 s after the last charge: not idle")
	}
	if got := e.step(l, now); !slices.Equal(got, []string{"resolved " + runOut}) {
		t.Fatalf("idle: %q", got)
	}
	if got := e.step(l, last.Add(BurnWindow)); len(got) != 0 {
		t.Fatalf("a burn window without charges: %q", got)
	}
	now = burn(now, 10*time.Minute)
	if got := e.step(l, now); !slices.Equal(got, []string{"firing " + runOut + "~2"}) {
		t.Fatalf("burning again: %q", got)
	}
}
