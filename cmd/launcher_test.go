package cmd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"mavtop/client"
	"mavtop/estimator"
	"mavtop/model"
	"mavtop/tui"
)

// TestClassifyLaunchOutcomes: the adapter tells the pane what an error means,
// so the pane needs no client: an API 402 is a queueable refusal, the
// client's pre-flight a refusal that is not, anything else a failure; each with
// the seed's user-facing words.
func TestClassifyLaunchOutcomes(t *testing.T) {
	q, err := estimator.Estimate(estimator.FocusGroup, estimator.Params{SampleSize: 40, Questions: 6})
	if err != nil {
		t.Fatal(err)
	}
	preflight := estimator.Preflight(q, 10)
	cases := []struct {
		name               string
		err                error
		refused, queueable bool
		msg, url           string
	}{
		{"success", nil, false, false, "", ""},
		{"credits exhausted", fmt.Errorf("launch: %w", &client.APIError{Status: 402, Code: model.CodeCreditsExhausted}), true, true, "run out of credits", model.BillingURL},
		{"budget exceeded", &client.APIError{Status: 402, Code: model.CodeBudgetExceeded}, true, true, "budget limit", model.WorkspaceBudgetURL},
		{"pre-flight", preflight, true, false, "Estimated 137 credits", model.BillingURL},
		{"rate limited", &client.APIError{Status: 429}, false, false, "Too many requests", ""},
		{"network", errors.New("dial tcp: refused"), false, false, "could not be reached", ""},
	}
	for _, c := range cases {
		got := classify(tui.LaunchResult{JobID: "j"}, c.err)
		if got.Refused != c.refused || got.Queueable != c.queueable || !strings.Contains(got.Message, c.msg) || got.ActionURL != c.url || got.JobID != "j" {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}
