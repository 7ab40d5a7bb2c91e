package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// given with another value is refused (exit 2). Two instances that judged by
// different thresholds or stale limits resolved each other's alerts (hunt
// defect 1). A rule stored that cannot be read is judged at its built-in
// value (feed.AlertRulesError; the watcher names it on screen, in the log
// and in /metrics): it no longer stops the start. When Redis cannot be
// reached now (or answers slower than 2 s), the instance starts by its flags
// and its watcher adopts the stored rules once Redis answers, before it
// records anything (notify.WatcherOptions.Rules). pinned holds the rules
// given explicitly (the flags given; zero fields: not given).
func (f *dashboardFlags) agreeRules(ctx context.Context, rdb redis.UniversalClient, alerts []int) (rules, pinned feed.AlertRules, err error) {
	own := feed.AlertRules{DefaultAlerts: alerts, Stale: f.notify.stale}
	if givenIn(f.flags, "default-alerts") {
		pinned.DefaultAlerts = alerts
	}
	if givenIn(f.flags, "stale") {
		pinned.Stale = f.notify.stale
	}
	if model.ValidateStale(f.notify.stale) != nil {
		return own, pinned, nil // refused by startAlerts, with its own words
	}
	rctx, cancel := context.WithTimeout(ctx, min(f.redis.timeout, 2*time.Second))
	defer cancel()
	k := feed.Keys{Prefix: f.redis.prefix}
	held, err := feed.SeedAlertRules(rctx, rdb, k, own)
	var bad *feed.AlertRulesError
	if err != nil && !errors.As(err, &bad) {
		return own, pinned, nil
	}
	var refused []string
	if held.DefaultAlerts != nil && !slices.Equal(held.DefaultAlerts, own.DefaultAlerts) {
		if pinned.DefaultAlerts != nil {
			refused = append(refused, "--default-alerts "+own.AlertsText())
		}
		own.DefaultAlerts = held.DefaultAlerts
	}
	if held.Stale != 0 && held.Stale != own.Stale {
		if pinned.Stale != 0 {
			refused = append(refused, "--stale "+own.Stale.String())
		}
		own.Stale = held.Stale
	}
	if len(refused) > 0 {
		also := ""
		if bad != nil {
			also = " (" + bad.Error() + ")"
		}
		return own, pinned, exitf(2, "%s disagrees with the alert rules every mavtop sharing key prefix %s judges by (%s, in %s)%s: "+
			"two instances judging by different rules resolve each other's alerts. Drop the flag to judge by the shared rules, "+
			"or change them for every instance with `mavtop budget rules %s` (instances already running adopt them within seconds)",
			strings.Join(refused, " and "), f.redis.prefixOrDefault(), held, k.AlertRules(), also, strings.Join(refused, " "))
	}
	return own, pinned, nil
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

With --default-alerts and/or --stale, store new rules (validated as the flags
are: three ascending percents between 1 and 99; a stale limit up to 24h).
Instances already running adopt them within a second or two and judge by them
(after holding every transition for a few seconds, so that none judges by
rules another has not read yet); one given the flag with another value holds
every alert instead, saying so on stderr, in the alerts pane and in /metrics as
mavtop_alert_rules_disagree 1, until the flag is dropped. A rule stored that
cannot be read (written by hand) is judged at its built-in value by every
instance and named wherever the rules are: set it again here.`,
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
				if err := model.ValidateStale(stale); err != nil {
					return exitf(2, "--stale: %v", err)
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
			var bad *feed.AlertRulesError
			if err != nil && !errors.As(err, &bad) {
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
			if bad != nil {
				flags := make([]string, len(bad.Fields))
				for i, f := range bad.Fields {
					flags[i] = "--" + strings.ReplaceAll(f, "_", "-")
				}
				fmt.Fprintf(out, "cannot be read: %s; set it again with %s\n", bad.Error(), strings.Join(flags, " and "))
			}
			if !r.IsZero() {
				fmt.Fprintln(out, "running instances adopt them within seconds; one given another value by its flag holds its alerts until the flag is dropped")
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
// leaves th: the command's own read fails or goes on with its own words. A
// thresholds field stored that cannot be read is named on stderr, and the
// built-in thresholds judge, as every instance judges then.
func sharedThresholds(ctx context.Context, c redis.UniversalClient, k feed.Keys, th []int, given bool, stderr io.Writer) []int {
	if given {
		return th
	}
	held, err := feed.ReadAlertRules(ctx, c, k)
	var bad *feed.AlertRulesError
	if errors.As(err, &bad) && slices.Contains(bad.Fields, feed.RuleDefaultAlerts) {
		fmt.Fprintf(stderr, "mavtop: %s\n", bad.Error())
	} else if err != nil {
		return th
	}
	if held.DefaultAlerts == nil {
		return th
	}
	return held.DefaultAlerts
}
