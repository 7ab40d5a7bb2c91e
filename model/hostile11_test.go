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
