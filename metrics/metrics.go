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
	"container/heap"
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"weak"

	"github.com/prometheus/client_golang/prometheus"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
)

// DefaultMaxProjects is how many projects per workspace get a series of their own.
const DefaultMaxProjects = 20

// DefaultMaxWorkspaces is how many workspaces get series of their own: at
// ~10-20 series each, ~10k series and ~0.8 MB a scrape at most, whatever the
// number of workspaces (at 100k workspaces, 1.8M series unbounded).
const DefaultMaxWorkspaces = 500

// OtherProject is the project label the projects beyond the limit are summed under.
const OtherProject = "other"

// UnattributedEndpoint is the endpoint label of a workspace's credits that
// its used counter holds and no used_by field names.
const UnattributedEndpoint = "unattributed"

// Options configure a Collector.
type Options struct {
	// MaxProjects bounds the projects per workspace with their own series
	// (DefaultMaxProjects); the rest are summed under project="other".
	MaxProjects int
	// MaxWorkspaces bounds the workspaces with series of their own
	// (DefaultMaxWorkspaces): the most severe level first, then by use (see
	// wsRank). Every workspace is counted in mavtop_workspaces_by_level;
	// mavtop_workspaces_omitted says how many have no series of their own.
	MaxWorkspaces int
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

	// scrape serialises Collect; cache is the ledger's series as of the
	// ledger read last (its key): a scrape while nothing changed sends them
	// again without walking the workspaces.
	scrape sync.Mutex
	cache  struct {
		key     cacheKey
		metrics []prometheus.Metric
		kept    map[string]bool
		omitted bool // some workspaces have no series of their own
	}

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
	rulesDisagree                                       *prometheus.Desc
	resyncs, audits, restarts, ahead, lastEntry         *prometheus.Desc
	byDigest, digestAudits, digestMisses                *prometheus.Desc
	unreadable, badKey, settingsUnreadable              *prometheus.Desc
	byLevel, omitted                                    *prometheus.Desc
	workspaces, periodUnreadable                        *prometheus.Desc
}

// cacheKey names one state of one ledger: the version is bumped by every
// change of it. The ledger is held weakly: a ledger the hub replaced is not
// kept alive until the next scrape.
type cacheKey struct {
	ledger           weak.Pointer[model.Ledger]
	version, members uint64
	n                int
	period           string
}

