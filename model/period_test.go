package model

import (
	"testing"
	"time"
)

func TestPeriodCalendarMonthUTC(t *testing.T) {
	p := MonthlyUTC.At(time.Date(2026, 11, 30, 23, 59, 59, 999e6, time.UTC))
	if p.Key != "2026-11" || !p.Start.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || !p.End.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", p)
	}
	if !p.Contains(p.Start.UnixMilli()) || p.Contains(p.End.UnixMilli()) || !p.Contains(p.End.UnixMilli()-1) {
		t.Fatal("period must be [start, end)")
	}
	if k := MonthlyUTC.At(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)).Key; k != "2026-12" {
		t.Fatalf("boundary key %s", k)
	}
	if k := MonthlyUTC.At(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)).Key; k != "2027-01" {
		t.Fatalf("new year key %s", k)
	}
}

// TestPeriodZoneIsNoMachinesOwn: "Local" loaded the zone of the machine that
// read the config, so a dashboard in UTC counted period 2026-11 while a check
// in Pacific/Kiritimati counted 2026-12 from the same #period field.
func TestPeriodZoneIsNoMachinesOwn(t *testing.T) {
	for _, tz := range []string{"Local", "localtime", "posixrules"} {
		if r, err := (PeriodConfig{StartDay: 1, TZ: tz}).Rule(); err == nil {
			t.Errorf("tz %q: rule %v, want an error", tz, r.Location)
		}
	}
	if _, err := (PeriodConfig{StartDay: 1, TZ: "Asia/Kolkata"}).Rule(); err != nil {
		t.Errorf("Asia/Kolkata: %v", err)
	}
}

func TestPeriodStartDayAndZone(t *testing.T) {
	rule, err := PeriodConfig{StartDay: 15, TZ: "America/New_York"}.Rule()
	if err != nil {
		t.Fatal(err)
	}
	ny := rule.Location
	cases := []struct {
		at  time.Time
		key string
	}{
		{time.Date(2026, 11, 14, 23, 59, 0, 0, ny), "2026-10"},
		{time.Date(2026, 11, 15, 0, 0, 0, 0, ny), "2026-11"},
		{time.Date(2026, 1, 10, 0, 0, 0, 0, ny), "2025-12"},
		// 03:00 UTC on the 15th is still the 14th in New York
		{time.Date(2026, 11, 15, 3, 0, 0, 0, time.UTC), "2026-10"},
	}
	for _, c := range cases {
		if k := rule.At(c.at).Key; k != c.key {
			t.Errorf("%v: %s, want %s", c.at, k, c.key)
		}
	}
	p := rule.At(time.Date(2026, 11, 20, 0, 0, 0, 0, ny))
	if !p.End.Equal(time.Date(2026, 12, 15, 0, 0, 0, 0, ny)) {
		t.Fatalf("end %v", p.End)
	}
	if _, err := (PeriodConfig{StartDay: 29}).Rule(); err == nil {
		t.Fatal("start day 29 accepted")
	}
	if _, err := (PeriodConfig{TZ: "Mars/Olympus"}).Rule(); err == nil {
		t.Fatal("bad zone accepted")
	}
	if c := rule.Config(); c.StartDay != 15 || c.TZ != "America/New_York" {
		t.Fatalf("config %+v", c)
	}
}

// TestMidPeriodHoldsAtEveryMonthsEdges: the rule MidPeriod picks puts now
// at least 13 days from either end of its period at the instants CI can
// fail at under calendar months: a month's first minutes (00:05 on the 1st)
// and last (23:55 on its last day), across two years with a February of 29
// days; tests that store it hold at any hour.
func TestMidPeriodHoldsAtEveryMonthsEdges(t *testing.T) {
	for m := 0; m < 24; m++ {
		first := time.Date(2027, time.January+time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		for _, now := range []time.Time{first.Add(5 * time.Minute), first.Add(-5 * time.Minute), first.Add(time.Hour)} {
			rule, err := MidPeriod(now).Rule()
			if err != nil {
				t.Fatal(err)
			}
			p := rule.At(now)
			if now.Sub(p.Start) < 13*24*time.Hour || p.End.Sub(now) < 13*24*time.Hour {
				t.Errorf("at %s: period %s – %s (start day %d), %v after its start, %v before its end",
					now, p.Start, p.End, rule.StartDay, now.Sub(p.Start), p.End.Sub(now))
			}
		}
	}
}
