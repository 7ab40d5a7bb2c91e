package model

import (
	"math"
	"strconv"
	"strings"
)

// FormatCredits writes a credit amount with thousands separators: 12,345. It
// is the one formatter of credit amounts: the screen, the estimator and alert
// summaries all write numbers through it.
func FormatCredits(n int64) string {
	s := strconv.FormatInt(n, 10)
	start := 0
	if n < 0 {
		start = 1
	}
	var b strings.Builder
	b.WriteString(s[:start])
	digits := s[start:]
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// ShownPercent is p (a percent of a cap, such as Status.Percent) as every
// surface shows it: floored (never rounded up) to one decimal from 90 % up to
// 100 %, to a whole percent elsewhere. Flooring keeps two promises: a shown
// percent is at or above a whole-number threshold exactly when the usage is,
// and "100 %" (or more) appears only once the cap is reached. One decimal from
// 90 % on is where a tenth of a percent still separates rows. A tolerance of
// 5e-16 of the value floored (2–4 units in the last place) absorbs the float
// error of used×100/cap (at most ~1.5 units: 989/1000×100 is 98.9, not
// 98.8999…) while staying below the smallest distance between a percent and a
// line a cap up to 10^13 credits can make (1/cap of a percent, ≥ 9 units): a
// fixed 1e-9 showed 999,999,999,999 of 10^12 as "100.0 %" and
// 899,999,999,999 of 10^12 as "90.0 %". Above ~10^13 credits a float cannot
// tell such percents apart. NaN is 0.
func ShownPercent(p float64) float64 {
	if math.IsNaN(p) {
		return 0
	}
	if p >= 90 && p < 100 {
		return floorTolerant(p*10) / 10
	}
	return floorTolerant(p)
}

// floorTolerant floors x, taking a value within 5e-16 of x below an integer
// as that integer (float error of a ratio of integers, see ShownPercent). The
// tolerance is at most half a unit: from ~10^15 up, 5e-16 of x is a whole
// unit or more, and floor(x + 5e-16·x) stepped an integer to the next one —
// 2^63−1 credits of 1,000 were 922337203685477600 % in the stored alert but
// 922337203685478100 % once shown, and showing a shown percent moved it again.
func floorTolerant(x float64) float64 {
	f := math.Floor(x)
	if f+1-x <= min(math.Abs(x)*5e-16, 0.5) {
		return f + 1
	}
	return f
}

// FormatPercent writes p by the rule of ShownPercent: "42 %", "98.0 %",
// "98.9 %", "99.9 %", "100 %", "110 %", and from MaxShownPercent up
// ">9999 %". It is the one formatter of percents of a cap: the gauges, the
// detail pane, check, budget show, alert summaries and notification payloads
// all print through it, so one workspace reads the same everywhere.
func FormatPercent(p float64) string {
	s := ShownPercent(p)
	switch {
	case p >= 90 && p < 100:
		return strconv.FormatFloat(s, 'f', 1, 64) + " %"
	case s > MaxShownPercent:
		// a counter near 2^63 against a cap of 500 is 1.8×10^18 %: its 19
		// digits were cut to "18446744073…" in a gauge's label, its "% used"
		// lost, and read as a credit amount; past every threshold by 100×,
		// the figure says nothing more than "over"
		return ">" + strconv.Itoa(MaxShownPercent) + " %"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + " %"
}

// MaxShownPercent is the largest percent FormatPercent writes as a figure;
// above it, ">9999 %".
const MaxShownPercent = 9999
