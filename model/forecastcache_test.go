package model

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestAKeptJudgementIsTheWalksAnswer: a forecast made from what a ring kept
// of its last judgement (ringJudged) equals, field for field and to the bit,
// the one a walk of the buckets gives, over random charges, refunds and steps
// with forecasts asked between them, twice at the same time, within the same
// bucket, before the newest charges and after the hour moved past buckets. It fails when a change of
// the buckets does not drop what was kept (add), or when the key misses the
// hour's first bucket, its last or the window's first.
func TestAKeptJudgementIsTheWalksAnswer(t *testing.T) {
	var hits, misses int
	eachRestartCase(120, 16, func(seed uint64, r *rand.Rand, evs []Event, _ []time.Time) {
		settings := map[string]Settings{"w0": {Allocation: 1_000 + int64(r.IntN(20_000))}, "w1": {Allocation: 1_000 + int64(r.IntN(20_000))}}
		budgets := webLimit(r)
		start := time.UnixMilli(evs[0].TS).Add(-time.Duration(r.IntN(20)) * time.Minute)
		l := watchedLedger(MonthlyUTC.At(start), start, settings, budgets, nil)
		ask := func(now time.Time, when string) {
			for _, ws := range []string{"w0", "w1", ""} {
				before := l.ring(ws)
				var kept *ringJudged
				if before != nil {
					kept = before.judged.Load()
				}
				got := l.Forecast(ws, now)
				_, gotV, _ := l.VerdictForecast(ws, now)
				if before != nil && kept != nil {
					if before.judged.Load() == kept {
						hits++
					} else {
						misses++
					}
				}
				want, wantV := walked(l, ws, now)
				if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotV, wantV) {
					t.Fatalf("seed %d, %q at %v (%s): kept\n%+v\n%+v\nwalked\n%+v\n%+v\nevents: %s",
						seed, ws, now.Sub(t0), when, got, gotV, want, wantV, describe(evs))
				}
			}
		}
		for i := range evs {
			l.Apply(&evs[i])
			at := time.UnixMilli(evs[i].TS)
			ask(at, "at the charge")
			ask(at, "again")
			ask(at.Add(time.Duration(r.IntN(10_000))*time.Millisecond), "a moment later")
			// earlier than the newest charges (a producer's clock ahead of ours)
			ask(at.Add(-time.Duration(r.IntN(600_000))*time.Millisecond), "earlier")
			if r.IntN(4) == 0 { // later than the next charges: the hour moves past buckets
				ask(at.Add(time.Duration(r.IntN(80*60))*time.Second), "much later")
			}
		}
		last := time.UnixMilli(evs[len(evs)-1].TS)
		for d := time.Duration(0); d <= 75*time.Minute; d += time.Duration(1+r.IntN(90)) * time.Second {
			ask(last.Add(d), "after the last charge")
		}
	})
	if hits < 1_000 || misses < 1_000 {
		t.Fatalf("kept judgements used %d times, made again %d: the test does not exercise both", hits, misses)
	}
}

// walked is Forecast and VerdictForecast of ws at now with nothing kept:
// every ring walks its buckets (what is kept is put back afterwards).
func walked(l *Ledger, ws string, now time.Time) (Forecast, Forecast) {
	rings := []*burnRing{l.all}
	for _, w := range l.ws {
		rings = append(rings, w.burn)
		for _, p := range w.projects {
			rings = append(rings, p.burn)
		}
	}
	kept := make([]*ringJudged, len(rings))
	for i, r := range rings {
		if r != nil {
			kept[i] = r.judged.Swap(nil)
		}
	}
	f := l.Forecast(ws, now)
	_, fv, _ := l.VerdictForecast(ws, now)
	for i, r := range rings {
		if r != nil {
			r.judged.Store(kept[i])
		}
	}
	return f, fv
}

// TestClonesJudgeASharedRingAtOnce: a ring not changed since a Clone is read
// by both ledgers, each from its own goroutine, and each keeps its judgement
// in it: under -race this fails if the kept judgement is not written
// atomically. Both answer what one ledger alone does.
func TestClonesJudgeASharedRingAtOnce(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0.Add(-2*time.Hour))
	l.SetSettings("acme", Settings{Allocation: 1_000_000}, ms(-2*time.Hour))
	last := spend(l, "acme", t0.Add(-time.Hour), 100*time.Second, 36, 3)
	e := use("acme", "", "/x", 7_600, -10*time.Minute)
	l.Apply(&e)
	want, _ := walked(l, "acme", last)
	c := l.Clone()
	got := make([]Forecast, 2)
	done := make(chan struct{})
	for i, x := range []*Ledger{l, c} {
		go func() {
			defer func() { done <- struct{}{} }()
			for k := range 200 {
				got[i] = x.Forecast("acme", last.Add(time.Duration(k%20)*BucketWidth))
			}
			got[i] = x.Forecast("acme", last)
		}()
	}
	<-done
	<-done
	for i := range got {
		if !reflect.DeepEqual(got[i], want) || got[i].Step != 7_600 {
			t.Fatalf("ledger %d: %+v, alone %+v", i, got[i], want)
		}
	}
}
