package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/model"
)

// newBudgetCmd is the parent of the budget subcommands (set, show, period).
func newBudgetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "budget",
		Short: "Show and set workspace settings, project budgets and the billing period",
		Long: `Workspace settings (allocation, usage limit, alert thresholds, auto-recharge) and
project budgets live in the Redis settings hash. A change is also written to the
usage stream, so every running mavtop shows it at once.`,
	}
	cmd.AddCommand(newBudgetSetCmd(), newBudgetShowCmd(), newBudgetPeriodCmd(), newBudgetPullCmd(), newBudgetRulesCmd())
	return cmd
}

// budgetConnect connects for a budget subcommand: no Redis configured and
// unreachable Redis are both reported, with exit 2 and 1.
func budgetConnect(ctx context.Context, rf *redisFlags) (redis.UniversalClient, error) {
	c, err := rf.connect(ctx)
	if errors.Is(err, errNoRedis) {
		return nil, exitf(2, "%v", err)
	}
	if err != nil {
		return nil, exitf(1, "%v", err)
	}
	return c, nil
}

// whereRedis names the server and db a client reads ("127.0.0.1:6379 db 3"),
// or "this db" when the client is not a single server's.
func whereRedis(c redis.UniversalClient) string {
	if rc, ok := c.(*redis.Client); ok {
		o := rc.Options()
		return fmt.Sprintf("%s db %d", o.Addr, o.DB)
	}
	return "this db"
}

// storeError maps a settings store error to an exit code: 2 for refused input.
func storeError(err error) error {
	var inv *feed.InvalidError
	if errors.As(err, &inv) {
		return exitf(2, "%v (nothing written)", err)
	}
	return exitf(1, "%v", err)
}

func newBudgetSetCmd() *cobra.Command {
	var rf redisFlags
	var allocation, limit, budgetAlert, rechargeBelow, rechargeAmount, alert int64
	var alerts string
	var defaults thresholdsFlag
	cmd := &cobra.Command{
		Use:   "set WS | WS/PROJECT [flags]",
		Short: "Set a workspace's settings or a project's budget (only the flags given change)",
		Example: `  mavtop budget set acme --allocation 10000 --limit 12000 --alerts 50,75,90
  mavtop budget set acme --recharge-below 100 --recharge-amount 500
  mavtop budget set acme/research --limit 2000 --alert 1500`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			ws, project, isProject := strings.Cut(args[0], "/")
			changed := func(names ...string) []string {
				var out []string
				for _, n := range names {
					if fl.Changed(n) {
						out = append(out, "--"+n)
					}
				}
				return out
			}
			if isProject {
				if bad := changed("allocation", "alerts", "budget-alert", "recharge-below", "recharge-amount"); len(bad) > 0 {
					return exitf(2, "%s apply to a workspace, not to the project %s (a project has --limit and --alert)", strings.Join(bad, ", "), args[0])
				}
				if len(changed("limit", "alert")) == 0 {
					return exitf(2, "nothing to set: give --limit and/or --alert")
				}
			} else {
				if bad := changed("alert"); len(bad) > 0 {
					return exitf(2, "--alert is a project's budget alert; for a workspace use --alerts 50,75,90 (percent) or --budget-alert N (credits)")
				}
				if len(changed("allocation", "limit", "alerts", "budget-alert", "recharge-below", "recharge-amount")) == 0 {
					return exitf(2, "nothing to set: give --allocation, --limit, --alerts, --budget-alert or --recharge-below with --recharge-amount")
				}
			}
			var thresholds []int
			if fl.Changed("alerts") && alerts != "" {
				for _, part := range strings.Split(alerts, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), "%")))
					if err != nil {
						return exitf(2, "--alerts %q: want percents like 50,75,90", alerts)
					}
					thresholds = append(thresholds, n)
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), rf.timeout+10*time.Second)
			defer cancel()
			// Validate what can be validated before connecting, so bad input is
			// exit 2 even without Redis.
			if !model.IsID(ws) || (isProject && !model.IsID(project)) {
				return exitf(2, "%q: want a workspace id (1–%d of [A-Za-z0-9._:-]) or WORKSPACE/PROJECT", args[0], model.MaxIDLen)
			}
			c, err := budgetConnect(ctx, &rf)
			if err != nil {
				return err
			}
			defer c.Close()
			store := feed.NewSettingsStore(c, feed.StoreOptions{Prefix: rf.prefix})
			out := cmd.OutOrStdout()
			if isProject {
				b, err := store.UpdateProject(ctx, ws, project, func(b *model.ProjectBudget) error {
					if fl.Changed("limit") {
						b.Limit = limit
					}
					if fl.Changed("alert") {
						b.Alert = alert
					}
					return nil
				})
				if err != nil {
					return storeError(err)
				}
				fmt.Fprintf(out, "%s/%s: usage limit %s, budget alert %s\n", ws, project, orNone(b.Limit), orNone(b.Alert))
				return nil
			}
			s, err := store.UpdateWorkspace(ctx, ws, func(s *model.Settings) error {
				if fl.Changed("allocation") {
					s.Allocation = allocation
				}
				if fl.Changed("limit") {
					s.UsageLimit = limit
				}
				if fl.Changed("alerts") {
					s.Alerts = thresholds
				}
				if fl.Changed("budget-alert") {
					s.BudgetAlert = budgetAlert
				}
				if fl.Changed("recharge-below") {
					s.RechargeBelow = rechargeBelow
				}
				if fl.Changed("recharge-amount") {
					s.RechargeAmount = rechargeAmount
				}
				return nil
			})
			if err != nil {
				return storeError(err)
			}
			th, err := defaults.parse()
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %s\n", ws, describeSettings(s, th))
			return nil
		},
	}
	rf.addFlags(cmd)
	fl := cmd.Flags()
	defaults.add(fl)
	fl.Int64Var(&allocation, "allocation", 0, "workspace: monthly credit allocation (0 = none)")
	fl.Int64Var(&limit, "limit", 0, "hard usage limit in credits (0 = none)")
	fl.StringVar(&alerts, "alerts", "", "workspace: alert thresholds in percent, ascending, up to 3 (\"\" = the default 50,75,90)")
	fl.Int64Var(&budgetAlert, "budget-alert", 0, "workspace: notify at this many credits (0 = none)")
	fl.Int64Var(&rechargeBelow, "recharge-below", 0, "workspace: auto-recharge when remaining credits fall below this (0 = off)")
	fl.Int64Var(&rechargeAmount, "recharge-amount", 0, "workspace: credits each auto-recharge adds")
	fl.Int64Var(&alert, "alert", 0, "project: budget alert in credits (0 = none)")
	return cmd
}

