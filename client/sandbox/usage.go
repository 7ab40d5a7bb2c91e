package sandbox

import (
	"math"
	"net/http"
	"time"
)

// usage is GET /usage: the whole account (assumptions.go).
func (s *Sandbox) usage(c *call) result {
	a := c.a
	included := a.pool.allocation
	for _, w := range a.workspaces {
		if w.own {
			included += w.pool.allocation
		}
	}
	remaining := included + a.recharged - a.used
	pct := 0.0
	if included > 0 {
		pct = math.Round(float64(a.used)*1000/float64(included)) / 10
	}
	nullable := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	return result{status: http.StatusOK, body: map[string]any{
		"object": "usage",
		"billing_period": map[string]string{
			"start": a.periodStart.Format(time.RFC3339), "end": a.periodEnd.Format(time.RFC3339)},
		"credits":       map[string]any{"used": a.used, "included": included, "remaining": remaining, "percentage_used": pct},
		"transcription": map[string]any{"minutes_used": 0, "minutes_included": 600},
		"storage":       map[string]any{"gb_used": 0.0, "gb_included": 50},
		"api_requests": map[string]any{
			"total_requests": a.requests, "total_tokens": a.tokensIn + a.tokensOut,
			"prompt_tokens": a.tokensIn, "completion_tokens": a.tokensOut,
			"credits_used": a.used, "error_count": a.errors, "avg_latency_ms": 120},
		"rate_limit":    map[string]any{"requests_per_minute": a.rateLimit},
		"auto_recharge": map[string]any{"enabled": a.pool.auto.Enabled, "threshold": a.pool.auto.Threshold, "credits_to_add": a.pool.auto.Amount},
		"limits":        map[string]any{"budget_alert": nullable(a.budgetAlert), "usage_limit": nullable(a.usageLimit)},
	}}
}
