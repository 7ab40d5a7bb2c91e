package model

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestAProducerClockDatesNoFreshnessItCannot: a producer whose clock runs
// slow (or fast) writes ts far from the time in the entry's stream id, the
// time Redis took it and the counters moved. Freshness follows the id's time
// then (TrustedTime, README "Whose clock dates an event"): an entry a second
// old is a second old, not 20 minutes. A ts within MaxClockBehind of its id
// is the producer's and is kept; a hand-made id such as "1-0" dates nothing.
func TestAProducerClockDatesNoFreshnessItCannot(t *testing.T) {
	now := t0.Add(30 * time.Minute)
	id := now.Add(-time.Second)
	for _, tc := range []struct {
		name string
		skew time.Duration // ts minus the id's time
		want time.Time
	}{
		{"20 min slow", -20 * time.Minute, id},
		{"1 h slow", -time.Hour, id},
		{"20 min fast", 20 * time.Minute, id},
		{"30 s slow (within MaxClockBehind)", -30 * time.Second, id.Add(-30 * time.Second)},
		{"on time", 0, id},
	} {
		if got := EventTime(id.Add(tc.skew).UnixMilli(), id, now); got != tc.want.UnixMilli() {
			t.Errorf("%s: EventTime %v, want %v", tc.name, time.UnixMilli(got).UTC(), tc.want.UTC())
		}
	}
	ts := id.Add(-20 * time.Minute).UnixMilli()
	for _, idMs := range []int64{0, 1, 100} { // no id, hand-made ids
		if got := TrustedTime(ts, idMs); got != ts {
			t.Errorf("id time %d: TrustedTime %d, want ts %d", idMs, got, ts)
		}
	}
}

// TestASlowProducerClockDatesNoBurnItCannot: two workspaces spend alike, 5
// credits every 10 s for 15 minutes, their entries written by Redis at the
// same instants; one producer's clock runs 20 minutes slow, so its ts lie 20
// minutes before its ids. The burn, idle and the row's age take the same
// trusted time as freshness (Event.At): the slow one shows the burn, the
// run-out and the age of the other, as it did not ("idle", 0/h, 20 min old)
// while ts dated them. Live (Apply) and read back at a start (Backfill) alike.
func TestASlowProducerClockDatesNoBurnItCannot(t *testing.T) {
	now := t0.Add(30 * time.Minute)
	var evs []Event
	for at := 15 * time.Minute; at < 30*time.Minute; at += 10 * time.Second {
		id := t0.Add(at).UnixMilli()
		for _, ws := range []string{"ontime", "slow"} {
			e := use(ws, "", "/responses", 5, at)
			if ws == "slow" {
				e.TS -= (20 * time.Minute).Milliseconds()
			}
			e.ID = fmt.Sprintf("%d-%d", id, len(evs)%2)
			evs = append(evs, e)
		}
	}
	check := func(how string, l *Ledger) {
		t.Helper()
		want, got := l.Forecast("ontime", now), l.Forecast("slow", now)
		if want.Idle || want.BurnPerHour != 1800 || !want.RunsOut {
			t.Fatalf("%s: the on-time workspace: idle %v, burn %v/h, runs out %v; want 1800/h and a run-out", how, want.Idle, want.BurnPerHour, want.RunsOut)
		}
		if got.Idle != want.Idle || got.BurnPerHour != want.BurnPerHour || got.RunsOut != want.RunsOut || got.RunsOutIn != want.RunsOutIn || got.LastCharge != want.LastCharge {
			t.Errorf("%s: the slow producer's workspace: idle %v, burn %v/h, runs out %v in %v, last charge %v; want the on-time one's: idle %v, %v/h, %v in %v, %v",
				how, got.Idle, got.BurnPerHour, got.RunsOut, got.RunsOutIn, got.LastCharge, want.Idle, want.BurnPerHour, want.RunsOut, want.RunsOutIn, want.LastCharge)
		}
		s, _ := l.Summary("slow")
		o, _ := l.Summary("ontime")
		if s.LastTS != o.LastTS {
			t.Errorf("%s: the slow producer's newest event at %v, the on-time one's at %v: a row's age must be the same", how, time.UnixMilli(s.LastTS).UTC(), time.UnixMilli(o.LastTS).UTC())
		}
	}
	live := NewLedger(MonthlyUTC, t0)
	for _, ws := range []string{"ontime", "slow"} {
		live.SetSettings(ws, Settings{Allocation: 3000}, ms(0))
	}
	live.ApplyBatch(evs)
	check("applied live", live)

	back := NewLedger(MonthlyUTC, now)
	back.Seed(live.Totals(), now)
	for _, ws := range []string{"ontime", "slow"} {
		back.SetSettings(ws, Settings{Allocation: 3000}, ms(0))
	}
	rev := slices.Clone(evs)
	slices.Reverse(rev) // newest first, as read back
	back.Backfill(rev, now.Add(-time.Hour))
	check("read back at a start", back)
}
