package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// UsageReport is GET /usage: the account's credits this billing period.
// Its fields are the API's JSON fields of the same names.
type UsageReport struct {
	Object        string          `json:"object"`
	BillingPeriod BillingPeriod   `json:"billing_period"`
	Credits       UsageCredits    `json:"credits"`
	Transcription json.RawMessage `json:"transcription,omitempty"`
	Storage       json.RawMessage `json:"storage,omitempty"`
	APIRequests   APIRequests     `json:"api_requests"`
	RateLimit     struct {
		RequestsPerMinute int `json:"requests_per_minute"`
	} `json:"rate_limit"`
	AutoRecharge AutoRecharge `json:"auto_recharge"`
	Limits       UsageLimits  `json:"limits"`
}

// BillingPeriod is the current billing period.
type BillingPeriod struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// UsageCredits are the account's credits: used of included, remaining, percent used.
type UsageCredits struct {
	Used           int64   `json:"used"`
	Included       int64   `json:"included"`
	Remaining      int64   `json:"remaining"`
	PercentageUsed float64 `json:"percentage_used"`
}

// APIRequests are the period's request statistics.
// Its fields are the API's JSON fields of the same names.
type APIRequests struct {
	TotalRequests    int64   `json:"total_requests"`
	TotalTokens      int64   `json:"total_tokens"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CreditsUsed      int64   `json:"credits_used"`
	ErrorCount       int64   `json:"error_count"`
	AvgLatencyMS     float64 `json:"avg_latency_ms"`
}

// AutoRecharge is the account's auto-recharge setting (Pattern 5).
type AutoRecharge struct {
	Enabled      bool  `json:"enabled"`
	Threshold    int64 `json:"threshold"`
	CreditsToAdd int64 `json:"credits_to_add"`
}

// UsageLimits are the account's budget alert and hard usage limit (nil: none).
type UsageLimits struct {
	BudgetAlert *int64 `json:"budget_alert"`
	UsageLimit  *int64 `json:"usage_limit"`
}

// Usage calls GET /usage: the source of truth to reconcile in-app tracking with.
// It is not tracked.
func (c *Client) Usage(ctx context.Context) (*UsageReport, error) {
	var out UsageReport
	if _, err := c.send(ctx, request{method: http.MethodGet, path: "/usage"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
