package estimator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Humanize formats a duration the way the dashboard says "runs out in …": whole
// seconds under a minute ("45 s"), minutes under an hour ("12 min"), hours under two
// days ("5 h", "36 h"), then days ("2 days"). It rounds down, so a forecast never
// sounds later than it is; a negative duration reads as "0 s".
func Humanize(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(d, 0)/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d days", d/(24*time.Hour))
}

// FormatCredits writes a credit amount with thousands separators: 12,345.
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
