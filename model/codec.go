package model

import (
	"fmt"
	"strconv"
	"strings"
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

// Repairs records what DecodeEvent changed in an entry to make it usable. The
// entry is counted all the same: the producer's MULTI has already added its
// credits to the counters, so skipping it would make the dashboard disagree
// with them.
type Repairs uint16

// The repairs, one bit each.
const (
	// RepairedVersion: "v" was missing or not 1; the entry was read as version 1.
	RepairedVersion Repairs = 1 << iota
	// RepairedTS: "ts" was missing or not a time; the stream id's time was used.
	RepairedTS
	// RepairedProject: "project" was not an id; the entry counts without a project.
	RepairedProject
	// RepairedEndpoint: "endpoint" was missing, too long or held unsafe text.
	RepairedEndpoint
	// RepairedCode: "code" was case-folded, cut or had characters replaced.
	RepairedCode
	// RepairedMsg: "msg" was cut to MaxMsgLen or held unsafe text.
	RepairedMsg
	// RepairedReq: "req" was cut to MaxReqLen or held unsafe text.
	RepairedReq
	// RepairedOp: "op" was case-folded, cut or had characters replaced.
	RepairedOp
	// RepairedEst: "est" was not an integer in range; it was dropped.
	RepairedEst
	// RepairedType: an optional field's value was not a string; it was dropped.
	RepairedType
)

var repairNames = [...]string{"v", "ts", "project", "endpoint", "code", "msg", "req", "op", "est", "type"}

// String names the repaired fields ("code, msg"), "" when none.
func (r Repairs) String() string {
	var parts []string
	for i, n := range repairNames {
		if r&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ", ")
}

// DecodeEvent turns a stream entry's field map (as go-redis returns it) into an
// Event. It is strict only about what is counted — ws, kind, credits and status
// — and returns a *DecodeError naming the first of those that is wrong. Every
// other field is repaired (see Repairs and the README's field table): text is
// sanitised (Sanitize) and cut to its limit with TruncatedMark, codes are
// case-folded, a missing ts is taken from the stream id. It never panics.
// Unknown fields are ignored so that newer producers do not break older readers.
func DecodeEvent(id string, fields map[string]any) (Event, error) {
	e := Event{ID: id}
	var haveCredits, haveStatus, haveTS, haveV bool
	for k, raw := range fields {
		s, ok := raw.(string)
		if !ok {
			switch k {
			case "ws", "credits", "status", "kind":
				return Event{}, bad(k, "value is %T, want a string", raw)
			}
			e.Repairs |= RepairedType
			continue
		}
		var err error
		switch k {
		case "v":
			haveV = s == "1"
		case "ts":
			var ts int64
			if ts, err = parseInt(k, s, 1, 1<<53); err == nil {
				e.TS, haveTS = ts, true
			}
			err = nil
		case "ws":
			e.Workspace, err = checkID(k, s, true)
		case "project":
			if IsID(s) {
				e.Project = s
			} else if s != "" {
				e.Repairs |= RepairedProject
			}
		case "endpoint":
			e.Endpoint = CleanEndpoint(s)
			if e.Endpoint != s {
				e.Repairs |= RepairedEndpoint
			}
		case "credits":
			e.Credits, err = parseInt(k, s, 0, MaxCredits)
			haveCredits = true
		case "status":
			var st int64
			st, err = parseInt(k, s, 100, 599)
			e.Status = int(st)
			haveStatus = true
		case "code":
			e.Code = CleanCode(s)
			if e.Code != s {
				e.Repairs |= RepairedCode
			}
		case "msg":
			var cut bool
			if e.Msg, cut = SanitizeMax(s, MaxMsgLen); cut || e.Msg != s {
				e.Repairs |= RepairedMsg
			}
		case "req":
			var cut bool
			if e.Req, cut = SanitizeMax(s, MaxReqLen); cut || e.Req != s {
				e.Repairs |= RepairedReq
			}
		case "op":
			e.Op = cleanToken(s, MaxOpLen)
			if e.Op != s {
				e.Repairs |= RepairedOp
			}
		case "est":
			if e.Est, err = parseInt(k, s, 0, MaxCredits); err != nil {
				e.Est, err = 0, nil
				e.Repairs |= RepairedEst
			}
		case "kind":
			e.Kind, err = parseKind(s)
		}
		if err != nil {
			return Event{}, err
		}
	}
	if !haveV {
		e.Repairs |= RepairedVersion
	}
	if !haveTS {
		ms, ok := idMillis(id)
		if !ok {
			return Event{}, bad("ts", "missing or not unix milliseconds, and no stream id to take the time from")
		}
		e.TS = ms
		e.Repairs |= RepairedTS
	}
	if e.Workspace == "" {
		return Event{}, bad("ws", "missing")
	}
	switch e.Kind {
	case KindUsage:
		switch {
		case !haveCredits:
			return Event{}, bad("credits", "missing (required for usage)")
		case !haveStatus:
			return Event{}, bad("status", "missing (required for usage)")
		case e.Endpoint == "":
			e.Repairs |= RepairedEndpoint
		}
	case KindRecharge:
		if !haveCredits {
			return Event{}, bad("credits", "missing (required for recharge)")
		}
	}
	return e, nil
}

// Validate checks an Event the way DecodeEvent checks a stream entry: it fails
// when a reader could not count it. It does not fail for what a reader would
// repair; Normalize applies those repairs.
func (e *Event) Validate() error {
	_, err := DecodeEvent(e.ID, e.FieldMap())
	return err
}

// Normalize replaces e with what a reader decodes from it (text sanitised and
// cut, codes case-folded), so that the counters a producer writes use the same
// names the stream's readers will. A producer is held to more than a reader:
// Normalize also refuses a project that is no id and, for usage, an endpoint
// that is no API path, because a reader would file those credits elsewhere,
// and a recharge that adds nothing or carries a status or code
// (validRecharge). On error (a *DecodeError) e is left as is.
func (e *Event) Normalize() error {
	if e.Project != "" && !IsID(e.Project) {
		return bad("project", "%q is not 1–%d of [A-Za-z0-9._:-]", clip(e.Project), MaxIDLen)
	}
	if e.Kind == KindUsage && (len(e.Endpoint) < 2 || e.Endpoint[0] != '/' || CleanEndpoint(e.Endpoint) != e.Endpoint) {
		return bad("endpoint", "%q is not an API path like /focus-groups (at most %d bytes, no spaces)", clip(e.Endpoint), MaxEndpointLen)
	}
	if e.Kind == KindRecharge {
		if err := validRecharge(e); err != nil {
			return err
		}
	}
	d, err := DecodeEvent(e.ID, e.FieldMap())
	if err != nil {
		return err
	}
	d.Repairs = 0 // repaired before writing: a reader has nothing left to repair
	*e = d
	return nil
}

// validRecharge is what a producer may record as a recharge (Normalize;
// emit's --kind recharge, feed.Publisher): credits added, at least 1 (a
// recharge of 0 records nothing and a negative one is no recharge), and no
// HTTP status or API error code (a recharge is no API call: a 402 with it
// would count credits added for a refusal; a refusal is a usage event).
// Readers still take such entries (DecodeEvent): another producer's are
// counted as they are.
func validRecharge(e *Event) error {
	switch {
	case e.Credits <= 0:
		return bad("credits", "%d: a recharge adds at least 1 credit", e.Credits)
	case e.Status != 0:
		return bad("status", "%d: a recharge is no API call (a refusal is a usage event)", e.Status)
	case e.Code != "":
		return bad("code", "%q: a recharge is no API call (a refusal is a usage event)", clip(e.Code))
	}
	return nil
}

// CleanEndpoint is the endpoint as mavtop keeps it: sanitised, at most
// MaxEndpointLen bytes, spaces made "_" so that it stays one token in the
// used_by hash field and a metric label.
func CleanEndpoint(s string) string {
	if len(s) <= MaxEndpointLen && isPathToken(s) {
		return s
	}
	c, _ := SanitizeMax(s, MaxEndpointLen)
	return strings.ReplaceAll(c, " ", "_")
}

func isPathToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// CleanCode is an API error code as mavtop keeps it: lower case, at most
// MaxCodeLen bytes of [a-z0-9_.-], anything else replaced by "_". The refused
// hash is read through it too, so a producer writing "Credits_Exhausted" is
// counted as credits_exhausted everywhere.
func CleanCode(s string) string { return cleanToken(s, MaxCodeLen) }

func cleanToken(s string, max int) string {
	ok := len(s) <= max
	for i := 0; ok && i < len(s); i++ {
		ok = isTokenByte(s[i])
	}
	if ok {
		return s
	}
	if len(s) > max {
		s = s[:max]
	}
	b := []byte(strings.ToLower(s))
	if len(b) > max {
		b = b[:max]
	}
	for i, c := range b {
		if !isTokenByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// idMillis returns the time part of a stream id ("1732500000000-0").
func idMillis(id string) (int64, bool) {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	return n, err == nil && n > 0 && n < 1<<53
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

// clip keeps error messages short when a field is huge.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
