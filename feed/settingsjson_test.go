package feed

import (
	"encoding/json"
	"reflect"
	"testing"

	"mavtop/model"
)

// settingsCases are settings values as the hash may hold them: what
// json.Marshal writes (the fast form) and every way around it — spaces, keys
// in another order, repeated, unknown or in capitals, null, floats, exponents,
// leading zeros, numbers past int64, [] and null alerts, trailing bytes,
// broken JSON and values Validate refuses.
var settingsCases = []string{
	`{"allocation":1000}`,
	`{"allocation":0}`,
	`{"allocation":-0}`,
	`{}`,
	`{"allocation":1000,"usage_limit":800,"budget_alert":500,"alerts":[10,20,30],"recharge_below":100,"recharge_amount":500,"raised_at":1764000000000}`,
	`{"allocation":1000,"alerts":[50]}`,
	`{"allocation":1000,"alerts":[]}`,
	`{"allocation":1000,"alerts":null}`,
	`{"allocation":1000,"alerts":[90,50]}`,
	`{"allocation":1000,"alerts":[0,50,100]}`,
	`{"allocation":1000,"alerts":[10,20,30,40]}`,
	`{"allocation":1000,"alerts":[9223372036854775808]}`,
	`{"allocation":1000,"alerts":[1.5]}`,
	`{"allocation":1000,"alerts":[50,]}`,
	`{"allocation":1000,"alerts":[50`,
	`{"allocation":-5}`,
	`{"allocation":1e3}`,
	`{"allocation":1000.0}`,
	`{"allocation":01000}`,
	`{"allocation":9223372036854775807}`,
	`{"allocation":9223372036854775808}`,
	`{"allocation":-9223372036854775808}`,
	`{"allocation":-9223372036854775809}`,
	`{"allocation":"1000"}`,
	`{"allocation":null}`,
	`{"allocation":true}`,
	`{"allocation":1000,"allocation":5}`,
	`{"usage_limit":800,"allocation":1000}`,
	`{"Allocation":1000}`,
	`{"ALLOCATION":1000,"Usage_Limit":5}`,
	`{"allocation":1000,"colour":"red"}`,
	`{"allocation":1000,"extra":{"a":[1,2]}}`,
	`{"alloc\u0061tion":1000}`,
	` {"allocation":1000}`,
	`{"allocation":1000} `,
	`{"allocation":1000}` + "\n",
	`{ "allocation" : 1000 }`,
	`{"allocation":1000}x`,
	`{"allocation":1000}{}`,
	`{"allocation":1000,}`,
	`{"allocation":1000`,
	`{"allocation":}`,
	`{"allocation"1000}`,
	`{"allocation":-}`,
	`{"allocation":--1}`,
	`{"allocation":+1}`,
	`{"allocation":1000,"recharge_below":100}`,
	`{"allocation":1000,"recharge_below":-1,"recharge_amount":-1}`,
	`{"allocation":1000,"raised_at":-1}`,
	`{"allocation":1000,"budget_alert":-1}`,
	`{"allocation":1000,"usage_limit":-1}`,
	`{"allocation":1000000000000000000}`,
	`[]`,
	`null`,
	`""`,
	``,
	`1000`,
	"{\"allocation\":1000,\"\x1b[2J\":1}",
	"{\"allocation\":\xff}",
}

// budgetCases are the same for a project's budget.
var budgetCases = []string{
	`{}`,
	`{"budget_alert":50,"usage_limit":100}`,
	`{"usage_limit":100}`,
	`{"budget_alert":50}`,
	`{"usage_limit":100,"budget_alert":50}`,
	`{"budget_alert":500,"usage_limit":100}`,
	`{"usage_limit":-1}`,
	`{"usage_limit":1e2}`,
	`{"usage_limit":100,"usage_limit":5}`,
	`{"Usage_Limit":100}`,
	`{"usage_limit":100} `,
	`{"usage_limit":9223372036854775808}`,
	`{"usage_limit":null}`,
	`{"usage_limit":100,"x":1}`,
	`null`,
	``,
}

