package cmd

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
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
what it says, its deliveries per sink, and for a resolved alert when it may
fire again (FIRES AGAIN: "after 14:52:05" during the 10-minute hold-off after
its resolution, "if it holds" after it; --json's can_fire_again_at). --json prints the stored records
(level and cap_kind as words, as in the webhook payload; percent_used as
every surface shows it, with percent_shown its text, "76 %" or ">9999 %";
run_out_in_seconds, spare_seconds and down_seconds: every duration in seconds). --period names
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
			rdb, err := budgetConnect(ctx, &rf) // no Redis configured: 2, as budget's
			if err != nil {
				return err
			}
			defer rdb.Close()
			if period == "" {
				stored, err := feed.NewSettingsStore(rdb, feed.StoreOptions{Prefix: rf.prefix}).Period(ctx)
				if err != nil {
					return exitf(1, "%v", err)
				}
				period = stored.Rule.At(time.Now()).Key
				if stored.Unreadable != nil {
					// the period every mavtop judges by meanwhile (model.PeriodFallback)
					fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: period config unreadable (%v): listing period %s; %s\n",
						stored.Unreadable, period, periodFallbackWords)
				}
			}
			// the records are walked a page at a time (HSCAN) and each kept
			// as what is printed: its row's words for the table, its value
			// as stored for --json (written one record at a time), never the
			// hash, nor every record decoded at once
			var rows []alertRow
			bad, err := feed.NewAlertStore(rdb, rf.prefix).Scan(ctx, period, func(r *feed.StoredAlert, raw string) {
				rows = append(rows, newAlertRow(r, raw, asJSON))
			})
			if err != nil {
				return exitf(1, "%v", err)
			}
			slices.SortFunc(rows, func(a, b alertRow) int {
				return cmp.Or(a.firedAt.Compare(b.firedAt), cmp.Compare(a.id, b.id))
			})
			if len(rows) == 0 && bad == 0 {
				// a typo in the key prefix or the db listed "No alerts" and
				// exit 0, as if nothing had fired: with nothing at all under
				// the prefix, say where it looked and fail, as budget show does
				k := rf.keys()
				if n, err := rdb.Exists(ctx, k.Settings(), k.Stream(), k.Used(period), k.Refused(period)).Result(); err == nil && n == 0 {
					return exitf(1, "no workspaces found in %s: no settings, stream or counters of billing period %s under key prefix %s; check --key-prefix and the db in --redis",
						whereRedis(rdb), period, rf.prefix)
				}
			}
			out := cmd.OutOrStdout()
			again := fireAgainAt(rows)
			if asJSON {
				return writeAlertsJSON(out, period, rows, again, bad)
			}
			if len(rows) == 0 && bad == 0 {
				fmt.Fprintf(out, "No alerts in billing period %s.\n", period)
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "STATUS\tSINCE\tID\tSUMMARY\tDELIVERY\tFIRES AGAIN")
			now := time.Now()
			for i := range rows {
				e := &rows[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.status, e.at().Local().Format("01-02 15:04:05"),
					model.Sanitize(e.id), model.Sanitize(e.summary), cmp.Or(e.delivery, "—"), fireAgainText(again[e.id], now))
			}
			if bad > 0 {
				fmt.Fprintf(tw, "(%d unreadable records of %q skipped)\n", bad, model.Sanitize(rf.keys().Alerts(period)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			// what the dashboard's header counts: workspaces, not thresholds
			var firing model.FiringCount
			for i := range rows {
				if e := &rows[i]; e.status == model.AlertFiring {
					firing.AddAlert(e.id, e.level, e.summary)
				}
			}
			if firing.Alerts > 0 {
				_, err = fmt.Fprintf(out, "%s (%s).\n", firing, firing.AlertsFiring())
			}
			return err
		},
	}
	rf.addFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stored records as JSON")
	cmd.Flags().StringVar(&period, "period", "", "billing `period` to list, like 2026-11 (default: the current one)")
	return cmd
}

// fireAgainAt is, for each resolved alert that is its alert's latest
// episode, the earliest time its condition may fire it again as a new
// episode (model.Episodes: the rule the dashboard's alerts pane shows too).
// Firing alerts and episodes a later one followed have none. An operator
// whose alert did not fire again sees why.
func fireAgainAt(rows []alertRow) map[string]time.Time {
	var eps model.Episodes
	for i := range rows {
		eps.Add(rows[i].id)
	}
	at := map[string]time.Time{}
	for i := range rows {
		e := &rows[i]
		if t := eps.FiresAgainAt(e.id, e.status == model.AlertResolved, e.resolvedAt); !t.IsZero() {
			at[e.id] = t
		}
	}
	return at
}

