package model

import (
	"container/heap"
	"iter"
	"math"
	"slices"
	"strings"
	"time"
)

// AlertEvaluator gives, second after second, the transitions
//
//	AlertTransitions(known, EvaluateAlerts(l, now, h, opt, nil), l.Period().Key, l.StreamID(), now)
//
// gives, at the cost of what changed rather than of every alert: at 100k
// workspaces EvaluateAlerts builds and sorts ~500k alerts each second, which
// took 3.4 s of each second (BenchmarkWatchSecond). It keeps each
// workspace's alert ids and conditions from its last call and judges again
// only
//
//   - the workspaces the ledger changed since (their change stamps), all of
//     them when the ledger did something that moves every alert at once (its
//     epoch: a Seed, the project credits read, the end of the hour read back)
//     or when it is handed another ledger of another epoch; handed another of
//     the same epoch (a viewer's fresh copy of the hub's ledger), those whose
//     state is not the one judged;
//   - what moves with time alone: the run-outs of the workspaces with a cap
//     whose condition can have changed since they were last judged (each
//     keeps the earliest instant it can, runOutDue, in a heap: every call
//     for one that runs out at its burn, else when a bucket leaves its
//     window or hour, when it turns idle, or at the next BucketWidth when it
//     is close to running out), all of them when what every forecast
//     shares moves (the ledger's observedFrom, or its first MinSpan ends);
//     and the feed's own alert;
//   - the records of the lifecycle that changed since the last call (another
//     instance fired or resolved, a record expired or was decided on a
//     history that is gone);
//   - the alerts due last time (a claim that did not happen is due again) and
//     those held back last time because the ledger had not read as far as the
//     instance that fired them (due once the stream passes that id).
//
// Each transition's alert is judged afresh at now, so it carries the numbers
// the full evaluation would. An AlertEvaluator is not safe for concurrent use.
type AlertEvaluator struct {
	opt AlertOptions

	// what the last call judged: the ledger, its epoch and change stamp, its
	// period, pending states and stream id
	l              *Ledger
	epoch, stamp   uint64
	period, stream string
	histPending    bool
	usedByPending  bool

	ws map[string]*wsAlerts
	// capped are the workspaces with a run-out alert, a heap by the instant
	// each is due to be judged again; runJudged and observed are what their
	// forecasts shared when last judged (runOutJudged, observedFrom); drains
	// and call count the ledger's list taken and this evaluator's calls
	capped    dueHeap
	runJudged bool
	observed  int64
	lastNow   int64 // unix ns of the last call: a clock set back makes every run-out due
	drains    uint64
	call      uint64
	// feed holds the feed's own alerts as last judged (stale, then one per
	// resync reason); feedAlerts is their storage, reused each call
	feed       []candidate
	feedAlerts []Alert
	// known is the lifecycle of the last call when the caller does not
	// track its changes (AlertRecords); due the ids with a transition due,
	// blocked those held back by the stream id.
	known   records
	due     map[string]struct{}
	blocked map[string]struct{}
	// idx is the lifecycle's episodes, kept as its records come and go
	idx *episodeIndex
	// todo are the ids to judge again this call, each with the workspace
	// whose alerts it is among, when known (nil: found from the id)
	todo map[string]*wsAlerts
	buf  []Alert
	// fresh holds the alerts transitions judged afresh in its last call,
	// every workspace's one after another: kept for the next call's, not
	// made anew for each workspace with a transition due; not kept past
	// freshKeep alerts (a first judgement's)
	fresh []Alert
	// the most todo, due and blocked held since made (fresh)
	todoMax, dueMax, blockedMax int
	// rebuilt counts the workspaces judged whole (rebuild), for the tests
	rebuilt int
}

// candidate is one alert as last judged: its id and condition.
type candidate struct {
	id   string
	cond AlertCondition
}

// wsAlerts are a workspace's alerts as last judged, from its state w;
// runOut is the index of its run-out alert in cands (-1: none, it has no
// cap), at its place in AlertEvaluator.capped (-1: none), due the instant
// (unix ns) its run-out is to be judged again (runOutDue; 0: at once), call
// the call that last judged it whole.
type wsAlerts struct {
	w      *wsState
	cands  []candidate
	runOut int
	at     int
	due    int64
	call   uint64
}

// dueHeap is a min-heap of workspaces by due (container/heap), each knowing
// its place (at).
type dueHeap []*wsAlerts

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].at, h[j].at = i, j
}
func (h *dueHeap) Push(x any) {
	c := x.(*wsAlerts)
	c.at = len(*h)
	*h = append(*h, c)
}
func (h *dueHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.at = -1
	return c
}

