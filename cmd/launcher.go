package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mavtop/client"
	"mavtop/estimator"
	"mavtop/tui"
)

// ClientLauncher launches the estimator pane's jobs through the API client, with
// its pre-flight, tracking and concurrency caps, and queues refused ones. It is
// the adapter between tui (which knows no client) and client: it classifies
// every outcome into a tui.LaunchResult.
//
// The pane knows an operation and its size, not a real request: it sends a
// minimal request of that size (placeholder questions, a video URL carrying its
// length as the sandbox reads it). Against the real API that is a smoke test of
// budget and plumbing, not a research job.
type ClientLauncher struct {
	Client *client.Client
	// Queue holds jobs refused with 402 until credits return; nil turns queueing off.
	Retries *client.RetryQueue
	// Poll is how often a running job is checked (2 s).
	Poll time.Duration
}

// Launch runs job and reports its status until it is done, with its outcome
// classified for the pane.
func (l *ClientLauncher) Launch(ctx context.Context, job tui.Job, progress func(string)) (tui.LaunchResult, error) {
	res, err := l.launch(ctx, job, progress)
	return classify(res, err), err
}

// classify says what an error from the client means to the pane: a refusal
// for credits (the client's pre-flight or the API's 402, the latter queueable)
// or a failure, with the user-facing message of the seed's Pattern 6.
func classify(res tui.LaunchResult, err error) tui.LaunchResult {
	if err == nil {
		return res
	}
	u := client.UserMessage(err)
	res.Message, res.ActionURL = u.Message, u.ActionURL
	var ie *estimator.InsufficientCreditsError
	// every refusal for want of credits can wait in the retry queue: the
	// API's 402 (credits exhausted, a budget reached) and the client's own
	// pre-flight
	res.Refused = client.IsCreditsExhausted(err) || client.IsBudgetExceeded(err) || errors.As(err, &ie)
	res.Queueable = res.Refused
	return res
}

func (l *ClientLauncher) launch(ctx context.Context, job tui.Job, progress func(string)) (tui.LaunchResult, error) {
	c := l.Client.In(job.Workspace, "")
	ws := job.Workspace
	p := job.Params
	progress("pre-flight check, then waiting for a slot")
	switch job.Op {
	case estimator.Chat:
		r, _, err := c.LaunchResponse(ctx, chatRequest())
		return result(r, err)
	case estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex:
		progress("Mave is researching (30–90 s)")
		r, _, err := c.LaunchMave(ctx, maveRequest(job.Op, ws), job.Op)
		return result(r, err)
	case estimator.Persona:
		r, _, err := c.LaunchPersona(ctx, personaRequest())
		return result(r, err)
	case estimator.FocusGroup:
		j, err := c.StartFocusGroup(ctx, focusGroupRequest(ws, p))
		return follow(ctx, l.poll(), j, err, progress)
	case estimator.Video:
		j, err := c.StartVideoAnalysis(ctx, videoRequest(ws, p), p.Seconds)
		return follow(ctx, l.poll(), j, err, progress)
	case estimator.BrandVoice:
		j, err := c.StartBrandVoice(ctx, brandVoiceRequest(ws))
		return follow(ctx, l.poll(), j, err, progress)
	}
	return tui.LaunchResult{}, fmt.Errorf("cannot launch %s from the dashboard", job.Op)
}

// Queue enqueues the retry job a refusal carries (the API's 402 or the
// client's pre-flight), or, for the pane's own pre-flight refusal, the job the
// client would have built: the same request Launch sends, retried once the
// workspace has its required credits.
func (l *ClientLauncher) Queue(ctx context.Context, job tui.Job, refusal error) error {
	if l.Retries == nil {
		return errors.New("no retry queue configured")
	}
	rj, ok := client.RetryJobFrom(refusal)
	if !ok {
		var ie *estimator.InsufficientCreditsError
		if !errors.As(refusal, &ie) {
			return fmt.Errorf("%s in %s was not refused for want of credits, nothing to queue", job.Op, job.Workspace)
		}
		payload, err := request(job)
		if err != nil {
			return err
		}
		rj = l.Client.In(job.Workspace, "").RefusedJob(job.Quote, payload, ie.Remaining, refusal)
	}
	_, err := l.Retries.Enqueue(ctx, rj)
	return err
}

// Queued lists the retry queue, oldest first.
func (l *ClientLauncher) Queued(ctx context.Context) ([]tui.QueuedJob, error) {
	if l.Retries == nil {
		return nil, nil
	}
	jobs, err := l.Retries.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]tui.QueuedJob, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, tui.QueuedJob{ID: j.ID, Op: estimator.Operation(j.Op), Workspace: j.Workspace,
			Estimate: j.Estimate, EnqueuedAt: j.EnqueuedAt, Wait: j.Waiting()})
	}
	return out, nil
}

