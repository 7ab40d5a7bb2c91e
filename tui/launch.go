package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
)

// Launcher runs jobs for the estimator pane: through the API client's pre-flight,
// with tracking, polling until the job is done. It is the dashboard's only way out
// to the API; nil means launches are not configured.
type Launcher interface {
	// Launch runs job, calling progress with short status lines while it waits.
	Launch(ctx context.Context, job Job, progress func(status string)) (LaunchResult, error)
	// Queue puts a job the API refused with 402 (refusal is Launch's error) in
	// the retry queue.
	Queue(ctx context.Context, job Job, refusal error) error
}

// LaunchResult is a finished job: what it really cost.
type LaunchResult struct {
	Actual int64
	JobID  string
}

// JobProgressMsg reports a running job's status.
type JobProgressMsg struct {
	Status string
	ch     <-chan tea.Msg
}

// LaunchResultMsg ends a launch: the result or why it did not run.
type LaunchResultMsg struct {
	Actual int64
	JobID  string
	Err    error
}

// QueuedMsg reports the outcome of queueing a refused job.
type QueuedMsg struct {
	Job Job
	Err error
}

// launchCmd runs job in the background and reports progress, then the result.
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
			ch <- LaunchResultMsg{Actual: res.Actual, JobID: res.JobID, Err: err}
		}()
		return nextJobMsg(ch)
	}
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
