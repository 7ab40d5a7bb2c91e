package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	// "Local" (and the tz database's links to the machine's own zone) is each
	// reader's own zone: every mavtop and producer would cut periods by the
	// zone of the machine it runs on, and Python's ZoneInfo has no "Local".
	switch c.TZ {
	case "Local", "localtime", "posixrules":
		return PeriodRule{}, fmt.Errorf("billing period time zone %q is each machine's own zone: name an IANA zone (Europe/Paris)", c.TZ)
	}
	loc := time.UTC
	if c.TZ != "" && c.TZ != "UTC" && !isZoneName(c.TZ) {
		return PeriodRule{}, fmt.Errorf("billing period time zone %q is no IANA zone name (like Europe/Paris)", Truncate(Sanitize(c.TZ), 40))
	}
	if c.TZ != "" && c.TZ != "UTC" {
		var err error
		if loc, err = time.LoadLocation(c.TZ); err != nil {
			return PeriodRule{}, fmt.Errorf("billing period time zone %q: %w", Truncate(Sanitize(c.TZ), 40), err)
		}
	}
	return PeriodRule{StartDay: day, Location: loc}, nil
}

// PeriodRule cuts time into billing periods: each starts at the first instant of
// StartDay in Location (see DayStart: local midnight, or the end of a DST gap
// that skips it).
type PeriodRule struct {
	StartDay int
	Location *time.Location
}

// MonthlyUTC is the default rule: calendar months in UTC.
var MonthlyUTC = PeriodRule{StartDay: 1, Location: time.UTC}

// MidPeriod returns the billing-period config (a start day in UTC) that puts
// now closest to half-way through its period: between about 45 and 55 % of it
// whatever the date, so never in a period's first or last hours. The demo
// starts with it, and tests that write the hour before now store it so that
// hour is always inside the period they judge, at whatever hour they run.
func MidPeriod(now time.Time) PeriodConfig {
	best, bestOff := 1, math.Inf(1)
	for day := 1; day <= 28; day++ {
		p := PeriodRule{StartDay: day, Location: time.UTC}.At(now)
		f := float64(now.Sub(p.Start)) / float64(p.End.Sub(p.Start))
		if off := math.Abs(f - 0.5); off < bestOff {
			best, bestOff = day, off
		}
	}
	return PeriodConfig{StartDay: best}
}

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

// At returns the period holding t: Start ≤ t < End, where Start is the first
// instant of the start day in its month (DayStart) and End that of the next.
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
	start := DayStart(y, m, day, loc)
	if t.Before(start) {
		m--
		start = DayStart(y, m, day, loc)
	}
	end := DayStart(y, m+1, day, loc)
	if !t.Before(end) {
		// The clock went back across the start day's midnight (a DST change
		// at 00:30 back to 23:30): t reads the day before, yet comes after
		// the first instant of the start day.
		start, m = end, m+1
		end = DayStart(y, m+1, day, loc)
	}
	return Period{
		Key:     time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Format("2006-01"),
		Start:   start,
		End:     end,
		startMs: start.UnixMilli(),
		endMs:   end.UnixMilli(),
	}
}

// DayStart returns the first instant of the day y-m-d in loc: the first instant
// at which loc's clock shows that day's 00:00 or later. That is local midnight;
// where a DST change skips midnight (America/Santiago on 2027-09-05: 00:00 → 01:00)
// it is the end of the gap, 01:00; where midnight happens twice (a change from
// 01:00 back to 00:00) it is the first. time.Date alone picks either side of a
// gap or an overlap, so it is not used for this. Month and day are normalised
// as time.Date does (month 13 is January of the next year).
func DayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() // the clock reading, as if in UTC
	// Every instant whose clock reads wall lies within a day of it (offsets
	// are under 26 h); walk the zone spans of that window.
	const window = 26 * 3600
	best := int64(math.MaxInt64)
	t := time.Unix(wall-window, 0).In(loc)
	for t.Unix() < wall+window {
		_, off := t.Zone()
		zs, ze := ZoneBounds(t)
		spanStart, spanEnd := int64(math.MinInt64), int64(math.MaxInt64)
		if !zs.IsZero() {
			spanStart = zs.Unix()
		}
		if !ze.IsZero() {
			spanEnd = ze.Unix()
		}
		// midnight on this span's clock, if the span holds it
		if u := wall - int64(off); u >= spanStart && u < spanEnd {
			best = min(best, u)
		}
		// a span that begins with the clock already past midnight: the gap skipped it
		if spanStart > wall-window && spanStart+int64(off) >= wall {
			best = min(best, spanStart)
		}
		if ze.IsZero() {
			break
		}
		t = ze.In(loc)
	}
	if best == math.MaxInt64 {
		return time.Date(y, m, d, 0, 0, 0, 0, loc) // not reached: every day has a start
	}
	return time.Unix(best, 0).In(loc)
}

