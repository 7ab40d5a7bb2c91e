package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"mavtop/feed"
	"mavtop/model"
)

// givenIn reports whether the flag name of fs was set by the command line,
// the environment or the configuration file (given), not left at its default.
func givenIn(fs *pflag.FlagSet, name string) bool {
	if fs == nil {
		return true // no flag set known: what it holds is taken as given
	}
	fl := fs.Lookup(name)
	return fl != nil && (fl.Changed || len(fl.Annotations[configuredAnnotation]) > 0)
}

// agreeRules makes this instance judge alerts by the rules every instance
// sharing the key prefix judges by (feed.AlertRules, {prefix}:alert_rules):
// a rule no instance stored yet is stored from this one's flags (or their
// defaults); one stored is taken when its flag was not given, and a flag
// given with another value is refused (exit 2), as is a rule stored that
// cannot be read. Two instances that judged by different thresholds or stale
// limits resolved each other's alerts (hunt defect 1). When Redis cannot be
// reached now, the instance judges by its flags and its watcher agrees them
// before it records anything (notify.WatcherOptions.Rules).
func (f *dashboardFlags) agreeRules(ctx context.Context, rdb redis.UniversalClient, alerts []int) (feed.AlertRules, error) {
	own := feed.AlertRules{DefaultAlerts: alerts, Stale: f.notify.stale}
	if f.notify.stale <= 0 {
		return own, nil // refused by startAlerts, with its own words
	}
	rctx, cancel := context.WithTimeout(ctx, min(f.redis.timeout, 2*time.Second))
	defer cancel()
	k := feed.Keys{Prefix: f.redis.prefix}
	held, err := feed.SeedAlertRules(rctx, rdb, k, own)
	var bad *feed.AlertRulesError
	switch {
	case errors.As(err, &bad):
		return own, exitf(2, "%v: set the rules every mavtop judges by with `mavtop budget rules --default-alerts 50,75,90 --stale 5m`", err)
	case err != nil:
		return own, nil
	}
	var refused []string
	if held.DefaultAlerts != nil && !slices.Equal(held.DefaultAlerts, own.DefaultAlerts) {
		if givenIn(f.flags, "default-alerts") {
			refused = append(refused, "--default-alerts "+own.AlertsText())
		}
		own.DefaultAlerts = held.DefaultAlerts
	}
	if held.Stale != 0 && held.Stale != own.Stale {
		if givenIn(f.flags, "stale") {
			refused = append(refused, "--stale "+own.Stale.String())
		}
		own.Stale = held.Stale
	}
	if len(refused) > 0 {
		return own, exitf(2, "%s disagrees with the alert rules every mavtop sharing key prefix %s judges by (%s, in %s): "+
			"two instances judging by different rules resolve each other's alerts. Drop the flag to judge by the shared rules, "+
			"or change them for every instance with `mavtop budget rules %s` (instances already running then hold their alerts until restarted)",
			strings.Join(refused, " and "), f.redis.prefixOrDefault(), held, k.AlertRules(), strings.Join(refused, " "))
	}
	return own, nil
}

// prefixOrDefault is --key-prefix, or the default it stands for.
func (f *redisFlags) prefixOrDefault() string {
	if f.prefix == "" {
		return feed.DefaultPrefix
	}
	return f.prefix
}

// newBudgetRulesCmd shows or sets the alert rules every instance judges by.
func newBudgetRulesCmd() *cobra.Command {
	var rf redisFlags
	var defaults thresholdsFlag
	var stale time.Duration
	cmd := &cobra.Command{
		Use:   "rules [--default-alerts L] [--stale D]",
		Short: "Show or set the alert rules every mavtop sharing the Redis judges by",
		Long: `Without flags, show the alert rules stored in Redis ({prefix}:alert_rules): the
thresholds of workspaces whose settings have none of their own, and the stale limit
of the feed_stale alert. Every mavtop, mavtop serve and mavtop watch sharing the
key prefix judges alerts by them, so that one alert is one condition whichever
instance judges it: the first instance stores them from its flags, one started
without the flag takes them, one given another value refuses to start.

With --default-alerts and/or --stale, store new rules. Instances already running
judge by the rules they started with: they see the change within a second, then
neither fire nor resolve any alert (they say so on stderr, in the alerts pane and
in /metrics as mavtop_alert_rules_disagree 1) until restarted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			var r feed.AlertRules
			if fl.Changed("default-alerts") {
				t, err := defaults.parse()
				if err != nil {
					return err
				}
				r.DefaultAlerts = t
			}
			if fl.Changed("stale") {
				if stale <= 0 {
					return exitf(2, "--stale must be positive, got %s", stale)
				}
				r.Stale = stale
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), rf.timeout)
			defer cancel()
			c, err := budgetConnect(ctx, &rf)
			if err != nil {
				return err
			}
			defer c.Close()
			k := rf.keys()
			if err := feed.WriteAlertRules(ctx, c, k, r); err != nil {
				return exitf(1, "%v", err)
			}
			held, err := feed.ReadAlertRules(ctx, c, k)
			if err != nil {
				return exitf(1, "%v", err)
			}
			out := cmd.OutOrStdout()
			th, st := "not stored: the first instance stores its --default-alerts", "not stored: the first instance stores its --stale"
			if held.DefaultAlerts != nil {
				th = held.AlertsText()
			}
			if held.Stale != 0 {
				st = held.Stale.String()
			}
			fmt.Fprintf(out, "alert rules in %s:\ndefault alerts  %s\nstale           %s\n", k.AlertRules(), th, st)
			if !r.IsZero() {
				fmt.Fprintln(out, "instances started before judge by their old rules: restart them (until then they neither fire nor resolve alerts)")
			}
			return nil
		},
	}
	rf.addFlags(cmd)
	defaults.add(cmd.Flags())
	cmd.Flags().DurationVar(&stale, "stale", model.DefaultStale, "the stale limit of the feed_stale alert")
	return cmd
}

// sharedThresholds is the thresholds a one-shot command (check, budget show)
// judges workspaces without their own by: --default-alerts when given (it
// records nothing), else those every instance judges alerts by
// (agreeRules), else th (the built-in ones). A store that cannot be read
// leaves th: the command's own read fails or goes on with its own words.
func sharedThresholds(ctx context.Context, c redis.UniversalClient, k feed.Keys, th []int, given bool) []int {
	if given {
		return th
	}
	held, err := feed.ReadAlertRules(ctx, c, k)
	if err != nil || held.DefaultAlerts == nil {
		return th
	}
	return held.DefaultAlerts
}
