package model

// Where users fix what a refusal says (the seed's Pattern 6 action_url).
const (
	// BillingURL is where credits are added and auto-recharge is set.
	BillingURL = "https://app.mavera.io/settings/billing"
	// WorkspaceBudgetURL is where workspace budgets are set (Workspace Settings >
	// Budget); the exact path is not documented.
	WorkspaceBudgetURL = "https://app.mavera.io/settings/workspace"
)

// Advice is the seed's graceful answer to a refusal (Pattern 6): a stable
// error code for programs, what happened and what to do for people, and where.
type Advice struct {
	// Error is a stable code: "credits_exhausted" or "budget_exceeded".
	Error string `json:"error"`
	// Message says what happened and what to do.
	Message string `json:"message"`
	// ActionURL is where to do it.
	ActionURL string `json:"action_url,omitempty"`
}

// RefusalAdvice says what an HTTP 402 with the API error code means to the
// person who got it: budget_exceeded is a workspace or project usage limit
// (Pattern 7), any other 402 is the account out of credits (Pattern 6).
func RefusalAdvice(code string) Advice {
	if code == CodeBudgetExceeded {
		return Advice{Error: CodeBudgetExceeded,
			Message:   "This workspace or project has reached its budget limit. Ask a workspace owner to raise the usage limit in Workspace Settings > Budget, or wait for the next billing period.",
			ActionURL: WorkspaceBudgetURL}
	}
	return Advice{Error: CodeCreditsExhausted,
		Message:   "You've run out of credits. Please add more in Settings > Billing (or turn on auto-recharge), or wait for the monthly reset.",
		ActionURL: BillingURL}
}
