package client

import (
	"errors"
	"fmt"
	"net/http"

	"mavtop/estimator"
	"mavtop/model"
)

// Where users fix what a refusal says.
const (
	// BillingURL is where credits are added and auto-recharge is set.
	BillingURL = model.BillingURL
	// WorkspaceBudgetURL is where workspace budgets are set (Workspace Settings >
	// Budget); the exact path is not documented.
	WorkspaceBudgetURL = model.WorkspaceBudgetURL
	// APIKeysURL is where API keys are made (Settings > Developer > API Keys).
	APIKeysURL = "https://app.mavera.io/settings/developer"
	// UsageURL is the usage dashboard, the source of truth for credits.
	UsageURL = "https://app.mavera.io/settings/usage"
)

// UserFacing is the seed's graceful answer to a failed call (Pattern 6): what
// happened, what to do, and where.
type UserFacing struct {
	// Success is true only for a nil error.
	Success bool `json:"success"`
	// Error is a stable code ("credits_exhausted", "budget_exceeded",
	// "insufficient_credits", "rate_limited", …) for programs.
	Error string `json:"error"`
	// Message says what happened and what to do, for people.
	Message string `json:"message"`
	// ActionURL is where to do it, when there is such a place.
	ActionURL string `json:"action_url,omitempty"`
}

// UserMessage turns an error from this package into words for the person who hit
// it; it never shows the API key or a raw error dump. A nil error is a success.
func UserMessage(err error) UserFacing {
	if err == nil {
		return UserFacing{Success: true}
	}
	var ie *estimator.InsufficientCreditsError
	if errors.As(err, &ie) {
		return UserFacing{Error: "insufficient_credits", Message: ie.Error(), ActionURL: BillingURL}
	}
	if errors.Is(err, ErrNoAPIKey) {
		return UserFacing{Error: "missing_api_key", Message: "No Mavera API key is set. Create one in Settings > Developer > API Keys and set MAVERA_API_KEY.", ActionURL: APIKeysURL}
	}
	var jf *JobFailedError
	if errors.As(err, &jf) {
		return UserFacing{Error: "job_failed", Message: fmt.Sprintf("The %s did not complete: %s. Try launching it again.", jf.Kind, orDefault(jf.Message, "no reason given"))}
	}
	ae, ok := AsAPIError(err)
	if !ok {
		return UserFacing{Error: "unavailable", Message: "The Mavera API could not be reached. Check the network and try again in a moment."}
	}
	switch {
	case ae.Status == http.StatusPaymentRequired:
		a := model.RefusalAdvice(ae.Code)
		return UserFacing{Error: a.Error, Message: a.Message, ActionURL: a.ActionURL}
	case ae.Status == http.StatusTooManyRequests:
		wait := "a minute"
		if ae.RetryAfter > 0 {
			wait = ae.RetryAfter.String()
		}
		return UserFacing{Error: "rate_limited", Message: "Too many requests right now. Try again in " + wait + "."}
	case ae.Status == http.StatusUnauthorized:
		return UserFacing{Error: "authentication_failed", Message: "The Mavera API key was not accepted (missing, invalid, revoked or expired). Check MAVERA_API_KEY or create a new key.", ActionURL: APIKeysURL}
	case ae.Status == http.StatusForbidden:
		return UserFacing{Error: "forbidden", Message: "This API key may not do that. Ask a workspace owner for access."}
	case ae.Status >= 500:
		return UserFacing{Error: "service_unavailable", Message: "Mavera had a problem handling the request. Try again in a moment."}
	}
	return UserFacing{Error: orDefault(ae.Code, "invalid_request"), Message: "The request was not accepted: " + ae.Message}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
