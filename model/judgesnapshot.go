package model

import (
	"math"
	"slices"
	"strings"
	"sync"
)

// JudgeSnapshot calls visit with every workspace of s judged, in name order:
// what JudgeAll gives on a ledger just seeded with s (NewLedger,
// WithDefaultAlerts(defaults), Seed), field for field, but for Summary.LastTS,
// 0 here (no event was seen). It builds no ledger: no map of workspace
// states, order keys, alert lines or burn history, which a one-off report of
// every workspace (mavtop check) never reads, and which at 100k workspaces
// cost as much as reading them from Redis. The judgement is the ledger's own
// (Ledger.judge: Assess of the workspace and of each project's usage limit).
//
// refusing overrides, for the workspaces it names, whether the API refuses
// them with credits_exhausted (Summary.Blocked) and which of their projects
// a budget_exceeded 402 still refuses: the counters cannot order a 402 and a
// credit added or a success in the same period, the history read back does
// (Ledger.Backfill, Ledger.RefusalState; see RefusalUndecided). nil leaves
// each to the counters, as Seed does: OUT by them alone, no budget_exceeded
// standing. j and j.Limited are reused from one call to the next.
func JudgeSnapshot(s *Snapshot, defaults []int, refusing map[string]RefusalState, visit func(j *Judged)) {
	js := prepareJudgement(s, defaults, refusing)
	js.judgeRange(0, len(js.order), func(_ int, j *Judged) { visit(j) })
}

// JudgeSnapshotEach is JudgeSnapshot split over up to workers goroutines:
// start is called first with the number of workspaces n, then visit once for
// each with its index i in name order (0 ≤ i < n), from several goroutines at
// once, each i from one of them (visit may write a slice's element i without
// a lock). j is reused by each goroutine from one call to the next. It
// returns when every visit has returned. At 100k workspaces judging is a
// third of mavtop check; the machine's second core halves it.
func JudgeSnapshotEach(s *Snapshot, defaults []int, refusing map[string]RefusalState, workers int, start func(n int), visit func(i int, j *Judged)) {
	js := prepareJudgement(s, defaults, refusing)
	n := len(js.order)
	start(n)
	workers = max(1, min(workers, n/judgeChunk))
	if workers == 1 {
		js.judgeRange(0, n, visit)
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		lo, hi := n*k/workers, n*(k+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			js.judgeRange(lo, hi, visit)
		}()
	}
	wg.Wait()
}

// judgeChunk is the fewest workspaces worth a goroutine of their own.
const judgeChunk = 2_000

// judgement is a snapshot made ready to judge in name order (JudgeSnapshot):
// every workspace once with its counters and settings, and the workspaces
// with projects built as Seed builds them, both sorted by name.
type judgement struct {
	s         *Snapshot
	l         *Ledger
	refusing  map[string]RefusalState
	entries   []judgeEntry
	order     []judgeNamed
	richOrder []*wsState
}

type judgeEntry struct {
	used        int64
	settings    Settings
	hasSettings bool
}

type judgeNamed struct {
	name string
	at   int32
}

