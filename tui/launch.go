package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/estimator"
)

// Launcher runs jobs for the estimator pane: through the API client's pre-flight,
// with tracking, polling until the job is done. It is the dashboard's only way out
// to the API; nil means launches are not configured. The pane knows nothing of
// the client: a Launcher classifies its outcomes (LaunchResult).
type Launcher interface {
	// Launch runs job, calling progress with short status lines while it waits.
	// On error, the result says whether it was a refusal and what to tell the
	// user; without that, the pane shows the error's text as a failure.
	Launch(ctx context.Context, job Job, progress func(status string)) (LaunchResult, error)
	// Queue puts a job refused for want of credits in the retry queue: refusal
	// is Launch's error (the API's 402 or the client's pre-flight) or the
	// pane's own pre-flight refusal (an *estimator.InsufficientCreditsError),
	// handed back untouched.
	Queue(ctx context.Context, job Job, refusal error) error
	// Queued lists the jobs waiting in the retry queue, oldest first.
	Queued(ctx context.Context) ([]QueuedJob, error)
	// Cancel removes a queued job by id; it reports whether it was still there
	// (a retry may have taken it meanwhile).
	Cancel(ctx context.Context, id string) (bool, error)
}

// QueuedJob is a job waiting in the retry queue, as the estimator pane lists it.
type QueuedJob struct {
	// ID is the queue's id for the job.
	ID string
	// Op, Workspace and Estimate (the pre-flight upper bound, credits) say what it is.
	Op        estimator.Operation
	Workspace string
	Estimate  int64
	// EnqueuedAt is when it was queued.
	EnqueuedAt time.Time
	// Wait decides when it is tried again (estimator.Waiting.State says why it waits).
	Wait estimator.Waiting
}

// LaunchResult is a finished job, or why it did not finish, already classified
// by the launcher.
type LaunchResult struct {
	// Actual is what the job really cost; JobID its id, when it got one.
	Actual int64
	JobID  string
	// Refused is true when the job was refused for credits or a budget (the
	// API's 402, or the client's pre-flight), not failed.
	Refused bool
	// Queueable is true when the API refused it with 402, so it can wait in the
	// retry queue until credits return.
	Queueable bool
	// Message says what happened and what to do (the seed's Pattern 6), and
	// ActionURL where; empty on success.
	Message   string
	ActionURL string
}

// JobProgressMsg reports a running job's status.
type JobProgressMsg struct {
	Status string
	ch     <-chan tea.Msg
}

// LaunchResultMsg ends a launch: the result or why it did not run.
type LaunchResultMsg struct {
	LaunchResult
	// Err is the launcher's error, nil on success; the pane hands it back to
	// Queue untouched and never inspects it.
	Err error
}

// QueuedMsg reports the outcome of queueing a refused job.
type QueuedMsg struct {
	Job Job
	Err error
}

// launchCmd runs job in the background and reports progress, then the result.
// The goroutine never outlives ctx: once the session has quit nobody reads ch,
// so its last send gives up with ctx instead of blocking for ever.
func launchCmd(ctx context.Context, l Launcher, job Job) tea.Cmd {
	return func() tea.Msg {
		ch := make(chan tea.Msg, 8)
		go func() {
			defer close(ch)
			res, err := l.Launch(ctx, job, func(status string) {
				select {
				case ch <- JobProgressMsg{Status: status}:
				default: // the screen is behind; the next status will do
				}
			})
			select {
			case ch <- resultMsg(res, err):
			case <-ctx.Done():
			}
		}()
		return nextJobMsg(ch)
	}
}

// resultMsg completes an unclassified error: its text is the message.
func resultMsg(res LaunchResult, err error) LaunchResultMsg {
	if err != nil && res.Message == "" {
		res.Message = err.Error()
	}
	return LaunchResultMsg{LaunchResult: res, Err: err}
}

func waitJobCmd(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return nextJobMsg(ch) }
}

func nextJobMsg(ch <-chan tea.Msg) tea.Msg {
	msg, ok := <-ch
	if !ok {
		return nil
	}
	if p, isProgress := msg.(JobProgressMsg); isProgress {
		p.ch = ch
		return p
	}
	return msg
}

func queueCmd(ctx context.Context, l Launcher, job Job, refusal error) tea.Cmd {
	return func() tea.Msg { return QueuedMsg{Job: job, Err: l.Queue(ctx, job, refusal)} }
}

// QueueListMsg carries the retry queue as last read.
type QueueListMsg struct {
	Jobs []QueuedJob
	Err  error
}

// CancelRequested is the estimator's intent to cancel a queued job (confirmed).
type CancelRequested struct{ Job QueuedJob }

// CancelledMsg reports the outcome of cancelling a queued job; Removed is false
// when it had already left the queue.
type CancelledMsg struct {
	Job     QueuedJob
	Removed bool
	Err     error
}

func queueListCmd(ctx context.Context, l Launcher) tea.Cmd {
	return func() tea.Msg {
		jobs, err := l.Queued(ctx)
		return QueueListMsg{Jobs: jobs, Err: err}
	}
}

func cancelCmd(ctx context.Context, l Launcher, job QueuedJob) tea.Cmd {
	return func() tea.Msg {
		removed, err := l.Cancel(ctx, job.ID)
		return CancelledMsg{Job: job, Removed: removed, Err: err}
	}
}
