package model

import "testing"

// TestSanitizeKeepsGraphemeClustersWhole: an emoji's joiner, variation
// selector, skin tone and a subdivision flag's tags stay inside the cluster
// they belong to ("👩‍💻" was "👩💻", "⚠️" was "⚠"); alone, or with nothing to
// join, they are the invisible format characters the rule removes, and
// controls, escapes and bidi overrides beside an emoji are still refused.
func TestSanitizeKeepsGraphemeClustersWhole(t *testing.T) {
	scotland := "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
	for in, want := range map[string]string{
		"Warning ⚠️ low":       "Warning ⚠️ low",
		"ok 👍🏽 done":           "ok 👍🏽 done",
		"team 👩‍💻 ships":       "team 👩‍💻 ships",
		"family 👨‍👩‍👧 x":       "family 👨‍👩‍👧 x",
		scotland + " flag":     scotland + " flag",
		"check ✓\ufe0f":        "check ✓\ufe0f",
		"text \ufe0e selector": "text  selector", // after a space: nothing to select
		"lone \u200d joiner":   "lone  joiner",
		"end a\u200d":          "end a",     // a joiner with nothing after it
		"hidden a\U000e0041x":  "hidden ax", // a tag outside a flag can hide text
		"👩‍💻\u202egnp.exe":     "👩‍💻gnp.exe",
		"⚠️\x1b[2J":            "⚠️␛[2J",
		"e\u0301 café":         "e\u0301 café",
		"plain":                "plain",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if IsClean(in) != (in == want) {
			t.Errorf("IsClean(%q) = %v", in, IsClean(in))
		}
		if got := Sanitize(want); got != want {
			t.Errorf("Sanitize is not idempotent on %q: %q", want, got)
		}
	}
}