// ZoneBounds is time.Time.ZoneBounds with Go's leap-year slip mended: for
// an instant on the last day of a leap year in a zone whose offsets follow a
// rule (daylight saving), Go (1.26, with the tz database it embeds or the
// system's) returns an end a day before that year's end, so before t, and a
// walk from span to span that steps to the end goes back and loops for ever
// (mavtop's emit hung on 2024-12-31 and would on 2028-12-31 in Europe/Paris).
// The span really runs on into the next year: the end returned here is then
// the next 1 January 00:00 UTC, where Go starts the next year's spans. An end
// is always after t, or zero when the zone has no further change.
func ZoneBounds(t time.Time) (start, end time.Time) {
	start, end = t.ZoneBounds()
	if !end.IsZero() && !end.After(t) {
		end = time.Date(t.UTC().Year()+1, time.January, 1, 0, 0, 0, 0, time.UTC).In(t.Location())
	}
	return start, end
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

// PeriodFallback is the rule every reader and every producer uses when the
// stored billing-period config cannot be read (PeriodConfigError): calendar
// months in UTC, the rule of an absent config. One fallback for all, so a
// producer writing with it and a dashboard judging by it key the same period's
// counters (issue 11: "counters are the truth"). The README's Python
// period_of falls back to the same rule.
var PeriodFallback = PeriodRule{StartDay: 1, Location: time.UTC}

// MaxPeriodConfigBytes bounds the stored billing-period config: a longer value
// is unreadable without being parsed (a valid one is under 80 bytes).
const MaxPeriodConfigBytes = 256

// PeriodConfigError says why the stored billing-period config cannot be read.
// Reason is sanitised (Sanitize) and at most MaxPeriodReasonBytes: it may be
// drawn, logged or sent as it is.
type PeriodConfigError struct{ Reason string }

func (e *PeriodConfigError) Error() string { return e.Reason }

// MaxPeriodReasonBytes bounds PeriodConfigError.Reason.
const MaxPeriodReasonBytes = 200

func periodConfigError(format string, args ...any) error {
	return &PeriodConfigError{Reason: Truncate(Sanitize(fmt.Sprintf(format, args...)), MaxPeriodReasonBytes)}
}

// ParsePeriodConfig is the one reading of the billing-period config as stored
// in the settings hash (field "#period", JSON {"start_day":15,"tz":"Europe/Paris"}).
// raw "" (absent) is calendar months in UTC, no error. Otherwise raw must be at
// most MaxPeriodConfigBytes of UTF-8 holding one JSON object whose "start_day",
// when present, is an integer 1–28 (absent: 1) and whose "tz", when present, is
// a string naming an IANA zone ("" or "UTC": UTC; "Local", "localtime" and
// "posixrules" are each machine's own zone, refused). Keys are matched exactly
// (encoding/json would also take "START_DAY"; Python would not), other keys
// are ignored. On any other value the error is a *PeriodConfigError whose
// reason is sanitised and bounded, and the rule returned is PeriodFallback:
// the caller judges by it and names the error.
func ParsePeriodConfig(raw string) (PeriodRule, error) {
	if raw == "" {
		return PeriodFallback, nil
	}
	if len(raw) > MaxPeriodConfigBytes {
		return PeriodFallback, periodConfigError("billing period config of %d bytes (over %d): not read", len(raw), MaxPeriodConfigBytes)
	}
	shown := Truncate(Sanitize(raw), 60)
	if !utf8.ValidString(raw) {
		return PeriodFallback, periodConfigError("billing period config %s is not UTF-8", shown)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil || fields == nil {
		why := "not a JSON object"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			why = "not JSON: " + se.Error()
		}
		return PeriodFallback, periodConfigError("billing period config %s: %s", shown, why)
	}
	cfg := PeriodConfig{StartDay: 1}
	if v, ok := fields["start_day"]; ok {
		num := string(bytes.TrimSpace(v))
		day, err := strconv.Atoi(num)
		if err != nil || !isJSONInteger(num) {
			return PeriodFallback, periodConfigError("billing period config %s: start_day holds %s, want an integer 1–28", shown, Truncate(Sanitize(num), 20))
		}
		if day < 1 || day > 28 {
			return PeriodFallback, periodConfigError("billing period config %s: start day %d must be between 1 and 28", shown, day)
		}
		cfg.StartDay = day
	}
	if v, ok := fields["tz"]; ok {
		if err := json.Unmarshal(v, &cfg.TZ); err != nil || string(v) == "null" {
			return PeriodFallback, periodConfigError("billing period config %s: tz holds %s, want a zone name", shown, Truncate(Sanitize(string(v)), 20))
		}
	}
	rule, err := cfg.Rule()
	if err != nil {
		return PeriodFallback, periodConfigError("billing period config %s: %v", shown, err)
	}
	return rule, nil
}

// isJSONInteger reports whether s is a JSON number without a fraction or an
// exponent ("5", "-3"; not "5.0", "5e0", "05" or a string "5"): what Python's
// json reads as an int.
func isJSONInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isZoneName reports whether tz has the form of an IANA zone name: elements of
// ASCII letters, digits, '_', '-' and '+' joined by '/', none empty, at
// most 64 bytes. Go would load "Europe/./Paris" from the zoneinfo directory where
// Python's ZoneInfo refuses it: a name of this form is read the same by both.
func isZoneName(tz string) bool {
	if tz == "" || len(tz) > 64 {
		return false
	}
	for _, el := range strings.Split(tz, "/") {
		if el == "" {
			return false
		}
		for i := range len(el) {
			c := el[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '+') {
				return false
			}
		}
	}
	return true
}

// PeriodUnreadableWords is how every surface names a billing-period config
// that cannot be read, with its reason (PeriodConfigError's, sanitised; it is
// sanitised again here) and the rule judged by meanwhile: "period config
// unreadable (<reason>): calendar months in UTC meanwhile".
func PeriodUnreadableWords(reason string) string {
	return "period config unreadable (" + Truncate(Sanitize(reason), MaxPeriodReasonBytes) + "): calendar months in UTC meanwhile"
}
