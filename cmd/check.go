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

	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/model"
)

// Monitoring-plugin exit codes.
const (
	checkOK       = 0
	checkWarning  = 1
	checkCritical = 2
	checkUnknown  = 3
)

var checkNames = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// wsRow is one workspace as check and budget show report it: a model.Summary
// from a ledger seeded with the snapshot, so its level is the dashboard's.
type wsRow struct {
	Workspace  string  `json:"workspace"`
	Used       int64   `json:"used"`
	Allocation int64   `json:"allocation"`
	Recharged  int64   `json:"recharged"`
	UsageLimit int64   `json:"usage_limit"`
	Cap        int64   `json:"cap"`
	CapKind    string  `json:"cap_kind"`
	Percent    float64 `json:"percent"`
	// LimitPercent is used as a percentage of the usage limit (0 without one).
	LimitPercent float64        `json:"limit_percent"`
	Thresholds   []int          `json:"thresholds"`
	Level        string         `json:"level"`
	Remaining    *int64         `json:"remaining"`
	Refused      int64          `json:"refused_402"`
	HasSettings  bool           `json:"has_settings"`
	Settings     model.Settings `json:"settings"`
	Check        string         `json:"check,omitempty"`
	level        model.Level
	checkCode    int
}

// judgedLedger seeds a ledger with the snapshot, as the dashboard's is, under
// the default thresholds the dashboard is given.
func judgedLedger(res *feed.SnapshotResult, defaults []int, now time.Time) *model.Ledger {
	l := model.NewLedger(res.Rule, now).WithDefaultAlerts(defaults)
	l.Seed(res.Snap, now)
	return l
}

// workspaceRows lists every workspace of the ledger (seen in counters or
// settings) with its summary, sorted by name.
func workspaceRows(l *model.Ledger) []wsRow {
	rows := make([]wsRow, 0, l.Len())
	for _, name := range l.Ordered(model.ByName, 0, l.Len(), make([]string, 0, l.Len())) {
		s, ok := l.Summary(name)
		if !ok {
			continue
		}
		r := wsRow{
			Workspace: s.Name, Used: s.Used, Allocation: s.Settings.Allocation, Recharged: s.Recharged,
			UsageLimit: s.Settings.UsageLimit, Cap: s.Cap, CapKind: s.CapKind.String(), Percent: s.Percent, LimitPercent: s.LimitPercent,
			Thresholds: s.Thresholds, Level: s.Level.String(), Refused: s.Refused.Total(),
			HasSettings: s.HasSettings, Settings: s.Settings, level: s.Level,
		}
		if s.RemainingKnown {
			rem := s.Remaining
			r.Remaining = &rem
		}
		rows = append(rows, r)
	}
	return rows // by name: the ledger keeps that order
}

// checkOf maps a level to a monitoring status: WARNING from the second
// threshold (high), CRITICAL from the third (critical) or when exhausted.
func checkOf(l model.Level) int {
	switch l {
	case model.LevelExhausted, model.LevelCritical:
		return checkCritical
	case model.LevelHigh:
		return checkWarning
	}
	return checkOK
}

// judge sets the row's check status: by its level, or, when fixed is true
// (--warn/--crit given), by the percent of its effective cap against warn and
// crit (an exhausted workspace is critical either way).
func (r *wsRow) judge(fixed bool, warn, crit float64) {
	r.checkCode = checkOf(r.level)
	if fixed {
		switch {
		case r.level == model.LevelExhausted || r.Cap > 0 && r.Percent >= crit:
			r.checkCode = checkCritical
		case r.Cap > 0 && r.Percent >= warn:
			r.checkCode = checkWarning
		default:
			r.checkCode = checkOK
		}
	}
	r.Check = strings.ToLower(checkNames[r.checkCode])
}

