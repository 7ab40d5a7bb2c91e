package model

// CrossingKind says which line a workspace or project crossed.
type CrossingKind uint8

const (
	// CrossThreshold: an alert threshold (percent of the allocation).
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
	// Used is the credits used when it fired; Of is the line's size in credits.
	Used, Of int64
	// TS is the time of the event that crossed it (unix ms).
	TS int64
}

// maxPendingCrossings bounds crossings nobody took; the oldest are dropped.
const maxPendingCrossings = 256

// Bits of wsState.fired beyond the thresholds (bits 0–2).
const (
	firedExhausted = 1 << (iota + 3)
	firedLimit
	firedBudgetAlert
)

// Bits of projState.fired.
const (
	firedProjectAlert = 1 << iota
	firedProjectLimit
)

// ceilDiv returns ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// lines lists a workspace's crossing lines as (bit, credits) pairs.
func (w *wsState) lines(visit func(bit uint16, at int64, kind CrossingKind, threshold int)) {
	s := &w.settings
	if s.Allocation > 0 {
		cap := s.Allocation + w.recharged
		for i, t := range s.Thresholds() {
			visit(1<<i, ceilDiv(int64(t)*cap, 100), CrossThreshold, t)
		}
		visit(firedExhausted, cap, CrossExhausted, 0)
	}
	if s.UsageLimit > 0 {
		visit(firedLimit, s.UsageLimit, CrossUsageLimit, 0)
	}
	if s.BudgetAlert > 0 {
		visit(firedBudgetAlert, s.BudgetAlert, CrossBudgetAlert, 0)
	}
}

// arm recomputes nextAt, the used credits at which the next unfired line is
// crossed, so that Apply needs one comparison per event.
func (w *wsState) arm() {
	w.nextAt = noLine
	w.lines(func(bit uint16, at int64, _ CrossingKind, _ int) {
		if w.fired&bit == 0 && at < w.nextAt {
			w.nextAt = at
		}
	})
}

// markPassed records lines already behind the workspace without firing them.
func (w *wsState) markPassed() {
	w.lines(func(bit uint16, at int64, _ CrossingKind, _ int) {
		if w.used >= at {
			w.fired |= bit
		}
	})
	w.arm()
}

func (p *projState) arm() {
	p.nextAt = noLine
	if b := p.budget; b.Alert > 0 && p.fired&firedProjectAlert == 0 {
		p.nextAt = b.Alert
	}
	if b := p.budget; b.Limit > 0 && p.fired&firedProjectLimit == 0 && b.Limit < p.nextAt {
		p.nextAt = b.Limit
	}
}

func (p *projState) markPassed() {
	if p.budget.Alert > 0 && p.used >= p.budget.Alert {
		p.fired |= firedProjectAlert
	}
	if p.budget.Limit > 0 && p.used >= p.budget.Limit {
		p.fired |= firedProjectLimit
	}
	p.arm()
}

// fire records every line the workspace has now passed and not yet fired.
func (l *Ledger) fire(w *wsState, ts int64) {
	w.lines(func(bit uint16, at int64, kind CrossingKind, threshold int) {
		if w.fired&bit == 0 && w.used >= at {
			w.fired |= bit
			of := at
			if kind == CrossThreshold {
				of = w.settings.Allocation + w.recharged
			}
			l.pushCrossing(Crossing{Kind: kind, Workspace: w.name, Threshold: threshold, Used: w.used, Of: of, TS: ts})
		}
	})
	w.arm()
}

func (l *Ledger) fireProject(w *wsState, p *projState, ts int64) {
	if b := p.budget; b.Alert > 0 && p.fired&firedProjectAlert == 0 && p.used >= b.Alert {
		p.fired |= firedProjectAlert
		l.pushCrossing(Crossing{Kind: CrossProjectAlert, Workspace: w.name, Project: p.name, Used: p.used, Of: b.Alert, TS: ts})
	}
	if b := p.budget; b.Limit > 0 && p.fired&firedProjectLimit == 0 && p.used >= b.Limit {
		p.fired |= firedProjectLimit
		l.pushCrossing(Crossing{Kind: CrossProjectLimit, Workspace: w.name, Project: p.name, Used: p.used, Of: b.Limit, TS: ts})
	}
	p.arm()
}

func (l *Ledger) pushCrossing(c Crossing) {
	if len(l.crossings) >= maxPendingCrossings {
		copy(l.crossings, l.crossings[1:])
		l.crossings = l.crossings[:len(l.crossings)-1]
		l.counts.CrossingsDropped++
	}
	l.crossings = append(l.crossings, c)
}

// TakeCrossings returns the crossings since the last call, oldest first.
func (l *Ledger) TakeCrossings() []Crossing {
	c := l.crossings
	l.crossings = nil
	return c
}