// NewAlertEvaluator returns an evaluator judging with opt (the stale limit).
// It takes each ledger's list of changed workspaces: one evaluator per
// ledger (another taking it too makes both compare every stamp).
func NewAlertEvaluator(opt AlertOptions) *AlertEvaluator {
	return &AlertEvaluator{opt: opt, due: map[string]struct{}{}, blocked: map[string]struct{}{}, todo: map[string]*wsAlerts{}, idx: newEpisodeIndex()}
}

// AlertRecords is the lifecycle a Transitions call judges against.
type AlertRecords struct {
	// Known is the lifecycle so far, by id.
	Known map[string]AlertRecord
	// Tracked says the caller lists in Changed every id whose record was
	// added, changed or removed since the last call (a Known kept and
	// changed in place, as notify.Watcher keeps it). Without it the
	// evaluator compares Known with the map of its last call, which it keeps:
	// the caller then hands a new map each call instead of changing it.
	Tracked bool
	Changed []string
	// Shared, when not nil, is the lifecycle instead of Known, its records
	// shared by pointer and only read (never written while Transitions
	// runs; a changed record is a new one): a caller that keeps its records
	// elsewhere already (notify.Watcher: its store mirror's) hands them
	// without a second copy of each (~700 B a record, ~130k records at 100k
	// workspaces). A nil pointer counts as no record.
	Shared map[string]*AlertRecord
	// Lookup, when not nil, is the lifecycle instead of Known and Shared:
	// a caller that keeps its records in another form (notify.Watcher:
	// packed, ~0.3 KB a record against ~0.5 KB decoded, at 100k workspaces'
	// ~170k records) gives each on demand. Its records are never written
	// while Transitions runs.
	Lookup RecordLookup
}

// RecordLookup gives the records of a lifecycle by id (AlertRecords.Lookup).
type RecordLookup interface {
	// Get returns id's record (false: none); Has says whether there is one.
	Get(id string) (AlertRecord, bool)
	Has(id string) bool
	// Len is the number of records; IDs yields the id of each, in no order.
	Len() int
	IDs() iter.Seq[string]
}

// set returns the lifecycle recs hands over.
func (recs AlertRecords) set() records {
	if recs.Lookup != nil {
		return records{fn: recs.Lookup}
	}
	if recs.Shared != nil {
		return records{ptr: recs.Shared}
	}
	return records{val: recs.Known}
}

