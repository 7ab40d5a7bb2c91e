// Package metrics exposes what mavtop follows as Prometheus metrics, after the
// seed's "Metrics to Monitor" table: credits used (total and by endpoint), 402
// refusals, estimated against actual cost, plus remaining credits, allocations
// and the feed's own health.
//
// The Collector reads the hub's ledger at scrape time (the same ledger every
// dashboard is copied from), so the numbers are the dashboard's exactly, with no
// second bookkeeping. Only the estimate calibration needs events: Run follows
// the hub as one more viewer and records each event that carries a pre-flight
// estimate.
package metrics

import (
	"context"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
)

// DefaultMaxProjects is how many projects per workspace get a series of their own.
const DefaultMaxProjects = 20

// OtherProject is the project label the projects beyond the limit are summed under.
const OtherProject = "other"

// Options configure a Collector.
type Options struct {
	// MaxProjects bounds the projects per workspace with their own series
	// (DefaultMaxProjects); the rest are summed under project="other".
	MaxProjects int
	// Sessions, when set, is reported as mavtop_ssh_sessions (mavtop serve).
	Sessions func() int
	// Alerts, when set, reports the alert lifecycle and its deliveries.
	Alerts AlertSource
}

// AlertSource is the alert lifecycle as the metrics read it (a notify.Watcher).
type AlertSource interface {
	// Firing is the number of alerts firing this period.
	Firing() int
	// Notifications counts delivery outcomes by sink and outcome.
	Notifications() map[[2]string]int64
	// Scores are the latest forecast scores, newest first.
	Scores() []model.ForecastScore
}

// Collector is a prometheus.Collector over a feed hub.
type Collector struct {
	hub *feed.Hub
	opt Options
	cal estimator.Calibration

	mu sync.Mutex
	// named keeps, per workspace, the projects that have a series of their own
	// this period. Admission is sticky (the most used first, then newcomers
	// while there is room), so a series never moves between its own name and
	// "other" and every counter only grows until the period ends.
	named  map[string]map[string]bool
	period string

	d descs
}

type descs struct {
	used, refusals, recharged                           *prometheus.Desc
	remaining, allocation, limit, exhausted, level, pct *prometheus.Desc
	projectLevel, projectPct                            *prometheus.Desc
	periodStart, periodEnd                              *prometheus.Desc
	estRatio, estJobs, estEstimated, estActual          *prometheus.Desc
	connected, lag, rate, events, reconnects, malformed *prometheus.Desc
	gaps, snapshots, viewers, sessions                  *prometheus.Desc
	alertsFiring, notifications, forecastErr            *prometheus.Desc
	resyncs, audits, restarts, ahead, lastEntry         *prometheus.Desc
	byDigest, digestAudits, digestMisses                *prometheus.Desc
	unreadable, badKey, settingsUnreadable              *prometheus.Desc
	workspaces                                          *prometheus.Desc
}