func prepareJudgement(s *Snapshot, defaults []int, refusing map[string]RefusalState) *judgement {
	l := &Ledger{period: s.Period, defaults: defaults}
	// the workspaces with projects (used_by, refused, budgets), built by
	// Seed's own fold; every other is its counters and settings alone
	rich := map[string]*wsState{}
	get := func(name string) *wsState {
		w := rich[name]
		if w == nil {
			w = &wsState{name: name, nextAt: noLine}
			rich[name] = w
		}
		return w
	}
	// folded on another core while the counters meet their settings below:
	// the two read s and write apart, and each was a third of this
	// function at 10k workspaces
	folded := make(chan struct{})
	go func() {
		defer close(folded)
		s.foldProjects(get)
	}()
	// every workspace once, with its counters and settings read as its name
	// is first met: one lookup by name each (a lookup is most of the cost)
	n := max(len(s.Used), len(s.Settings)) + len(s.Recharged) // rich is not folded yet
	entries, order := make([]judgeEntry, 0, n), make([]judgeNamed, 0, n)
	add := func(name string, e judgeEntry) {
		order = append(order, judgeNamed{name, int32(len(entries))})
		entries = append(entries, e)
	}
	for ws, used := range s.Used {
		add(ws, judgeEntry{used: used})
	}
	// each its settings, looked up by name on two cores at once: the
	// lookups (a cache miss each) were half of this function
	lookUp := func(lo, hi int) (matched int) {
		for i := lo; i < hi; i++ {
			e := &entries[i]
			if e.settings, e.hasSettings = s.Settings[order[i].name]; e.hasSettings {
				matched++
			}
		}
		return matched
	}
	matched := 0
	if half := len(entries) / 2; half < judgeChunk {
		matched = lookUp(0, len(entries))
	} else {
		done := make(chan int)
		go func() { done <- lookUp(half, len(entries)) }()
		matched = lookUp(0, half)
		matched += <-done
	}
	if matched < len(s.Settings) { // settings of workspaces without a used field
		for ws, st := range s.Settings {
			if _, ok := s.Used[ws]; !ok {
				add(ws, judgeEntry{settings: st, hasSettings: true})
			}
		}
	}
	<-folded
	for ws := range s.Recharged {
		_, used := s.Used[ws]
		_, set := s.Settings[ws]
		if !used && !set {
			add(ws, judgeEntry{})
		}
	}
	for ws := range rich {
		_, used := s.Used[ws]
		_, set := s.Settings[ws]
		_, recharged := s.Recharged[ws]
		if !used && !set && !recharged {
			add(ws, judgeEntry{})
		}
	}
	for ws := range s.Unreadable { // known by a counter that cannot be read alone
		_, used := s.Used[ws]
		_, set := s.Settings[ws]
		_, recharged := s.Recharged[ws]
		if IsID(ws) && !used && !set && !recharged && rich[ws] == nil {
			add(ws, judgeEntry{})
		}
	}
	for ws := range s.RefusedUnreadable { // known by a 402 count that cannot be read alone
		_, used := s.Used[ws]
		_, set := s.Settings[ws]
		_, recharged := s.Recharged[ws]
		_, unread := s.Unreadable[ws]
		if IsID(ws) && !used && !set && !recharged && !unread && rich[ws] == nil {
			add(ws, judgeEntry{})
		}
	}
	for ws := range s.RechargedUnreadable { // known by a recharged counter that cannot be read alone
		_, used := s.Used[ws]
		_, set := s.Settings[ws]
		_, recharged := s.Recharged[ws]
		_, unread := s.Unreadable[ws]
		_, refusedUnread := s.RefusedUnreadable[ws]
		if IsID(ws) && !used && !set && !recharged && !unread && !refusedUnread && rich[ws] == nil {
			add(ws, judgeEntry{})
		}
	}
	// the workspaces with projects in name order too, met in step with the
	// others: no lookup by name
	richOrder := make([]*wsState, 0, len(rich))
	for _, w := range rich {
		richOrder = append(richOrder, w)
	}
	byName := func(a, b judgeNamed) int { return strings.Compare(a.name, b.name) }
	if len(order) < 2*judgeChunk {
		slices.SortFunc(order, byName)
	} else {
		// two halves sorted at once, then merged: the sort of 100k names was a
		// tenth of check, on one core of two
		half := len(order) / 2
		done := make(chan struct{})
		go func() {
			slices.SortFunc(order[:half], byName)
			close(done)
		}()
		slices.SortFunc(order[half:], byName)
		<-done
		merged := make([]judgeNamed, 0, len(order))
		a, b := order[:half], order[half:]
		for len(a) > 0 && len(b) > 0 {
			if a[0].name <= b[0].name {
				merged, a = append(merged, a[0]), a[1:]
			} else {
				merged, b = append(merged, b[0]), b[1:]
			}
		}
		order = append(append(merged, a...), b...)
	}
	slices.SortFunc(richOrder, func(a, b *wsState) int { return strings.Compare(a.name, b.name) })
	return &judgement{s: s, l: l, refusing: refusing, entries: entries, order: order, richOrder: richOrder}
}

