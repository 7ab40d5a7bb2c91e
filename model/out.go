package model

import (
	"slices"
	"strings"
	"time"
)

// The OUT rule (README "Forecasts": OUT): a workspace is OUT when the
// counters leave it no credit — used ≥ its effective cap, remaining ≤ 0,
// which Assess judges with the cap (level.go) — or when the API refused it
// with credits_exhausted after the last credit added. The second half is
// decided here, by OutByRefusal, and nowhere else: every path that learns of
// a refusal or a credit records what it learnt as OutFacts and asks it —
//
//   - a start, by the counters alone (Seed, JudgeSnapshot for check), then by
//     the history read back newest first (Backfill; check through
//     RefusalUndecided, RefusalDecided and RefusalState);
//   - a re-read of the counters a ledger showed (Seed's settle), with the
//     entries it never applied (Snapshot.Unapplied);
//   - the watching ledger, entry by entry (Apply, SetSettings).
//
// Before (issue 11) each path ordered a 402 against a credit its own way:
// the watching ledger by where a settings entry stood in the stream, a
// start by the raise's raised_at against the 402's trusted time; the
// watching ledger took any allocation raised by a settings entry as a
// credit, a start only a stamped one; a re-read took every credit its gap
// showed as newer than every 402 while entries were unapplied. Each
// disagreement was a workspace OUT on one surface and ok on another.

// OutEntry is the newest thing a ledger knows of that decides OUT by a
// refusal, in stream order (the order Apply meets entries, and Backfill
// meets them reversed).
type OutEntry uint8

const (
	// OutNoEntry: none is known; the counters alone decide.
	OutNoEntry OutEntry = iota
	// OutRefused: a credits_exhausted 402 the counters hold (an entry whose
	// project and code they count none of refuses nothing); its trusted
	// time (Event.At) is OutFacts.RefusedAt.
	OutRefused
	// OutCredited: a dated credit — a recharge entry, or, read back, an
	// entry older than the allocation's raise (raised_at): every 402 known
	// is older.
	OutCredited
)

// OutFacts is what OutByRefusal decides from: what the counters say of a
// workspace this billing period, and the newest entry known that decides.
type OutFacts struct {
	// Refused is the credits_exhausted 402s counted this period.
	Refused int64
	// Held: the counters say what the workspace's 402s are (its counters and
	// its 402 count were read): none counted is none. Otherwise an entry
	// decides even where Refused is 0.
	Held bool
	// CountUnknown: the 402 count itself cannot be read (a refused field or
	// key), so whether the API refuses the workspace is the entries' alone.
	CountUnknown bool
	// Credited: the counters show credit added this period — recharged, a
	// recharged counter that cannot be read, or the allocation raised
	// (raised_at this period) — which they cannot order against a 402.
	Credited bool
	// Last is the newest entry known that decides (OutNoEntry: none).
	Last OutEntry
	// RefusedAt is, when Last is OutRefused, the latest trusted time (unix
	// ms, Event.At) of the 402s since the last credit in the stream: a 402
	// written late (dated before the credit) after one dated after it
	// leaves the later date, so the one after the credit still decides
	// (before, the newest entry's date alone: a real 402 after a recharge,
	// then a late one, read ok on every surface).
	RefusedAt int64
	// RaisedAt is when the allocation was last raised this period
	// (Settings.RaisedAt, stamped by the settings store; 0 when not this
	// period). A raise with no stamp dates no credit: it cannot be ordered
	// against a 402, so it ends none.
	RaisedAt int64
	// RechargedAt is the trusted time (Event.At, unix ms) of the newest
	// recharge entry known this period (0: none).
	RechargedAt int64
	// After is how many credits_exhausted 402s known (entries the counters
	// may hold) are newer than the last credit known: after the last
	// recharge entry in the stream and dated at or after RaisedAt and
	// RechargedAt (wsState.after402, judged when asked); Surplus how many of
	// the 402 entries read back this period the counters do not hold (read
	// back minus counted: a raw XADD, a repeated status or code), which
	// could be any of them. With a surplus, OUT by a 402 needs After >
	// Surplus: at least one 402 after the credit is real whichever ones are
	// not. A watching ledger takes a surplus its re-read finds off After at
	// once (healOut), so it has none.
	After, Surplus int64
}