// orNone is a budget line's figure, or the one word for none set (model.Unset).
func orNone(n int64) string {
	if n == 0 {
		return model.Unset
	}
	return strconv.FormatInt(n, 10)
}

// describeSettings says a workspace's settings in one line, with the alert
// thresholds in force (its own, else defaults).
func describeSettings(s model.Settings, defaults []int) string {
	parts := []string{"allocation " + orNone(s.Allocation), "usage limit " + orNone(s.UsageLimit)}
	th := make([]string, 0, 3)
	for _, t := range s.Thresholds(defaults) {
		th = append(th, strconv.Itoa(t)+"%")
	}
	parts = append(parts, "alerts at "+strings.Join(th, "/"))
	if s.BudgetAlert > 0 {
		parts = append(parts, fmt.Sprintf("budget alert at %d credits", s.BudgetAlert))
	}
	if s.RechargeAmount > 0 {
		parts = append(parts, fmt.Sprintf("auto-recharge %d below %d", s.RechargeAmount, s.RechargeBelow))
	} else {
		parts = append(parts, "auto-recharge off")
	}
	return strings.Join(parts, ", ")
}

func newBudgetShowCmd() *cobra.Command {
	var rf redisFlags
	var asJSON bool
	var defaults thresholdsFlag
	cmd := &cobra.Command{
		Use:   "show [WS]",
		Short: "Show settings, project budgets and this period's usage",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			th, err := defaults.parse()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), rf.timeout)
			defer cancel()
			c, err := budgetConnect(ctx, &rf)
			if err != nil {
				return err
			}
			defer c.Close()
			th = sharedThresholds(ctx, c, rf.keys(), th, given(cmd, "default-alerts"), cmd.ErrOrStderr())
			now := time.Now()
			var res *feed.SnapshotResult
			if len(args) == 1 {
				// one workspace: its fields only, whatever the number of
				// workspaces (the whole snapshot was 6 HGETALLs, 102 MB at 100k)
				res, err = feed.ReadOneWorkspace(ctx, c, rf.keys(), args[0], now, model.MonthlyUTC)
			} else {
				res, err = feed.ReadSnapshot(ctx, c, rf.keys(), now, model.MonthlyUTC)
			}
			if err != nil {
				return exitf(1, "%v", err)
			}
			for field, why := range res.BadSettings {
				if !reportsField(res, field, args) {
					continue // another workspace's: budget show WS reports on WS
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: %s\n", model.UnreadableSettings(field, why))
			}
			periodBad := res.PeriodUnreadable // said on stdout too: the periods shown are the fallback's
			l, err := judgedLedger(ctx, c, rf.keys(), res, th, now, true)
			if err != nil {
				return exitf(1, "%v", err)
			}
			rows := workspaceRows(l)
			markRefusedUnreadable(rows, res.Snap)
			if len(rows) == 0 && len(args) == 1 {
				some, err := feed.AnyWorkspace(ctx, c, rf.keys(), res.Snap.Period)
				if err != nil {
					return exitf(1, "%v", err)
				}
				if some {
					return exitf(1, "workspace %s has no settings and no usage this period", args[0])
				}
			}
			if len(rows) == 0 {
				// a typo in the key prefix or the db printed a bare header
				// and exit 0, as if every budget were unset: say where it
				// looked, as check does (its UNKNOWN), and fail
				return exitf(1, "no workspaces found in %s: this period's counters (%s) and the settings are empty under key prefix %s; check --key-prefix and the db in --redis",
					whereRedis(c), res.Snap.Period.Key, rf.prefix)
			}
			if len(args) == 1 {
				rows = slices.DeleteFunc(rows, func(r wsRow) bool { return r.Workspace != args[0] })
				if len(rows) == 0 {
					return exitf(1, "workspace %s has no settings and no usage this period", args[0])
				}
			}
			attachProjects(l, rows)
			// the last event's time as check reads it (stampLastEvents)
			// a stream that cannot be read (another type, the ACL) leaves
			// the last events unknown: said, the rest printed (exit 0)
			streamWhy := res.StreamUnreadable()
			if streamWhy == "" {
				newest, err := feed.ReadNewestIn(ctx, c, rf.keys(), res.Snap.Period, now, now, checkNewestEntries, checkNewestEntries)
				var se *feed.StreamError
				switch {
				case errors.As(err, &se):
					streamWhy = se.Why
				case err != nil:
					return exitf(1, "%v", err)
				default:
					stampLastEvents(rows, newest)
				}
			}
			if streamWhy != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: %s: each workspace's last event is unknown\n", streamWhy)
			}
			for _, r := range rows {
				// said on stderr too, as a skipped settings field is: the row
				// (and --json's "level":"unknown", "unreadable") may scroll by
				if r.Unreadable != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: %s: %s's %s unknown\n", r.Unreadable, r.Workspace, model.UnknownWords(r.unknown, r.Settings.Unreadable != ""))
				}
				if r.RefusedUnreadable != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: %s: %s's 402 count is unknown\n", r.RefusedUnreadable, r.Workspace)
				}
				for _, p := range r.Projects {
					if why := p.Budget.UsageUnreadable; why != "" && !r.unknown.Has(model.FigUsed) {
						fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: %s: %s/%s's usage and level are unknown\n", why, r.Workspace, p.Project)
					}
				}
			}
			if asJSON {
				obj := map[string]any{
					"status": "ok", "period": res.Snap.Period.Key, "period_config": res.Rule.Config(), "workspaces": rows,
				}
				if streamWhy != "" {
					obj["stream_unreadable"] = streamWhy
				}
				if periodBad != "" {
					obj["period_config_unreadable"] = periodBad
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(obj)
			}
			if periodBad != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "period config unreadable: %s; %s\n", periodBad, periodFallbackWords)
			}
			return printBudgets(cmd.OutOrStdout(), rows, res)
		},
	}
	rf.addFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	defaults.add(cmd.Flags())
	return cmd
}

