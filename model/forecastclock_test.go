package model

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// rowWord is the kind of words a workspace's own row says of forecast f (the
// "runs out" column, tui's cellRunsOut, without its duration): what may
// change only on an event or at an instant a documented rule names.
func rowWord(f Forecast) string {
	switch {
	case !f.RemainingKnown:
		return "—"
	case f.Reached && f.Remaining > 0:
		return "<1 charge left"
	case f.RunsOut && f.RunsOutIn == 0:
		return "out now"
	case f.RunsOut:
		return "out in"
	case f.RechargeDue:
		return "top-up in"
	case f.Idle:
		return "idle"
	}
	return "lasts period"
}

// wordChange is one change of a row's words with no event: when, from, to.
type wordChange struct {
	at       time.Duration // after the clock's start
	from, to string
}

func (c wordChange) String() string { return fmt.Sprintf("%v: %s → %s", c.at, c.from, c.to) }

// wordsOverTime asks ws's forecast every second from start for span, with no
// event, and returns every change of its row's words.
func wordsOverTime(l *Ledger, ws string, start time.Time, span time.Duration) []wordChange {
	var out []wordChange
	prev := rowWord(l.Forecast(ws, start))
	for d := time.Second; d <= span; d += time.Second {
		w := rowWord(l.Forecast(ws, start.Add(d)))
		if w != prev {
			out = append(out, wordChange{d, prev, w})
			prev = w
		}
	}
	return out
}

func sameChanges(got, want []wordChange) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func changesText(cs []wordChange) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.String())
	}
	return "[" + strings.Join(s, "; ") + "]"
}

// TestForecastWordsChangeWithTimeOnlyByARule advances the clock with no event
// and asserts every change of a row's forecast words, and when: each is one
// of the time-driven rules of README's "What changes with time alone" — the
// idle threshold (the last charge + IdleAfter), the typical charge over the
// hour ending now (a charge leaves it an hour after its bucket began), and
// never a step leaving the burn window. Before, a step's charges were left
// out of the typical charge only while the step was in the 15-minute window:
// a workspace whose one charge of 7,600 left 2,400 read "idle", then 15
// minutes later, with no event, "<1 charge left", then "idle" again an hour
// after the charge.
func TestForecastWordsChangeWithTimeOnlyByARule(t *testing.T) {
	// the start of a bucket, an hour into the period's last two days
	base := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	bucket := func(d time.Duration) time.Duration { return d.Truncate(BucketWidth) }
	t.Run("a single charge is a step for its whole hour", func(t *testing.T) {
		l := NewLedger(MonthlyUTC, base.Add(-time.Hour))
		l.SetSettings("solo", Settings{Allocation: 10_000}, base.Add(-time.Hour).UnixMilli())
		at := base.Add(3 * time.Second)
		l.Apply(&Event{TS: at.UnixMilli(), Workspace: "solo", Endpoint: "/x", Credits: 7600, Status: 200})
		got := wordsOverTime(l, "solo", at, 2*time.Hour)
		// lasts (burn 0: the step is no rate) until idle, a minute after the
		// charge (MinIdle: no interval between charges yet); nothing after,
		// though the step leaves the window at 15 min and the hour at 60
		want := []wordChange{{MinIdle + time.Second, "lasts period", "idle"}}
		if !sameChanges(got, want) {
			t.Fatalf("words with no event %s, want %s", changesText(got), changesText(want))
		}
	})
	t.Run("a step among small charges", func(t *testing.T) {
		l := NewLedger(MonthlyUTC, base.Add(-time.Hour))
		// 1 credit every 10 s for 30 min (180), then one of 7,600: 20 left
		l.SetSettings("mix", Settings{Allocation: 180 + 7600 + 20}, base.Add(-time.Hour).UnixMilli())
		last := spend(l, "mix", base.Add(-30*time.Minute), BucketWidth, 180, 1)
		at := last.Add(BucketWidth)
		l.Apply(&Event{TS: at.UnixMilli(), Workspace: "mix", Endpoint: "/x", Credits: 7600, Status: 200})
		f := l.Forecast("mix", at)
		if f.Step != 7600 || f.TypicalCharge != 1 || f.Remaining != 20 {
			t.Fatalf("at the step: %+v", f)
		}
		got := wordsOverTime(l, "mix", at, 2*time.Hour)
		// 20 left at 90 credits a quarter: out in 3 min, until idle (4
		// intervals of 10 s, at least MinIdle); then nothing, as 20 covers
		// the typical charge of 1 whatever leaves the window or the hour
		want := []wordChange{{MinIdle + time.Second, "out in", "idle"}}
		if !sameChanges(got, want) {
			t.Fatalf("words with no event %s, want %s", changesText(got), changesText(want))
		}
	})
	t.Run("the typical charge follows the hour", func(t *testing.T) {
		l := NewLedger(MonthlyUTC, base.Add(-2*time.Hour))
		// 11 charges of 100 a minute apart, then 11 of 10: a typical charge
		// of 55 and 50 left — reached; once three of the 100s have left the
		// hour (an hour after their buckets), it is 49.5 and 50 covers it
		l.SetSettings("slide", Settings{Allocation: 1100 + 110 + 50}, base.Add(-2*time.Hour).UnixMilli())
		spend(l, "slide", base.Add(-90*time.Minute), time.Minute, 11, 100)
		last := spend(l, "slide", base.Add(-70*time.Minute), time.Minute, 11, 10)
		start := base.Add(-50 * time.Minute)
		if f := l.Forecast("slide", start); f.TypicalCharge != 55 || !f.Reached {
			t.Fatalf("at the start: %+v", f)
		}
		got := wordsOverTime(l, "slide", start, time.Hour)
		third := bucket(base.Add(-88*time.Minute).Sub(start)) + time.Hour // the third 100 leaves the hour
		want := []wordChange{{third, "<1 charge left", "idle"}}
		if !sameChanges(got, want) {
			t.Fatalf("words with no event %s, want %s (last charge %v)", changesText(got), changesText(want), last)
		}
	})
}
