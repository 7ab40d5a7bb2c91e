package serve

import (
	"context"
	"fmt"
	"log/slog"

	"mavtop/tui"
)

// ReadOnlyError is what a read-only session's launcher returns.
type ReadOnlyError struct {
	// Fingerprint is the key that asked.
	Fingerprint string
}

func (e *ReadOnlyError) Error() string { return ReadOnlyReason }

// refusingLauncher is a read-only session's launcher: the pane never offers a
// launch there, and if anything asks anyway, this refuses.
type refusingLauncher struct {
	sess *Session
	log  *slog.Logger
	list tui.Launcher // the server's launcher, for the queue list only
}

func (l *refusingLauncher) Launch(_ context.Context, job tui.Job, _ func(string)) (tui.LaunchResult, error) {
	l.log.Warn("launch refused: read-only key", append(l.sess.logAttrs(), jobAttrs(job)...)...)
	return tui.LaunchResult{}, &ReadOnlyError{Fingerprint: l.sess.Fingerprint}
}

func (l *refusingLauncher) Queue(_ context.Context, job tui.Job, _ error) error {
	l.log.Warn("queue refused: read-only key", append(l.sess.logAttrs(), jobAttrs(job)...)...)
	return &ReadOnlyError{Fingerprint: l.sess.Fingerprint}
}

// Queued lists the queue through the server's launcher when there is one:
// looking is not launching.
func (l *refusingLauncher) Queued(ctx context.Context) ([]tui.QueuedJob, error) {
	if l.list == nil {
		return nil, nil
	}
	return l.list.Queued(ctx)
}

func (l *refusingLauncher) Cancel(_ context.Context, id string) (bool, error) {
	l.log.Warn("cancel refused: read-only key", append(l.sess.logAttrs(), "id", id)...)
	return false, &ReadOnlyError{Fingerprint: l.sess.Fingerprint}
}

// loggingLauncher logs who launched what, and how it ended.
type loggingLauncher struct {
	inner tui.Launcher
	sess  *Session
	log   *slog.Logger
}

func (l *loggingLauncher) Launch(ctx context.Context, job tui.Job, progress func(string)) (tui.LaunchResult, error) {
	attrs := append(l.sess.logAttrs(), jobAttrs(job)...)
	l.log.Info("launch", attrs...)
	res, err := l.inner.Launch(ctx, job, progress)
	if err != nil {
		l.log.Warn("launch failed", append(attrs, "job", res.JobID, "err", err.Error())...)
	} else {
		l.log.Info("launch done", append(attrs, "job", res.JobID, "actual", res.Actual)...)
	}
	return res, err
}

func (l *loggingLauncher) Queue(ctx context.Context, job tui.Job, refusal error) error {
	attrs := append(l.sess.logAttrs(), jobAttrs(job)...)
	err := l.inner.Queue(ctx, job, refusal)
	if err != nil {
		l.log.Warn("queue failed", append(attrs, "err", err.Error())...)
	} else {
		l.log.Info("queued for retry", attrs...)
	}
	return err
}

func (l *loggingLauncher) Queued(ctx context.Context) ([]tui.QueuedJob, error) {
	return l.inner.Queued(ctx)
}

func (l *loggingLauncher) Cancel(ctx context.Context, id string) (bool, error) {
	removed, err := l.inner.Cancel(ctx, id)
	attrs := append(l.sess.logAttrs(), "id", id, "removed", removed)
	if err != nil {
		l.log.Warn("cancel failed", append(attrs, "err", err.Error())...)
	} else {
		l.log.Info("queued job cancelled", attrs...)
	}
	return removed, err
}

func jobAttrs(job tui.Job) []any {
	return []any{"workspace", job.Workspace, "operation", string(job.Op),
		"estimate", job.Quote.Estimate, "required", job.Quote.Required, "params", fmt.Sprintf("%+v", job.Params)}
}
