package model

import (
	"math"
	"testing"
)

// TestAnEventOnACounterNearTheTopDoesNotWrap (hostile11, issue 11): the
// counters hold 2^63-1-7 for acme (a writer behind the stream's back; Redis
// refuses every later HINCRBY with "increment or decrement would overflow",
// so the counter stays there), then a producer's entry of 10 credits is
// read. Redis still says 9223372036854775800, check says exhausted
// CRITICAL; the ledger wrapped to -9223372036854775806: the dashboard
// panicked in gaugeBar (slice bounds out of range [:-92233720368547756]) at
// 200 columns, read "✓ ok -9.22E/100" at 120, and watch resolved
// allocation_reached ("acme has credits again … -9,223,372,036,854,775,806
// credits used") with a 10-minute re-fire hold-off, until the next audit.
func TestAnEventOnACounterNearTheTopDoesNotWrap(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(&Snapshot{
		Period: MonthlyUTC.At(t0), StreamID: "5-0",
		Used:     map[string]int64{"acme": math.MaxInt64 - 7},
		UsedBy:   map[string]int64{"acme///responses": 10},
		Settings: map[string]Settings{"acme": {Allocation: 100}},
	}, t0)
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Endpoint: "/responses", Credits: 10, Status: 200})
	s, ok := l.Summary("acme")
	if !ok {
		t.Fatal("no acme")
	}
	if s.Used < 0 {
		t.Errorf("used wrapped to %d after one charge of 10 on a counter at 2^63-8", s.Used)
	}
	if s.Level != LevelExhausted {
		t.Errorf("level %v, want exhausted (Redis holds 2^63-8 of 100)", s.Level)
	}
}

// TestAHugeRechargedCounterFiresNoAllocationAlert (hostile11, issue 11):
// allocation 10^12 (budget set's largest), 50 used, and a recharged counter
// of 9223372036854775000 written behind the stream. check says OK (the cap
// saturates at 2^63-1), /metrics level 1; `mavtop watch` on a real
// redis-server fired allocation_reached "big used all its credits (at the
// time: 50 of -9,223,371,036,854,776,616 credits)", threshold/50 and
// threshold/90 ("used 50 % … at the time: 0 %"), and they stayed firing:
// alerting.go's line(AlertAllocation, s.Allocation+w.recharged) wraps.
func TestAHugeRechargedCounterFiresNoAllocationAlert(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(&Snapshot{
		Period: MonthlyUTC.At(t0), StreamID: "5-0",
		Used:      map[string]int64{"big": 50},
		UsedBy:    map[string]int64{"big///x": 50},
		Recharged: map[string]int64{"big": 9223372036854775000},
		Settings:  map[string]Settings{"big": {Allocation: 1_000_000_000_000}},
	}, t0)
	for _, a := range EvaluateAlerts(l, t0, FeedHealth{Connected: true, Since: t0}, AlertOptions{}, nil) {
		if a.Workspace == "big" && a.Condition == ConditionHolds {
			t.Errorf("%s holds (cap %d) with 50 used of a cap of 2^63-1", a.ID, a.Cap)
		}
	}
}