// Cancel removes a queued job; false when it had already left the queue.
func (l *ClientLauncher) Cancel(ctx context.Context, id string) (bool, error) {
	if l.Retries == nil {
		return false, errors.New("no retry queue configured")
	}
	return l.Retries.Remove(ctx, id)
}

// request is the request Launch sends for job.
func request(job tui.Job) (any, error) {
	switch job.Op {
	case estimator.Chat:
		return chatRequest(), nil
	case estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex:
		return maveRequest(job.Op, job.Workspace), nil
	case estimator.Persona:
		return personaRequest(), nil
	case estimator.FocusGroup:
		return focusGroupRequest(job.Workspace, job.Params), nil
	case estimator.Video:
		return videoRequest(job.Workspace, job.Params), nil
	case estimator.BrandVoice:
		return brandVoiceRequest(job.Workspace), nil
	}
	return nil, fmt.Errorf("cannot launch %s from the dashboard", job.Op)
}

func (l *ClientLauncher) poll() time.Duration {
	if l.Poll > 0 {
		return l.Poll
	}
	return 2 * time.Second
}

type credited interface{ Credits() int64 }

func result[T credited](r T, err error) (tui.LaunchResult, error) {
	if err != nil {
		return tui.LaunchResult{}, err
	}
	return tui.LaunchResult{Actual: r.Credits()}, nil
}

// follow polls a started job, reporting its status, until it finishes.
func follow[T client.JobObject](ctx context.Context, every time.Duration, j *client.Job[T], err error, progress func(string)) (tui.LaunchResult, error) {
	if err != nil {
		return tui.LaunchResult{}, err
	}
	defer j.Release()
	progress(fmt.Sprintf("%s %s created", j.Kind(), j.ID))
	for {
		obj, done, err := j.Poll(ctx)
		switch {
		case err != nil:
			return tui.LaunchResult{JobID: j.ID}, err
		case done && strings.EqualFold(obj.JobStatus(), "failed"):
			return tui.LaunchResult{JobID: j.ID}, &client.JobFailedError{Kind: j.Kind(), ID: j.ID, Message: obj.FailureMessage()}
		case done:
			return tui.LaunchResult{Actual: obj.Credits(), JobID: j.ID}, nil
		}
		progress(fmt.Sprintf("%s %s: %s", j.Kind(), j.ID, obj.JobStatus()))
		select {
		case <-ctx.Done():
			return tui.LaunchResult{JobID: j.ID}, ctx.Err()
		case <-time.After(every):
		}
	}
}

func chatRequest() client.ResponseRequest {
	return client.ResponseRequest{Model: "mavera-1", Input: "mavtop estimator: a short test prompt."}
}

// maveRequest sizes the message by complexity (the sandbox reads complexity from it).
func maveRequest(op estimator.Operation, ws string) client.MaveChatRequest {
	n := map[estimator.Operation]int{estimator.MaveSimple: 60, estimator.MaveModerate: 200, estimator.MaveComplex: 600}[op]
	msg := "mavtop estimator launch: what do buyers think of our pricing page? "
	return client.MaveChatRequest{Message: strings.Repeat(msg, n/len(msg)+1)[:n], WorkspaceID: ws}
}

func personaRequest() client.PersonaRequest {
	return client.PersonaRequest{Name: "mavtop estimator persona", Type: "B2B", PipelineType: "north_star"}
}

func focusGroupRequest(ws string, p estimator.Params) client.FocusGroupRequest {
	req := client.FocusGroupRequest{Name: "mavtop estimator launch", WorkspaceID: ws, SampleSize: p.SampleSize}
	for i := range p.Questions {
		req.Questions = append(req.Questions, client.FocusGroupQuestion{Type: "open_ended", Text: fmt.Sprintf("Question %d", i+1)})
	}
	return req
}

func videoRequest(ws string, p estimator.Params) client.VideoAnalysisRequest {
	return client.VideoAnalysisRequest{
		VideoURL:    fmt.Sprintf("https://example.com/mavtop-estimator.mp4?duration=%d", p.Seconds),
		WorkspaceID: ws, Title: "mavtop estimator launch", Brand: "mavtop", Product: "estimator",
		PrimaryIntent: "Informative", Goal: "Check the budget before a real analysis",
	}
}

func brandVoiceRequest(ws string) client.BrandVoiceRequest {
	return client.BrandVoiceRequest{Label: "mavtop estimator", UsageContext: "A budget check from the dashboard", WorkspaceID: ws}
}
