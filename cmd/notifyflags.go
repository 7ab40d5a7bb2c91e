package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/internal/backoff"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/tui"
)

// urlList is a repeatable flag of URLs; one value may hold several separated
// by spaces (how mavtop.toml's notify.urls and MAVTOP_NOTIFY_URLS fill it).
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, " ") }
func (l *urlList) Type() string   { return "URL" }
func (l *urlList) Set(v string) error {
	*l = append(*l, strings.Fields(v)...)
	return nil
}

// notifyFlags are the alert delivery flags the dashboard, serve and watch share.
type notifyFlags struct {
	urls  urlList
	stale time.Duration
	// lease and retryMin/retryMax are the delivery lease and the retry
	// backoff (hidden: tests compress time with them).
	lease              time.Duration
	retryMin, retryMax time.Duration
	// instance names this mavtop in the payloads it delivers; role is the
	// command ("mavtop", "serve", "watch") that names it by default.
	instance, role string
}

func (f *notifyFlags) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Var(&f.urls, "notify", "deliver alert transitions (firing, resolved) to this `URL`: http(s):// gets a JSON POST, slack://, discord://, teams://, smtp://, telegram://… a chat message (repeatable)")
	fl.StringVar(&f.instance, "instance", "", "name this mavtop in the alerts it delivers (payload \"instance\", chat text); default: host/command[pid], e.g. web-1/watch[4242]")
	nonEmpty(fl, "instance")
	f.role = cmd.Name()
	fl.DurationVar(&f.stale, "stale", model.DefaultStale, "alert when Redis is unreachable, or the stream read late, for this long")
	fl.DurationVar(&f.lease, "notify-lease", notify.DefaultLease, "how long a delivery stays with the instance that took it without news from it")
	fl.DurationVar(&f.retryMin, "notify-retry-min", notify.DefaultRetryMin, "first wait between delivery attempts (doubling, with jitter)")
	fl.DurationVar(&f.retryMax, "notify-retry-max", notify.DefaultRetryMax, "longest wait between delivery attempts")
	for _, name := range []string{"notify-lease", "notify-retry-min", "notify-retry-max"} {
		_ = fl.MarkHidden(name) // for tests that compress time
	}
}

// startAlerts runs the alert lifecycle over hub: every instance records the
// transitions it sees first in Redis; one with --notify also delivers them.
func (f *notifyFlags) startAlerts(ctx context.Context, rdb redis.UniversalClient, prefix string, hub *feed.Hub, log *slog.Logger) (*notify.Watcher, error) {
	sinks, err := notify.ParseSinks(f.urls, nil)
	if err != nil {
		return nil, exitf(2, "--notify: %v", err)
	}
	if f.stale <= 0 {
		return nil, exitf(2, "--stale must be positive, got %s", f.stale)
	}
	if f.lease <= 0 || f.retryMin <= 0 || f.retryMax < f.retryMin {
		return nil, exitf(2, "--notify-lease and --notify-retry-min must be positive, --notify-retry-max at least the min")
	}
	var n *notify.Notifier
	if len(sinks) > 0 {
		n = notify.New(sinks, notify.Options{Backoff: &backoff.Backoff{Min: f.retryMin, Max: f.retryMax}, Instance: f.instanceName()})
	}
	w := notify.NewWatcher(notify.WatcherOptions{Hub: hub, Store: feed.NewAlertStore(rdb, prefix), Notifier: n,
		Alert: model.AlertOptions{Stale: f.stale}, Lease: f.lease, Logger: log})
	go func() { _ = w.Run(ctx) }()
	return w, nil
}

