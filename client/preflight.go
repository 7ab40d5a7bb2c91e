package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mavtop/estimator"
)

// Balances tells a pre-flight check how many credits a workspace has left. The
// feed implements it from its snapshot (allocation + recharges − used, and the
// workspace's usage limit when that is tighter); MemoryTracker implements it in memory.
type Balances interface {
	// Remaining returns the credits workspace ws may still spend. known is false
	// when the workspace has no allocation set, so there is nothing to check against.
	Remaining(ctx context.Context, ws string) (remaining int64, known bool, err error)
}

// Preflight is the outcome of a launch's pre-flight check (Pattern 3).
type Preflight struct {
	// Quote is the estimator's price of the job; Quote.Estimate is the upper bound
	// published with the job's event for calibration.
	Quote estimator.Quote
	// Workspace is the workspace whose credits were checked.
	Workspace string
	// Remaining is the credits the workspace had left (when Checked).
	Remaining int64
	// Checked is false when there was no budget to check against: no Balances
	// configured, the workspace has no allocation set, or the view was made with
	// WithoutPreflight. The rule: such a launch
	// goes ahead (the API still refuses with 402 if the account is out of credits);
	// the screen should say it ran unchecked.
	Checked bool
}

// LaunchError is a launch refused for want of credits, either by the pre-flight
// check (it wraps an *estimator.InsufficientCreditsError; no request was sent) or by
// the API (it wraps the 402 *APIError). Job is what to put on the RetryQueue to run
// it when credits are added.
type LaunchError struct {
	// Job is the refused launch, ready for RetryQueue.Enqueue.
	Job RetryJob
	// Err is the *estimator.InsufficientCreditsError or the 402 *APIError.
	Err error
}

// Error returns the wrapped error's message.
func (e *LaunchError) Error() string { return e.Err.Error() }

// Unwrap returns the *estimator.InsufficientCreditsError or the *APIError.
func (e *LaunchError) Unwrap() error { return e.Err }

// RetryJobFrom returns the job of a launch refused for want of credits (pre-flight
// or 402), ready for RetryQueue.Enqueue.
func RetryJobFrom(err error) (RetryJob, bool) {
	var le *LaunchError
	if errors.As(err, &le) {
		return le.Job, true
	}
	return RetryJob{}, false
}

// IsInsufficientCredits reports whether err is a pre-flight refusal.
func IsInsufficientCredits(err error) bool {
	var ie *estimator.InsufficientCreditsError
	return errors.As(err, &ie)
}

// workspace returns the workspace calls are attributed to.
func (c *Client) workspace() string {
	if c.scope.Workspace == "" {
		return DefaultWorkspace
	}
	return c.scope.Workspace
}

// preflight prices op and checks the workspace can afford it. It returns a
// *LaunchError wrapping an *estimator.InsufficientCreditsError when it cannot.
func (c *Client) preflight(ctx context.Context, op estimator.Operation, p estimator.Params, payload any) (Preflight, error) {
	q, err := estimator.Estimate(op, p)
	if err != nil {
		return Preflight{}, fmt.Errorf("pre-flight: %w", err)
	}
	pf := Preflight{Quote: q, Workspace: c.workspace()}
	if c.sh.balances == nil || c.unchecked {
		return pf, nil
	}
	remaining, known, err := c.sh.balances.Remaining(ctx, pf.Workspace)
	if err != nil {
		// Refuse rather than spend blind: the balances are the point of the check.
		return pf, fmt.Errorf("pre-flight for %s in %s: read remaining credits: %w", op, pf.Workspace, err)
	}
	if !known {
		return pf, nil
	}
	pf.Remaining, pf.Checked = remaining, true
	if err := estimator.Preflight(q, remaining); err != nil {
		var ie *estimator.InsufficientCreditsError
		if errors.As(err, &ie) {
			ie.Workspace = pf.Workspace
		}
		return pf, &LaunchError{Job: c.retryJob(pf, payload, err), Err: err}
	}
	return pf, nil
}

// refused wraps a 402 from a launch in a *LaunchError carrying its retry job.
func (c *Client) refused(err error, pf Preflight, payload any) error {
	if err == nil || !IsPaymentRequired(err) {
		return err
	}
	return &LaunchError{Job: c.retryJob(pf, payload, err), Err: err}
}

// RefusedJob describes a launch of q's job that the caller's own pre-flight
// refused (cause, with remaining credits left in this view's workspace), ready
// for RetryQueue.Enqueue: the job the client's own pre-flight would have
// handed back in its *LaunchError. payload is the request it would have sent.
func (c *Client) RefusedJob(q estimator.Quote, payload any, remaining int64, cause error) RetryJob {
	return c.retryJob(Preflight{Quote: q, Workspace: c.workspace(), Remaining: remaining, Checked: true}, payload, cause)
}

// retryJob describes a refused launch for the retry queue.
func (c *Client) retryJob(pf Preflight, payload any, cause error) RetryJob {
	raw, _ := json.Marshal(payload) // request structs always encode
	j := RetryJob{
		Op:        string(pf.Quote.Op),
		Params:    pf.Quote.Params,
		Workspace: pf.Workspace,
		Project:   c.scope.Project,
		Endpoint:  pf.Quote.Op.Endpoint(),
		Estimate:  pf.Quote.Estimate,
		Required:  pf.Quote.Required,
		Payload:   raw,
		LastError: c.sh.red.clean(cause.Error()),
	}
	if ae, ok := AsAPIError(cause); ok {
		j.LastCode = ae.Code
	} else if IsInsufficientCredits(cause) {
		j.LastCode = "insufficient_credits"
	}
	if pf.Checked {
		// Tried at this balance: retry only once it has risen above it.
		j.LastTriedRemaining = pf.Remaining
	}
	return j
}
