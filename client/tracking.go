package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"mavtop/model"
)

// Tracker receives the outcome of every credit-consuming call (Pattern 1). The feed's
// Redis publisher satisfies it; MemoryTracker is an in-process one.
type Tracker interface {
	Track(ctx context.Context, e model.Event) error
}

// DefaultWorkspace is the workspace events are attributed to when no scope is set.
const DefaultWorkspace = "default"

// trackTimeout bounds one Track call. It runs on a context detached from the
// caller's cancellation: a call that spent credits is recorded even if the caller
// gave up just after.
const trackTimeout = 5 * time.Second

// What is published, once per call, for the creation endpoints (POST /responses,
// /mave/chat, /focus-groups, /video-analyses, /personas, /brand-voices):
//
//   - a synchronous success: its credits, status 200/201, the request id;
//   - an asynchronous job (focus group, video analysis, brand voice): nothing at
//     creation; one event when this client first sees the job finished (Get or
//     Wait), with usage.credits_used of the finished object and status 201, or the
//     code "job_failed" if it failed;
//   - any API error: status, code and message, 0 credits (402s feed the 402 log,
//     429s and 5xx show ops what the apps run into). A call retried until it
//     succeeded publishes only its final outcome;
//   - a 2xx whose body is not JSON: code "malformed_response", 0 credits (the charge
//     is unknown; reconciliation with GET /usage shows the drift).
//
// Not published: free reads (GET polls, lists, /usage, /workspaces), calls that got
// no HTTP answer (connection errors, timeouts: there is no status to record, and the
// stream requires one), and pre-flight refusals (no API call was made).
type outcome struct {
	endpoint string
	op       string
	est      int64
	credits  int64
	status   int
	req      string
	code     string
	msg      string
}

// trackResult publishes the outcome of a synchronous call: credits on success, the
// error's status and code otherwise.
func (c *Client) trackResult(ctx context.Context, o outcome, err error) {
	if c.sh.tracker == nil {
		return
	}
	if err != nil {
		var ae *APIError
		var me *MalformedResponseError
		switch {
		case errors.As(err, &ae):
			o.status, o.code, o.msg, o.req, o.credits = ae.Status, ae.Code, ae.Message, ae.RequestID, 0
		case errors.As(err, &me):
			o.status, o.code, o.credits = me.Status, "malformed_response", 0
			o.msg = "the response body was not JSON; the credits it used are unknown"
		default:
			return
		}
	}
	c.publish(ctx, o)
}

func (c *Client) publish(ctx context.Context, o outcome) {
	sh := c.sh
	if sh.tracker == nil {
		return
	}
	e := Outcome{
		Workspace: c.scope.Workspace, Project: c.scope.Project, Endpoint: o.endpoint,
		Credits: o.credits, Status: o.status, Code: o.code, Msg: o.msg, Req: o.req, Op: o.op, Est: o.est,
	}.Event(sh.clock.Now(), sh.red.clean)
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), trackTimeout)
	defer cancel()
	if err := sh.tracker.Track(tctx, e); err != nil && sh.onTrackError != nil {
		sh.onTrackError(fmt.Errorf("track %s %s: %w", e.Workspace, o.endpoint, err))
	}
}

// Outcome is what one API call came to, as the usage stream records it (the rules
// above). Every producer that sees API answers builds its event with Event — the
// client here, `mavtop proxy` for the applications behind it — so they write the
// same fields the same way.
type Outcome struct {
	// Workspace and Project attribute the call ("" workspace: DefaultWorkspace).
	Workspace, Project string
	// Endpoint is the API path, "/focus-groups".
	Endpoint string
	// Credits is usage.credits_used or credits_charged (0 for errors).
	Credits int64
	// Status is the HTTP status of the answer.
	Status int
	// Code and Msg are the API error's code and message, Req the request or job id.
	Code, Msg, Req string
	// Op and Est are the operation class and its pre-flight estimate, when priced.
	Op  string
	Est int64
}

