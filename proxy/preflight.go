package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

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
