package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"mavtop/model"
)

// APIError is a non-2xx answer of the Mavera API, parsed from its
// {"error":{"message","type","code","param"}} body.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Type is the error type ("invalid_request_error", "insufficient_credits", …).
	Type string
	// Code is the error code ("credits_exhausted", "budget_exceeded", "rate_limit_exceeded", …).
	Code string
	// Message is the API's message (or, when the body was not the documented JSON, a
	// description of it with a short excerpt).
	Message string
	// Param names the request field at fault, if any.
	Param string
	// RequestID is the X-Request-Id response header, when the server sent one.
	RequestID string
	// RetryAfter is the Retry-After header's delay (429, 503), 0 when absent.
	RetryAfter time.Duration
	// Method and Path say which call failed ("POST", "/focus-groups").
	Method, Path string
}

// Error formats the status, code and message, e.g.
// "POST /focus-groups: 402 credits_exhausted: You have run out of credits".
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// MalformedResponseError is a 2xx answer whose body is not the JSON expected. For a
// creation the API may have charged for it; reconciliation with GET /usage shows it.
type MalformedResponseError struct {
	// Status is the HTTP status code.
	Status int
	// Method and Path say which call it was.
	Method, Path string
	// Snippet is the start of the body, printable characters only.
	Snippet string
	// Err is the JSON decoding error.
	Err error
}

// Error says which call answered what, with an excerpt of the body.
func (e *MalformedResponseError) Error() string {
	return fmt.Sprintf("%s %s: %d with a body that is not the expected JSON (%v): %q",
		e.Method, e.Path, e.Status, e.Err, e.Snippet)
}

// Unwrap returns the decoding error.
func (e *MalformedResponseError) Unwrap() error { return e.Err }

// ErrNoAPIKey is returned, before any request, by a client made without an API key.
var ErrNoAPIKey = errors.New("no Mavera API key: set MAVERA_API_KEY (Settings > Developer > API Keys)")

// AsAPIError returns the *APIError in err's chain, if any.
func AsAPIError(err error) (*APIError, bool) {
	var ae *APIError
	ok := errors.As(err, &ae)
	return ae, ok
}

// IsCreditsExhausted reports whether err is a 402 credits_exhausted: the account (or
// the workspace's pool) has no credits left.
func IsCreditsExhausted(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && ae.Status == http.StatusPaymentRequired && ae.Code == model.CodeCreditsExhausted
}

// IsBudgetExceeded reports whether err is a 402 budget_exceeded: a workspace or
// project usage limit was reached.
func IsBudgetExceeded(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && ae.Status == http.StatusPaymentRequired && ae.Code == model.CodeBudgetExceeded
}

// IsPaymentRequired reports whether err is any 402 (credits exhausted, budget
// exceeded, or a lapsed subscription).
func IsPaymentRequired(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && ae.Status == http.StatusPaymentRequired
}

// IsRateLimited reports whether err is a 429.
func IsRateLimited(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && ae.Status == http.StatusTooManyRequests
}

// IsAuth reports whether err is a 401 (missing, invalid, revoked or expired key) or
// ErrNoAPIKey.
func IsAuth(err error) bool {
	if errors.Is(err, ErrNoAPIKey) {
		return true
	}
	ae, ok := AsAPIError(err)
	return ok && ae.Status == http.StatusUnauthorized
}
