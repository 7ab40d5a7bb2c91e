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
	// rules are the alert rules agreed with the store at the start
	// (agreeRules; zero: none agreed, the demo): the watcher compares them
	// with the store's at each cycle and adopts a change; pinned are those
	// given by a flag, which it holds to (notify.WatcherOptions.Pinned)
	rules, pinned feed.AlertRules
	// startHold holds the watcher's start until the dashboard's first frame
	// with the gauges (notify.WatcherOptions.StartHold); nil: none (watch,
	// serve).
	startHold <-chan struct{}
}

func (f *notifyFlags) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Var(&f.urls, "notify", "deliver alert transitions (firing, resolved) to this `URL`: http(s):// gets a JSON POST, slack://, discord://, teams://, smtp://, telegram://… a chat message (repeatable)")
	fl.StringVar(&f.instance, "instance", "", "name this mavtop in the alerts it delivers (payload \"instance\", chat text); default: host/command[pid], e.g. web-1/watch[4242]")
	nonEmpty(fl, "instance")
	f.role = cmd.Name()
	fl.DurationVar(&f.stale, "stale", model.DefaultStale, "alert when Redis is unreachable, or the stream read late, for this long; not given: the limit stored in Redis (mavtop budget rules), the default only when none is")
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
	if err := model.ValidateStale(f.stale); err != nil {
		return nil, exitf(2, "--stale: %v", err)
	}
	if f.lease <= 0 || f.retryMin <= 0 || f.retryMax < f.retryMin {
		return nil, exitf(2, "--notify-lease and --notify-retry-min must be positive, --notify-retry-max at least the min")
	}
	var n *notify.Notifier
	if len(sinks) > 0 {
		n = notify.New(sinks, notify.Options{Backoff: &backoff.Backoff{Min: f.retryMin, Max: f.retryMax}, Instance: f.instanceName()})
	}
	w := notify.NewWatcher(notify.WatcherOptions{Hub: hub, Store: feed.NewAlertStore(rdb, prefix), Notifier: n,
		Alert: model.AlertOptions{Stale: f.stale}, Lease: f.lease, Logger: log, Rules: f.rules, Pinned: f.pinned,
		StartHold: f.startHold})
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

// lifecyclePoll hands the pane the watcher's lifecycle at the cost of what
// changed: the watcher keeps its entries sorted and counted as records
// change and hands out an immutable snapshot of them in O(1)
// (notify.Watcher.Lifecycle); the pane walks only the rows it shows
// (tui.LifecycleRows). Nothing is copied, converted or sorted per record at
// a poll: at 100k workspaces (~44k records of this period, one changing
// nearly every second) converting and sorting them all at each change took
// the dashboard from ~30 % to over 90 % of a core (Steady harness, idle,
// 7bf91c2), and pacing the polls (e2494e0) only made the pane lag. A poll
// with nothing changed since the last returns the last lifecycle as it was
// (same Version, which the pane takes as unchanged).
type lifecyclePoll struct {
	take func(gen uint64) *notify.Lifecycle // Watcher.Lifecycle
	mu   sync.Mutex                         // serve's viewers poll from their own goroutines
	last tui.Lifecycle
}

func newLifecyclePoll(w *notify.Watcher) *lifecyclePoll {
	return &lifecyclePoll{take: w.Lifecycle}
}

func (p *lifecyclePoll) poll() tui.Lifecycle {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.take(p.last.Version)
	if l == nil {
		return p.last
	}
	p.last = tui.Lifecycle{Version: l.Gen, Scores: l.Scores, Rows: lifecycleRows{l}}
	return p.last
}

// lifecycleRows are a watcher's snapshot as the pane's rows: each entry is
// made into a row only when the pane walks to it.
type lifecycleRows struct{ l *notify.Lifecycle }

func (r lifecycleRows) Len() int                  { return r.l.Len() }
func (r lifecycleRows) Lists(key string) bool     { return r.l.Lists(key) }
func (r lifecycleRows) Firing() model.FiringCount { return r.l.Firing }
func (r lifecycleRows) Delivery() string          { return r.l.Delivery }
func (r lifecycleRows) Each(fn func(tui.LifecycleEntry) bool) {
	r.l.Each(func(e *notify.Entry) bool { return fn(lifecycleEntry(r.l, e)) })
}
func (r lifecycleRows) EachFrom(i int, fn func(tui.LifecycleEntry) bool) {
	r.l.EachFrom(i, func(e *notify.Entry) bool { return fn(lifecycleEntry(r.l, e)) })
}
func (r lifecycleRows) AtOrAfter(t time.Time) int { return r.l.AtOrAfter(t) }
func (r lifecycleRows) Position(id string) (int, time.Time, bool) {
	e, ok := r.l.Find(id)
	if !ok {
		return 0, time.Time{}, false
	}
	return r.l.Position(e), e.At(), true
}

// lifecycleEntry is a watcher's entry of lifecycle l as the pane's row; a
// resolved one says when it may fire again, by the rule of `mavtop alerts`'
// FIRES AGAIN column (model.FiresAgainAt: its alert's latest episode in l).
func lifecycleEntry(l *notify.Lifecycle, e *notify.Entry) tui.LifecycleEntry {
	row := tui.LifecycleEntry{ID: e.ID, Status: e.Status, Level: e.Level, At: e.At(), Summary: e.Summary, Delivery: e.Said}
	if e.Status == model.AlertResolved {
		row.FiresAgainAt = model.FiresAgainAt(e.ID, true, l.Latest(e), e.At()) // resolved: At is ResolvedAt
	}
	return row
}
