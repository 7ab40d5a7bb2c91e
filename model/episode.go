package model

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Episodes: an alert whose condition holds again after it resolved fires
// again, in the same billing period, as a new episode with an id of its own
// (README, "Episodes"). A new id, not a record that goes back to firing:
// the id is what a receiver dedupes on (`<id>#firing`), what the lifecycle's
// claims are atomic on, and what `mavtop alerts` lists, so an episode is
// claimed, delivered and listed exactly as a first firing is.
const (
	// DefaultReFireAfter is how long a resolved alert waits before it may
	// fire again: its condition must hold when the resolution is this old,
	// or later. A workspace hovering at the edge of a condition (a call
	// refused, the next one served, a burn at the pace) fires and resolves
	// at most once in this time, not every second.
	DefaultReFireAfter = 10 * time.Minute
	// MaxEpisodes bounds the alert ids of one workspace (or of the feed's own
	// alert) in one billing period beyond each alert's first: episodes
	// numbered 2 and on, and the credits_exhausted refusals of OUT episodes
	// after the period's first. Past it a condition that holds again fires
	// nothing more that period (its last episode stays resolved, as every
	// alert did before episodes), so no stream of events grows the alerts hash
	// by more than this per workspace and period.
	MaxEpisodes = 100
)

// episodeSep ends an alert id's detail before its episode number: neither
// a threshold, an error code ([a-z0-9_.-]) nor a workspace or project id
// ([A-Za-z0-9._:-]) holds it.
const episodeSep = "~"

// EpisodeID returns the id of episode n (from 1) of the alert whose first
// episode has id base: base itself for the first (the id every earlier
// version used), "<base>~<n>" after it ("2026-11/acme/-/threshold/75~2").
func EpisodeID(base string, n int) string {
	if n <= 1 {
		return base
	}
	return base + episodeSep + strconv.Itoa(n)
}