// Transitions returns the transitions due at now, sorted by id: the same as
// AlertTransitions over every alert EvaluateAlerts judges on l (see
// AlertEvaluator). runOut (may be nil) is called once with every workspace
// judged this call whose run-out alert holds (with credits left) and how soon
// it runs out, as the alert says: those that changed, and those whose
// run-out could have changed with time alone (runOutDue). Between two calls
// of a workspace it runs out at its burn with nothing changed but time, and
// how soon moves only as the burn's window slides.
func (e *AlertEvaluator) Transitions(l *Ledger, now time.Time, h FeedHealth, recs AlertRecords, runOut func(ws string, in time.Duration)) []AlertTransition {
	known := recs.set()
	// how far l has read: stream (its floor) is what the lifecycle rule
	// compares with the position a record was decided at, seen (its
	// ceiling) what a transition due now records (Ledger.ReadTo)
	period := l.period.Key
	stream, seen := l.ReadTo()
	full := l.epoch != e.epoch || period != e.period || l.historyPending != e.histPending ||
		l.usedByPending != e.usedByPending || CompareStreamIDs(stream, e.stream) < 0
	// another ledger of the same epoch (a viewer's fresh copy of the hub's,
	// every refreshEvery events; a clone): every state it shares with the
	// one judged is the one judged (a state is changed in place only by the
	// ledger that owns it, which stamps it, and a clone owns none of what it
	// shares), so only the others are judged again (switched) — unless it
	// lacks a workspace judged, which no later copy of one history does
	switched := !full && l != e.l
	if switched {
		found := 0
		for name := range l.ws {
			if _, ok := e.ws[name]; ok {
				found++
			}
		}
		full = found != len(e.ws)
	}
	e.call++
	if n := len(e.todo); max(e.todoMax, n) > 4096 && max(e.todoMax, n) > 8*n {
		e.todo, e.todoMax = make(map[string]*wsAlerts, n), n // room for a call like the last, not the first
	} else {
		e.todoMax = max(e.todoMax, n)
		clear(e.todo)
	}
	other := l.drains != e.drains // another reader took the list meanwhile
	names, lost := l.takeChanged()
	e.drains = l.drains
	e.l = l
	switch {
	case full:
		e.epoch, e.period, e.histPending, e.usedByPending = l.epoch, period, l.historyPending, l.usedByPending
		e.ws = make(map[string]*wsAlerts, len(l.ws))
		clear(e.capped)
		e.capped = e.capped[:0]
		clear(e.due)
		clear(e.blocked)
		for _, w := range l.ws {
			e.rebuild(l, w, now, runOut)
		}
	case lost || other || switched:
		// a state of another ledger stamped after the last call is judged
		// again too: its stamps may count from elsewhere, which costs a
		// judgement, never misses one
		for name, w := range l.ws {
			if c := e.ws[name]; c == nil || c.w != w || w.stamp > e.stamp {
				e.rebuild(l, w, now, runOut)
			}
		}
	default:
		for _, name := range names {
			if w := l.ws[name]; w != nil {
				e.rebuild(l, w, now, runOut)
			}
		}
	}
	e.stream, e.stamp = stream, l.stamps

	// the run-outs whose condition can have changed with time alone since
	// they were last judged (those judged whole above are due at once: only
	// their next instant is found)
	judged := l.runOutJudged(now)
	nowNs := now.UnixNano()
	if judged != e.runJudged || l.observedFrom != e.observed || nowNs < e.lastNow {
		// what every forecast shares moved, or the wall clock was set back
		// (each due instant was found looking forward from a later now): all
		// are due
		e.runJudged, e.observed = judged, l.observedFrom
		for _, c := range e.capped {
			c.due = 0
		}
	}
	e.lastNow = nowNs
	for len(e.capped) > 0 && e.capped[0].due <= nowNs {
		c := e.capped[0]
		cond, due := ConditionUnknown, int64(math.MaxInt64) // unknown until a change or judged: stamps, the check above
		if judged && c.w.unknownWhy(false) == "" {          // an unreadable usage: unknown (workspaceAlerts)
			v, f := l.verdictForecast(c.w, now) // the row's, as runOutAlert judges it
			cond = l.runOutCondition(&f, now)
			if c.call != e.call && cond == ConditionHolds && f.RunsOutIn > 0 && runOut != nil {
				runOut(c.w.name, f.RunsOutIn)
			}
			due = l.runOutDue(c.w, v, &f, now)
		}
		if ca := &c.cands[c.runOut]; c.call != e.call && ca.cond != cond {
			ca.cond = cond
			e.todo[ca.id] = c
		}
		c.due = max(due, nowNs+1) // judged: not again this call
		heap.Fix(&e.capped, 0)
	}

	// the feed's own alerts: stale, and one per resync reason
	fa := appendResyncAlerts(append(e.feedAlerts[:0], staleAlert(period, now, h, e.opt)), period, now, h)
	e.feedAlerts = fa
	if len(e.feed) != len(fa) {
		e.feed = make([]candidate, len(fa))
		full = true
	}
	for i := range fa {
		if full || fa[i].ID != e.feed[i].id || fa[i].Condition != e.feed[i].cond {
			e.feed[i] = candidate{fa[i].ID, fa[i].Condition}
			e.mark(fa[i].ID)
		} else if fa[i].Kind == AlertResync && !fa[i].ResyncAt.IsZero() {
			e.mark(fa[i].ID) // a new re-read of its reason may be a new event (resyncStep)
		}
	}

	switch {
	case full:
		e.idx.reset()
		for id := range known.ids() {
			e.idx.update(id, known)
			e.markRecord(id)
		}
	case recs.Tracked:
		for _, id := range recs.Changed {
			e.idx.update(id, known)
			e.markRecord(id)
		}
	default:
		// records another instance (or this one's claims) changed: only what
		// a transition depends on is compared
		found := 0
		for id := range known.ids() {
			r, _ := known.get(id)
			o, ok := e.known.get(id)
			if ok {
				found++
			} else {
				e.idx.update(id, known)
			}
			if !ok || o.Status != r.Status || o.FiredStream != r.FiredStream || o.Alert.Period != r.Alert.Period ||
				o.ResolvedStream != r.ResolvedStream || !o.ResolvedAt.Equal(r.ResolvedAt) {
				e.markRecord(id)
			}
		}
		if found != e.known.len() { // some are gone
			for id := range e.known.ids() {
				if !known.has(id) {
					e.idx.update(id, known)
					e.markRecord(id)
				}
			}
		}
	}
	e.known = records{}
	if !recs.Tracked {
		e.known = known
	}
	for id := range e.due {
		e.mark(id)
	}
	for id := range e.blocked {
		e.mark(id)
	}

	for id, c := range e.todo {
		due, blocked := e.judge(id, c, known, period, stream, now)
		setIn(e.due, id, due)
		setIn(e.blocked, id, blocked)
	}
	e.due = fresh(e.due, &e.dueMax, len(e.due))
	e.blocked = fresh(e.blocked, &e.blockedMax, len(e.blocked))
	return e.transitions(l, now, fa, known, period, stream, seen)
}

