package model

import (
	"math"
	"strings"
	"testing"
)

// TestFormatPercentOneRule walks the boundaries of the one percent rule:
// floored, a decimal from 90 % to 100 %, never "100 %" before the cap.
func TestFormatPercentOneRule(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want string
	}{
		{0, "0 %"}, {0.4, "0 %"}, {1, "1 %"}, {49.95, "49 %"}, {49.999999, "49 %"}, {50, "50 %"},
		{74.99, "74 %"}, {75, "75 %"}, {89.6, "89 %"}, {89.99, "89 %"}, {90, "90.0 %"},
		{90.05, "90.0 %"}, {98, "98.0 %"}, {98.02, "98.0 %"}, {98.06, "98.0 %"}, {98.9, "98.9 %"},
		{18708.0 / 18900 * 100, "98.9 %"}, {18522.0 / 18900 * 100, "98.0 %"}, {989.0 / 1000 * 100, "98.9 %"},
		{99.94, "99.9 %"}, {99.95, "99.9 %"}, {99.9999, "99.9 %"}, {100, "100 %"}, {100.4, "100 %"},
		{109.99, "109 %"}, {1234.5, "1234 %"}, {math.NaN(), "0 %"}, {9999.99, "9999 %"}, {10000, ">9999 %"},
		// a counter at 2^63-1 against a cap of 500 (1.8×10^18 %) or 1, and a cap of 0
		{float64(math.MaxInt64) * 100 / 500, ">9999 %"}, {float64(math.MaxInt64) * 100, ">9999 %"}, {math.Inf(1), ">9999 %"},
	} {
		if got := FormatPercent(c.p); got != c.want {
			t.Errorf("FormatPercent(%v) = %q, want %q", c.p, got, c.want)
		}
		shown := ShownPercent(c.p)
		if got := strings.TrimSuffix(c.want, " %"); FormatPercent(shown) != c.want && !math.IsNaN(c.p) {
			t.Errorf("ShownPercent(%v) = %v, shown again %q, want %s", c.p, shown, FormatPercent(shown), got)
		}
	}
	// the promise: a shown whole percent reaches a threshold exactly when the usage does
	for used := int64(0); used <= 1000; used++ {
		p := float64(used) * 100 / 1000
		for th := 1; th <= 99; th++ {
			if (ShownPercent(p) >= float64(th)) != (used*100 >= int64(th)*1000) {
				t.Fatalf("%d of 1000 (%v) shown as %s: threshold %d disagrees", used, p, FormatPercent(p), th)
			}
		}
		if (ShownPercent(p) >= 100) != (used >= 1000) {
			t.Fatalf("%d of 1000 shown as %s", used, FormatPercent(p))
		}
	}
	// the same promise at the largest caps, one credit either side of each line,
	// through Assess as every surface reaches it
	for _, cap := range []int64{MaxCredits, MaxCredits - 1, 10 * MaxCredits, 999_999_999_989} {
		for _, th := range []int64{1, 50, 75, 89, 90, 99, 100} {
			line := (th*cap + 99) / 100 // the fewest credits at or above th % of cap
			for _, used := range []int64{line - 1, line, line + 1} {
				st := Assess(&Settings{Allocation: cap}, Usage{Used: used}, nil)
				if (ShownPercent(st.Percent) >= float64(th)) != (used*100 >= th*cap) {
					t.Errorf("%d of %d shown as %s: threshold %d disagrees", used, cap, FormatPercent(st.Percent), th)
				}
			}
		}
		// a tenth below the cap reads 99.9 %, never 100
		if got := FormatPercent(Assess(&Settings{Allocation: cap}, Usage{Used: cap - 1}, nil).Percent); got != "99.9 %" {
			t.Errorf("%d of %d shown as %s, want 99.9 %%", cap-1, cap, got)
		}
	}
}

// ShownPercent of a percent from 2^52 up (every float there an integer) is the
// percent, and showing a shown percent again changes nothing, however large
// (a counter near 2^63:
// the tolerance for float error stepped 922337203685477600 up to
// 922337203685478100, so the stored alert and its payload disagreed).
func TestShownPercentNeverRisesAndIsStable(t *testing.T) {
	for _, used := range []int64{math.MaxInt64, math.MaxInt64 / 3, 1 << 53, 1<<53 + 1, 1 << 60, MaxCredits, 4503599627370497} {
		for _, cap := range []int64{1, 7, 500, 1000, 18900} {
			p := float64(used) * 100 / float64(cap)
			s := ShownPercent(p)
			if s > p+0.5 || (p >= 1<<52 && s != p) || ShownPercent(s) != s {
				t.Errorf("%d of %d: ShownPercent(%v) = %v, shown again %v", used, cap, p, s, ShownPercent(s))
			}
		}
	}
}