// OutByRefusal reports whether the API refuses the workspace with
// credits_exhausted now: a credits_exhausted 402 newer than the last
// credit added. "Newer" is the stream's order between entries (a 402 and a
// recharge entry), unless the 402 is dated before the recharge (a late
// producer: Event.At of each), and the trusted time between a 402 and the
// allocation's raise, which has no entry a start reads back: its stamp,
// raised_at, is compared with the 402's Event.At (README "Which clock, in
// one rule"). So a 402 the API gave before a credit ends up older than it,
// whichever credit it was and whenever it was written.
// A credit with no date — a recharged counter raised with no recharge
// entry, an allocation raised with no raised_at — ends no OUT. With no
// entry known, the counters decide alone: OUT when they hold such a 402
// this period and no credit added this period; when they hold both, only
// the entries can order them (Undecided), and until they do the workspace
// is not held OUT.
func OutByRefusal(f OutFacts) bool {
	switch {
	case f.Held && f.Refused <= 0:
		return false // the counters are the truth: no such 402 this period
	case f.Last == OutCredited:
		return false
	case f.Last == OutRefused:
		// a 402 the API gave before the credit, written after it (a late
		// producer: its ts within MaxClockBehind of its id), is ended by it;
		// and one of those after the credit must be one the counters hold
		return f.RaisedAt <= f.RefusedAt && f.RechargedAt <= f.RefusedAt && (f.Surplus <= 0 || f.After > f.Surplus)
	}
	return f.Refused > 0 && !f.Credited
}

// Undecided reports whether the counters alone cannot decide OutByRefusal
// and no entry has yet: a credits_exhausted 402 and a credit both this
// period, or a 402 count that cannot be read. The history read back decides
// (RefusalUndecided, RefusalDecided).
func (f OutFacts) Undecided() bool {
	return f.Last == OutNoEntry && (f.CountUnknown || f.Refused > 0 && f.Credited)
}

// outFacts is what w holds of the OUT rule in period p.
func (w *wsState) outFacts(p Period) OutFacts {
	f := OutFacts{
		Refused:      w.refused[RefusedCredits],
		Held:         w.refusalsReadable(),
		CountUnknown: w.refusedUnreadable != "" || strings.HasPrefix(w.unreadable, `counter "refused:`),
		Credited:     w.recharged > 0 || w.rechargedUnreadable != "" || w.raisedIn(p),
		Last:         w.outLast,
		RefusedAt:    w.after402.latest(),
		RechargedAt:  w.rechargedAt,
	}
	if w.raisedIn(p) {
		f.RaisedAt = w.settings.RaisedAt
	}
	f.After = w.after402.atLeast(max(f.RaisedAt, f.RechargedAt))
	return f
}

// facts is w.outFacts with the surplus of the 402 entries read back so far
// (readBack402 beyond the counters: OutFacts.Surplus).
func (l *Ledger) facts(w *wsState) OutFacts {
	f := w.outFacts(l.period)
	if n, ok := l.readBack402[w.name]; ok && w.refusalsReadable() {
		f.Surplus = max(0, n-w.refused[RefusedCredits])
	}
	return f
}

// takeSurplus takes n credits_exhausted 402s a ledger knows of that the
// counters do not hold off those after the last credit (OutFacts.After):
// they could be any of them. None left after it, the counters decide.
func (w *wsState) takeSurplus(n int64, p Period) {
	if n <= 0 {
		return
	}
	w.after402.takeLatest(n)
	if w.outLast == OutRefused && w.outFacts(p).After == 0 {
		w.outLast = OutNoEntry
	}
}

// judgeOut sets w.blocked by the OUT rule from what w holds now
// (OutByRefusal), beginning an OUT episode when it turns on (startOut). It
// reports whether blocked changed; the caller reranks.
func (l *Ledger) judgeOut(w *wsState) bool {
	on := OutByRefusal(l.facts(w))
	if on == w.blocked {
		return false
	}
	if on {
		w.startOut(l.period)
	}
	w.blocked = on
	return true
}

// outEntryApplied records an entry that decides OUT, applied in stream
// order (live, or among the entries a re-read found unapplied): newer than
// everything known. at is a 402's trusted time (Event.At), by which outFacts
// judges it after the last credit or not (a late 402 after a later one is
// not, hostile18 A; nor one dated before a raise whose settings entry came
// after it, hostile18 B; a raise stamped in another period dates nothing,
// hostile19).
func (w *wsState) outEntryApplied(last OutEntry, at int64) {
	w.outLast = last
	if last == OutCredited {
		w.after402 = nil // every 402 known is before it in the stream
		w.creditAdded()
	} else {
		add402(&w.after402, at, 1)
	}
}

