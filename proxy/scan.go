package proxy

import (
	"bytes"
	"encoding/json"
)

// The proxy reads what it tracks from bodies as they stream past, without holding
// them: a 10 MB answer costs the same memory as a 1 kB one. jsonScan keeps only the
// values at a few paths, each up to maxCapture bytes; sseScan feeds every event's
// data to a fresh jsonScan and keeps the last usage it saw.

// maxCapture bounds one kept value (an error object, a usage object, an id).
const maxCapture = 8 << 10

// maxKey bounds a key the scanner remembers; longer keys match nothing.
const maxKey = 32

// maxDepth is the deepest object whose key is remembered (paths are at most two
// keys long; the third level is where a captured value's own keys live).
const maxDepth = 3

// captured are the paths the proxy reads, top-level and under "response" (the
// Responses API's stream events wrap the response object in it).
var captured = map[string]bool{
	"usage": true, "credits_charged": true, "id": true, "status": true, "error": true,
	"error.code": true, "error.message": true,
	"workspace_id": true, "object": true, "type": true, "code": true, "message": true,
	"response.usage": true, "response.id": true, "response.status": true, "response.error": true,
}

// jsonScan extracts the captured paths from one JSON document fed in pieces.
type jsonScan struct {
	depth  int
	stack  [maxDepth + 1]byte // '{' or '[' per depth 1..maxDepth
	keys   [maxDepth + 1][maxKey]byte
	klen   [maxDepth + 1]int // -1: too long
	inStr  bool
	esc    bool
	isKey  bool // the string being read is a key
	expKey bool // the next string in the current object is a key
	// pending is set after ':' (or at the top): the next value start is checked
	// against the captured paths.
	pending bool
	// first is the first non-space byte of the document ('{' for an object).
	first byte

	// capture in progress: path, depth it started at, the bytes so far.
	capPath  string
	capDepth int
	capStr   bool // a string value: ends at its closing quote
	capScal  bool // a number, true, false or null: ends at a delimiter
	capBuf   []byte
	capValid bool
	capCut   bool // a string longer than maxCapture: its start is kept

	vals map[string][]byte
}

// feed reads the next piece of the document.
func (s *jsonScan) feed(b []byte) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if s.capPath != "" && s.capValid {
			if s.capScal && (c == ',' || c == '}' || c == ']' || c <= ' ') {
				s.endCapture()
			} else if len(s.capBuf) < maxCapture {
				s.capBuf = append(s.capBuf, c)
			} else if s.capStr {
				s.capCut = true // a long string keeps its start (closed in endCapture)
			} else {
				s.capValid = false
			}
		}
		if s.inStr {
			if s.esc {
				s.esc = false
				s.keyByte(c)
				continue
			}
			switch c {
			case '\\':
				s.esc = true
				s.keyByte(c)
			case '"':
				s.inStr = false
				if s.capStr && s.depth == s.capDepth {
					s.endCapture()
				}
			default:
				if !s.isKey && s.capPath == "" {
					// Skip the rest of a long string at once.
					j := bytes.IndexAny(b[i:], "\"\\")
					if j < 0 {
						return
					}
					i += j - 1
					continue
				}
				s.keyByte(c)
			}
			continue
		}
		if c <= ' ' {
			continue
		}
		if s.first == 0 {
			s.first = c
		}
		if s.pending {
			s.pending = false
			s.startValue(c)
		}
		switch c {
		case '"':
			s.inStr = true
			s.isKey = s.depth > 0 && s.stack[min(s.depth, maxDepth)] == '{' && s.expKey
			if s.isKey && s.depth <= maxDepth {
				s.klen[s.depth] = 0
			}
		case '{', '[':
			s.depth++
			if s.depth <= maxDepth {
				s.stack[s.depth] = c
			}
			s.expKey = c == '{'
		case '}', ']':
			s.depth--
			if s.capPath != "" && !s.capStr && !s.capScal && s.depth == s.capDepth {
				s.endCapture()
			}
			s.expKey = false
		case ':':
			s.expKey = false
			s.pending = true
		case ',':
			s.expKey = s.depth > 0 && s.depth <= maxDepth && s.stack[s.depth] == '{'
			if s.depth > maxDepth {
				s.expKey = false
			}
		}
	}
}

// keyByte adds c to the key being read.
func (s *jsonScan) keyByte(c byte) {
	if !s.isKey || s.depth > maxDepth {
		return
	}
	d := s.depth
	if s.klen[d] < 0 {
		return
	}
	if s.klen[d] >= maxKey {
		s.klen[d] = -1
		return
	}
	s.keys[d][s.klen[d]] = c
	s.klen[d]++
}

// path returns the keys leading to a value in the object at depth, "" when not
// remembered.
func (s *jsonScan) path() string {
	if s.depth < 1 || s.depth > 2 {
		return ""
	}
	var p []byte
	for d := 1; d <= s.depth; d++ {
		if s.stack[d] != '{' || s.klen[d] < 0 {
			return ""
		}
		if d > 1 {
			p = append(p, '.')
		}
		p = append(p, s.keys[d][:s.klen[d]]...)
	}
	return string(p)
}

// startValue begins a capture when the value starting with c is at a captured path.
func (s *jsonScan) startValue(c byte) {
	if s.capPath != "" {
		return
	}
	p := s.path()
	if !captured[p] {
		return
	}
	if p == "error" && c == '{' {
		// The API's error object is read by its parts (error.code, error.message), so
		// a message longer than maxCapture cannot take the code with it.
		return
	}
	s.capPath, s.capDepth, s.capValid, s.capCut = p, s.depth, true, false
	s.capStr = c == '"'
	s.capScal = c != '"' && c != '{' && c != '['
	s.capBuf = append(s.capBuf[:0], c)
}

