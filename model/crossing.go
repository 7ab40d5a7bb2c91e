package model

import "strconv"

// CrossingKind says which line a workspace or project crossed.
type CrossingKind uint8

const (
	// CrossThreshold: an alert threshold (percent of the effective cap: the
	// allocation plus recharges, or the usage limit when that is smaller).
	CrossThreshold CrossingKind = iota
	// CrossExhausted: the allocation (plus recharges) is used up.
	CrossExhausted
	// CrossUsageLimit: the workspace's hard usage limit is reached.
	CrossUsageLimit
	// CrossBudgetAlert: the workspace's budget alert amount is reached.
	CrossBudgetAlert
	// CrossProjectAlert: a project's budget alert amount is reached.
	CrossProjectAlert
	// CrossProjectLimit: a project's usage limit is reached.
	CrossProjectLimit
)

// Crossing is the moment a workspace or project passes one of its lines. Each
// fires once per billing period; a ledger seeded past a line does not fire it.
type Crossing struct {
	Kind      CrossingKind
	Workspace string
	Project   string
	// Threshold is the percent crossed, for CrossThreshold.
	Threshold int
	// Used is the credits used when it fired; Of is the line's size in credits
	// (for CrossThreshold, the effective cap the percent is of).
	Used, Of int64
	// CapKind says what Of is for CrossThreshold: the allocation (plus
	// recharges) or the usage limit.
	CapKind CapKind
	// Level is the level the crossing takes the workspace (or project) to, by
	// the same rule as Assess: the gauge and the alert always agree.
	Level Level
	// TS is when the event that crossed it happened (unix ms), as mavtop
	// can tell: its trusted time (Event.At, TrustedTime of its ts and its
	// stream id's time), never a producer's ts hours off.
	TS int64
	// Period is the billing period it fired in (its key, "2026-11").
	Period string
}

// Alert is the lifecycle alert the crossing is the moment of: its id (the
// one EvaluateAlerts gives the line, so a surface listing both can tell
// they are one) and its numbers, so the banner says what the alert says.
func (c *Crossing) Alert() Alert {
	a := Alert{Period: c.Period, Workspace: c.Workspace, Project: c.Project, Used: c.Used, Cap: c.Of, Level: c.Level}
	detail := ""
	switch c.Kind {
	case CrossThreshold:
		a.Kind, a.Threshold, a.CapKind = AlertThreshold, c.Threshold, c.CapKind
		detail = strconv.Itoa(c.Threshold)
	case CrossExhausted:
		a.Kind = AlertAllocation
	case CrossUsageLimit:
		a.Kind = AlertUsageLimit
	case CrossBudgetAlert:
		a.Kind = AlertBudget
	case CrossProjectAlert:
		a.Kind = AlertProjectBudget
	case CrossProjectLimit:
		a.Kind = AlertProjectLimit
	}
	if c.Of > 0 {
		a.PercentUsed = float64(c.Used) * 100 / float64(c.Of)
	}
	a.ID = AlertID(c.Period, c.Workspace, c.Project, a.Kind, detail)
	return a
}

// Sentence says the crossing in the words of its alert's firing summary.
func (c *Crossing) Sentence() string {
	a := c.Alert()
	return a.sentence(false)
}

// maxPendingCrossings bounds crossings nobody took; the oldest are dropped.
const maxPendingCrossings = 256

// Bits of wsState.fired beyond the thresholds (bits 0–2).
const (
	firedExhausted = 1 << (iota + 3)
	firedLimit
	firedBudgetAlert
)

// Bits of projState.fired: its budget alert, its usage limit, then its
// thresholds (bits 2–4, percents of the limit).
const (
	firedProjectAlert = 1 << iota
	firedProjectLimit
	firedProjectThreshold
)

// line is one crossing line of a workspace: the bit that records it fired, the
// credits used at which it is reached, and what the crossing says.
type line struct {
	bit   uint16
	at    int64
	kind  CrossingKind
	th    int     // percent, for CrossThreshold
	of    int64   // the line's size in credits (the cap, for CrossThreshold)
	cap   CapKind // for CrossThreshold
	level Level
}

// lines lists a workspace's crossing lines. Thresholds are percents of the
// effective cap Assess judges against, so a threshold crossing fires exactly
// when the gauge's level changes, to the level Assess gives there (lineLevel:
// the last threshold of a cap auto-recharge tops up is high, unless the
// usage limit's is reached too). With the recharged counter unreadable
// (rechargedUnreadable) only the lines the recharges cannot move are
// listed: the thresholds when the usage limit is the cap whatever they
// hold, the usage limit, the budget alert — never the allocation's.
func (w *wsState) lines(defaults []int, visit func(ln line)) {
	s := &w.settings
	st := Assess(s, Usage{Used: w.used, Recharged: w.recharged, RechargedUnreadable: w.rechargedUnreadable}, defaults)
	if st.HasCap() {
		for i, t := range st.Thresholds {
			visit(line{bit: 1 << i, at: thresholdAt(st.Cap, t), kind: CrossThreshold, th: t,
				of: st.Cap, cap: st.CapKind, level: lineLevel(s, &st, i)})
		}
	}
	if s.Allocation > 0 && w.rechargedUnreadable == "" {
		cap := AddCredits(s.Allocation, w.recharged) // Assess's cap: a recharged counter near 2^63 saturates it
		visit(line{bit: firedExhausted, at: cap, kind: CrossExhausted, of: cap, level: LevelExhausted})
	}
	if s.UsageLimit > 0 {
		visit(line{bit: firedLimit, at: s.UsageLimit, kind: CrossUsageLimit, of: s.UsageLimit, level: LevelExhausted})
	}
	if s.BudgetAlert > 0 {
		visit(line{bit: firedBudgetAlert, at: s.BudgetAlert, kind: CrossBudgetAlert, of: s.BudgetAlert, level: st.Level})
	}
}