func newDescs() descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("mavtop_"+name, help, labels, nil)
	}
	return descs{
		used:               d("credits_used_total", "Credits used this billing period (the seed's credits_used_total, broken down by endpoint). Resets to 0 when a period starts; only grows within one.", "workspace", "project", "endpoint"),
		refusals:           d("refusals_total", "HTTP 402 refusals this billing period (the seed's 402_count), by API error code. Resets when a period starts.", "workspace", "code"),
		recharged:          d("credits_recharged_total", "Credits added by recharges this billing period.", "workspace"),
		remaining:          d("credits_remaining", "Credits that can still be spent before the workspace's effective cap (the allocation plus recharges, or the usage limit when smaller) stops it: the cap minus the credits used, never below 0 — a workspace over its cap reads 0, as the dashboard's detail (0 remaining), check --json and budget show --json (remaining 0); how far over is credits_used_percent above 100. Its own cap's, not a project's usage limit's. Absent without a cap, or while a figure it needs cannot be read.", "workspace"),
		allocation:         d("credits_allocation", "The workspace's credit allocation per billing period.", "workspace"),
		limit:              d("credits_usage_limit", "The workspace's hard usage limit in credits.", "workspace"),
		exhausted:          d("workspace_exhausted", "1 while the workspace has used up its allocation or limit, or the API refuses it with 402.", "workspace"),
		projectLevel:       d("project_level", "A project's level by its usage limit, as budget show and check judge it: 0 no limit, 1 ok, 2 warn, 3 high, 4 critical, 5 at its limit (its calls get 402 budget_exceeded, by the counters or by a 402 that stands). Only projects with a usage limit, or held at one mavtop was not told of by a budget_exceeded 402.", "workspace", "project"),
		projectPct:         d("project_limit_used_percent", "A project's credits used as a percentage of its usage limit (only projects with one).", "workspace", "project"),
		level:              d("workspace_level", "The workspace's level, the one its dashboard row, check and budget show give (model's verdict): the worse of its own cap's and its limited projects' (a project at its usage limit makes it 4, not 5: the workspace still has credits; project_level says which). 0 no cap, 1 ok, 2 warn (first alert threshold), 3 high (second), 4 critical (third, or a usage limit reached), 5 exhausted (its own cap used up, or refused with 402 credits_exhausted); NaN unknown (a counter or a budget cannot be read: see counters_unreadable, settings_unreadable).", "workspace"),
		unreadable:         d("counters_unreadable", "Workspaces with a counter that holds no integer ≥ 0 (text, empty, beyond 2^63-1, negative) or whose key cannot be read: used makes the level unknown (workspace_level NaN, no credits_used_percent or credits_remaining); recharged alone only what the recharges decide (no credits_recharged_total; the level stays known when the usage limit decides it); a 402 count or a limited project's credits only those. Until Redis holds a number again."),
		badKey:             d("feed_unreadable_key", "1 for each key mavtop reads that holds another type than a hash (a string SET over a counter hash, …): none of its fields can be read, so every workspace is judged unknown (workspace_level NaN) until it is a hash again or deleted.", "key"),
		periodUnreadable:   d("billing_period_config_unreadable", "1 while the stored billing-period config (the settings hash's #period field) cannot be read (not JSON, a start day outside 1-28, an unknown zone, over 256 bytes): every mavtop and Go producer then cuts periods as calendar months in UTC (model.PeriodFallback) and mavtop check says why; 0 when it can be read or is absent. Absent until the feed first read the counters."),
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
		rate:               d("feed_events_per_second", "Producer entries (usage events, served or refused, and recharges; no settings entry: model.FeedsFreshness) read per second over the last interval."),
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
		lastEntry:          d("feed_last_event_timestamp_seconds", "When mavtop read the stream's newest usage event (served or refused) or recharge, by its own clock (at a start or a re-read, the stream's newest such entry's time when earlier, found by a read of its newest 256 entries at most; when none of them is one, the oldest of their times, which the producer's newest entry is older than): time() minus it is how long the producer has sent nothing, a producer that stopped or a feed that is down. A settings entry (budget set, budget pull) does not move it, as it does not check --stale (model.FeedsFreshness). An id ahead of the clock cannot move it into the future. Absent before the first event."),
		viewers:            d("feed_viewers", "Readers of the feed hub: dashboards, SSH sessions and this exporter (a dashboard run with --metrics is 2); mavtop's own alert watcher and log, which read it too, are not counted."),
		sessions:           d("ssh_sessions", "SSH dashboard sessions connected."),
		rulesDisagree:      d("alert_rules_disagree", "1 while an alert rule flag given to this mavtop (--default-alerts, --stale) or the usage source it reads (--source, --counter-pattern, taken at its start) disagrees with the rules every mavtop sharing the Redis judges by ({prefix}:alert_rules, mavtop budget rules): it then neither fires nor resolves any alert until the flag is dropped or the rules changed back; else 0 (a rule flag not given follows the shared rules)."),
		alertsFiring:       d("alerts_firing", "Alerts firing this billing period, as every mavtop sharing the Redis records them (thresholds, limits, 402s, run-out, a stale feed, a re-read of the counters after Redis changed under mavtop)."),
		notifications: d("notifications_total", "Alert notifications by sink and result since this mavtop started: sent, retrying (an attempt failed, another follows), failed (given up), dropped (queue full; retried later), handed_over (another instance took the delivery over before this one sent it).",
			"sink", "result"),
		byLevel:     d("workspaces_by_level", "Workspaces at each level (none, ok, warn, high, critical, exhausted, unknown), each at its row's level, workspace_level's (the model's verdict, as check's CHECK: a project at its usage limit counts its workspace critical, not exhausted), every workspace counted, with series of its own or not: an alert on any workspace at a level reads this.", "level"),
		omitted:     d("workspaces_omitted", "Workspaces without per-workspace series: beyond --metrics-max-workspaces, the most severe level first then the most used keep theirs (they are still counted in workspaces_by_level)."),
		forecastErr: d("forecast_error_seconds", "The first credits_exhausted 402 of the period minus the run-out time mavtop had projected for it: negative when credits ran out earlier than forecast.", "workspace"),
	}
}

