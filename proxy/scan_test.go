package proxy

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// feedSplit feeds doc to f cut at every position (and byte by byte), so a value
// or a key split across reads is read the same as whole.
func feedSplit(doc string, f func(chunks []string)) {
	f([]string{doc})
	for i := 1; i < len(doc); i++ {
		f([]string{doc[:i], doc[i:]})
	}
	bytes := make([]string, len(doc))
	for i := range len(doc) { // every byte: ranging over the string would skip UTF-8 continuation bytes
		bytes[i] = doc[i : i+1]
	}
	f(bytes)
}

// scanCase is one document and what jsonScan must read from it.
type scanCase struct {
	name, doc string
	credits   int64
	ok        bool
	id        string
	status    string
	code, msg string // msg "*": a message cut at maxCapture
}

func TestJSONScanCredits(t *testing.T) {
	cases := []scanCase{
		{"response", `{"id":"resp_1","object":"response","output":[{"content":[{"text":"a \"usage\": {\"credits_used\": 99}"}]}],"usage":{"input_tokens":3,"credits_used":4}}`, 4, true, "resp_1", "", "", ""},
		{"usage first, nested decoys", `{"usage":{"credits_used":7},"results":{"usage":{"credits_used":1000}},"id":"x"}`, 7, true, "x", "", "", ""},
		{"persona", `{"id":"clx9","object":"custom_persona","credits_charged":300,"details":{}}`, 300, true, "clx9", "", "", ""},
		{"job pending", `{"id":"clx1","status":"pending","usage":null}`, 0, false, "clx1", "pending", "", ""},
		{"job failed", `{"id":"clx1","status":"failed","error":"could not finish","usage":{"credits_used":0}}`, 0, true, "clx1", "failed", "", "could not finish"},
		{"api error", `{"error":{"message":"No credits left.","type":"insufficient_credits","code":"credits_exhausted","param":null}}`, 0, false, "", "", "credits_exhausted", "No credits left."},
		{"spaces and escapes", " {\n \"u\\\"sage\" : {\"credits_used\":1}, \"usage\" :\t{ \"credits_used\" : 12 } } ", 12, true, "", "", "", ""},
		{"array top", `[{"usage":{"credits_used":5}}]`, 0, false, "", "", "", ""},
		{"not json", `<html>bad gateway</html>`, 0, false, "", "", "", ""},
		{"long key ignored", `{"usageusageusageusageusageusageusage":{"credits_used":5}}`, 0, false, "", "", "", ""},
	}
	long := strings.Repeat("é\\\"", 2100) // 8,400 bytes of text, escapes and UTF-8

	cases = append(cases,
		scanCase{"api error, message over maxCapture before the code", `{"error":{"message":"No credits left. ` + long + `","type":"insufficient_credits","code":"credits_exhausted"}}`, 0, false, "", "", "credits_exhausted", "*"},
		scanCase{"job error string over maxCapture", `{"id":"j","status":"failed","error":"could not finish ` + long + `"}`, 0, false, "j", "failed", "", "*"},
	)
	for _, c := range cases {
		feedSplit(c.doc, func(chunks []string) {
			var s jsonScan
			for _, ch := range chunks {
				s.feed([]byte(ch))
			}
			s.finish()
			n, ok := s.credits()
			code, msg := s.apiError()
			if c.msg == "*" { // cut: its start, whole characters, ending in "…"
				if len(msg) < maxCapture/2 || len(msg) > maxCapture+8 || !strings.HasSuffix(msg, "…") || !utf8.ValidString(msg) ||
					!(strings.HasPrefix(msg, "No credits left. é\"") || strings.HasPrefix(msg, "could not finish é\"")) {
					t.Fatalf("%s: message kept as %d bytes %q…", c.name, len(msg), msg[:min(len(msg), 40)])
				}
				msg = "*"
			}
			if n != c.credits || ok != c.ok || s.str("id") != c.id || s.str("status") != c.status || code != c.code || msg != c.msg {
				t.Fatalf("%s in %d chunks: credits %d %v id %q status %q error %q %q", c.name, len(chunks), n, ok, s.str("id"), s.str("status"), code, msg)
			}
		})
	}
}

// A 10 MB answer is read in constant memory: the scanner keeps only its captures.
func TestJSONScanLargeBody(t *testing.T) {
	big := `{"id":"resp_big","output":[{"text":"` + strings.Repeat("x\\\"y", 2<<20) + `"}],"usage":{"credits_used":5}}`
	var s jsonScan
	for i := 0; i < len(big); i += 32 << 10 {
		s.feed([]byte(big[i:min(i+32<<10, len(big))]))
	}
	s.finish()
	if n, ok := s.credits(); !ok || n != 5 || s.str("id") != "resp_big" {
		t.Fatalf("credits %d %v id %q", n, ok, s.str("id"))
	}
	if cap(s.capBuf) > maxCapture*2 {
		t.Fatalf("capture buffer grew to %d bytes", cap(s.capBuf))
	}
}

func TestSSEScan(t *testing.T) {
	stream := "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_7\",\"usage\":null}}\n\n" +
		": keep-alive comment\n\n" +
		"event: response.output_text.delta\r\ndata: {\"type\":\"response.output_text.delta\",\r\ndata: \"delta\":\"usage\"}\r\n\r\n" +
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_7\",\"usage\":{\"credits_used\":3}}}\n\n" +
		"data: [DONE]\n\n"
	feedSplit(stream, func(chunks []string) {
		var s sseScan
		for _, ch := range chunks {
			s.feed([]byte(ch))
		}
		s.finish()
		if !s.hasCredits || s.credits != 3 || s.id != "resp_7" || s.events != 4 || s.code != "" {
			t.Fatalf("%d chunks: credits %d %v id %q events %d code %q", len(chunks), s.credits, s.hasCredits, s.id, s.events, s.code)
		}
	})
	// A stream cut before its completed event has no credits; an error event is read.
	cut := "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\"}}\n\n" +
		"event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\"}\n\n"
	var s sseScan
	s.feed([]byte(cut))
	s.finish()
	if s.hasCredits || s.code != "server_error" || s.msg != "boom" {
		t.Fatalf("cut stream: credits %v code %q msg %q", s.hasCredits, s.code, s.msg)
	}
}

func TestTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"/responses":                   "/responses",
		"/mave/chat":                   "/mave/chat",
		"/focus-groups/clx1abc":        "/focus-groups/{id}",
		"/video-analyses/clx1/chat":    "/video-analyses/{id}/chat",
		"/mave/threads/clx9":           "/mave/threads/{id}",
		"/personas/Some_ID":            "/personas/{id}",
		"/" + strings.Repeat("a/", 80): "/" + strings.Repeat("a/", 63) + "a",
	} {
		if got := Template(in); got != want {
			t.Errorf("Template(%q) = %q, want %q", in, got, want)
		}
	}
}