// instanceName is --instance, or this host, command and process id
// ("web-1/watch[4242]"): two watchers on one host named themselves alike
// ("web-1/watch") in the payloads and logs, so a delivery could not be told
// whose it was.
func (f *notifyFlags) instanceName() string {
	if f.instance != "" {
		return f.instance
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	role := f.role
	if role == "" {
		role = "mavtop"
	}
	return fmt.Sprintf("%s/%s[%d]", host, role, os.Getpid())
}

// lifecycleOf adapts a watcher to the alerts pane (nil without one): the
// dashboard (and each SSH viewer of serve, sharing one) polls it every
// second.
func lifecycleOf(w *notify.Watcher) func() tui.Lifecycle {
	if w == nil {
		return nil
	}
	return newLifecyclePoll(w).poll
}

// LifecycleOf is the alerts pane's lifecycle poll the dashboard runs
// (lifecycleOf), for the scale harness (internal/scaleharness), which
// measures the dashboard with it.
func LifecycleOf(w *notify.Watcher) func() tui.Lifecycle { return lifecycleOf(w) }

// lifecyclePoll makes the pane's lifecycle at the cost of what changed. At
// 100k workspaces the lifecycle holds ~44k records of this period: copied,
// converted and sorted at every poll they cost the dashboard more than its
// frames. A poll with nothing rebuilt since the last returns the last
// lifecycle as it was (same Version, which the pane takes as unchanged);
// after a rebuild the rows of records that did not change (same id and
// Rev) are reused, not made again.
type lifecyclePoll struct {
	since func(gen uint64) ([]notify.Entry, []model.ForecastScore, uint64) // Watcher.EntriesSince
	mu    sync.Mutex                                                       // serve's viewers poll from their own goroutines
	// gen is the watcher's build the last lifecycle came from; rows holds
	// each id's row and the Rev it was made from.
	gen  uint64
	last tui.Lifecycle
	rows map[string]polledRow
	// converted counts the rows made (not reused), for the tests.
	converted int
	// pace paces the polls of a large lifecycle: once the last lifecycle
	// taken held pacedFrom records or more, a changed lifecycle is taken
	// only after pace times what taking the last one cost (the watcher's
	// build and sort of every record, and their rows), so taking them stays
	// under about 1/pace of a core. At 100k workspaces (~44k records, a
	// record changing every second) an unpaced poll rebuilt every second and,
	// with the collections it brings, took the dashboard from ~30 % to over
	// 90 % of a core as the records grew (Steady harness, idle, 7bf91c2);
	// the pane then lags the store by that pause, a few seconds at most. 0:
	// every poll takes a changed lifecycle.
	pace time.Duration
	next time.Time // the earliest a paced poll takes a changed lifecycle
}

// pacedFrom is the lifecycle size from which polls are paced: below it a
// build costs well under a millisecond, and every poll shows every change.
const pacedFrom = 5_000

type polledRow struct {
	rev uint64
	gen uint64 // the last build that listed it: older ones are dropped
	e   tui.LifecycleEntry
}

func newLifecyclePoll(w *notify.Watcher) *lifecyclePoll {
	return &lifecyclePoll{since: w.EntriesSince, rows: map[string]polledRow{}, pace: 10}
}

func (p *lifecyclePoll) poll() tui.Lifecycle {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	if p.pace > 0 && len(p.last.Entries) >= pacedFrom && start.Before(p.next) {
		return p.last
	}
	entries, scores, gen := p.since(p.gen)
	if gen == p.gen {
		return p.last
	}
	defer func() { p.next = start.Add(p.pace * time.Since(start)) }()
	l := tui.Lifecycle{Version: gen, Scores: scores, Entries: make([]tui.LifecycleEntry, 0, len(entries))}
	for i := range entries {
		e := &entries[i]
		r, ok := p.rows[e.Alert.ID]
		if !ok || r.rev != e.Rev || e.Rev == 0 {
			p.converted++
			r = polledRow{rev: e.Rev, e: tui.LifecycleEntry{ID: e.Alert.ID, Status: e.Status, Level: e.Alert.Level,
				At: e.At(), Summary: e.Summary, Delivery: e.DeliveryText()}}
		}
		r.gen = gen
		p.rows[e.Alert.ID] = r
		l.Entries = append(l.Entries, r.e)
	}
	if len(p.rows) > len(entries) {
		for id, r := range p.rows {
			if r.gen != gen {
				delete(p.rows, id)
			}
		}
	}
	p.gen, p.last = gen, l
	return l
}
