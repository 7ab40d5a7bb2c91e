package model

import (
	"math"
	"testing"
	"time"
)

func TestAssessThresholdBoundaries(t *testing.T) {
	s := Settings{Allocation: 1000}
	cases := []struct {
		used  int64
		level Level
	}{
		{0, LevelOK}, {499, LevelOK}, {500, LevelWarn}, {749, LevelWarn}, {750, LevelHigh},
		{899, LevelHigh}, {900, LevelCritical}, {999, LevelCritical}, {1000, LevelExhausted}, {1500, LevelExhausted},
	}
	for _, c := range cases {
		st := Assess(&s, Usage{Used: c.used, Recharged: 0}, nil)
		if st.Level != c.level {
			t.Errorf("used %d of 1000: level %v, want %v", c.used, st.Level, c.level)
		}
		if want := max(1000-c.used, 0); st.Remaining != want || !st.RemainingKnown {
			t.Errorf("used %d: remaining %d, want %d", c.used, st.Remaining, want)
		}
	}
}

func TestAssessOddAllocationRoundsUp(t *testing.T) {
	// 50 % of 333 is 166.5: 166 has not reached it, 167 has.
	s := Settings{Allocation: 333}
	if l := Assess(&s, Usage{Used: 166, Recharged: 0}, nil).Level; l != LevelOK {
		t.Fatalf("166/333 = %v", l)
	}
	if l := Assess(&s, Usage{Used: 167, Recharged: 0}, nil).Level; l != LevelWarn {
		t.Fatalf("167/333 = %v", l)
	}
}

func TestAssessCustomThresholdsAndRecharge(t *testing.T) {
	two := Settings{Allocation: 100, Alerts: []int{80, 95}}
	for used, want := range map[int64]Level{79: LevelOK, 80: LevelHigh, 95: LevelCritical} {
		if l := Assess(&two, Usage{Used: used, Recharged: 0}, nil).Level; l != want {
			t.Errorf("[80 95] used %d: %v, want %v", used, l, want)
		}
	}
	one := Settings{Allocation: 100, Alerts: []int{60}}
	if l := Assess(&one, Usage{Used: 60, Recharged: 0}, nil).Level; l != LevelCritical {
		t.Errorf("[60] used 60: %v", l)
	}
	// a recharge raises the cap: 1000 used of 1000+500 is 66.7 %
	s := Settings{Allocation: 1000}
	st := Assess(&s, Usage{Used: 1000, Recharged: 500}, nil)
	if st.Level != LevelWarn || st.Remaining != 500 || st.Cap != 1500 {
		t.Fatalf("recharged: %+v", st)
	}
}

func TestAssessUsageLimit(t *testing.T) {
	s := Settings{Allocation: 1000, UsageLimit: 600}
	// the limit (600) is below the allocation (1000): it is the cap, so 550
	// is 91.7 % of it, critical (issue 11: a limit is not ignored until reached)
	st := Assess(&s, Usage{Used: 550, Recharged: 0}, nil)
	if st.Remaining != 50 || st.Level != LevelCritical || st.OverLimit || st.CapKind != CapLimit || st.Cap != 600 {
		t.Fatalf("under limit: %+v", st)
	}
	st = Assess(&s, Usage{Used: 600, Recharged: 0}, nil)
	if st.Remaining != 0 || st.Level != LevelExhausted || !st.OverLimit {
		t.Fatalf("at limit: %+v", st)
	}
	onlyLimit := Settings{UsageLimit: 100}
	// a limit without an allocation is a cap all the same: 40 of 100 is ok
	st = Assess(&onlyLimit, Usage{Used: 40, Recharged: 0}, nil)
	if st.HasAllocation || st.Level != LevelOK || st.CapKind != CapLimit || st.Remaining != 60 || !st.RemainingKnown {
		t.Fatalf("limit without allocation: %+v", st)
	}
	none := Settings{}
	if st := Assess(&none, Usage{Used: 40, Recharged: 0}, nil); st.RemainingKnown || st.Level != LevelNone {
		t.Fatalf("no settings: %+v", st)
	}
}

