package model

import (
	"fmt"
	"strconv"
)

// Limits on stream field values. A producer that writes more is wrong, and an
// unbounded value would let one bad entry grow mavtop's memory.
const (
	MaxIDLen       = 64
	MaxEndpointLen = 128
	MaxCodeLen     = 64
	MaxMsgLen      = 4096
	MaxReqLen      = 128
	MaxOpLen       = 64
	// MaxCredits bounds one event's credits; larger is a producer bug.
	MaxCredits = 1_000_000_000_000
)

// DecodeError says which field of a stream entry is wrong and why.
type DecodeError struct {
	Field  string
	Reason string
}

func (e *DecodeError) Error() string { return "field " + e.Field + ": " + e.Reason }

func bad(field, format string, args ...any) *DecodeError {
	return &DecodeError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// DecodeEvent turns a stream entry's field map (as go-redis returns it) into an
// Event. It returns a *DecodeError naming the first bad field; it never panics.
// Unknown fields are ignored so that newer producers do not break older readers.
func DecodeEvent(id string, fields map[string]any) (Event, error) {
	e := Event{ID: id}
	var haveV, haveTS, haveCredits, haveStatus bool
	for k, raw := range fields {
		s, ok := raw.(string)
		if !ok {
			return Event{}, bad(k, "value is %T, want a string", raw)
		}
		var err error
		switch k {
		case "v":
			if s != "1" {
				return Event{}, bad("v", "unknown schema version %q (this mavtop reads 1)", clip(s))
			}
			haveV = true
		case "ts":
			e.TS, err = parseInt(k, s, 1, 1<<53)
			haveTS = true
		case "ws":
			e.Workspace, err = checkID(k, s, true)
		case "project":
			e.Project, err = checkID(k, s, false)
		case "endpoint":
			e.Endpoint, err = checkEndpoint(s)
		case "credits":
			e.Credits, err = parseInt(k, s, 0, MaxCredits)
			haveCredits = true
		case "status":
			var st int64
			st, err = parseInt(k, s, 100, 599)
			e.Status = int(st)
			haveStatus = true
		case "code":
			e.Code, err = checkToken(k, s, MaxCodeLen)
		case "msg":
			e.Msg, err = checkLen(k, s, MaxMsgLen)
		case "req":
			e.Req, err = checkLen(k, s, MaxReqLen)
		case "op":
			e.Op, err = checkToken(k, s, MaxOpLen)
		case "est":
			e.Est, err = parseInt(k, s, 0, MaxCredits)
		case "kind":
			e.Kind, err = parseKind(s)
		}
		if err != nil {
			return Event{}, err
		}
	}
	switch {
	case !haveV:
		return Event{}, bad("v", "missing")
	case !haveTS:
		return Event{}, bad("ts", "missing")
	case e.Workspace == "":
		return Event{}, bad("ws", "missing")
	}
	switch e.Kind {
	case KindUsage:
		switch {
		case e.Endpoint == "":
			return Event{}, bad("endpoint", "missing (required for usage)")
		case !haveCredits:
			return Event{}, bad("credits", "missing (required for usage)")
		case !haveStatus:
			return Event{}, bad("status", "missing (required for usage)")
		}
	case KindRecharge:
		if !haveCredits {
			return Event{}, bad("credits", "missing (required for recharge)")
		}
	}
	return e, nil
}

// Validate checks an Event the way DecodeEvent checks a stream entry, so that a
// producer refuses what a reader would reject, before anything is written.
func (e *Event) Validate() error {
	_, err := DecodeEvent(e.ID, e.FieldMap())
	return err
}

// Fields returns the event as alternating field names and values, the form XADD
// takes. Optional fields are left out when empty.
func (e *Event) Fields() []any {
	f := make([]any, 0, 26)
	f = append(f, "v", "1", "ts", strconv.FormatInt(e.TS, 10), "ws", e.Workspace)
	if e.Kind != KindUsage {
		f = append(f, "kind", e.Kind.String())
	}
	if e.Project != "" {
		f = append(f, "project", e.Project)
	}
	if e.Endpoint != "" {
		f = append(f, "endpoint", e.Endpoint)
	}
	if e.Kind != KindSettings || e.Credits != 0 {
		f = append(f, "credits", strconv.FormatInt(e.Credits, 10))
	}
	if e.Status != 0 {
		f = append(f, "status", strconv.Itoa(e.Status))
	}
	for _, kv := range [...][2]string{{"code", e.Code}, {"msg", e.Msg}, {"req", e.Req}, {"op", e.Op}} {
		if kv[1] != "" {
			f = append(f, kv[0], kv[1])
		}
	}
	if e.Est != 0 {
		f = append(f, "est", strconv.FormatInt(e.Est, 10))
	}
	return f
}

// FieldMap returns Fields as a map, the shape DecodeEvent reads.
func (e *Event) FieldMap() map[string]any {
	f := e.Fields()
	m := make(map[string]any, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		m[f[i].(string)] = f[i+1]
	}
	return m
}

func parseKind(s string) (Kind, error) {
	switch s {
	case "", "usage":
		return KindUsage, nil
	case "settings":
		return KindSettings, nil
	case "recharge":
		return KindRecharge, nil
	}
	return 0, bad("kind", "unknown kind %q (want usage, settings or recharge)", clip(s))
}

func parseInt(field, s string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, bad(field, "%q is not an integer", clip(s))
	}
	if n < lo || n > hi {
		return 0, bad(field, "%d is out of range [%d, %d]", n, lo, hi)
	}
	return n, nil
}

// IsID reports whether s is a valid workspace or project id: 1–64 of [A-Za-z0-9._:-].
func IsID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func checkID(field, s string, required bool) (string, error) {
	if s == "" && !required {
		return "", nil
	}
	if !IsID(s) {
		return "", bad(field, "%q is not 1–%d of [A-Za-z0-9._:-]", clip(s), MaxIDLen)
	}
	return s, nil
}

func checkEndpoint(s string) (string, error) {
	if len(s) > MaxEndpointLen {
		return "", bad("endpoint", "longer than %d bytes", MaxEndpointLen)
	}
	if len(s) < 2 || s[0] != '/' {
		return "", bad("endpoint", "%q is not an API path like /focus-groups", clip(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return "", bad("endpoint", "%q holds a space or non-ASCII byte", clip(s))
		}
	}
	return s, nil
}

// checkToken accepts lower-case words like error codes and operation names.
func checkToken(field, s string, max int) (string, error) {
	if len(s) > max {
		return "", bad(field, "longer than %d bytes", max)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "", bad(field, "%q holds characters outside [a-z0-9_.-]", clip(s))
		}
	}
	return s, nil
}

func checkLen(field, s string, max int) (string, error) {
	if len(s) > max {
		return "", bad(field, "longer than %d bytes", max)
	}
	return s, nil
}

// clip keeps error messages short when a field is huge.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