func newDescs() descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("mavtop_"+name, help, labels, nil)
	}
	return descs{
		used:               d("credits_used_total", "Credits used this billing period (the seed's credits_used_total, broken down by endpoint). Resets to 0 when a period starts; only grows within one.", "workspace", "project", "endpoint"),
		refusals:           d("refusals_total", "HTTP 402 refusals this billing period (the seed's 402_count), by API error code. Resets when a period starts.", "workspace", "code"),
		recharged:          d("credits_recharged_total", "Credits added by recharges this billing period.", "workspace"),
		remaining:          d("credits_remaining", "Credits that can still be spent before the allocation (plus recharges) or the usage limit stops the workspace.", "workspace"),
		allocation:         d("credits_allocation", "The workspace's credit allocation per billing period.", "workspace"),
		limit:              d("credits_usage_limit", "The workspace's hard usage limit in credits.", "workspace"),
		exhausted:          d("workspace_exhausted", "1 while the workspace has used up its allocation or limit, or the API refuses it with 402.", "workspace"),
		projectLevel:       d("project_level", "A project's level by its usage limit, as budget show and check judge it: 0 no limit, 1 ok, 2 warn, 3 high, 4 critical, 5 at its limit (its calls get 402 budget_exceeded). Only projects with a usage limit.", "workspace", "project"),
		projectPct:         d("project_limit_used_percent", "A project's credits used as a percentage of its usage limit (only projects with one).", "workspace", "project"),
		level:              d("workspace_level", "The workspace's level, as the gauges colour it: 0 no cap, 1 ok, 2 warn (first alert threshold), 3 high (second), 4 critical (third), 5 exhausted; NaN unknown (a counter cannot be read: see counters_unreadable).", "workspace"),
		unreadable:         d("counters_unreadable", "Workspaces whose used or recharged counter holds no integer ≥ 0 (text, empty, beyond 2^63-1, negative): their level is unknown — workspace_level NaN, no credits_used_percent or credits_remaining — until Redis holds a number again."),
		badKey:             d("feed_unreadable_key", "1 for each key mavtop reads that holds another type than a hash (a string SET over a counter hash, …): none of its fields can be read, so every workspace is judged unknown (workspace_level NaN) until it is a hash again or deleted.", "key"),
		settingsUnreadable: d("settings_unreadable", "Workspaces whose stored settings, or a project budget of theirs, are present but cannot be read (not JSON, a string, a fraction, a number out of range, a negative limit): their level, or their verdict's, is unknown — workspace_level (or project_level) NaN, no credits_used_percent — until the value is fixed. Their counters are sound: their counter series stay."),
		workspaces:         d("workspaces", "Workspaces found under the key prefix in this db: with settings, or with usage, recharges or 402s this billing period. 0 is nothing found — a mistyped --key-prefix or db, or producers writing elsewhere — never \"all fine\": every other series of a workspace is then absent, and an alert on them cannot fire. Absent until the counters were first read."),
		pct:                d("credits_used_percent", "Credits used as a percent of the effective cap (the allocation plus recharges, or the usage limit when smaller); absent without a cap.", "workspace", "cap"),
		periodStart:        d("billing_period_start_timestamp_seconds", "Start of the billing period the counters belong to."),
		periodEnd:          d("billing_period_end_timestamp_seconds", "End of the billing period the counters belong to."),
		estRatio:           d("estimate_ratio", "Mean of actual/estimated credits of jobs with a pre-flight estimate, since mavtop started (the seed's estimated_vs_actual; above 1: estimates run low).", "operation"),
		estJobs:            d("estimate_jobs_total", "Successful calls with a pre-flight estimate seen since mavtop started.", "operation"),
		estEstimated:       d("estimate_estimated_credits_total", "Credits estimated before those calls.", "operation"),
		estActual:          d("estimate_actual_credits_total", "Credits those calls actually used.", "operation"),
		connected:          d("feed_connected", "1 while the feed's connection to Redis works."),
		lag:                d("feed_lag_seconds", "How far behind the stream the last batch of events was (its read time minus the time in its newest id). NaN while it is unknown: disconnected (see feed_connected) or ids ahead of the clock (see feed_ids_ahead_seconds). A quiet stream is not a lag: see feed_last_event_timestamp_seconds."),
		rate:               d("feed_events_per_second", "Stream entries read per second over the last interval."),
		events:             d("feed_events_total", "Stream entries read since mavtop started."),
		reconnects:         d("feed_reconnects_total", "Reconnections to Redis since mavtop started."),
		malformed:          d("feed_malformed_total", "Stream entries skipped as malformed since mavtop started."),
		gaps:               d("feed_gaps_total", "Times the stream was trimmed past what mavtop had read (counters were re-read)."),
		snapshots:          d("feed_snapshots_total", "Counter snapshots read from Redis since mavtop started."),
		resyncs:            d("feed_resyncs_total", "Times the counters replaced what mavtop showed since it started, by reason: restart (Redis restarted, possibly onto older data), failover (another server answers, possibly a replica that lagged), reset (Redis lost the data or went back in time), drift (the counters and the stream disagreed), gap (trimmed past what was read), trim (entries read were removed), rollover, period, resync.", "reason"),
		audits:             d("feed_audits_total", "Audits of what mavtop shows against the counters since it started."),
		byDigest:           d("feed_audit_by_digest", "1 while the audits on the cadence read the producers' digest and a slice of the counters (the last full read found the digest equal to the counters); 0 while they read the counters, because a producer does not keep the digest."),
		digestAudits:       d("feed_digest_audits_total", "Audits answered by the digest and a slice of the counters since mavtop started."),
		digestMisses:       d("feed_digest_misses_total", "Audits by the digest that found a difference (each followed at once by a full read) since mavtop started."),
		restarts:           d("feed_server_restarts_total", "Redis restarts noticed (its run id changed) since mavtop started."),
		ahead:              d("feed_ids_ahead_seconds", "How far the newest entry's id is ahead of this clock (0 within 1 s): while it is above 0, feed_lag_seconds is NaN (unknown)."),
		lastEntry:          d("feed_last_event_timestamp_seconds", "When mavtop read the stream's newest entry (an event or a settings change), by its own clock (at a start, the time in the newest id when earlier): time() minus it is how long no entry came, a producer that stopped or a feed that is down. An id ahead of the clock cannot move it into the future. Absent before the first entry."),
		viewers:            d("feed_viewers", "Readers of the feed hub: dashboards, SSH sessions and this exporter."),
		sessions:           d("ssh_sessions", "SSH dashboard sessions connected."),
		alertsFiring:       d("alerts_firing", "Alerts firing this billing period, as every mavtop sharing the Redis records them (thresholds, limits, 402s, run-out, a stale feed)."),
		notifications: d("notifications_total", "Alert notifications by sink and result since this mavtop started: sent, retrying (an attempt failed, another follows), failed (given up), dropped (queue full; retried later), handed_over (another instance took the delivery over before this one sent it).",
			"sink", "result"),
		forecastErr: d("forecast_error_seconds", "The first credits_exhausted 402 of the period minus the run-out time mavtop had projected for it: negative when credits ran out earlier than forecast.", "workspace"),
	}
}

