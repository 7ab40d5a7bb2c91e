package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"mavtop/client"
	"mavtop/demo"
	"mavtop/feed"
	"mavtop/metrics"
	"mavtop/notify"
	"mavtop/tui"
)

// dashboardFlags configure the dashboard (the root command) and `serve`.
type dashboardFlags struct {
	redis     redisFlags
	source    sourceFlags
	apiBase   string
	reconcile time.Duration
	audit     time.Duration
	bell      bool
	stress    bool
	seed      uint64
	// metrics is the Prometheus address ("" for none); see cmd_serve.go.
	metrics            string
	metricsMaxProjects int
	// metricsMaxWorkspaces bounds the workspaces with series of their own.
	metricsMaxWorkspaces int
	noColor              bool
	theme                string
	log                  logFlags
	// logger records connection changes, re-reads, launches and errors
	// (--log; discards without it). Set by the command before open.
	logger *slog.Logger
	// defaultAlerts are the thresholds of workspaces without their own
	// (mavtop.toml's alerts.thresholds fills the flag).
	defaultAlerts thresholdsFlag
	// notify delivers alert transitions (--notify, --stale).
	notify notifyFlags
	// alertLog logs alert transitions (serve and watch; nil on the dashboard,
	// whose screen shows them).
	alertLog *slog.Logger
	// noAPI keeps the API link off whatever MAVERA_API_KEY says (watch
	// neither launches nor relaunches jobs).
	noAPI bool
	// fps caps redraws per second (--fps): tui.DefaultFPS on the local
	// dashboard, serve.DefaultFPS over SSH, where every redraw is bytes on a link.
	fps int
	// flags are the command's, to tell a rule given (--default-alerts,
	// --stale: flag, environment or file) from one left at its default
	flags *pflag.FlagSet
}

func (f *dashboardFlags) addFlags(cmd *cobra.Command) {
	f.redis.addFlags(cmd)
	f.source.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.apiBase, "api-base", client.DefaultBaseURL, "Mavera API base `URL` for estimator launches (with $MAVERA_API_KEY)")
	fl.DurationVar(&f.reconcile, "reconcile", 5*time.Minute, "how often to compare with the API's GET /usage (0: never)")
	f.addAuditFlag(fl)
	fl.BoolVar(&f.bell, "bell", false, "ring the terminal bell on new alerts")
	fl.BoolVar(&f.stress, "stress", false, "demo mode: simulated traffic at a high rate")
	fl.Uint64Var(&f.seed, "seed", 1, "demo mode: seed of the simulated traffic and charges")
	fl.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (a port alone binds loopback)")
	fl.IntVar(&f.metricsMaxProjects, "metrics-max-projects", metrics.DefaultMaxProjects, "projects per workspace with metric series of their own; the rest are summed as \"other\"")
	fl.IntVar(&f.metricsMaxWorkspaces, "metrics-max-workspaces", metrics.DefaultMaxWorkspaces, "workspaces with metric series of their own, the most severe level first, then the most used; every workspace is counted by level")
	fl.BoolVar(&f.noColor, "no-color", false, "draw without colour (also NO_COLOR=1)")
	fl.StringVar(&f.log.file, "log", "", "append a log of connection changes, re-reads, launches and errors to `FILE`")
	fl.StringVar(&f.log.level, "log-level", "info", "least level written to --log: debug, info, warn or error")
	fl.StringVar(&f.theme, "theme", "auto", "colours for the terminal's background: auto (ask the terminal), dark or light")
	nonEmpty(fl, "api-base", "log-level", "theme")
	f.defaultAlerts.add(fl)
	f.notify.addFlags(cmd)
	f.flags = fl
}

// source is what a dashboard reads: the hub over Redis, the API link, and
// whether it is the demo.
type source struct {
	hub    *feed.Hub
	alerts []int // thresholds of workspaces without their own
	api    *api
	demo   *demo.Demo
	// watcher runs the shared alert lifecycle (and delivers with --notify).
	watcher *notify.Watcher
	close   func()
}

// auditEvery is the subscriber's audit cadence from --audit (0: only after
// reconnects, which the subscriber says with a negative cadence).
func (f *dashboardFlags) auditEvery() time.Duration {
	if f.audit <= 0 {
		return -1
	}
	return f.audit
}

// alerts parses --default-alerts.
func (f *dashboardFlags) alerts() ([]int, error) { return f.defaultAlerts.parse() }

