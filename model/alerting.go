package model

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AlertKind names what an alert is about. The names are part of the webhook
// payload and of the alert ids: they never change.
type AlertKind string

const (
	// AlertThreshold: a workspace reached one of its alert thresholds (a
	// percent of the effective cap Assess judges against), or a project (with
	// Project set) the same percent of its usage limit.
	AlertThreshold AlertKind = "threshold"
	// AlertBudget: a workspace reached its budget alert amount (credits).
	AlertBudget AlertKind = "budget_alert"
	// AlertAllocation: a workspace used its whole allocation (plus recharges).
	AlertAllocation AlertKind = "allocation_reached"
	// AlertUsageLimit: a workspace reached its hard usage limit.
	AlertUsageLimit AlertKind = "usage_limit_reached"
	// AlertProjectBudget: a project reached its budget alert amount.
	AlertProjectBudget AlertKind = "project_budget_alert"
	// AlertProjectLimit: a project reached its usage limit.
	AlertProjectLimit AlertKind = "project_limit_reached"
	// AlertRefusals: the API refuses a workspace's calls with HTTP 402 (one
	// alert per workspace and error code).
	AlertRefusals AlertKind = "refusals"
	// AlertRunOut: at the current burn rate the workspace runs out of credits
	// before the billing period ends.
	AlertRunOut AlertKind = "run_out"
	// AlertStale: the usage feed is stale — Redis unreachable, or the stream
	// read far behind — for longer than the stale limit.
	AlertStale AlertKind = "feed_stale"
	// AlertResync: the counters replaced what mavtop showed because Redis
	// changed under it (one alert per reason, ResyncReasons): it restarted,
	// lost data or went back in time (reset), failed over, disagreed with its
	// stream (drift), or its stream lost entries mavtop had read (trim, gap).
	// It holds for ResyncHold after the latest such re-read, then resolves.
	AlertResync AlertKind = "counters_resync"
)

// ResyncReasons are the re-reads of the counters raised as an AlertResync
// (the feed's reasons of the same names), each with the level it fires at.
var ResyncReasons = []struct {
	Reason string
	Level  Level
}{
	{"reset", LevelCritical}, {"restart", LevelHigh}, {"failover", LevelHigh},
	{"drift", LevelWarn}, {"trim", LevelWarn}, {"gap", LevelWarn},
}

// IsResyncReason reports whether a re-read of the counters for reason is
// raised as an AlertResync.
func IsResyncReason(reason string) bool {
	for _, r := range ResyncReasons {
		if r.Reason == reason {
			return true
		}
	}
	return false
}

// ResyncHold is how long an AlertResync holds after the latest re-read of
// its reason: it resolves once what mavtop shows has matched the counters
// for that long with no new re-read of the kind.
const ResyncHold = 5 * time.Minute

// Resync is one re-read of the counters that replaced what was shown
// (FeedHealth.Resyncs): its reason (one of ResyncReasons), the note the
// dashboard shows ("Redis restarted: counters re-read, −2,927 credits",
// sanitised by the caller) and when it was read.
type Resync struct {
	Reason string
	Note   string
	At     time.Time
}

// feedKind reports whether an alert of kind k is the feed's own (judged from
// FeedHealth, not from the ledger's counters): no stream-id order applies to
// its transitions (after a reset the stream's ids start over).
func feedKind(k AlertKind) bool { return k == AlertStale || k == AlertResync }

// AlertStatus is where an alert is in its lifecycle: firing, then resolved,
// each at most once per id and billing period (a condition that holds again
// fires a new episode, with an id of its own: EpisodeID).
type AlertStatus string

const (
	// AlertFiring: the condition holds and has been announced.
	AlertFiring AlertStatus = "firing"
	// AlertResolved: the condition ended (or its billing period did). Final
	// for the id: the alert's next episode fires under the next id.
	AlertResolved AlertStatus = "resolved"
)

// AlertCondition says whether an alert's condition holds now.
type AlertCondition uint8

const (
	// ConditionUnknown: this instance cannot judge it now (a 402 it did not see
	// end, a burn rate measured over too short a time); no transition follows.
	ConditionUnknown AlertCondition = iota
	// ConditionHolds: the alert should be firing.
	ConditionHolds
	// ConditionEnded: the alert should not be firing.
	ConditionEnded
)

