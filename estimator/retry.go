package estimator

import (
	"fmt"
	"time"
)

// Waiting is a job in the retry queue, as far as deciding when it is tried again:
// the one rule the queue's poller and the estimator pane's list both follow.
type Waiting struct {
	// Required is the job's estimate plus the 20 % buffer: the credits a retry needs.
	Required int64
	// LastTriedRemaining is the workspace's remaining credits when the job was last
	// tried or refused; it is retried only once remaining rises above it.
	LastTriedRemaining int64
	// NotBefore holds the job back after a failure that was not a refusal.
	NotBefore time.Time
	// LeaseUntil is when the claim of the mavtop trying it runs out; Leased says
	// a claim was taken.
	LeaseUntil time.Time
	Leased     bool
	// Attempts counts the retries so far; LastError is the last one's message.
	Attempts  int
	LastError string
}

// RetryState is what the queue will do with a waiting job now.
type RetryState struct {
	// Due is true when the next poll tries the job.
	Due bool
	// Reason says why it waits, or that it is due, in a short line:
	// "waiting: needs 16,581, 12,002 left".
	Reason string
}

// State says whether w is tried at the workspace's remaining credits (known
// false: the workspace has no allocation or usage limit, so nothing tells when
// credits return) at now, and why not.
func (w Waiting) State(remaining int64, known bool, now time.Time) RetryState {
	switch {
	case w.Leased && now.Before(w.LeaseUntil):
		return RetryState{Reason: "running: a mavtop is trying it now"}
	case now.Before(w.NotBefore):
		why := "last try failed"
		if w.LastError != "" {
			why = "failed: " + w.LastError
		}
		return RetryState{Reason: fmt.Sprintf("%s; next try in %s", why, Humanize(w.NotBefore.Sub(now)))}
	case !known:
		return RetryState{Reason: "waiting: no allocation set, so no balance to wait for"}
	case remaining < w.Required:
		return RetryState{Reason: fmt.Sprintf("waiting: needs %s, %s left", FormatCredits(w.Required), FormatCredits(remaining))}
	case remaining <= w.LastTriedRemaining:
		return RetryState{Reason: fmt.Sprintf("waiting: refused at %s left, tried again once credits rise above it", FormatCredits(w.LastTriedRemaining))}
	}
	return RetryState{Due: true, Reason: fmt.Sprintf("due: %s left covers %s, tried at the next poll", FormatCredits(remaining), FormatCredits(w.Required))}
}