// New returns a collector over hub; call Run to feed the calibration.
func New(hub *feed.Hub, opt Options) *Collector {
	if opt.MaxProjects <= 0 {
		opt.MaxProjects = DefaultMaxProjects
	}
	return &Collector{hub: hub, opt: opt, named: map[string]map[string]bool{}, d: newDescs()}
}

// Run follows the hub until ctx is done, recording the estimate and the actual
// cost of every successful call that carried a pre-flight estimate (Op and Est).
func (c *Collector) Run(ctx context.Context) error {
	v := c.hub.JoinEvents() // the ledger is read from the hub's at each scrape
	defer v.Close()
	var gen uint64
	seeded := false
	for {
		msgs, err := v.Next(ctx)
		if err != nil {
			return nil // done
		}
		for _, m := range msgs {
			switch m := m.(type) {
			case *feed.SnapshotMsg:
				gen, seeded = m.Gen, true
			case *feed.LedgerMsg:
				gen, seeded = m.Gen, true
			case *feed.BatchMsg:
				if !seeded || m.Gen != gen {
					continue // from before the snapshot that replaced it
				}
				for i := range m.Events {
					c.record(&m.Events[i])
				}
			}
		}
	}
}

// record adds one event to the calibration (estimator's rule: paid launches
// with an estimate).
func (c *Collector) record(e *model.Event) { c.cal.RecordEvent(e) }

// Calibration returns the estimate calibration recorded so far.
func (c *Collector) Calibration() []estimator.CalibrationRow { return c.cal.Report() }

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.d.used, c.d.refusals, c.d.recharged, c.d.remaining, c.d.allocation, c.d.limit, c.d.exhausted, c.d.level, c.d.pct,
		c.d.projectLevel, c.d.projectPct,
		c.d.periodStart, c.d.periodEnd, c.d.estRatio, c.d.estJobs, c.d.estEstimated, c.d.estActual,
		c.d.connected, c.d.lag, c.d.rate, c.d.events, c.d.reconnects, c.d.malformed, c.d.gaps,
		c.d.snapshots, c.d.viewers, c.d.sessions, c.d.alertsFiring, c.d.notifications, c.d.forecastErr,
		c.d.resyncs, c.d.audits, c.d.restarts, c.d.ahead, c.d.lastEntry, c.d.unreadable, c.d.badKey, c.d.settingsUnreadable,
		c.d.byDigest, c.d.digestAudits, c.d.digestMisses, c.d.workspaces,
	} {
		ch <- d
	}
}

// reading is what one scrape copies out of the hub under its lock.
type reading struct {
	totals     *model.Snapshot
	workspaces int
	summaries  []model.Summary
	limited    []model.LimitedProject
	period     model.Period
	conn       *feed.ConnMsg
	stats      *feed.StatsMsg
}

// Collect reads the hub's ledger and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var r reading
	c.hub.Read(func(l *model.Ledger, conn *feed.ConnMsg, stats *feed.StatsMsg) {
		if l != nil {
			r.totals, r.summaries, r.period = l.Totals(), l.Summaries(nil), l.Period()
			r.workspaces = l.Len()
			r.limited = l.LimitedProjects(nil)
		}
		r.conn, r.stats = conn, stats
	})
	if r.totals != nil {
		c.collectLedger(ch, &r)
	}
	c.collectCalibration(ch)
	c.collectFeed(ch, &r)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, cleanLabels(labels)...)
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, cleanLabels(labels)...)
}

