package feed

import (
	"encoding/json"
	"reflect"
	"testing"

	"mavtop/model"
)

// The fast scanners and encoding/json agree on the new keys
// (limit_raised_from, raised_from), in order, out of order, repeated, case
// variants, negative, huge (guard: passes).
func TestSettingsKeysScannersAgreeOnTheNewKeys(t *testing.T) {
	for _, raw := range []string{
		`{"usage_limit":10000,"limit_raised_at":5,"limit_raised_from":500}`,
		`{"limit_raised_from":500,"usage_limit":10000,"limit_raised_at":5}`,
		`{"usage_limit":10000,"limit_raised_from":500,"limit_raised_at":5}`,
		`{"usage_limit":10000,"limit_raised_from":500,"limit_raised_from":700}`,
		`{"usage_limit":10000,"limit_raised_from":-1}`,
		`{"usage_limit":10000,"limit_raised_from":9223372036854775807}`,
		`{"usage_limit":10000,"limit_raised_from":1e3}`,
		`{"usage_limit":10000,"limit_raised_from":null}`,
		`{"usage_limit":10000,"LIMIT_RAISED_FROM":500}`,
	} {
		sameDecode(t, raw, decodeSettings, jsonSettings)
	}
	for _, raw := range []string{
		`{"usage_limit":1000,"raised_at":5,"raised_from":200}`,
		`{"raised_from":200,"usage_limit":1000,"raised_at":5}`,
		`{"usage_limit":1000,"raised_from":-3}`,
		`{"usage_limit":1000,"Raised_From":200}`,
	} {
		sameDecode(t, raw, decodeBudget, jsonBudget)
	}
	s := model.Settings{UsageLimit: 10000, LimitRaisedAt: 5, LimitRaisedFrom: 500}
	js, _ := json.Marshal(s)
	if got, ok := scanSettings(string(js)); !ok || !reflect.DeepEqual(got, s) {
		t.Fatalf("fast form %s: %+v %v", js, got, ok)
	}
	b := model.ProjectBudget{Limit: 1000, RaisedAt: 5, RaisedFrom: 200}
	js, _ = json.Marshal(b)
	if got, ok := scanBudget(string(js)); !ok || got != b {
		t.Fatalf("fast form %s: %+v %v", js, got, ok)
	}
}