// reportsField reports whether a command given the workspaces args (none:
// every workspace) reports on the skipped settings field: one of those
// workspaces' own or of a project of theirs, the billing period's (every
// workspace's), or a settings key that cannot be read at all. Another
// workspace's broken settings are not what `check WS` or `budget show WS`
// reports on (issue 16: a command reads, and says, only what it reports).
func reportsField(res *feed.SnapshotResult, field string, args []string) bool {
	if len(args) == 0 || field == feed.PeriodSettingsField {
		return true
	}
	if _, key := res.BadKeys[field]; key {
		return true
	}
	ws := field
	if w, _, ok := model.SplitProjectKey(field); ok {
		ws = w
	}
	return slices.Contains(args, ws)
}

// projectRow is one project of a workspace: its use this period, its budget
// and its level (model.Assess of the project's usage limit, by the
// workspace's thresholds; "no allocation" without a limit).
type projectRow struct {
	Project   string              `json:"project"`
	Used      int64               `json:"used"`
	Budget    model.ProjectBudget `json:"budget"`
	HasBudget bool                `json:"has_budget"`
	// Percent is used as a percentage of the usage limit (0 without one).
	Percent float64 `json:"percent"`
	Level   string  `json:"level"`
	// Refused is the project's 402s this period.
	Refused int64 `json:"refused_402"`
	// Check is the project's monitoring status, in check only.
	Check     string `json:"check,omitempty"`
	level     model.Level
	checkCode int
}

