package model

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
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
		{"missing ws", func(m map[string]any) { delete(m, "ws") }, "ws"},
		{"empty ws", func(m map[string]any) { m["ws"] = "" }, "ws"},
		{"ws with slash", func(m map[string]any) { m["ws"] = "a/b" }, "ws"},
		{"ws too long", func(m map[string]any) { m["ws"] = strings.Repeat("a", 65) }, "ws"},
		{"negative credits", func(m map[string]any) { m["credits"] = "-5" }, "credits"},
		{"fractional credits", func(m map[string]any) { m["credits"] = "2.5" }, "credits"},
		{"huge credits", func(m map[string]any) { m["credits"] = "1000000000001" }, "credits"},
		{"missing credits", func(m map[string]any) { delete(m, "credits") }, "credits"},
		{"missing status", func(m map[string]any) { delete(m, "status") }, "status"},
		{"status out of range", func(m map[string]any) { m["status"] = "42" }, "status"},
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

// TestDecodeEventRepairs: an entry whose counted fields are valid is always
// decoded (and so counted); what else it holds is repaired and the repair named.
func TestDecodeEventRepairs(t *testing.T) {
	long := strings.Repeat("m", 5000)
	cases := []struct {
		name string
		edit func(m map[string]any)
		want Repairs
		ok   func(e Event) bool
	}{
		{"missing ts", func(m map[string]any) { delete(m, "ts") }, RepairedTS, func(e Event) bool { return e.TS == 1764072000001 }},
		{"ts not integer", func(m map[string]any) { m["ts"] = "soon" }, RepairedTS, func(e Event) bool { return e.TS == 1764072000001 }},
		{"missing v", func(m map[string]any) { delete(m, "v") }, RepairedVersion, nil},
		{"unknown version", func(m map[string]any) { m["v"] = "2" }, RepairedVersion, nil},
		{"project with space", func(m map[string]any) { m["project"] = "my project" }, RepairedProject, func(e Event) bool { return e.Project == "" }},
		{"missing endpoint", func(m map[string]any) { delete(m, "endpoint") }, RepairedEndpoint, func(e Event) bool { return e.Endpoint == "" }},
		{"endpoint with a space", func(m map[string]any) { m["endpoint"] = "/mave chat" }, RepairedEndpoint, func(e Event) bool { return e.Endpoint == "/mave_chat" }},
		{"endpoint oversized", func(m map[string]any) { m["endpoint"] = "/" + strings.Repeat("x", 200) }, RepairedEndpoint,
			func(e Event) bool {
				return len(e.Endpoint) == MaxEndpointLen && strings.HasSuffix(e.Endpoint, TruncatedMark)
			}},
		{"code in capitals", func(m map[string]any) { m["code"] = "Credits_EXHAUSTED" }, RepairedCode, func(e Event) bool { return e.Code == CodeCreditsExhausted }},
		{"code with escape", func(m map[string]any) { m["code"] = "a\x1b[2Jb" }, RepairedCode, func(e Event) bool { return e.Code == "a__2jb" }},
		{"msg of 5000 bytes", func(m map[string]any) { m["msg"] = long }, RepairedMsg,
			func(e Event) bool { return len(e.Msg) == MaxMsgLen && strings.HasSuffix(e.Msg, TruncatedMark) }},
		{"req of 129 bytes", func(m map[string]any) { m["req"] = strings.Repeat("r", 129) }, RepairedReq,
			func(e Event) bool { return len(e.Req) == MaxReqLen && strings.HasSuffix(e.Req, TruncatedMark) }},
		{"msg with terminal sequences", func(m map[string]any) { m["msg"] = "\x1b]2;HACKED\a\x1b[31mred\x1b[0m x\ny" }, RepairedMsg,
			func(e Event) bool { return e.Msg == "␛]2;HACKED␇␛[31mred␛[0m x␊y" }},
		{"est negative", func(m map[string]any) { m["est"] = "-1" }, RepairedEst, func(e Event) bool { return e.Est == 0 }},
		{"op in capitals", func(m map[string]any) { m["op"] = "Focus-Group" }, RepairedOp, func(e Event) bool { return e.Op == "focus-group" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := goodFields()
			c.edit(m)
			e, err := DecodeEvent("1764072000001-0", m)
			if err != nil {
				t.Fatalf("not counted: %v", err)
			}
			if e.Repairs != c.want {
				t.Fatalf("repairs = %q, want %q", e.Repairs, c.want)
			}
			if e.Workspace != "acme-prod" || e.Credits != 137 || e.Status != 201 {
				t.Fatalf("counted fields changed: %+v", e)
			}
			if c.ok != nil && !c.ok(e) {
				t.Fatalf("repaired wrongly: %+v", e)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\there", "tab here"},
		{"\x1b]52;c;aGk=\a", "␛]52;c;aGk=␇"},
		{"\x1b[?1049h\x1b[2J", "␛[?1049h␛[2J"},
		{"del\x7f", "del␡"},
		{"c1 \u009b31m", "c1 \ufffd31m"},
		{"bad \xe9 utf8", "bad \ufffd utf8"},
		{"bidi \u202eevil\u202c \u2066x\u2069", "bidi evil x"},
		{"zero\u200bwidth\ufeff soft\u00adhyphen", "zerowidth softhyphen"},
		{"line\u2028sep", "line sep"},
		{"café 日本", "café 日本"},
	}
	for _, c := range cases {
		if got := Sanitize(c.in); got != c.want {
			t.Errorf("Sanitize(%q) = %q, want %q", c.in, got, c.want)
		}
		if !IsClean(Sanitize(c.in)) {
			t.Errorf("Sanitize(%q) is not clean", c.in)
		}
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("é", 100) // 200 bytes
	got := Truncate(s, 101)
	if len(got) > 101 || !strings.HasSuffix(got, TruncatedMark) || !utf8.ValidString(got) {
		t.Fatalf("Truncate = %q (%d bytes)", got, len(got))
	}
	if Truncate("short", 10) != "short" {
		t.Fatal("a short string was cut")
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
	f.Add("1", "1764072000000", "acme", "", "/mave/chat", "0", "402", "credits_exhausted", "\x1b]2;HACKED\a\x1b[31mred\x1b[0m x\ny", "")
	f.Add("1", "1764072000000", "acme", "", "/mave/chat", "0", "402", "Credits_Exhausted", "\x1b[?1049h\x1b[2J\x1b]52;c;aGk=\a\u202e\x9b\xe9", "")
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
		for _, text := range []string{e.Endpoint, e.Code, e.Msg, e.Req, e.Op} {
			if !IsClean(text) {
				t.Fatalf("decoded text %q is not clean", text)
			}
		}
		if len(e.Msg) > MaxMsgLen || len(e.Req) > MaxReqLen || len(e.Code) > MaxCodeLen || len(e.Endpoint) > MaxEndpointLen {
			t.Fatalf("decoded text over its limit: %+v", e)
		}
		if back.Repairs != 0 {
			t.Fatalf("a decoded event needs repairs again (%v): %+v", back.Repairs, e)
		}
		e.Repairs = 0
		if back != e {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", e, back)
		}
	})
}
