package proxy

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mavtop/client"
	"mavtop/model"
)

// What the proxy publishes, following the client's rules (client/tracking.go):
//
//   - a call other than GET: one event when its answer has been read to the end —
//     its usage.credits_used or credits_charged (for a stream, from the last event
//     that carried usage), status and request id; an error's code and message with
//     0 credits; a 2xx JSON answer without usage: 0 credits;
//   - an answer cut short, recorded with its status and 0 credits unless its usage
//     had already passed: when the application leaves, the proxy reads the rest of
//     the answer itself (at most DrainTimeout, 64 MB) and records the usage it
//     finds, else the code "client_disconnected"; when upstream breaks it off, the
//     code "upstream_reset"; a 2xx that is neither JSON nor a stream with usage,
//     "malformed_response". Their messages say the charge is unknown;
//   - a call upstream did not answer (unreachable, connection dropped, no headers
//     in time): the proxy's 502 or 504 with the code "upstream_unavailable" or
//     "upstream_timeout", 0 credits (whether the API did the work is unknown);
//   - an asynchronous job: see jobs.go;
//   - GETs otherwise: nothing (reads are free), their failures included;
//   - a pre-flight refusal: a 402 with its code (see refuse).

// meter passes an answer's body to the client unchanged and reads what it tracks
// on the way; when the body ends (or the client leaves) it settles the outcome.
type meter struct {
	rc  io.ReadCloser
	p   *Proxy
	x   *exchange
	js  *jsonScan
	sse *sseScan
	eof bool
	// readErr is set when upstream broke the answer off; left when the
	// application went away before the end (the rest was drained, see drain).
	readErr error
	left    bool
	closed  bool
	bytes   int64
	once    sync.Once
}

func (m *meter) Read(b []byte) (int, error) {
	n, err := m.rc.Read(b)
	m.scan(b[:n])
	switch {
	case err == io.EOF:
		m.eof = true
		m.once.Do(m.settle)
	case err != nil:
		m.readErr = err
	}
	return n, err
}

func (m *meter) scan(b []byte) {
	m.bytes += int64(len(b))
	if m.sse != nil {
		m.sse.feed(b)
	} else {
		m.js.feed(b)
	}
}

// Close ends the answer. Closed before its end without a read error, the
// application went away: a call that may have been charged is then read on in the
// background (drain) to learn its usage, instead of recording it as unknown.
func (m *meter) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	if !m.eof && m.readErr == nil && spends(m.x.method) && m.x.status < 400 {
		m.left = true
		go m.drain()
		return nil
	}
	m.once.Do(m.settle)
	m.end()
	return m.rc.Close()
}

// end releases the upstream request.
func (m *meter) end() {
	if m.x.cancelUp != nil {
		m.x.cancelUp()
	}
}

// drain reads the rest of an answer its application left, at most maxDrain bytes
// for at most the proxy's DrainTimeout, until its usage is known, then settles it.
func (m *meter) drain() {
	defer m.end()
	defer m.rc.Close()
	var expired atomic.Bool
	stop := time.AfterFunc(m.p.cfg.DrainTimeout, func() { expired.Store(true); m.end() }) // aborts a Read that waits
	defer stop.Stop()
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	for start := m.bytes; m.bytes-start < maxDrain; {
		n, err := m.rc.Read(*bp)
		m.scan((*bp)[:n])
		if err == io.EOF {
			m.eof = true
			break
		}
		if err != nil {
			if !expired.Load() {
				m.readErr = err
			}
			break
		}
		if m.sse != nil && m.sse.hasCredits {
			break // a stream's usage arrives in its final event: enough is known
		}
	}
	m.once.Do(m.settle)
}

