package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"mavtop/client"
	"mavtop/feed"
	"mavtop/model"
)

// newBudgetPullCmd copies the workspace budgets the API knows (GET /workspaces:
// budget_alert, usage_limit) into the settings hash, so gauges, alerts and the
// 402 attribution use the limits the dashboard enforces.
func newBudgetPullCmd() *cobra.Command {
	var rf redisFlags
	var apiBase string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Copy every workspace's budget alert and usage limit from the API (GET /workspaces) into the settings",
		Long: `Reads GET /workspaces with $MAVERA_API_KEY and sets each workspace's budget alert
and usage limit in the Redis settings hash (allocation, thresholds and auto-recharge,
which the API does not state per workspace, are kept). Every running mavtop shows
the change at once. Workspaces are keyed by their API id, the workspace_id your
applications send and should write in the stream.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key := os.Getenv("MAVERA_API_KEY")
			if key == "" {
				return exitf(2, "MAVERA_API_KEY is not set: create a key in Settings > Developer > API Keys")
			}
			c, err := client.New(client.WithBaseURL(apiBase), client.WithAPIKey(key))
			if err != nil {
				return exitf(2, "%v", err)
			}
			budgets, err := c.WorkspaceBudgets(cmd.Context())
			if err != nil {
				return exitf(1, "read workspaces: %s", client.UserMessage(err).Message)
			}
			var store *feed.SettingsStore
			if !dryRun {
				rdb, err := budgetConnect(cmd.Context(), &rf)
				if err != nil {
					return err
				}
				defer rdb.Close()
				store = feed.NewSettingsStore(rdb, feed.StoreOptions{Prefix: rf.prefix})
			}
			out := cmd.OutOrStdout()
			skipped := 0
			for _, b := range budgets {
				if !model.IsID(b.ID) {
					fmt.Fprintf(out, "skipped %q (%s): not a workspace id mavtop can store\n", b.ID, b.Name)
					skipped++
					continue
				}
				line := fmt.Sprintf("%s (%s): budget alert %s, usage limit %s", b.ID, b.Name, orNone(b.BudgetAlert), orNone(b.UsageLimit))
				if dryRun {
					fmt.Fprintln(out, "would set "+line)
					continue
				}
				if _, err := store.UpdateWorkspace(cmd.Context(), b.ID, func(s *model.Settings) error {
					*s = b.Apply(*s)
					return nil
				}); err != nil {
					return storeError(fmt.Errorf("%s: %w", b.ID, err))
				}
				fmt.Fprintln(out, "set "+line)
			}
			fmt.Fprintf(out, "%s from the API, %d skipped\n", model.CountOf(len(budgets), "workspace"), skipped)
			return nil
		},
	}
	rf.addFlags(cmd)
	cmd.Flags().StringVar(&apiBase, "api-base", client.DefaultBaseURL, "Mavera API base `URL`")
	nonEmpty(cmd.Flags(), "api-base")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be set, write nothing")
	return cmd
}