// jsonSettings and jsonBudget decode as encoding/json alone does, with the
// same validation and words: model.DecodeSettings and DecodeBudget, the
// ledger's decoding of a settings entry, which the fast form must match.
func jsonSettings(raw string) (model.Settings, error) { return model.DecodeSettings(raw) }

func jsonBudget(raw string) (model.ProjectBudget, error) { return model.DecodeBudget(raw) }

// sameDecode fails when decode and want disagree on raw: the value, or
// whether and why it is refused, word for word.
func sameDecode[T any](t *testing.T, raw string, decode, want func(string) (T, error)) {
	t.Helper()
	got, gotErr := decode(raw)
	exp, expErr := want(raw)
	if (gotErr == nil) != (expErr == nil) {
		t.Fatalf("%q: error %v, encoding/json says %v", raw, gotErr, expErr)
	}
	if expErr != nil {
		if gotErr.Error() != expErr.Error() {
			t.Fatalf("%q: error %q, want %q", raw, gotErr, expErr)
		}
		return
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("%q: decoded %+v, encoding/json %+v", raw, got, exp)
	}
}

// TestSettingsDecodeAsEncodingJSON: the hand-written scanner of the settings
// hash's values accepts, refuses and says exactly what encoding/json and
// Validate did, on every hostile form; and json.Marshal's own form of any
// settings is read by the scanner (not by the fallback) to the same value.
func TestSettingsDecodeAsEncodingJSON(t *testing.T) {
	for _, raw := range settingsCases {
		sameDecode(t, raw, decodeSettings, jsonSettings)
	}
	for _, raw := range budgetCases {
		sameDecode(t, raw, decodeBudget, jsonBudget)
	}
	fast := 0
	for _, s := range []model.Settings{
		{}, {Allocation: 1}, {Allocation: 1000, UsageLimit: 800},
		{Allocation: 7, Alerts: []int{1, 2, 99}, RechargeBelow: 3, RechargeAmount: 4, RaisedAt: 1764000000123},
		{BudgetAlert: 9, Alerts: []int{42}}, {Allocation: model.MaxCredits, UsageLimit: model.MaxCredits},
	} {
		js, _ := json.Marshal(s)
		got, ok := scanSettings(string(js))
		if !ok || !reflect.DeepEqual(got, s) {
			t.Fatalf("scanSettings(%s) = %+v, %v; want %+v by the fast form", js, got, ok, s)
		}
		fast++
	}
	for _, b := range []model.ProjectBudget{{}, {Limit: 100}, {Alert: 5}, {Alert: 50, Limit: 100}} {
		js, _ := json.Marshal(b)
		got, ok := scanBudget(string(js))
		if !ok || got != b {
			t.Fatalf("scanBudget(%s) = %+v, %v; want %+v by the fast form", js, got, ok, b)
		}
		fast++
	}
	if fast != 10 {
		t.Fatalf("%d fast forms checked", fast)
	}
	// each value decoded is its own: a caller changing one workspace's
	// thresholds changes no other's
	a, _ := decodeSettings(`{"allocation":1000,"alerts":[10,20,30]}`)
	b, _ := decodeSettings(`{"allocation":1000,"alerts":[10,20,30]}`)
	a.Alerts[0] = 5
	if b.Alerts[0] != 10 {
		t.Fatalf("two decodes share their alerts: %v", b.Alerts)
	}
}

// FuzzDecodeSettings: for any bytes, the settings and budget decoders agree
// with encoding/json and Validate (go test runs the cases above as the seed
// corpus; go test -fuzz FuzzDecodeSettings ./feed searches further).
func FuzzDecodeSettings(f *testing.F) {
	for _, raw := range settingsCases {
		f.Add(raw)
	}
	for _, raw := range budgetCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		sameDecode(t, raw, decodeSettings, jsonSettings)
		sameDecode(t, raw, decodeBudget, jsonBudget)
	})
}