// judgeRange judges the workspaces lo to hi (excluded) in name order. Ranges
// judged at once share nothing they write: each workspace with projects is
// in one range, and the ledger is only read.
func (js *judgement) judgeRange(lo, hi int, visit func(i int, j *Judged)) {
	s := js.s
	richOrder := js.richOrder
	if lo > 0 {
		first := js.order[lo].name
		at, _ := slices.BinarySearchFunc(richOrder, first, func(w *wsState, name string) int { return strings.Compare(w.name, name) })
		richOrder = richOrder[at:]
	}
	var j Judged
	var bare wsState
	for i := lo; i < hi; i++ {
		o := js.order[i]
		name, e := o.name, &js.entries[o.at]
		var w *wsState
		if len(richOrder) > 0 && richOrder[0].name == name {
			w, richOrder = richOrder[0], richOrder[1:]
		} else {
			bare = wsState{name: name, nextAt: noLine}
			w = &bare
		}
		w.settings, w.hasSettings, w.used = e.settings, e.hasSettings, e.used
		if len(s.Recharged) > 0 {
			w.recharged = s.Recharged[name]
		}
		if len(s.Unreadable) > 0 {
			w.unreadable = s.Unreadable[name]
		}
		if len(s.RechargedUnreadable) > 0 {
			w.rechargedUnreadable = s.RechargedUnreadable[name]
		}
		w.blocked = OutByRefusal(w.outFacts(s.Period)) // the counters alone, as Seed judges them
		if r, ok := js.refusing[name]; ok {
			w.blocked = r.Blocked
			for _, pn := range r.LimitRefused {
				// held standing by the ledger that read the hour back: one
				// 402 dated after any raise (limitStands)
				p := w.project(pn)
				p.setRefusing(CodeBudgetExceeded, true)
				add402(&p.limit402, math.MaxInt64, 1)
			}
		}
		js.l.judge(w, &j)
		visit(i, &j)
	}
}

// RefusalUndecided returns the workspaces of s whose refusal state the
// counters cannot decide — refused with credits_exhausted this period and
// given credit this period too (recharged, or the allocation raised), with a
// 402 count that cannot be read (Snapshot.Unreadable), or refused with
// budget_exceeded this period (whether the 402 still stands, newer than the
// project's last success and any raise of its limit, only the history
// says) — each with the raise's time (unix ms; 1 when recharged without a
// raise this period, 0 without credit added): a 402 older than that is ended
// by it. The history read back newest first decides them (Ledger.Backfill,
// until Ledger.RefusalDecided).
func RefusalUndecided(s *Snapshot) map[string]int64 {
	credit := map[string]int64{}
	for ws, st := range s.Settings {
		if st.raisedIn(s.Period) {
			credit[ws] = st.RaisedAt
		}
	}
	for ws, r := range s.Recharged {
		if r > 0 {
			credit[ws] = max(credit[ws], 1)
		}
	}
	// OUT by a refusal: the OUT rule's own word on what the counters cannot
	// decide (OutFacts.Undecided), for each workspace refused with
	// credits_exhausted this period or whose 402 count cannot be read
	// (only those given credit need their 402s counted: the others are
	// decided by the counters whatever they count, and at 100k workspaces
	// this is check's path)
	facts := map[string]*OutFacts{}
	credited := func(ws string) bool {
		_, c := credit[ws]
		_, r := s.RechargedUnreadable[ws]
		return c || r
	}
	fact := func(ws string) *OutFacts {
		f := facts[ws]
		if f == nil {
			f = &OutFacts{Credited: credited(ws)}
			facts[ws] = f
		}
		return f
	}
	if len(credit) > 0 || len(s.RechargedUnreadable) > 0 {
		for f, n := range s.Refused {
			if ws, _, code, ok := SplitRefusedField(f); ok && ClassOf(code) == RefusedCredits && credited(ws) {
				fact(ws).Refused = AddCredits(fact(ws).Refused, n)
			}
		}
	}
	// a 402 count that cannot be read: whether the API refuses the
	// workspace is not in the counters at all, only in the history (a
	// credits_exhausted newer than the last credit added outranks what
	// cannot be read: model.Assess), as the dashboard reads it back
	for ws, why := range s.Unreadable {
		if strings.HasPrefix(why, `counter "refused:`) && IsID(ws) {
			fact(ws).CountUnknown = true
		}
	}
	for ws := range s.RefusedUnreadable {
		if IsID(ws) {
			fact(ws).CountUnknown = true
		}
	}
	undecided := map[string]int64{}
	for ws, f := range facts {
		if f.Undecided() {
			undecided[ws] = credit[ws]
		}
	}
	for f, n := range s.Refused {
		if ws, _, code, ok := SplitRefusedField(f); ok && n > 0 && code == CodeBudgetExceeded {
			undecided[ws] = credit[ws]
		}
	}
	return undecided
}

