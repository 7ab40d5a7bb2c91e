package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"mavtop/client"
	"mavtop/feed"
	"mavtop/model"
	"mavtop/tui"
)

// logFlags are --log and --log-level: a record of what happened behind the
// screen (connection changes, re-reads, launches, errors), the demo's too.
type logFlags struct {
	file  string
	level string
}

// openLog returns the logger --log asks for, and how to close its file; with
// no --log, a logger that discards everything.
func (f *logFlags) openLog() (*slog.Logger, func(), error) {
	if f.file == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil)), func() {}, nil
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(f.level))); err != nil {
		return nil, nil, exitf(2, "--log-level %q: want debug, info, warn or error", f.level)
	}
	w, err := os.OpenFile(f.file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, exitf(2, "--log: %v", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), func() { _ = w.Close() }, nil
}

// logFeed records the hub's connection changes, re-reads and skipped entries
// until ctx is done. It reads its own events-only viewer, so it costs no ledger.
func logFeed(ctx context.Context, hub *feed.Hub, log *slog.Logger) {
	v := hub.JoinEvents(feed.Helper)
	go func() {
		defer v.Close()
		last := feed.ConnState(255)
		var unreadable map[string]string // the workspaces said to be unknown
		for {
			msgs, err := v.Next(ctx)
			if err != nil {
				return
			}
			for _, m := range msgs {
				switch m := m.(type) {
				case *feed.ConnMsg:
					if m.State == last && m.Err == nil {
						continue
					}
					last = m.State
					logConn(log, m)
				case *feed.SnapshotMsg:
					logSnapshot(ctx, log, m)
					unreadable = logUnreadable(log, hub, unreadable)
				case *feed.LedgerMsg: // a used_by read after a start, among others
					unreadable = logUnreadable(log, hub, unreadable)
				case *feed.BatchMsg: // a settings value written: readable or not
					if slices.ContainsFunc(m.Events, func(e model.Event) bool { return e.Kind == model.KindSettings }) {
						unreadable = logUnreadable(log, hub, unreadable)
					}
				case *feed.HistoryMsg:
					switch {
					case m.Err != nil:
						log.Warn("history read back", "entries", m.Read, "err", m.Err)
					case m.Done:
						log.Info("history read back", "entries", m.Read, "from", m.From)
					}
				case *feed.MalformedMsg:
					log.Warn("malformed entry skipped", "id", m.ID, "err", m.Err)
				}
			}
		}
	}()
}

// logUnreadable says, once per workspace, when a counter of it becomes
// unreadable (its usage and level unknown, WARN, naming the counter field
// and why) and when it can be read again (INFO): what was said is in
// before, what is said now is returned. The reason is the feed's, built
// from sanitised, truncated text (the field and value are anyone's), and
// slog quotes it. Said at each counter read (a start, a re-read, the
// used_by read after a start), not per event: no flood.
func logUnreadable(log *slog.Logger, hub *feed.Hub, before map[string]string) map[string]string {
	var now map[string]string
	hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		if l != nil {
			now = l.UnreadableWorkspaces(nil)
		}
	})
	// a stored settings value (model.UnreadableSettings) is said as such:
	// the counters are sound, the cap they are judged against is not
	isSettings := func(why string) bool { return strings.HasPrefix(why, "settings ") }
	for _, ws := range slices.Sorted(maps.Keys(now)) {
		if prev, said := before[ws]; !said || isSettings(prev) != isSettings(now[ws]) {
			if isSettings(now[ws]) {
				log.Warn("settings unreadable: level unknown", "workspace", ws, "reason", now[ws])
			} else {
				log.Warn("counter unreadable: usage and level unknown", "workspace", ws, "reason", now[ws])
			}
		}
	}
	for _, ws := range slices.Sorted(maps.Keys(before)) {
		if now, still := now[ws]; !still || isSettings(now) != isSettings(before[ws]) {
			if isSettings(before[ws]) {
				log.Info("settings readable again", "workspace", ws)
			} else {
				log.Info("counter readable again", "workspace", ws)
			}
		}
	}
	return now
}