// rechargeAt dates recharge entry e for the late-402 rule
// (OutFacts.RechargedAt): its trusted time (Event.At), or its ts when that
// is older. A recharge whose ts is beyond the trusted minute is dated by its
// id, the latest it can have happened; a 402 written after it, its ts within
// the minute, was then taken as given before the credit and ended by it,
// where the producer says the credit came first (a 402 written 0 ms after
// 'now' read OUT, 1 ms after read ok). Dated by its ts, only a 402 whose
// own time is before the credit's is ended by it; stream order decides the
// rest.
func rechargeAt(e *Event) int64 { return min(e.TS, e.At()) }

// outState is what the OUT rule knows of a workspace from its entries
// (wsState.outLast, rechargedAt, after402) and its counter of
// credits recharged then: what a recharge entry replaced.
type outState struct {
	last                 OutEntry
	rechargedAt, counted int64
	after                *dated402s
}

// saveBeforeRecharge keeps the OUT state before a recharge entry applied
// live (the first since the counters were read): wsState.preRecharge.
func (w *wsState) saveBeforeRecharge() {
	if w.preRecharge == nil {
		w.preRecharge = &outState{last: w.outLast, rechargedAt: w.rechargedAt, after: w.after402.clone(), counted: w.recharged}
		return
	}
	if w.after402 != nil {
		// the 402s since the last recharge entry this one ends: undone with
		// it, they are after the last credit again (a copy: forks share pre)
		p := *w.preRecharge
		p.after = p.after.clone()
		merge402s(&p.after, w.after402)
		if w.outLast == OutRefused {
			p.last = OutRefused
		}
		w.preRecharge = &p
	}
}

// countsRecharge reports whether the counters may hold a recharge entry of
// w: they count credits recharged this period, or cannot say. One they do
// not hold (a raw XADD, a repeated kind) added no credit: it ends no OUT,
// as a 402 they do not hold refuses nothing (counts402).
func (w *wsState) countsRecharge() bool {
	return w.recharged > 0 || w.rechargedUnreadable != "" || w.unreadable != ""
}

// unappliedEntries are what a re-read says of the stream entries up to its
// id that the ledger never applied (it follows on from the snapshot's id):
// whether there are any, and, when they could be read (known), the
// recharges, 402s and successes of this period among them, by workspace,
// in stream order: what decides who the API refuses.
type unappliedEntries struct {
	any, known bool
	byWS       map[string][]*Event
}

// unappliedOf returns the entries of s a ledger that applied the stream up
// to at never applied: those of s.Unapplied after at, when s says it holds
// every entry after the position its reader delivered (Snapshot.Unapplied;
// an entry between at and that position was delivered and not applied —
// malformed, dropped — and decides nothing).
func unappliedOf(at string, s *Snapshot) unappliedEntries {
	u := unappliedEntries{any: at == "" || s.StreamID != "" && CompareStreamIDs(at, s.StreamID) < 0}
	if !u.any {
		u.known = true // none: the ledger applied every entry the counters hold
		return u
	}
	if !s.UnappliedKnown {
		return u
	}
	u.known = true
	for i := range s.Unapplied {
		e := &s.Unapplied[i]
		if at != "" && CompareStreamIDs(e.ID, at) <= 0 || !s.Period.Contains(e.TS) {
			continue
		}
		if e.Kind == KindRecharge || e.Kind == KindUsage && (e.Status == 402 || e.Status >= 200 && e.Status < 300) {
			if u.byWS == nil {
				u.byWS = map[string][]*Event{}
			}
			u.byWS[e.Workspace] = append(u.byWS[e.Workspace], e)
		}
	}
	return u
}

