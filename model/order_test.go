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
		case r < 96:
			l.SetBudget(ws(), "p1", ProjectBudget{Limit: 100}, ms(at))
		case r < 97: // read back from history: a newer last event moves the workspace
			e := use(ws(), "p0", "/responses", 0, at+time.Hour)
			l.Backfill([]Event{e}, t0)
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
	for _, o := range []struct {
		order Order
		first func(a, b *Summary) int
	}{
		{ByRefused, func(a, b *Summary) int { return cmp.Compare(b.Refused.Total(), a.Refused.Total()) }},
		{ByLastEvent, func(a, b *Summary) int { return cmp.Compare(b.LastTS, a.LastTS) }},
	} {
		sorted := slices.Clone(rows)
		slices.SortFunc(sorted, func(a, b Summary) int { return cmp.Or(o.first(&a, &b), CompareByUse(&a, &b)) })
		var names []string
		for _, r := range sorted {
			names = append(names, r.Name)
		}
		if got := l.Ordered(o.order, 0, len(rows), nil); !slices.Equal(got, names) {
			t.Fatalf("step %d: order %d\n got %v\nwant %v", step, o.order, got, names)
		}
		for _, i := range []int{0, len(names) / 2, len(names) - 1} {
			if i >= 0 && l.Position(o.order, names[i]) != i {
				t.Fatalf("step %d: order %d: Position(%s) = %d, want %d", step, o.order, names[i], l.Position(o.order, names[i]), i)
			}
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

// TestOrdersKeptInBlocks drives enough workspaces that every order is many
// blocks (splitting and emptying them), with a clone sharing the blocks, and
// compares every order with a full sort of what each ledger holds.
func TestOrdersKeptInBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := NewLedger(MonthlyUTC, t0)
	const n = 3 * 2 * rankBlock
	for i := range n { // some with allocations, so percents differ from credits
		if i%3 == 0 {
			l.SetSettings(fmt.Sprintf("w%04d", i), Settings{Allocation: int64(1000 + rng.IntN(5000))}, ms(0))
		}
	}
	var c *Ledger
	for step := 0; step < 6000; step++ {
		at := time.Duration(step) * time.Second
		ws := fmt.Sprintf("w%04d", rng.IntN(n+200))
		if rng.IntN(10) == 0 {
			e := refusal(ws, "p0", CodeCreditsExhausted, at)
			l.Apply(&e)
		} else {
			e := use(ws, "p0", "/responses", int64(rng.IntN(300)), at)
			l.Apply(&e)
		}
		if c != nil && step%2 == 0 { // the clone moves on its own
			e := use(fmt.Sprintf("w%04d", rng.IntN(n)), "p1", "/personas", int64(rng.IntN(300)), at)
			c.Apply(&e)
		}
		if step == 2000 {
			c = l.Clone()
		}
		if step%500 == 0 || step == 5999 {
			checkOrders(t, l, step)
			if c != nil {
				checkOrders(t, c, step)
			}
		}
		if t.Failed() {
			return
		}
	}
	if got := len(l.orders[ByLastEvent].blocks); got < 4 {
		t.Fatalf("%d blocks: the test did not split any", got)
	}
}

// TestAProjectAtItsLimitRanksItsWorkspace: "by use" is worst first as the rows
// show it. A workspace far from its own allocation whose project is at its
// usage limit shows ▲ crit ("limit reached: training", not OUT: it has credits); it ranked by its own 10 % below a
// workspace at warn (the demo's hooli-ml sat under acme-staging), whether the
// project's credits came by events, by its budget or by the used_by read.
func TestAProjectAtItsLimitRanksItsWorkspace(t *testing.T) {
	for _, how := range []string{"events", "budget", "used_by"} {
		t.Run(how, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			l.SetSettings("warned", Settings{Allocation: 1_000}, ms(0))
			l.SetSettings("limited", Settings{Allocation: 10_000}, ms(0))
			w := use("warned", "web", "/responses", 600, time.Second)
			l.Apply(&w)
			if how != "budget" {
				l.SetBudget("limited", "training", ProjectBudget{Limit: 1_000}, ms(time.Second))
			}
			switch how {
			case "used_by":
				l.SeedUsedBy(map[string]int64{"limited/training//responses": 1_000, "warned/web//responses": 600}, "")
			default:
				e := use("limited", "training", "/responses", 1_000, 2*time.Second)
				l.Apply(&e)
			}
			if how == "budget" {
				l.SetBudget("limited", "training", ProjectBudget{Limit: 1_000}, ms(3*time.Second))
			}
			if v, _ := l.Verdict("limited"); v.Level != LevelCritical || !v.LimitReached || v.Project != "training" {
				t.Fatalf("the limited workspace's verdict %+v, want critical, limit reached by training (not OUT: it has credits)", v)
			}
			if got := l.Position(ByUse, "limited"); got != 0 {
				t.Errorf("the workspace whose project is at its limit is at %d by use, want first", got)
			}
			checkOrders(t, l, -1)
		})
	}
}

