package cmd

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
)

func newAlertsCmd() *cobra.Command {
	var rf redisFlags
	var asJSON bool
	var period string
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List this billing period's alerts: firing or resolved, and how their notifications went",
		Long: `List the alert lifecycle every mavtop sharing this Redis records
({prefix}:alerts:<period>): each alert's id, status (firing, resolved), when,
what it says, and its deliveries per sink. --json prints the stored records
(level and cap_kind as words, as in the webhook payload). --period names
another billing period by the year and month it starts in (2026-11); anything
else is a usage error (exit code 2).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if period != "" {
				// a period is named by the year and month it starts in; any
				// other text would list an empty hash as "no alerts"
				if p, err := time.Parse("2006-01", period); err != nil || p.Format("2006-01") != period {
					return exitf(2, "--period %q: want the year and month a billing period starts in, like %s", period, time.Now().Format("2006-01"))
				}
			}
			rdb, err := rf.connect(ctx)
			if err != nil {
				return exitf(1, "%v", err)
			}
			defer rdb.Close()
			if period == "" {
				cfg, err := feed.NewSettingsStore(rdb, feed.StoreOptions{Prefix: rf.prefix}).Period(ctx)
				if err != nil {
					return exitf(1, "%v", err)
				}
				rule, err := cfg.Rule()
				if err != nil {
					return exitf(1, "%v", err)
				}
				period = rule.At(time.Now()).Key
			}
			recs, bad, err := feed.NewAlertStore(rdb, rf.prefix).Load(ctx, period)
			if err != nil {
				return exitf(1, "%v", err)
			}
			entries := make([]notify.Entry, 0, len(recs))
			for _, r := range recs {
				e := notify.Entry{StoredAlert: r}
				if n := len(r.Deliveries); n > 0 {
					e.Summary = r.Deliveries[n-1].Summary
				}
				entries = append(entries, e)
			}
			slices.SortFunc(entries, func(a, b notify.Entry) int {
				return cmp.Or(a.FiredAt.Compare(b.FiredAt), cmp.Compare(a.Alert.ID, b.Alert.ID))
			})
			out := cmd.OutOrStdout()
			if asJSON {
				list := make([]feed.StoredAlert, len(entries))
				for i, e := range entries {
					list[i] = e.StoredAlert
					// the one percent every surface shows (the payload's too),
					// not the stored ratio: 76.7 % is "76 %" on screen
					list[i].Alert.PercentUsed = model.ShownPercent(e.Alert.PercentUsed)
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"period": period, "alerts": list, "unreadable": bad})
			}
			if len(entries) == 0 {
				fmt.Fprintf(out, "No alerts in billing period %s.\n", period)
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "STATUS\tSINCE\tID\tSUMMARY\tDELIVERY")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Status, e.At().Local().Format("01-02 15:04:05"),
					model.Sanitize(e.Alert.ID), model.Sanitize(e.Summary), cmp.Or(e.DeliveryText(), "—"))
			}
			if bad > 0 {
				fmt.Fprintf(tw, "(%d unreadable records skipped)\n", bad)
			}
			return tw.Flush()
		},
	}
	rf.addFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stored records as JSON")
	cmd.Flags().StringVar(&period, "period", "", "billing `period` to list, like 2026-11 (default: the current one)")
	return cmd
}