// settle publishes the exchange's outcome (or registers its job).
func (m *meter) settle() {
	x, p := m.x, m.p
	if ws := x.bodyWS.Load(); ws != nil {
		x.ws = *ws
	}
	if !spends(x.method) {
		if m.js != nil {
			p.observeJob(x, m.js)
		}
		return
	}
	o := client.Outcome{Workspace: x.ws, Project: x.project, Endpoint: x.endpoint, Status: x.status,
		Req: x.reqID, Op: x.op, Est: x.est}
	var credits int64
	var known bool
	var id string
	events := 0
	if m.sse != nil {
		m.sse.finish()
		credits, known, id, events = m.sse.credits, m.sse.hasCredits, m.sse.id, m.sse.events
		o.Code, o.Msg = m.sse.code, m.sse.msg
	} else {
		m.js.finish()
		credits, known = m.js.credits()
		id = m.js.str("id")
		if code, msg := m.js.apiError(); x.status >= 400 {
			o.Code, o.Msg = code, msg
		}
	}
	if o.Req == "" {
		o.Req = id
	}
	switch {
	case x.status == http.StatusNotFound && !knownEndpoints[x.endpoint]:
		return // no such endpoint: nothing was charged, and the name is the caller's
	case x.status >= 400:
		o.Credits = 0
	case known:
		o.Credits = credits
	case m.js != nil && m.eof && m.js.isObject() && x.method == http.MethodPost && id != "" && pendingStatus(m.js.str("status")):
		p.addJob(x.endpoint+"/"+id, &pendingJob{ws: x.ws, project: x.project, endpoint: x.endpoint,
			op: x.op, est: x.est, status: x.status, auth: x.auth, created: time.Now()})
		return
	case m.js != nil && m.eof && m.js.isObject():
		// A JSON answer without usage: a call that cost nothing.
	case m.readErr != nil:
		p.m.cut.WithLabelValues(CodeUpstreamReset).Inc()
		o.Code = CodeUpstreamReset
		o.Msg = fmt.Sprintf("the API broke its answer off after %d bytes%s, before its usage; the credits it used are unknown (reconcile with GET /usage)",
			m.bytes, eventsSaid(m.sse != nil, events))
	case m.left:
		p.m.cut.WithLabelValues(CodeClientLeft).Inc()
		o.Code = CodeClientLeft
		o.Msg = fmt.Sprintf("the application left after %d bytes%s and the rest of the answer did not say its usage within %s; the credits it used are unknown (reconcile with GET /usage)",
			m.bytes, eventsSaid(m.sse != nil, events), m.p.cfg.DrainTimeout)
	default:
		o.Code = "malformed_response"
		o.Msg = "the answer ended before its usage could be read (not JSON, or a stream without usage); the credits it used are unknown"
	}
	if o.Code != "" && o.Msg != "" && x.status < 400 {
		p.log.Warn("call recorded with unknown credits", "ws", o.Workspace, "endpoint", o.Endpoint, "code", o.Code, "bytes", m.bytes)
	}
	p.track(o, x.auth)
}

// eventsSaid is " (N events)" for a stream.
func eventsSaid(stream bool, n int) string {
	if !stream {
		return ""
	}
	return " (" + model.CountOf(n, "event") + ")"
}

// Codes of calls whose answer did not reach its end; recorded with the answer's
// status and 0 credits when the usage was not read before the cut.
const (
	// CodeUpstreamReset: the API's answer broke off (connection reset, stream cut).
	CodeUpstreamReset = "upstream_reset"
	// CodeClientLeft: the application went away and the rest of the answer, read
	// on by the proxy, did not say the usage either.
	CodeClientLeft = "client_disconnected"
)

// pendingStatus reports whether a job status is not final.
func pendingStatus(s string) bool {
	if s == "" {
		return false
	}
	_, final := finalStatus(s)
	return !final
}

// finalStatus reports whether s ends a job, and whether it failed.
func finalStatus(s string) (failed, final bool) {
	switch strings.ToLower(s) {
	case "completed", "ready", "succeeded":
		return false, true
	case "failed", "cancelled", "canceled", "error":
		return true, true
	}
	return false, false
}