func newCheckCmd() *cobra.Command {
	var rf redisFlags
	var sf sourceFlags
	var asJSON bool
	var warn, crit float64
	var defaults thresholdsFlag
	cmd := &cobra.Command{
		Use:   "check [WS...]",
		Short: "Check credit usage once, monitoring-plugin style (exit 0 ok, 1 warn, 2 crit, 3 unknown)",
		Long: `Read this period's counters once (never a scan of the stream: O(workspaces)) and
print per workspace the credits used, its cap, the percent used, the level and the
number of 402 refusals. The level is the dashboard's: the percent is of the
effective cap (the allocation plus this period's recharges, or the usage limit
when that is smaller), judged against the workspace's own alert thresholds, else
--default-alerts. Exit 0 (OK) below the second threshold, 1 (WARNING) from the
second (level high), 2 (CRITICAL) from the third (level critical) or when
exhausted, 3 (UNKNOWN) when Redis cannot be read. --warn and --crit, when given
(on the command line, in the environment or in mavtop.toml), replace the
thresholds with fixed percents of the effective cap.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			fixed := given(cmd, "warn") || given(cmd, "crit")
			th, err := defaults.parse()
			if err != nil {
				return &exitError{code: checkUnknown, err: err}
			}
			// One bound given alone wins over the other's default: --crit 60
			// alone means warn from 60 too, --warn 95 alone critical only when
			// exhausted, instead of a "warn > crit" refusal of a default the user
			// never wrote.
			switch {
			case given(cmd, "crit") && !given(cmd, "warn") && warn > crit:
				warn = crit
			case given(cmd, "warn") && !given(cmd, "crit") && crit < warn:
				crit = 100
			}
			if warn <= 0 || crit <= 0 || warn > crit {
				return exitf(checkUnknown, "--warn %g and --crit %g: want 0 < warn ≤ crit", warn, crit)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), rf.timeout)
			defer cancel()
			c, err := rf.connect(ctx)
			if err != nil {
				return exitf(checkUnknown, "MAVTOP UNKNOWN - %v", err)
			}
			defer c.Close()
			now := time.Now()
			// check reports workspaces only: readUsage leaves out used_by (by
			// project and endpoint), the largest hash, which a level never needs
			res, kind, err := readUsage(ctx, c, rf.keys(), &sf, now)
			if err != nil {
				return exitf(checkUnknown, "MAVTOP UNKNOWN - %v", err)
			}
			for field, why := range res.BadSettings {
				fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: settings field %q skipped: %v\n", field, why)
			}
			rows := workspaceRows(judgedLedger(res, th, now))
			if len(args) > 0 {
				rows = slices.DeleteFunc(rows, func(r wsRow) bool { return !slices.Contains(args, r.Workspace) })
			}
			code := checkOK
			for i := range rows {
				rows[i].judge(fixed, warn, crit)
				code = max(code, rows[i].checkCode)
			}
			p := res.Snap.Period
			if asJSON {
				err = json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{
					"status": strings.ToLower(checkNames[code]), "code": code,
					"period": p.Key, "period_start": p.Start, "period_end": p.End,
					"warn": warn, "crit": crit, "fixed_thresholds": fixed, "workspaces": rows,
					"source": kind, "source_note": sourceNote(kind),
				})
			} else {
				err = printCheck(cmd.OutOrStdout(), rows, code, p, now, fixed, warn, crit)
				if note := sourceNote(kind); err == nil && note != "" {
					_, err = fmt.Fprintln(cmd.OutOrStdout(), note)
				}
			}
			if err != nil {
				return exitf(checkUnknown, "write output: %v", err)
			}
			if code != checkOK {
				return &exitError{code: code, err: errSilent}
			}
			return nil
		},
	}
	rf.addFlags(cmd)
	sf.addFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	cmd.Flags().Float64Var(&warn, "warn", 75, "when given: warning at this percent of the effective cap, instead of each workspace's second threshold")
	cmd.Flags().Float64Var(&crit, "crit", 90, "when given: critical at this percent of the effective cap, instead of each workspace's third threshold")
	defaults.add(cmd.Flags())
	return cmd
}

// errSilent carries an exit code without a message: the output said it all.
var errSilent = errors.New("")

func printCheck(w io.Writer, rows []wsRow, code int, p model.Period, now time.Time, fixed bool, warn, crit float64) error {
	var worst []string
	var perf []string
	for _, r := range rows {
		if r.checkCode == code && code != checkOK {
			of := "used"
			if r.CapKind == model.CapLimit.String() {
				of = "of its usage limit"
			}
			worst = append(worst, fmt.Sprintf("%s %.1f%% %s", r.Workspace, r.Percent, of))
		}
		max := ""
		if r.Cap > 0 {
			max = fmt.Sprint(r.Cap)
		}
		perf = append(perf, fmt.Sprintf("'%s_used'=%d;;;0;%s '%s_402'=%dc", r.Workspace, r.Used, max, r.Workspace, r.Refused))
	}
	summary := fmt.Sprintf("%d workspaces, period %s, %s left", len(rows), p.Key, roundLeft(p.Left(now)))
	if len(worst) > 0 {
		summary = strings.Join(worst, ", ")
	}
	fmt.Fprintf(w, "MAVTOP %s - %s | %s\n", checkNames[code], summary, strings.Join(perf, " "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WORKSPACE\tUSED\tALLOCATION\tPERCENT\tLEVEL\t402s\tCHECK\t")
	for _, r := range rows {
		alloc, pct := "none set", "-"
		if r.Allocation > 0 {
			alloc = fmt.Sprint(r.Allocation)
			if r.Recharged > 0 {
				alloc += fmt.Sprintf("+%d", r.Recharged)
			}
		}
		if r.Cap > 0 {
			pct = fmt.Sprintf("%.1f%%", r.Percent)
		}
		if r.UsageLimit > 0 {
			pct += fmt.Sprintf(" (limit %s)", strconv.FormatInt(r.UsageLimit, 10))
			if r.CapKind == model.CapLimit.String() {
				pct += " binds"
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t\n", r.Workspace, r.Used, alloc, pct, r.Level, r.Refused, r.Check)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	rule := "levels by each workspace's alert thresholds: warning from the second (high), critical from the third or when exhausted"
	if fixed {
		rule = fmt.Sprintf("fixed thresholds: warn %g%%, crit %g%%", warn, crit)
	}
	_, err := fmt.Fprintf(w, "%s; percent of the effective cap (allocation plus recharges, or the usage limit when smaller)\n", rule)
	return err
}

// roundLeft prints a duration in days or hours.
func roundLeft(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%d h", int(d/time.Hour))
}
