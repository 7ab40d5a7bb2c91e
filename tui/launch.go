package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
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
	// Queue puts a job the API refused with 402 (refusal is Launch's error,
	// handed back untouched) in the retry queue.
	Queue(ctx context.Context, job Job, refusal error) error
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