// Alert is one alert's condition and the numbers that describe it, as judged
// at one moment. Every number comes from Assess and Forecast, so a
// notification says what the gauges show.
type Alert struct {
	// ID is stable over the period: "<period>/<workspace>/<project>/<kind>/<detail>",
	// with "-" for an empty part; detail is the threshold percent, the 402
	// code, or "-". EvaluateAlerts gives the first episode's id; a
	// transition carries the episode's (EpisodeID: "…/75~2").
	ID        string    `json:"id"`
	Kind      AlertKind `json:"kind"`
	Period    string    `json:"period"`
	Workspace string    `json:"workspace,omitempty"`
	Project   string    `json:"project,omitempty"`
	// Threshold is the percent of the cap, for AlertThreshold (else 0).
	Threshold int `json:"threshold,omitempty"`
	// Code is the API error code, for AlertRefusals.
	Code string `json:"code,omitempty"`
	// Used is credits used (the workspace's, or the project's for project
	// kinds); Cap the line it is judged against, in credits: the effective cap
	// for thresholds, the allocation plus recharges, the usage limit or the
	// budget alert amount; CapKind names the effective cap for thresholds.
	Used    int64   `json:"used"`
	Cap     int64   `json:"cap"`
	CapKind CapKind `json:"cap_kind,omitempty"`
	// Condition says whether the alert's condition holds now (never
	// stored). It sits beside CapKind, a byte too, so the two share one
	// word: an Alert of 360 bytes, not 368, puts a stored delivery
	// (feed.Delivery) in the 512-byte size class and a mirrored record
	// (feed.StoredAlert) in the 480-byte one, 576 and 512 before: ~96 B
	// less a record, of ~170k records at 100k workspaces (rss16, issue 16).
	Condition AlertCondition `json:"-"`
	// PercentUsed is Used over the workspace's effective cap (0 without one);
	// for a project's alert, the project's credits over its usage limit.
	PercentUsed float64 `json:"percent_used"`
	Level       Level   `json:"level"`
	// Refused is the number of 402s with Code this period, for AlertRefusals.
	Refused int64 `json:"refused,omitempty"`
	// Allocation and Recharged are the workspace's now, OutAllocation and
	// OutRecharged when its OUT began (credits), for AlertRefusals of
	// credits_exhausted: OUT ends only when credits are added, and its
	// resolution says which ("recharge +50").
	Allocation    int64 `json:"allocation,omitempty"`
	Recharged     int64 `json:"recharged,omitempty"`
	OutAllocation int64 `json:"out_allocation,omitempty"`
	OutRecharged  int64 `json:"out_recharged,omitempty"`
	// BurnPerHour, RunOutIn and Spare describe AlertRunOut: the burn, how soon
	// credits end at it, and how long before the period's end that is.
	BurnPerHour float64       `json:"burn_per_hour,omitempty"`
	RunOutIn    time.Duration `json:"run_out_in,omitempty"`
	Spare       time.Duration `json:"spare,omitempty"`
	// TopUps, TopUp and UsageLimit describe an AlertRunOut of a workspace
	// auto-recharge keeps alive until its usage limit stops it
	// (Forecast.AfterRecharges): the top-ups of TopUp credits before it
	// runs out at UsageLimit (0: a plain run-out).
	TopUps     int64 `json:"top_ups,omitempty"`
	TopUp      int64 `json:"top_up,omitempty"`
	UsageLimit int64 `json:"usage_limit,omitempty"`
	// Down is how long the feed has been stale, for AlertStale; Unreachable
	// says whether Redis could not be reached (else the stream read is late).
	Down        time.Duration `json:"down,omitempty"`
	Unreachable bool          `json:"unreachable,omitempty"`
	// Unreadable, for AlertStale, says why Redis answers but the stream
	// cannot be read (FeedHealth.Unreadable), naming the key.
	Unreadable string `json:"unreadable,omitempty"`
	// Reason and Note, for AlertResync: why the counters were re-read (one
	// of ResyncReasons) and what changed, as the dashboard says it.
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
	// ResyncAt, for AlertResync, is when the re-read it raises was made: on
	// a firing, the re-read of the instance that fired it; on a resolution,
	// the same (the episode's), never the re-read that superseded it (zero:
	// none known). Next, on the resolution of one that a new re-read of its
	// reason superseded, is the new one's note.
	ResyncAt time.Time `json:"resync_at,omitzero"`
	Next     string    `json:"next,omitempty"`
	// ProjectedRunOut is, on the firing of an AlertRefusals for
	// credits_exhausted, when the forecast had said the credits would run out
	// (zero when the instance that claimed it had no projection): stored
	// with the lifecycle, so every instance scores the forecast alike.
	ProjectedRunOut time.Time `json:"projected_run_out,omitzero"`
}

// AlertID builds an alert's stable id.
func AlertID(period, ws, project string, kind AlertKind, detail string) string {
	part := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return period + "/" + part(ws) + "/" + part(project) + "/" + string(kind) + "/" + part(detail)
}

// FeedHealth is what a follower of the stream knows of its own connection.
type FeedHealth struct {
	// Connected is true while the last call to Redis worked.
	Connected bool
	// Since is when the current connection state began.
	Since time.Time
	// Lag is how far behind the stream the last batch was.
	Lag time.Duration
	// Unreadable says why, when Redis answers but the stream cannot be read
	// (a key of another type, no permission): not connected, yet not
	// unreachable either ("" otherwise). Sanitised by the caller.
	Unreadable string
	// Resyncs are the latest re-read of the counters of each reason of
	// ResyncReasons this follower made (none before the first), newest
	// last; the caller keeps one per reason.
	Resyncs []Resync
}

// DefaultStale is how long the feed may be stale before AlertStale fires.
const DefaultStale = 5 * time.Minute

