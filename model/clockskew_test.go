package model

import (
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