// logConn records a connection change: a loss with its error, else the state
// and the server that answers. A server that cannot name itself (a unix
// socket, the demo's embedded one, a cluster, before Redis 6.2) is left out
// rather than logged as server="", which reads as an address missing from
// the configuration.
func logConn(log *slog.Logger, m *feed.ConnMsg) {
	if m.Err != nil {
		log.Warn("redis", "state", m.State.String(), "attempt", m.Attempt, "retry", m.Retry, "err", m.Err)
		return
	}
	attrs := []any{"state", m.State.String()}
	if m.Server != "" {
		attrs = append(attrs, "server", m.Server)
	}
	log.Info("redis", attrs...)
}

// logSnapshot records a counter read. A re-read is said in the dashboard's
// words (feed.SnapshotMsg.Note: "Redis restarted: counters re-read, −2,927
// credits"), at WARN when it healed something the feed had missed or lost (a
// restart, a reset, a trim, a failover, a drift: what an on-call engineer
// reading journalctl must see), at INFO for a new period or period config.
func logSnapshot(ctx context.Context, log *slog.Logger, m *feed.SnapshotMsg) {
	attrs := []any{"reason", string(m.Reason), "period", m.Snap.Period.Key, "stream_id", m.Snap.StreamID}
	note := m.Note()
	if note == "" {
		log.Info("counters read", attrs...)
		return
	}
	lvl := slog.LevelWarn
	if m.Reason == feed.ReasonRollover || m.Reason == feed.ReasonPeriod {
		lvl = slog.LevelInfo
	}
	log.Log(ctx, lvl, note, append(attrs, "used_delta", m.UsedDelta, "recharged_delta", m.RechargedDelta, "workspaces_changed", m.Changed, "restarted", m.Restarted)...)
}

// loggedLauncher records every launch from the dashboard and how it ended:
// done, refused (by the client's pre-flight or the API's 402, with its code)
// or failed; queued and cancelled jobs, and the errors of both.
type loggedLauncher struct {
	tui.Launcher
	log *slog.Logger
}

func (l loggedLauncher) Launch(ctx context.Context, job tui.Job, progress func(string)) (tui.LaunchResult, error) {
	l.log.Info("launch", "workspace", job.Workspace, "operation", string(job.Op), "estimate", job.Quote.Estimate, "required", job.Quote.Required)
	res, err := l.Launcher.Launch(ctx, job, progress)
	switch {
	case err != nil && res.Refused:
		l.log.Warn("launch refused", "workspace", job.Workspace, "operation", string(job.Op), "required", job.Quote.Required,
			"by", refusedBy(err), "err", err)
	case err != nil:
		l.log.Error("launch failed", "workspace", job.Workspace, "operation", string(job.Op), "err", err)
	default:
		l.log.Info("launch done", "workspace", job.Workspace, "operation", string(job.Op), "job", res.JobID, "actual", res.Actual, "estimate", job.Quote.Estimate)
	}
	return res, err
}

// refusedBy names who refused a launch for want of credits: the API (with
// its status and code) or the client's pre-flight.
func refusedBy(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("the API: %d %s", ae.Status, ae.Code)
	}
	return "the client's pre-flight"
}

func (l loggedLauncher) Queue(ctx context.Context, job tui.Job, refusal error) error {
	err := l.Launcher.Queue(ctx, job, refusal)
	if err != nil {
		l.log.Error("queue for retry failed", "workspace", job.Workspace, "operation", string(job.Op), "err", err)
		return err
	}
	l.log.Info("queued for retry", "workspace", job.Workspace, "operation", string(job.Op), "required", job.Quote.Required)
	return nil
}

func (l loggedLauncher) Cancel(ctx context.Context, id string) (bool, error) {
	removed, err := l.Launcher.Cancel(ctx, id)
	if err != nil {
		l.log.Error("cancel queued job failed", "id", id, "err", err)
		return removed, err
	}
	l.log.Info("queued job cancelled", "id", id, "removed", removed)
	return removed, nil
}

// logRetries records what one poll of the retry queue did: every queued job
// it tried (relaunched, refused again, failed) and the poll's own error.
func logRetries(log *slog.Logger, results []client.PollResult, err error) {
	for _, r := range results {
		attrs := []any{"id", r.Job.ID, "workspace", r.Job.Workspace, "operation", r.Job.Op, "remaining", r.Remaining}
		switch r.Outcome {
		case client.PollSucceeded:
			log.Info("queued job relaunched", attrs...)
		case client.PollRefused:
			log.Warn("queued job refused again", append(attrs, "err", r.Err)...)
		default:
			log.Error("queued job failed", append(attrs, "err", r.Err)...)
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("retry queue", "err", err)
	}
}
