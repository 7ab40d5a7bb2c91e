package model

import (
	"errors"
	"strings"
	"testing"
)

func goodFields() map[string]any {
	return map[string]any{
		"v": "1", "ts": "1764072000000", "ws": "acme-prod", "project": "web",
		"endpoint": "/focus-groups", "credits": "137", "status": "201",
		"req": "fg_123", "op": "focus-group", "est": "137",
	}
}

func TestDecodeEventGood(t *testing.T) {
	e, err := DecodeEvent("1-0", goodFields())
	if err != nil {
		t.Fatal(err)
	}
	want := Event{ID: "1-0", TS: 1764072000000, Workspace: "acme-prod", Project: "web",
		Endpoint: "/focus-groups", Credits: 137, Status: 201, Req: "fg_123", Op: "focus-group", Est: 137}
	if e != want {
		t.Fatalf("got %+v\nwant %+v", e, want)
	}
}

func TestDecodeEventErrors(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		field string
	}{
		{"missing v", func(m map[string]any) { delete(m, "v") }, "v"},
		{"unknown version", func(m map[string]any) { m["v"] = "2" }, "v"},
		{"missing ts", func(m map[string]any) { delete(m, "ts") }, "ts"},
		{"ts not integer", func(m map[string]any) { m["ts"] = "soon" }, "ts"},
		{"ts zero", func(m map[string]any) { m["ts"] = "0" }, "ts"},
		{"missing ws", func(m map[string]any) { delete(m, "ws") }, "ws"},
		{"empty ws", func(m map[string]any) { m["ws"] = "" }, "ws"},
		{"ws with slash", func(m map[string]any) { m["ws"] = "a/b" }, "ws"},
		{"ws too long", func(m map[string]any) { m["ws"] = strings.Repeat("a", 65) }, "ws"},
		{"project with space", func(m map[string]any) { m["project"] = "my project" }, "project"},
		{"negative credits", func(m map[string]any) { m["credits"] = "-5" }, "credits"},
		{"fractional credits", func(m map[string]any) { m["credits"] = "2.5" }, "credits"},
		{"huge credits", func(m map[string]any) { m["credits"] = "1000000000001" }, "credits"},
		{"missing credits", func(m map[string]any) { delete(m, "credits") }, "credits"},
		{"missing endpoint", func(m map[string]any) { delete(m, "endpoint") }, "endpoint"},
		{"endpoint not a path", func(m map[string]any) { m["endpoint"] = "focus-groups" }, "endpoint"},
		{"endpoint oversized", func(m map[string]any) { m["endpoint"] = "/" + strings.Repeat("x", 200) }, "endpoint"},
		{"missing status", func(m map[string]any) { delete(m, "status") }, "status"},
		{"status out of range", func(m map[string]any) { m["status"] = "42" }, "status"},
		{"code uppercase", func(m map[string]any) { m["code"] = "CREDITS" }, "code"},
		{"msg oversized", func(m map[string]any) { m["msg"] = strings.Repeat("m", MaxMsgLen+1) }, "msg"},
		{"req oversized", func(m map[string]any) { m["req"] = strings.Repeat("r", MaxReqLen+1) }, "req"},
		{"est negative", func(m map[string]any) { m["est"] = "-1" }, "est"},
		{"unknown kind", func(m map[string]any) { m["kind"] = "refund" }, "kind"},
		{"non-string value", func(m map[string]any) { m["credits"] = 5 }, "credits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := goodFields()
			c.edit(m)
			_, err := DecodeEvent("1-0", m)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if de.Field != c.field {
				t.Fatalf("field = %q (%v), want %q", de.Field, err, c.field)
			}
		})
	}
}

func TestDecodeEventKinds(t *testing.T) {
	// settings entries need no credits, endpoint or status
	_, err := DecodeEvent("1-0", map[string]any{"v": "1", "ts": "5", "ws": "a", "kind": "settings", "msg": "{}"})
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	// recharge needs credits but not endpoint or status
	e, err := DecodeEvent("1-0", map[string]any{"v": "1", "ts": "5", "ws": "a", "kind": "recharge", "credits": "500"})
	if err != nil || e.Kind != KindRecharge || e.Credits != 500 {
		t.Fatalf("recharge: %+v %v", e, err)
	}
	if _, err := DecodeEvent("1-0", map[string]any{"v": "1", "ts": "5", "ws": "a", "kind": "recharge"}); err == nil {
		t.Fatal("recharge without credits accepted")
	}
	// unknown fields are ignored (a newer producer)
	m := goodFields()
	m["future"] = "x"
	if _, err := DecodeEvent("1-0", m); err != nil {
		t.Fatalf("unknown field rejected: %v", err)
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	evs := []Event{
		{TS: 1, Workspace: "w", Endpoint: "/responses", Credits: 3, Status: 200},
		{TS: 2, Workspace: "w", Project: "p", Endpoint: "/focus-groups", Credits: 0, Status: 402,
			Code: CodeBudgetExceeded, Msg: "Budget exceeded", Req: "r1", Op: "focus-group", Est: 137},
		{TS: 3, Workspace: "w", Kind: KindRecharge, Credits: 500},
		{TS: 4, Workspace: "w", Kind: KindSettings, Msg: `{"allocation":5000}`},
	}
	for _, e := range evs {
		got, err := DecodeEvent("", e.FieldMap())
		if err != nil {
			t.Fatalf("%+v: %v", e, err)
		}
		if got != e {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, e)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("validate %+v: %v", e, err)
		}
	}
}

// FuzzDecodeEvent: whatever a producer writes, decoding never panics, and what
// decodes re-encodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	f.Add("1", "1764072000000", "acme", "web", "/responses", "3", "200", "", "", "usage")
	f.Add("1", "1764072000000", "acme", "", "/focus-groups", "0", "402", "credits_exhausted", "Out of credits", "")
	f.Add("1", "5", "a", "", "", "500", "", "", "", "recharge")
	f.Add("2", "-1", "", "a/b", "x", "-3", "99", "BAD", "", "refund")
	f.Add("1", "9999999999999999999", "ws", "p", "/ é", "1.5", "abc", "", "", "settings")
	f.Fuzz(func(t *testing.T, v, ts, ws, project, endpoint, credits, status, code, msg, kind string) {
		m := map[string]any{"v": v, "ts": ts, "ws": ws, "project": project, "endpoint": endpoint,
			"credits": credits, "status": status, "code": code, "msg": msg, "kind": kind}
		for k, val := range m {
			if val == "" {
				delete(m, k)
			}
		}
		e, err := DecodeEvent("1-0", m)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		back, err := DecodeEvent("1-0", e.FieldMap())
		if err != nil {
			t.Fatalf("re-decode of %+v: %v", e, err)
		}
		if back != e {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", e, back)
		}
	})
}
