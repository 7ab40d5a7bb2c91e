package client

import (
	"context"
	"fmt"

	"mavtop/estimator"
)

// The Launch functions run the seed's Pattern 3 for one job: price it with
// estimator, read the workspace's remaining credits (Balances), refuse with a
// *LaunchError wrapping *estimator.InsufficientCreditsError before any request when
// it cannot be afforded, else call the API with the estimate attached to the
// tracked event. A 402 from the API comes back as a *LaunchError too, carrying the
// RetryJob to queue. Asynchronous launches wait for a concurrency slot (visibly, see
// Concurrency) and then for the job to finish; Start* stops after the creation.

// LaunchResponse pre-flights and calls POST /responses.
func (c *Client) LaunchResponse(ctx context.Context, req ResponseRequest) (*Response, Preflight, error) {
	pf, err := c.preflight(ctx, estimator.Chat, estimator.Params{}, req)
	if err != nil {
		return nil, pf, err
	}
	out, err := c.createResponse(ctx, req, track{op: string(estimator.Chat), est: pf.Quote.Estimate})
	return out, pf, c.refused(err, pf, req)
}

// LaunchMave pre-flights and calls POST /mave/chat. op is the complexity class the
// caller expects (estimator.MaveSimple, MaveModerate or MaveComplex); the API
// classifies the question itself, so this is the caller's guess for the estimate.
func (c *Client) LaunchMave(ctx context.Context, req MaveChatRequest, op estimator.Operation) (*MaveMessage, Preflight, error) {
	switch op {
	case estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex:
	default:
		return nil, Preflight{}, fmt.Errorf("LaunchMave: operation %q is not a Mave complexity class", op)
	}
	pf, err := c.preflight(ctx, op, estimator.Params{}, req)
	if err != nil {
		return nil, pf, err
	}
	out, err := c.maveChat(ctx, req, track{op: string(op), est: pf.Quote.Estimate})
	return out, pf, c.refused(err, pf, req)
}

// LaunchPersona pre-flights and calls POST /personas (300 credits).
func (c *Client) LaunchPersona(ctx context.Context, req PersonaRequest) (*Persona, Preflight, error) {
	pf, err := c.preflight(ctx, estimator.Persona, estimator.Params{}, req)
	if err != nil {
		return nil, pf, err
	}
	out, err := c.createPersona(ctx, req, track{op: string(estimator.Persona), est: pf.Quote.Estimate})
	return out, pf, c.refused(err, pf, req)
}

// StartFocusGroup pre-flights (sample size, question count), waits for one of the 5
// focus-group slots, and creates the focus group. Wait on the returned Job.
func (c *Client) StartFocusGroup(ctx context.Context, req FocusGroupRequest) (*Job[*FocusGroup], error) {
	j, _, err := c.startFocusGroup(ctx, req)
	return j, err
}

func (c *Client) startFocusGroup(ctx context.Context, req FocusGroupRequest) (*Job[*FocusGroup], Preflight, error) {
	p := estimator.Params{SampleSize: req.SampleSize, Questions: len(req.Questions)}
	return startJob(ctx, c, JobFocusGroup, estimator.FocusGroup, p, req, c.createFocusGroup, c.GetFocusGroup)
}

// LaunchFocusGroup is StartFocusGroup followed by Wait.
func (c *Client) LaunchFocusGroup(ctx context.Context, req FocusGroupRequest) (*FocusGroup, Preflight, error) {
	j, pf, err := c.startFocusGroup(ctx, req)
	return finishJob(ctx, j, pf, err)
}

// StartVideoAnalysis pre-flights a video of the given length in seconds, waits for
// one of the 3 video slots, and creates the analysis.
func (c *Client) StartVideoAnalysis(ctx context.Context, req VideoAnalysisRequest, seconds int) (*Job[*VideoAnalysis], error) {
	j, _, err := c.startVideoAnalysis(ctx, req, seconds)
	return j, err
}

func (c *Client) startVideoAnalysis(ctx context.Context, req VideoAnalysisRequest, seconds int) (*Job[*VideoAnalysis], Preflight, error) {
	return startJob(ctx, c, JobVideo, estimator.Video, estimator.Params{Seconds: seconds}, req, c.createVideoAnalysis, c.GetVideoAnalysis)
}

// LaunchVideoAnalysis is StartVideoAnalysis followed by Wait.
func (c *Client) LaunchVideoAnalysis(ctx context.Context, req VideoAnalysisRequest, seconds int) (*VideoAnalysis, Preflight, error) {
	j, pf, err := c.startVideoAnalysis(ctx, req, seconds)
	return finishJob(ctx, j, pf, err)
}

// StartBrandVoice pre-flights and creates a brand voice (50 credits).
func (c *Client) StartBrandVoice(ctx context.Context, req BrandVoiceRequest) (*Job[*BrandVoice], error) {
	j, _, err := c.startBrandVoice(ctx, req)
	return j, err
}

func (c *Client) startBrandVoice(ctx context.Context, req BrandVoiceRequest) (*Job[*BrandVoice], Preflight, error) {
	return startJob(ctx, c, JobBrandVoice, estimator.BrandVoice, estimator.Params{}, req, c.createBrandVoice, c.GetBrandVoice)
}

// LaunchBrandVoice is StartBrandVoice followed by Wait.
func (c *Client) LaunchBrandVoice(ctx context.Context, req BrandVoiceRequest) (*BrandVoice, Preflight, error) {
	j, pf, err := c.startBrandVoice(ctx, req)
	return finishJob(ctx, j, pf, err)
}

func startJob[T JobObject, R any](ctx context.Context, c *Client, kind JobKind, op estimator.Operation, p estimator.Params, req R,
	create func(context.Context, R, track) (T, error), get func(context.Context, string) (T, error)) (*Job[T], Preflight, error) {
	// Check before waiting for a slot (fail fast) and again after (the wait may
	// have been long and the balance may have moved).
	if pf, err := c.preflight(ctx, op, p, req); err != nil {
		return nil, pf, err
	}
	release, err := c.sh.slots.acquire(ctx, kind)
	if err != nil {
		return nil, Preflight{}, fmt.Errorf("waiting for a %s slot: %w", kind, err)
	}
	pf, err := c.preflight(ctx, op, p, req)
	if err != nil {
		release()
		return nil, pf, err
	}
	obj, err := create(ctx, req, track{op: string(op), est: pf.Quote.Estimate})
	if err != nil {
		release()
		return nil, pf, c.refused(err, pf, req)
	}
	return &Job[T]{ID: obj.JobID(), Created: obj, Preflight: pf, c: c, kind: kind, get: get, release: release}, pf, nil
}

// finishJob waits for a started job, or passes the start's error on.
func finishJob[T JobObject](ctx context.Context, j *Job[T], pf Preflight, err error) (T, Preflight, error) {
	if err != nil {
		var zero T
		return zero, pf, err
	}
	obj, err := j.Wait(ctx)
	return obj, pf, err
}
