package estimator

import (
	"time"

	"mavtop/model"
)

// Humanize formats a duration the way the dashboard says "runs out in …": whole
// seconds under a minute ("45 s"), minutes under an hour ("12 min"), hours under two
// days ("5 h", "36 h"), then days ("2 days"). It rounds down, so a forecast never
// sounds later than it is; a negative duration reads as "0 s".
func Humanize(d time.Duration) string { return model.HumanizeDuration(d) }

// FormatCredits writes a credit amount with thousands separators: 12,345
// (model.FormatCredits, the one formatter).
func FormatCredits(n int64) string { return model.FormatCredits(n) }