// attachProjects sets each row's Projects from the ledger's project
// summaries, sorted by name: the named projects (those with usage or a
// budget).
func attachProjects(l *model.Ledger, rows []wsRow) {
	for i := range rows {
		r := &rows[i]
		r.Projects = nil
		for _, p := range l.Projects(r.Workspace) {
			if p.Name == "" {
				continue // the workspace's calls made without a project
			}
			pr := projectOf(&p)
			if r.unknown.Has(model.FigUsed) && p.Budget.Limit > 0 {
				// its used_by may be read, the workspace's counters not: judged
				// unknown as the workspace (and its alert lines) are
				pr.Level, pr.level = model.LevelUnknown.String(), model.LevelUnknown
			}
			r.Projects = append(r.Projects, pr)
		}
		slices.SortFunc(r.Projects, func(a, b projectRow) int { return strings.Compare(a.Project, b.Project) })
	}
}

// projectOf is a project's row.
func projectOf(p *model.ProjectSummary) projectRow {
	return projectRow{Project: p.Name, Used: p.Used, Budget: p.Budget,
		HasBudget: p.HasBudget, Percent: p.Status.Percent, Level: p.Status.Level.String(),
		Refused: p.Refused.Total(), level: p.Status.Level}
}

func printBudgets(w io.Writer, rows []wsRow, res *feed.SnapshotResult) error {
	p := res.Snap.Period
	fmt.Fprintf(w, "period %s: %s – %s (%s)\n", p.Key, p.Start.Format("2006-01-02 15:04 MST"), p.End.Format("2006-01-02 15:04 MST"), describePeriod(res.Rule.Config()))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKSPACE\tUSED\tALLOCATION\tRECHARGED\tPERCENT\tLEVEL\tSETTINGS")
	for _, r := range rows {
		pct, used, recharged := "-", strconv.FormatInt(r.Used, 10), strconv.FormatInt(r.Recharged, 10)
		// what the model could not know (model.Status.Unknown) as --json's null
		if r.unknown.Has(model.FigUsed) {
			used = "unreadable"
		}
		if r.unknown.Has(model.FigRecharged) {
			recharged = "-"
		}
		if r.Cap > 0 && !r.unknown.Has(model.FigPercent) {
			pct = model.FormatPercent(r.Percent)
			switch {
			case r.CapKind == model.CapLimit.String():
				pct += " of limit"
			case r.limitSetsLevel():
				pct += " (" + model.FormatPercent(r.LimitPercent) + " of limit)"
			}
		}
		set := "no settings"
		switch {
		case r.Settings.Unreadable != "": // present, not unset: unknown
			set = "settings unreadable"
		case r.HasSettings:
			set = describeSettings(r.Settings, r.Thresholds)
		}
		alloc := orNone(r.Allocation)
		if r.Settings.Unreadable != "" {
			alloc = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Workspace, used, alloc, recharged, pct, r.Level, set)
		for _, pr := range r.Projects {
			budget := "no budget"
			switch {
			case pr.Budget.Unreadable != "":
				budget = "budget unreadable"
			case pr.HasBudget:
				budget = fmt.Sprintf("usage limit %s, budget alert %s", orNone(pr.Budget.Limit), orNone(pr.Budget.Alert))
			}
			level, pused := "", strconv.FormatInt(pr.Used, 10)
			if pr.Budget.Judged() || pr.level == model.LevelExhausted || pr.Budget.UsageUnreadable != "" {
				// or held at a limit mavtop was not told of by a budget_exceeded
				// 402, or its credits unknown (the model's unknown, --json's)
				level = pr.Level
			}
			if r.unknown.Has(model.FigUsed) || pr.Budget.UsageUnreadable != "" {
				pused = "-"
			}
			if pr.Budget.UsageUnreadable != "" {
				// a used_by field of it cannot be read (named on stderr): said
				// on its row, with a budget or without — it was left out
				budget += ", credits unreadable"
			}
			fmt.Fprintf(tw, "  /%s\t%s\t\t\t\t%s\t%s\n", pr.Project, pused, level, budget)
		}
	}
	return tw.Flush()
}