// MaxStale is the longest stale limit taken (--stale, the stale field of the
// alert rules stored in Redis): a feed silent for a day is an outage, and a
// longer limit (a hand's 100000h) keeps feed_stale from ever firing.
const MaxStale = 24 * time.Hour

// ValidateStale says what is wrong with a stale limit: it must be positive
// and at most MaxStale.
func ValidateStale(d time.Duration) error {
	if d <= 0 || d > MaxStale {
		return fmt.Errorf("the stale limit must be positive and at most %s, got %s", MaxStale, d)
	}
	return nil
}

// AlertOptions tune the evaluation.
type AlertOptions struct {
	// Stale is how long Redis may be unreachable (or the stream read late)
	// before AlertStale fires; 0 means DefaultStale.
	Stale time.Duration
	// ReFireAfter is how long a resolved alert waits before its condition
	// may fire it again as a new episode; 0 means DefaultReFireAfter, a
	// negative one no wait.
	ReFireAfter time.Duration
}

// EvaluateAlerts appends to dst every alert the ledger can judge at now —
// holding or not — sorted by id. Thresholds, caps and levels come from
// Assess, run-out from Forecast: an alert and its gauge always agree.
func EvaluateAlerts(l *Ledger, now time.Time, h FeedHealth, opt AlertOptions, dst []Alert) []Alert {
	from := len(dst)
	period := l.period.Key
	for _, w := range l.ws {
		dst = l.workspaceAlerts(w, now, period, dst)
	}
	dst = append(dst, staleAlert(period, now, h, opt))
	dst = appendResyncAlerts(dst, period, now, h)
	slices.SortFunc(dst[from:], func(a, b Alert) int { return cmp.Compare(a.ID, b.ID) })
	return dst
}

func holds(b bool) AlertCondition {
	if b {
		return ConditionHolds
	}
	return ConditionEnded
}

