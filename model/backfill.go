package model

import (
	"math"
	"time"
)

// Backfill folds past events into burn history, the 402 log and the refusal
// state (who is being refused now) only: the counters a Seed brought already
// hold them. It lets a fresh start show real burn rates, the recent 402s and
// OUT for a workspace the API is refusing, instead of waiting an hour.
//
// Events come newest first, as read back from the stream, in pages: each call
// continues with events older than the last call's, so a start folds the hour
// as it streams in and never holds it. Live events may be applied between
// calls; they are newer than any backfilled one. from is how far back history
// is complete after this page: burn windows reach back to it.
func (l *Ledger) Backfill(evs []Event, from time.Time) {
	l.version++
	for i := range evs {
		e := &evs[i]
		if ms, _, ok := ParseStreamID(e.ID); ok && ms <= math.MaxInt64 && (l.readBackMs == 0 || int64(ms) < l.readBackMs) {
			l.readBackMs = int64(ms)
		}
		if !FeedsFreshness(e.Kind) {
			continue // a settings entry dates no row (its age), as it dates no feed
		}
		w := l.ws[e.Workspace]
		if w != nil {
			w = l.own(w)
		}
		inPeriod := l.period.Contains(e.TS)
		at := e.At() // as Apply dates it
		if w != nil && at > w.lastTS && inPeriod {
			w.lastTS = at // newest first: once per workspace at most
			l.rerank(w)   // it moves in ByLastEvent
		}
		if e.Kind == KindUsage && e.Credits != 0 {
			l.all.charge(at, e.Credits)
			if w != nil {
				if w.burn == nil {
					w.burn = new(burnRing)
				}
				w.burn.charge(at, e.Credits)
				if p := w.projects[e.Project]; p != nil && p.limited() {
					if p.burn == nil {
						p.burn = new(burnRing)
					}
					p.burn.charge(at, e.Credits)
				}
			}
		}
		if w == nil || !inPeriod {
			continue
		}
		l.backfillRefusing(w, e, at)
		if e.Refused() {
			p := w.project(e.Project)
			class := ClassOf(e.Code)
			l.refusalsChanged()
			l.refusals.pushOlder(Refusal{Event: *e, Class: class, By: refusedBy(w, p, class)})
		}
	}
	if ms := from.UnixMilli(); ms < l.observedFrom {
		l.observedFrom = ms
	}
	if ms := from.UnixMilli(); l.readBackMs == 0 || ms < l.readBackMs {
		// the read is complete back to from: every entry newer was passed,
		// whichever workspace's it was (a reader that decodes only some,
		// check's, hands over only theirs)
		l.readBackMs = ms
	}
}

// backfillRefusing replays e's effect on the refusal state backwards: Apply's
// rules, where the newest event that decides something wins (Apply marks what
// live events decide the same way). OUT is the OUT rule's (OutByRefusal) of
// the newest credits_exhausted 402, recharge or allocation raise known (a
// settings entry in the stream does not carry the allocation it replaced:
// the raise's time is the settings hash's raised_at, Settings.RaisedAt). A
// success ends a project's other refusals only; a budget_exceeded 402 read
// back is kept with its date (projState.limit402), and a raise (or removal)
// of the usage limit that gave it ends it when its stamp is newer
// (limitRaisedStamp), as on the watching ledger.
//
// e is ordered against the hash's stamps by at, its trusted time (Event.At,
// unix ms), not its ts: a 402 Redis took after a raise, from a producer whose
// clock runs hours slow, is after the raise, as Apply (stream order) has it
// live.
func (l *Ledger) backfillRefusing(w *wsState, e *Event, at int64) {
	if w.raisedIn(l.period) && w.settings.RaisedAt > at {
		// the allocation was raised after e (the settings hash says when):
		// credits added, newer than e and all that follows
		l.decideOut(w, OutCredited)
		if !w.creditNewer {
			w.raiseOnlyNewer = true
		}
		w.creditNewer = true
	}
	// e is dated after the raise, the one credit known newer than it, which
	// is ordered by time alone: a 402 the API gave before the raise and a
	// producer wrote late, after e, set creditNewer first
	afterRaise := w.raiseOnlyNewer && at >= w.settings.RaisedAt
	switch {
	case e.Kind == KindRecharge && !w.countsRecharge():
		// the counters hold no recharge this period: it added no credit
		// (a raw XADD, a repeated kind), so it ends no OUT
	case e.Kind == KindRecharge:
		if ra := rechargeAt(e); ra > w.rechargedAt {
			// a 402 newer in the stream but older than it (a late
			// producer) is ended by it (OutFacts.RechargedAt, After)
			w.rechargedAt = ra
			if l.judgeOut(w) {
				l.rerank(w)
			}
		}
		l.decideOut(w, OutCredited)
		w.creditNewer, w.raiseOnlyNewer = true, false
	case e.Status >= 200 && e.Status < 300:
		if p := w.projects[e.Project]; p != nil {
			p.settled = true
		}
	case e.Status == 402:
		if !w.counts402(e) {
			return // it refuses nothing (it is listed: Uncounted says so)
		}
		p := w.project(e.Project)
		_, decided := p.refusing[e.Code]
		if e.Code == CodeBudgetExceeded {
			if !p.settled && (!decided || p.refusing[e.Code]) {
				// newer than its last success: after the limit's raise if
				// dated at or after its stamp (limitStands, when judged)
				add402(&p.limit402, at, 1)
			}
			if w.refusalsReadable() {
				p.readBackLimit402++ // beyond the counters: could be any (limitSurplus)
				if l.limitReadBack == nil {
					l.limitReadBack = map[string]struct{}{}
				}
				l.limitReadBack[w.name] = struct{}{}
			}
		}
		switch {
		case decided:
		case e.Code == CodeCreditsExhausted:
			decided = w.creditNewer && !afterRaise
		default:
			decided = p.settled
		}
		if !decided {
			p.setRefusing(e.Code, true)
			if e.Code == CodeBudgetExceeded {
				l.rerank(w) // a limit held reached ranks its row (Verdict.LimitReached)
			}
		}
		if ClassOf(e.Code) == RefusedCredits {
			if !w.creditNewer || w.raiseOnlyNewer || w.outLast == OutNoEntry {
				// newer in the stream than every recharge known: after the
				// last credit unless dated before it (OutFacts.After)
				add402(&w.after402, at, 1)
			}
			if w.refusalsReadable() {
				// the 402s read back beyond what the counters count were
				// written without their counter and could be any of them,
				// the newest included (OutFacts.Surplus)
				if l.readBack402 == nil {
					l.readBack402 = map[string]int64{}
				}
				l.readBack402[w.name]++
			}
		}
		if e.Code == CodeCreditsExhausted && afterRaise {
			w.outLast = OutRefused // after the raise by time, whatever was read before it
		} else if e.Code == CodeCreditsExhausted {
			l.decideOut(w, OutRefused)
		}
		if e.Code == CodeCreditsExhausted && w.outLast == OutRefused && w.after402.latest() == at {
			if ms, _, ok := ParseStreamID(e.ID); ok && ms <= math.MaxInt64 {
				w.readBack402IDMs = int64(ms) // the deciding 402's (RefusalDecided)
			}
		}
		if l.judgeOut(w) {
			l.rerank(w)
		}
	}
}