// SplitEpisode returns the id of an alert's first episode and which episode
// id is (1 for an id without an episode number, or with a malformed one).
func SplitEpisode(id string) (base string, n int) {
	i := strings.LastIndex(id, episodeSep)
	if i < 0 || strings.Contains(id[i:], "/") {
		return id, 1
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n < 2 || id[i+1] == '0' || id[i+1] == '+' {
		return id, 1
	}
	return id[:i], n
}

// isEpisode reports whether id is one of an alert's episodes after the
// period's first: numbered 2 and on, or the refusal of a later OUT episode
// ("credits_exhausted@150"). MaxEpisodes counts these.
func isEpisode(id string) bool {
	base, n := SplitEpisode(id)
	if n > 1 {
		return true
	}
	i := strings.LastIndexByte(base, '/')
	return strings.Contains(base[i+1:], "@")
}

// episodeOwner is the part of an alert id MaxEpisodes counts by: its period
// and workspace ("2026-11/acme"; "2026-11/-" for the feed's own alert).
// Workspace ids hold no "/".
func episodeOwner(id string) string {
	i := strings.IndexByte(id, '/')
	if i < 0 {
		return id
	}
	if j := strings.IndexByte(id[i+1:], '/'); j >= 0 {
		return id[:i+1+j]
	}
	return id
}

// episodeIndex is what the re-fire rule needs of a lifecycle: each alert's
// latest episode, and how many episode ids each workspace has. It is kept
// as records come and go (update), not rebuilt at every judgement.
type episodeIndex struct {
	latest  map[string]int      // first episode's id → the highest episode ≥ 2 recorded
	extra   map[string]int      // episodeOwner → the episode ids recorded (isEpisode)
	counted map[string]struct{} // the ids counted in extra
}

func newEpisodeIndex() *episodeIndex {
	return &episodeIndex{latest: map[string]int{}, extra: map[string]int{}, counted: map[string]struct{}{}}
}

// indexOf returns the index of every record of known.
func indexOf(known records) *episodeIndex {
	x := newEpisodeIndex()
	for id := range known.ids() {
		x.update(id, known)
	}
	return x
}

// reset forgets everything indexed.
func (x *episodeIndex) reset() {
	clear(x.latest)
	clear(x.extra)
	clear(x.counted)
}

// update takes in that id's record was added to known, or removed from it
// (a change of a record in place changes nothing indexed).
func (x *episodeIndex) update(id string, known records) {
	present := known.has(id)
	if isEpisode(id) {
		_, was := x.counted[id]
		switch owner := episodeOwner(id); {
		case present && !was:
			x.counted[id] = struct{}{}
			x.extra[owner]++
		case !present && was:
			delete(x.counted, id)
			if x.extra[owner]--; x.extra[owner] <= 0 {
				delete(x.extra, owner)
			}
		}
	}
	base, n := SplitEpisode(id)
	if n < 2 {
		return
	}
	switch cur := x.latest[base]; {
	case present && n > cur:
		x.latest[base] = n
	case !present && n == cur:
		delete(x.latest, base)
		for j := n - 1; j >= 2; j-- {
			if known.has(EpisodeID(base, j)) {
				x.latest[base] = j
				break
			}
		}
	}
}

// current returns the latest episode of the alert whose first episode is
// base: its id, number and record (n 0 and ok false: none recorded).
func (x *episodeIndex) current(base string, known records) (id string, n int, rec AlertRecord, ok bool) {
	if n = x.latest[base]; n >= 2 {
		id = EpisodeID(base, n)
		if rec, ok = known.get(id); ok {
			return id, n, rec, true
		}
	}
	if rec, ok = known.get(base); ok {
		return base, 1, rec, true
	}
	return base, 0, AlertRecord{}, false
}

// lifeStep is what the lifecycle rule decides for one alert.
type lifeStep uint8

const (
	stepNone    lifeStep = iota
	stepFire             // its next episode fires
	stepResolve          // its latest episode resolves
)

// reFireAfter is the hold-off in force (DefaultReFireAfter for 0; none for
// a negative one).
func (o AlertOptions) reFireAfter() time.Duration {
	switch {
	case o.ReFireAfter == 0:
		return DefaultReFireAfter
	case o.ReFireAfter < 0:
		return 0
	}
	return o.ReFireAfter
}

// decide is the lifecycle rule for the alert whose first episode is base,
// its condition cond judged now on a ledger of period that has read the
// stream to stream, against its latest episode (x, known). It returns what
// is due (and the id it is due for: the new episode's, or the latest's) and
// whether a transition is held back until the stream or the clock moves on
// (or the workspace's episodes fall under MaxEpisodes):
//
//   - it never fired this period: it fires (its first episode, base);
//   - its latest episode fires and the condition ended: it resolves, once
//     this ledger has read as far as the one that fired it;
//   - its latest episode resolved and the condition holds again: the next
//     episode fires, once this ledger has read as far as the one that
//     resolved it (one a moment behind must not fire what a faster one just
//     resolved; ledger false: a condition not judged from the ledger, the
//     feed's own, which an instance without counters judges too), once the resolution is ReFireAfter old, and while the
//     workspace has fewer than MaxEpisodes episodes this period.
func (o AlertOptions) decide(cond AlertCondition, base string, ledger bool, x *episodeIndex, known records, stream string, now time.Time) (what lifeStep, id string, wait bool) {
	cur, n, rec, ok := x.current(base, known)
	switch {
	case cond == ConditionHolds && !ok:
		if isEpisode(base) && x.extra[episodeOwner(base)] >= MaxEpisodes {
			return stepNone, "", true // past the bound (until records of it go)
		}
		return stepFire, base, false
	case cond == ConditionHolds && rec.Status == AlertResolved:
		next := EpisodeID(base, n+1)
		switch {
		case ledger && CompareStreamIDs(stream, rec.ResolvedStream) < 0, now.Before(rec.ResolvedAt.Add(o.reFireAfter())):
			return stepNone, "", true
		case x.extra[episodeOwner(next)] >= MaxEpisodes:
			return stepNone, "", true
		}
		return stepFire, next, false
	case cond == ConditionEnded && ok && rec.Status == AlertFiring:
		if CompareStreamIDs(stream, rec.FiredStream) >= 0 {
			return stepResolve, cur, false
		}
		return stepNone, "", true
	}
	return stepNone, "", false
}

// goneStep is the rule for a record whose alert this ledger no longer judges
// at all: a firing one of an earlier period resolves (the period rolled
// over), as does one of this period once this ledger has read as far as the
// one that fired it (its line was removed from the settings: Removed).
func goneStep(rec AlertRecord, period, stream string) (due, removed, wait bool) {
	if rec.Status != AlertFiring {
		return false, false, false
	}
	same := rec.Alert.Period == period
	earlier := !same && rec.Alert.Period < period
	ahead := CompareStreamIDs(stream, rec.FiredStream) >= 0
	return earlier || same && ahead, same && ahead, same && !ahead
}

// transition is the transition decide's step makes of alert a (its ID the
// first episode's) at now.
func transitionOf(a Alert, what lifeStep, id, stream string, now time.Time) AlertTransition {
	a.ID = id
	st := AlertFiring
	if what == stepResolve {
		st = AlertResolved
	}
	return AlertTransition{Alert: a, Status: st, At: now, Stream: stream}
}

// boundEpisodes sorts the transitions by id and leaves out the firings of
// episodes past MaxEpisodes that several due at once would make (decide
// counts only those recorded).
func boundEpisodes(out []AlertTransition, x *episodeIndex) []AlertTransition {
	slices.SortFunc(out, func(a, b AlertTransition) int { return cmp.Compare(a.Alert.ID, b.Alert.ID) })
	var more map[string]int
	keep := out[:0]
	for _, tr := range out {
		if tr.Status == AlertFiring && isEpisode(tr.Alert.ID) {
			owner := episodeOwner(tr.Alert.ID)
			if x.extra[owner]+more[owner] >= MaxEpisodes {
				continue
			}
			if more == nil {
				more = map[string]int{}
			}
			more[owner]++
		}
		keep = append(keep, tr)
	}
	return keep
}

// ResyncSameEvent is how far apart two instances may see one change of
// Redis (each reconnects after a restart within its backoff, 5 s at most,
// and audits on its own cadence, 5 s by default) and still take it for one:
// a re-read of a reason made within it of the firing of the reason's latest
// episode is that episode's; one made later is a new event, which fires a
// new episode at once (the re-fire wait does not apply: a second restart is
// news an operator must hear of).
var ResyncSameEvent = time.Minute

// otherReread reports whether a's re-read, made within ResyncSameEvent of
// the firing of rec (the reason's latest episode), is another event all the
// same: it is newer than the re-read rec raised (its ResyncAt, else its
// FiredAt) and says another thing (its note: other figures, another state of
// the server). Instances seeing one event say it alike and stay one episode;
// an instance that re-reads again — a drift of −85 credits, then one of +60,
// then +2,000,000,000,070 seven seconds later — raises each, where the
// minute merged them and lost their figures (issue 11: 7 re-reads, 2 records).
//
// rec may be the resolution of an episode a re-read superseded: the store
// keeps the resolution's alert, whose ResyncAt is the episode's own
// (resyncStep), whose Next is the superseding re-read's note. That re-read
// is owed its episode whatever ResyncAt holds: a resolution written before
// ResyncAt stayed the episode's held the superseding re-read's own time, and
// the re-read compared with itself was never raised (hostile11). (A Next
// that says what the episode said came later than ResyncSameEvent after it
// fired, which FiredAt, kept by every resolution, tells.)
func otherReread(a *Alert, rec AlertRecord) bool {
	if rec.Status == AlertResolved && rec.Alert.Next != "" && rec.Alert.Next != rec.Alert.Note &&
		a.Note == rec.Alert.Next && !a.ResyncAt.Before(rec.Alert.ResyncAt) {
		return true
	}
	since := rec.Alert.ResyncAt
	if since.IsZero() {
		since = rec.FiredAt
	}
	return a.ResyncAt.After(since) && a.Note != rec.Alert.Note
}

// resyncStep is the lifecycle rule of an AlertResync (a: this instance's
// judgement of it, its ResyncAt the re-read this instance made, if any),
// judged from the stored record of its latest episode, not from this
// instance's memory, so that every instance sharing the store agrees:
//
//   - its latest episode fires: it resolves once its FiredAt is ResyncHold
//     old (by the stored time: an instance that never saw the re-read
//     resolves it neither sooner nor later than the one that fired it), or
//     at once when this instance made a re-read of the reason that is a new
//     event (later than ResyncSameEvent after FiredAt, or otherReread): its next episode
//     fires at the next judgement, and the resolution names it (Next);
//   - otherwise a re-read this instance made within ResyncHold that is a
//     new event (no episode yet, or later than ResyncSameEvent after the
//     latest one fired, or newer than its re-read with another note:
//     otherReread) fires the next episode, without the re-fire wait,
//     while the episodes stay under MaxEpisodes.
//
// wait says a transition may come with the clock alone (a firing episode's
// hold): the evaluator judges it again at its next call. a's Note and Next
// are set to what the transition says; a resolution's ResyncAt and Note are
// its episode's (the stored firing's), so that the resolved record, which
// the store keeps with the resolution's alert, says which re-read the
// episode raised and the next judgement tells the superseding one from it.
func resyncStep(a *Alert, base string, x *episodeIndex, known records, now time.Time) (what lifeStep, id string, wait bool) {
	cur, n, rec, ok := x.current(base, known)
	fresh := !a.ResyncAt.IsZero() && now.Sub(a.ResyncAt) < ResyncHold &&
		(!ok || a.ResyncAt.After(rec.FiredAt.Add(ResyncSameEvent)) || otherReread(a, rec))
	if ok && rec.Status == AlertFiring {
		switch {
		case fresh:
			a.Next, a.Note, a.ResyncAt = a.Note, rec.Alert.Note, rec.Alert.ResyncAt
			return stepResolve, cur, false
		case !now.Before(rec.FiredAt.Add(ResyncHold)):
			a.Note, a.ResyncAt = rec.Alert.Note, rec.Alert.ResyncAt
			return stepResolve, cur, false
		}
		return stepNone, "", true
	}
	if !fresh {
		return stepNone, "", false
	}
	next := EpisodeID(base, n+1)
	if n == 0 {
		next = base
	}
	if isEpisode(next) && x.extra[episodeOwner(next)] >= MaxEpisodes {
		return stepNone, "", true
	}
	return stepFire, next, false
}
