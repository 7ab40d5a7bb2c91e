package model

import (
	"maps"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// noLine is nextAt when a workspace or project has no unfired line left.
const noLine = math.MaxInt64

// DefaultRefusalLog is how many 402s a Ledger keeps for the log pane.
const DefaultRefusalLog = 500

// Ledger aggregates usage events of one billing period: per workspace and project
// the credits used, by endpoint, 402s, recharges, alert crossings and burn history.
// Memory is O(workspaces × (projects + endpoints) + history buckets), never O(events).
// A Ledger is not safe for concurrent use; each reader owns one (see Clone).
type Ledger struct {
	// owner marks the workspace states this ledger may change in place; a state
	// with another owner is shared with a clone and is copied before a change.
	owner  uint64
	rule   PeriodRule
	period Period
	// observedFrom (unix ms) is when burn history starts: a window reaching
	// further back than this is shortened so early rates are not diluted.
	observedFrom int64
	// lastRead (unix ms) is the newest event applied or the last Seed: where a
	// gap a heal fills starts. seeded is true after the first Seed.
	lastRead  int64
	seeded    bool
	ws        map[string]*wsState
	all       *burnRing
	refusals  refusalRing
	crossings []Crossing
	streamID  string
	// read is how far a ledger fed by the Pattern 1 counters has read
	// (zero for the stream's: ReadTo)
	read    ReadPosition
	counts  Counts
	version uint64 // bumped by every change, so readers can skip redrawing
	// members is bumped when a workspace is added or a Seed drops one, so a
	// reader's list of names (a filter's matches) knows it is stale even when
	// the count is unchanged (a re-read where one went and another came)
	members uint64
	// orders are every workspace in each of the gauges' orders, kept as
	// events arrive (see rerank); bulk pauses that while Seed rebuilds.
	orders [numOrders]rankList
	bulk   bool
	// refusedAll and endpointsAll are RefusalTotals and Endpoints("") kept as
	// events arrive, so a frame does not walk every workspace.
	refusedAll   Refusals
	endpointsAll map[string]int64
	// usedByPending: the project and endpoint credits are not read yet (a
	// Snapshot with UsedByLater); SeedUsedBy brings them. usedByAt is the
	// stream id that read included: events up to it are in the project
	// credits already, so Apply adds them to the workspace only ("" once an
	// event past it was applied).
	usedByPending bool
	usedByAt      string
	// usedByLog is, while usedByPending, the project credits of the events
	// applied meanwhile: the live stream flows while used_by is read, and the
	// read's id decides which of them the hash holds already (SeedUsedBy
	// adds the newer ones on top of it). O(events during the read).
	usedByLog []projCredit
	// historyPending: the last hour is being read back (a Snapshot with
	// HistoryLater) and EndHistory has not come yet: burn, idle, run-out, OUT
	// and who is refused are not judged from this ledger meanwhile.
	historyPending bool
	// readBack402 counts, by workspace, the credits_exhausted 402s of this
	// billing period read back (Backfill) that its counters may hold
	// (counts402): beyond what they count, some were written without their
	// counter and could be any of them (OutFacts.Surplus; taken off After
	// at EndHistory). Nil until the first.
	readBack402 map[string]int64
	// readBackMs is how far back (unix ms, stream id time) Backfill has
	// read: the oldest entry it was given, or the from of a page (complete
	// back to it), whichever is older. No entry older can be dated after it
	// (RefusalDecided, wsState.raiseOnlyNewer). 0 before the first.
	readBackMs int64
	// limitReadBack holds the workspaces a project of which had a
	// budget_exceeded 402 read back (projState.readBackLimit402), until
	// EndHistory. Nil until the first.
	limitReadBack map[string]struct{}
	// agesBefore is when what the start read back to date rows reaches
	// (DateRows, unix ms; 0: unknown): a workspace it left undated had its
	// newest event before it (Summary.LastBefore).
	agesBefore int64
	// audited: the follower audits the counters and reports agreements
	// (SetAudited); unheld maps a workspace to the stream id of its newest
	// 402 applied from the stream not yet seen in the counters (heldrefusals.go).
	// unheldUse likewise maps a workspace to the stream id of its newest
	// entry that crossed an alert line (a threshold, a cap, a limit) not yet
	// seen in the counters (heldrefusals.go).
	audited   bool
	unheld    map[string]string
	unheldUse map[string]string
	// defaults are the alert thresholds of workspaces without their own (nil:
	// the built-in 50/75/90 %); a configuration value, set once, handed to Assess.
	defaults []int
	// stamps is the last change stamp handed to a workspace state (see own):
	// an AlertEvaluator re-judges only the workspaces stamped since its last
	// call. epoch is bumped by every change that can move any workspace's
	// alerts at once (a Seed, the project credits read, the end of the hour
	// read back, the default thresholds): then it re-judges them all.
	stamps uint64
	epoch  uint64
	// changed names the workspaces stamped since the last takeChanged, each
	// once (a state stamped after changedFrom is listed already); bounded
	// (maxChanged): past it changedLost is set and the reader compares
	// every workspace's stamp instead. drains counts takeChanged calls, so
	// a reader can tell whether another took the list before it.
	changed     []string
	changedFrom uint64
	changedLost bool
	drains      uint64
	// refusalsGen is new (from refusalGens, unique in the process) whenever
	// the 402 log or a refused counter may have changed: a 402 applied, one
	// read back (Backfill), a Seed. A clone keeps its original's until
	// either changes (RefusalsVersion).
	refusalsGen uint64
	// uncounted keeps Uncounted's answer as 402s arrive (uncountedLog)
	uncounted uncountedLog
}

// maxChanged bounds Ledger.changed for n workspaces: a ledger nobody takes
// the list from (a viewer's) holds at most this many names.
func maxChanged(n int) int { return 1024 + n/8 }

// stamp hands w the ledger's next change stamp, listing it as changed the
// first time since the last takeChanged.
func (l *Ledger) stamp(w *wsState) {
	l.stamps++
	if w.stamp <= l.changedFrom && !l.changedLost {
		if len(l.changed) < maxChanged(len(l.ws)) {
			l.changed = append(l.changed, w.name)
		} else {
			l.changed, l.changedLost = nil, true
		}
	}
	w.stamp = l.stamps
}

// takeChanged returns the workspaces changed since the last call (lost:
// too many were to list them, compare every stamp instead) and starts a new
// list. The names are valid until the next change of the ledger.
func (l *Ledger) takeChanged() (names []string, lost bool) {
	names, lost = l.changed, l.changedLost
	l.changed, l.changedLost, l.changedFrom = l.changed[:0], false, l.stamps
	l.drains++
	return names, lost
}

// Counts are the ledger's own statistics.
type Counts struct {
	// Applied is the number of usage and recharge events counted.
	Applied int64
	// OtherPeriod is events skipped because their ts lies outside this period.
	OtherPeriod int64
	// BadSettings is settings entries whose JSON could not be used.
	BadSettings int64
	// CrossingsDropped is crossings discarded because nobody took them.
	CrossingsDropped int64
}

// projCredit is one event's project credits, kept while the used_by read
// is pending (see Ledger.usedByLog).
type projCredit struct {
	id, ws, project, endpoint string
	credits, ts               int64 // ts: the event's trusted time (Event.At)
}

type wsState struct {
	owner uint64 // the ledger that may change it (see Ledger.own)
	// stamp is the owner's change stamp when it last handed the state out
	// to be changed (Ledger.own): what an AlertEvaluator compares.
	stamp uint64
	// limits is set once a project of it is given a usage limit: only then
	// can its verdict differ from its own status (rankKeyOf skips the
	// projects otherwise, on every event).
	limits      bool
	name        string
	settings    Settings
	hasSettings bool
	used        int64
	recharged   int64
	refused     Refusals
	projects    map[string]*projState
	lastTS      int64
	// blocked: the API refused this workspace with credits_exhausted and no
	// credit (a recharge, an allocation raise) has been added since: the
	// OUT rule's judgement (OutByRefusal) of what the fields below and the
	// counters hold, made again whenever one changes (judgeOut).
	blocked bool
	// out is the OUT episode blocked last began (startOut): what its
	// credits_exhausted alert is named after, and what its resolution
	// compares with to say which credit was added.
	// prevOut is the episode before it (set: one began this period).
	out, prevOut outEpisode
	// unreadable says why the workspace's used or recharged counter could not
	// be read at the last Seed ("" when it could): its level is LevelUnknown
	// until a Seed reads a good value. Events applied meanwhile count on a base
	// that is not known, so they do not end it.
	unreadable string
	// refusedUnreadable says why its 402 count could not be read at the last
	// Seed (Snapshot.RefusedUnreadable); only the 402 figures are unknown.
	refusedUnreadable string
	// rechargedUnreadable says why its recharged counter alone could not be
	// read at the last Seed (Snapshot.RechargedUnreadable): its credits used
	// are known, what the recharges decide is not (Usage.RechargedUnreadable).
	rechargedUnreadable string
	// key is where the workspace stands in the ledger's orders; ranked is
	// false until it has a place there.
	key    rankKey
	ranked bool
	// creditNewer: a credit added (a recharge, an allocation raise),
	// applied live or read back, is newer than the history still to be
	// read back (see Backfill): it ended every credits_exhausted of its
	// projects, so an older 402 read back decides none (outLast says it
	// for the workspace's OUT; a project's refusing codes and settled flag
	// for the project's other refusals).
	creditNewer bool
	// raiseOnlyNewer: creditNewer was set by the allocation's raise alone,
	// read back or applied (raised_at against an entry's trusted time), with
	// no credit ordered by the stream (a recharge entry): a
	// credits_exhausted 402 read back dated after the raise is after the
	// credit still, though an entry newer in the stream, a 402 the API gave
	// before the raise and a producer wrote late, was dated before it
	// (before, a real 402 after a stamped raise, then a late one, read ok on
	// a start and in check, OUT on the watching dashboard).
	raiseOnlyNewer bool
	// readBack402IDMs is the stream id time (unix ms) of the
	// credits_exhausted 402 read back whose date decides OUT (RefusedAt):
	// a recharge older in the stream can be dated after that 402 only if
	// written less than MaxClockBehind before it (the 402 a late
	// producer's), so check reads on no further (RefusalDecided). 0: none.
	readBack402IDMs int64
	// outLast is the newest entry known that decides OUT (OutFacts.Last).
	outLast OutEntry
	// rechargedAt is the trusted time (Event.At, unix ms) of the newest
	// recharge entry known this period (0: none): a 402 older than it is
	// ended by it, wherever it stands in the stream (OutFacts.RechargedAt).
	rechargedAt int64
	// after402 is the credits_exhausted 402s known newer in the stream
	// than the last recharge entry, by date: those dated at or after the
	// last credit are OutFacts.After.
	after402 *dated402s // nil: none
	// preRecharge is the OUT state before the first recharge entry applied
	// since the counters were last read (nil: none): a re-read that finds
	// the counters hold none of those recharges goes back to it (healOut),
	// as a start reading the entry back does (countsRecharge).
	preRecharge *outState
	fired       uint16
	nextAt      int64
	// burn is made at the first credits spent: idle workspaces (or mavtop
	// check's ledger, which never sees an event) need none, and it holds only
	// the buckets its workspace spent in (see burnRing).
	burn *burnRing
}

type projState struct {
	name string
	used int64
	// endpoints are the project's credits by endpoint, sorted by name: a
	// slice, not a map, because every event of a workspace shared with a
	// clone copies its projects (Ledger.own), and a map of four endpoints
	// (~300 bytes and its counters) was the largest part of each copy and of
	// what the collector marks.
	endpoints []endpointCredit
	refused   map[string]int64 // by error code, as the refused hash counts them
	budget    ProjectBudget
	hasBudget bool
	// settled: a newer success of the project was folded while history is
	// read back, so older 402s no longer refuse it (see Backfill).
	settled bool
	// refusing holds the 402 codes this project is being refused with: set by
	// a 402, cleared by a successful call of the project (credits_exhausted
	// also by any success of the workspace or a recharge: the account has
	// credits again). Nil until the first 402.
	refusing map[string]bool
	// limit402 is the budget_exceeded 402s known (entries the counters may
	// hold) newer in the stream than the project's last success, by trusted
	// time (Event.At, unix ms): applied live, by a re-read's unapplied
	// entries, or read back. Those dated at or after the last raise of the
	// limit that gave them (limitRaisedStamp: the hash's stamps) are after
	// it (limitAfter), judged when asked, on every path alike: a raise
	// ends the 402s dated before its stamp wherever its settings entry
	// stands in the stream (hostile22 L2), as wsState.after402 for OUT.
	limit402 *dated402s // nil: none
	// readBackLimit402 is how many budget_exceeded 402s of the project a
	// start read back this period (Backfill, until EndHistory). Read back
	// beyond what the refused hash counts, some were written without their
	// counter (a raw XADD, a repeated field) and could be any of them: the
	// 402 holds the limit reached only while more are after the raise than
	// that surplus (limitStands), as OUT's rule (OutFacts.After, Surplus).
	readBackLimit402 int64
	fired            uint8
	nextAt           int64
	// burn is the project's own burn history, kept only while it has a usage
	// limit (limited): the limit's forecast, when the limit sets the
	// workspace's verdict (Ledger.VerdictForecast). Nil: none kept.
	burn *burnRing
}

// limited reports whether the project has a usage limit, so a verdict can
// be set by it and its burn is kept.
func (p *projState) limited() bool { return p.budget.Limit > 0 }

// endpointCredit is a project's credits on one endpoint.
type endpointCredit struct {
	name    string
	credits int64
}

// NewLedger returns an empty ledger for the period holding now.
func NewLedger(rule PeriodRule, now time.Time) *Ledger {
	return &Ledger{
		owner:        owners.Add(1),
		epoch:        epochs.Add(1), // its own (see epochs)
		refusalsGen:  refusalGens.Add(1),
		rule:         rule,
		period:       rule.At(now),
		observedFrom: now.UnixMilli(),
		ws:           make(map[string]*wsState),
		refusals:     newRefusalRing(DefaultRefusalLog),
		endpointsAll: map[string]int64{},
		all:          new(burnRing),
	}
}

// WithDefaultAlerts sets the alert thresholds of workspaces whose settings have
// none of their own (mavtop.toml's alerts.thresholds); it returns l. Call it
// before the ledger is seeded or sees events.
func (l *Ledger) WithDefaultAlerts(alerts []int) *Ledger {
	l.defaults = alerts
	l.newEpoch() // every threshold alert moves with them
	return l
}

// SetDefaultAlerts changes the thresholds of workspaces without their own on
// a ledger already seeded: the alert rules every instance shares changed while
// it runs (mavtop budget rules, or the rules stored read once Redis answered).
// Each such workspace's threshold lines (and its projects') are marked as at
// a Seed: those behind its usage by the new thresholds passed, without a
// crossing, the next armed; levels, ranks and threshold alerts follow the new
// thresholds from here (every workspace is judged again: a new epoch).
// O(workspaces); copies only the states of workspaces without their own.
func (l *Ledger) SetDefaultAlerts(alerts []int) {
	if slices.Equal(alerts, l.defaults) {
		return
	}
	l.defaults = alerts
	l.version++
	l.newEpoch()
	const thresholdBits = 1<<0 | 1<<1 | 1<<2 // wsState.fired's, see lines
	projectBits := uint8(firedProjectThreshold | firedProjectThreshold<<1 | firedProjectThreshold<<2)
	for _, w := range l.ws {
		if len(w.settings.Alerts) > 0 {
			continue // its own thresholds
		}
		w = l.own(w)
		w.fired &^= thresholdBits
		w.markPassed(l.defaults)
		for _, p := range w.projects {
			p.fired &^= projectBits
			p.markPassed(w.settings.Thresholds(l.defaults))
		}
	}
	l.rankAll()
}

// DefaultAlerts returns the thresholds of workspaces without their own (nil:
// the built-in 50/75/90 %).
func (l *Ledger) DefaultAlerts() []int { return l.defaults }

// Rule returns the billing-period rule the ledger cuts periods with.
func (l *Ledger) Rule() PeriodRule { return l.rule }

// Period returns the billing period the ledger counts.
func (l *Ledger) Period() Period { return l.period }

// StreamID returns the id of the newest stream entry reflected in the ledger.
func (l *Ledger) StreamID() string { return l.streamID }

// ReadTo is how far the ledger has read, as the alert lifecycle orders
// judgements (AlertRecord.FiredStream): from, every change Redis made before
// it is in the ledger (a transition that undoes another's is made only by a
// ledger whose from is not before the position recorded with that one);
// seen, no change after it is (recorded with a transition made on it). Fed
// by the stream both are its stream id; fed by the Pattern 1 counters they
// are the ReadPosition of its readings (server times), From and To.
func (l *Ledger) ReadTo() (from, seen string) {
	if l.read.To != "" {
		return l.read.From, l.read.To
	}
	return l.streamID, l.streamID
}

// AdvanceRead notes a reading of the Pattern 1 counters folded into the
// ledger: p.From (when set: a full reading) and p.To each move forward,
// never back (ReadTo).
func (l *Ledger) AdvanceRead(p ReadPosition) {
	if p.From != "" && CompareStreamIDs(p.From, l.read.From) > 0 {
		l.read.From = p.From
	}
	if p.To != "" && CompareStreamIDs(p.To, l.read.To) > 0 {
		l.read.To = p.To
	}
}

// Counts returns the ledger's statistics.
func (l *Ledger) Counts() Counts { return l.counts }

// Version changes whenever the ledger does (events, settings, seeds, history).
func (l *Ledger) Version() uint64 { return l.version }

// Len returns the number of workspaces.
func (l *Ledger) Len() int { return len(l.ws) }

// Members changes whenever the set of workspaces does: one added, or a Seed
// that dropped one or brought another, the count alone being the same.
func (l *Ledger) Members() uint64 { return l.members }

// owners hands out ledger identities for copy-on-write (see Ledger.own).
var owners atomic.Uint64

// refusalGens hands out Ledger.refusalsGen values.
var refusalGens atomic.Uint64

// RefusalsVersion changes whenever the 402 log (Refusals), the refusal
// totals (RefusalTotals) or a refused counter may have: what Uncounted of
// the log answers holds while it does not. At 1,000 events/s it changes
// with each 402 only, so a frame need not look up every row's counters.
func (l *Ledger) RefusalsVersion() uint64 { return l.refusalsGen }

// refusalsChanged marks a change of the 402 log or of a refused counter.
// Uncounted's kept answer is recounted when next asked: refuse keeps it
// itself.
func (l *Ledger) refusalsChanged() {
	l.refusalsGen = refusalGens.Add(1)
	l.uncounted.ok = false
}

// epochs hands out Ledger.epoch values, unique across ledgers: a clone
// keeps its original's epoch, so two ledgers of one epoch share everything
// an epoch change moves, and an AlertEvaluator handed a fresh clone of the
// hub's ledger (every refreshEvery events) judges again only the
// workspaces whose state differs, not every one. Two ledgers that applied
// the same Seed have different epochs: judged afresh, once.
var epochs atomic.Uint64

// newEpoch marks a change that can move every workspace's alerts at once.
func (l *Ledger) newEpoch() { l.epoch = epochs.Add(1) }

// workspace returns the named workspace's state ready to change (created when
// new, copied when shared with a clone).
func (l *Ledger) workspace(name string) *wsState {
	if w := l.ws[name]; w != nil {
		return l.own(w)
	}
	name = strings.Clone(name) // do not pin the reader's buffers
	// projects is made at the first project: a workspace seeded from its
	// counters alone (check, the first frame) has none, and 100k empty maps
	// were a third of seeding them
	w := &wsState{owner: l.owner, name: name, nextAt: noLine}
	l.stamp(w)
	l.ws[name] = w
	l.members++
	l.rerank(w) // takes its place in the orders
	return w
}

// refusalsReadable reports whether the counters say what this workspace's
// 402s are: neither its counters (unreadable) nor its 402 count alone
// (refusedUnreadable, b2f73ab) failed to read at the last Seed. Only then is
// a 402 the counters do not hold refused nothing (the counters are the
// truth); otherwise the history decides (RefusalUndecided).
func (w *wsState) refusalsReadable() bool {
	return w.unreadable == "" && w.refusedUnreadable == ""
}

// counts402 reports whether the counters may hold e, a 402 read back or
// never applied: they hold a 402 of its project and code this period, or
// cannot say (refusalsReadable: the history decides, as RefusalUndecided
// says). One they do not hold disagrees with its counters (a repeated
// status or code, a raw XADD), and they are the truth: it refuses nothing.
func (w *wsState) counts402(e *Event) bool {
	if !w.refusalsReadable() {
		return true
	}
	p := w.projects[e.Project]
	return p != nil && p.refused[e.Code] > 0
}

func (w *wsState) project(name string) *projState {
	if p := w.projects[name]; p != nil {
		return p
	}
	name = strings.Clone(name)
	p := &projState{name: name, endpoints: make([]endpointCredit, 0, 4), nextAt: noLine}
	if w.projects == nil {
		w.projects = make(map[string]*projState, 1)
	}
	w.projects[name] = p
	return p
}

func (p *projState) add(endpoint string, credits int64) {
	i, found := slices.BinarySearchFunc(p.endpoints, endpoint, func(e endpointCredit, name string) int {
		return strings.Compare(e.name, name)
	})
	if found {
		p.endpoints[i].credits = AddCredits(p.endpoints[i].credits, credits)
		return
	}
	p.endpoints = slices.Insert(p.endpoints, i, endpointCredit{strings.Clone(endpoint), credits})
}

// foldProjects adds the snapshot's project counters — used_by (credits by
// project and endpoint), refused (402s by project and code, and by class on
// the workspace) and budgets — to the workspaces get returns by name, which
// creates each as its caller keeps them. Fields whose names cannot be split
// are skipped. Seed and JudgeSnapshot both build their workspaces with it, so
// check judges a workspace's projects as the dashboard does.
func (s *Snapshot) foldProjects(get func(name string) *wsState) {
	for f, n := range s.UsedBy {
		ws, project, endpoint, ok := SplitUsedByField(f)
		if !ok {
			continue
		}
		p := get(ws).project(project)
		p.used = AddCredits(p.used, n)
		p.add(endpoint, n)
	}
	for f, n := range s.Refused {
		ws, project, code, ok := SplitRefusedField(f)
		if !ok {
			continue
		}
		w := get(ws)
		p := w.project(project)
		if p.refused == nil {
			p.refused = make(map[string]int64, 2)
		}
		p.refused[code] = AddCredits(p.refused[code], n)
		w.refused[ClassOf(code)] = AddCredits(w.refused[ClassOf(code)], n)
	}
	for key, b := range s.Budgets {
		ws, project, ok := SplitProjectKey(key)
		if !ok {
			continue
		}
		w := get(ws)
		p := w.project(project)
		p.budget, p.hasBudget = b, true
		w.limits = w.limits || b.Judged()
	}
	// a project whose used_by field cannot be read is listed, its credits
	// unknown, with or without a budget: skipped, it vanished from every
	// list of projects while its workspace's used counted its credits
	for key, why := range s.UsedByUnreadable {
		ws, project, ok := SplitProjectKey(key)
		if !ok || !IsID(ws) {
			continue
		}
		p := get(ws).project(project)
		if p.budget.UsageUnreadable == "" || why < p.budget.UsageUnreadable {
			p.budget.UsageUnreadable = why
		}
	}
}

// ApplyBatch applies events in order.
func (l *Ledger) ApplyBatch(evs []Event) {
	for i := range evs {
		l.Apply(&evs[i])
	}
}

// Apply counts one event. Events outside the ledger's period count nothing
// (they belong to another period's counters) but charge the burn
// (chargeOtherPeriod); settings entries apply in any period.
func (l *Ledger) Apply(e *Event) {
	l.version++
	if e.ID != "" {
		l.streamID = e.ID
	}
	if e.Kind == KindSettings {
		l.applySettings(e)
		return
	}
	if !l.period.Contains(e.TS) {
		l.counts.OtherPeriod++
		l.chargeOtherPeriod(e)
		return
	}
	l.counts.Applied++
	at := e.At() // the burn, idle and the row's age: Redis's clock when the producer's is wrong
	if at < l.observedFrom {
		l.observedFrom = at // burn windows reach back to the oldest event counted
	}
	if at > l.lastRead {
		l.lastRead = at
	}
	w := l.workspace(e.Workspace)
	if at > w.lastTS {
		w.lastTS = at
	}
	if e.Kind == KindRecharge {
		w.saveBeforeRecharge()
		w.recharged = AddCredits(w.recharged, e.Credits)
		w.rechargedAt = max(w.rechargedAt, rechargeAt(e))
		w.outEntryApplied(OutCredited, 0) // a dated credit, newer than every 402 before it
		l.judgeOut(w)
		w.arm(l.defaults)
		l.rerank(w)
		return
	}
	w.used = AddCredits(w.used, e.Credits) // saturated: Redis refuses the HINCRBY past 2^63−1, the entry is written
	p := w.project(e.Project)
	switch {
	case l.usedByPending:
		// used_by is being read: which of these credits it holds is known
		// only with its id, so SeedUsedBy adds them then
		l.usedByLog = append(l.usedByLog, projCredit{id: e.ID, ws: w.name, project: p.name,
			endpoint: strings.Clone(e.Endpoint), credits: e.Credits, ts: at})
	case l.usedByAt == "" || e.ID == "" || CompareStreamIDs(e.ID, l.usedByAt) > 0:
		l.usedByAt = ""
		p.used = AddCredits(p.used, e.Credits)
		p.add(e.Endpoint, e.Credits)
		l.addEndpoint(e.Endpoint, e.Credits)
	}
	if e.Credits != 0 {
		w.charge(at, e.Credits)
		if p.limited() {
			chargeRing(&p.burn, at, e.Credits)
		}
		l.all.charge(at, e.Credits)
	}
	switch {
	case e.Status == 402:
		l.refuse(w, p, e, at)
		l.noteUnheld(w, e.ID)
	case e.Status >= 200 && e.Status < 300 && len(p.refused) > 0:
		// A success ends the project's usage-limit refusals; credits_exhausted
		// ends only when credits are added (README, "Forecasts": the OUT rule),
		// or a cheap call between two refused dear ones would flap the level.
		for code := range p.refused {
			if code != CodeCreditsExhausted {
				p.setRefusing(code, false)
			}
		}
	}
	// a crossing is dated by the trusted time, as the burn is: a producer's
	// clock hours off (or a hostile ts) cannot date it hours away
	if w.used >= w.nextAt {
		fired := w.fired
		l.fire(w, at)
		if w.fired != fired {
			l.noteUnheldUse(w, e.ID) // it crossed a line (a counter saturated at noLine may not)
		}
	}
	if p.used >= p.nextAt {
		fired := p.fired
		l.fireProject(w, p, at)
		if p.fired != fired {
			l.noteUnheldUse(w, e.ID)
		}
	}
	l.rerank(w)
}

// chargeOtherPeriod charges the burn with usage event e of another billing
// period, as a start reading the hour back charges it (Backfill: the burn is
// not per period): the old period's last charges read after the rollover
// (a producer's clock behind, a batch flushed late), or the next period's
// first read before it. Its counters are the other period's; only a
// workspace this ledger shows keeps a burn of its own. Before, they were
// skipped: the watching dashboard's burn and forecast differed from a fresh
// start's for the hour after (hostile23 #5).
func (l *Ledger) chargeOtherPeriod(e *Event) {
	if e.Kind != KindUsage || e.Credits == 0 {
		return
	}
	at := e.At()
	if at < l.observedFrom {
		l.observedFrom = at
	}
	l.all.charge(at, e.Credits)
	w := l.ws[e.Workspace]
	if w == nil {
		return
	}
	w = l.own(w)
	w.charge(at, e.Credits)
	if p := w.projects[e.Project]; p != nil && p.limited() {
		chargeRing(&p.burn, at, e.Credits)
	}
}

// charge adds a charge to the workspace's burn history, making it at the first.
func (w *wsState) charge(ts, credits int64) {
	chargeRing(&w.burn, ts, credits)
}

// chargeRing adds a charge to the burn history *r, making it at the first.
func chargeRing(r **burnRing, ts, credits int64) {
	if *r == nil {
		*r = new(burnRing)
	}
	(*r).charge(ts, credits)
}

// addEndpoint counts credits in the all-workspace endpoint totals.
func (l *Ledger) addEndpoint(endpoint string, credits int64) {
	if _, ok := l.endpointsAll[endpoint]; !ok {
		endpoint = strings.Clone(endpoint)
	}
	l.endpointsAll[endpoint] = AddCredits(l.endpointsAll[endpoint], credits)
}

// refuse counts e, a 402 dated at (its Event.At, which Apply has read).
func (l *Ledger) refuse(w *wsState, p *projState, e *Event, at int64) {
	track := l.uncounted.ok
	l.refusalsChanged()
	var t uncountedStep
	if track {
		t = l.uncountedBefore(e)
	}
	if p.refused == nil {
		p.refused = make(map[string]int64, 2)
	}
	if _, ok := p.refused[e.Code]; !ok {
		p.refused[strings.Clone(e.Code)] = 0
	}
	p.refused[e.Code] = AddCredits(p.refused[e.Code], 1) // a counter: saturated as credits are
	p.setRefusing(e.Code, true)
	if e.Code == CodeBudgetExceeded {
		add402(&p.limit402, at, 1) // newer than its last success (limitStands)
	}
	class := ClassOf(e.Code)
	w.refused[class] = AddCredits(w.refused[class], 1)
	l.refusedAll[class] = AddCredits(l.refusedAll[class], 1)
	by := refusedBy(w, p, class)
	if class == RefusedCredits {
		// OUT until credits are added (the OUT rule); a limit's 402 is
		// judged by the limit
		w.outEntryApplied(OutRefused, at)
		l.judgeOut(w)
	}
	l.refusals.push(Refusal{Event: *e, Class: class, By: by})
	if track {
		l.uncountedAfter(&t)
	}
}

// creditAdded records a credit added newer than any history read back
// (creditNewer) and ends every project's credits_exhausted refusing: no 402
// known is after it (OutFacts.After).
func (w *wsState) creditAdded() {
	w.creditNewer, w.raiseOnlyNewer = true, false
	for _, p := range w.projects {
		if p.refused[CodeCreditsExhausted] > 0 {
			p.setRefusing(CodeCreditsExhausted, false)
		}
	}
}

// raiseAdded records the allocation's raise, a credit ordered by its stamp
// alone (OutFacts.RaisedAt): a 402 read back later dated after it is after
// it still (raiseOnlyNewer) unless a recharge entry is newer (before, one
// applied while a start read the hour back ended every 402 read back).
func (w *wsState) raiseAdded() {
	only := !w.creditNewer || w.raiseOnlyNewer
	w.creditAdded()
	w.raiseOnlyNewer = only
}

// limitRaisedStamp is when the usage limit that gave project p of workspace
// w its budget_exceeded 402s was last raised or removed, by the settings
// hash's stamps (unix ms; 0: never): the project's own (ProjectBudget.RaisedAt),
// or the later of it and its workspace's (Settings.LimitRaisedAt) unless the
// project's own limit refused its calls (ownLimitRefused: a raise of the
// workspace's leaves those standing). Which limit refused is judged with
// the workspace's limit the raise replaced (Settings.LimitRaisedFrom; the
// limit as it stands where that is not known) and the project's limit as it
// stands, the ones in force when the 402s the raise ends were given.
// A 402 dated before the stamp (Event.At) is ended by the raise, one dated
// at or after it is not, whatever the order of the 402 and the raise's
// settings entry in the stream. A raise with no newer stamp (a raw HSET, a
// producer's settings entry) dates nothing and ends no 402, as an
// allocation raised with no raised_at ends no OUT (OutFacts.RaisedAt); the
// next success of the project does. Every path judges by the hash as it
// stands and the counters now, when asked.
func limitRaisedStamp(w *wsState, p *projState) int64 {
	at := p.budget.RaisedAt
	wAt := w.settings.LimitRaisedAt
	if wAt <= at {
		return at // the project's own raise is as late: it ends them whichever refused
	}
	// the limits when the workspace's was raised: its own before that raise
	// (limit_raised_from), the project's as it stands — its own raise, if
	// any, is older, so its raised_from is of a limit replaced before the
	// workspace's raise, or stale (a lowering stamps nothing): judged with
	// it, a project raised from 200 long ago held a 402 the workspace's
	// raise ended, and one lowered since ended a 402 its own limit gave
	// (hostile25 1, 2)
	wl := limitBefore(w.settings.UsageLimit, w.settings.LimitRaisedFrom)
	if !ownLimitRefused(p.budget.Limit, p.used, wl, w.used) {
		at = wAt
	}
	return at
}

// limitBefore is the usage limit before its last raise: from, the one the
// raise replaced, when the store recorded it, else now (credits; 0: none).
func limitBefore(now, from int64) int64 {
	if from > 0 {
		return from
	}
	return now
}

// limitAfter is how many budget_exceeded 402s of project p of workspace w
// known after its last success are dated at or after its limit's last raise
// (limitRaisedStamp): those the raise did not end.
func (p *projState) limitAfter(w *wsState) int64 {
	return p.limit402.atLeast(limitRaisedStamp(w, p))
}

// ownLimitRefused reports whether a project's own usage limit pl (pUsed
// credits used), rather than its workspace's (wl, wUsed), refused its calls:
// reached by the counters, or nearer than the workspace's (refusedBy's
// rule). A raise of the workspace's limit leaves those 402s standing.
func ownLimitRefused(pl, pUsed, wl, wUsed int64) bool {
	if pl <= 0 {
		return false
	}
	return pUsed >= pl || wl > 0 && pl-pUsed < wl-wUsed
}

// setRefusing records whether the project is being refused with code now:
// for budget_exceeded, whether a 402 of it is known newer in the stream than
// its last success (limitStands judges it against the limit's raise).
func (p *projState) setRefusing(code string, on bool) {
	if code == CodeBudgetExceeded && !on {
		p.limit402 = nil // ended: none known is after it
	}
	if p.refusing == nil {
		p.refusing = make(map[string]bool, 1)
	}
	if v, ok := p.refusing[code]; ok {
		if v != on {
			p.refusing[code] = on
		}
		return
	}
	p.refusing[strings.Clone(code)] = on
}

// limitSurplus is how many budget_exceeded 402s of p read back this period
// the refused hash does not count (projState.readBackLimit402).
func (p *projState) limitSurplus() int64 {
	return max(0, p.readBackLimit402-p.refused[CodeBudgetExceeded])
}

// limitStands reports whether the budget_exceeded refusing of project p of
// workspace w stands: more budget_exceeded 402s after its last success and
// dated at or after its limit's last raise (limitAfter) than the surplus
// read back, so one of them is one the counters hold. The one rule of every
// path: the watching ledger, a re-read, a start and check (RefusalState).
func (p *projState) limitStands(w *wsState) bool {
	if !p.refusing[CodeBudgetExceeded] {
		return false
	}
	return p.limitAfter(w) > p.limitSurplus()
}

// takeLimitSurplus takes n budget_exceeded 402s p knows of that the
// counters do not hold off those after its last success (limit402), the
// latest dated first: they could be any of them, and taking the latest
// leaves, against any raise's stamp, as many after it as are there
// whichever they were (dated402s.takeLatest). None left, the 402 holds
// nothing.
func (p *projState) takeLimitSurplus(n int64) {
	if n <= 0 {
		return
	}
	p.limit402.takeLatest(n)
	if p.limit402.count() == 0 && p.refusing[CodeBudgetExceeded] {
		p.setRefusing(CodeBudgetExceeded, false)
	}
}

// refusedBy judges which budget refused a 402, from what the ledger knows now.
// A budget_exceeded is the workspace's usage limit's or the project's: with
// one of them set, that one; with both, the one with fewer credits left (limit
// minus used, negative once passed) — a call the farther limit refuses, the
// nearer refuses too, so the nearer is certainly one that refused it — and
// BudgetBoth when they have as few left or both are reached (either refuses
// it). With neither known to mavtop it cannot say (BudgetWorkspaceOrProject).
func refusedBy(w *wsState, p *projState, class RefusalClass) Budget {
	switch class {
	case RefusedCredits:
		return BudgetAccount
	case RefusedOther:
		return BudgetUnknown
	}
	pl, wl := p.budget.Limit, w.settings.UsageLimit
	switch {
	case pl <= 0 && wl <= 0:
		return BudgetWorkspaceOrProject
	case wl <= 0:
		return BudgetProject
	case pl <= 0:
		return BudgetWorkspace
	}
	pleft, wleft := pl-p.used, wl-w.used
	switch {
	case pleft <= 0 && wleft <= 0, pleft == wleft:
		return BudgetBoth
	case pleft < wleft:
		return BudgetProject
	}
	return BudgetWorkspace
}

func (l *Ledger) applySettings(e *Event) {
	if e.Op == "period" {
		return // the billing-period config: the feed re-reads counters for it
	}
	// a value present but unreadable makes the workspace (or project)
	// unknown, as a Seed of it does: never the old value kept, never unset.
	// The crossings a change fires are dated by its trusted time (Event.At),
	// not by the ts its writer put on it.
	at := e.At()
	if e.Project == "" {
		s, err := DecodeSettings(e.Msg)
		if err != nil {
			l.counts.BadSettings++
			s = Settings{Unreadable: UnreadableSettings(e.Workspace, err)}
		}
		l.SetSettings(e.Workspace, s, at)
		return
	}
	b, err := DecodeBudget(e.Msg)
	if err != nil {
		l.counts.BadSettings++
		b = ProjectBudget{Unreadable: UnreadableSettings(ProjectKey(e.Workspace, e.Project), err)}
	}
	l.SetBudget(e.Workspace, e.Project, b, at)
}

// SetSettings replaces a workspace's settings. Lines the workspace is now past
// fire (a lowered allocation is news); ts (unix ms) stamps those crossings:
// the change's trusted time (Event.At) when it comes from the stream.
func (l *Ledger) SetSettings(ws string, s Settings, ts int64) {
	l.version++
	w := l.workspace(ws)
	// A raise adds credits (setting an allocation for the first time
	// configures mavtop): dated by the settings store's stamp, raised_at,
	// as a start dates it from the hash (a settings entry read live holds
	// the hash's JSON). A raise with no newer stamp has no time to order
	// against a 402 and ends no OUT (OutByRefusal; before, this ledger
	// took any higher allocation as credit added while a dashboard started
	// afterwards and check kept the OUT, issue 11).
	// The usage limit's raise is dated the same way, by limit_raised_at,
	// when its projects' budget_exceeded 402s are judged (limitStands): it
	// ends those dated before the stamp, wherever the entry stands in the
	// stream (before, any raise by value ended every 402 this ledger knew,
	// a 402 dated after the stamp and written before the entry too, where a
	// start and check held it standing: hostile22 L2).
	raised := s.Unreadable == "" && s.RaisedAt > w.settings.RaisedAt && s.raisedIn(l.period)
	w.settings, w.hasSettings = s, true
	if raised {
		w.raiseAdded() // history read back later is older in the stream
	}
	l.judgeOut(w) // by the raise's stamp against the newest 402's time
	w.arm(l.defaults)
	if w.used >= w.nextAt {
		l.fire(w, ts)
	}
	// the workspace's thresholds are its projects' too: their lines move with them
	for _, p := range w.projects {
		if p.budget.Limit > 0 {
			l.fireProject(w, p, ts)
		}
	}
	l.rerank(w)
}

// SetBudget replaces a project's budget inside a workspace; ts (unix ms)
// stamps the crossings it fires, as SetSettings's.
func (l *Ledger) SetBudget(ws, project string, b ProjectBudget, ts int64) {
	l.version++
	w := l.workspace(ws)
	p := w.project(project)
	// a raise of its usage limit ends the 402s dated before its stamp
	// (raised_at) when they are judged (limitStands), as SetSettings's
	// its credits are as unreadable as they were, with a limit or not: a
	// settings entry reads no counter (the next re-read says)
	b.UsageUnreadable = p.budget.UsageUnreadable
	p.budget, p.hasBudget = b, true
	w.limits = w.limits || b.Judged()
	l.fireProject(w, p, ts) // fires what the budget puts behind the project, arms the rest
	l.rerank(w)             // a usage limit can set the row's verdict, and so its rank
}

// Seed replaces the ledger's counters with a snapshot of Redis. Lines already
// passed do not fire again; burn history is kept (it is not per period).
func (l *Ledger) Seed(s *Snapshot, now time.Time) {
	l.version++
	l.newEpoch() // every workspace re-read (and maybe another period)
	l.refusalsChanged()
	samePeriod := s.Period.Key == l.period.Key
	old, members := l.ws, l.members
	l.bulk = true
	defer func() { // the same workspaces again: the same members
		same := len(l.ws) == len(old)
		for name := range l.ws {
			if !same {
				break
			}
			same = old[name] != nil
		}
		if l.members = members; !same {
			l.members++
		}
	}()
	l.period = s.Period
	// entries up to the snapshot's id this ledger never applied (read
	// position behind it): what of the OUT rule they decide
	unapplied := unappliedOf(l.streamID, s)
	l.streamID = s.StreamID
	l.read = s.Read
	heldUse := l.unheldUse           // crossings waiting for these counters (TakeCrossings)
	l.unheld, l.unheldUse = nil, nil // the counters read hold what they hold: the truth
	l.usedByPending, l.usedByAt, l.usedByLog = s.UsedByLater, "", nil
	if s.HistoryLater {
		l.historyPending = true // a re-read meanwhile does not end the read-back
	}
	// sized for the larger of the two (the same workspaces, as a rule): their
	// sum made a map twice the size, at 100k workspaces 200k slots to clear
	// and to walk
	l.ws = make(map[string]*wsState, max(len(s.Used), len(s.Settings)))
	get := func(name string) *wsState {
		w := l.workspace(name)
		if o := old[name]; o != nil {
			w.lastTS = o.lastTS
			if o.burn != nil && o.owner == l.owner {
				w.burn = o.burn // o is dropped: take its ring as it is
			} else if o.burn != nil {
				w.burn = o.burn.clone() // o is shared with a clone, which may still add to it
			}
			if samePeriod {
				w.fired, w.blocked, w.creditNewer, w.out, w.prevOut = o.fired, o.blocked, o.creditNewer, o.out, o.prevOut
				w.raiseOnlyNewer = o.raiseOnlyNewer
				w.outLast, w.rechargedAt, w.after402 = o.outLast, o.rechargedAt, o.after402.clone()
				w.preRecharge = o.preRecharge // for healOut, which ends it
				if heldUse[name] != "" {
					// its lines were fired by an entry the counters were not
					// seen to hold: the lines they pass are (markPassed), the
					// rest fire when real credits cross them
					w.fired = 0
				}
			}
		}
		return w
	}
	// A workspace's used counter is taken with its settings, while its new
	// state is at hand: at 100k workspaces a second walk finding each state
	// again by name was a third of seeding them, nearly all of it waiting for
	// memory. Only when some used counter has no settings beside it does
	// the second walk come (found short of Used).
	found := 0
	for ws, st := range s.Settings {
		w := get(ws)
		w.settings, w.hasSettings = st, true
		if n, ok := s.Used[ws]; ok {
			w.used = n
			found++
		}
	}
	if found < len(s.Used) {
		for ws, n := range s.Used {
			get(ws).used = n
		}
	}
	for ws, n := range s.Recharged {
		get(ws).recharged = n
	}
	for ws, why := range s.Unreadable {
		if IsID(ws) {
			get(ws).unreadable = why
		}
	}
	for ws, why := range s.RefusedUnreadable { // a workspace known by its 402 count alone too
		if IsID(ws) {
			w := l.ws[ws]
			if w == nil {
				w = get(ws)
			}
			w.refusedUnreadable = why
		}
	}
	for ws, why := range s.RechargedUnreadable { // a workspace known by its recharged counter alone too
		if IsID(ws) {
			w := l.ws[ws]
			if w == nil {
				w = get(ws)
			}
			w.rechargedUnreadable = why
		}
	}
	s.foldProjects(get)
	if samePeriod && len(old) > 0 { // what this ledger saw of 402s starting and ending still holds
		for name, w := range l.ws {
			if o := old[name]; o != nil {
				for pn, op := range o.projects {
					if len(op.refusing) > 0 {
						p := w.project(pn)
						p.refusing = maps.Clone(op.refusing) // o may be shared with a clone
						// a raise of the limit in the gap the re-read fills is
						// judged by the hash's stamps (limitStands)
						p.limit402, p.readBackLimit402 = op.limit402.clone(), op.readBackLimit402
						for code, on := range p.refusing {
							if on && p.refused[code] <= 0 && w.refusalsReadable() {
								// the counters hold no 402 of this project
								// and code this period: the entry that set it
								// disagreed with its counters (a repeated
								// status or code, a raw XADD), or a restore
								// took the 402 away — the counters are the
								// truth (README, "Convergence")
								p.refusing[code] = false
								if code == CodeBudgetExceeded {
									p.limit402 = nil
								}
							}
						}
					}
				}
			}
		}
	}
	heal := l.seeded && samePeriod // a re-read of the counters this ledger showed
	l.refusedAll, l.endpointsAll = Refusals{}, map[string]int64{}
	// One walk over the workspaces does what is left of each (its limited
	// projects' burn, what the gap healed, its lines passed, the totals, its
	// rank key), each state visited once: five walks were a quarter of
	// seeding 100k workspaces, most of it waiting for the states to come from
	// memory.
	for name, w := range l.ws {
		o := old[name]
		if o != nil { // a limited project keeps its burn as its workspace does
			for pn, op := range o.projects {
				if p := w.projects[pn]; p != nil && p.limited() && op.burn != nil {
					if p.burn = op.burn; o.owner != l.owner {
						p.burn = op.burn.clone() // o is shared with a clone, which may still add to it
					}
				}
			}
		}
		l.settle(w, o, samePeriod, heal, &unapplied, s.Drift, now)
		w.markPassed(l.defaults)
		for i, n := range w.refused {
			l.refusedAll[i] = AddCredits(l.refusedAll[i], n)
		}
		for _, p := range w.projects {
			p.markPassed(w.settings.Thresholds(l.defaults))
			for _, ec := range p.endpoints {
				l.endpointsAll[ec.name] = AddCredits(l.endpointsAll[ec.name], ec.credits)
			}
		}
		w.key, w.ranked = l.rankKeyOf(w), true
	}
	l.seeded, l.lastRead = true, max(l.lastRead, now.UnixMilli())
	l.bulk = false
	for o := range l.orders { // each sorted again when first asked for (see rankAll)
		l.orders[o] = rankList{}
	}
	if len(heldUse) > 0 {
		// a crossing that waited for the counters and that they do not
		// reach was made by credits they do not hold: it is no crossing
		l.crossings = slices.DeleteFunc(l.crossings, func(c Crossing) bool {
			return heldUse[c.Workspace] != "" && !l.reached(c)
		})
	}
}

// settle decides what a Seed's counters say of w beyond themselves, o being
// the state it replaces (nil: new) in the same billing period or not
// (samePeriod): OUT by the counters alone, or, when heal (a re-read of the
// counters this ledger showed), what the gap the re-read filled did: credits
// added or refused in it (healOut), and the credits spent in it spread over
// it for burn — unless drift (Snapshot.Drift): no gap held them, so they are
// no burn. u: the stream entries up to the snapshot's id never applied here.
func (l *Ledger) settle(w, o *wsState, samePeriod, heal bool, u *unappliedEntries, drift bool, now time.Time) {
	if o == nil || !heal {
		// Only the counters to go by: OUT after a credits_exhausted 402 this
		// period when no credit was added this period (a Backfill orders them).
		w.outLast, w.rechargedAt, w.after402 = OutNoEntry, 0, nil
	}
	if heal {
		l.healOut(w, o, u, now)
	}
	l.judgeOut(w)
	if !heal {
		return
	}
	var oUsed int64
	if o != nil {
		oUsed = o.used
	}
	if d := w.used - oUsed; d > 0 && !drift {
		// Credits found by the re-read were spent in the gap it filled: spread
		// over it, from the last event read to now, they count for burn. A
		// drift's were not (the stream was followed with no gap): spread over
		// the seconds since the last event read they made a spike now.
		if w.burn == nil {
			w.burn = new(burnRing)
		}
		w.burn.spread(l.lastRead, now.UnixMilli(), d)
		l.all.spread(l.lastRead, now.UnixMilli(), d)
	}
}

// SeedUsedBy brings the project and endpoint credits a Seed from a Snapshot
// with UsedByLater left out: usedBy is the used_by hash (UsedByField →
// credits) read at stream id at. They replace whatever project credits the
// ledger holds. The stream is followed while used_by is read, so events on
// either side of at may have been applied already and more may come: those
// applied since the Seed that are newer than at are added on top (their
// project lines fire as they would have), those up to at are in usedBy
// already, and events up to at applied afterwards count for their workspace
// only. Project lines passed by usedBy itself do not fire.
func (l *Ledger) SeedUsedBy(usedBy map[string]int64, at string) {
	l.version++
	l.newEpoch() // every project's credits, and no longer pending
	for _, w := range l.ws {
		for _, p := range w.projects {
			if p.used != 0 || len(p.endpoints) > 0 {
				w = l.own(w)
				for _, p := range w.projects {
					p.used, p.endpoints = 0, nil
				}
				break
			}
		}
	}
	l.endpointsAll = map[string]int64{}
	touched := map[*wsState]bool{}
	for f, n := range usedBy {
		ws, project, endpoint, ok := SplitUsedByField(f)
		if !ok {
			continue
		}
		w := l.ws[ws]
		if w == nil {
			w = l.workspace(ws) // a used_by field without its used field: shown, as Seed does
		} else if !touched[w] {
			w = l.own(w)
		}
		touched[w] = true
		p := w.project(project)
		p.used = AddCredits(p.used, n)
		p.add(endpoint, n)
		l.addEndpoint(endpoint, n)
	}
	for w := range touched {
		for _, p := range w.projects {
			p.markPassed(w.settings.Thresholds(l.defaults))
		}
	}
	for _, c := range l.usedByLog {
		if c.id != "" && CompareStreamIDs(c.id, at) <= 0 {
			continue // in usedBy already
		}
		w := l.workspace(c.ws)
		p := w.project(c.project)
		p.used = AddCredits(p.used, c.credits)
		p.add(c.endpoint, c.credits)
		l.addEndpoint(c.endpoint, c.credits)
		if p.used >= p.nextAt {
			l.fireProject(w, p, c.ts)
		}
	}
	l.usedByPending, l.usedByAt, l.usedByLog = false, at, nil
	l.rankAll() // a project's credits can set its workspace's verdict, and so its rank
}

// MarkUnreadable makes the usage of each workspace in why (workspace →
// reason, naming the counter) unknown, as a Seed from a Snapshot with
// Unreadable does: a used_by field of a usage-limited project read after the
// Seed (feed's UsedByMsg) holds no integer ≥ 0, so that project's credits,
// and the verdict its limit sets, are not known. Of several reasons the least
// is kept. The next Seed that reads good values ends it.
func (l *Ledger) MarkUnreadable(why map[string]string) {
	if len(why) == 0 {
		return
	}
	l.version++
	l.newEpoch() // its alerts are unknown from here
	for ws, msg := range why {
		if !IsID(ws) {
			continue
		}
		w := l.ws[ws]
		if w == nil {
			w = l.workspace(ws)
		} else {
			w = l.own(w)
		}
		if w.unreadable == "" || msg < w.unreadable {
			w.unreadable = msg
		}
	}
	l.rankAll()
}

// MarkProjectsUnreadable makes the credits of each project in why
// ("ws/project" → reason, naming the counter) unknown, as a Seed from a
// Snapshot with UsedByUnreadable does: a used_by field of the project read
// after the Seed (feed's UsedByMsg) holds no integer ≥ 0. The project is
// listed (Projects) with its credits unknown, with a budget or not; only a
// usage-limited project's level is unknown, and its workspace's own is
// judged by its own counters. The next Seed that reads good values ends it.
func (l *Ledger) MarkProjectsUnreadable(why map[string]string) {
	if len(why) == 0 {
		return
	}
	l.version++
	l.newEpoch() // its alerts are unknown from here
	for key, msg := range why {
		ws, project, ok := SplitProjectKey(key)
		if !ok || !IsID(ws) {
			continue
		}
		w := l.ws[ws]
		if w == nil {
			w = l.workspace(ws)
		} else {
			w = l.own(w)
		}
		p := w.project(project)
		if p.budget.UsageUnreadable == "" || msg < p.budget.UsageUnreadable {
			p.budget.UsageUnreadable = msg
		}
	}
	l.rankAll()
}

// UnreadableWorkspaces appends to dst (and returns) each workspace whose
// level, or a project's, is unknown because a counter of it cannot be read
// (Summary.Unreadable; its recharged counter alone, which leaves unknown
// only what the recharges decide) or a settings value stored for it cannot be
// (Settings.Unreadable, ProjectBudget.Unreadable: `settings "…" cannot be
// read`), with why, in no particular order. It walks the workspaces once
// without judging them.
//
// Of several reasons one workspace has, the one given is the most severe,
// a documented order (issue 11; it was the least string): its used counter
// (the whole level unknown), then its own settings, then its recharged
// counter (only what the recharges decide unknown), then a project's budget
// or credits, the first project in name order (its settings before its
// credits). Several reasons for one figure keep the least in byte order of
// what they name, the key then the field (Snapshot.MarkUnreadable and kin).
func (l *Ledger) UnreadableWorkspaces(dst map[string]string) map[string]string {
	for name, w := range l.ws {
		why := w.unknownWhy(true)
		if why != "" {
			if dst == nil {
				dst = map[string]string{}
			}
			dst[name] = why
		}
	}
	return dst
}

// unknownWhy says why the workspace's level is unknown: a counter that cannot
// be read, else its own stored settings that cannot be; with projects, else
// a project's budget that cannot be (the least reason). "" when known.
func (w *wsState) unknownWhy(projects bool) string {
	if w.unreadable != "" {
		return w.unreadable
	}
	if w.settings.Unreadable != "" || !projects {
		return w.settings.Unreadable
	}
	if w.rechargedUnreadable != "" {
		return w.rechargedUnreadable // what the recharges decide is unknown, the credits used are not
	}
	if !w.limits {
		return ""
	}
	first, why := "", ""
	for name, p := range w.projects {
		if first != "" && name > first {
			continue
		}
		u := p.budget.Unreadable
		if u == "" && p.budget.Limit > 0 {
			u = p.budget.UsageUnreadable
		}
		if u != "" {
			first, why = name, u
		}
	}
	return why
}

// UsedByPending reports whether the project and endpoint credits are still
// being read (see Snapshot.UsedByLater): a view of them says so instead of
// showing zeros.
func (l *Ledger) UsedByPending() bool { return l.usedByPending }

// Clone returns a ledger that changes independently of l. It costs one map of
// pointers, not a copy of every workspace: both ledgers share the workspace
// states, and whichever changes a shared state first copies it (copy on write),
// so a viewer joining at 100k workspaces costs megabytes, not the whole ledger.
// Clone changes l's identity, so like every other method it must not run while
// l is used elsewhere; afterwards l and the clone may be used on different
// goroutines.
func (l *Ledger) Clone() *Ledger {
	c := l.copyOf()
	l.owner, c.owner = owners.Add(1), owners.Add(1)
	return c
}

// Fork returns a ledger that changes independently of l, as Clone does, but
// leaves l as it is: any number of goroutines may fork one ledger at once,
// provided nothing changes l any more (a frozen copy, as feed.Hub hands its
// viewers). The fork shares l's workspace states and copies each at its
// first change. It costs one map of pointers (O(workspaces)) and a copy of
// the orders' block lists.
func (l *Ledger) Fork() *Ledger {
	c := l.copyOf()
	c.owner = owners.Add(1)
	return c
}

// copyOf is Clone's and Fork's copy of l, which it only reads; the copy's
// owner is l's until the caller sets it.
func (l *Ledger) copyOf() *Ledger {
	c := *l
	c.ws = maps.Clone(l.ws)
	for o := range l.orders {
		c.orders[o] = l.orders[o].clone()
	}
	c.endpointsAll = maps.Clone(l.endpointsAll)
	c.all = l.all.clone() // both add to it in place
	c.refusals = l.refusals.clone()
	c.uncounted = uncountedLog{} // recounted when the clone is asked: the map is l's
	c.crossings = append([]Crossing(nil), l.crossings...)
	// the list of changed workspaces is the original's reader's: a clone is
	// judged afresh by whoever takes it (another ledger)
	c.changed, c.changedLost, c.changedFrom = nil, false, c.stamps
	c.usedByLog = slices.Clip(l.usedByLog) // both append: neither writes into the other's
	c.unheld, c.unheldUse = l.cloneUnheld(), maps.Clone(l.unheldUse)
	c.readBack402 = maps.Clone(l.readBack402)
	c.limitReadBack = maps.Clone(l.limitReadBack)
	return &c
}

// Owned returns how many workspace states this ledger has made or copied for
// itself, as opposed to sharing them with a clone: what a clone costs in memory
// beyond its map of pointers. O(workspaces).
func (l *Ledger) Owned() int {
	n := 0
	for _, w := range l.ws {
		if w.owner == l.owner {
			n++
		}
	}
	return n
}

// own returns w ready for this ledger to change: w itself when this ledger made
// it, else a deep copy that replaces w in the ledger (w stays as the other
// ledgers sharing it see it).
//
// Every change to a workspace goes through here (or workspace, which calls
// it), so the state is stamped with the ledger's next change stamp: an
// AlertEvaluator re-judges it.
func (l *Ledger) own(w *wsState) *wsState {
	if w.owner == l.owner {
		l.stamp(w)
		return w
	}
	cw := *w
	cw.owner = l.owner
	l.stamp(&cw)
	cw.after402 = w.after402.clone() // both insert into it in place
	if w.burn != nil {
		cw.burn = w.burn.clone()
	}
	if w.projects != nil {
		// The projects and their endpoint counters are copied into one slice
		// each: every event of a workspace shared with a clone copies it
		// (at 100k workspaces and 1,000 events/s each ledger copies about a
		// thousand states a second), and ~40 small objects a copy were most
		// of the ledger's allocations and of what the collector marks.
		n := 0
		for _, p := range w.projects {
			n += len(p.endpoints)
		}
		cps := make([]projState, 0, len(w.projects))
		eps := make([]endpointCredit, 0, n)
		cw.projects = make(map[string]*projState, len(w.projects))
		for pn, p := range w.projects {
			cps = append(cps, *p)
			cp := &cps[len(cps)-1]
			// one array for every project's endpoints, each slice capped at
			// its length: a new endpoint moves that project's to one of its own
			from := len(eps)
			eps = append(eps, p.endpoints...)
			cp.endpoints = eps[from:len(eps):len(eps)]
			if p.refused != nil {
				cp.refused = maps.Clone(p.refused)
			}
			if p.refusing != nil {
				cp.refusing = maps.Clone(p.refusing)
			}
			if p.burn != nil {
				cp.burn = p.burn.clone()
			}
			cp.limit402 = p.limit402.clone() // both insert into it in place
			cw.projects[pn] = cp
		}
	}
	l.ws[cw.name] = &cw
	return &cw
}