// healOut brings what a re-read of the counters says of the OUT rule into
// w, o being the state it replaces (nil: new). The entries the ledger never
// applied (u) are applied in stream order as Apply would: a recharge among
// them is a dated credit, a credits_exhausted 402 the counters hold a 402
// (and a budget_exceeded one is kept with its date, ended by a raise of its
// limit stamped after it when judged, limitStands; a success ends its
// project's other refusals: who is refused, as a start reads it back).
// A credit the counters show beyond them — the recharged counter raised by
// a raw HINCRBY, no entry — is undated and ends no OUT; an allocation raise
// is dated by its stamp (OutFacts.RaisedAt), whoever wrote it. So the
// re-read judges as a start with the same Redis would, reading them back.
//
// When those entries could not be read (more than the re-read reads, or
// its read failed: !u.known), the credit the gap shows is taken as one of
// them, dated — the one window left (README "Forecasts", the OUT rule): a
// recharge written behind the stream at that moment ends the OUT here and
// not on a dashboard started afterwards. Else a credits_exhausted 402 the
// gap shows, with no raise stamped in it, is taken as newer than every
// credit.
func (l *Ledger) healOut(w, o *wsState, u *unappliedEntries, now time.Time) {
	if pre := w.preRecharge; o != nil && w.recharged < o.recharged && w.rechargedUnreadable == "" {
		// it applied recharge entries the counters do not hold (a raw XADD,
		// a repeated kind): they added no credit, so they end no OUT (as a
		// start reads them back: countsRecharge).
		switch {
		case pre != nil && w.recharged <= pre.counted:
			// none of those applied since the last read is held: their
			// date is undone, and the 402s known before them are after the
			// last credit again, with those after them (a late 402 after a
			// raw recharge kept the raw one as credit here, ok, where a
			// start and check said OUT; hostile18 C)
			w.rechargedAt = pre.rechargedAt
			merge402s(&w.after402, pre.after)
			if w.outLast != OutRefused {
				w.outLast = pre.last
			}
		case w.outLast == OutCredited:
			w.outLast = OutNoEntry // the counters judge
		}
	}
	if o != nil && w.refused[RefusedCredits] < o.refused[RefusedCredits] && w.refusalsReadable() {
		// This ledger counted credits_exhausted 402s the counters do not
		// hold: an entry whose status, code or workspace disagreed with its
		// counters, or a 402 a restore took away. Any of those after the
		// last credit may be one of them: they are taken off (the counters
		// are the truth), and with none left the counters judge alone, as
		// at a start (OutFacts.After, Surplus).
		w.takeSurplus(o.refused[RefusedCredits]-w.refused[RefusedCredits], l.period)
	}
	w.preRecharge = nil // the counters are read: what follows is against them
	raised := o != nil && w.raisedIn(l.period) && w.settings.RaisedAt > o.settings.RaisedAt
	if raised {
		w.raiseAdded() // newer in the stream than any history read back
	}
	var limit402 map[string]int64 // the budget_exceeded 402s among them, by project
	switch {
	case u.known:
		var n402 int64 // the credits_exhausted 402s among them the counters may hold
		for _, e := range u.byWS[w.name] {
			if e.Status == 402 && ClassOf(e.Code) == RefusedCredits && w.counts402(e) {
				n402++
			}
			if e.Status == 402 && e.Code == CodeBudgetExceeded && w.counts402(e) {
				if limit402 == nil {
					limit402 = map[string]int64{}
				}
				limit402[e.Project]++
			}
			healRefusing(w, e, l.period)
		}
		var before int64 // what the counters held of them at the last read
		if o != nil {
			before = o.refused[RefusedCredits]
		}
		if w.refusalsReadable() {
			// more than the counters rose by: some were written without
			// their counter, and could be any of them (as above)
			w.takeSurplus(n402-max(0, w.refused[RefusedCredits]-before), l.period)
		}
	case o == nil:
	case w.recharged > o.recharged:
		w.outEntryApplied(OutCredited, 0)
	case w.refused[RefusedCredits] > o.refused[RefusedCredits] && !raised:
		w.outEntryApplied(OutRefused, now.UnixMilli())
		add402(&w.after402, now.UnixMilli(), w.refused[RefusedCredits]-o.refused[RefusedCredits]-1) // every one the gap holds
	}
	if o != nil && w.refusalsReadable() {
		// a project's budget_exceeded 402s applied and unapplied beyond what
		// the refused hash counts now were written without their counter
		// and could be any of those after its last success: taken off
		// (projState.limitStands), as the credits_exhausted ones above
		for pn, p := range w.projects {
			var applied int64
			if op := o.projects[pn]; op != nil {
				applied = op.refused[CodeBudgetExceeded]
			}
			p.takeLimitSurplus(applied + limit402[pn] - p.refused[CodeBudgetExceeded])
		}
	}
}