func (l *Ledger) workspaceAlerts(w *wsState, now time.Time, period string, dst []Alert) []Alert {
	st := w.status(l.defaults)
	from := len(dst)
	base := Alert{Period: period, Workspace: w.name, Used: st.Used, PercentUsed: st.Percent, Level: st.Level}
	s := &w.settings
	if st.HasCap() {
		for _, t := range st.Thresholds {
			a := base
			a.Kind, a.Threshold, a.Cap, a.CapKind = AlertThreshold, t, st.Cap, st.CapKind
			a.ID = AlertID(period, w.name, "", a.Kind, strconv.Itoa(t))
			a.Condition = holds(Reached(w.used, st.Cap, t)) // Assess's rule, in 128 bits
			dst = append(dst, a)
		}
	} else if w.rechargedUnreadable != "" && st.Unknown.Has(FigCap) && (s.Allocation > 0 || s.UsageLimit > 0) {
		// the recharges decide the cap, and they cannot be read: each
		// threshold is known only where no cap they may make moves it (the
		// least cap, with none recharged; the most, the usage limit or
		// none)
		least := assess(s, Usage{Used: w.used}, l.defaults)
		for _, t := range st.Thresholds {
			a := base
			a.Kind, a.Threshold, a.Cap, a.CapKind = AlertThreshold, t, least.Cap, least.CapKind
			a.ID = AlertID(period, w.name, "", a.Kind, strconv.Itoa(t))
			switch {
			case !Reached(w.used, least.Cap, t):
				a.Condition = ConditionEnded
			case s.UsageLimit > 0 && Reached(w.used, s.UsageLimit, t):
				a.Condition = ConditionHolds
			default:
				a.Condition = ConditionUnknown
			}
			dst = append(dst, a)
		}
	}
	line := func(kind AlertKind, of int64) {
		a := base
		a.Kind, a.Cap = kind, of
		a.ID = AlertID(period, w.name, "", kind, "")
		a.Condition = holds(w.used >= of)
		dst = append(dst, a)
	}
	if s.Allocation > 0 {
		line(AlertAllocation, AddCredits(s.Allocation, w.recharged)) // saturated, as Assess's cap
		if w.rechargedUnreadable != "" && w.used >= s.Allocation {
			// allocation + recharges, the recharges unknown: below the
			// allocation it has ended whatever they hold, at or over it
			// nothing is known
			dst[len(dst)-1].Condition = ConditionUnknown
		}
	}
	if s.UsageLimit > 0 {
		line(AlertUsageLimit, s.UsageLimit)
	}
	if s.BudgetAlert > 0 {
		line(AlertBudget, s.BudgetAlert)
	}
	if a, ok := l.runOutAlert(w, base, now); ok {
		dst = append(dst, a)
	}
	th := s.Thresholds(l.defaults)
	type refusal struct {
		n              int64
		holds, unknown bool
	}
	refusals := map[string]*refusal{}
	for _, p := range w.projects {
		b := p.budget
		pst := p.status(w, th)
		pfrom := len(dst)
		project := func(kind AlertKind, of int64) {
			a := base
			a.Project, a.Kind, a.Cap, a.Used, a.Level = p.name, kind, of, p.used, max(pst.Level, LevelWarn)
			a.PercentUsed = pst.Percent // the project's, as its Used is (its thresholds' too)
			a.ID = AlertID(period, w.name, p.name, kind, "")
			a.Condition = projectHolds(l, p.used >= of)
			dst = append(dst, a)
		}
		if b.Alert > 0 {
			project(AlertProjectBudget, b.Alert)
		}
		if b.Limit > 0 {
			project(AlertProjectLimit, b.Limit)
			// the workspace's thresholds, as percents of the project's limit:
			// they fire before the project's 402s start, at its row's level
			for _, t := range pst.Thresholds {
				a := base
				a.Project, a.Kind, a.Threshold, a.Cap, a.CapKind = p.name, AlertThreshold, t, b.Limit, CapLimit
				a.Used, a.PercentUsed, a.Level = p.used, pst.Percent, pst.Level
				a.ID = AlertID(period, w.name, p.name, a.Kind, strconv.Itoa(t))
				a.Condition = projectHolds(l, Reached(p.used, b.Limit, t))
				dst = append(dst, a)
			}
		}
		if b.UsageUnreadable != "" {
			// the project's credits cannot be read (ProjectBudget.UsageUnreadable):
			// its lines neither hold nor ended; the workspace's own are judged
			for i := pfrom; i < len(dst); i++ {
				dst[i].Condition = ConditionUnknown
			}
		}
		for code, n := range p.refused {
			if n <= 0 {
				continue
			}
			r := refusals[code]
			if r == nil {
				r = &refusal{}
				refusals[code] = r
			}
			r.n = AddCredits(r.n, n)
			refusing, seen := p.refusing[code]
			if code == CodeBudgetExceeded {
				refusing = p.limitStands(w)
			}
			r.holds = r.holds || refusing
			r.unknown = r.unknown || !seen
		}
	}
	if w.unknownWhy(false) != "" {
		// the usage is unknown (or the settings it is judged by are) (LevelUnknown), or a limited project's credits
		// are (a used_by field, a 402 count): neither holds nor ended, so a
		// firing alert stays firing and none fires on a usage read as 0 —
		// the workspace's lines and its projects' alike
		for i := from; i < len(dst); i++ {
			dst[i].Condition = ConditionUnknown
		}
	}
	if l.unheldUse[w.name] != "" {
		// an entry from the stream crossed a line and the counters are not
		// seen to hold it yet (heldrefusals.go): a line that holds waits
		for i := from; i < len(dst); i++ {
			if dst[i].Kind != AlertRunOut && dst[i].Condition == ConditionHolds {
				dst[i].Condition = ConditionUnknown
			}
		}
	}
	for code, r := range refusals {
		a := base
		a.Kind, a.Code, a.Refused = AlertRefusals, code, r.n
		// at the row's verdict and never below warn: refused calls are never
		// "ok", even in a workspace far from its own cap (a project's limit)
		a.Level = max(l.verdict(w, st).Level, LevelWarn)
		held := l.refusalHeld(w)
		switch {
		case l.historyPending:
			a.Condition = ConditionUnknown // who is refused comes from the hour read back
		case !held:
			a.Condition = ConditionUnknown // a 402 the counters are not seen to hold yet (heldrefusals.go)
		case r.holds:
			a.Condition = ConditionHolds
		case r.unknown:
			a.Condition = ConditionUnknown // 402s this instance did not see end
		default:
			a.Condition = ConditionEnded
		}
		a.Cap, a.CapKind = st.Cap, st.CapKind
		a.ID = AlertID(period, w.name, "", AlertRefusals, orDash(code))
		if code == CodeCreditsExhausted {
			// the row's OUT rule itself (blocked: a credits_exhausted 402
			// newer than the last credit added), one alert per OUT episode
			a.ID = AlertID(period, w.name, "", AlertRefusals, w.out.detail())
			if !l.historyPending && held {
				a.Condition = holds(w.blocked)
			}
			a.Allocation, a.Recharged = s.Allocation, w.recharged
			if w.out.set {
				a.OutAllocation, a.OutRecharged = w.out.allocation, w.out.recharged
			}
			if prev := w.prevOut; prev.set && prev.detail() != w.out.detail() {
				// the episode before ended by credit added: judged too, so
				// it resolves as such when credit and 402 came together
				b := a
				b.ID = AlertID(period, w.name, "", AlertRefusals, prev.detail())
				b.OutAllocation, b.OutRecharged = prev.allocation, prev.recharged
				if !l.historyPending && held {
					b.Condition = ConditionEnded
				}
				dst = append(dst, b)
			}
		}
		dst = append(dst, a)
	}
	return dst
}

