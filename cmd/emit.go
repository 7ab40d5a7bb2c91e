package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/internal/backoff"
	"mavtop/model"
)

func newEmitCmd() *cobra.Command {
	var rf redisFlags
	var e model.Event
	var kind, ts string
	var asJSON bool
	var retryFor time.Duration
	cmd := &cobra.Command{
		Use:   "emit --ws W --endpoint E --credits N [flags]",
		Short: "Publish one usage event to the stream (for scripts and cron jobs)",
		Long: `Publish one usage event: the period counters and the stream entry, written in
one MULTI/EXEC exactly as the Go client does. Bad input exits 2 and writes nothing.
A Redis that refuses or cannot be reached is retried for --retry-for (10 s), then
emit exits 1 and writes nothing.

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
				// model.Sanitize keeps an emoji's cluster whole ("👩‍💻",
				// "⚠️"), so a message as the API words it is clean
				if !model.IsClean(f.val) {
					return exitf(2, "--%s %q holds control, escape or invisible format characters (or is not UTF-8); nothing written", f.flag, f.val)
				}
			}
			if err := e.Normalize(); err != nil {
				return exitf(2, "invalid event, nothing written: %v", err)
			}
			if retryFor < 0 {
				return exitf(2, "--retry-for %v: want 0 or more", retryFor)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), retryFor+rf.timeout+15*time.Second)
			defer cancel()
			c, err := connectRetrying(ctx, &rf, retryFor, cmd.ErrOrStderr())
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
	fl.DurationVar(&retryFor, "retry-for", defaultEmitRetry, "keep retrying a Redis that refuses or cannot be reached for this long (0: try once), then exit 1")
	return cmd
}

// defaultEmitRetry is how long emit retries an unreachable Redis: a restart or
// a failover usually takes a few seconds, a cron job should not lose its event.
const defaultEmitRetry = 10 * time.Second

// connectRetrying connects like rf.connect, retrying a Redis that cannot be
// reached (refused, timed out, no route) with the shared backoff until retryFor
// has passed; it says once on stderr that it is retrying. Other errors (no
// Redis configured, a bad URL, wrong password) are returned at once. The error
// after the last attempt says how long and how often it tried.
func connectRetrying(ctx context.Context, rf *redisFlags, retryFor time.Duration, stderr io.Writer) (redis.UniversalClient, error) {
	start := time.Now()
	b := &backoff.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	for attempt := 1; ; attempt++ {
		c, err := rf.connect(ctx)
		if err == nil || !unreachable(err) {
			return c, err
		}
		wait := b.Delay(attempt)
		left := retryFor - time.Since(start)
		if left <= 0 {
			if attempt == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("%w (gave up after %d attempts in %v, --retry-for %v)", err, attempt, time.Since(start).Round(100*time.Millisecond), retryFor)
		}
		if attempt == 1 {
			fmt.Fprintf(stderr, "mavtop: %v; retrying for up to %v\n", err, retryFor)
		}
		if err := backoff.Sleep(ctx, min(wait, left)); err != nil {
			return nil, fmt.Errorf("connect to Redis: %w", err)
		}
	}
}

// unreachable reports whether err is a network failure to reach Redis, or a
// Redis still loading its data after a restart (LOADING: it answers every
// command with that until the dataset is in memory), worth retrying; not a
// refusal by a Redis that answered.
func unreachable(err error) bool {
	var ne net.Error
	var re redis.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) ||
		(errors.As(err, &re) && strings.HasPrefix(re.Error(), "LOADING "))
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