// arm recomputes nextAt, the used credits at which the next unfired line is
// crossed, so that Apply needs one comparison per event.
func (w *wsState) arm(defaults []int) {
	w.nextAt = noLine
	w.lines(defaults, func(ln line) {
		bit, at := ln.bit, ln.at
		if w.fired&bit == 0 && at < w.nextAt {
			w.nextAt = at
		}
	})
}

// markPassed records lines already behind the workspace without firing them,
// and arms the next (as arm does, in the same walk of the lines: a seed at
// 100k workspaces judged each twice for it).
func (w *wsState) markPassed(defaults []int) {
	w.nextAt = noLine
	w.lines(defaults, func(ln line) {
		if w.used >= ln.at {
			w.fired |= ln.bit
		}
		if w.fired&ln.bit == 0 && ln.at < w.nextAt {
			w.nextAt = ln.at
		}
	})
}

// lines lists a project's crossing lines: the thresholds in force (th, the
// workspace's) as percents of its usage limit — the cap Assess judges a
// project against, so a threshold crossing fires exactly when the project's
// level changes, before the 402s start — its usage limit and its budget alert.
// A budget alert's level is the project's at the moment it fires (see
// fireProject).
func (p *projState) lines(th []int, visit func(ln line)) {
	b := p.budget
	if b.Limit > 0 {
		for i, t := range th {
			visit(line{bit: firedProjectThreshold << i, at: thresholdAt(b.Limit, t), kind: CrossThreshold, th: t,
				of: b.Limit, cap: CapLimit, level: thresholdLevel(i+1, len(th))})
		}
		visit(line{bit: firedProjectLimit, at: b.Limit, kind: CrossProjectLimit, of: b.Limit, level: LevelExhausted})
	}
	if b.Alert > 0 {
		visit(line{bit: firedProjectAlert, at: b.Alert, kind: CrossProjectAlert, of: b.Alert})
	}
}

// arm recomputes nextAt for the project (th: the thresholds in force).
func (p *projState) arm(th []int) {
	p.nextAt = noLine
	p.lines(th, func(ln line) {
		if p.fired&uint8(ln.bit) == 0 && ln.at < p.nextAt {
			p.nextAt = ln.at
		}
	})
}

// markPassed records lines already behind the project without firing them.
func (p *projState) markPassed(th []int) {
	p.nextAt = noLine
	p.lines(th, func(ln line) {
		if p.used >= ln.at {
			p.fired |= uint8(ln.bit)
		}
		if p.fired&uint8(ln.bit) == 0 && ln.at < p.nextAt {
			p.nextAt = ln.at
		}
	})
}

// fire records every line the workspace has now passed and not yet fired.
func (l *Ledger) fire(w *wsState, ts int64) {
	if w.unreadable != "" {
		return // its usage is unknown: events count on a base not known, no line is crossed
	}
	w.lines(l.defaults, func(ln line) {
		if w.fired&ln.bit == 0 && w.used >= ln.at {
			w.fired |= ln.bit
			l.pushCrossing(Crossing{Kind: ln.kind, Workspace: w.name, Threshold: ln.th, Used: w.used, Of: ln.of,
				CapKind: ln.cap, Level: ln.level, TS: ts})
		}
	})
	w.arm(l.defaults)
}

// fireProject records every line the project has now passed and not yet
// fired, in the order lines lists them (thresholds, limit, budget alert).
func (l *Ledger) fireProject(w *wsState, p *projState, ts int64) {
	th := w.settings.Thresholds(l.defaults)
	p.lines(th, func(ln line) {
		if p.fired&uint8(ln.bit) != 0 || p.used < ln.at {
			return
		}
		p.fired |= uint8(ln.bit)
		if ln.kind == CrossProjectAlert {
			ln.level = max(p.status(w, th).Level, LevelWarn)
		}
		l.pushCrossing(Crossing{Kind: ln.kind, Workspace: w.name, Project: p.name, Threshold: ln.th, Used: p.used, Of: ln.of,
			CapKind: ln.cap, Level: ln.level, TS: ts})
	})
	p.arm(th)
}

func (l *Ledger) pushCrossing(c Crossing) {
	c.Period = l.period.Key
	if len(l.crossings) >= maxPendingCrossings {
		copy(l.crossings, l.crossings[1:])
		l.crossings = l.crossings[:len(l.crossings)-1]
		l.counts.CrossingsDropped++
	}
	l.crossings = append(l.crossings, c)
}

// TakeCrossings returns the crossings since the last call, oldest first,
// but those of a workspace whose crossing entry waits for the counters to
// be seen holding it (heldrefusals.go): they come once an audit confirms it,
// or go at the re-read that finds the counters short of the line (Seed).
func (l *Ledger) TakeCrossings() []Crossing {
	if len(l.unheldUse) == 0 {
		c := l.crossings
		l.crossings = nil
		return c
	}
	var out, keep []Crossing
	for _, c := range l.crossings {
		if l.unheldUse[c.Workspace] != "" {
			keep = append(keep, c)
		} else {
			out = append(out, c)
		}
	}
	l.crossings = keep
	return out
}

// reached reports whether the counters the ledger holds now reach the line
// c crossed: the workspace's (or its project's) credits used against c.Of.
func (l *Ledger) reached(c Crossing) bool {
	w := l.ws[c.Workspace]
	if w == nil {
		return false
	}
	used := w.used
	if c.Project != "" {
		p := w.projects[c.Project]
		if p == nil {
			return false
		}
		used = p.used
	}
	if c.Kind == CrossThreshold {
		return Reached(used, c.Of, c.Threshold)
	}
	return used >= c.Of
}
