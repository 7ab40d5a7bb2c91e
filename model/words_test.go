package model

import (
	"testing"
	"time"
)

// TestCountOfAgrees: "1 workspace" (check printed "1 workspaces"), the plural
// for 0 and more.
func TestCountOfAgrees(t *testing.T) {
	for n, want := range map[int]string{0: "0 workspaces", 1: "1 workspace", 2: "2 workspaces", 100000: "100000 workspaces"} {
		if got := CountOf(n, "workspace"); got != want {
			t.Errorf("CountOf(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestFormatAge: under a second is "now" (check said "0 s" where the
// dashboard said "now"), then the dashboard's words.
func TestFormatAge(t *testing.T) {
	for d, want := range map[time.Duration]string{-time.Second: "now", 0: "now", 999 * time.Millisecond: "now",
		time.Second: "1 s", 90 * time.Second: "1 min", 3 * time.Hour: "3 h", 72 * time.Hour: "3 days"} {
		if got := FormatAge(d); got != want {
			t.Errorf("FormatAge(%s) = %q, want %q", d, got, want)
		}
	}
}
