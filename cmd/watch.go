package cmd

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/metrics"
	"mavtop/model"
)

func newWatchCmd() *cobra.Command {
	var f dashboardFlags
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Follow the stream without a screen: evaluate alerts, deliver notifications, serve metrics",
		Long: `Follow the usage stream headless (for systemd, containers, servers without a
terminal), judge every alert the dashboard judges, and deliver each firing and
each resolution to the --notify URLs; with --metrics, serve Prometheus metrics.

Any mix of mavtop, mavtop serve and mavtop watch sharing one Redis delivers each
transition once: the lifecycle lives in Redis ({prefix}:alerts:<period>), each
transition is claimed by one instance, and a delivery whose instance died is
taken over once its lease ends. SIGTERM or SIGINT ends it cleanly. Transitions
and delivery problems are logged to stderr.`,
		Example: `  mavtop watch --redis redis://localhost:6379/0 --notify https://hooks.example.com/mavtop \
    --notify 'slack://xoxb:token@channel' --metrics 127.0.0.1:9464`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !f.redis.configured() {
				return exitf(2, "%v", errNoRedis)
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// the feed's news (Redis unreachable, counters read again) at
			// once, beside the alerts
			f.alertLog, f.logger, f.noAPI = log, log, true
			src, ml, err := f.startFeed(ctx, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer src.close()
			attrs := []any{"sinks", src.watcher.Sinks(), "default_alerts", feed.AlertRules{DefaultAlerts: src.alerts}.AlertsText(),
				"stale", f.notify.stale, "source", cmp.Or(f.notify.rules.SourceText(), f.source.kind), "audit", f.audit}
			if ml != nil {
				attrs = append(attrs, "metrics", "http://"+ml.Addr().String()+"/metrics")
			}
			log.Info("mavtop watch following the stream", attrs...)
			go sayWhatWasFound(ctx, src.hub, log, feed.RedactURL(f.redis.redisURL()), f.redis.prefix)
			go sayPeriodConfig(ctx, src.hub, log)
			if len(src.watcher.Sinks()) == 0 {
				// said once, at the start: an operator who forgot --notify
				// would otherwise take silence for "nothing fired"
				log.Warn("no --notify: alerts are only stored in Redis (mavtop alerts lists them), not delivered")
			}
			<-ctx.Done()
			log.Info("mavtop watch stopping", "firing", src.watcher.Firing())
			// Let an attempt under way finish and be recorded (it is bounded
			// by its lease): cut off, its receiver might get it twice.
			select {
			case <-src.watcher.Stopped():
			case <-time.After(time.Minute):
			}
			return nil
		},
	}
	f.redis.addFlags(cmd)
	f.source.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (a port alone binds loopback)")
	fl.IntVar(&f.metricsMaxProjects, "metrics-max-projects", metrics.DefaultMaxProjects, "projects per workspace with metric series of their own; the rest are summed as \"other\"")
	fl.IntVar(&f.metricsMaxWorkspaces, "metrics-max-workspaces", metrics.DefaultMaxWorkspaces, "workspaces with metric series of their own, the most severe level first, then the most used; every workspace is counted by level")
	f.addAuditFlag(fl)
	f.defaultAlerts.add(fl)
	f.notify.addFlags(cmd)
	f.flags = fl
	return cmd
}

// sayPeriodConfig logs a WARN when the feed judges the stored billing-period
// config unreadable (feed.StatsMsg.PeriodUnreadable: at its first read of the
// counters, or an audit that found it broken) and an INFO when it is read
// again: periods are model.PeriodFallback's meanwhile.
func sayPeriodConfig(ctx context.Context, hub *feed.Hub, log *slog.Logger) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	said := ""
	for {
		bad, read := "", false
		hub.Read(func(_ *model.Ledger, _ *feed.ConnMsg, st *feed.StatsMsg) {
			if st != nil && (st.Snapshots > 0 || st.Audits > 0) {
				bad, read = st.PeriodUnreadable, true
			}
		})
		switch {
		case !read || bad == said:
		case bad != "":
			log.Warn(model.PeriodUnreadableWords(bad), "field", feed.PeriodSettingsField)
		default:
			log.Info("period config readable again", "field", feed.PeriodSettingsField)
		}
		if read {
			said = bad
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sayWhatWasFound logs, once the feed has first read the counters, how many
// workspaces it found, and warns when it found none: under a mistyped
// --key-prefix or the wrong db, watch ran silent for ever, which read as
// "nothing fired" (/metrics says it as mavtop_workspaces 0). When one
// appears after the warning, it says so.
func sayWhatWasFound(ctx context.Context, hub *feed.Hub, log *slog.Logger, url, prefix string) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	warned := false
	for {
		n := -1
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l != nil {
				n = l.Len()
			}
		})
		switch {
		case n == 0 && !warned:
			warned = true
			log.Warn("no workspaces found: no settings and no usage this billing period under the key prefix; check --key-prefix and the db in --redis",
				"redis", url, "key_prefix", prefix)
		case n > 0:
			log.Info("workspaces found", "workspaces", n)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
