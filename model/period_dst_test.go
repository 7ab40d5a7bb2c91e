package model_test

import (
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// firstInstantOfDay is the test's own oracle, by brute force: the first second
// within a day of the day's midnight at which loc's clock reads that day's
// 00:00 or later (a minute scan, refined by seconds).
func firstInstantOfDay(day time.Time, loc *time.Location) time.Time {
	wall := day.Unix()
	reads := func(u int64) bool {
		c := time.Unix(u, 0).In(loc)
		_, off := c.Zone()
		return u+int64(off) >= wall
	}
	for u := wall - 26*3600; u < wall+26*3600; u += 60 {
		if reads(u) {
			for s := u - 59; s <= u; s++ {
				if reads(s) {
					return time.Unix(s, 0)
				}
			}
		}
	}
	panic("no instant reads the day")
}

// TestPeriodStartsAtMidnightDSTChangesOfEveryZone: for every zone of the tz
// database whose UTC offset changes at local midnight (2000–2040), a billing
// period starting on that day starts at the first instant of the day (the end
// of the gap when midnight is skipped, the first midnight when it happens
// twice), and every instant around it lies in the period At returns.
func TestPeriodStartsAtMidnightDSTChangesOfEveryZone(t *testing.T) {
	changes, err := modeltest.MidnightChanges(2000, 2040)
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	var skipped, overlapped int
	for _, ch := range changes {
		zones[ch.Zone] = true
		loc, err := time.LoadLocation(ch.Zone)
		if err != nil {
			t.Fatal(err)
		}
		if ch.After < ch.Before {
			overlapped++
		} else {
			skipped++
		}
		want := firstInstantOfDay(ch.Day, loc)
		if got := model.DayStart(ch.Day.Year(), ch.Day.Month(), ch.Day.Day(), loc); !got.Equal(want) {
			t.Errorf("%s %s (change at %s, %+d → %+d s): DayStart %s, want %s", ch.Zone, ch.Day.Format("2006-01-02"),
				ch.At.UTC().Format(time.RFC3339), ch.Before, ch.After, got.In(loc), want.In(loc))
			continue
		}
		if ch.Day.Day() > 28 {
			continue // no billing period starts there
		}
		rule, err := model.PeriodConfig{StartDay: ch.Day.Day(), TZ: ch.Zone}.Rule()
		if err != nil {
			t.Fatal(err)
		}
		key := ch.Day.Format("2006-01")
		if p := rule.At(want); p.Key != key || !p.Start.Equal(want) {
			t.Errorf("%s: At(%s) = %s [%s, %s), want %s from %s", ch.Zone, want.In(loc), p.Key, p.Start.In(loc), p.End.In(loc), key, want.In(loc))
		}
		if p := rule.At(want.Add(-time.Millisecond)); p.Key == key || !p.End.Equal(want) {
			t.Errorf("%s: a millisecond before %s: %s [%s, %s), want the period before, ending then", ch.Zone, want.In(loc), p.Key, p.Start.In(loc), p.End.In(loc))
		}
		for d := -3 * time.Hour; d <= 3*time.Hour; d += 10 * time.Minute {
			at := want.Add(d)
			p := rule.At(at)
			if at.Before(p.Start) || !at.Before(p.End) || !p.Contains(at.UnixMilli()) {
				t.Errorf("%s: %s is outside the period At returns: %s [%s, %s)", ch.Zone, at.In(loc), p.Key, p.Start.In(loc), p.End.In(loc))
			}
			if (d < 0) == (p.Key == key) {
				t.Errorf("%s: %s lands in %s; the period %s starts at %s", ch.Zone, at.In(loc), p.Key, key, want.In(loc))
			}
		}
	}
	t.Logf("%d midnight changes (%d skip midnight, %d repeat or pass it backwards) in %d zones", len(changes), skipped, overlapped, len(zones))
	if skipped == 0 || overlapped == 0 || !zones["America/Santiago"] {
		t.Fatalf("the tz database lists %d midnight changes in %d zones, America/Santiago among them: %v; the test proves nothing", len(changes), len(zones), zones["America/Santiago"])
	}
}

// TestPeriodSantiagoSeptember2027 is the case: with start day 5 in
// America/Santiago, midnight of 2027-09-05 does not exist (00:00 → 01:00), so
// the period 2027-08 ends at 01:00 -03 (04:00 UTC), not at 23:00 -04 the day before.
func TestPeriodSantiagoSeptember2027(t *testing.T) {
	rule, err := model.PeriodConfig{StartDay: 5, TZ: "America/Santiago"}.Rule()
	if err != nil {
		t.Fatal(err)
	}
	p := rule.At(time.Date(2027, 9, 5, 3, 30, 0, 0, time.UTC)) // Sep 4, 23:30 local
	if p.Key != "2027-08" || !p.End.Equal(time.Date(2027, 9, 5, 4, 0, 0, 0, time.UTC)) || p.End.In(rule.Location).Format("2006-01-02 15:04 -07") != "2027-09-05 01:00 -03" {
		t.Fatalf("%s [%s, %s)", p.Key, p.Start.In(rule.Location), p.End.In(rule.Location))
	}
	if n := rule.At(p.End); n.Key != "2027-09" || !n.Start.Equal(p.End) {
		t.Fatalf("next: %s from %s", n.Key, n.Start)
	}
}