// Event returns o as the usage event stamped ts: the default workspace when none
// is set, credits never negative, the code folded into the stream's [a-z0-9_.-],
// the message and request id passed through clean (nil: kept as they are; the
// client removes its API key there) and clipped to the stream's limits.
func (o Outcome) Event(ts time.Time, clean func(string) string) model.Event {
	if clean == nil {
		clean = func(s string) string { return s }
	}
	ws := o.Workspace
	if ws == "" {
		ws = DefaultWorkspace
	}
	return model.Event{
		TS:        ts.UnixMilli(),
		Workspace: ws,
		Project:   o.Project,
		Endpoint:  o.Endpoint,
		Credits:   max(o.Credits, 0),
		Status:    o.Status,
		Code:      clipTo(sanitizeCode(o.Code), model.MaxCodeLen),
		Msg:       clipTo(clean(o.Msg), model.MaxMsgLen),
		Req:       clipTo(clean(o.Req), model.MaxReqLen),
		Op:        o.Op,
		Est:       o.Est,
		Kind:      model.KindUsage,
	}
}

// sanitizeCode keeps an error code within the stream's [a-z0-9_.-] alphabet.
func sanitizeCode(s string) string {
	b := []byte(s)
	for i, ch := range b {
		switch {
		case ch >= 'A' && ch <= 'Z':
			b[i] = ch + 'a' - 'A'
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '_', ch == '-', ch == '.':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// pendingJob is an asynchronous job this client created and has not yet seen finish.
type pendingJob struct {
	client   *Client
	endpoint string
	op       string
	est      int64
	status   int
}

// pendingJobs remembers created jobs until their outcome is published, so that each
// is published exactly once however often it is polled.
type pendingJobs struct {
	mu   sync.Mutex
	jobs map[string]pendingJob
}

// expect registers a created job whose charge is published when it finishes.
func (c *Client) expect(id string, p pendingJob) {
	if c.sh.tracker == nil || id == "" {
		return
	}
	p.client = c
	c.sh.pending.mu.Lock()
	c.sh.pending.jobs[id] = p
	c.sh.pending.mu.Unlock()
}

// settle publishes a finished job's outcome if this client created it and has not
// published it yet.
func (c *Client) settle(ctx context.Context, id string, credits int64, failed bool, msg string) {
	c.sh.quiet.RLock()
	defer c.sh.quiet.RUnlock()
	c.sh.pending.mu.Lock()
	p, ok := c.sh.pending.jobs[id]
	delete(c.sh.pending.jobs, id)
	c.sh.pending.mu.Unlock()
	if !ok {
		return
	}
	o := outcome{endpoint: p.endpoint, op: p.op, est: p.est, credits: credits, status: p.status, req: id}
	if failed {
		o.code, o.msg = "job_failed", msg
	}
	p.client.publish(ctx, o)
}

// Quiesce runs fn at a moment when every credit the API charged this client's
// calls is already tracked: no creation is between its request and its
// tracking, and no job it created awaits the tracking of its completion. New
// creations (and job trackings) wait while fn runs, so a reading of GET /usage
// taken in fn compares exactly with what the tracker holds. It retries for up
// to wait while jobs are pending; fn's quiet is false when some still were (fn
// runs anyway). fn should be short: this client's traffic waits for it.
func (c *Client) Quiesce(ctx context.Context, wait time.Duration, fn func(quiet bool)) {
	deadline := c.sh.clock.Now().Add(wait)
	for {
		c.sh.quiet.Lock()
		quiet := c.PendingJobs() == 0
		if quiet || !c.sh.clock.Now().Before(deadline) || ctx.Err() != nil {
			defer c.sh.quiet.Unlock()
			fn(quiet)
			return
		}
		c.sh.quiet.Unlock()
		if c.sh.clock.Sleep(ctx, 250*time.Millisecond) != nil {
			c.sh.quiet.Lock()
			defer c.sh.quiet.Unlock()
			fn(false)
			return
		}
	}
}

// PendingJobs returns how many created jobs await their completion to be tracked.
func (c *Client) PendingJobs() int {
	c.sh.pending.mu.Lock()
	defer c.sh.pending.mu.Unlock()
	return len(c.sh.pending.jobs)
}
