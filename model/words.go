package model

import (
	"strconv"
	"time"
)

// CountOf says n of a thing with the noun agreeing with the number, as every
// surface writes counts: "1 workspace", "0 workspaces", "3 workspaces". noun
// is the singular; its plural adds "s" (the nouns counted are regular:
// workspace, sink, event).
func CountOf(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}

// FormatAge says how long ago something happened the one way every surface
// does (the dashboard's age column, check's LAST EVENT): "now" under a
// second, else HumanizeDuration ("4 s", "12 min", "5 h", "2 days"). A
// negative age (a clock ahead of this one) is "now".
func FormatAge(d time.Duration) string {
	if d < time.Second {
		return "now"
	}
	return HumanizeDuration(d)
}
