package model

import (
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
