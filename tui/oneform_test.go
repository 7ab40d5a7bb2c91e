package tui

import (
	"regexp"
	"strings"
	"testing"
)

// TestOneShortFormPerSize: a long workspace name reads one way on a screen,
// whole or in the one short form of its size (shortName at nameWidth), in
// the table, the 402 log, the alerts, the banner and both chart titles. The
// "By endpoint" title shortened it to the room left ("umbr…arch" beside the
// table's "umbr…earch"); a banner or an alert to the words' room.
func TestOneShortFormPerSize(t *testing.T) {
	// a form of longWS: a start of it, "…", an end of it
	form := regexp.MustCompile(`[a-z-]*…[a-z-]*`)
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}, {120, 40}, {200, 50}} {
		m := longNameApp(t, sz[0], sz[1])
		want := shortName(longWS, nameWidth(sz[0]))
		screen := view(m)
		seen := 0
		for _, f := range form.FindAllString(screen, -1) {
			head, tail, _ := strings.Cut(f, "…")
			if head == "" || tail == "" || !strings.HasPrefix(longWS, head) || !strings.HasSuffix(longWS, tail) {
				continue // another cut word, not this name
			}
			seen++
			if f != want {
				t.Errorf("%dx%d: %q, want %q (or the name whole):\n%s", sz[0], sz[1], f, want, screen)
			}
		}
		if seen == 0 && !strings.Contains(screen, longWS) {
			t.Errorf("%dx%d: the name is nowhere on screen:\n%s", sz[0], sz[1], screen)
		}
	}
}
