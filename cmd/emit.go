package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
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
	var eventID string
	cmd := &cobra.Command{
		Use:   "emit --ws W --endpoint E --credits N [flags]",
		Short: "Publish one usage event to the stream (for scripts and cron jobs)",
		Long: `Publish one usage event: the period counters and the stream entry, written in
one MULTI/EXEC exactly as the Go client does. A Redis that refuses connections or
cannot be reached is retried for --retry-for (10 s), and so is a write whose reply
was lost (emit asks Redis whether it was applied, so it never writes twice).

Exit status, for scripts that retry:
  0  recorded. If Redis refused part of the write (a key holding another type,
     e.g. a string where a counter hash belongs), the event is still recorded:
     stderr names each key and what the event lacks. Do not emit it again: that
     would count it twice. Fix or delete the key instead.
  1  not recorded: nothing was written (Redis unreachable for --retry-for, or it
     refused the whole write). Safe to emit again.
  2  bad input or no Redis configured: nothing was written.
  3  unknown: the write was sent but its reply was lost and Redis could not be
     asked within --retry-for whether it was applied. Look before emitting again
     (mavtop budget show, or the stream), or it may count twice.

With --event-id ID any retry is safe: an emit whose ID was recorded within the
last hour (the acks hash {mavera}:acks:emit:ID) writes nothing and exits 0,
saying "already recorded". Two emits of one ID at the same instant are not
caught: it is for retries, one after another.

  mavtop emit --ws acme --project research --endpoint /focus-groups --credits 120
  mavtop emit --ws acme --endpoint /mave/chat --credits 0 --status 402 --code credits_exhausted --msg "out of credits"
  mavtop emit --ws acme --kind recharge --credits 500
  mavtop emit --event-id req_8f3a --ws acme --endpoint /responses --credits 3`,
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
			if eventID != "" && !model.IsID(eventID) {
				return exitf(2, "--event-id %q: want 1–%d of [A-Za-z0-9._:-]; nothing written", eventID, model.MaxIDLen)
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
			// --retry-for also bounds the write's own retries (0: none; the
			// publisher reads 0 as its default, < 0 as none).
			pubRetry := retryFor
			if pubRetry == 0 {
				pubRetry = -1
			}
			opt := feed.PublisherOptions{Prefix: rf.prefix, Lanes: 1, RetryFor: pubRetry}
			if eventID != "" {
				// Named after the event, the publisher's acks say whether an
				// earlier emit of it was recorded.
				opt.ID = "emit:" + eventID
			}
			pub := feed.NewPublisher(c, opt)
			if eventID != "" {
				done, err := pub.HasWritten(ctx)
				if err != nil {
					return exitf(emitNotRecorded, "%v; nothing written", err)
				}
				if done {
					if asJSON {
						return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"status": "already_recorded", "already_recorded": true, "event_id": eventID})
					}
					fmt.Fprintf(cmd.OutOrStdout(), "already recorded: an earlier emit with --event-id %s recorded this event; nothing written\n", eventID)
					return nil
				}
			}
			written, err := pub.Record(ctx, e)
			var warnings []string
			noEntry := false // Redis refused the XADD (else a missing id was lost with a reply)
			if err != nil {
				var we *feed.WriteError
				switch {
				case errors.As(err, &we) && we.Recorded() && we.Written == 1:
					// Redis executed the write but refused part of it: the event
					// is recorded, and a retry would count it twice.
					for _, p := range we.Partial {
						noEntry = noEntry || p.Key == feed.Keys{Prefix: rf.prefix}.Stream()
						if w := p.Error(); !slices.Contains(warnings, w) { // one per key, not per field
							warnings = append(warnings, w)
						}
					}
				case errors.As(err, &we) && we.Unknown > 0:
					if eventID != "" {
						return exitf(emitUnknown, "%v; it may or may not be recorded: emitting it again with --event-id %s is safe (it writes nothing if it was)", err, eventID)
					}
					return exitf(emitUnknown, "%v; it may or may not be recorded: look (mavtop budget show) before emitting it again, or it may count twice (--event-id makes a retry safe)", err)
				default:
					return exitf(emitNotRecorded, "%v; nothing written", err)
				}
			}
			for _, w := range warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: warning: event recorded, but %s; do not emit it again (it would count twice): fix or delete the key\n", w)
			}
			if bad := pub.PeriodUnreadable(); bad != nil {
				// recorded in the fallback's period, where every mavtop looks meanwhile
				fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: warning: period config unreadable (%v): recorded in period %s; %s\n", bad, model.PeriodFallback.AtMillis(written.TS).Key, periodFallbackWords)
			}
			if asJSON {
				out := map[string]any{"status": "recorded", "id": written.ID, "ts": written.TS, "fields": written.FieldMap()}
				if len(warnings) > 0 {
					out["warnings"] = warnings
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), recordedLine(written, noEntry))
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
	fl.StringVar(&eventID, "event-id", "", "a name for this event, e.g. the API request id: an emit whose --event-id was recorded within the last hour writes nothing and exits 0, so a retry after any exit status counts the event once")
	fl.DurationVar(&retryFor, "retry-for", defaultEmitRetry, "keep retrying a Redis that refuses or cannot be reached, and a write whose reply was lost, for this long (0: try once), then exit 1 (not recorded) or 3 (unknown)")
	return cmd
}

// emit's exit statuses (see its help): a script that retries on 1 never counts
// an event twice.
const (
	emitNotRecorded = 1 // nothing written: safe to emit again
	emitUnknown     = 3 // sent, reply lost, Redis not reachable to ask
)

// recordedLine says what emit recorded, in the words of what happened: a
// refusal is a 402 and its code, a failed call its status, a recharge the
// credits added; the stream id, or that there is no stream entry (noEntry:
// Redis refused the XADD), or that the id is not known (the write's reply was
// lost and Redis, asked, said it was applied).
func recordedLine(e model.Event, noEntry bool) string {
	id := e.ID
	switch {
	case noEntry:
		id = "without a stream entry"
	case id == "":
		id = "(stream id unknown: the reply was lost, Redis confirmed the write)"
	}
	at := time.UnixMilli(e.TS).UTC().Format(time.RFC3339)
	where := e.Endpoint
	if e.Project != "" {
		where += " (project " + e.Project + ")"
	}
	code := e.Code
	if code == "" {
		code = "no code"
	}
	switch {
	case e.Kind == model.KindRecharge:
		return fmt.Sprintf("recharge recorded %s: %d credits added to %s at %s", id, e.Credits, e.Workspace, at)
	case e.Refused():
		return fmt.Sprintf("refusal recorded %s: 402 %s for %s on %s, %d credits used, at %s", id, code, e.Workspace, where, e.Credits, at)
	case e.Status < 200 || e.Status > 299:
		return fmt.Sprintf("failed call recorded %s: %d %s for %s on %s, %d credits used, at %s", id, e.Status, code, e.Workspace, where, e.Credits, at)
	}
	return fmt.Sprintf("usage recorded %s: %d credits used by %s on %s at %s", id, e.Credits, e.Workspace, where, at)
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
// reply by which Redis says "not now" (feed.NotNow: LOADING while a restart
// reads its data, BUSY while a script runs, a failover's MASTERDOWN…), worth
// retrying like the publisher's writes; not a refusal by a Redis that answered.
func unreachable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) || feed.NotNow(err)
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