// Only returns the part of s about the workspaces keep names: their counters,
// settings and budgets (Period and StreamID as s's). A ledger seeded with it
// judges those workspaces as one seeded with s does: each workspace's state
// is its own entries only.
func (s *Snapshot) Only(keep map[string]int64) *Snapshot {
	out := &Snapshot{
		Period: s.Period, StreamID: s.StreamID, UsedByLater: s.UsedByLater,
		Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{},
		Recharged: map[string]int64{}, Settings: map[string]Settings{}, Budgets: map[string]ProjectBudget{},
	}
	in := func(ws string) bool { _, ok := keep[ws]; return ok }
	for ws := range keep {
		if n, ok := s.Used[ws]; ok {
			out.Used[ws] = n
		}
		if n, ok := s.Recharged[ws]; ok {
			out.Recharged[ws] = n
		}
		if st, ok := s.Settings[ws]; ok {
			out.Settings[ws] = st
		}
		if why, ok := s.Unreadable[ws]; ok {
			out.MarkUnreadable(ws, why)
		}
		if why, ok := s.RefusedUnreadable[ws]; ok {
			out.MarkRefusedUnreadable(ws, why)
		}
		if why, ok := s.RechargedUnreadable[ws]; ok {
			out.MarkRechargedUnreadable(ws, why)
		}
	}
	for f, n := range s.UsedBy {
		if ws, _, _, ok := SplitUsedByField(f); ok && in(ws) {
			out.UsedBy[f] = n
		}
	}
	for f, n := range s.Refused {
		if ws, _, _, ok := SplitRefusedField(f); ok && in(ws) {
			out.Refused[f] = n
		}
	}
	for key, b := range s.Budgets {
		if ws, _, ok := SplitProjectKey(key); ok && in(ws) {
			out.Budgets[key] = b
		}
	}
	for key, why := range s.UsedByUnreadable {
		if ws, _, ok := SplitProjectKey(key); ok && in(ws) {
			if out.UsedByUnreadable == nil {
				out.UsedByUnreadable = map[string]string{}
			}
			out.UsedByUnreadable[key] = why
		}
	}
	return out
}

// RefusalState is what a ledger holds of a workspace's refusals, as
// JudgeSnapshot takes it: OUT (Summary.Blocked: refused with
// credits_exhausted, no credit added since) and the projects a
// budget_exceeded 402 still refuses (newer than their last success, dated at
// or after their limit's last raise: projState.limitStands), by name.
type RefusalState struct {
	Blocked      bool
	LimitRefused []string
}

// RefusalState returns workspace ws's refusal state (see RefusalState);
// false when the ledger does not know ws.
func (l *Ledger) RefusalState(ws string) (RefusalState, bool) {
	w := l.ws[ws]
	if w == nil {
		return RefusalState{}, false
	}
	r := RefusalState{Blocked: w.blocked}
	for _, p := range w.projects {
		if p.limitStands(w) {
			r.LimitRefused = append(r.LimitRefused, p.name)
		}
	}
	slices.Sort(r.LimitRefused)
	return r, true
}

// RefusalDecided reports whether the history folded into the ledger so far
// (Backfill, newest first) decides workspace ws's refusal state where its
// counters could not (RefusalUndecided): OUT, when it was refused with
// credits_exhausted and given credit this period (or its 402 count cannot
// be read), by a newer credits_exhausted 402, recharge or raise; and each
// project refused with budget_exceeded this period by its newest 402 or a
// newer success, once the read has passed its limit's raise stamp when a
// 402 read back is dated before it (limitAwaitsOlderIDs). A credits_exhausted 402 decides
// only once the whole hour is read (the reader's end): older ones beyond
// what the counters count may outnumber those after the credit
// (OutFacts.Surplus).
// A reader of the history stops once every undecided workspace is decided.
// RefusalAwaitsOlderIDs reports whether RefusalDecided(ws) may turn true
// at an entry of another workspace, once the history read back reaches ids
// older than a date, whichever workspace's entries take it there: ws is
// decided by its allocation's raise alone, ordered by time
// (wsState.raiseOnlyNewer), or by a 402 an older recharge may still be
// dated after (rechargeAt: a late producer's 402). A reader of the history
// (check) re-asks such a workspace after each page, not only at its own
// entries: asked only then, one with no older entry kept check reading the
// whole hour (hostile18 D).
func (l *Ledger) RefusalAwaitsOlderIDs(ws string) bool {
	w := l.ws[ws]
	if w == nil {
		return false
	}
	if w.raiseOnlyNewer && w.outLast == OutCredited || l.awaitsOlderRecharge(w, l.facts(w)) {
		return true
	}
	for _, p := range w.projects {
		if l.limitAwaitsOlderIDs(w, p) {
			return true
		}
	}
	return false
}

