package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
)

// Budgets reads what a workspace and project may still spend; *feed.Balances is one.
type Budgets interface {
	Budget(ctx context.Context, ws, project string) (feed.Budget, error)
}

// VideoSecondsHeader lets an application say a video's length, which the API's
// request does not carry; without it the proxy prices the dearest band.
const VideoSecondsHeader = "X-Mavtop-Video-Seconds"

// bodyEndpoints are the creations whose body the proxy reads before forwarding:
// their price or their workspace is in it, and the pre-flight check needs both.
var bodyEndpoints = map[string]bool{
	"/mave/chat": true, "/focus-groups": true, "/video-analyses": true, "/brand-voices": true,
}

// jobBody is what the proxy reads from a creation's body.
type jobBody struct {
	WorkspaceID string            `json:"workspace_id"`
	SampleSize  int               `json:"sample_size"`
	Questions   []json.RawMessage `json:"questions"`
}

// quote prices a creation from its endpoint, body and headers, the way the
// estimator prices a launch. ok is false for calls the estimator has no price for,
// and for bodies it cannot price (a missing sample size): those go upstream,
// which answers them (a 400 for a bad body).
func quote(endpoint string, body *jobBody, h http.Header) (estimator.Quote, bool) {
	var op estimator.Operation
	var p estimator.Params
	switch endpoint {
	case "/responses":
		op = estimator.Chat
	case "/mave/chat":
		// The API classifies the question itself; the gateway takes the dearest class.
		op = estimator.MaveComplex
	case "/personas":
		op = estimator.Persona
	case "/brand-voices":
		op = estimator.BrandVoice
	case "/focus-groups":
		if body == nil {
			return estimator.Quote{}, false
		}
		op, p = estimator.FocusGroup, estimator.Params{SampleSize: body.SampleSize, Questions: len(body.Questions)}
	case "/video-analyses":
		op, p = estimator.Video, estimator.Params{Seconds: estimator.MaxSeconds}
		if n, err := strconv.Atoi(h.Get(VideoSecondsHeader)); err == nil && n >= 1 && n <= estimator.MaxSeconds {
			p.Seconds = n
		}
	default:
		return estimator.Quote{}, false
	}
	q, err := estimator.Estimate(op, p)
	return q, err == nil
}

// refusal is a pre-flight "no": the 402 the proxy answers instead of calling upstream.
type refusal struct {
	code string
	msg  string
}

// judge checks q against the workspace's cap (its allocation plus recharges, or
// its usage limit when that is smaller) and the project's usage limit; nil when
// both afford it. What remains, and which cap binds, comes from model.Assess, the
// one judgement of a budget.
func judge(q estimator.Quote, ws, project string, b feed.Budget) *refusal {
	st := model.Assess(&b.Settings, model.Usage{Used: b.Used, Recharged: b.Recharged}, nil)
	if st.RemainingKnown && !estimator.CanAfford(q.Estimate, st.Remaining) {
		if st.CapKind != model.CapLimit {
			err := estimator.Preflight(q, st.Remaining)
			var ie *estimator.InsufficientCreditsError
			if errors.As(err, &ie) {
				ie.Workspace = ws
			}
			return &refusal{code: CodePreflightRefused, msg: err.Error()}
		}
		return overLimit(q, "workspace "+ws+"'s", st)
	}
	if project == "" || b.Project.Limit <= 0 {
		return nil
	}
	st = model.Assess(&model.Settings{UsageLimit: b.Project.Limit}, model.Usage{Used: b.ProjectUsed}, nil)
	if st.RemainingKnown && !estimator.CanAfford(q.Estimate, st.Remaining) {
		return overLimit(q, "project "+model.ProjectKey(ws, project)+"'s", st)
	}
	return nil
}

// overLimit is the budget_exceeded refusal naming the usage limit that is short.
func overLimit(q estimator.Quote, what string, st model.Status) *refusal {
	return &refusal{code: model.CodeBudgetExceeded, msg: fmt.Sprintf(
		"Estimated %d credits (%d with the 20 %% buffer); only %d remaining under %s usage limit of %d. "+
			"Raise it with `mavtop budget set` or wait for the billing period to reset.",
		q.Estimate, q.Required, st.Remaining, what, st.Cap)}
}

// CodePreflightRefused is the error code of a job the proxy refused because the
// workspace's remaining credits do not cover its estimate plus the 20 % buffer.
const CodePreflightRefused = "preflight_refused"

// DefaultBudgetCache is how long a budget read for a chat call may decide the
// calls after it (see budgetCache).
const DefaultBudgetCache = time.Second

// liveOp reports whether an operation is judged against the live counters every
// time: the jobs the pre-flight check is for (focus groups, video analyses, brand
// voices) and personas, tens to hundreds of credits each. Chats and Mave questions
// (1–60 credits, most of the traffic) are judged against the cache.
func liveOp(op estimator.Operation) bool {
	switch op {
	case estimator.FocusGroup, estimator.Video, estimator.BrandVoice, estimator.Persona:
		return true
	}
	return false
}

// maxCachedBudgets bounds the (workspace, project) pairs the cache holds; when it
// is full it starts afresh.
const maxCachedBudgets = 10_000

// budgetCache keeps the budgets read for the pre-flight check of cheap calls, so
// that a chat does not cost a Redis round trip. Its rule, which makes it never
// admit what the live counters would refuse on this proxy's account:
//
//   - an entry is used for at most its TTL after the read, then read again;
//   - every call admitted from an entry reserves its estimate (the upper bound) in
//     it: the next call is judged against what was read minus everything admitted
//     since, calls still running included, which a live read does not see;
//   - the cache only admits: a call it cannot admit is judged against a live read
//     (and that read replaces the entry), so a refusal always comes from the live
//     counters and a recharge, a raised limit or a new billing period is never
//     refused from an old entry.
//
// What other producers spend meanwhile reaches the decision at most one TTL late;
// the live read has the same kind of window between its read and the API's charge.
type budgetCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[2]string]*cachedBudget
}

type cachedBudget struct {
	b        feed.Budget
	read     time.Time
	reserved int64
}

// admit reports whether q is affordable by the fresh entry of ws and project after
// what it reserved, and reserves q's estimate when it is.
func (c *budgetCache) admit(ws, project string, q estimator.Quote, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[[2]string{ws, project}]
	if e == nil || now.Sub(e.read) >= c.ttl || now.Before(e.read) {
		return false
	}
	b := e.b
	b.Used += e.reserved
	if b.Project.Limit > 0 {
		b.ProjectUsed += e.reserved
	}
	if judge(q, ws, project, b) != nil {
		return false
	}
	e.reserved += q.Estimate
	return true
}

// store replaces the entry of ws and project by a live read, reserving what the
// call judged against it was admitted for (0 when refused).
func (c *budgetCache) store(ws, project string, b feed.Budget, read time.Time, reserved int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedBudgets {
		c.m = map[[2]string]*cachedBudget{}
	}
	c.m[[2]string{ws, project}] = &cachedBudget{b: b, read: read, reserved: reserved}
}