// projectHolds judges a project's line: unknown while the project credits
// (used_by) are still read after a start, when every project reads 0 credits
// (a restarted instance resolved what one that watched all along had fired).
func projectHolds(l *Ledger, b bool) AlertCondition {
	if l.usedByPending {
		return ConditionUnknown
	}
	return holds(b)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runOutAlert judges the forecast the workspace's row shows
// (VerdictForecast): of the budget that sets its level, its own cap or a
// project's usage limit — then the alert names the project (Project, its
// credits, its limit, its burn), whose calls the API will refuse. Its id stays
// the workspace's. false when neither budget has a cap. Until the ledger has
// read the last hour back and observed MinSpan its burn rate is not one, so
// the condition is unknown rather than ended: a freshly started instance
// must not resolve (or fire) what one that watched all along judges otherwise.
func (l *Ledger) runOutAlert(w *wsState, base Alert, now time.Time) (Alert, bool) {
	v, f := l.verdictForecast(w, now)
	if !v.Status.HasCap() {
		return Alert{}, false
	}
	a := base
	a.Kind = AlertRunOut
	a.Level = max(v.Level, LevelWarn) // running out before the reset is never "ok"
	a.Cap, a.CapKind = v.Status.Cap, v.Status.CapKind
	a.ID = AlertID(base.Period, w.name, "", AlertRunOut, "")
	if v.Project != "" {
		a.Project, a.Used, a.PercentUsed = v.Project, v.Status.Used, v.Status.Percent
	}
	a.BurnPerHour = f.BurnPerHour
	if a.Condition = l.runOutCondition(&f, now); a.Condition == ConditionHolds {
		a.RunOutIn, a.Spare = f.RunsOutIn, max(f.Left-f.RunsOutIn, 0)
		if f.AfterRecharges {
			// it runs out at its usage limit, after top-ups: "runs out of
			// credits … of its 12,000-credit cap" said credits that the
			// auto-recharge adds
			a.TopUps, a.TopUp, a.UsageLimit = f.RechargesLeft, f.RechargeAmount, f.usageLimit
		}
	}
	return a, true
}

// runOutJudged reports whether the ledger can judge a run-out at now: part of
// the hour not read back yet (or observed for less than MinSpan), the burn,
// its idle rule and so the run-out would be judged on part of it.
func (l *Ledger) runOutJudged(now time.Time) bool {
	return !l.historyPending && now.UnixMilli()-l.observedFrom >= MinSpan.Milliseconds()
}

// runOutCondition is the run-out alert's condition from the workspace's
// forecast f at now: the one rule runOutAlert and AlertEvaluator share.
func (l *Ledger) runOutCondition(f *Forecast, now time.Time) AlertCondition {
	switch {
	case !l.runOutJudged(now):
		return ConditionUnknown
	case f.RunsOut && f.RunsOutIn == 0 && (f.Remaining <= 0 || f.LimitHeld):
		// (or a budget_exceeded 402 holds it at its limit, and the
		// refusals alert says so)
		// the cap is used up: no forecast is left, and the line's own alert
		// (allocation_reached, usage_limit_reached, project_limit_reached)
		// says so — a run_out fired now would say the same a second time. One
		// fired before stays firing: its forecast came true.
		return ConditionUnknown
	case f.RunsOut:
		return ConditionHolds
	case f.FewCharges:
		// too few charges to judge a rate by (EnoughEvidence): neither
		// fired nor resolved until the window holds enough or nothing, or
		// the workspace is idle (Forecast.Idle clears FewCharges: ended
		// below; a pause no longer holds it unknown)
		return ConditionUnknown
	}
	// idle (Forecast.Idle: silent for 4 of its typical silences between
	// bursts, 1 to 15 min) ends it, as the row says idle: one judgement.
	// Before, a pause held a firing run_out until the BurnWindow held no
	// charge, so a bursty spender's row read "idle · 0/h" beside a run_out
	// alert that fired (README, "Forecasts and levels: the rules")
	return ConditionEnded
}

// appendResyncAlerts appends one AlertResync per reason of ResyncReasons:
// it holds from a re-read of its reason for ResyncHold, then ended (ended
// too when this follower made none: what it shows is what it read). That
// condition is this follower's own; the lifecycle judges the alert from the
// stored record instead (resyncStep), so that every instance agrees.
func appendResyncAlerts(dst []Alert, period string, now time.Time, h FeedHealth) []Alert {
	for _, r := range ResyncReasons {
		a := Alert{Kind: AlertResync, Period: period, ID: AlertID(period, "", "", AlertResync, r.Reason), Level: r.Level, Reason: r.Reason}
		a.Condition = ConditionEnded
		for i := len(h.Resyncs) - 1; i >= 0; i-- {
			if x := h.Resyncs[i]; x.Reason == r.Reason {
				a.Note, a.ResyncAt = x.Note, x.At
				a.Condition = holds(now.Sub(x.At) < ResyncHold)
				break
			}
		}
		dst = append(dst, a)
	}
	return dst
}

func staleAlert(period string, now time.Time, h FeedHealth, opt AlertOptions) Alert {
	limit := opt.Stale
	if limit <= 0 {
		limit = DefaultStale
	}
	a := Alert{Kind: AlertStale, Period: period, ID: AlertID(period, "", "", AlertStale, ""), Level: LevelCritical}
	switch {
	case !h.Connected && !h.Since.IsZero():
		a.Unreachable, a.Down = h.Unreadable == "", max(now.Sub(h.Since), 0)
		a.Unreadable = h.Unreadable
	case h.Connected:
		a.Down = h.Lag
	}
	a.Condition = holds(a.Down >= limit)
	return a
}

// AlertRecord is an alert's place in its lifecycle, as stored (shared by
// every instance) and listed by `mavtop alerts`.
type AlertRecord struct {
	// Alert is the alert as it fired, then as it resolved.
	Alert  Alert       `json:"alert"`
	Status AlertStatus `json:"status"`
	// FiredAt and ResolvedAt are when the transitions were decided.
	FiredAt    time.Time `json:"fired_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// FiredStream is the stream id the deciding ledger had read to when it
	// fired: only a ledger that has read at least as far may resolve it, so an
	// instance a moment behind never resolves what a faster one just fired.
	// From the Pattern 1 counters, which have no stream id, it is the
	// server time after the ledger's newest reading (ReadPosition.To, as a
	// stream id), and "as far" is its last full reading's From
	// (Ledger.ReadTo).
	FiredStream string `json:"fired_stream,omitempty"`
	// ResolvedStream is the stream id the deciding ledger had read to when it
	// resolved: only a ledger that has read at least as far may fire its
	// next episode, so an instance a moment behind (the allocation raise not
	// read yet) never fires again what a faster one just resolved. From the
	// counters, a server time as FiredStream.
	ResolvedStream string `json:"resolved_stream,omitempty"`
}

// Apply makes r the record of transition tr, as the lifecycle store keeps
// it (feed.AlertStore's claim, and every copy of a record an instance keeps
// in memory until it reads the store again): a firing makes a new record
// of tr's alert; a resolution keeps FiredAt and FiredStream and takes tr's
// alert — the alert as it resolved, not as it fired — its time and its
// stream. Whether tr is the alert's next transition is the caller's to
// check (the store's claim). The lifecycle rule judges a resolved record
// by what this keeps, so a test that records transitions uses it too: a
// simulated store that kept the firing's alert hid a rule that read the
// resolution's (issue 11, hostile11).
func (r *AlertRecord) Apply(tr *AlertTransition) {
	if tr.Status == AlertFiring {
		*r = AlertRecord{Alert: tr.Alert, Status: AlertFiring, FiredAt: tr.At, FiredStream: tr.Stream}
		return
	}
	r.Alert, r.Status, r.ResolvedAt, r.ResolvedStream = tr.Alert, AlertResolved, tr.At, tr.Stream
}

// AlertTransition is one step of an alert's lifecycle to announce.
type AlertTransition struct {
	Alert  Alert       `json:"alert"`
	Status AlertStatus `json:"status"`
	At     time.Time   `json:"at"`
	// Stream is the ledger's stream id when it was decided.
	Stream string `json:"stream,omitempty"`
	// Removed marks a resolution because the ledger no longer judges the
	// alert at all, not because its condition ended: a line removed from the
	// settings, or (for refusals, which come from the counters, not the
	// settings) a counter re-read that shows no such 402s. Alert holds the
	// numbers as it fired, which say nothing of now, so the summary must not
	// claim it is "back under" anything, and names which of the two happened.
	Removed bool `json:"removed,omitempty"`
	// Why says, for a Removed threshold, what the thresholds it is judged by
	// are now (the workspace's own, or the default ones every instance
	// sharing the Redis judges by): "" when the ledger cannot tell.
	Why string `json:"why,omitempty"`
}

// Key is the transition's idempotency key: the alert id and the status.
func (t *AlertTransition) Key() string { return t.Alert.ID + "#" + string(t.Status) }

// AlertTransitions is AlertOptions{}.Transitions: the lifecycle rule with
// the default re-fire hold-off.
func AlertTransitions(known map[string]AlertRecord, cands []Alert, period, stream string, now time.Time) []AlertTransition {
	return AlertOptions{}.Transitions(known, cands, period, stream, now)
}

// Transitions compares the lifecycle so far (known, by id) with the alerts
// judged now (cands, from EvaluateAlerts on a ledger of period that has
// read the stream to stream; their ids the first episode's) and returns the
// transitions due, sorted by id:
//
//   - an alert whose condition holds and that never fired this period fires;
//   - a firing alert whose condition ended resolves, if this ledger has read
//     at least as far as the one that fired it;
//   - a resolved alert whose condition holds again fires again as its next
//     episode ("…/threshold/75~2"), once the resolution is ReFireAfter old
//     and this ledger has read as far as the one that resolved it, up to
//     MaxEpisodes per workspace and period (decide);
//   - a firing alert of an earlier period resolves (the period rolled over),
//     as does one of this period the ledger no longer judges at all (its line
//     was removed from the settings).
//
// An alert whose condition is unknown changes nothing.
func (o AlertOptions) Transitions(known map[string]AlertRecord, cands []Alert, period, stream string, now time.Time) []AlertTransition {
	var out []AlertTransition
	set := records{val: known}
	x := indexOf(set)
	seen := make(map[string]bool, len(cands))
	for _, a := range cands {
		seen[a.ID] = true
		if a.Kind == AlertResync {
			if what, id, _ := resyncStep(&a, a.ID, x, set, now); what != stepNone {
				out = append(out, transitionOf(a, what, id, stream, now))
			}
			continue
		}
		if what, id, _ := o.decide(a.Condition, a.ID, !feedKind(a.Kind), x, set, stream, now); what != stepNone {
			out = append(out, transitionOf(a, what, id, stream, now))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(known)) {
		rec := known[id]
		if base, _ := SplitEpisode(id); seen[base] {
			continue
		}
		if due, removed, _ := goneStep(rec, period, stream); due {
			out = append(out, AlertTransition{Alert: rec.Alert, Status: AlertResolved, At: now, Stream: stream, Removed: removed})
		}
	}
	return boundEpisodes(out, x)
}

// Summary says in one plain sentence what the transition means, with the
// numbers as the gauges show them ("acme used 75 % of its 1,000-credit
// allocation"), never a bare percent.
func (t *AlertTransition) Summary(period string) string {
	a := &t.Alert
	if t.Status == AlertResolved && a.Period != period && period != "" {
		return fmt.Sprintf("billing period %s ended: %s", a.Period, a.sentence(false))
	}
	if t.Status == AlertFiring {
		return a.sentence(false)
	}
	if t.Removed && a.Kind == AlertRefusals {
		// Refusals are judged from the counters alone: no settings line
		// exists to remove, so the only way out is a re-read without them.
		return fmt.Sprintf("%s's 402 %s refusals are gone from the usage counters (re-read, they show none this period); it had fired as: %s", a.where(), a.Code, a.sentence(false))
	}
	if t.Removed && t.Why != "" {
		return fmt.Sprintf("%s is no longer alerted on at %d %% (%s); it had fired as: %s", a.where(), a.Threshold, t.Why, a.sentence(false))
	}
	if t.Removed {
		return fmt.Sprintf("%s is no longer alerted on (its line was removed from the settings); it had fired as: %s", a.where(), a.sentence(false))
	}
	return a.sentence(true)
}

func (a *Alert) where() string {
	if a.Workspace == "" {
		return FeedAlertName(a.ID) // never an empty subject
	}
	if a.Project != "" {
		return a.Workspace + "/" + a.Project
	}
	return a.Workspace
}

// capWord names the effective cap an alert is judged against as it is:
// the usage limit, or the cap, the allocation plus this period's recharges
// (README, help: "its 1,500-credit allocation" counted the recharges
// without saying so; "allocation + recharges" cut the banner at 80 columns).
func capWord(k CapKind) string {
	if k == CapLimit {
		return "usage limit"
	}
	return "cap"
}

// atTheTime heads the figures in an alert's parentheses: they are the ones
// it was judged with (when it fired or resolved), kept in its record and
// shown beside rows that say the figures of now; "(1,125 credits used, 75 %)"
// beside a row at 92 % read as current.
const atTheTime = "at the time: "

// sentence words the alert as it fires, or as it resolves: one case per kind,
// so the two wordings of a kind stay side by side and share their numbers.
func (a *Alert) sentence(resolved bool) string {
	used := atTheTime + FormatCredits(a.Used) + " credits used"
	// "760 of 1,000 credits": the figures in the parentheses, which a
	// narrow banner leaves out first, not in the sentence it keeps
	of := atTheTime + FormatCredits(a.Used) + " of " + FormatCredits(a.Cap) + " credits"
	either := func(firing, back string) string {
		if resolved {
			return back
		}
		return firing
	}
	switch a.Kind {
	case AlertThreshold:
		return fmt.Sprintf("%s %s %d %% of its %s-credit %s (%s, %s)", a.where(), either("used", "is back under"),
			a.Threshold, FormatCredits(a.Cap), capWord(a.CapKind), used, FormatPercent(a.PercentUsed))
	case AlertAllocation:
		return either(fmt.Sprintf("%s used all its credits (%s)", a.where(), of),
			fmt.Sprintf("%s has credits again: its allocation is now %s credits (%s)", a.where(), FormatCredits(a.Cap), used))
	case AlertUsageLimit, AlertProjectLimit:
		return either(fmt.Sprintf("%s reached its usage limit (%s): its calls now get 402 budget_exceeded", a.where(), of),
			fmt.Sprintf("%s is under its usage limit again: the limit is now %s credits (%s)", a.where(), FormatCredits(a.Cap), used))
	case AlertBudget, AlertProjectBudget:
		return either(fmt.Sprintf("%s reached its budget alert (%s, alert at %s)", a.where(), used, FormatCredits(a.Cap)),
			fmt.Sprintf("%s is under its budget alert again: the alert is now at %s credits (%s)", a.where(), FormatCredits(a.Cap), used))
	case AlertRefusals:
		if resolved && a.Code == CodeCreditsExhausted {
			// only credit added ends it (the OUT rule), never a call
			return fmt.Sprintf("credit added to %s: %s, after 402 %s (%s%d this period; %s credits: allocation %s + recharges %s, %s credits used)",
				a.where(), a.creditAdded(), a.Code, atTheTime, a.Refused, FormatCredits(AddCredits(a.Allocation, a.Recharged)),
				FormatCredits(a.Allocation), FormatCredits(a.Recharged), FormatCredits(a.Used))
		}
		return fmt.Sprintf(either("the API refuses %s's calls with 402 %s (%d this period)", "%s's calls succeed again after 402 %s (%d this period)"),
			a.where(), a.Code, a.Refused)
	case AlertRunOut:
		burn := FormatCredits(RoundCredits(a.BurnPerHour))
		if a.RunOutIn <= 0 && !resolved {
			// its cap is used up already: "runs out in 0 s at 0 credits/h"
			// said a burn that runs nothing out; a cap with credits left that
			// cannot cover one more typical charge is reached (Forecast.Reached)
			what := "cannot cover one more typical charge"
			if a.Used >= a.Cap {
				what = OutWords(a.CapKind)
			}
			return fmt.Sprintf("%s %s, %s before the billing period ends (%s of its %s-credit %s)", a.where(), what,
				HumanizeDuration(a.Spare), used, FormatCredits(a.Cap), capWord(a.CapKind))
		}
		if a.UsageLimit > 0 && !resolved {
			// the detail's words (RechargeWords), with the limit's figure
			return fmt.Sprintf("%s runs out after recharges in %s at %s credits/h (%s, then its %s-credit usage limit), %s before the billing period ends (%s of its %s-credit %s)",
				a.where(), HumanizeDuration(a.RunOutIn), burn, TopUpsWords(a.TopUps, a.TopUp), FormatCredits(a.UsageLimit),
				HumanizeDuration(a.Spare), used, FormatCredits(a.Cap), capWord(a.CapKind))
		}
		return either(fmt.Sprintf("%s %s in %s at %s credits/h, %s before the billing period ends (%s of its %s-credit %s)",
			a.where(), RunsOutWords(a.CapKind), HumanizeDuration(a.RunOutIn), burn, HumanizeDuration(a.Spare), used, FormatCredits(a.Cap), capWord(a.CapKind)),
			fmt.Sprintf("%s no longer runs out before the billing period ends at its burn of %s credits/h (%s)", a.where(), burn, used))
	case AlertResync:
		note := a.Note
		if note == "" {
			note = "counters re-read (" + a.Reason + ")"
		}
		if resolved && a.Next != "" {
			return fmt.Sprintf("superseded by a new re-read of the counters (%s): %s", a.Next, note)
		}
		return either(note, fmt.Sprintf("what mavtop shows has matched the counters for %s since: %s", HumanizeDuration(ResyncHold), note))
	case AlertStale:
		switch {
		case resolved:
			return "the usage feed is flowing again"
		case a.Unreachable:
			return fmt.Sprintf("mavtop cannot reach Redis: no usage news for %s", HumanizeDuration(a.Down))
		case a.Unreadable != "":
			return fmt.Sprintf("the usage stream cannot be read (%s): no usage news for %s", a.Unreadable, HumanizeDuration(a.Down))
		}
		return fmt.Sprintf("the usage stream is read %s late", HumanizeDuration(a.Down))
	}
	return a.where() + " " + string(a.Kind) + either("", " resolved")
}

// creditAdded says what credit ended a credits_exhausted refusal, from the
// workspace's allocation and recharges now and when its OUT began:
// "recharge +50", "allocation raised +500", both, or the credits it has when
// the episode's start is not known (a fresh start).
func (a *Alert) creditAdded() string {
	var parts []string
	if d := a.Recharged - a.OutRecharged; d > 0 {
		parts = append(parts, "recharge +"+FormatCredits(d))
	}
	if d := a.Allocation - a.OutAllocation; d > 0 && a.OutAllocation > 0 {
		parts = append(parts, "allocation raised +"+FormatCredits(d))
	}
	if len(parts) == 0 {
		return "credits added"
	}
	return strings.Join(parts, ", ")
}

// HumanizeDuration says a duration the way the dashboard does: "45 s",
// "12 min", "5 h", "2 days", rounded down so a forecast never sounds later
// than it is.
func HumanizeDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(d, 0)/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d days", d/(24*time.Hour))
}

// SplitAlertID returns the period an alert id belongs to.
func SplitAlertID(id string) (period string, ok bool) {
	period, _, ok = strings.Cut(id, "/")
	return period, ok && period != ""
}

// RemovedWhy says why the ledger no longer judges a threshold alert a of its
// period (AlertTransition.Why): the thresholds a's workspace is judged by
// now, its own or the shared defaults ("" for another kind, period or
// workspace, or a threshold still among them).
func (l *Ledger) RemovedWhy(a *Alert) string {
	if a.Kind != AlertThreshold || a.Period != l.period.Key {
		return ""
	}
	w := l.ws[a.Workspace]
	if w == nil {
		return ""
	}
	th := w.settings.Thresholds(l.defaults)
	if slices.Contains(th, a.Threshold) {
		return "" // still a threshold: its cap (or the project's limit) is what went
	}
	parts := make([]string, len(th))
	for i, t := range th {
		parts[i] = strconv.Itoa(t)
	}
	now := strings.Join(parts, "/") + " %"
	if len(w.settings.Alerts) > 0 {
		return "its own thresholds are now " + now
	}
	return "the default thresholds every mavtop sharing the Redis judges by are now " + now + " (mavtop budget rules)"
}