// fresh returns m, or a copy of it made for its keep entries when it held
// many more (most, the most it held since made, kept up to date): a Go map
// keeps the room of the most it ever held, and ranging over it or clearing
// it costs that room. After a first judgement of 100k workspaces (500k
// alerts judged, 100k due) the maps of every later second, a few thousand
// entries, were ranged and cleared at the cost of the first.
func fresh[V any](m map[string]V, most *int, keep int) map[string]V {
	*most = max(*most, len(m))
	if *most <= 4096 || *most <= 8*keep {
		return m
	}
	n := make(map[string]V, keep)
	for k, v := range m {
		n[k] = v
	}
	*most = keep
	return n
}

// rebuild judges every alert of w again.
func (e *AlertEvaluator) rebuild(l *Ledger, w *wsState, now time.Time, runOut func(string, time.Duration)) {
	e.rebuilt++
	e.buf = l.workspaceAlerts(w, now, l.period.Key, e.buf[:0])
	c := e.ws[w.name]
	if c == nil {
		c = &wsAlerts{at: -1}
		e.ws[w.name] = c
	}
	for _, o := range c.cands {
		e.todo[o.id] = c // gone, or judged anew below
	}
	c.w, c.call = w, e.call
	c.cands, c.runOut = c.cands[:0], -1
	for i := range e.buf {
		a := &e.buf[i]
		if a.Kind == AlertRunOut {
			c.runOut = len(c.cands)
			if a.Condition == ConditionHolds && a.RunOutIn > 0 && runOut != nil {
				runOut(w.name, a.RunOutIn)
			}
		}
		c.cands = append(c.cands, candidate{a.ID, a.Condition})
		e.todo[a.ID] = c
	}
	c.cands = slices.Clip(c.cands)
	switch capped := c.runOut >= 0; {
	case capped && c.at < 0:
		c.due = 0 // its next instant is found this call
		heap.Push(&e.capped, c)
	case capped:
		c.due = 0
		heap.Fix(&e.capped, c.at)
	case c.at >= 0:
		heap.Remove(&e.capped, c.at)
	}
}

// find returns the condition of the alert id as last judged, and whether it
// is judged at all; c is the workspace it is (or was) among, when known.
func (e *AlertEvaluator) find(id string, c *wsAlerts) (AlertCondition, bool) {
	if i := e.feedIndex(id); i >= 0 {
		return e.feed[i].cond, true
	}
	if c != nil {
		for _, ca := range c.cands {
			if ca.id == id {
				return ca.cond, true
			}
		}
	}
	if _, ca := e.owner(id); ca != nil {
		return ca.cond, true
	}
	return ConditionUnknown, false
}

// owner returns the workspace whose alerts hold id and the alert as last
// judged (nil: none). The workspace is found from the id itself
// ("<period>/<ws>/…"), never from a record's fields, which come from
// outside: every prefix of the id's rest up to a "/" is tried as a name.
func (e *AlertEvaluator) owner(id string) (string, *candidate) {
	rest, ok := strings.CutPrefix(id, e.period+"/")
	if !ok {
		return "", nil
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] != '/' {
			continue
		}
		if c := e.ws[rest[:i]]; c != nil {
			for j := range c.cands {
				if c.cands[j].id == id {
					return rest[:i], &c.cands[j]
				}
			}
		}
	}
	return "", nil
}