// limitAwaitsOlderIDs reports whether a budget_exceeded 402 of project p of
// w not yet read back could be dated after its limit's last raise
// (limitRaisedStamp) and hold it standing: a 402 read back since its last
// success is dated before the stamp and the read has not passed the stamp
// (an entry whose id is older than the stamp is dated before it: Event.At is
// never after its id). A raise stamped before the hour read back keeps no
// read going: no 402 of the hour is dated before it.
func (l *Ledger) limitAwaitsOlderIDs(w *wsState, p *projState) bool {
	if !p.refusing[CodeBudgetExceeded] || p.settled {
		return false
	}
	at := limitRaisedStamp(w, p)
	return at > 0 && l.readBackMs >= at && p.limit402.atLeast(at) < p.limit402.count()
}

// awaitsOlderRecharge reports whether a recharge not yet read back (older in
// the stream than everything read) could be dated after the 402 that
// decides w's OUT (f.RefusedAt) and end it: the read has not passed that
// date, nor the MaxClockBehind before the 402's id (a recharge written
// earlier than that is dated before any 402 a producer could write late
// behind it). The second bound keeps the read short where ids run ahead of
// the clock: the page's read is clamped to now there, never below the
// 402's date, and check read the whole block of such ids (2M entries: a 5
// s timeout, UNKNOWN; regress20).
func (l *Ledger) awaitsOlderRecharge(w *wsState, f OutFacts) bool {
	return f.Last == OutRefused && l.readBackMs > f.RefusedAt &&
		l.readBackMs >= w.readBack402IDMs-MaxClockBehind.Milliseconds()
}

func (l *Ledger) RefusalDecided(ws string) bool {
	w := l.ws[ws]
	if w == nil {
		return true // nothing of it to decide
	}
	f := l.facts(w)
	if f.Undecided() { // the OUT rule's: no entry read has decided it yet
		return false
	}
	if l.awaitsOlderRecharge(w, f) {
		// a recharge older in the stream may be dated after this 402 (the
		// 402 a late producer's, given before it: rechargeAt) and end it:
		// read on until the stream's ids are older than the 402's date.
		// Before, with the 402 count unreadable (no surplus to read the
		// hour for), check stopped at the 402 and said OUT where every
		// other path, which read the recharge, said ok (hostile19)
		return false
	}
	if w.raiseOnlyNewer && f.Last == OutCredited && l.readBackMs >= w.settings.RaisedAt {
		// decided by an entry dated before the raise, but one older in the
		// stream may be dated after it (a 402 after the raise, then one the
		// API gave before it, written late): read on until the stream's
		// ids are older than the raise
		return false
	}
	if f.Last == OutRefused && f.Held && f.After > f.Surplus {
		// OUT by a 402 holds only if the hour holds no more 402s beyond
		// what the counters count than there are after the credit
		// (OutFacts.Surplus only grows as older entries are read): a start
		// reads it all
		return false
	}
	for _, p := range w.projects {
		if p.refused[CodeBudgetExceeded] <= 0 {
			continue
		}
		if p.refusing[CodeBudgetExceeded] && w.refusalsReadable() && p.limitStands(w) {
			// as OUT's: the surplus read back only grows as older entries
			// are (projState.limitStands), so it stands once all are read
			return false
		}
		if l.limitAwaitsOlderIDs(w, p) {
			// a 402 read back dated before the limit's raise, but one older
			// in the stream may be dated after it (a 402 after the raise,
			// then one the API gave before it, written late): read on until
			// the stream's ids are older than the raise's stamp
			return false
		}
		if p.settled {
			continue
		}
		if _, decided := p.refusing[CodeBudgetExceeded]; !decided {
			return false
		}
	}
	return true
}
