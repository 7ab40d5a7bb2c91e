package model

import (
	"encoding/json"
	"testing"
)

// Level and cap kind are written as the words the webhook payload uses, and
// records written before (numbers) still read.
func TestLevelAndCapKindJSONAreWords(t *testing.T) {
	a := Alert{ID: "x", Level: LevelHigh, CapKind: CapLimit}
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["level"] != "high" || m["cap_kind"] != "limit" {
		t.Errorf("level %v, cap_kind %v: %s", m["level"], m["cap_kind"], b)
	}
	for _, tc := range []struct {
		in    string
		level Level
		cap   CapKind
	}{
		{`{"level":"high","cap_kind":"limit"}`, LevelHigh, CapLimit},
		{`{"level":3,"cap_kind":2}`, LevelHigh, CapLimit}, // as stored before
		{`{"level":"no allocation"}`, LevelNone, CapNone},
		{`{"level":"exhausted","cap_kind":"allocation"}`, LevelExhausted, CapAllocation},
	} {
		var got Alert
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil || got.Level != tc.level || got.CapKind != tc.cap {
			t.Errorf("%s: %v %v, %v", tc.in, got.Level, got.CapKind, err)
		}
	}
	for _, bad := range []string{`{"level":"hgih"}`, `{"level":9}`, `{"cap_kind":-1}`, `{"cap_kind":"cap"}`} {
		var got Alert
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s read as %v %v, want an error", bad, got.Level, got.CapKind)
		}
	}
}
