package proxy

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"mavtop/client"
	"mavtop/model"
)

// What the proxy publishes, following the client's rules (client/tracking.go):
//
//   - a call other than GET: one event when its answer has been read to the end —
//     its usage.credits_used or credits_charged (for a stream, from the last event
//     that carried usage), status and request id; an error's code and message with
//     0 credits; a 2xx whose credits cannot be read (not JSON, a stream cut short)
//     with the code "malformed_response" and 0 credits;
//   - an asynchronous job (a creation answered with an id and a status that is not
//     final, and no usage): nothing at creation; one event when a GET through this
//     proxy first shows it finished, with the finished object's usage.credits_used
//     (or "job_failed");
//   - GETs otherwise: nothing (reads are free);
//   - a pre-flight refusal: a 402 with its code (see refuse).

// meter passes an answer's body to the client unchanged and reads what it tracks
// on the way; when the body ends (or the client leaves) it settles the outcome.
type meter struct {
	rc   io.ReadCloser
	p    *Proxy
	x    *exchange
	js   *jsonScan
	sse  *sseScan
	eof  bool
	once sync.Once
}

func (m *meter) Read(b []byte) (int, error) {
	n, err := m.rc.Read(b)
	if m.sse != nil {
		m.sse.feed(b[:n])
	} else {
		m.js.feed(b[:n])
	}
	if err == io.EOF {
		m.eof = true
		m.once.Do(m.settle)
	}
	return n, err
}

func (m *meter) Close() error {
	m.once.Do(m.settle)
	return m.rc.Close()
}

// settle publishes the exchange's outcome (or registers its job).
func (m *meter) settle() {
	x, p := m.x, m.p
	if ws := x.bodyWS.Load(); ws != nil {
		x.ws = *ws
	}
	if x.method == http.MethodGet || x.method == http.MethodHead {
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
	if m.sse != nil {
		m.sse.finish()
		credits, known, id = m.sse.credits, m.sse.hasCredits, m.sse.id
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
		p.jobs.add(x.endpoint+"/"+id, pendingJob{ws: x.ws, project: x.project, endpoint: x.endpoint,
			op: x.op, est: x.est, status: x.status, created: time.Now()})
		return
	case m.js != nil && m.eof && m.js.isObject():
		// A JSON answer without usage: a call that cost nothing.
	default:
		o.Code = "malformed_response"
		o.Msg = "the answer ended before its usage could be read (not JSON, or a stream cut short); the credits it used are unknown"
	}
	p.track(o)
}

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

// observeJob publishes a job created through this proxy the first time a GET of it
// shows it finished.
func (p *Proxy) observeJob(x *exchange, js *jsonScan) {
	if x.status != http.StatusOK {
		return
	}
	js.finish()
	failed, final := finalStatus(js.str("status"))
	if !final {
		return
	}
	key := strings.TrimSuffix(x.rel, "/")
	j, ok := p.jobs.take(key)
	if !ok {
		return
	}
	credits, _ := js.credits()
	o := client.Outcome{Workspace: j.ws, Project: j.project, Endpoint: j.endpoint, Credits: credits, Status: j.status,
		Req: key[strings.LastIndexByte(key, '/')+1:], Op: j.op, Est: j.est}
	if failed {
		_, msg := js.apiError()
		o.Code, o.Msg = "job_failed", msg
	}
	p.track(o)
}

// maxJobs bounds the jobs remembered between creation and completion; jobsTTL is
// how long one is remembered (a job never polled through the proxy is forgotten).
const (
	maxJobs = 100_000
	jobsTTL = 24 * time.Hour
)

// pendingJob is a job created through the proxy whose charge is not tracked yet.
type pendingJob struct {
	ws, project, endpoint, op string
	est                       int64
	status                    int
	created                   time.Time
}

// jobs remembers created jobs by "/focus-groups/<id>" until their outcome is
// published, so each is published once however often it is polled.
type jobs struct {
	mu    sync.Mutex
	m     map[string]pendingJob
	swept time.Time
}

func (j *jobs) add(key string, pj pendingJob) {
	if !model.IsID(key[strings.LastIndexByte(key, '/')+1:]) {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if now := pj.created; now.Sub(j.swept) > time.Minute || len(j.m) >= maxJobs {
		j.swept = now
		for k, v := range j.m {
			if now.Sub(v.created) > jobsTTL {
				delete(j.m, k)
			}
		}
	}
	if len(j.m) < maxJobs {
		j.m[key] = pj
	}
}

func (j *jobs) take(key string) (pendingJob, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	pj, ok := j.m[key]
	delete(j.m, key)
	return pj, ok
}

// PendingJobs returns how many created jobs await their completion to be tracked.
func (p *Proxy) PendingJobs() int {
	p.jobs.mu.Lock()
	defer p.jobs.mu.Unlock()
	return len(p.jobs.m)
}
