package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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

// wsRow is one workspace as check and budget show report it.
type wsRow struct {
	Workspace  string  `json:"workspace"`
	Used       int64   `json:"used"`
	Allocation int64   `json:"allocation"`
	Recharged  int64   `json:"recharged"`
	UsageLimit int64   `json:"usage_limit"`
	Percent    float64 `json:"percent"`
	// LimitPercent is used as a percentage of the usage limit (0 without one).
	LimitPercent float64        `json:"limit_percent"`
	Level        string         `json:"level"`
	Remaining    *int64         `json:"remaining"`
	Refused      int64          `json:"refused_402"`
	HasSettings  bool           `json:"has_settings"`
	Settings     model.Settings `json:"settings"`
	Check        string         `json:"check,omitempty"`
	checkCode    int
}

// workspaceRows judges every workspace of the snapshot (seen in counters or
// settings), sorted by name.
func workspaceRows(s *model.Snapshot) []wsRow {
	names := map[string]bool{}
	for ws := range s.Used {
		names[ws] = true
	}
	for ws := range s.Recharged {
		names[ws] = true
	}
	for ws := range s.Settings {
		names[ws] = true
	}
	refused := map[string]int64{}
	for f, n := range s.Refused {
		if ws, _, _, ok := model.SplitRefusedField(f); ok {
			refused[ws] += n
			names[ws] = true
		}
	}
	rows := make([]wsRow, 0, len(names))
	for ws := range names {
		set, has := s.Settings[ws]
		st := model.Assess(&set, s.Used[ws], s.Recharged[ws])
		r := wsRow{
			Workspace: ws, Used: s.Used[ws], Allocation: set.Allocation, Recharged: s.Recharged[ws],
			UsageLimit: set.UsageLimit, Percent: st.Percent, Level: st.Level.String(),
			Refused: refused[ws], HasSettings: has, Settings: set,
		}
		if set.UsageLimit > 0 {
			r.LimitPercent = float64(r.Used) * 100 / float64(set.UsageLimit)
		}
		if st.RemainingKnown {
			rem := st.Remaining
			r.Remaining = &rem
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b wsRow) int { return strings.Compare(a.Workspace, b.Workspace) })
	return rows
}

// judge sets the row's check status against the --warn and --crit percents.
func (r *wsRow) judge(warn, crit float64) {
	pct := max(r.Percent, r.LimitPercent)
	switch {
	case r.Level == model.LevelExhausted.String() || pct >= crit:
		r.checkCode = checkCritical
	case pct >= warn:
		r.checkCode = checkWarning
	default:
		r.checkCode = checkOK
	}
	r.Check = strings.ToLower(checkNames[r.checkCode])
}

func newCheckCmd() *cobra.Command {
	var rf redisFlags
	var asJSON bool
	var warn, crit float64
	cmd := &cobra.Command{
		Use:   "check [WS...]",
		Short: "Check credit usage once, monitoring-plugin style (exit 0 ok, 1 warn, 2 crit, 3 unknown)",
		Long: `Read this period's counters once (never a scan of the stream: O(workspaces)) and
print per workspace the credits used, the allocation, the percent used, the level
and the number of 402 refusals. Exit 0 when every workspace is below --warn, 1
when one reaches --warn, 2 when one reaches --crit or is exhausted or over its
usage limit, 3 when Redis cannot be read. The percent is of the allocation plus
this period's recharges, or of the usage limit, whichever is higher.`,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			res, err := feed.ReadSnapshot(ctx, c, rf.keys(), now, model.MonthlyUTC)
			if err != nil {
				return exitf(checkUnknown, "MAVTOP UNKNOWN - %v", err)
			}
			for field, why := range res.BadSettings {
				fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: settings field %q skipped: %v\n", field, why)
			}
			rows := workspaceRows(res.Snap)
			if len(args) > 0 {
				rows = slices.DeleteFunc(rows, func(r wsRow) bool { return !slices.Contains(args, r.Workspace) })
			}
			code := checkOK
			for i := range rows {
				rows[i].judge(warn, crit)
				code = max(code, rows[i].checkCode)
			}
			p := res.Snap.Period
			if asJSON {
				err = json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{
					"status": strings.ToLower(checkNames[code]), "code": code,
					"period": p.Key, "period_start": p.Start, "period_end": p.End,
					"warn": warn, "crit": crit, "workspaces": rows,
				})
			} else {
				err = printCheck(cmd.OutOrStdout(), rows, code, p, now, warn, crit)
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
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	cmd.Flags().Float64Var(&warn, "warn", 75, "warning at this percent used")
	cmd.Flags().Float64Var(&crit, "crit", 90, "critical at this percent used")
	return cmd
}

// errSilent carries an exit code without a message: the output said it all.
var errSilent = errors.New("")

func printCheck(w io.Writer, rows []wsRow, code int, p model.Period, now time.Time, warn, crit float64) error {
	var worst []string
	var perf []string
	for _, r := range rows {
		if r.checkCode == code && code != checkOK {
			worst = append(worst, fmt.Sprintf("%s %.1f%% used", r.Workspace, max(r.Percent, r.LimitPercent)))
		}
		max := ""
		if r.Allocation > 0 {
			max = fmt.Sprint(r.Allocation + r.Recharged)
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
			pct = fmt.Sprintf("%.1f%%", r.Percent)
		}
		if r.UsageLimit > 0 {
			pct += fmt.Sprintf(" (limit %.0f%%)", r.LimitPercent)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t\n", r.Workspace, r.Used, alloc, pct, r.Level, r.Refused, r.Check)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "thresholds: warn %g%%, crit %g%% of the allocation (plus recharges) or of the usage limit\n", warn, crit)
	return err
}

// roundLeft prints a duration in days or hours.
func roundLeft(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%d h", int(d/time.Hour))
}
