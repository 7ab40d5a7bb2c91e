package model

import (
	"fmt"
	"time"
)

// PeriodConfig says where billing periods begin. It is stored in Redis beside the
// settings so that every producer and every mavtop cut periods the same way.
type PeriodConfig struct {
	// StartDay is the day of the month a period starts on, 1–28 (1 = calendar month).
	StartDay int `json:"start_day"`
	// TZ is the IANA time zone the start day is counted in; "" means UTC.
	TZ string `json:"tz,omitempty"`
}

// Rule resolves the config into a PeriodRule, loading the time zone.
func (c PeriodConfig) Rule() (PeriodRule, error) {
	day := c.StartDay
	if day == 0 {
		day = 1
	}
	if day < 1 || day > 28 {
		return PeriodRule{}, fmt.Errorf("billing period start day %d must be between 1 and 28", c.StartDay)
	}
	loc := time.UTC
	if c.TZ != "" && c.TZ != "UTC" {
		var err error
		if loc, err = time.LoadLocation(c.TZ); err != nil {
			return PeriodRule{}, fmt.Errorf("billing period time zone %q: %w", c.TZ, err)
		}
	}
	return PeriodRule{StartDay: day, Location: loc}, nil
}

// PeriodRule cuts time into billing periods: each starts at 00:00 on StartDay in Location.
type PeriodRule struct {
	StartDay int
	Location *time.Location
}

// MonthlyUTC is the default rule: calendar months in UTC.
var MonthlyUTC = PeriodRule{StartDay: 1, Location: time.UTC}

// Config returns the rule in its stored form.
func (r PeriodRule) Config() PeriodConfig {
	c := PeriodConfig{StartDay: r.StartDay}
	if r.Location != nil && r.Location != time.UTC {
		c.TZ = r.Location.String()
	}
	return c
}

// Period is one billing period, [Start, End).
type Period struct {
	// Key names the period in Redis keys: the year and month it starts in, "2026-11".
	Key        string
	Start, End time.Time
	startMs    int64
	endMs      int64
}

// At returns the period holding t.
func (r PeriodRule) At(t time.Time) Period {
	loc, day := r.Location, r.StartDay
	if loc == nil {
		loc = time.UTC
	}
	if day < 1 {
		day = 1
	}
	lt := t.In(loc)
	y, m := lt.Year(), lt.Month()
	start := time.Date(y, m, day, 0, 0, 0, 0, loc)
	if lt.Before(start) {
		start = time.Date(y, m-1, day, 0, 0, 0, 0, loc)
	}
	end := time.Date(start.Year(), start.Month()+1, day, 0, 0, 0, 0, loc)
	return Period{
		Key:     start.Format("2006-01"),
		Start:   start,
		End:     end,
		startMs: start.UnixMilli(),
		endMs:   end.UnixMilli(),
	}
}

// AtMillis returns the period holding the unix-millisecond time ms.
func (r PeriodRule) AtMillis(ms int64) Period { return r.At(time.UnixMilli(ms)) }

// Contains reports whether the unix-millisecond time ms falls in the period.
func (p Period) Contains(ms int64) bool { return ms >= p.startMs && ms < p.endMs }

// Left returns the time from now to the period's end (0 once it has ended).
func (p Period) Left(now time.Time) time.Duration {
	if d := p.End.Sub(now); d > 0 {
		return d
	}
	return 0
}
