package model

import "testing"

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
		st := Assess(&s, c.used, 0)
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
	if l := Assess(&s, 166, 0).Level; l != LevelOK {
		t.Fatalf("166/333 = %v", l)
	}
	if l := Assess(&s, 167, 0).Level; l != LevelWarn {
		t.Fatalf("167/333 = %v", l)
	}
}

func TestAssessCustomThresholdsAndRecharge(t *testing.T) {
	two := Settings{Allocation: 100, Alerts: []int{80, 95}}
	for used, want := range map[int64]Level{79: LevelOK, 80: LevelHigh, 95: LevelCritical} {
		if l := Assess(&two, used, 0).Level; l != want {
			t.Errorf("[80 95] used %d: %v, want %v", used, l, want)
		}
	}
	one := Settings{Allocation: 100, Alerts: []int{60}}
	if l := Assess(&one, 60, 0).Level; l != LevelCritical {
		t.Errorf("[60] used 60: %v", l)
	}
	// a recharge raises the cap: 1000 used of 1000+500 is 66.7 %
	s := Settings{Allocation: 1000}
	st := Assess(&s, 1000, 500)
	if st.Level != LevelWarn || st.Remaining != 500 || st.Cap != 1500 {
		t.Fatalf("recharged: %+v", st)
	}
}

func TestAssessUsageLimit(t *testing.T) {
	s := Settings{Allocation: 1000, UsageLimit: 600}
	st := Assess(&s, 550, 0)
	if st.Remaining != 50 || st.Level != LevelWarn || st.OverLimit {
		t.Fatalf("under limit: %+v", st)
	}
	st = Assess(&s, 600, 0)
	if st.Remaining != 0 || st.Level != LevelExhausted || !st.OverLimit {
		t.Fatalf("at limit: %+v", st)
	}
	onlyLimit := Settings{UsageLimit: 100}
	st = Assess(&onlyLimit, 40, 0)
	if st.HasAllocation || st.Level != LevelNone || st.Remaining != 60 || !st.RemainingKnown {
		t.Fatalf("limit without allocation: %+v", st)
	}
	none := Settings{}
	if st := Assess(&none, 40, 0); st.RemainingKnown || st.Level != LevelNone {
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
