package model

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// TestLargeChargesTogetherAreOneStep is the class of "one large charge is a
// step, not a rate" where the large charges come several at once: in a
// workspace spending 3 credits a second (10,800/h), every burst below, within
// one 10-s bucket or in buckets side by side, applied in time order and in
// reverse (as read back), leaves the burn at the workspace's own rate and
// says which credits it left out. Before, only a bucket's largest charge could
// be a step and the others counted as rate: two `emit --credits 3800` 100 ms
// apart made 41k/h. A burst of charges that are each ordinary (under 10
// typical charges) is spending, however many: it is the rate. A refund in
// the step's bucket, or in a later one, corrects the latest step before it,
// not the rate (before, one in a later bucket came off the rate: 7,600 then
// −3,800 20 s later read a burn 3,800 credits lower, a step of 7,600).
func TestLargeChargesTogetherAreOneStep(t *testing.T) {
	cases := []struct {
		name string
		// charges after the steady spending: offset from its last charge, credits
		charges []struct {
			at      time.Duration
			credits int64
		}
		step    int64   // the step the forecast reports (the newest bucket's)
		burnAdd float64 // credits of the burst that are rate
	}{
		{name: "two emit --credits 3800 100 ms apart", charges: at(500, 3800, 600, 3800), step: 7600},
		{name: "three charges of 2,000 in one bucket", charges: at(300, 2000, 400, 2000, 700, 2000), step: 6000},
		{name: "charges of unlike large sizes in one bucket", charges: at(300, 2000, 400, 2100, 700, 1900), step: 6000},
		{name: "a large charge beside a far larger one", charges: at(300, 10_000, 400, 3800), step: 13_800},
		{name: "a burst of five large charges", charges: at(100, 1000, 200, 1000, 300, 1000, 400, 1000, 500, 1000), step: 5000},
		{name: "two large charges 10 s apart", charges: at(500, 3800, 10_500, 3800), step: 3800},
		{name: "a large charge and a refund of half of it", charges: at(500, 7600, 600, -3800), step: 3800},
		{name: "a large charge wholly refunded", charges: at(500, 7600, 600, -7600), step: 0},
		// a refund in a later bucket (a job that failed after its charge)
		// corrects the step too; what it refunds beyond the step is rate
		{name: "a refund of half of a large charge 20 s later", charges: at(500, 7600, 20_500, -3800), step: 3800},
		{name: "a large charge wholly refunded a bucket later", charges: at(500, 7600, 10_500, -7600), step: 0},
		{name: "a refund beyond the large charge 20 s later", charges: at(500, 7600, 20_500, -8000), step: 0, burnAdd: -400},
		{name: "two refunds of one large charge in later buckets", charges: at(500, 7600, 10_500, -1000, 20_500, -2000), step: 4600},
		{name: "a refund after two steps comes off the latest", charges: at(500, 7600, 10_500, 7600, 20_500, -3800), step: 3800},
		{name: "a burst of 20 ordinary charges of 20", charges: at(100, 20, 110, 20, 120, 20, 130, 20, 140, 20, 150, 20, 160, 20, 170, 20, 180, 20, 190, 20,
			200, 20, 210, 20, 220, 20, 230, 20, 240, 20, 250, 20, 260, 20, 270, 20, 280, 20, 290, 20), burnAdd: 400},
	}
	for _, tc := range cases {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%v", tc.name, reverse), func(t *testing.T) {
				l, steady := NewLedger(MonthlyUTC, t0.Add(-time.Hour)), NewLedger(MonthlyUTC, t0.Add(-time.Hour))
				l.SetSettings("acme", Settings{Allocation: 10_000_000}, ms(-time.Hour))
				var evs []Event
				at := t0.Add(-40 * time.Minute)
				for range 40 * 60 {
					evs = append(evs, Event{TS: at.UnixMilli(), Workspace: "acme", Endpoint: "/x", Credits: 3, Status: 200})
					steady.Apply(&evs[len(evs)-1])
					at = at.Add(time.Second)
				}
				last := at.Add(-time.Second) // on a bucket's start: the burst's offsets stay in its buckets
				var burst int64
				for _, c := range tc.charges {
					evs = append(evs, Event{TS: last.Add(c.at).UnixMilli(), Workspace: "acme", Endpoint: "/x", Credits: c.credits, Status: 200})
					burst += c.credits
				}
				if reverse {
					slices.Reverse(evs)
				}
				for i := range evs {
					l.Apply(&evs[i])
				}
				now := last.Add(30 * time.Second)
				f := l.Forecast("acme", now)
				// the steady spending's own burn, and the burst's credits that are rate
				// over the window from the start of its first bucket
				span := now.UnixMilli() - (now.UnixMilli()-BurnWindow.Milliseconds())/bucketMs*bucketMs
				want := steady.Burn("acme", BurnWindow, now) + tc.burnAdd*float64(time.Hour/time.Millisecond)/float64(span)
				if s, _ := l.Summary("acme"); s.Used != 40*60*3+burst {
					t.Fatalf("used %d, want %d", s.Used, 40*60*3+burst)
				}
				if math.Abs(f.BurnPerHour-want) > 1e-6 || f.Step != tc.step || f.RunsOut {
					t.Fatalf("burn %.0f/h, step %d, runs out %v in %v; want ≈%.0f/h, a step of %d, no run-out",
						f.BurnPerHour, f.Step, f.RunsOut, f.RunsOutIn, want, tc.step)
				}
			})
		}
	}
}

// at pairs offsets in ms with credits: at(ms, credits, ms, credits, …).
func at(v ...int64) (cs []struct {
	at      time.Duration
	credits int64
}) {
	for i := 0; i+1 < len(v); i += 2 {
		cs = append(cs, struct {
			at      time.Duration
			credits int64
		}{time.Duration(v[i]) * time.Millisecond, v[i+1]})
	}
	return cs
}
