package model

import (
	"strings"
	"testing"
)

// A stored value whose key is one of mavtop's in another case is refused,
// naming the key: encoding/json read {"ALLOCATION":100} as allocation 100 and
// {"allocation":1000,"Allocation":100} as 100, where Python's json (and the
// README's readers) see allocation 1000 or none — two readers, two verdicts
// (hostile11 #5). Keys that are no one's are ignored by both, as before.
func TestSettingsKeysAreMatchedExactly(t *testing.T) {
	for _, c := range []struct {
		raw, bad string // bad: the key named, "" when the value is read
		want     int64
	}{
		{raw: `{"allocation":1000}`, want: 1000},
		{raw: `{"allocation":1000,"note":"x","ALLOCATION_X":5}`, want: 1000},
		{raw: `{"ALLOCATION":100}`, bad: `"ALLOCATION"`},
		{raw: `{"allocation":1000,"Allocation":100}`, bad: `"Allocation"`},
		{raw: `{"allocation":1000,"Usage_Limit":10}`, bad: `"Usage_Limit"`},
		{raw: `{"allocation":1000,"raiſed_at":10}`, bad: `"raiſed_at"`}, // U+017F folds to s
		{raw: `{"allocation":1000,"\u001b[2JALLOCATION":1}`, want: 1000},
	} {
		s, err := DecodeSettings(c.raw)
		switch {
		case c.bad == "" && (err != nil || s.Allocation != c.want):
			t.Errorf("%s: %+v, %v; want allocation %d", c.raw, s, err, c.want)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%s: %+v, %v; want refused naming %s", c.raw, s, err, c.bad)
		}
	}
	if _, err := DecodeBudget(`{"usage_limit":500,"USAGE_LIMIT":5000}`); err == nil || !strings.Contains(err.Error(), `"USAGE_LIMIT"`) {
		t.Errorf("a project budget's key in another case: %v, want refused", err)
	}
	if b, err := DecodeBudget(`{"usage_limit":500}`); err != nil || b.Limit != 500 {
		t.Errorf("a project budget: %+v, %v", b, err)
	}
}
