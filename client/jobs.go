package client

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// JobObject is an asynchronous job as the API returns it (*FocusGroup,
// *VideoAnalysis, *BrandVoice).
type JobObject interface {
	// JobID returns the job's id.
	JobID() string
	// JobStatus returns the status as sent ("pending", "generating", "completed", "failed").
	JobStatus() string
	// Credits returns the credits the job used, once known.
	Credits() int64
	// FailureMessage returns the job's error message, if any.
	FailureMessage() string
}

// jobState reads a status: done when completed (or "ready") or failed. The API's
// pages spell statuses in lower and upper case; both are accepted.
func jobState(status string) (done, failed bool) {
	switch strings.ToLower(status) {
	case "completed", "complete", "ready", "succeeded":
		return true, false
	case "failed", "error", "cancelled", "canceled":
		return true, true
	}
	return false, false
}

// JobFailedError is an asynchronous job that finished with status failed.
type JobFailedError struct {
	// Kind and ID name the job.
	Kind JobKind
	ID   string
	// Message is the job's error message, if the API gave one.
	Message string
}

// Error says which job failed and why.
func (e *JobFailedError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s %s failed", e.Kind, e.ID)
	}
	return fmt.Sprintf("%s %s failed: %s", e.Kind, e.ID, e.Message)
}

// Job is an asynchronous job this client started: Start* returns it after the
// creation was accepted, Wait polls it to the end. A started job holds one of its
// kind's concurrency slots until Wait returns (or Release is called).
type Job[T JobObject] struct {
	// ID is the job's id.
	ID string
	// Created is the object the creation returned.
	Created T
	// Preflight is the pre-flight check the launch passed.
	Preflight Preflight

	c       *Client
	kind    JobKind
	get     func(context.Context, string) (T, error)
	release func()
	once    sync.Once
}

// Kind returns the job's kind.
func (j *Job[T]) Kind() JobKind { return j.kind }

// Poll fetches the job once; done reports whether it has finished.
func (j *Job[T]) Poll(ctx context.Context) (obj T, done bool, err error) {
	obj, err = j.get(ctx, j.ID)
	if err != nil {
		return obj, false, err
	}
	done, _ = jobState(obj.JobStatus())
	return obj, done, nil
}

// Wait polls the job until it finishes and returns the final object; a failed job
// also returns a *JobFailedError. It gives the concurrency slot back when it
// returns, even when ctx ends the wait first (the job then runs on unwatched; a later
// Get still publishes its charge).
func (j *Job[T]) Wait(ctx context.Context) (T, error) {
	defer j.Release()
	return waitJob(ctx, j.c, j.kind, j.ID, j.get)
}

// Release gives the concurrency slot back without waiting.
func (j *Job[T]) Release() {
	j.once.Do(func() {
		if j.release != nil {
			j.release()
		}
	})
}

// waitJob polls get every poll interval of kind until the job finishes.
func waitJob[T JobObject](ctx context.Context, c *Client, kind JobKind, id string, get func(context.Context, string) (T, error)) (T, error) {
	interval := pollInterval(kind)
	for {
		obj, err := get(ctx, id)
		if err != nil {
			return obj, err
		}
		if done, failed := jobState(obj.JobStatus()); done {
			if failed {
				return obj, &JobFailedError{Kind: kind, ID: id, Message: obj.FailureMessage()}
			}
			return obj, nil
		}
		if err := c.sh.clock.Sleep(ctx, interval); err != nil {
			var zero T
			return zero, fmt.Errorf("waiting for %s %s: %w", kind, id, err)
		}
	}
}

// observe publishes a fetched job's outcome if it has finished and this client
// started it.
func (c *Client) observe(ctx context.Context, obj JobObject) {
	if done, failed := jobState(obj.JobStatus()); done {
		c.settle(ctx, obj.JobID(), obj.Credits(), failed, obj.FailureMessage())
	}
}

// JobUsage is the usage object of a finished asynchronous job. The API documents
// none for focus groups, video analyses or brand voices; the sandbox sends one (see
// sandbox/assumptions.go). When it is absent the charge is unknown (0) except for
// brand voices, whose price is fixed.
type JobUsage struct {
	CreditsUsed int64 `json:"credits_used"`
}
