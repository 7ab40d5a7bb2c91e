package model

import (
	"cmp"
	"slices"
	"strings"
)

// Summary is one workspace as the gauges show it.
type Summary struct {
	Name string
	// Settings are the workspace's settings; HasSettings is false when none are
	// stored (the screen then says "no allocation set").
	Settings    Settings
	HasSettings bool
	Used        int64
	Recharged   int64
	Refused     Refusals
	// LastTS is the newest event's time (unix ms), 0 when none is known
	// this period.
	LastTS int64
	// LastBefore, when LastTS is 0 and the workspace has credits used, 402s
	// or recharges this period, is a time its newest event is older than
	// (unix ms: what the start read back reached, Ledger.DateRows): its row
	// reads "> 3 h", not "—" (none). 0 otherwise.
	LastBefore int64
	// Blocked is true while the API refuses the workspace with 402.
	Blocked bool
	// RefusedUnreadable says why its 402 count could not be read at the
	// last Seed (Snapshot.RefusedUnreadable): Refused is not all of it, so
	// no 402 figure of it is a reading; its usage and level are known.
	RefusedUnreadable string
	Status
	// Verdict is the row's judgement: Status, or a project's usage limit when
	// that is worse. The by-use order ranks by it, as the row shows it.
	Verdict Verdict
}

// status judges the workspace with Assess: the one judgement. A
// budget_exceeded 402 of its own usage limit that stands holds it at the
// limit (wsState.limitHeld).
func (w *wsState) status(defaults []int) Status {
	return Assess(&w.settings, Usage{Used: w.used, Recharged: w.recharged, Refusing: w.blocked,
		LimitRefusing: w.limitHeld(), Unreadable: w.unreadable, RechargedUnreadable: w.rechargedUnreadable}, defaults)
}

// status judges the project's budget with Assess, by the workspace's
// thresholds: a budget_exceeded 402 of its own usage limit that stands holds
// it at the limit (projState.limitHeld), w being its workspace. A project's
// limit reached is its LevelExhausted, whether the counters or the API say
// so: never its workspace OUT (Verdict.LimitReached).
func (p *projState) status(w *wsState, thresholds []int) Status {
	b := p.budget.Settings()
	held, _ := p.limitHeld(w)
	st := Assess(&b, Usage{Used: p.used, LimitRefusing: held, Unreadable: p.budget.UsageUnreadable}, thresholds)
	if st.LimitHeld {
		st.Level = LevelExhausted
	}
	return st
}

// Spendable is the credits a job may still spend in the workspace, and
// whether a budget says so: Remaining (RemainingKnown), but none — known —
// while the API refuses it with a credits_exhausted 402 newer than its last
// credit (Blocked: OUT whatever the counters leave). The one rule of the
// estimator's pre-flight, its retry queue and the dashboard client's
// pre-flight: a job is never "affordable" into a known 402.
func (s *Summary) Spendable() (int64, bool) {
	if s.Blocked {
		return 0, true
	}
	return s.Remaining, s.RemainingKnown
}

func (l *Ledger) summary(w *wsState) Summary {
	st := w.status(l.defaults)
	s := Summary{
		Name: w.name, Settings: w.settings, HasSettings: w.hasSettings,
		Used: w.used, Recharged: w.recharged, Refused: w.refused, LastTS: w.lastTS,
		Blocked: w.blocked, Status: st, Verdict: l.verdict(w, st),
		RefusedUnreadable: w.refusedUnreadable,
	}
	if w.lastTS == 0 && l.agesBefore > 0 && Active(w.used, w.refused.Total(), w.recharged) {
		s.LastBefore = l.agesBefore
	}
	return s
}

// Active reports whether a workspace with these counters this period
// (credits used, 402s, credits recharged) had an event this period: one
// whose newest event was not read is older than what was read ("> 3 h"),
// not absent ("—").
func Active(used, refused, recharged int64) bool {
	return used != 0 || refused != 0 || recharged != 0
}

// Summaries appends every workspace's summary to dst, in no particular order.
func (l *Ledger) Summaries(dst []Summary) []Summary {
	dst = slices.Grow(dst, len(l.ws))
	for _, w := range l.ws {
		dst = append(dst, l.summary(w))
	}
	return dst
}

// Names appends every workspace's name to dst, in no particular order.
func (l *Ledger) Names(dst []string) []string {
	for name := range l.ws {
		dst = append(dst, name)
	}
	return dst
}

// Summary returns one workspace's summary.
func (l *Ledger) Summary(ws string) (Summary, bool) {
	w := l.ws[ws]
	if w == nil {
		return Summary{}, false
	}
	return l.summary(w), true
}