// cleanLabels passes label values (names read from Redis) through the one
// sanitising rule: a value that is not UTF-8 would make the whole scrape fail,
// every series with it.
func cleanLabels(labels []string) []string {
	for i, l := range labels {
		labels[i] = model.Sanitize(l)
	}
	return labels
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type projectKey struct{ ws, project string }

func (c *Collector) collectLedger(ch chan<- prometheus.Metric, r *reading) {
	t := r.totals
	// A workspace whose counters cannot all be read (model.LevelUnknown, a
	// used, recharged, refused or limited project's used_by field holding no
	// integer ≥ 0) has no counter series until they can: a Prometheus counter
	// never goes down, and one read without the bad field (or as −3) would;
	// counters_unreadable counts it and workspace_level is NaN.
	unknown := map[string]bool{}
	for _, s := range r.summaries {
		if s.Unreadable != "" && !s.UnreadableSettings {
			unknown[s.Name] = true
		}
	}
	// Credits by workspace, project and endpoint, projects past the limit folded.
	byProject := map[projectKey]int64{}
	for f, n := range t.UsedBy {
		if ws, p, _, ok := model.SplitUsedByField(f); ok {
			byProject[projectKey{ws, p}] += n
		}
	}
	named := c.admit(r.period.Key, byProject)
	used := map[[3]string]int64{}
	for f, n := range t.UsedBy {
		ws, p, ep, ok := model.SplitUsedByField(f)
		if !ok || unknown[ws] {
			continue
		}
		if !named[projectKey{ws, p}] {
			p = OtherProject
		}
		used[[3]string{ws, p, ep}] += n
	}
	for k, n := range used {
		ch <- counter(c.d.used, float64(n), k[0], k[1], k[2])
	}
	refused := map[[2]string]int64{}
	for f, n := range t.Refused {
		if ws, _, code, ok := model.SplitRefusedField(f); ok && !unknown[ws] {
			refused[[2]string{ws, code}] += n
		}
	}
	for k, n := range refused {
		ch <- counter(c.d.refusals, float64(n), k[0], k[1])
	}
	unreadable, badSettings := 0, 0
	badProject := map[string]bool{}
	for _, p := range r.limited {
		if p.Status.UnreadableSettings {
			badProject[p.Workspace] = true
		}
	}
	for _, s := range r.summaries {
		if !unknown[s.Name] {
			ch <- counter(c.d.recharged, float64(s.Recharged), s.Name)
		}
		ch <- gauge(c.d.exhausted, b2f(s.Level == model.LevelExhausted), s.Name)
		level := float64(s.Level)
		if s.Level == model.LevelUnknown {
			level = math.NaN() // an alert rule's "≥ 4" must not read unknown as worse than critical
		}
		ch <- gauge(c.d.level, level, s.Name)
		if s.UnreadableSettings || badProject[s.Name] {
			badSettings++
		}
		if s.Unreadable != "" {
			if !s.UnreadableSettings {
				unreadable++
			}
		} else if s.HasCap() {
			ch <- gauge(c.d.pct, s.Percent, s.Name, s.CapKind.String())
		}
		if s.RemainingKnown {
			ch <- gauge(c.d.remaining, float64(s.Remaining), s.Name)
		}
		if s.Settings.Allocation > 0 {
			ch <- gauge(c.d.allocation, float64(s.Settings.Allocation), s.Name)
		}
		if s.Settings.UsageLimit > 0 {
			ch <- gauge(c.d.limit, float64(s.Settings.UsageLimit), s.Name)
		}
	}
	// nothing found is told apart from all fine (a typo in the prefix or
	// the db left every workspace series absent, and an alert on them never
	// fired)
	ch <- gauge(c.d.workspaces, float64(r.workspaces))
	ch <- gauge(c.d.unreadable, float64(unreadable))
	ch <- gauge(c.d.settingsUnreadable, float64(badSettings))
	for _, p := range r.limited {
		if unknown[p.Workspace] {
			continue // its credits are unknown: no level or percent read without them
		}
		if p.Status.Level == model.LevelUnknown { // its budget cannot be read
			ch <- gauge(c.d.projectLevel, math.NaN(), p.Workspace, p.Project)
			continue
		}
		ch <- gauge(c.d.projectLevel, float64(p.Status.Level), p.Workspace, p.Project)
		ch <- gauge(c.d.projectPct, p.Status.Percent, p.Workspace, p.Project)
	}
	if !r.period.Start.IsZero() {
		ch <- gauge(c.d.periodStart, float64(r.period.Start.Unix()))
		ch <- gauge(c.d.periodEnd, float64(r.period.End.Unix()))
	}
}

// admit returns the projects with a series of their own. At a new period the
// choice starts over.
func (c *Collector) admit(period string, used map[projectKey]int64) map[projectKey]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if period != c.period {
		c.period, c.named = period, map[string]map[string]bool{}
	}
	// Newcomers by use, most first (ties by name), while there is room.
	keys := slices.SortedFunc(maps.Keys(used), func(a, b projectKey) int {
		if used[a] != used[b] {
			if used[a] > used[b] {
				return -1
			}
			return 1
		}
		if a.ws != b.ws {
			if a.ws < b.ws {
				return -1
			}
			return 1
		}
		if a.project < b.project {
			return -1
		}
		if a.project > b.project {
			return 1
		}
		return 0
	})
	out := make(map[projectKey]bool, len(keys))
	for _, k := range keys {
		set := c.named[k.ws]
		if set == nil {
			set = map[string]bool{}
			c.named[k.ws] = set
		}
		if !set[k.project] && len(set) < c.opt.MaxProjects {
			set[k.project] = true
		}
		out[k] = set[k.project]
	}
	return out
}