// open connects to the configured Redis (or starts the demo) and starts the hub.
func (f *dashboardFlags) open(ctx context.Context) (*source, error) {
	alerts, err := f.alerts()
	if err != nil {
		return nil, err
	}
	src := &source{close: func() {}, alerts: alerts}
	prefix := f.redis.prefix
	if !f.redis.configured() {
		log := f.logOrDiscard()
		d, err := demo.Start(ctx, demo.Options{Prefix: prefix, Seed: f.seed, Stress: f.stress,
			OnError: func(err error) { log.Error("demo", "err", err) }})
		if err != nil {
			return nil, fmt.Errorf("start the demo: %w", err)
		}
		src.demo, src.close = d, d.Close
		src.api = &api{client: d.Client, retries: d.Retries, balances: d.Balances, newest: newestEntry(d.Redis, feed.Keys{Prefix: prefix}), log: f.logger}
		src.hub = startHub(ctx, feed.NewSubscriber(d.Redis, feed.SubscriberOptions{Prefix: prefix, AuditEvery: f.auditEvery()}), alerts, f.logger)
		if src.watcher, err = f.notify.startAlerts(ctx, d.Redis, prefix, src.hub, f.alertLog); err != nil {
			d.Close()
			return nil, err
		}
		src.api.run(ctx, src.hub, 30*time.Second)
		return src, nil
	}
	// No go-redis retries: the subscriber has its own backoff and reports every
	// failed attempt on screen at once; the publisher retries on its own too.
	rdb, err := feed.NewClient(feed.ConnectOptions{URL: f.redis.redisURL(), SentinelMaster: f.redis.sentinelMaster,
		DialTimeout: min(f.redis.timeout, 2*time.Second), MaxRetries: -1})
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	src.close = func() { _ = rdb.Close() }
	rules, pinned, err := f.agreeRules(ctx, rdb, alerts)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	if rules.Source != "" {
		// the source every instance judges by (auto resolved)
		f.source.kind = string(rules.Source)
	}
	if rules.CounterPattern != "" {
		f.source.pattern = rules.CounterPattern
	}
	usage, err := f.source.source(rdb, prefix, f.auditEvery())
	if err != nil {
		_ = rdb.Close()
		return nil, exitf(2, "%v", err)
	}
	alerts, src.alerts, f.notify.stale, f.notify.rules, f.notify.pinned = rules.DefaultAlerts, rules.DefaultAlerts, rules.Stale, rules, pinned
	src.hub = startHub(ctx, usage, alerts, f.logger)
	if src.watcher, err = f.notify.startAlerts(ctx, rdb, prefix, src.hub, f.alertLog); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	if key := os.Getenv("MAVERA_API_KEY"); key != "" && !f.noAPI {
		pub := feed.NewPublisher(rdb, feed.PublisherOptions{Prefix: prefix})
		bal := feed.NewBalances(rdb, feed.StoreOptions{Prefix: prefix})
		c, err := client.New(client.WithBaseURL(f.apiBase), client.WithAPIKey(key),
			client.WithTracker(pub, client.DefaultWorkspace, ""), client.WithBalances(judgedBalances{bal, src.hub}))
		if err != nil {
			return nil, exitf(2, "%v", err)
		}
		var qopts []client.QueueOption
		if prefix != "" {
			qopts = append(qopts, client.WithQueuePrefix(prefix))
		}
		src.api = &api{client: c, retries: client.NewRetryQueue(rdb, qopts...), balances: bal, newest: newestEntry(rdb, feed.Keys{Prefix: prefix}), log: f.logger}
		src.api.run(ctx, src.hub, f.reconcile)
	}
	return src, nil
}

// logOrDiscard is the logger, one that discards when none was set.
func (f *dashboardFlags) logOrDiscard() *slog.Logger {
	if f.logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return f.logger
}

// logged returns the launcher (nil without an API client) with its launches,
// refusals, queued and cancelled jobs recorded to log (the hub's connection
// changes, re-reads and skipped entries are recorded from its start: open).
func (s *source) logged(log *slog.Logger) tui.Launcher {
	launcher := s.api.launcher()
	if launcher != nil {
		launcher = loggedLauncher{Launcher: launcher, log: log}
	}
	log.Info("dashboard started", "demo", s.demo != nil, "launching", launcher != nil)
	return launcher
}

// readOnly says why this dashboard cannot launch jobs ("" when it can).
func (s *source) readOnly() string {
	if s.api == nil {
		return "set MAVERA_API_KEY (and --api-base for a sandbox) to launch jobs"
	}
	return ""
}

func newDashboardRunE(f *dashboardFlags) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		ctx, cancel := context.WithCancel(cmd.Context())
		defer cancel()
		log, closeLog, err := f.log.openLog()
		if err != nil {
			return err
		}
		defer closeLog()
		f.logger = log
		// the alert watcher takes its copy of the ledger and judges every
		// workspace once the first frame is drawn, not among its work
		first := make(chan struct{})
		f.notify.startHold = first
		src, _, err := f.startFeed(ctx, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer src.close()
		renderer, err := f.renderer()
		if err != nil {
			return err
		}
		launcher := src.logged(log)
		m := tui.New(tui.Options{
			Source:      src.hub.Join(),
			Launcher:    launcher,
			Log:         log,
			ReadOnly:    src.readOnly(),
			APIStatus:   src.api.status(),
			Lifecycle:   lifecycleOf(src.watcher),
			Demo:        src.demo != nil,
			DemoHint:    "Demo mode: simulated applications call a local API sandbox. To watch your own: mavtop --redis redis://host:6379/0",
			Bell:        f.bell,
			Renderer:    renderer,
			FPS:         f.fps,
			FirstGauges: func() { close(first) },
		})
		p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx), tea.WithFPS(max(f.fps, 1)))
		if _, err := p.Run(); err != nil && ctx.Err() == nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		return nil
	}
}
