package client

import (
	"context"
	"encoding/json"
	"fmt"

	"mavtop/estimator"
)

// Relaunch launches a queued job again, in its own workspace and project, with the
// same pre-flight as the first time; it returns when the job has finished (for
// asynchronous jobs) so that the queue knows the outcome. It fits RetryQueue.Poll.
func (c *Client) Relaunch(ctx context.Context, job RetryJob) error {
	v := c.In(job.Workspace, job.Project)
	op := estimator.Operation(job.Op)
	decode := func(dst any) error {
		if err := json.Unmarshal(job.Payload, dst); err != nil {
			return fmt.Errorf("relaunch %s: payload: %w", job.ID, err)
		}
		return nil
	}
	var err error
	switch op {
	case estimator.Chat:
		var req ResponseRequest
		if err = decode(&req); err == nil {
			_, _, err = v.LaunchResponse(ctx, req)
		}
	case estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex:
		var req MaveChatRequest
		if err = decode(&req); err == nil {
			_, _, err = v.LaunchMave(ctx, req, op)
		}
	case estimator.FocusGroup:
		var req FocusGroupRequest
		if err = decode(&req); err == nil {
			_, _, err = v.LaunchFocusGroup(ctx, req)
		}
	case estimator.Video:
		var req VideoAnalysisRequest
		if err = decode(&req); err == nil {
			_, _, err = v.LaunchVideoAnalysis(ctx, req, job.Params.Seconds)
		}
	case estimator.Persona:
		var req PersonaRequest
		if err = decode(&req); err == nil {
			_, _, err = v.LaunchPersona(ctx, req)
		}
	case estimator.BrandVoice:
		var req BrandVoiceRequest
		if err = decode(&req); err == nil {
			_, _, err = v.LaunchBrandVoice(ctx, req)
		}
	default:
		err = fmt.Errorf("relaunch %s: operation %q cannot be relaunched", job.ID, job.Op)
	}
	return err
}
