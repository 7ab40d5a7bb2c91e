package cmd

import (
	"testing"
	"time"

	"mavtop/model"
)

// TestCheckSummarySaysTheMinutesLeft: on a period's last hour check's OK line
// said "0 h left" (hours rounded down) while the header said "26 min left";
// the summary uses the one duration wording (model.HumanizeDuration).
func TestCheckSummarySaysTheMinutesLeft(t *testing.T) {
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := model.Period{Key: "2026-11", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: end}
	for _, c := range []struct {
		left time.Duration
		want string
	}{
		{27*time.Minute + 30*time.Second, "0 workspaces, period 2026-11, 27 min left"},
		{40 * time.Second, "0 workspaces, period 2026-11, 40 s left"},
		{5*time.Hour + 59*time.Minute, "0 workspaces, period 2026-11, 5 h left"},
		{75 * time.Hour, "0 workspaces, period 2026-11, 3 days left"},
	} {
		if got := checkSummary(nil, 0, p, end.Add(-c.left)); got != c.want {
			t.Errorf("%v before the end: %q, want %q", c.left, got, c.want)
		}
	}
}
