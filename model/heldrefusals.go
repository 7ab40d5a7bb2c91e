package model

import "maps"

// A 402 the counters do not hold refuses nothing (README): an entry written
// to the stream without its counter increment (a repeated status field, a
// producer that skipped the MULTI) is followed at once, and the next audit
// re-reads the counters, which show no such 402. Before, its refusals alert
// fired on the entry and resolved at the audit, a second later, stored and
// delivered on every instance. A ledger whose follower audits
// (SetAudited) keeps the stream id of each workspace's newest 402 applied from
// the stream until the counters are seen to hold it — a re-read (Seed) or an
// audit that found them equal to what was followed up to an id at or past it
// (CountersHeld) — and judges the workspace's refusals alerts unknown
// meanwhile: neither fired nor resolved on a 402 not yet counted.

// SetAudited says whether this ledger's follower audits the counters and
// reports each agreement (CountersHeld): only then are 402s from the stream
// held back from the refusals alerts until the counters are seen to hold
// them. A ledger never told (a counters-only source, a test) judges them at
// once, as before.
func (l *Ledger) SetAudited(on bool) {
	l.audited = on
	if !on {
		l.unheld, l.unheldUse = nil, nil
	}
}

// noteUnheld records that ws's 402 of stream id was applied from the stream
// and is not yet seen in the counters.
func (l *Ledger) noteUnheld(w *wsState, id string) {
	if !l.audited || id == "" {
		return
	}
	if l.unheld == nil {
		l.unheld = map[string]string{}
	}
	l.unheld[w.name] = id
}

// The same holds for an entry that crossed an alert line: an entry whose
// credits field says more than its counter increment (a repeated field, a
// raw XADD) fired the threshold and allocation_reached alerts to every sink
// and resolved them at the audit, seconds later. A crossing from the stream
// is noted (noteUnheldUse) and the workspace's usage lines that hold are
// judged unknown until the counters are seen to hold it: a firing alert
// stays firing, none fires on credits the counters do not hold.

// noteUnheldUse records that an entry of ws of stream id, applied from the
// stream, crossed an alert line and is not yet seen in the counters.
func (l *Ledger) noteUnheldUse(w *wsState, id string) {
	if !l.audited || id == "" {
		return
	}
	if l.unheldUse == nil {
		l.unheldUse = map[string]string{}
	}
	l.unheldUse[w.name] = id
}

// CountersHeld says that an audit found the counters equal to what was
// followed up to stream id: every 402 and crossing applied at or before it
// is counted, and the alerts of the workspaces waiting for it are judged
// again.
func (l *Ledger) CountersHeld(id string) {
	for name, at := range l.unheldUse {
		if CompareStreamIDs(at, id) > 0 {
			continue
		}
		delete(l.unheldUse, name)
		if w := l.ws[name]; w != nil {
			l.version++
			l.own(w) // stamped: its alerts are judged again
		}
	}
	for name, at := range l.unheld {
		if CompareStreamIDs(at, id) > 0 {
			continue
		}
		delete(l.unheld, name)
		if w := l.ws[name]; w != nil {
			l.version++
			l.own(w) // stamped: its alerts are judged again
		}
	}
}

// refusalHeld reports whether ws's refusals can be judged: no 402 applied
// from the stream waits for the counters to be seen holding it.
func (l *Ledger) refusalHeld(w *wsState) bool { return l.unheld[w.name] == "" }

// cloneUnheld is the unheld map a clone starts from (each changes its own).
func (l *Ledger) cloneUnheld() map[string]string { return maps.Clone(l.unheld) }

// RefusalWaits reports whether the 402 e, just applied (Apply), waits for
// the counters to be seen holding it: this ledger's follower audits, and e
// is its workspace's newest 402 from the stream not yet seen counted. The
// dashboard holds its banner, bell and alerts-pane line for such a 402
// until an audit confirms it (an AuditMsg at or past its id) or a re-read
// finds it counted (RefusalCounted), the rule of the refusals alerts.
func (l *Ledger) RefusalWaits(e *Event) bool {
	return e.ID != "" && l.unheld[e.Workspace] == e.ID
}

// RefusalWaiting reports whether a 402 of workspace ws applied from the
// stream waits for the counters to be seen holding it (RefusalWaits).
func (l *Ledger) RefusalWaiting(ws string) bool { return l.unheld[ws] != "" }

// RefusalCounted reports whether the counters hold the 402 e as far as this
// ledger can tell after a re-read: it is of this period, its workspace,
// project and code count at least one 402, and none of the 402 log's rows
// of them are beyond that count (Uncounted). A 402 written without its
// counter increment (a raw XADD, a repeated status field) is not: the
// re-read counts fewer than are listed.
func (l *Ledger) RefusalCounted(e *Event) bool {
	if !l.period.Contains(e.TS) {
		return false
	}
	l.Uncounted() // counted afresh when asked first after a re-read
	f := fieldOf(e)
	return l.counted(f) > 0 && l.beyondCounter(f) == 0
}