// judge is the lifecycle rule (AlertOptions.Transitions) for one id of
// todo: an alert judged (decide, against its latest episode), or a record
// whose alert is no longer judged (goneStep, and so each episode of it).
// due says a transition is due; blocked that one may be once the stream or
// the clock moves on (or the episodes fall under MaxEpisodes).
func (e *AlertEvaluator) judge(id string, c *wsAlerts, known records, period, stream string, now time.Time) (due, blocked bool) {
	base, n := SplitEpisode(id)
	if n > 1 {
		if _, has := e.find(base, nil); has {
			return false, false // judged as its alert's latest episode
		}
	} else if i := e.feedIndex(id); i >= 0 && e.feedAlerts[i].Kind == AlertResync {
		a := e.feedAlerts[i]
		what, _, wait := resyncStep(&a, id, e.idx, known, now)
		return what != stepNone, wait
	} else if cond, has := e.find(id, c); has {
		what, _, wait := e.opt.decide(cond, id, e.feedIndex(id) < 0, e.idx, known, stream, now)
		return what != stepNone, wait
	} else {
		// no longer judged: its later episodes are gone too
		for j := 2; j <= e.idx.latest[id]; j++ {
			ep := EpisodeID(id, j)
			if rec, ok := known.get(ep); ok {
				d, _, w := goneStep(rec, period, stream)
				setIn(e.due, ep, d)
				setIn(e.blocked, ep, w)
			}
		}
	}
	rec, ok := known.get(id)
	if !ok {
		return false, false
	}
	d, _, w := goneStep(rec, period, stream)
	return d, w
}

// transitions builds the transitions due, sorted by id, each alert judged
// afresh at now (fa: the feed's own), judged at the ledger's position stream
// and recording seen (Ledger.ReadTo).
func (e *AlertEvaluator) transitions(l *Ledger, now time.Time, fa []Alert, known records, period, stream, seen string) []AlertTransition {
	if len(e.due) == 0 {
		return nil
	}
	ids := make([]string, 0, len(e.due))
	for id := range e.due {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fresh := map[string][]Alert{}
	e.fresh = e.fresh[:0]
	var out []AlertTransition
	for _, id := range ids {
		rec, ok := known.get(id)
		var a *Alert
		if _, n := SplitEpisode(id); n > 1 {
			// an episode whose alert is no longer judged (judge)
		} else if i := e.feedIndex(id); i >= 0 {
			a = &fa[i]
		} else if name, ca := e.owner(id); ca != nil {
			as, done := fresh[name]
			if !done {
				// appended to e.fresh, each workspace's capped at its own: a
				// growth of e.fresh leaves the earlier ones where they were
				from := len(e.fresh)
				e.fresh = l.workspaceAlerts(l.ws[name], now, period, e.fresh)
				as = e.fresh[from:len(e.fresh):len(e.fresh)]
				fresh[name] = as
			}
			for i := range as {
				if as[i].ID == id {
					a = &as[i]
					break
				}
			}
		}
		if a == nil {
			if !ok {
				continue
			}
			if due, removed, _ := goneStep(rec, period, stream); due {
				out = append(out, AlertTransition{Alert: rec.Alert, Status: AlertResolved, At: now, Stream: seen, Removed: removed})
			}
			continue
		}
		if a.Kind == AlertResync {
			r := *a
			if what, tid, _ := resyncStep(&r, id, e.idx, known, now); what != stepNone {
				out = append(out, transitionOf(r, what, tid, seen, now))
			}
			continue
		}
		if what, tid, _ := e.opt.decide(a.Condition, id, !feedKind(a.Kind), e.idx, known, stream, now); what != stepNone {
			out = append(out, transitionOf(*a, what, tid, seen, now))
		}
	}
	if cap(e.fresh) > freshKeep {
		// a first judgement of 100k workspaces has ~100k due: its alerts
		// are not held for the seconds after it, which have a few
		e.fresh = nil
	}
	return boundEpisodes(out, e.idx)
}

// feedIndex is the index of id among the feed's own alerts (e.feed), -1
// when it is none of them.
func (e *AlertEvaluator) feedIndex(id string) int {
	for i := range e.feed {
		if e.feed[i].id == id {
			return i
		}
	}
	return -1
}

// freshKeep is the most alerts AlertEvaluator.fresh keeps between calls.
const freshKeep = 4096

// markRecord marks the id of a record that changed, and the alert it is an
// episode of (judged against its latest episode).
func (e *AlertEvaluator) markRecord(id string) {
	e.mark(id)
	if base, n := SplitEpisode(id); n > 1 {
		e.mark(base)
	}
}

// mark adds id to todo, keeping its workspace when one is known already.
func (e *AlertEvaluator) mark(id string) {
	if _, ok := e.todo[id]; !ok {
		e.todo[id] = nil
	}
}

func setIn(m map[string]struct{}, id string, on bool) {
	if on {
		m[id] = struct{}{}
	} else {
		delete(m, id)
	}
}