func TestSettingsValidate(t *testing.T) {
	bad := []Settings{
		{Allocation: -1},
		{Allocation: 10, Alerts: []int{75, 50}},
		{Allocation: 10, Alerts: []int{0}},
		{Allocation: 10, Alerts: []int{100}},
		{Allocation: 10, Alerts: []int{10, 20, 30, 40}},
		{Allocation: 10, RechargeBelow: 100},
		{Allocation: 10, UsageLimit: -5},
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if err := (&Settings{Allocation: 5000, Alerts: []int{50, 75, 90}, RechargeBelow: 100, RechargeAmount: 500}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestAssessTable is the one judgement at every boundary: each threshold
// exactly and one below, a usage limit below the allocation, a limit without an
// allocation, recharges, custom defaults, fewer thresholds, refusals.
func TestAssessTable(t *testing.T) {
	custom := []int{40, 60, 80}
	cases := []struct {
		name     string
		s        Settings
		u        Usage
		defaults []int
		level    Level
		cap      int64
		kind     CapKind
	}{
		{"nothing set", Settings{}, Usage{Used: 10}, nil, LevelNone, 0, CapNone},
		{"nothing set, refusing", Settings{}, Usage{Used: 10, Refusing: true}, nil, LevelExhausted, 0, CapNone},
		{"0 used", Settings{Allocation: 1000}, Usage{}, nil, LevelOK, 1000, CapAllocation},
		{"one below 50", Settings{Allocation: 1000}, Usage{Used: 499}, nil, LevelOK, 1000, CapAllocation},
		{"at 50", Settings{Allocation: 1000}, Usage{Used: 500}, nil, LevelWarn, 1000, CapAllocation},
		{"one below 75", Settings{Allocation: 1000}, Usage{Used: 749}, nil, LevelWarn, 1000, CapAllocation},
		{"at 75", Settings{Allocation: 1000}, Usage{Used: 750}, nil, LevelHigh, 1000, CapAllocation},
		{"one below 90", Settings{Allocation: 1000}, Usage{Used: 899}, nil, LevelHigh, 1000, CapAllocation},
		{"at 90", Settings{Allocation: 1000}, Usage{Used: 900}, nil, LevelCritical, 1000, CapAllocation},
		{"one below the cap", Settings{Allocation: 1000}, Usage{Used: 999}, nil, LevelCritical, 1000, CapAllocation},
		{"at the cap", Settings{Allocation: 1000}, Usage{Used: 1000}, nil, LevelExhausted, 1000, CapAllocation},
		{"refusing below the cap", Settings{Allocation: 1000}, Usage{Used: 100, Refusing: true}, nil, LevelExhausted, 1000, CapAllocation},
		{"custom defaults: one below 40", Settings{Allocation: 1000}, Usage{Used: 399}, custom, LevelOK, 1000, CapAllocation},
		{"custom defaults: 450 is warn", Settings{Allocation: 1000}, Usage{Used: 450}, custom, LevelWarn, 1000, CapAllocation},
		{"custom defaults: at 60", Settings{Allocation: 1000}, Usage{Used: 600}, custom, LevelHigh, 1000, CapAllocation},
		{"custom defaults: at 80", Settings{Allocation: 1000}, Usage{Used: 800}, custom, LevelCritical, 1000, CapAllocation},
		{"own thresholds beat defaults", Settings{Allocation: 1000, Alerts: []int{50, 75, 90}}, Usage{Used: 450}, custom, LevelOK, 1000, CapAllocation},
		{"two thresholds: the last is critical", Settings{Allocation: 100, Alerts: []int{30, 50}}, Usage{Used: 50}, nil, LevelCritical, 100, CapAllocation},
		{"two thresholds: the first is high", Settings{Allocation: 100, Alerts: []int{30, 50}}, Usage{Used: 30}, nil, LevelHigh, 100, CapAllocation},
		{"limit below allocation binds", Settings{Allocation: 1000, UsageLimit: 500}, Usage{Used: 460}, nil, LevelCritical, 500, CapLimit},
		{"limit below allocation: one below 50 of it", Settings{Allocation: 1000, UsageLimit: 500}, Usage{Used: 249}, nil, LevelOK, 500, CapLimit},
		{"limit below allocation: at 50 of it", Settings{Allocation: 1000, UsageLimit: 500}, Usage{Used: 250}, nil, LevelWarn, 500, CapLimit},
		{"limit reached", Settings{Allocation: 1000, UsageLimit: 500}, Usage{Used: 500}, nil, LevelExhausted, 500, CapLimit},
		{"limit above allocation: allocation binds", Settings{Allocation: 1000, UsageLimit: 5000}, Usage{Used: 900}, nil, LevelCritical, 1000, CapAllocation},
		{"limit equal to allocation: allocation", Settings{Allocation: 1000, UsageLimit: 1000}, Usage{Used: 750}, nil, LevelHigh, 1000, CapAllocation},
		{"only a limit: 495 of 500", Settings{UsageLimit: 500}, Usage{Used: 495}, nil, LevelCritical, 500, CapLimit},
		{"only a limit: one below 50", Settings{UsageLimit: 500}, Usage{Used: 249}, nil, LevelOK, 500, CapLimit},
		{"recharge raises the cap", Settings{Allocation: 1000}, Usage{Used: 1000, Recharged: 500}, nil, LevelWarn, 1500, CapAllocation},
		{"recharge: at 90 of 1500", Settings{Allocation: 1000}, Usage{Used: 1350, Recharged: 500}, nil, LevelCritical, 1500, CapAllocation},
		{"recharge past the limit: the limit binds", Settings{Allocation: 1000, UsageLimit: 1200}, Usage{Used: 1100, Recharged: 500}, nil, LevelCritical, 1200, CapLimit},
		{"odd cap rounds up: 166 of 333", Settings{Allocation: 333}, Usage{Used: 166}, nil, LevelOK, 333, CapAllocation},
		{"odd cap rounds up: 167 of 333", Settings{Allocation: 333}, Usage{Used: 167}, nil, LevelWarn, 333, CapAllocation},
	}
	for _, c := range cases {
		st := Assess(&c.s, c.u, c.defaults)
		if st.Level != c.level || st.Cap != c.cap || st.CapKind != c.kind {
			t.Errorf("%s: level %v cap %d (%v), want %v cap %d (%v)", c.name, st.Level, st.Cap, st.CapKind, c.level, c.cap, c.kind)
		}
		if c.cap > 0 && (!st.RemainingKnown || st.Remaining != max(c.cap-c.u.Used, 0)) {
			t.Errorf("%s: remaining %d known %v", c.name, st.Remaining, st.RemainingKnown)
		}
	}
}

// TestCrossingCarriesTheGaugeLevel: with thresholds 30/40/50, crossing 50 is
// critical on the gauge and in the crossing.
func TestCrossingCarriesTheGaugeLevel(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0).WithDefaultAlerts([]int{30, 40, 50})
	l.SetSettings("acme", Settings{Allocation: 100}, ms(0))
	for i, want := range []Level{LevelWarn, LevelHigh, LevelCritical} {
		e := use("acme", "", "/responses", 10, time.Duration(i)*time.Second)
		if i == 0 {
			e.Credits = 30
		}
		l.Apply(&e)
		c := l.TakeCrossings()
		s, _ := l.Summary("acme")
		if len(c) != 1 || c[0].Level != want || s.Level != want {
			t.Fatalf("step %d: crossings %+v, gauge %v, want %v", i, c, s.Level, want)
		}
	}
}

// TestReachedDoesNotWrap: counters are read from Redis, so a hostile one near
// 2^63 must not wrap the threshold products or the cap: 10 credits of a cap
// made huge by a recharged counter are 0 %, OK, with every credit left.
func TestReachedDoesNotWrap(t *testing.T) {
	for _, rc := range []int64{1 << 61, 1 << 62, math.MaxInt64 - 1000, math.MaxInt64} {
		s := Assess(&Settings{Allocation: 1000}, Usage{Used: 10, Recharged: rc}, nil)
		if s.Level != LevelOK || s.Passed != 0 || s.Cap <= 0 || s.Remaining != s.Cap-10 {
			t.Errorf("recharged %d: level %v, %d thresholds passed, cap %d, remaining %d; want ok, 0, the cap less 10", rc, s.Level, s.Passed, s.Cap, s.Remaining)
		}
	}
	for _, c := range []struct {
		used, cap int64
		t         int
		want      bool
	}{
		{90, 100, 90, true}, {89, 100, 90, false},
		{math.MaxInt64, math.MaxInt64, 100, true}, {math.MaxInt64 - 1, math.MaxInt64, 100, false},
		{math.MaxInt64/100 + 1, math.MaxInt64 / 100, 100, true}, // used·100 past 2^63
		{-5, 100, 50, false}, {math.MinInt64, 100, 50, false}, {0, -100, 50, true}, {0, 0, 50, true},
	} {
		if got := Reached(c.used, c.cap, c.t); got != c.want {
			t.Errorf("Reached(%d, %d, %d) = %v, want %v", c.used, c.cap, c.t, got, c.want)
		}
	}
}