// healRefusing applies e, an entry a ledger never applied, to w's refusal
// state, as Apply does (its counters are in the re-read already).
func healRefusing(w *wsState, e *Event, period Period) {
	switch {
	case e.Kind == KindRecharge:
		if !w.countsRecharge() {
			return // it added no credit (as Backfill)
		}
		w.rechargedAt = max(w.rechargedAt, rechargeAt(e))
		w.outEntryApplied(OutCredited, 0)
	case e.Status >= 200 && e.Status < 300:
		if p := w.projects[e.Project]; p != nil {
			for code := range p.refusing {
				if code != CodeCreditsExhausted {
					p.setRefusing(code, false)
				}
			}
		}
	default: // a 402
		if !w.counts402(e) {
			return // it refuses nothing (as Backfill)
		}
		p, at := w.project(e.Project), e.At()
		p.setRefusing(e.Code, true)
		if e.Code == CodeBudgetExceeded {
			// judged against the limit's raise by its stamp (limitStands)
			add402(&p.limit402, at, 1)
		}
		if e.Code == CodeCreditsExhausted {
			w.outEntryApplied(OutRefused, at)
		}
	}
}

const maxExact402s = 32 // dated402s keeps this many dates exactly

// dated402s is the credits_exhausted 402s known after the last recharge
// entry in the stream (applied live, or read back before any recharge
// entry), by their trusted time (Event.At): which of them are after the last
// credit is judged from it (outFacts: dated at or after the raise's stamp
// and the newest recharge's date), so a raise or a recharge dated after a
// 402 ends it wherever it stands in the stream (a late producer's 402, or a
// raise stamped before a 402 written before its settings entry). Bounded:
// the latest maxExact402s dates are kept exactly, the earlier ones as a
// count and their latest date (moreMax, never after an exact date), so
// atLeast is exact for every credit dated after moreMax, whatever order the
// dates came in (the watching ledger meets them oldest first, a start's
// read-back newest first: both keep the same latest dates). A credit dated
// at or before moreMax ends none of the bucket (it leans to OUT: more than
// maxExact402s 402s dated around a credit). takeLatest takes the exact
// dates first; past them it takes from the bucket and moreMax may be later
// than what is left in it (hostile21 C: a surplus of more than
// maxExact402s raw 402s).
type dated402s struct {
	ats           []int64 // ascending
	more, moreMax int64
}

// add402 records n 402s dated at (unix ms, Event.At) in *dp, making the
// list at the first (a nil list is none).
func add402(dp **dated402s, at, n int64) {
	if n <= 0 {
		return
	}
	if *dp == nil {
		*dp = new(dated402s)
	}
	d := *dp
	for ; n > 0; n-- {
		if len(d.ats) == maxExact402s {
			if at <= d.ats[0] {
				// the earliest go to the bucket: its max stays at or
				// before every exact date, whatever order they came in
				d.more, d.moreMax = d.more+n, max(d.moreMax, at)
				return
			}
			d.more, d.moreMax = d.more+1, max(d.moreMax, d.ats[0])
			d.ats = slices.Delete(d.ats, 0, 1)
		}
		i, _ := slices.BinarySearch(d.ats, at)
		d.ats = slices.Insert(d.ats, i, at)
	}
}

// merge402s records every 402 of src in *dp (add402 of each date; the
// bucket's at its latest date, as src keeps it).
func merge402s(dp **dated402s, src *dated402s) {
	if src == nil {
		return
	}
	for _, at := range src.ats {
		add402(dp, at, 1)
	}
	add402(dp, src.moreMax, src.more)
}

// count is how many 402s d holds, whatever their dates.
func (d *dated402s) count() int64 {
	if d == nil {
		return 0
	}
	return int64(len(d.ats)) + d.more
}

// atLeast is how many of them are dated at or after x.
func (d *dated402s) atLeast(x int64) int64 {
	if d == nil {
		return 0
	}
	i, _ := slices.BinarySearch(d.ats, x)
	n := int64(len(d.ats) - i)
	if d.more > 0 && d.moreMax >= x {
		n += d.more
	}
	return n
}

// takeLatest takes off the n latest dated: a surplus of 402s no counter
// holds could be any of them, and taking the latest leaves, against any
// credit's date, as many after it as are there whichever they were.
func (d *dated402s) takeLatest(n int64) {
	if d == nil {
		return
	}
	k := min(n, int64(len(d.ats))) // the latest: the bucket holds the earliest
	d.ats, n = d.ats[:len(d.ats)-int(k)], n-k
	d.more -= min(n, d.more)
}

// latest is the latest date of them (0: none).
func (d *dated402s) latest() (l int64) {
	if d != nil && len(d.ats) > 0 {
		l = d.ats[len(d.ats)-1]
	}
	if d != nil && d.more > 0 {
		l = max(l, d.moreMax)
	}
	return l
}

// clone is a copy sharing nothing with d.
func (d *dated402s) clone() *dated402s {
	if d == nil {
		return nil
	}
	c := *d
	c.ats = slices.Clone(d.ats)
	return &c
}
