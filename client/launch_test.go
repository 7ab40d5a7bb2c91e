package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/estimator"
	"mavtop/model"
)

func TestPreflightRefusesBeforeAnyRequest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	e.c = mustClient(t, e, client.WithBalances(e.tr))
	e.tr.SetAllocation("acme-prod", 150)

	req := sampleFocusGroup("acme-prod", 50, 5) // 125 + 2×5 = 135; with the buffer 162
	_, pf, err := e.c.LaunchFocusGroup(ctx, req)
	var ie *estimator.InsufficientCreditsError
	if !errors.As(err, &ie) || !client.IsInsufficientCredits(err) {
		t.Fatalf("want an InsufficientCreditsError, got %v", err)
	}
	if ie.Estimate != 135 || ie.Required != 162 || ie.Remaining != 150 || ie.Workspace != "acme-prod" {
		t.Fatalf("refusal: %+v", ie)
	}
	if !pf.Checked || pf.Remaining != 150 || pf.Quote.Estimate != 135 {
		t.Fatalf("preflight: %+v", pf)
	}
	if n := e.count("POST /focus-groups"); n != 0 {
		t.Fatalf("pre-flight refusal sent %d requests", n)
	}
	if len(e.events()) != 0 {
		t.Fatalf("a pre-flight refusal calls no API and publishes nothing: %+v", e.events())
	}
	job, ok := client.RetryJobFrom(err)
	if !ok || job.Op != "focus-group" || job.Required != 162 || job.LastTriedRemaining != 150 || job.Workspace != "acme-prod" ||
		job.Params.SampleSize != 50 || job.Params.Questions != 5 || job.LastCode != "insufficient_credits" {
		t.Fatalf("retry job: %+v", job)
	}
	var back client.FocusGroupRequest
	if err := json.Unmarshal(job.Payload, &back); err != nil || back.SampleSize != 50 || len(back.Questions) != 5 {
		t.Fatalf("payload: %s %v", job.Payload, err)
	}
	if um := client.UserMessage(err); um.Error != "insufficient_credits" || um.ActionURL != client.BillingURL {
		t.Fatalf("user message: %+v", um)
	}

	// Enough credits: it runs, and the event carries the operation and the estimate.
	e.tr.SetAllocation("acme-prod", 1000)
	fg, pf, err := e.c.LaunchFocusGroup(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !pf.Checked || pf.Remaining != 1000 || fg.Status != "completed" {
		t.Fatalf("launch: %+v %+v", pf, fg)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Op != "focus-group" || evs[0].Est != 135 || evs[0].Credits != fg.Credits() || evs[0].Status != 201 {
		t.Fatalf("events: %+v", evs)
	}

	// No allocation known: the launch goes ahead, flagged unchecked.
	_, pf, err = e.c.In("initech", "").LaunchPersona(ctx, client.PersonaRequest{Name: "x", Type: "B2B"})
	if err != nil || pf.Checked || pf.Workspace != "initech" || pf.Quote.Estimate != 300 {
		t.Fatalf("unchecked launch: %+v %v", pf, err)
	}

	// Bad parameters are refused before any request too.
	if _, _, err := e.c.LaunchVideoAnalysis(ctx, sampleVideo("acme-prod", 30), 0); err == nil {
		t.Fatal("a video of 0 s was launched")
	}
	if _, _, err := e.c.LaunchMave(ctx, client.MaveChatRequest{Message: "x"}, estimator.Chat); err == nil {
		t.Fatal("LaunchMave accepted a non-Mave operation")
	}
	if n := e.count("POST /video-analyses"); n != 0 {
		t.Fatalf("bad parameters sent %d requests", n)
	}
}

type failingBalances struct{}

func (failingBalances) Remaining(context.Context, string) (int64, bool, error) {
	return 0, false, errors.New("redis: connection refused")
}

func TestPreflightBalanceErrorRefuses(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	c := mustClient(t, e, client.WithBalances(failingBalances{}))
	_, _, err := c.LaunchPersona(context.Background(), client.PersonaRequest{Name: "x", Type: "B2B"})
	if err == nil || e.count("POST /personas") != 0 {
		t.Fatalf("launched without knowing the balance: %v", err)
	}
}

func TestLaunchRefusedByAPI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	c := mustClient(t, e, client.WithBalances(e.tr))
	e.tr.SetAllocation("acme-prod", 5000)
	if err := e.sb.SetAllocation(testKey, "acme-prod", 5); err != nil {
		t.Fatal(err)
	}
	_, pf, err := c.LaunchMave(ctx, client.MaveChatRequest{Message: "Is our pricing page clear?", WorkspaceID: "acme-prod"}, estimator.MaveSimple)
	var le *client.LaunchError
	if !errors.As(err, &le) || !client.IsCreditsExhausted(err) || !pf.Checked {
		t.Fatalf("want a LaunchError wrapping a 402: %v", err)
	}
	if le.Job.Op != "mave-simple" || le.Job.LastCode != model.CodeCreditsExhausted || le.Job.LastTriedRemaining != 5000 {
		t.Fatalf("job: %+v", le.Job)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Status != 402 || evs[0].Op != "mave-simple" || evs[0].Est != 15 {
		t.Fatalf("events: %+v", evs)
	}
}

func TestConcurrencyCapMakesLaunchesWait(t *testing.T) {
	ctx := context.Background()
	states := make(chan client.Slots, 100)
	e := newEnv(t, sandbox.Config{})
	c := mustClient(t, e, client.WithConcurrencyLimit(client.JobFocusGroup, 2),
		client.WithConcurrencyHook(func(s client.Slots) { states <- s }))

	j1, err := c.StartFocusGroup(ctx, sampleFocusGroup("acme-prod", 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	j2, err := c.StartFocusGroup(ctx, sampleFocusGroup("acme-prod", 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	third := make(chan error, 1)
	go func() {
		j3, err := c.StartFocusGroup(ctx, sampleFocusGroup("acme-prod", 10, 1))
		if err == nil {
			_, err = j3.Wait(ctx)
		}
		third <- err
	}()
	waitFor(t, states, func(s client.Slots) bool { return s.Kind == client.JobFocusGroup && s.Waiting == 1 })
	if got := slotsOf(c, client.JobFocusGroup); got.Running != 2 || got.Waiting != 1 || got.Limit != 2 {
		t.Fatalf("slots: %+v", got)
	}
	if n := e.count("POST /focus-groups"); n != 2 {
		t.Fatalf("%d focus groups created, the third should wait", n)
	}
	if _, err := j1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-third; err != nil {
		t.Fatal(err)
	}
	if _, err := j2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := slotsOf(c, client.JobFocusGroup); got.Running != 0 || got.Waiting != 0 {
		t.Fatalf("slots at the end: %+v", got)
	}
	if len(e.events()) != 3 {
		t.Fatalf("events: %d, want 3", len(e.events()))
	}

	// A wait for a slot ends with its context.
	j4, _ := c.StartFocusGroup(ctx, sampleFocusGroup("acme-prod", 10, 1))
	j5, _ := c.StartFocusGroup(ctx, sampleFocusGroup("acme-prod", 10, 1))
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.StartFocusGroup(cctx, sampleFocusGroup("acme-prod", 10, 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled slot wait: %v", err)
	}
	if got := slotsOf(c, client.JobFocusGroup); got.Waiting != 0 || got.Running != 2 {
		t.Fatalf("slots after a cancelled wait: %+v", got)
	}
	j4.Release()
	j5.Release()
}

func TestAsyncJobTrackedOnceWhenPolledOften(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	v, err := e.c.CreateVideoAnalysis(ctx, sampleVideo("acme-prod", 200))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		got, err := e.c.GetVideoAnalysis(ctx, v.ID)
		if err != nil || got.Status == "completed" {
			t.Fatalf("poll %d: %+v %v", i, got, err)
		}
	}
	if len(e.events()) != 0 {
		t.Fatal("a running job was tracked before its charge was known")
	}
	e.clock.Advance(11 * time.Minute)
	for i := 0; i < 3; i++ {
		if _, err := e.c.GetVideoAnalysis(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Credits < 400 || evs[0].Req != v.ID || evs[0].Endpoint != "/video-analyses" {
		t.Fatalf("events: %+v", evs)
	}
}

func TestFailedJobIsRefundedAndTracked(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{FailRate: 1})
	_, _, err := e.c.LaunchBrandVoice(ctx, client.BrandVoiceRequest{Label: "Acme", UsageContext: "Support replies and FAQ"})
	var jf *client.JobFailedError
	if !errors.As(err, &jf) || jf.Kind != client.JobBrandVoice {
		t.Fatalf("want a JobFailedError: %v", err)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Credits != 0 || evs[0].Code != "job_failed" {
		t.Fatalf("events: %+v", evs)
	}
	if l := e.ledger(); l.Used != 0 {
		t.Fatalf("a failed job was not refunded: used %d", l.Used)
	}
	if um := client.UserMessage(err); um.Error != "job_failed" {
		t.Fatalf("user message: %+v", um)
	}
}

func TestAutoRechargeMatchesTracking(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	if err := e.sb.ConfigureWorkspace(testKey, sandbox.WorkspaceConfig{ID: "initech", Allocation: 400,
		AutoRecharge: sandbox.AutoRecharge{Enabled: true, Threshold: 150, Amount: 500}}); err != nil {
		t.Fatal(err)
	}
	e.tr.SetAllocation("initech", 400)
	if _, err := e.c.In("initech", "").CreatePersona(ctx, client.PersonaRequest{Name: "x", Type: "B2B"}); err != nil {
		t.Fatal(err)
	}
	l := e.ledger().Workspaces["initech"]
	tracked, _, _ := e.tr.Remaining(ctx, "initech")
	if l.Recharged != 500 || l.Remaining != 600 || tracked != l.Remaining {
		t.Fatalf("sandbox %+v, tracked remaining %d", l, tracked)
	}
}

func TestReconciler(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []client.Reconciliation
	r := &client.Reconciler{Client: e.c, Interval: time.Minute, Sink: func(rc client.Reconciliation) {
		got = append(got, rc)
		if len(got) == 2 {
			e.c.CreateResponse(ctx, client.ResponseRequest{Input: "between readings"})
		}
		if len(got) == 3 {
			cancel()
		}
	}}
	if err := r.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	if len(got) != 3 || got[0].Err != nil || got[2].Usage == nil {
		t.Fatalf("readings: %+v", got)
	}
	if got[1].At.Sub(got[0].At) != time.Minute || got[0].Usage.Credits.Used != 0 || got[2].Usage.Credits.Used != e.ledger().Used || e.ledger().Used == 0 {
		t.Fatalf("readings: %+v %+v", got[0], got[2].Usage.Credits)
	}
}

// mustClient makes a second client on e's sandbox, tracker and clock.
func mustClient(t *testing.T, e *env, opts ...client.Option) *client.Client {
	t.Helper()
	base := []client.Option{
		client.WithBaseURL(e.srv.URL + sandbox.BasePath), client.WithAPIKey(testKey),
		client.WithClock(e.clock), client.WithTracker(e.tr, "acme-prod", ""),
	}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func slotsOf(c *client.Client, kind client.JobKind) client.Slots {
	for _, s := range c.Concurrency() {
		if s.Kind == kind {
			return s
		}
	}
	return client.Slots{}
}

func waitFor(t *testing.T, ch <-chan client.Slots, ok func(client.Slots) bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-ch:
			if ok(s) {
				return
			}
		case <-deadline:
			t.Fatal("the expected concurrency state never came")
		}
	}
}
