package tui

import (
	"testing"
	"time"
)

// TestShortAgeFitsItsColumn: the gauges' age column reads "now", "2 s",
// "3 min", "5 h", "3 d" or "—", never wider than the column.
func TestShortAgeFitsItsColumn(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var width int
	for _, c := range gaugeColumns {
		if c.head == "age" {
			width = c.width
		}
	}
	for _, tc := range []struct {
		ago  time.Duration
		want string
	}{
		{300 * time.Millisecond, "now"}, {2 * time.Second, "2 s"}, {59 * time.Minute, "59 min"}, {3 * time.Minute, "3 min"},
		{5 * time.Hour, "5 h"}, {47 * time.Hour, "47 h"}, {3 * 24 * time.Hour, "3 d"}, {31 * 24 * time.Hour, "31 d"},
	} {
		got := shortAge(now, now.Add(-tc.ago).UnixMilli())
		if got != tc.want || cellWidth(got) > width {
			t.Errorf("%v ago: %q (column %d wide), want %q", tc.ago, got, width, tc.want)
		}
	}
	if got := shortAge(now, 0); got != "—" {
		t.Errorf("no event: %q", got)
	}
}