// CompareByUse orders the most used first, by the verdict each row shows (a
// project at its usage limit ranks its workspace as critical at 100 %, not
// OUT: Verdict.LimitReached): exhausted,
// then by percent of the cap that sets the level, then workspaces without a cap by credits; ties by name so the order is stable
// from frame to frame.
func CompareByUse(a, b *Summary) int {
	as, bs := a.ranked(), b.ranked()
	if c := cmp.Compare(b2i(bs.Level == LevelExhausted && !b.Verdict.LimitReached), b2i(as.Level == LevelExhausted && !a.Verdict.LimitReached)); c != 0 {
		return c
	}
	ac, ap := a.Verdict.rankCap(as)
	bc, bp := b.Verdict.rankCap(bs)
	if c := cmp.Compare(b2i(bc), b2i(ac)); c != 0 {
		return c
	}
	if c := cmp.Compare(bp, ap); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Used, a.Used); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// ranked is the judgement the row shows: a project's usage limit when the
// verdict names one, else the workspace's own Status.
func (s *Summary) ranked() *Status {
	if s.Verdict.Project != "" {
		return &s.Verdict.Status
	}
	return &s.Status
}

// rankCap is whether the row ranks as one with a cap, and at what percent:
// st's (the status the row shows), but a limit reached (LimitReached: by
// the counters, or held by a budget_exceeded 402 whatever they leave) ranks
// as a cap at 100 % at least, above every row merely critical, as the row
// says "limit reached".
func (v *Verdict) rankCap(st *Status) (hasCap bool, percent float64) {
	if v.LimitReached {
		return true, max(st.Percent, 100)
	}
	return st.HasCap(), st.Percent
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// EndpointTotal is credits spent on one endpoint.
type EndpointTotal struct {
	Endpoint string
	Credits  int64
}

// Endpoints returns credits by endpoint for a workspace, or for all when ws is "",
// largest first.
func (l *Ledger) Endpoints(ws string) []EndpointTotal {
	if ws == "" {
		return sortedTotals(l.endpointsAll) // kept as events arrive
	}
	sums := map[string]int64{}
	if w := l.ws[ws]; w != nil {
		for _, p := range w.projects {
			for _, ec := range p.endpoints {
				sums[ec.name] = AddCredits(sums[ec.name], ec.credits)
			}
		}
	}
	return sortedTotals(sums)
}

func sortedTotals(sums map[string]int64) []EndpointTotal {
	out := make([]EndpointTotal, 0, len(sums))
	for ep, n := range sums {
		out = append(out, EndpointTotal{Endpoint: ep, Credits: n})
	}
	slices.SortFunc(out, func(a, b EndpointTotal) int {
		if c := cmp.Compare(b.Credits, a.Credits); c != 0 {
			return c
		}
		return cmp.Compare(a.Endpoint, b.Endpoint)
	})
	return out
}

// ProjectSummary is one project inside a workspace.
type ProjectSummary struct {
	Name      string
	Used      int64
	Budget    ProjectBudget
	HasBudget bool
	Refused   Refusals
	Endpoints []EndpointTotal
	// Status judges the project's usage limit by Assess, with the workspace's
	// thresholds in force.
	Status Status
}

// Projects returns a workspace's projects, most used first ("" is the workspace's
// calls made without a project).
func (l *Ledger) Projects(ws string) []ProjectSummary {
	w := l.ws[ws]
	if w == nil {
		return nil
	}
	out := make([]ProjectSummary, 0, len(w.projects))
	th := w.settings.Thresholds(l.defaults)
	for _, p := range w.projects {
		ps := p.summary(p.status(w, th))
		sums := make(map[string]int64, len(p.endpoints))
		for _, ec := range p.endpoints {
			sums[ec.name] = ec.credits
		}
		ps.Endpoints = sortedTotals(sums)
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b ProjectSummary) int {
		if c := cmp.Compare(b.Used, a.Used); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// Refusals returns up to max of the latest 402s, newest first, appended to dst.
func (l *Ledger) Refusals(dst []Refusal, max int) []Refusal { return l.refusals.newest(dst, max) }

// RefusalTotals returns this period's 402 count by class, over every workspace.
func (l *Ledger) RefusalTotals() Refusals { return l.refusedAll }

// Totals returns the ledger's counters in the shape of a Snapshot (Used, UsedBy,
// Refused, Recharged), so they can be compared with what Redis holds.
func (l *Ledger) Totals() *Snapshot {
	s := &Snapshot{
		Period: l.period, StreamID: l.streamID,
		Used: map[string]int64{}, UsedBy: map[string]int64{},
		Refused: map[string]int64{}, Recharged: map[string]int64{},
	}
	for _, w := range l.ws {
		s.Used[w.name] = w.used
		if w.recharged != 0 {
			s.Recharged[w.name] = w.recharged
		}
		for _, p := range w.projects {
			for _, ec := range p.endpoints {
				s.UsedBy[UsedByField(w.name, p.name, ec.name)] = ec.credits
			}
			for code, n := range p.refused {
				s.Refused[RefusedField(w.name, p.name, code)] = n
			}
		}
	}
	return s
}

// Verdict is a workspace judged together with its projects' usage limits: the
// level of whichever of its budgets is closest to refusing calls. A project at
// 95 of its 100-credit limit is refused at 100 however much of the
// workspace's allocation is left, so the workspace's verdict is critical
// while its own level (its gauge) is ok. check's status and every surface that
// sums a workspace up in one word use it; each budget's own level stays in
// Summary.Level and ProjectSummary.Status.
type Verdict struct {
	// Level is the most severe of the workspace's own level and its projects'
	// (Assess of each project's usage limit, by the workspace's thresholds).
	Level Level
	// Project names the project whose usage limit sets Level; "" when the
	// workspace's own cap does (a tie goes to the workspace; between projects
	// to the higher percent of its limit, then the first by name).
	Project string
	// Status is the judgement that sets Level: the workspace's or Project's
	// — or, for a workspace auto-recharge tops up that is critical by its
	// usage limit (Status.TopsUp), Assess of that limit alone (CapLimit).
	Status Status
	// LimitReached is true when Project is at its usage limit (its Status is
	// LevelExhausted: its calls get 402 budget_exceeded). The workspace is
	// not OUT — it has credits, its other projects run — so Level is
	// LevelCritical, ranked above a workspace or project merely critical;
	// the row says LimitReachedWords. OUT is the workspace's own: remaining
	// ≤ 0, or a credits_exhausted 402 newer than the last credit added.
	// A budget_exceeded 402 that stands (Status.LimitHeld) reaches the limit
	// that refused it whatever the counters leave: a project's, or the
	// workspace's own (Project "", its own Level then critical, not OUT).
	LimitReached bool
}

// Verdict judges workspace ws with its projects' usage limits (see Verdict);
// false when the ledger does not know ws. A project is judged only when it has
// a usage limit: a budget alert alone refuses nothing.
func (l *Ledger) Verdict(ws string) (Verdict, bool) {
	w := l.ws[ws]
	if w == nil {
		return Verdict{}, false
	}
	return l.verdict(w, w.status(l.defaults)), true
}

// verdict is w's Verdict, st its own status.
func (l *Ledger) verdict(w *wsState, st Status) Verdict {
	v := Verdict{Level: st.Level, Status: st, LimitReached: st.LimitHeld && st.Level == LevelCritical}
	if st.TopsUp && st.Level == LevelCritical && !st.LimitHeld {
		// critical by its usage limit's last threshold, the cap auto-recharge
		// tops up binding (Status.TopsUp): the judgement that sets the level
		// is the limit's, and the row's figures are of it ("90.3 % lim")
		v.Status = Assess(&Settings{UsageLimit: w.settings.UsageLimit, Alerts: w.settings.Alerts}, Usage{Used: st.Used}, l.defaults)
	}
	l.eachLimited(w, func(p *projState, pst Status) {
		level, reached := pst.Level, pst.Level == LevelExhausted || pst.LimitHeld && pst.Level == LevelCritical
		if reached {
			level = LevelCritical // a project's limit reached is not the workspace OUT
		}
		worse := verdictRank(level) > verdictRank(v.Level)
		switch {
		case level != v.Level:
		case reached != v.LimitReached:
			worse = reached // a limit reached outranks a budget merely critical
		case v.Project != "":
			worse = pst.Percent > v.Status.Percent || pst.Percent == v.Status.Percent && p.name < v.Project
		}
		if worse {
			v = Verdict{Level: level, Project: p.name, Status: pst, LimitReached: reached}
		}
	})
	return v
}

// verdictRank orders levels for a verdict as the monitoring convention ranks
// their check statuses (CRITICAL > WARNING > UNKNOWN > OK, WorseCheck): a
// budget that cannot be read outranks those known to be fine (unset, ok,
// warn), never one known to be close to refusing or refused (high, critical,
// exhausted). A workspace the API refuses with a project whose budget cannot
// be read is exhausted, not unknown (check exited 3 for it, not 2).
func verdictRank(l Level) int {
	switch l {
	case LevelUnknown:
		return int(LevelWarn)*2 + 1
	case LevelHigh, LevelCritical, LevelExhausted:
		return int(l)*2 + 2
	}
	return int(l) * 2
}

// eachLimited calls f with every project of w that has a usage limit, or
// that a budget_exceeded 402 holds at a limit mavtop was not told of
// (projState.limitHeld), and its status: Assess of the limit by w's
// thresholds, the one judgement of a project that Verdict, Judged and
// LimitedProjects weigh. It reads w's thresholds only when w has such a
// project.
func (l *Ledger) eachLimited(w *wsState, f func(p *projState, st Status)) {
	if !w.limits && w.refused[RefusedBudget] <= 0 {
		return // no project of it ever had a limit or was refused by one: no walk of its projects (the watcher asks at every forecast)
	}
	var th []int
	for _, p := range w.projects {
		if !p.budget.Judged() {
			if held, _ := p.limitHeld(w); !held {
				continue
			}
		}
		if th == nil {
			th = w.settings.Thresholds(l.defaults)
		}
		f(p, p.status(w, th))
	}
}

// summary is p as Projects and Judged list it, with st its status, without
// its endpoints.
func (p *projState) summary(st Status) ProjectSummary {
	ps := ProjectSummary{Name: p.name, Used: p.used, Budget: p.budget, HasBudget: p.hasBudget, Status: st}
	for code, n := range p.refused {
		ps.Refused[ClassOf(code)] = AddCredits(ps.Refused[ClassOf(code)], n)
	}
	return ps
}

// Judged is one workspace as a report of every workspace lists it (mavtop
// check): its summary, its verdict and the projects the verdict weighs, each
// as Summary, Verdict and Projects give them.
type Judged struct {
	Summary
	Verdict Verdict
	// Limited are the workspace's projects with a usage limit, by name,
	// without their endpoints (nil when none has one).
	Limited []ProjectSummary
	// limited is Limited's array, kept from one workspace to the next.
	limited []ProjectSummary
}

// JudgeAll calls visit with every workspace judged, in name order; j and
// j.Limited are reused from one call to the next (copy what you keep). It costs a sort of the names and one visit
// of each workspace: no lookup by name (at 100k workspaces, Summary and
// Verdict by name for each took longer than judging them).
func (l *Ledger) JudgeAll(visit func(j *Judged)) {
	type ref struct {
		name string
		w    *wsState
	}
	refs := make([]ref, 0, len(l.ws))
	for name, w := range l.ws {
		refs = append(refs, ref{name, w})
	}
	slices.SortFunc(refs, func(a, b ref) int { return strings.Compare(a.name, b.name) })
	var j Judged
	for _, r := range refs {
		l.judge(r.w, &j)
		visit(&j)
	}
}

// judge fills j with w judged (see Judged): the one walk JudgeAll and
// JudgeSnapshot share. j.Limited's array is reused.
func (l *Ledger) judge(w *wsState, j *Judged) {
	j.Summary = l.summary(w)
	// the summary's own (l.verdict of w and the same status): asked again,
	// each workspace's projects were walked and judged once more
	j.Verdict = j.Summary.Verdict
	limited := j.Limited[:0]
	l.eachLimited(w, func(p *projState, st Status) { limited = append(limited, p.summary(st)) })
	j.limited, j.Limited = limited, nil
	if len(limited) > 0 {
		slices.SortFunc(limited, func(a, b ProjectSummary) int { return strings.Compare(a.Name, b.Name) })
		j.Limited = limited
	}
}

// LimitedProject is a project with a usage limit, judged (Assess of its limit
// by its workspace's thresholds): what Verdict weighs.
type LimitedProject struct {
	Workspace, Project string
	Status             Status
}

// LimitedProjects appends every project with a usage limit to dst, in no
// particular order: the projects a metric or a verdict judges. It costs a walk
// of the workspaces, not the per-endpoint totals Projects builds.
func (l *Ledger) LimitedProjects(dst []LimitedProject) []LimitedProject {
	for _, w := range l.ws {
		l.eachLimited(w, func(p *projState, st Status) {
			dst = append(dst, LimitedProject{Workspace: w.name, Project: p.name, Status: st})
		})
	}
	return dst
}

// raisedIn reports whether the workspace's allocation was raised in period p
// (Settings.raisedIn).
func (w *wsState) raisedIn(p Period) bool { return w.settings.raisedIn(p) }

// raisedIn reports whether the allocation was raised in period p (RaisedAt
// stamped in it): credits were added this period, as by a recharge.
func (s *Settings) raisedIn(p Period) bool { return s.RaisedAt > 0 && p.Contains(s.RaisedAt) }