// decideOut records an entry read back that decides OUT, unless a newer
// one did, and judges OUT again by it.
func (l *Ledger) decideOut(w *wsState, last OutEntry) {
	if w.outLast == OutNoEntry {
		w.outLast = last
		if l.judgeOut(w) {
			l.rerank(w)
		}
	}
}

// pushOlder adds x behind every refusal kept (it is older than all of them),
// while the ring has room.
func (r *refusalRing) pushOlder(x Refusal) {
	if r.n >= len(r.buf) {
		return
	}
	j := (r.next - 1 - r.n + 2*len(r.buf)) % len(r.buf)
	r.buf[j] = x
	r.n++
}

// HistoryPending reports whether the last hour is still being read back (a
// Snapshot with HistoryLater, until EndHistory). Meanwhile every judgement that
// depends on history — burn, idle, run-out, OUT, who is refused — is unknown:
// made on part of the hour, it could differ from an instance that watched it
// all along (EvaluateAlerts judges none of them; views say "loading…").
func (l *Ledger) HistoryPending() bool { return l.historyPending }

// EndHistory marks the read-back of the hour complete (its last page folded,
// or the read failed: judged without it rather than never).
func (l *Ledger) EndHistory() {
	if !l.historyPending {
		return
	}
	l.version++
	l.newEpoch() // run-out and who is refused are judged again
	l.historyPending = false
	// the surplus of 402s read back is taken off those after the last
	// credit, as a watching ledger's re-read takes one off (healOut): the
	// count is the read-back's, none comes after
	for name := range l.limitReadBack {
		// the same for a project's budget_exceeded 402s (limitStands)
		w := l.ws[name]
		if w == nil {
			continue
		}
		w = l.own(w)
		for _, p := range w.projects {
			if p.readBackLimit402 > 0 {
				p.takeLimitSurplus(p.limitSurplus())
				p.readBackLimit402 = 0
			}
		}
		l.rerank(w) // a limit held reached ranks its row (Verdict.LimitReached)
	}
	l.limitReadBack = nil
	readBack := l.readBack402
	l.readBack402 = nil // taken off After: no surplus is left to judge by (facts)
	for name, n := range readBack {
		w := l.ws[name]
		if w == nil || !w.refusalsReadable() {
			continue
		}
		if s := n - w.refused[RefusedCredits]; s > 0 {
			w = l.own(w)
			w.takeSurplus(s, l.period)
			if l.judgeOut(w) {
				l.rerank(w)
			}
		}
	}
}

// DateRows dates each workspace of at (unix ms, its newest event of this
// billing period: feed.Newest.InPeriod, read from the stream's newest
// entries) where it is newer than the row's age so far. The hour read back
// (Backfill) dates only the workspaces that spent in it; one quiet for longer
// read "—" on the dashboard while `check` and `budget show`, reading the
// stream's newest 1,000 entries, said "3 h": a start reads those entries too
// and dates its rows by them, so every surface gives one age. A time outside
// the period, or of a workspace the ledger does not know, dates nothing.
// before (unix ms; 0 unknown) is how far back they and the hour reach: a
// workspace with credits used this period left undated had its newest
// event before it (Summary.LastBefore: "> 3 h", not "—").
func (l *Ledger) DateRows(at map[string]int64, before int64) {
	if before > 0 && before != l.agesBefore {
		l.version++
		l.agesBefore = before
	}
	for ws, ms := range at {
		w := l.ws[ws]
		if w == nil || ms <= w.lastTS || !l.period.Contains(ms) {
			continue
		}
		l.version++
		w = l.own(w)
		w.lastTS = ms
		l.rerank(w) // it moves in ByLastEvent
	}
}