// New returns a collector over hub; call Run to feed the calibration.
func New(hub *feed.Hub, opt Options) *Collector {
	if opt.MaxProjects <= 0 {
		opt.MaxProjects = DefaultMaxProjects
	}
	if opt.MaxWorkspaces <= 0 {
		opt.MaxWorkspaces = DefaultMaxWorkspaces
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
		c.d.snapshots, c.d.viewers, c.d.sessions, c.d.alertsFiring, c.d.notifications, c.d.forecastErr, c.d.rulesDisagree,
		c.d.resyncs, c.d.audits, c.d.restarts, c.d.ahead, c.d.lastEntry, c.d.unreadable, c.d.badKey, c.d.settingsUnreadable,
		c.d.byDigest, c.d.digestAudits, c.d.digestMisses, c.d.workspaces, c.d.byLevel, c.d.omitted, c.d.periodUnreadable,
	} {
		ch <- d
	}
}

// reading is what one scrape copies out of the hub under its lock.
type reading struct {
	conn  *feed.ConnMsg
	stats *feed.StatsMsg
}

// Collect sends the metrics: the ledger's as read at the last change of the
// hub's ledger (read again only when it changed, and then only what the
// series show: see readLedger), the calibration's and the feed's.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.scrape.Lock()
	defer c.scrape.Unlock()
	var r reading
	var changed *model.Ledger
	c.hub.Read(func(l *model.Ledger, conn *feed.ConnMsg, stats *feed.StatsMsg) {
		r.conn, r.stats = conn, stats
		if l == nil {
			c.cache.key, c.cache.metrics, c.cache.kept, c.cache.omitted = cacheKey{}, nil, nil, false
			return
		}
		k := cacheKey{ledger: weak.Make(l), version: l.Version(), members: l.Members(), n: l.Len(), period: l.Period().Key}
		if k == c.cache.key {
			return
		}
		c.cache.key = k
		// Only the clone is made under the hub's lock (one map of pointers:
		// the workspace states are shared, copy on write); the walk over
		// every workspace is done on it after the lock is released, so a
		// scrape never holds up the feed, a join or another viewer (the
		// walk took ~44 ms at 100k workspaces on the idle machine, seconds
		// loaded, all of it with the hub locked).
		changed = l.Clone()
	})
	if changed != nil {
		lr := c.readLedger(changed)
		changed = nil // its states go once the hub has replaced them
		c.cache.metrics = c.ledgerMetrics(lr)
		c.cache.omitted = lr.total > len(lr.kept)
		c.cache.kept = make(map[string]bool, len(lr.kept))
		for i := range lr.kept {
			c.cache.kept[lr.kept[i].rank.name] = true
		}
	}
	for _, m := range c.cache.metrics {
		ch <- m
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

// walking, when set (tests), is called as a scrape starts walking the
// workspaces.
var walking func()

// keptWS is one workspace with series of its own, as read from the clone of
// the hub's ledger: only what its series show, so nothing of the ledger is
// kept after.
type keptWS struct {
	rank                   wsRank
	recharged              int64
	level                  model.Level // its own cap's (workspace_exhausted)
	verdict                model.Level // the workspace's level (workspace_level): model.Verdict.Level
	unknown                bool        // its counters cannot all be read: no counter series
	noRefused              bool        // its 402 count cannot be read: no refusal series (its usage is known)
	noRecharged            bool        // its recharged counter cannot be read: no recharged series
	hasCap                 bool
	percent                float64
	capKind                model.CapKind
	remaining              int64
	remainingKnown         bool
	allocation, usageLimit int64
	// usedTotal is the workspace's used counter: credits no used_by field
	// names (a producer that writes only the used counter, the used_by
	// fields not read yet) are its series with endpoint UnattributedEndpoint
	usedTotal int64
	used      []usedField
	refused   []refusedField
	limited   []model.LimitedProject
}

type usedField struct {
	project, endpoint string
	n                 int64
}

type refusedField struct {
	code string
	n    int64
}

// wsRank is what decides which workspaces keep series of their own: the
// ones an alert rule is about first. Most severe level first (the
// workspace's own or, when worse, a project's usage limit's), then a
// workspace refused with 402 this period, then by use (percent of the cap
// that sets the level, then credits), then by name.
type wsRank struct {
	severity int
	refused  bool
	percent  float64
	used     int64
	name     string
}

// severity orders levels for the choice of workspaces: known to be close to
// refusing or refused (high, critical, exhausted) above unknown (a counter
// or setting that cannot be read), above those known to be fine.
func severity(l model.Level) int {
	switch l {
	case model.LevelExhausted:
		return 6
	case model.LevelCritical:
		return 5
	case model.LevelHigh:
		return 4
	case model.LevelUnknown:
		return 3
	case model.LevelWarn:
		return 2
	case model.LevelOK:
		return 1
	}
	return 0
}

func rankOf(s *model.Summary) wsRank {
	r := wsRank{severity: max(severity(s.Level), severity(s.Verdict.Level)), refused: s.Refused.Total() > 0,
		percent: s.Percent, used: s.Used, name: s.Name}
	if s.Verdict.Project != "" {
		r.percent = s.Verdict.Status.Percent
	}
	return r
}

// before reports whether a ranks before b.
func (a wsRank) before(b wsRank) bool {
	if a.severity != b.severity {
		return a.severity > b.severity
	}
	if a.refused != b.refused {
		return a.refused
	}
	if a.percent != b.percent {
		return a.percent > b.percent
	}
	if a.used != b.used {
		return a.used > b.used
	}
	return a.name < b.name
}

// keptHeap holds the best workspaces seen so far, the last of them on top.
type keptHeap []keptWS

func (h keptHeap) Len() int           { return len(h) }
func (h keptHeap) Less(i, j int) bool { return h[j].rank.before(h[i].rank) }
func (h keptHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keptHeap) Push(x any)        { *h = append(*h, x.(keptWS)) }
func (h *keptHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// levels are the levels mavtop_workspaces_by_level counts, each with its label.
var levels = []struct {
	level model.Level
	name  string
}{
	{model.LevelNone, "none"}, {model.LevelOK, "ok"}, {model.LevelWarn, "warn"}, {model.LevelHigh, "high"},
	{model.LevelCritical, "critical"}, {model.LevelExhausted, "exhausted"}, {model.LevelUnknown, "unknown"},
}

// ledgerRead is what one read of (a clone of) the hub's ledger copies out.
type ledgerRead struct {
	period                  model.Period
	kept                    []keptWS
	total                   int
	byLevel                 [model.LevelUnknown + 1]int
	unreadable, badSettings int
}

// readLedger walks every workspace of l (a clone of the hub's ledger, walked
// outside the hub's lock) once: counts by
// level, unreadable counters and settings, and keeps the MaxWorkspaces that
// rank first (wsRank) with what their series show. It costs a summary of each
// workspace and a heap of MaxWorkspaces, never the per-endpoint counters of
// workspaces without series (at 100k workspaces, 1.2M used_by fields).
func (c *Collector) readLedger(l *model.Ledger) *ledgerRead {
	if walking != nil {
		walking()
	}
	r := &ledgerRead{period: l.Period()}
	limited := l.LimitedProjects(nil)
	badProject, badUsage := map[string]bool{}, map[string]bool{}
	for _, p := range limited {
		switch {
		case p.Status.UnreadableSettings:
			badProject[p.Workspace] = true
		case p.Status.Unreadable != "": // its credits (used_by) cannot be read
			badUsage[p.Workspace] = true
		}
	}
	h := make(keptHeap, 0, min(c.opt.MaxWorkspaces, l.Len()))
	l.EachSummary(func(s *model.Summary) {
		r.total++
		// the row's level (Verdict: the worse of its own and its projects'
		// usage limits), as the dashboard's row and check's CHECK judge it
		if s.Verdict.Level <= model.LevelUnknown {
			r.byLevel[s.Verdict.Level]++
		}
		unknown := s.Unknown.Has(model.FigUsed)
		if unknown || s.RefusedUnreadable != "" || badUsage[s.Name] || s.Unknown.Has(model.FigRecharged) { // a 402 count, a project's credits, the recharges alone: the usage known
			r.unreadable++
		}
		if s.UnreadableSettings || badProject[s.Name] {
			r.badSettings++
		}
		rk := rankOf(s)
		if len(h) == c.opt.MaxWorkspaces && !rk.before(h[0].rank) {
			return
		}
		k := keptWS{rank: rk, recharged: s.Recharged, level: s.Level, verdict: s.Verdict.Level, unknown: unknown, noRefused: s.RefusedUnreadable != "",
			noRecharged: s.Unknown.Has(model.FigRecharged), hasCap: s.HasCap() && !s.Unknown.Has(model.FigPercent), percent: s.Percent, capKind: s.CapKind,
			remaining: s.Remaining, remainingKnown: s.RemainingKnown, usedTotal: s.Used,
			allocation: s.Settings.Allocation, usageLimit: s.Settings.UsageLimit}
		if len(h) < c.opt.MaxWorkspaces {
			heap.Push(&h, k)
		} else {
			h[0] = k
			heap.Fix(&h, 0)
		}
	})
	idx := make(map[string]int, len(h))
	for i := range h {
		k := &h[i]
		idx[k.rank.name] = i
		if k.unknown {
			continue // no counter series (see ledgerMetrics)
		}
		l.EachCounter(k.rank.name, func(project, endpoint string, n int64) {
			k.used = append(k.used, usedField{project, endpoint, n})
		}, func(_, code string, n int64) {
			if !k.noRefused {
				k.refused = append(k.refused, refusedField{code, n})
			}
		})
	}
	for _, p := range limited {
		if i, ok := idx[p.Workspace]; ok {
			h[i].limited = append(h[i].limited, p)
		}
	}
	r.kept = h
	return r
}

// ledgerMetrics makes the series of one ledger read: those of each kept
// workspace, and the counts over every workspace.
func (c *Collector) ledgerMetrics(r *ledgerRead) []prometheus.Metric {
	var out []prometheus.Metric
	emit := func(m prometheus.Metric) { out = append(out, m) }
	for i := range r.kept {
		c.workspaceMetrics(emit, r.period.Key, &r.kept[i])
	}
	for _, lv := range levels {
		emit(gauge(c.d.byLevel, float64(r.byLevel[lv.level]), lv.name))
	}
	// nothing found is told apart from all fine (a typo in the prefix or
	// the db left every workspace series absent, and an alert on them never
	// fired)
	emit(gauge(c.d.workspaces, float64(r.total)))
	emit(gauge(c.d.omitted, float64(r.total-len(r.kept))))
	emit(gauge(c.d.unreadable, float64(r.unreadable)))
	emit(gauge(c.d.settingsUnreadable, float64(r.badSettings)))
	if !r.period.Start.IsZero() {
		emit(gauge(c.d.periodStart, float64(r.period.Start.Unix())))
		emit(gauge(c.d.periodEnd, float64(r.period.End.Unix())))
	}
	return out
}

// workspaceMetrics makes one kept workspace's series.
func (c *Collector) workspaceMetrics(emit func(prometheus.Metric), period string, k *keptWS) {
	ws := k.rank.name
	// A workspace whose counters cannot all be read (model.LevelUnknown, a
	// used, recharged, refused or limited project's used_by field holding no
	// integer ≥ 0) has no counter series until they can: a Prometheus counter
	// never goes down, and one read without the bad field (or as −3) would;
	// counters_unreadable counts it and workspace_level is NaN.
	if !k.unknown {
		// Credits by project and endpoint, projects past the limit folded.
		byProject := map[string]int64{}
		for _, u := range k.used {
			byProject[u.project] = model.AddCredits(byProject[u.project], u.n)
		}
		named := c.admit(period, ws, byProject)
		used := map[[2]string]int64{}
		for _, u := range k.used {
			p := u.project
			if !named[p] {
				p = OtherProject
			}
			used[[2]string{p, u.endpoint}] = model.AddCredits(used[[2]string{p, u.endpoint}], u.n)
		}
		var byField int64
		for pe, n := range used {
			emit(counter(c.d.used, float64(n), ws, pe[0], pe[1]))
			byField = model.AddCredits(byField, n)
		}
		if rest := k.usedTotal - byField; rest > 0 {
			// the sum over the workspace's series is its used counter, as
			// the dashboard shows it: a workspace with used and no used_by
			// had no series at all
			emit(counter(c.d.used, float64(rest), ws, "", UnattributedEndpoint))
		}
		refused := map[string]int64{}
		for _, f := range k.refused {
			refused[f.code] = model.AddCredits(refused[f.code], f.n)
		}
		for code, n := range refused {
			emit(counter(c.d.refusals, float64(n), ws, code))
		}
		if !k.noRecharged {
			emit(counter(c.d.recharged, float64(k.recharged), ws))
		}
	}
	emit(gauge(c.d.exhausted, b2f(k.level == model.LevelExhausted), ws))
	// the row's level (the verdict), as check and budget show give it: a
	// workspace whose project is over its usage limit read 1 (ok, its own
	// cap) here beside the row's ▲ crit, check's critical and by_level's
	level := float64(k.verdict)
	if k.level == model.LevelUnknown || k.verdict == model.LevelUnknown {
		level = math.NaN() // an alert rule's "≥ 4" must not read unknown as worse than critical
	}
	emit(gauge(c.d.level, level, ws))
	if k.hasCap {
		emit(gauge(c.d.pct, k.percent, ws, k.capKind.String()))
	}
	if k.remainingKnown {
		emit(gauge(c.d.remaining, float64(k.remaining), ws))
	}
	if k.allocation > 0 {
		emit(gauge(c.d.allocation, float64(k.allocation), ws))
	}
	if k.usageLimit > 0 {
		emit(gauge(c.d.limit, float64(k.usageLimit), ws))
	}
	if k.unknown {
		return // its credits are unknown: no project level or percent read without them
	}
	for _, p := range k.limited {
		if p.Status.Level == model.LevelUnknown { // its budget cannot be read
			emit(gauge(c.d.projectLevel, math.NaN(), ws, p.Project))
			continue
		}
		emit(gauge(c.d.projectLevel, float64(p.Status.Level), ws, p.Project))
		emit(gauge(c.d.projectPct, p.Status.Percent, ws, p.Project))
	}
}

// admit returns the projects of ws with a series of their own, given each
// project's credits. Admission is sticky for the period: the most used
// first (ties by name), newcomers while there is room; at a new period the
// choice starts over.
func (c *Collector) admit(period, ws string, used map[string]int64) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if period != c.period {
		c.period, c.named = period, map[string]map[string]bool{}
	}
	set := c.named[ws]
	if set == nil {
		set = map[string]bool{}
		c.named[ws] = set
	}
	if len(set) < c.opt.MaxProjects {
		for _, p := range slices.SortedFunc(maps.Keys(used), func(a, b string) int {
			if used[a] != used[b] {
				if used[a] > used[b] {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		}) {
			if len(set) >= c.opt.MaxProjects {
				break
			}
			set[p] = true
		}
	}
	return set
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
		if s.Snapshots > 0 || s.Audits > 0 { // judged by a read of the counters
			ch <- gauge(c.d.periodUnreadable, b2f(s.PeriodUnreadable != ""))
		}
	}
	ch <- gauge(c.d.viewers, float64(c.hub.Readers()))
	if c.opt.Sessions != nil {
		ch <- gauge(c.d.sessions, float64(c.opt.Sessions()))
	}
	if a := c.opt.Alerts; a != nil {
		ch <- gauge(c.d.alertsFiring, float64(a.Firing()))
		if r, ok := a.(interface{ RulesDisagree() string }); ok {
			v := 0.0
			if r.RulesDisagree() != "" {
				v = 1
			}
			ch <- gauge(c.d.rulesDisagree, v)
		}
		for k, n := range a.Notifications() {
			ch <- counter(c.d.notifications, float64(n), model.Sanitize(k[0]), k[1])
		}
		seen := map[string]bool{}
		for _, sc := range a.Scores() { // newest first: the latest per workspace
			// bounded as the workspaces' other series: only those with series of their own, when some have none
			if !seen[sc.Workspace] && (!c.cache.omitted || c.cache.kept[sc.Workspace]) {
				seen[sc.Workspace] = true
				ch <- gauge(c.d.forecastErr, sc.Error().Seconds(), sc.Workspace)
			}
		}
	}
}
