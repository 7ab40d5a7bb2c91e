package model

import (
	"fmt"
	"testing"
	"time"
)

// TestForkedLedgersKeepTheirOwnDated402s (hostile21): a clone or fork of a
// ledger holding a workspace with dated 402s: applying 402s and an audit's
// takeSurplus to one leaves the other's after402 (and its facts) unchanged.
func TestForkedLedgersKeepTheirOwnDated402s(t *testing.T) {
	const ws = "w"
	r := newOutRedis()
	l := r.seeded(ws, 100)
	apply := func(l *Ledger, e Event, at int64) {
		e.TS = at
		r.write(e, at)
		x := r.entries[len(r.entries)-1]
		l.Apply(&x)
	}
	apply(l, Event{Workspace: ws, Endpoint: "/responses", Credits: 30, Status: 200}, ms(time.Second))
	for i := range 40 { // > maxExact402s: the list's spare capacity is in play
		apply(l, Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(time.Duration(2+i)*time.Second))
	}
	snapshot := func(l *Ledger) OutFacts { return l.facts(l.ws[ws]) }
	for _, mk := range []struct {
		name string
		f    func(*Ledger) *Ledger
	}{{"Fork", (*Ledger).Fork}, {"Clone", (*Ledger).Clone}} {
		c := mk.f(l)
		before := snapshot(l)
		beforeD := l.ws[ws].after402.clone()
		// change the copy: a 402 (in the exact range after a take), an audit taking 10 off, an insert
		c.ws[ws] = c.own(c.ws[ws])
		c.ws[ws].takeSurplus(10, c.period)
		apply(c, Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(0))
		apply(c, Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(100*time.Second))
		if after := snapshot(l); after != before {
			t.Errorf("%s: original's facts changed: %+v -> %+v", mk.name, before, after)
		}
		d := l.ws[ws].after402
		if d.atLeast(0) != beforeD.atLeast(0) || d.latest() != beforeD.latest() || len(d.ats) != len(beforeD.ats) {
			t.Errorf("%s: original's dated list changed", mk.name)
		}
		for i := range d.ats {
			if d.ats[i] != beforeD.ats[i] {
				t.Errorf("%s: original's ats[%d] changed %d -> %d", mk.name, i, beforeD.ats[i], d.ats[i])
			}
		}
		// and the other way: change the original, the copy unchanged
		cf := snapshot(c)
		apply(l, Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(1500*time.Millisecond))
		if snapshot(c) != cf {
			t.Errorf("%s: copy's facts changed by the original", mk.name)
		}
	}
}

// TestForkedLedgersKeepTheirOwnLimit402s: the same for a project's dated
// budget_exceeded 402s (projState.limit402, hostile22 L2): 402s applied and
// a surplus taken on a clone or fork leave the original's list, and which
// of them are after the limit's raise, unchanged, and the other way.
func TestForkedLedgersKeepTheirOwnLimit402s(t *testing.T) {
	const ws = "w"
	r := newOutRedis()
	start := ms(-time.Hour)
	r.write(settingsEntry(ws, Settings{Allocation: 1000, UsageLimit: 50, LimitRaisedAt: ms(20 * time.Second)}, start), start)
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(r.read(), t0)
	apply := func(l *Ledger, e Event, at int64) {
		e.TS = at
		r.write(e, at)
		x := r.entries[len(r.entries)-1]
		l.Apply(&x)
	}
	refused := Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeBudgetExceeded}
	apply(l, Event{Workspace: ws, Endpoint: "/responses", Credits: 60, Status: 200}, ms(time.Second))
	for i := range 40 { // > maxExact402s, straddling the raise's stamp
		apply(l, refused, ms(time.Duration(2+i)*time.Second))
	}
	type facts struct {
		count, after int64
		stands       bool
		ats          string
	}
	of := func(l *Ledger) facts {
		w := l.ws[ws]
		p := w.projects[""]
		return facts{p.limit402.count(), p.limitAfter(w), p.limitStands(w), fmt.Sprint(p.limit402.ats, p.limit402.more, p.limit402.moreMax)}
	}
	for _, mk := range []struct {
		name string
		f    func(*Ledger) *Ledger
	}{{"Fork", (*Ledger).Fork}, {"Clone", (*Ledger).Clone}} {
		c := mk.f(l)
		before := of(l)
		if before.after == 0 || before.after == before.count || !before.stands {
			t.Fatalf("fixture: %+v, want 402s on both sides of the stamp, standing", before)
		}
		w := c.own(c.ws[ws])
		w.projects[""].takeLimitSurplus(10)
		apply(c, refused, ms(0))
		apply(c, refused, ms(100*time.Second))
		if after := of(l); after != before {
			t.Errorf("%s: original's limit 402s changed: %+v -> %+v", mk.name, before, after)
		}
		cf := of(c)
		apply(l, refused, ms(1500*time.Millisecond))
		apply(l, refused, ms(90*time.Second))
		if of(c) != cf {
			t.Errorf("%s: copy's limit 402s changed by the original: %+v -> %+v", mk.name, cf, of(c))
		}
	}
}