func (s *jsonScan) endCapture() {
	if s.capValid {
		if s.vals == nil {
			s.vals = make(map[string][]byte, 4)
		}
		v := append([]byte(nil), s.capBuf...)
		if s.capCut {
			v = closeCut(v)
		}
		s.vals[s.capPath] = v
	}
	s.capPath, s.capStr, s.capScal = "", false, false
}

// closeCut makes the start of a cut JSON string a whole one ending in "…": it
// drops the bytes of an escape the cut split, so the value still decodes.
func closeCut(v []byte) []byte {
	for drop := 0; drop <= 6 && drop < len(v); drop++ {
		w := append(v[:len(v)-drop:len(v)-drop], "…\""...)
		if json.Valid(w) {
			return w
		}
	}
	return []byte(`"…"`)
}

// finish ends the document (a scalar may run to its end).
func (s *jsonScan) finish() {
	if s.capPath != "" && s.capScal {
		s.endCapture()
	}
}

// isObject reports whether the document was a JSON object read to its end.
func (s *jsonScan) isObject() bool { return s.first == '{' && s.depth == 0 && !s.inStr }

// str returns the string at path, "" when absent or not a string.
func (s *jsonScan) str(path string) string {
	var v string
	if raw, ok := s.vals[path]; ok && json.Unmarshal(raw, &v) == nil {
		return v
	}
	return ""
}

// credits returns usage.credits_used (or credits_charged), looked for at the top
// and under "response"; ok is false when neither is there.
func (s *jsonScan) credits() (n int64, ok bool) {
	for _, p := range [...]string{"usage", "response.usage"} {
		var u struct {
			CreditsUsed *int64 `json:"credits_used"`
		}
		if raw, found := s.vals[p]; found && json.Unmarshal(raw, &u) == nil && u.CreditsUsed != nil {
			return *u.CreditsUsed, true
		}
	}
	if raw, found := s.vals["credits_charged"]; found && json.Unmarshal(raw, &n) == nil {
		return n, true
	}
	return 0, false
}

// apiError returns the error's code and message: the API's {"error":{…}} body, a
// job's "error" string, a response's error, or a stream's error event.
func (s *jsonScan) apiError() (code, msg string) {
	if code, msg = s.str("error.code"), s.str("error.message"); code != "" || msg != "" {
		return code, msg
	}
	for _, p := range [...]string{"error", "response.error"} {
		raw, ok := s.vals[p]
		if !ok {
			continue
		}
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) == nil && (e.Code != "" || e.Message != "") {
			return e.Code, e.Message
		}
		var m string
		if json.Unmarshal(raw, &m) == nil && m != "" {
			return "", m
		}
	}
	if s.str("type") == "error" {
		return s.str("code"), s.str("message")
	}
	return "", ""
}

// sseScan reads a text/event-stream as it passes and keeps what the last events
// said: the credits of the last event that carried usage, the last error.
type sseScan struct {
	name    [8]byte // field name at the start of a line
	nlen    int
	state   uint8 // 0 line start, 1 in data value, 2 skipping the rest of a line
	skipSp  bool  // drop one space after "data:"
	sawCR   bool
	hasData bool
	ev      jsonScan

	credits    int64
	hasCredits bool
	id         string
	code, msg  string
	events     int
}

// feed reads the next piece of the stream.
func (s *sseScan) feed(b []byte) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\n' && s.sawCR {
			s.sawCR = false
			continue
		}
		s.sawCR = c == '\r'
		if c == '\n' || c == '\r' {
			if s.state == 0 && s.nlen == 0 {
				s.dispatch()
			}
			if s.state == 1 {
				s.ev.feed([]byte{'\n'})
			}
			s.state, s.nlen = 0, 0
			continue
		}
		switch s.state {
		case 0:
			if c == ':' {
				if string(s.name[:s.nlen]) == "data" {
					s.state, s.skipSp, s.hasData = 1, true, true
				} else {
					s.state = 2
				}
				continue
			}
			if s.nlen < len(s.name) {
				s.name[s.nlen] = c
				s.nlen++
			} else {
				s.state = 2
			}
		case 1:
			if s.skipSp {
				s.skipSp = false
				if c == ' ' {
					continue
				}
			}
			// Feed the rest of the line at once.
			j := bytes.IndexAny(b[i:], "\r\n")
			if j < 0 {
				s.ev.feed(b[i:])
				return
			}
			s.ev.feed(b[i : i+j])
			i += j - 1
		case 2:
			j := bytes.IndexAny(b[i:], "\r\n")
			if j < 0 {
				return
			}
			i += j - 1
		}
	}
}

// dispatch ends an event at a blank line.
func (s *sseScan) dispatch() {
	if !s.hasData {
		return
	}
	s.ev.finish()
	s.events++
	if n, ok := s.ev.credits(); ok {
		s.credits, s.hasCredits = n, true
	}
	if id := s.ev.str("response.id"); id != "" {
		s.id = id
	}
	if code, msg := s.ev.apiError(); code != "" || msg != "" {
		s.code, s.msg = code, msg
	}
	vals := s.ev.vals
	clear(vals)
	buf := s.ev.capBuf[:0]
	s.ev = jsonScan{vals: vals, capBuf: buf}
	s.hasData = false
}

// finish ends the stream (an event not followed by a blank line still counts).
func (s *sseScan) finish() {
	if s.state == 1 || s.hasData {
		s.dispatch()
	}
}
