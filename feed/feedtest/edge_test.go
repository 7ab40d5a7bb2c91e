package feedtest

import (
	"strconv"
	"testing"
	"time"
)

// TestEdgeRulePutsNowAtTheEdge: the rule EdgeEnv asks for starts (or ends) a
// period exactly the duration before (after) now, to the second, at hours
// across the day and on both sides of noon UTC, and a resolved rule reads
// back as itself.
func TestEdgeRulePutsNowAtTheEdge(t *testing.T) {
	for _, at := range []string{"2026-12-01T00:35:12Z", "2026-11-30T23:55:00Z", "2026-12-15T11:59:59Z", "2026-12-15T12:00:01Z", "2027-02-28T23:58:00Z"} {
		now, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(300 * time.Millisecond) // the rule works to the second
		for _, tc := range []struct {
			v     string
			since time.Duration // from the period's start to now; <0: until its end
		}{{"start:5m", 5 * time.Minute}, {"start:0s", 0}, {"end:15m", -15 * time.Minute}, {"end:1h", -time.Hour}} {
			rule, err := edgeRule(tc.v, now)
			if err != nil {
				t.Errorf("%s at %s: %v", tc.v, at, err)
				continue
			}
			p := rule.At(now)
			got := now.Truncate(time.Second).Sub(p.Start)
			if tc.since < 0 {
				got = -p.End.Sub(now.Truncate(time.Second))
			}
			if got != tc.since {
				t.Errorf("%s at %s: period %v – %v, now %v from its edge, want %v", tc.v, at, p.Start.UTC(), p.End.UTC(), got, tc.since)
			}
			_, off := time.Unix(0, 0).In(rule.Location).Zone()
			back, err := edgeRule("rule:"+itoa(rule.StartDay)+":"+itoa(off), now)
			if err != nil || !back.At(now).Start.Equal(p.Start) || !back.At(now).End.Equal(p.End) {
				t.Errorf("%s at %s: the resolved rule reads back as %v (%v)", tc.v, at, back.At(now), err)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
