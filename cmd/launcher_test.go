package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/demo"
	"mavtop/estimator"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// TestClassifyLaunchOutcomes: the adapter tells the pane what an error means,
// so the pane needs no client: an API 402 and the client's pre-flight are
// refusals for want of credits, both queueable, anything else a failure; each
// with the seed's user-facing words.
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
		{"pre-flight", preflight, true, true, "Estimated 137 credits", model.BillingURL},
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

// TestQueueListCancelAndRetryAPaneRefusal: a job the estimator pane's own
// pre-flight refused is queued with the request Launch would send, listed with
// what it waits for (the numbers Redis holds), retried by the queue's poller
// once credits cover it, and a queued job can be cancelled.
func TestQueueListCancelAndRetryAPaneRefusal(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Redis: srv.Client(), NoTraffic: true, Seed: 7, Clock: client.NewScaledClock(time.Now(), 20)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	l := &ClientLauncher{Client: d.Client, Retries: d.Retries}
	q, err := estimator.Estimate(estimator.FocusGroup, estimator.Params{SampleSize: 25, Questions: 5})
	if err != nil {
		t.Fatal(err)
	}
	queue := func(ws string, remaining int64) {
		t.Helper()
		job := tui.Job{Op: estimator.FocusGroup, Params: q.Params, Workspace: ws, Quote: q}
		if err := l.Queue(ctx, job, estimator.Preflight(q, remaining)); err != nil {
			t.Fatal(err)
		}
	}
	queue("acme-prod", 40)
	queue("globex", 60)
	if err := l.Queue(ctx, tui.Job{Op: estimator.Chat, Workspace: "acme-prod"}, errors.New("boom")); err == nil {
		t.Fatal("queued a job that was not refused for credits")
	}
	jobs, err := l.Queued(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Client().HLen(ctx, d.Retries.Key()).Val(); len(jobs) != 2 || n != 2 {
		t.Fatalf("listed %d jobs, Redis holds %d", len(jobs), n)
	}
	j := jobs[0]
	if j.Workspace != "acme-prod" || j.Op != estimator.FocusGroup || j.Estimate != 85 || j.Wait.Required != 102 || j.Wait.LastTriedRemaining != 40 {
		t.Fatalf("queued job %+v", j)
	}
	if got := j.Wait.State(40, true, time.Now()).Reason; got != "waiting: needs 102, 40 left" {
		t.Errorf("reason %q", got)
	}

	// cancel the second; cancelling it again finds nothing
	if removed, err := l.Cancel(ctx, jobs[1].ID); err != nil || !removed {
		t.Fatalf("cancel: %v %v", removed, err)
	}
	if removed, err := l.Cancel(ctx, jobs[1].ID); err != nil || removed {
		t.Fatalf("second cancel: %v %v", removed, err)
	}
	if n := srv.Client().HLen(ctx, d.Retries.Key()).Val(); n != 1 {
		t.Fatalf("Redis holds %d jobs after the cancel, want 1", n)
	}

	// acme-prod has 20,000 left: the poller launches the queued request
	res, err := d.Retries.Poll(ctx, d.Balances, d.Client.Relaunch)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != client.PollSucceeded || res[0].Job.ID != j.ID {
		t.Fatalf("poll %+v", res)
	}
	ledger, _ := d.Sandbox.Ledger(d.Key)
	if used := ledger.Workspaces["acme-prod"].Used; used <= 0 || used > q.Estimate*2 {
		t.Fatalf("the sandbox charged acme-prod %d credits for the retried focus group", used)
	}
	if n := srv.Client().HLen(ctx, d.Retries.Key()).Val(); n != 0 {
		t.Fatalf("Redis still holds %d jobs", n)
	}
}
