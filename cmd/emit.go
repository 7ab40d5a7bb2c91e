package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/model"
)

func newEmitCmd() *cobra.Command {
	var rf redisFlags
	var e model.Event
	var kind, ts string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "emit --ws W --endpoint E --credits N [flags]",
		Short: "Publish one usage event to the stream (for scripts and cron jobs)",
		Long: `Publish one usage event: the period counters and the stream entry, written in
one MULTI/EXEC exactly as the Go client does. Bad input exits 2 and writes nothing.

  mavtop emit --ws acme --project research --endpoint /focus-groups --credits 120
  mavtop emit --ws acme --endpoint /mave/chat --credits 0 --status 402 --code credits_exhausted --msg "out of credits"
  mavtop emit --ws acme --kind recharge --credits 500`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch kind {
			case "usage":
				e.Kind = model.KindUsage
			case "recharge":
				e.Kind = model.KindRecharge
			default:
				return exitf(2, "--kind %q: want usage or recharge (settings change with `mavtop budget set`)", kind)
			}
			if !cmd.Flags().Changed("credits") {
				return exitf(2, "--credits is required (0 for a free or refused call)")
			}
			if e.Kind == model.KindRecharge && !cmd.Flags().Changed("status") {
				e.Status = 0
			}
			if ts != "" {
				ms, err := parseTS(ts)
				if err != nil {
					return exitf(2, "--ts: %v", err)
				}
				e.TS = ms
			} else {
				e.TS = time.Now().UnixMilli()
			}
			for _, f := range []struct{ flag, val string }{
				{"ws", e.Workspace}, {"project", e.Project}, {"endpoint", e.Endpoint},
				{"code", e.Code}, {"msg", e.Msg}, {"req", e.Req}, {"op", e.Op},
			} {
				if !model.IsClean(f.val) {
					return exitf(2, "--%s %q holds control, escape or invisible format characters (or is not UTF-8); nothing written", f.flag, f.val)
				}
			}
			if err := e.Normalize(); err != nil {
				return exitf(2, "invalid event, nothing written: %v", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), rf.timeout+15*time.Second)
			defer cancel()
			c, err := rf.connect(ctx)
			if errors.Is(err, errNoRedis) {
				return exitf(2, "%v", err)
			}
			if err != nil {
				return exitf(1, "%v", err)
			}
			defer c.Close()
			pub := feed.NewPublisher(c, feed.PublisherOptions{Prefix: rf.prefix, Lanes: 1})
			written, err := pub.Record(ctx, e)
			if err != nil {
				return exitf(1, "%v", err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				return enc.Encode(map[string]any{"id": written.ID, "ts": written.TS, "fields": written.FieldMap()})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "recorded %s: %s %d credits for %s (%s)\n",
				written.ID, written.Kind, written.Credits, written.Workspace, time.UnixMilli(written.TS).UTC().Format(time.RFC3339))
			return nil
		},
	}
	rf.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&e.Workspace, "ws", "", "workspace id (required)")
	fl.StringVar(&e.Project, "project", "", "project id inside the workspace")
	fl.StringVar(&e.Endpoint, "endpoint", "", "API path called, e.g. /focus-groups (required for usage)")
	fl.Int64Var(&e.Credits, "credits", 0, "credits the call cost, or credits added for --kind recharge (required)")
	fl.IntVar(&e.Status, "status", 200, "HTTP status of the call (402 counts as a refusal)")
	fl.StringVar(&e.Code, "code", "", "API error code of a non-2xx call, e.g. credits_exhausted")
	fl.StringVar(&e.Msg, "msg", "", "API error message")
	fl.StringVar(&e.Req, "req", "", "request or job id")
	fl.StringVar(&e.Op, "op", "", "operation class for estimate calibration, e.g. focus-group")
	fl.Int64Var(&e.Est, "est", 0, "the pre-flight upper-bound estimate for --op")
	fl.StringVar(&kind, "kind", "usage", "usage or recharge")
	fl.StringVar(&ts, "ts", "", "event time: unix milliseconds or RFC 3339 (default now; decides the billing period)")
	fl.BoolVar(&asJSON, "json", false, "print the written entry as JSON")
	return cmd
}

// parseTS reads unix milliseconds or an RFC 3339 time.
func parseTS(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither unix milliseconds nor an RFC 3339 time", s)
	}
	return t.UnixMilli(), nil
}
