package cmd

import (
	"context"
	"log/slog"
	"os"
	"strings"
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
	fl.StringVar(&f.instance, "instance", "", "name this mavtop in the alerts it delivers (payload \"instance\", chat text); default: host/command, e.g. web-1/watch")
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

// instanceName is --instance, or this host and command ("web-1/watch").
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
	return host + "/" + role
}

// lifecycleOf adapts a watcher to the alerts pane (nil without one).
func lifecycleOf(w *notify.Watcher) func() tui.Lifecycle {
	if w == nil {
		return nil
	}
	return func() tui.Lifecycle {
		var l tui.Lifecycle
		for _, e := range w.Entries() {
			l.Entries = append(l.Entries, tui.LifecycleEntry{ID: e.Alert.ID, Status: e.Status, Level: e.Alert.Level,
				At: e.At(), Summary: e.Summary, Delivery: e.DeliveryText()})
		}
		l.Scores = w.Scores()
		return l
	}
}
