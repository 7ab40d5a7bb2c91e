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
//
// The usage source is one of the rules (hunt defect 11: one instance reading
// --source counters fired what one reading the stream resolved): --source
// auto takes the stored source, or the one this Redis has in use (stored
// then); stream or counters that disagree with it are refused, as is a
// --counter-pattern given that disagrees. It is always pinned (taken at the
// start, never adopted at run time): rules and pinned hold the source to
// build, empty when auto found none in use or Redis could not be asked (the
// watcher then compares, never stores, the one its hub ends up reading).
func (f *dashboardFlags) agreeRules(ctx context.Context, rdb redis.UniversalClient, alerts []int) (rules, pinned feed.AlertRules, err error) {
	kind, err := f.source.parse()
	if err != nil {
		return feed.AlertRules{}, feed.AlertRules{}, exitf(2, "%v", err)
	}
	rules, pinned, err = f.agreeAlertRules(ctx, rdb, alerts, kind)
	pinned.Source, pinned.CounterPattern = rules.Source, rules.CounterPattern
	return rules, pinned, err
}

func (f *dashboardFlags) agreeAlertRules(ctx context.Context, rdb redis.UniversalClient, alerts []int, kind feed.SourceKind) (rules, pinned feed.AlertRules, err error) {
	own := feed.AlertRules{DefaultAlerts: alerts, Stale: f.notify.stale}
	if kind != feed.SourceAuto {
		own.Source = kind
		own = withPattern(own, f.source.pattern)
	}
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
	var bad *feed.AlertRulesError
	if kind == feed.SourceAuto {
		// the source every instance judges by, else the one this Redis has
		held, err := feed.ReadAlertRules(rctx, rdb, k)
		switch {
		case err != nil && !errors.As(err, &bad):
			return own, pinned, nil
		case held.Source != "":
			own.Source = held.Source
		default:
			detected, inUse, err := feed.DetectSourceFound(rctx, rdb, k, f.source.pattern, time.Now())
			if err != nil {
				return own, pinned, nil
			}
			if inUse {
				// stored; a Redis with neither source in use stores none:
				// the first instance to find one does
				own.Source = detected
			}
		}
		own = withPattern(own, f.source.pattern)
	}
	held, err := feed.SeedAlertRules(rctx, rdb, k, own)
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
	if held.Source != "" && held.Source != own.Source {
		if kind != feed.SourceAuto {
			refused = append(refused, "--source "+string(own.Source))
		}
		own.Source, own.CounterPattern = held.Source, ""
		own = withPattern(own, f.source.pattern)
	}
	if held.Source == feed.SourceCounters && held.CounterPattern != "" && held.CounterPattern != own.CounterPattern {
		if givenIn(f.flags, "counter-pattern") {
			refused = append(refused, "--counter-pattern "+own.CounterPattern)
		}
		own.CounterPattern = held.CounterPattern
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

// withPattern is r with the counters' key pattern when its source is the
// Pattern 1 counters (pattern unless it holds one), none otherwise.
func withPattern(r feed.AlertRules, pattern string) feed.AlertRules {
	switch {
	case r.Source != feed.SourceCounters:
		r.CounterPattern = ""
	case r.CounterPattern == "":
		r.CounterPattern = pattern
	}
	return r
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
	var source, pattern string
	cmd := &cobra.Command{
		Use:   "rules [--default-alerts L] [--stale D] [--source stream|counters [--counter-pattern P]]",
		Short: "Show or set the alert rules every mavtop sharing the Redis judges by",
		Long: `Without flags, show the alert rules stored in Redis ({prefix}:alert_rules): the
thresholds of workspaces whose settings have none of their own, the stale limit
of the feed_stale alert, and the usage source (the stream, or the Pattern 1
counters and their key pattern: the two may hold other figures for one
workspace). Every mavtop, mavtop serve and mavtop watch sharing the
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
instance and named wherever the rules are: set it again here.

With --source stream|counters (and --counter-pattern), store the usage source.
An instance reads its source from its start: one running that reads another
holds every alert, saying so, until restarted (with --source auto it then reads
the stored one).`,
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
			if fl.Changed("source") {
				k, err := feed.ParseSourceKind(source)
				if err != nil || k == feed.SourceAuto {
					return exitf(2, "--source: want stream or counters (what auto resolves to is stored by the first instance), got %q", source)
				}
				r.Source = k
				if k == feed.SourceCounters {
					if _, err := feed.CounterPrefix(pattern); err != nil {
						return exitf(2, "--counter-pattern: %v", err)
					}
					r.CounterPattern = pattern
				}
			} else if fl.Changed("counter-pattern") {
				return exitf(2, "--counter-pattern is stored with --source counters")
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
			th, st, so := "not stored: the first instance stores its --default-alerts", "not stored: the first instance stores its --stale",
				"not stored: the first instance stores its --source (auto: the one it finds in use)"
			if held.DefaultAlerts != nil {
				th = held.AlertsText()
			}
			if held.Stale != 0 {
				st = held.Stale.String()
			}
			if held.Source != "" {
				so = held.SourceText()
			}
			fmt.Fprintf(out, "alert rules in %s:\ndefault alerts  %s\nstale           %s\nsource          %s\n", k.AlertRules(), th, st, so)
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
	cmd.Flags().StringVar(&source, "source", string(feed.SourceStream), "where every instance reads usage from: stream or counters (the Pattern 1 keys)")
	cmd.Flags().StringVar(&pattern, "counter-pattern", feed.DefaultCounterPattern, "with --source counters: the Pattern 1 keys, a literal prefix and *")
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

// sharedJudgement is sharedThresholds for check, which also reads usage
// from the source every instance judges by when --source is auto (sf's
// kind, and its pattern unless --counter-pattern was given, are set to the
// stored ones): one HMGET.
func sharedJudgement(ctx context.Context, c redis.UniversalClient, k feed.Keys, th []int, thGiven bool, stderr io.Writer, sf *sourceFlags, patternGiven bool) []int {
	if sf.kind == string(feed.SourceAuto) {
		if held, err := feed.ReadAlertRules(ctx, c, k); held.Source != "" && (err == nil || errors.As(err, new(*feed.AlertRulesError))) {
			sf.kind = string(held.Source)
			if held.CounterPattern != "" && !patternGiven {
				sf.pattern = held.CounterPattern
			}
		}
	}
	return sharedThresholds(ctx, c, k, th, thGiven, stderr)
}
