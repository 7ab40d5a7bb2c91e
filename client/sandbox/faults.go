package sandbox

import (
	"net/http"
	"strings"
)

// Fault makes the sandbox misbehave on purpose, for tests and demos of the client's
// error handling. A fault matches requests by method and path and hits the next
// Times of them.
type Fault struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path matches the path after /api/v1: exactly, or as a prefix when it ends in "*".
	Path string
	// Times is how many requests the fault hits (0 means 1).
	Times int
	// Status answers with this status and the documented error body for it
	// (500 internal_error, 503 service_unavailable, 429 rate_limit_exceeded, …).
	Status int
	// Body, when set, is written as the body instead (e.g. malformed JSON).
	Body string
	// RetryAfter sets the Retry-After header, in seconds.
	RetryAfter int
	// Hang never answers: the request waits until the client gives up.
	Hang bool
	// Disconnect closes the connection without an answer.
	Disconnect bool
	// AfterHandling lets the request be handled (and charged) first, then replaces
	// the answer: a 5xx or a lost answer after the API did the work.
	AfterHandling bool
}

type faultState struct {
	Fault
	left int
}

// InjectFault adds a fault; faults are tried in the order they were added.
func (s *Sandbox) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{Fault: f, left: f.Times})
	s.mu.Unlock()
}

// ClearFaults removes every fault not yet used up.
func (s *Sandbox) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// matchFault finds and uses up one hit of the first matching fault. Called with s.mu held.
func (s *Sandbox) matchFault(method, path string) *faultState {
	for i, f := range s.faults {
		if f.Method != "" && f.Method != method {
			continue
		}
		if p, prefix := strings.CutSuffix(f.Path, "*"); prefix {
			if !strings.HasPrefix(path, p) {
				continue
			}
		} else if f.Path != path {
			continue
		}
		f.left--
		if f.left <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// result is the answer a status fault gives.
func (f *faultState) result() result {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	res := result{status: status, retryAfter: f.RetryAfter}
	if f.Body != "" {
		res.body = rawBody(f.Body)
		return res
	}
	switch status {
	case http.StatusServiceUnavailable:
		res.body = errorBody(typeServer, "service_unavailable", "The service is temporarily unavailable. Please retry.", "")
	case http.StatusTooManyRequests:
		res.body = errorBody("rate_limit_error", "rate_limit_exceeded", "Rate limit exceeded. Please retry later.", "")
	case http.StatusForbidden:
		res.body = errorBody(typePermission, "forbidden", "You do not have access to this resource.", "")
	default:
		res.body = errorBody(typeServer, "internal_error", "An internal error occurred.", "")
	}
	return res
}

// act performs a hang or a disconnect; it reports whether the answer is taken care of.
func (f *faultState) act(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case f.Hang:
		<-r.Context().Done()
		return true
	case f.Disconnect:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	return false
}
