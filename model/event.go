// Package model holds mavtop's domain: usage events, workspace settings, billing
// periods and the Ledger that aggregates events into what the screen shows. It does
// no IO: feed/ reads Redis and hands events in, tui/ reads the Ledger out.
package model

// SchemaVersion is the stream entry version this build reads and writes (field "v").
const SchemaVersion = 1

// Kind says what a stream entry records.
type Kind uint8

const (
	// KindUsage is an API call and what it cost (the default).
	KindUsage Kind = iota
	// KindSettings announces a change to a workspace's settings or a project's
	// budget; the new value travels in Msg as JSON.
	KindSettings
	// KindRecharge records credits added to a workspace (auto-recharge, Pattern 5).
	KindRecharge
)

// String returns the kind as it is written in the stream's "kind" field.
func (k Kind) String() string {
	switch k {
	case KindSettings:
		return "settings"
	case KindRecharge:
		return "recharge"
	default:
		return "usage"
	}
}

// API error codes that mean a request was refused for want of credits.
const (
	CodeCreditsExhausted = "credits_exhausted"
	CodeBudgetExceeded   = "budget_exceeded"
)

// Event is one entry of the usage stream (DESIGN.md, "Wire contract").
type Event struct {
	// ID is the stream entry id ("1732500000000-0"); empty until written.
	ID string
	// TS is the producer's time in unix milliseconds; it decides the billing period.
	TS int64
	// ReadAt is when the entry was read from the stream, by the reader's
	// clock, in unix ms (0: not read, or by a reader that does not say): the
	// follow's clock as it delivers the batch an XREAD returned (at or after
	// the read), the snapshot's time for an entry read back (a start's
	// history, check's now). The feed stamps it; no time taken from the
	// entry is later (Event.At): an id ahead of it is no clock at all.
	ReadAt int64
	// Workspace is the workspace id, 1–64 of [A-Za-z0-9._:-].
	Workspace string
	// Project is the project id inside the workspace; may be empty.
	Project string
	// Endpoint is the API path called, e.g. "/focus-groups".
	Endpoint string
	// Credits is what the call cost (usage) or what was added (recharge).
	Credits int64
	// Status is the HTTP status of the call.
	Status int
	// Code is the API error code of a non-2xx response.
	Code string
	// Msg is the API error message; for KindSettings, the settings JSON.
	Msg string
	// Req is the request or job id.
	Req string
	// Op is the operation class used for estimation ("focus-group", …).
	Op string
	// Est is the pre-flight upper-bound estimate for Op, 0 when there was none.
	Est int64
	// Kind says what the entry records.
	Kind Kind
	// Repairs says which fields DecodeEvent had to repair (0: none).
	Repairs Repairs
}

// Refused reports whether the event is an HTTP 402 refusal.
func (e *Event) Refused() bool { return e.Kind == KindUsage && e.Status == 402 }