// periodFallbackWords says how periods are cut while the stored config
// cannot be read (model.PeriodFallback), on every surface that names it.
const periodFallbackWords = "periods are calendar months in UTC meanwhile, the fallback every mavtop and producer uses (fix: mavtop budget period --start-day N [--tz ZONE])"

// storedWords is a stored value as a surface may show it: sanitised, cut to
// 120 bytes, quoted.
func storedWords(raw string) string {
	return strconv.Quote(model.Truncate(model.Sanitize(raw), 120))
}

// describePeriod says where billing periods start.
func describePeriod(c model.PeriodConfig) string {
	tz := c.TZ
	if tz == "" {
		tz = "UTC"
	}
	if c.StartDay <= 1 {
		return "calendar months, " + tz
	}
	return fmt.Sprintf("starting on day %d of each month at 00:00 %s", c.StartDay, tz)
}

func newBudgetPeriodCmd() *cobra.Command {
	var rf redisFlags
	var day int
	var tz string
	cmd := &cobra.Command{
		Use:   "period [--start-day N] [--tz ZONE]",
		Short: "Show or set where billing periods start (day of month and time zone)",
		Long: `Without flags, show the billing-period config. With --start-day and/or --tz, store
it in the settings hash: every running mavtop re-reads its counters under the new
periods at once, Go producers follow within a minute, and producers in other
languages read the same settings field (see the README). Change it at the start
of a period: counters already written stay in the period hash they went to.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			ctx, cancel := context.WithTimeout(cmd.Context(), rf.timeout+10*time.Second)
			defer cancel()
			setting := fl.Changed("start-day") || fl.Changed("tz")
			var cfg model.PeriodConfig
			if setting {
				cfg = model.PeriodConfig{StartDay: day, TZ: tz}
				if _, err := cfg.Rule(); err != nil {
					return exitf(2, "%v (nothing written)", err)
				}
			}
			c, err := budgetConnect(ctx, &rf)
			if err != nil {
				return err
			}
			defer c.Close()
			store := feed.NewSettingsStore(c, feed.StoreOptions{Prefix: rf.prefix})
			if setting {
				if !fl.Changed("start-day") || !fl.Changed("tz") {
					// a config that cannot be read is no refusal: the flag
					// not given takes the fallback's (calendar months in
					// UTC), and the new config overwrites the broken one
					stored, err := store.Period(ctx)
					if err != nil {
						return exitf(1, "%v", err)
					}
					cur := stored.Config()
					if !fl.Changed("start-day") {
						cfg.StartDay = cur.StartDay
					}
					if !fl.Changed("tz") {
						cfg.TZ = cur.TZ
					}
				}
				if err := store.SetPeriod(ctx, cfg); err != nil {
					return storeError(err)
				}
			}
			stored, err := store.Period(ctx)
			if err != nil {
				return exitf(1, "%v", err)
			}
			out := cmd.OutOrStdout()
			p := stored.Rule.At(time.Now())
			if stored.Unreadable != nil {
				// what is stored (sanitised, cut) and why it cannot be
				// read; the periods below are the fallback's
				fmt.Fprintf(out, "stored %s: %s\nperiod config unreadable: %v\nbilling periods: %s (%s)\n",
					feed.PeriodSettingsField, storedWords(stored.Raw), stored.Unreadable, describePeriod(stored.Config()), periodFallbackWords)
			} else {
				fmt.Fprintf(out, "billing periods: %s\n", describePeriod(stored.Config()))
			}
			fmt.Fprintf(out, "current period %s: %s – %s\n", p.Key, p.Start.Format("2006-01-02 15:04 MST"), p.End.Format("2006-01-02 15:04 MST"))
			return nil
		},
	}
	rf.addFlags(cmd)
	cmd.Flags().IntVar(&day, "start-day", 1, "day of the month each period starts on, 1–28")
	cmd.Flags().StringVar(&tz, "tz", "", "IANA time zone the start day is counted in, e.g. Europe/Paris (default UTC)")
	return cmd
}
