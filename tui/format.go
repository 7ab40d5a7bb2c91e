package tui

import (
	"math"
	"strconv"
	"time"

	"mavtop/estimator"
	"mavtop/model"
)

// credits formats an integer with thousands separators: 12,345.
func credits(n int64) string { return estimator.FormatCredits(n) }

// compact formats a number in at most 5 characters (6 with a minus): 9.5,
// 950, 12.3k, 123k, 4.1M. The unit is chosen after rounding, so 999.96k is
// 1.0M, never "1000.0k", and burn or 402s never overflow their column.
func compact(v float64) string {
	a := math.Abs(v)
	switch {
	case a < 9.95 && a != math.Trunc(a):
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a < 999.5:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e3, "k"}, {1e6, "M"}, {1e9, "G"}} {
		switch q := a / u.div; {
		case q < 99.95:
			return strconv.FormatFloat(v/u.div, 'f', 1, 64) + u.unit
		case q < 999.5 || u.unit == "G":
			return strconv.FormatFloat(v/u.div, 'f', 0, 64) + u.unit
		}
	}
	return "" // not reached: G takes every larger figure
}

// compactCredits is compact for a used or cap figure next to its percent:
// three significant digits, cut (never rounded up, like model.FormatPercent), so
// 1,659,000 of 3,000,000 reads 1.65M/3.00M beside "55 %", not 1.7M/3.0M.
func compactCredits(n int64) string {
	a := max(n, -n)
	if a < 1000 {
		return strconv.FormatInt(n, 10)
	}
	unit, div := "k", int64(1e3)
	switch { // up to E: an int64 ends at 9.22E, which G wrote as 9223372036G
	case a >= 1e18:
		unit, div = "E", 1e18
	case a >= 1e15:
		unit, div = "P", 1e15
	case a >= 1e12:
		unit, div = "T", 1e12
	case a >= 1e9:
		unit, div = "G", 1e9
	case a >= 1e6:
		unit, div = "M", 1e6
	}
	decimals := 2
	for q := a / div; q >= 10 && decimals > 0; q /= 10 {
		decimals--
	}
	scale := div
	for range decimals {
		scale /= 10
	}
	v := float64(n/scale) * float64(scale) / float64(div) // cut to the shown digits
	return strconv.FormatFloat(v, 'f', decimals, 64) + unit
}

// percent formats a percent of a cap by the one rule (model.FormatPercent).
func percent(p float64) string { return model.FormatPercent(p) }

// humanize formats a duration for people; one helper for the whole screen.
func humanize(d time.Duration) string { return estimator.Humanize(d) }

// shortAge is age for a narrow column, without "ago": "now", "2 s", "3 min",
// "5 h", "3 d" (at most 6 cells); "—" for never.
func shortAge(now time.Time, tsMillis int64) string {
	if tsMillis == 0 {
		return "—"
	}
	switch d := now.Sub(time.UnixMilli(tsMillis)); {
	case d < 48*time.Hour:
		return model.FormatAge(d)
	default:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " d"
	}
}

// age formats how long ago something happened: "4 s ago", "—" for never.
func age(now time.Time, tsMillis int64) string {
	if tsMillis == 0 {
		return "—"
	}
	if s := model.FormatAge(now.Sub(time.UnixMilli(tsMillis))); s != "now" {
		return s + " ago"
	}
	return "now"
}