// alertRow is one stored alert as `mavtop alerts` keeps it while it reads
// them all: what it sorts and counts by, and either its table row's words or
// (for --json) its record as stored, decoded again when it is written.
type alertRow struct {
	id                  string
	firedAt, resolvedAt time.Time
	status              model.AlertStatus
	workspace           string
	level               model.Level
	summary, delivery   string // the table's
	raw                 string // --json's
}

func newAlertRow(r *feed.StoredAlert, raw string, asJSON bool) alertRow {
	row := alertRow{id: r.Alert.ID, firedAt: r.FiredAt, resolvedAt: r.ResolvedAt, status: r.Status,
		workspace: r.Alert.Workspace, level: r.Alert.Level}
	if asJSON {
		row.raw = raw
		return row
	}
	e := notify.Entry{StoredAlert: r}
	if n := len(r.Deliveries); n > 0 {
		row.summary = r.Deliveries[n-1].Summary
	}
	row.delivery = e.DeliveryText()
	return row
}

// at is when the alert's newest transition was decided (notify.Entry.At).
func (e *alertRow) at() time.Time {
	if e.status == model.AlertResolved {
		return e.resolvedAt
	}
	return e.firedAt
}

// writeAlertsJSON writes what json.Encoder (indent "  ") wrote of
// {"status": "ok", "period", "alerts", "unreadable"}, byte for byte, one record at a time:
// each decoded again from its stored value, shown (newShownRecord) and
// encoded alone, so the output is never held whole (at 100k alerts the one
// Encode held the list, its JSON and its indented copy).
func writeAlertsJSON(w io.Writer, period string, rows []alertRow, again map[string]time.Time, bad int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n  \"alerts\": [")
	for i := range rows {
		r, ok := feed.DecodeAlert(rows[i].id, rows[i].raw)
		if !ok { // it decoded when read
			return fmt.Errorf("alert %s: its record no longer decodes", model.Sanitize(rows[i].id))
		}
		shown := newShownRecord(&r)
		shown.CanFireAgainAt = again[rows[i].id]
		js, err := json.MarshalIndent(shown, "    ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(js)
	}
	if len(rows) > 0 {
		bw.WriteString("\n  ")
	}
	p, err := json.Marshal(period)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "],\n  \"period\": %s,\n  \"status\": \"ok\",\n  \"unreadable\": %d\n}\n", p, bad)
	return bw.Flush()
}

// fireAgainText is the FIRES AGAIN column (model.FiresAgainText).
func fireAgainText(at, now time.Time) string { return model.FiresAgainText(at, now) }

// shownRecord is a stored alert as `mavtop alerts --json` prints it: the
// stored fields, with every alert in it — the record's and each delivery's —
// shown as the webhook payload and the screen show it (shownAlert). The
// fields named like the embedded ones are shallower, so they replace them.
type shownRecord struct {
	feed.StoredAlert
	Alert      shownAlert      `json:"alert"`
	Deliveries []shownDelivery `json:"deliveries"`
	// CanFireAgainAt is, for a resolved alert that is its alert's latest
	// episode, the earliest time it may fire again (fireAgainAt); absent
	// otherwise.
	CanFireAgainAt time.Time `json:"can_fire_again_at,omitzero"`
}

type shownDelivery struct {
	feed.Delivery
	Transition shownTransition `json:"transition"`
}

type shownTransition struct {
	model.AlertTransition
	Alert shownAlert `json:"alert"`
}

// shownAlert is an alert with its percent as every surface shows it
// (model.ShownPercent: 76.7 is 76, the payload's percent_used, so one alert
// has one figure in the record, its deliveries and the webhook) and its text
// (model.FormatPercent, what check prints: ">9999 %" for a counter near 2^63).
// Its durations are in seconds, as model.Alert writes them (and reads them
// from a record an earlier mavtop stored in nanoseconds).
type shownAlert struct {
	model.Alert
	PercentShown string
}

func newShownAlert(a model.Alert) shownAlert {
	s := shownAlert{Alert: a, PercentShown: model.FormatPercent(a.PercentUsed)}
	s.PercentUsed = model.ShownPercent(a.PercentUsed)
	return s
}

// MarshalJSON is the alert's JSON (model.Alert's, promoted to shownAlert
// otherwise) with percent_shown added.
func (s shownAlert) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(s.Alert)
	if err != nil {
		return nil, err
	}
	ps, err := json.Marshal(s.PercentShown)
	if err != nil {
		return nil, err
	}
	b = append(b[:len(b)-1], `,"percent_shown":`...) // b is an object: '}' last
	return append(append(b, ps...), '}'), nil
}

func newShownRecord(r *feed.StoredAlert) shownRecord {
	s := shownRecord{StoredAlert: *r, Alert: newShownAlert(r.Alert)}
	for _, d := range r.Deliveries {
		s.Deliveries = append(s.Deliveries, shownDelivery{Delivery: d,
			Transition: shownTransition{AlertTransition: d.Transition, Alert: newShownAlert(d.Transition.Alert)}})
	}
	return s
}
