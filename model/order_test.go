package model

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestOrdersKeptAsEventsArrive drives a ledger with a random mix of usage,
// 402s, recharges, settings and a re-seed, and after every step compares the
// kept orders and totals with a full sort and sum of what the ledger holds.
func TestOrdersKeptAsEventsArrive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := NewLedger(MonthlyUTC, t0)
	ws := func() string { return fmt.Sprintf("w%02d", rng.IntN(40)) }
	for step := 0; step < 3000; step++ {
		at := time.Duration(step) * time.Second
		switch r := rng.IntN(100); {
		case r < 70:
			e := use(ws(), fmt.Sprintf("p%d", rng.IntN(3)), []string{"/responses", "/personas"}[rng.IntN(2)], int64(rng.IntN(300)), at)
			l.Apply(&e)
		case r < 80:
			e := refusal(ws(), "p0", []string{CodeCreditsExhausted, CodeBudgetExceeded}[rng.IntN(2)], at)
			l.Apply(&e)
		case r < 85:
			l.Apply(&Event{TS: ms(at), Workspace: ws(), Kind: KindRecharge, Credits: int64(rng.IntN(500))})
		case r < 95:
			l.SetSettings(ws(), Settings{Allocation: int64(rng.IntN(5000)), UsageLimit: int64(rng.IntN(2) * rng.IntN(4000))}, ms(at))
		case r < 97:
			l.SetBudget(ws(), "p1", ProjectBudget{Limit: 100}, ms(at))
		default:
			l.Seed(l.Totals(), t0.Add(at))
		}
		checkOrders(t, l, step)
		if t.Failed() {
			return
		}
	}
	if l.Len() < 30 {
		t.Fatalf("only %d workspaces: the mix did not exercise the orders", l.Len())
	}
	c := l.Clone()
	e := use("w00", "", "/responses", 1_000_000, time.Hour)
	c.Apply(&e)
	checkOrders(t, c, -1)
	checkOrders(t, l, -1)
	if c.Position(ByUse, "w00") == l.Position(ByUse, "w00") && l.Position(ByUse, "w00") != 0 {
		t.Fatal("the clone's order moved with the original's")
	}
}

func checkOrders(t *testing.T, l *Ledger, step int) {
	t.Helper()
	rows := l.Summaries(nil)
	slices.SortFunc(rows, func(a, b Summary) int { return CompareByUse(&a, &b) })
	var want, wantNames []string
	var refused Refusals
	eps := map[string]int64{}
	for _, r := range rows {
		want = append(want, r.Name)
		wantNames = append(wantNames, r.Name)
		for i, n := range r.Refused {
			refused[i] += n
		}
		for _, e := range l.Endpoints(r.Name) {
			eps[e.Endpoint] += e.Credits
		}
	}
	slices.Sort(wantNames)
	if got := l.Ordered(ByUse, 0, len(rows), nil); !slices.Equal(got, want) {
		t.Fatalf("step %d: by use\n got %v\nwant %v", step, got, want)
	}
	byCredits := slices.Clone(rows)
	slices.SortFunc(byCredits, func(a, b Summary) int {
		if a.Used != b.Used {
			return cmp.Compare(b.Used, a.Used)
		}
		return CompareByUse(&a, &b)
	})
	for i, r := range byCredits {
		if got := l.Ordered(ByCredits, i, i+1, nil); len(got) != 1 || got[0] != r.Name || l.Position(ByCredits, r.Name) != i {
			t.Fatalf("step %d: by credits row %d is %v (position %d), want %s", step, i, got, l.Position(ByCredits, r.Name), r.Name)
		}
	}
	if got := l.Ordered(ByName, 0, len(rows), nil); !slices.Equal(got, wantNames) {
		t.Fatalf("step %d: by name\n got %v\nwant %v", step, got, wantNames)
	}
	for i, name := range want {
		if p := l.Position(ByUse, name); p != i {
			t.Fatalf("step %d: Position(%s) = %d, want %d", step, name, p, i)
		}
	}
	if got := l.RefusalTotals(); got != refused {
		t.Fatalf("step %d: refusal totals %v, want %v", step, got, refused)
	}
	got := map[string]int64{}
	for _, e := range l.Endpoints("") {
		got[e.Endpoint] = e.Credits
	}
	for ep, n := range eps {
		if got[ep] != n {
			t.Fatalf("step %d: endpoint %s total %d, want %d", step, ep, got[ep], n)
		}
	}
}