func (c *Collector) collectCalibration(ch chan<- prometheus.Metric) {
	for _, row := range c.cal.Report() {
		op := string(row.Op)
		if row.Rated > 0 {
			ch <- gauge(c.d.estRatio, row.MeanRatio, op)
		}
		ch <- counter(c.d.estJobs, float64(row.Count), op)
		ch <- counter(c.d.estEstimated, float64(row.Estimated), op)
		ch <- counter(c.d.estActual, float64(row.Actual), op)
	}
}

func (c *Collector) collectFeed(ch chan<- prometheus.Metric, r *reading) {
	ch <- gauge(c.d.connected, b2f(r.conn != nil && r.conn.State == feed.Connected))
	if s := r.stats; s != nil {
		// the lag is judged at the scrape, not at the last StatsMsg: a
		// StatsMsg while disconnected comes once a retry, so a figure there
		// rose in steps; the connection's state is the hub's newest
		lag := s.Lag.Seconds()
		if r.conn == nil || r.conn.State != feed.Connected || !s.LagKnown || s.Ahead > 0 {
			lag = math.NaN()
		}
		ch <- gauge(c.d.lag, lag)
		ch <- gauge(c.d.ahead, s.Ahead.Seconds())
		if !s.LastEntryAt.IsZero() {
			ch <- gauge(c.d.lastEntry, float64(s.LastEntryAt.UnixMilli())/1e3)
		}
		ch <- gauge(c.d.rate, s.EventsPerSec)
		ch <- counter(c.d.events, float64(s.Events))
		ch <- counter(c.d.reconnects, float64(s.Reconnects))
		ch <- counter(c.d.malformed, float64(s.Malformed))
		ch <- counter(c.d.gaps, float64(s.Gaps))
		ch <- counter(c.d.snapshots, float64(s.Snapshots))
		ch <- counter(c.d.audits, float64(s.Audits))
		ch <- counter(c.d.restarts, float64(s.Restarts))
		ch <- gauge(c.d.byDigest, b2f(s.AuditByDigest))
		ch <- counter(c.d.digestAudits, float64(s.DigestAudits))
		ch <- counter(c.d.digestMisses, float64(s.DigestMisses))
		for reason, n := range s.Resyncs {
			ch <- counter(c.d.resyncs, float64(n), string(reason))
		}
		for key := range s.BadKeys {
			ch <- gauge(c.d.badKey, 1, key)
		}
	}
	ch <- gauge(c.d.viewers, float64(c.hub.Viewers()))
	if c.opt.Sessions != nil {
		ch <- gauge(c.d.sessions, float64(c.opt.Sessions()))
	}
	if a := c.opt.Alerts; a != nil {
		ch <- gauge(c.d.alertsFiring, float64(a.Firing()))
		for k, n := range a.Notifications() {
			ch <- counter(c.d.notifications, float64(n), model.Sanitize(k[0]), k[1])
		}
		seen := map[string]bool{}
		for _, sc := range a.Scores() { // newest first: the latest per workspace
			if !seen[sc.Workspace] {
				seen[sc.Workspace] = true
				ch <- gauge(c.d.forecastErr, sc.Error().Seconds(), sc.Workspace)
			}
		}
	}
}
