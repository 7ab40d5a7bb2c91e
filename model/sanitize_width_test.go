package model

import "testing"

// TestSanitizeDropsWidthAmbiguousModifiers: what terminals draw at different
// widths loses its modifier and keeps its base character.
func TestSanitizeDropsWidthAmbiguousModifiers(t *testing.T) {
	for in, want := range map[string]string{
		"Warning ⚠️ low":  "Warning ⚠ low",
		"ok 👍🏽 done":      "ok 👍 done",
		"team 👩‍💻 ships":  "team 👩💻 ships", // the ZWJ is a format character
		"text ︎ selector": "text  selector",
		"plain":           "plain",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if IsClean(in) != (in == want) {
			t.Errorf("IsClean(%q) = %v", in, IsClean(in))
		}
	}
}