// TestAHeldLimitReadBackRanksItsRow: a workspace at 10 % whose
// budget_exceeded 402 is read back from the history (a fresh start) is held
// at its limit ("limit reached", critical) and ranks above one at 85 % in
// the by-use order the moment the 402 is folded, as CompareByUse ranks it.
func TestAHeldLimitReadBackRanksItsRow(t *testing.T) {
	p := MonthlyUTC.At(t0)
	snap := &Snapshot{Period: p, Settings: map[string]Settings{"a": {Allocation: 1000}, "b": {Allocation: 1000}},
		Used: map[string]int64{"a": 850, "b": 100}, Refused: map[string]int64{"b//" + CodeBudgetExceeded: 1}}
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(snap, t0)
	if got := l.Position(ByUse, "b"); got != 1 {
		t.Fatalf("before the history: b at %d, want 1 (10 %% below 85 %%)", got)
	}
	l.Backfill([]Event{refusal("b", "", CodeBudgetExceeded, -time.Minute)}, t0.Add(-time.Hour))
	if s, _ := l.Summary("b"); !s.Verdict.LimitReached {
		t.Fatalf("b after its 402 read back: %+v, want its limit reached", s)
	}
	if got := l.Position(ByUse, "b"); got != 0 {
		t.Errorf("b held at its limit at %d of the by-use order, want 0", got)
	}
	checkOrders(t, l, -1)
}

// TestTheFirstListingPicksItsRowsWithoutSorting: the first listing of a few
// top rows of an order not kept yet (a dashboard's first frame) picks them
// without sorting every workspace (the order stays unbuilt), and they are
// the rows the sorted order lists; the next listing sorts and keeps it.
func TestTheFirstListingPicksItsRowsWithoutSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	l := NewLedger(MonthlyUTC, t0)
	const n = 2000
	for i := range n {
		ws := fmt.Sprintf("w%04d", i)
		if i%3 == 0 {
			l.SetSettings(ws, Settings{Allocation: int64(1000 + rng.IntN(4)*1000)}, ms(0))
		}
		e := use(ws, "p0", "/responses", int64(rng.IntN(20)*50), time.Duration(rng.IntN(100))*time.Second) // ties
		l.Apply(&e)
		if i%17 == 0 {
			e := refusal(ws, "p0", CodeCreditsExhausted, time.Duration(i)*time.Millisecond)
			l.Apply(&e)
		}
	}
	l.Seed(l.Totals(), t0.Add(time.Hour)) // as a start: every order unbuilt
	for o := range numOrders {
		sorted := l.Clone()
		all := sorted.Ordered(o, 0, n, nil) // more than a screenful: sorted
		if !sorted.orders[o].built || len(all) != n {
			t.Fatalf("order %d: a listing of every row did not sort (%d rows)", o, len(all))
		}
		for _, w := range [][2]int{{0, 40}, {7, 40}, {0, 1}, {0, 250}, {39, 40}} {
			fresh := l.Clone()
			got := fresh.Ordered(o, w[0], w[1], nil)
			if want := all[w[0]:w[1]]; !slices.Equal(got, want) {
				t.Fatalf("order %d rows %v: picked\n%v\nwant\n%v", o, w, got, want)
			}
			if fresh.orders[o].built {
				t.Fatalf("order %d rows %v: the first listing sorted all %d workspaces", o, w, n)
			}
			again := fresh.Ordered(o, w[0], w[1], nil)
			if !slices.Equal(again, got) || !fresh.orders[o].built {
				t.Fatalf("order %d rows %v: the second listing (built %v) gave %v", o, w, fresh.orders[o].built, again)
			}
		}
	}
}
