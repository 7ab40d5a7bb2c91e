package model

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

func use(ws, project, endpoint string, credits int64, at time.Duration) Event {
	return Event{TS: ms(at), Workspace: ws, Project: project, Endpoint: endpoint, Credits: credits, Status: 200}
}

func refusal(ws, project, code string, at time.Duration) Event {
	return Event{TS: ms(at), Workspace: ws, Project: project, Endpoint: "/focus-groups", Status: 402, Code: code, Msg: "no"}
}

func TestLedgerCountsPerWorkspaceProjectEndpoint(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.ApplyBatch([]Event{
		use("acme", "web", "/responses", 3, 0),
		use("acme", "web", "/responses", 2, time.Second),
		use("acme", "", "/mave/chat", 40, 2*time.Second),
		use("globex", "ml", "/focus-groups", 137, 3*time.Second),
		refusal("globex", "ml", CodeCreditsExhausted, 4*time.Second),
	})
	got := l.Totals()
	wantUsed := map[string]int64{"acme": 45, "globex": 137}
	wantBy := map[string]int64{"acme/web//responses": 5, "acme///mave/chat": 40, "globex/ml//focus-groups": 137}
	wantRefused := map[string]int64{"globex/ml/credits_exhausted": 1}
	if !reflect.DeepEqual(got.Used, wantUsed) || !reflect.DeepEqual(got.UsedBy, wantBy) || !reflect.DeepEqual(got.Refused, wantRefused) {
		t.Fatalf("totals\n used %v\n by %v\n refused %v", got.Used, got.UsedBy, got.Refused)
	}
	if eps := l.Endpoints(""); eps[0] != (EndpointTotal{"/focus-groups", 137}) || len(eps) != 3 {
		t.Fatalf("endpoints %v", eps)
	}
	ps := l.Projects("acme")
	if len(ps) != 2 || ps[0].Name != "" || ps[0].Used != 40 || ps[1].Used != 5 {
		t.Fatalf("projects %+v", ps)
	}
	if r := l.RefusalTotals(); r.Total() != 1 || r[RefusedCredits] != 1 {
		t.Fatalf("refusals %v", r)
	}
	if c := l.Counts(); c.Applied != 5 {
		t.Fatalf("counts %+v", c)
	}
}

func TestLedgerSkipsOtherPeriods(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	late := use("acme", "", "/responses", 7, -30*24*time.Hour) // October
	early := use("acme", "", "/responses", 9, 7*24*time.Hour)  // December
	l.ApplyBatch([]Event{late, early, use("acme", "", "/responses", 1, 0)})
	if s, _ := l.Summary("acme"); s.Used != 1 {
		t.Fatalf("used %d, want 1", s.Used)
	}
	if c := l.Counts(); c.OtherPeriod != 2 || c.Applied != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestCrossingsFireOncePerPeriod(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 1000}, ms(0))
	step := func(credits int64) []Crossing {
		l.Apply(&Event{TS: ms(time.Minute), Workspace: "acme", Endpoint: "/responses", Credits: credits, Status: 200})
		return l.TakeCrossings()
	}
	if c := step(499); len(c) != 0 {
		t.Fatalf("499: %v", c)
	}
	c := step(1) // exactly 50 %
	if len(c) != 1 || c[0].Kind != CrossThreshold || c[0].Threshold != 50 || c[0].Used != 500 || c[0].Of != 1000 {
		t.Fatalf("500: %+v", c)
	}
	if c := step(1); len(c) != 0 {
		t.Fatalf("fired twice: %v", c)
	}
	c = step(400) // 901: passes 75 and 90 at once
	if len(c) != 2 || c[0].Threshold != 75 || c[1].Threshold != 90 {
		t.Fatalf("901: %+v", c)
	}
	c = step(99) // 1000: exhausted
	if len(c) != 1 || c[0].Kind != CrossExhausted {
		t.Fatalf("1000: %+v", c)
	}
	if s, _ := l.Summary("acme"); s.Level != LevelExhausted {
		t.Fatalf("level %v", s.Level)
	}
}

func TestSeededLedgerDoesNotRefire(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	snap := &Snapshot{
		Period: MonthlyUTC.At(t0), StreamID: "5-0",
		Used:     map[string]int64{"acme": 800},
		UsedBy:   map[string]int64{"acme/web//responses": 800},
		Settings: map[string]Settings{"acme": {Allocation: 1000}},
	}
	l.Seed(snap, t0)
	if c := l.TakeCrossings(); len(c) != 0 {
		t.Fatalf("seed fired %v", c)
	}
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 50, Status: 200})
	if c := l.TakeCrossings(); len(c) != 0 {
		t.Fatalf("850 refired 50/75: %v", c)
	}
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 50, Status: 200})
	if c := l.TakeCrossings(); len(c) != 1 || c[0].Threshold != 90 {
		t.Fatalf("900: %v", c)
	}
	// a re-snapshot of the same period (after a gap) keeps what fired
	snap.Used["acme"] = 950
	l.Seed(snap, t0)
	if c := l.TakeCrossings(); len(c) != 0 {
		t.Fatalf("reseed fired %v", c)
	}
	// a new period starts afresh: thresholds can fire again
	next := MonthlyUTC.At(t0.AddDate(0, 1, 0))
	l.Seed(&Snapshot{Period: next, Settings: snap.Settings}, t0.AddDate(0, 1, 0))
	l.Apply(&Event{TS: next.Start.UnixMilli() + 1, Workspace: "acme", Endpoint: "/responses", Credits: 500, Status: 200})
	if c := l.TakeCrossings(); len(c) != 1 || c[0].Threshold != 50 {
		t.Fatalf("new period: %v", c)
	}
}

func TestLoweredAllocationFires(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 10000}, ms(0))
	e := use("acme", "", "/responses", 600, 0)
	l.Apply(&e)
	l.TakeCrossings()
	l.SetSettings("acme", Settings{Allocation: 1000}, ms(time.Minute))
	if c := l.TakeCrossings(); len(c) != 1 || c[0].Threshold != 50 {
		t.Fatalf("%v", c)
	}
}

func TestUsageLimitAndProjectBudgets(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 5000, UsageLimit: 300, BudgetAlert: 200}, ms(0))
	l.SetBudget("acme", "web", ProjectBudget{Alert: 50, Limit: 100}, ms(0))
	e := use("acme", "web", "/responses", 60, 0)
	l.Apply(&e)
	// 60 of the project's 100-credit limit: its 50 % threshold (warn), then
	// its budget alert; the thresholds are the workspace's, of the limit
	if c := l.TakeCrossings(); len(c) != 2 || c[0].Kind != CrossThreshold || c[0].Project != "web" || c[0].Threshold != 50 ||
		c[0].Of != 100 || c[0].CapKind != CapLimit || c[0].Level != LevelWarn || c[1].Kind != CrossProjectAlert || c[1].Project != "web" {
		t.Fatalf("project alert: %+v", c)
	}
	e = use("acme", "web", "/responses", 30, 0)
	l.Apply(&e)
	// 90 of 100: 75 % (high) and 90 % (critical) fire before the 402s start,
	// at the level the project's row shows
	c := l.TakeCrossings()
	if len(c) != 2 || c[0].Threshold != 75 || c[0].Level != LevelHigh || c[1].Threshold != 90 || c[1].Level != LevelCritical {
		t.Fatalf("project thresholds: %+v", c)
	}
	if ps := l.Projects("acme"); ps[0].Status.Level != c[1].Level {
		t.Fatalf("project level %v, crossing %v", ps[0].Status.Level, c[1].Level)
	}
	e = use("acme", "web", "/responses", 10, 0)
	l.Apply(&e)
	if c := l.TakeCrossings(); len(c) != 1 || c[0].Kind != CrossProjectLimit {
		t.Fatalf("project limit: %+v", c)
	}
	// the project is at its limit: a budget_exceeded is the project's doing
	r := refusal("acme", "web", CodeBudgetExceeded, 0)
	l.Apply(&r)
	log := l.Refusals(nil, 10)
	if len(log) != 1 || log[0].By != BudgetProject || log[0].Class != RefusedBudget {
		t.Fatalf("refusal %+v", log)
	}
	if s, _ := l.Summary("acme"); s.Blocked || s.Level == LevelExhausted {
		t.Fatalf("project limit must not block the workspace: %+v", s)
	}
	e = use("acme", "", "/mave/chat", 200, 0) // workspace at 300: alert and limit
	l.Apply(&e)
	// the usage limit (300) is below the allocation, so it is the cap the
	// thresholds are percents of: 50/75/90 % of 300 fire with the limit itself
	c = l.TakeCrossings()
	kinds := map[CrossingKind]int{}
	for _, x := range c {
		kinds[x.Kind]++
		if x.Kind == CrossThreshold && (x.CapKind != CapLimit || x.Of != 300) {
			t.Fatalf("threshold of the limit: %+v", x)
		}
	}
	if len(c) != 5 || kinds[CrossUsageLimit] != 1 || kinds[CrossBudgetAlert] != 1 || kinds[CrossThreshold] != 3 {
		t.Fatalf("workspace lines: %+v", c)
	}
	r = refusal("acme", "", CodeBudgetExceeded, 0)
	l.Apply(&r)
	if log := l.Refusals(nil, 1); log[0].By != BudgetWorkspace {
		t.Fatalf("refused by %v", log[0].By)
	}
	if s, _ := l.Summary("acme"); s.Level != LevelExhausted || !s.OverLimit {
		t.Fatalf("over limit: %+v", s)
	}
}

func TestCreditsExhaustedIsOutUntilCreditsAreAdded(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 5000}, ms(0))
	e := use("acme", "", "/responses", 4000, 0) // 80 % used
	l.Apply(&e)
	r := refusal("acme", "", CodeCreditsExhausted, time.Second)
	l.Apply(&r)
	s, _ := l.Summary("acme")
	if !s.Blocked || s.Level != LevelExhausted || s.Refused[RefusedCredits] != 1 || s.Percent != 80 {
		t.Fatalf("after 402 at 80 %%: %+v", s)
	}
	if log := l.Refusals(nil, 1); log[0].By != BudgetAccount {
		t.Fatalf("by %v", log[0].By)
	}
	// a cheap call between two refused dear ones adds no credit: still OUT,
	// no flapping to crit and back
	for i := 2; i < 6; i++ {
		ok := use("acme", "", "/responses", 2, time.Duration(i)*time.Second)
		l.Apply(&ok)
		if s, _ := l.Summary("acme"); !s.Blocked || s.Level != LevelExhausted {
			t.Fatalf("after success %d: %+v", i, s)
		}
		r := refusal("acme", "", CodeCreditsExhausted, time.Duration(i)*time.Second)
		l.Apply(&r)
	}
	// a usage limit's 402 is never OUT by itself: it holds the limit that
	// refused it reached (a call without a project: the workspace's own,
	// one mavtop was not told of), critical, "limit reached"
	b := refusal("acme", "", CodeBudgetExceeded, 10*time.Second)
	l.SetSettings("other", Settings{Allocation: 5000}, ms(0))
	b.Workspace = "other"
	l.Apply(&b)
	if s, _ := l.Summary("other"); s.Blocked || s.Level != LevelCritical || !s.LimitHeld || !s.Verdict.LimitReached || s.Percent != 0 {
		t.Fatalf("budget_exceeded with credits left: %+v", s)
	}
	// a recharge adds credits: no longer OUT
	rc := Event{TS: ms(11 * time.Second), Workspace: "acme", Credits: 500, Kind: KindRecharge}
	l.Apply(&rc)
	if s, _ := l.Summary("acme"); s.Blocked || s.Level == LevelExhausted {
		t.Fatalf("after recharge: %+v", s)
	}
	// refused again, then an allocation raise: no longer OUT; a lowered one
	// (or any other setting) adds nothing (a 402 after the recharge: one
	// dated before it, written late, is ended by it, OutFacts.RechargedAt)
	r = refusal("acme", "", CodeCreditsExhausted, 11500*time.Millisecond)
	l.Apply(&r)
	l.SetSettings("acme", Settings{Allocation: 4900}, ms(12*time.Second))
	if s, _ := l.Summary("acme"); !s.Blocked {
		t.Fatalf("a lower allocation ended the refusal: %+v", s)
	}
	// a raise with no stamp (raised_at, the settings store's: a raw HSET
	// read back, or a settings entry carrying it) has no time to order
	// against the 402: it ends nothing, as on a start and on check (issue 11)
	l.SetSettings("acme", Settings{Allocation: 9000}, ms(13*time.Second))
	if s, _ := l.Summary("acme"); !s.Blocked || s.Level != LevelExhausted {
		t.Fatalf("an allocation raised with no raised_at ended the refusal: %+v", s)
	}
	// a raise stamped after the 402 ends it
	l.SetSettings("acme", Settings{Allocation: 9500, RaisedAt: ms(13 * time.Second)}, ms(13*time.Second))
	if s, _ := l.Summary("acme"); s.Blocked || s.Level == LevelExhausted {
		t.Fatalf("after allocation raise: %+v", s)
	}
}

// TestOutIsRecoveredFromTheCounters: a ledger started after the 402 (check,
// budget show, a fresh dashboard) shows OUT from the counters alone, and the
// history orders a 402 after a recharge.
func TestOutIsRecoveredFromTheCounters(t *testing.T) {
	p := MonthlyUTC.At(t0)
	settings := map[string]Settings{"umbrella": {Allocation: 1500}, "globex": {Allocation: 1500}, "initech": {Allocation: 1500}}
	snap := &Snapshot{Period: p, Settings: settings,
		Used:      map[string]int64{"umbrella": 1200, "globex": 1200, "initech": 1200},
		Refused:   map[string]int64{"umbrella/trials/credits_exhausted": 3, "globex//credits_exhausted": 1, "initech//budget_exceeded": 2},
		Recharged: map[string]int64{"globex": 500}}
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(snap, t0)
	want := map[string]Level{"umbrella": LevelExhausted, "globex": LevelWarn, "initech": LevelHigh}
	for ws, lv := range want {
		if s, _ := l.Summary(ws); s.Level != lv {
			t.Fatalf("%s from the counters: %v, want %v (%+v)", ws, s.Level, lv, s)
		}
	}
	// the last hour: globex was refused after its recharge (the counters
	// alone cannot order them); initech's budget_exceeded, read back and
	// not followed by a success, holds its own limit reached: critical
	hist := []Event{ // newest first
		refusal("globex", "", CodeCreditsExhausted, -time.Minute),
		{TS: ms(-2 * time.Minute), Workspace: "globex", Credits: 500, Kind: KindRecharge},
		refusal("initech", "", CodeBudgetExceeded, -3*time.Minute),
	}
	l2 := NewLedger(MonthlyUTC, t0)
	l2.Seed(snap, t0)
	l2.Backfill(hist, t0.Add(-time.Hour))
	for ws, lv := range map[string]Level{"umbrella": LevelExhausted, "globex": LevelExhausted, "initech": LevelCritical} {
		if s, _ := l2.Summary(ws); s.Level != lv || s.Blocked != (lv == LevelExhausted) {
			t.Fatalf("%s after the history: %+v, want %v", ws, s, lv)
		}
	}
	// a heal that finds umbrella's allocation raised with no raised_at (a
	// raw HSET) keeps its OUT: the raise has no time to order against the
	// 402, so a start seeded with the same counters says OUT too (issue 11:
	// the heal alone said ok)
	unstamped := *snap
	unstamped.Settings = maps.Clone(settings)
	unstamped.Settings["umbrella"] = Settings{Allocation: 3000}
	l3 := l2.Clone()
	l3.Seed(&unstamped, t0.Add(time.Minute))
	fresh := NewLedger(MonthlyUTC, t0)
	fresh.Seed(&unstamped, t0.Add(time.Minute))
	s3, _ := l3.Summary("umbrella")
	sf, _ := fresh.Summary("umbrella")
	if s3.Level != LevelExhausted || sf.Level != s3.Level {
		t.Fatalf("umbrella raised with no raised_at: the heal %v, a start %v, want exhausted on both", s3.Level, sf.Level)
	}
	// a heal that finds umbrella's allocation raised, stamped (or a recharge
	// among entries it never applied) ends its OUT; one that finds more
	// credits_exhausted 402s and no credit starts one
	raised := *snap
	raised.Settings = maps.Clone(settings)
	raised.Settings["umbrella"] = Settings{Allocation: 3000, RaisedAt: ms(30 * time.Second)}
	raised.Refused = maps.Clone(snap.Refused)
	raised.Refused["initech//credits_exhausted"] = 1
	l2.Seed(&raised, t0.Add(time.Minute))
	for ws, lv := range map[string]Level{"umbrella": LevelOK, "globex": LevelExhausted, "initech": LevelExhausted} {
		if s, _ := l2.Summary(ws); s.Level != lv {
			t.Fatalf("%s after the heal: %+v, want %v", ws, s, lv)
		}
	}
	if got := l2.Ordered(ByUse, 0, 3, nil); !slices.Equal(got, []string{"initech", "globex", "umbrella"}) {
		t.Fatalf("OUT first, then by percent: %v", got)
	}
}

func TestRefusalRingKeepsNewest(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	for i := 0; i < DefaultRefusalLog+10; i++ {
		r := refusal("acme", "", CodeCreditsExhausted, time.Duration(i)*time.Millisecond)
		r.Req = fmt.Sprint(i)
		l.Apply(&r)
	}
	log := l.Refusals(nil, 1000)
	if len(log) != DefaultRefusalLog || log[0].Event.Req != fmt.Sprint(DefaultRefusalLog+9) || log[len(log)-1].Event.Req != "10" {
		t.Fatalf("len %d first %s last %s", len(log), log[0].Event.Req, log[len(log)-1].Event.Req)
	}
	if s, _ := l.Summary("acme"); s.Refused.Total() != DefaultRefusalLog+10 {
		t.Fatalf("count %d", s.Refused.Total())
	}
}

func TestSeedThenApplyEqualsApplyAll(t *testing.T) {
	var evs []Event
	for i := 0; i < 500; i++ {
		e := use(fmt.Sprintf("ws%d", i%7), fmt.Sprintf("p%d", i%3), []string{"/responses", "/mave/chat"}[i%2], int64(i%13), time.Duration(i)*time.Second)
		if i%17 == 0 {
			e = refusal(e.Workspace, e.Project, []string{CodeCreditsExhausted, CodeBudgetExceeded, "subscription_inactive"}[i%3], e.TS2())
		}
		e.ID = fmt.Sprintf("%d-0", i+1)
		evs = append(evs, e)
	}
	whole := NewLedger(MonthlyUTC, t0)
	whole.ApplyBatch(evs)

	half := NewLedger(MonthlyUTC, t0)
	half.ApplyBatch(evs[:250])
	seeded := NewLedger(MonthlyUTC, t0)
	seeded.Seed(half.Totals(), t0)
	seeded.ApplyBatch(evs[250:])

	a, b := whole.Totals(), seeded.Totals()
	if !reflect.DeepEqual(a.Used, b.Used) || !reflect.DeepEqual(a.UsedBy, b.UsedBy) || !reflect.DeepEqual(a.Refused, b.Refused) || a.StreamID != b.StreamID {
		t.Fatalf("seeded differs:\n%v\n%v", a, b)
	}
	for _, s := range whole.Summaries(nil) {
		o, _ := seeded.Summary(s.Name)
		if o.Refused != s.Refused || o.Used != s.Used {
			t.Fatalf("%s: %+v vs %+v", s.Name, s, o)
		}
	}
}

// TS2 turns an event's absolute ms back into an offset from t0 for the helpers.
func (e Event) TS2() time.Duration { return time.Duration(e.TS-t0.UnixMilli()) * time.Millisecond }

func TestCloneIsIndependent(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 100}, ms(0))
	e := use("acme", "web", "/responses", 10, 0)
	l.Apply(&e)
	c := l.Clone()
	for i := 0; i < 5; i++ {
		l.Apply(&e)
	}
	r := refusal("acme", "web", CodeBudgetExceeded, 0)
	l.Apply(&r)
	if s, _ := c.Summary("acme"); s.Used != 10 || s.Refused.Total() != 0 {
		t.Fatalf("clone changed: %+v", s)
	}
	if got := c.Totals().UsedBy["acme/web//responses"]; got != 10 {
		t.Fatalf("clone endpoint %d", got)
	}
	if len(c.Refusals(nil, 10)) != 0 || c.Burn("acme", time.Hour, t0.Add(time.Minute)) == l.Burn("acme", time.Hour, t0.Add(time.Minute)) {
		t.Fatal("clone shares refusals or burn")
	}
}

// TestCloneCopiesOnWrite: a clone shares the workspace states until one side
// changes them; the two then run on separate goroutines (the race detector
// checks nothing shared is written) and each ends with exactly its own events.
func TestCloneCopiesOnWrite(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	for _, ws := range []string{"a", "b", "c"} {
		l.SetSettings(ws, Settings{Allocation: 1000}, ms(0))
		e := use(ws, "web", "/responses", 100, 0)
		l.Apply(&e)
	}
	c := l.Clone()
	var wg sync.WaitGroup
	run := func(x *Ledger, ws string, n int) {
		defer wg.Done()
		for i := 0; i < n; i++ {
			e := use(ws, "api", "/mave/chat", 1, time.Duration(i)*time.Millisecond)
			x.Apply(&e)
		}
		x.Backfill([]Event{use(ws, "old", "/personas", 7, -time.Minute)}, t0.Add(-time.Hour))
	}
	wg.Add(3)
	go run(l, "a", 300) // the original changes a and b, the clone a and c
	go func() {
		run(c, "a", 50)
		run(c, "c", 20)
	}()
	wg.Wait()
	wg.Add(1)
	run(l, "b", 5)
	want := map[*Ledger]map[string]int64{l: {"a": 400, "b": 105, "c": 100}, c: {"a": 150, "b": 100, "c": 120}}
	for x, used := range want {
		got := x.Totals()
		for ws, n := range used {
			if got.Used[ws] != n {
				t.Errorf("%s used %d, want %d", ws, got.Used[ws], n)
			}
			if ep := got.UsedBy[UsedByField(ws, "api", "/mave/chat")]; ep != n-100 {
				t.Errorf("%s /mave/chat %d, want %d", ws, ep, n-100)
			}
		}
	}
	if got, want := l.Burn("c", time.Hour, t0.Add(time.Minute)), c.Burn("c", time.Hour, t0.Add(time.Minute)); got >= want {
		t.Errorf("burn of c: original %.0f/h, clone %.0f/h: the clone's backfill leaked or was lost", got, want)
	}
}

func TestRechargeRaisesCap(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 1000}, ms(0))
	e := use("acme", "", "/responses", 1000, 0)
	l.Apply(&e)
	l.TakeCrossings()
	l.Apply(&Event{TS: ms(time.Second), Workspace: "acme", Kind: KindRecharge, Credits: 500})
	s, _ := l.Summary("acme")
	if s.Level != LevelWarn || s.Remaining != 500 || s.Recharged != 500 {
		t.Fatalf("%+v", s)
	}
	if got := l.Totals().Recharged["acme"]; got != 500 {
		t.Fatalf("recharged total %d", got)
	}
}

func TestSettingsEventsApplyLive(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Kind: KindSettings, Msg: `{"allocation":2000,"usage_limit":1500}`})
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Project: "web", Kind: KindSettings, Msg: `{"usage_limit":100}`})
	s, _ := l.Summary("acme")
	if !s.HasSettings || s.Settings.Allocation != 2000 || s.Settings.UsageLimit != 1500 || s.Level != LevelOK {
		t.Fatalf("%+v", s)
	}
	if p := l.Projects("acme"); len(p) != 1 || p[0].Budget.Limit != 100 {
		t.Fatalf("%+v", p)
	}
	// a value present but unreadable is unknown, naming what cannot be read:
	// never the old value kept (it is no longer what Redis holds), never unset
	for msg, want := range map[string]string{
		`{"allocation":-1}`:                          "allocation -1 must be between 0",
		`not json`:                                   "invalid character",
		`{"usage_limit":"1000"}`:                     "usage limit holds string",
		`{"usage_limit":1e300}`:                      "usage limit holds number 1e300",
		`{"recharge_below":0.5}`:                     "auto-recharge threshold holds number 0.5",
		`{"allocation":{"n":1}}`:                     "allocation holds object",
		`{"allocation":NaN}`:                         "allocation holds no JSON value",
		`{"recharge_amount":-5,"recharge_below":10}`: "must not be negative",
	} {
		l.Apply(&Event{TS: ms(0), Workspace: "acme", Kind: KindSettings, Msg: msg})
		s, _ := l.Summary("acme")
		if s.Level != LevelUnknown || !s.UnreadableSettings || !strings.Contains(s.Unreadable, `settings "acme" cannot be read`) || !strings.Contains(s.Unreadable, want) {
			t.Errorf("%s: level %v, unreadable %q; want unknown naming %q", msg, s.Level, s.Unreadable, want)
		}
		if why := l.UnreadableWorkspaces(nil)["acme"]; why != s.Unreadable {
			t.Errorf("%s: UnreadableWorkspaces says %q", msg, why)
		}
	}
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Kind: KindSettings, Msg: `{"allocation":2000}`})
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Project: "web", Kind: KindSettings, Msg: `{"usage_limit":-100}`})
	if v, _ := l.Verdict("acme"); v.Level != LevelUnknown || v.Project != "web" || !strings.Contains(v.Status.Unreadable, `settings "acme/web" cannot be read`) {
		t.Errorf("an unreadable project budget: verdict %+v, want unknown by web", v)
	}
	if s, _ := l.Summary("acme"); s.Level != LevelOK {
		t.Errorf("the workspace's own settings are read: level %v", s.Level)
	}
	l.Apply(&Event{TS: ms(0), Workspace: "acme", Project: "web", Kind: KindSettings, Msg: `{"usage_limit":100}`})
	if v, _ := l.Verdict("acme"); v.Level != LevelOK || len(l.UnreadableWorkspaces(nil)) != 0 {
		t.Errorf("healed: verdict %+v", v)
	}
	if c := l.Counts(); c.BadSettings != 9 {
		t.Fatalf("bad settings %d", c.BadSettings)
	}
}

func TestSortByUse(t *testing.T) {
	rows := []Summary{
		{Name: "none", Used: 9999},
		{Name: "low", Status: Status{HasAllocation: true, Percent: 10, Level: LevelOK}},
		{Name: "out", Status: Status{HasAllocation: true, Percent: 60, Level: LevelExhausted}},
		{Name: "high", Status: Status{HasAllocation: true, Percent: 80, Level: LevelHigh}},
		{Name: "also-low", Status: Status{HasAllocation: true, Percent: 10, Level: LevelOK}},
	}
	slices.SortFunc(rows, func(a, b Summary) int { return CompareByUse(&a, &b) })
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
	}
	if want := []string{"out", "high", "also-low", "low", "none"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("%v", names)
	}
}

func TestDefaultAlertsApplyToWorkspacesWithoutTheirOwn(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0).WithDefaultAlerts([]int{20, 40, 60})
	l.SetSettings("plain", Settings{Allocation: 1000}, ms(0))
	l.SetSettings("own", Settings{Allocation: 1000, Alerts: []int{50, 75, 90}}, ms(0))
	for _, ws := range []string{"plain", "own"} {
		e := use(ws, "", "/responses", 450, 0)
		l.Apply(&e)
	}
	if s, _ := l.Summary("plain"); s.Level != LevelHigh || s.Thresholds[0] != 20 {
		t.Fatalf("plain at 45 %% of [20 40 60]: %v %v", s.Level, s.Thresholds)
	}
	if s, _ := l.Summary("own"); s.Level != LevelOK {
		t.Fatalf("own thresholds at 45 %%: %v", s.Level)
	}
	seeded := NewLedger(MonthlyUTC, t0).WithDefaultAlerts([]int{20, 40, 60})
	seeded.Seed(&Snapshot{Period: MonthlyUTC.At(t0), Used: map[string]int64{"plain": 450},
		Settings: map[string]Settings{"plain": {Allocation: 1000}}}, t0)
	if s, _ := seeded.Summary("plain"); s.Level != LevelHigh {
		t.Fatalf("seeded: %v", s.Level)
	}
	if c := seeded.Clone(); len(c.defaults) != 3 {
		t.Fatal("clone lost the default thresholds")
	}
}

// TestRefusedByIsUnambiguous: a budget_exceeded is attributed to one budget,
// by one rule, whatever limits the workspace and its project have and however
// far each is used: the one set; with both, the one with fewer credits left
// (a call the farther refuses, the nearer refuses too); both when both are
// reached or have as few left; and "cannot say" only with neither known.
func TestRefusedByIsUnambiguous(t *testing.T) {
	for _, tc := range []struct {
		name             string
		wsLimit, pLimit  int64
		wsUsed, projUsed int64 // projUsed is part of wsUsed
		want             Budget
	}{
		{"no limit known", 0, 0, 500, 100, BudgetWorkspaceOrProject},
		{"workspace limit only, reached", 500, 0, 500, 100, BudgetWorkspace},
		{"workspace limit only, not reached by the ledger", 500, 0, 480, 100, BudgetWorkspace},
		{"project limit only, reached", 0, 100, 500, 100, BudgetProject},
		{"project limit only, not reached by the ledger", 0, 100, 500, 95, BudgetProject},
		{"both set, project reached", 1000, 100, 500, 100, BudgetProject},
		{"both set, workspace reached", 500, 1000, 500, 100, BudgetWorkspace},
		{"both reached", 500, 100, 500, 100, BudgetBoth},
		{"both reached, project further past", 500, 100, 520, 120, BudgetBoth},
		{"neither reached, project nearer", 1000, 100, 500, 95, BudgetProject},
		{"neither reached, workspace nearer", 510, 200, 500, 100, BudgetWorkspace},
		{"neither reached, as few left", 505, 105, 500, 100, BudgetBoth},
		// the limit reached wins over one that merely is near
		{"workspace reached, project 1 left", 500, 101, 500, 100, BudgetWorkspace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			l.SetSettings("acme", Settings{UsageLimit: tc.wsLimit}, ms(0))
			if tc.pLimit > 0 {
				l.SetBudget("acme", "web", ProjectBudget{Limit: tc.pLimit}, ms(0))
			}
			for _, e := range []Event{use("acme", "web", "/responses", tc.projUsed, 0), use("acme", "", "/responses", tc.wsUsed-tc.projUsed, 0),
				refusal("acme", "web", CodeBudgetExceeded, time.Second)} {
				l.Apply(&e)
			}
			log := l.Refusals(nil, 10)
			if len(log) != 1 || log[0].By != tc.want || log[0].Class != RefusedBudget {
				t.Fatalf("refused by %v, want %v (%+v)", log[0].By, tc.want, log)
			}
		})
	}
}

// TestARefusalSaysOnlyWhatIsKnown: a budget_exceeded for a project with no
// usage limit set (in the workspace or the project) is worded as what mavtop
// knows — refused, budget exceeded, no limit set in mavtop — never as a cause
// it invents ("workspace/project budget"); the other budgets name theirs.
func TestARefusalSaysOnlyWhatIsKnown(t *testing.T) {
	for _, tc := range []struct {
		name            string
		wsLimit, pLimit int64
		code            string
		by, why         string
	}{
		{"no limit known", 0, 0, CodeBudgetExceeded, "no limit set", "project web refused: budget exceeded; no usage limit is set for it in mavtop"},
		{"project limit", 0, 100, CodeBudgetExceeded, "project limit", "project web refused: project web reached its usage limit (budget_exceeded)"},
		{"workspace limit", 100, 0, CodeBudgetExceeded, "workspace limit", "project web refused: workspace acme reached its usage limit (budget_exceeded)"},
		{"credits", 0, 0, CodeCreditsExhausted, "account credits", "project web refused: the account is out of credits (credits_exhausted)"},
		{"other", 0, 0, "subscription_lapsed", "unknown", "project web refused: 402 subscription_lapsed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			l.SetSettings("acme", Settings{UsageLimit: tc.wsLimit}, ms(0))
			if tc.pLimit > 0 {
				l.SetBudget("acme", "web", ProjectBudget{Limit: tc.pLimit}, ms(0))
			}
			for _, e := range []Event{use("acme", "web", "/responses", 100, 0), refusal("acme", "web", tc.code, time.Second)} {
				l.Apply(&e)
			}
			log := l.Refusals(nil, 10)
			if len(log) != 1 || log[0].By.String() != tc.by || log[0].Why() != tc.why {
				t.Fatalf("refused by %q, why %q; want %q, %q", log[0].By, log[0].Why(), tc.by, tc.why)
			}
		})
	}
}

// TestForksOfOneLedgerRunAtOnce: a ledger nobody changes any more (the
// hub's frozen copy) is forked by several goroutines at once, each fork
// then changing the states it shares with the others; the race detector
// checks that forking writes nothing of the original (Clone changes its
// owner, so it cannot be called so), and each fork ends with its own events
// only, the original with none.
func TestForksOfOneLedgerRunAtOnce(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	for _, ws := range []string{"a", "b"} {
		l.SetSettings(ws, Settings{Allocation: 1000}, ms(0))
		e := use(ws, "web", "/responses", 100, 0)
		l.Apply(&e)
	}
	frozen := l.Clone()
	forks := make([]*Ledger, 4)
	var wg sync.WaitGroup
	for i := range forks {
		wg.Go(func() {
			f := frozen.Fork()
			for k := range 10 * (i + 1) {
				e := use("a", "api", "/mave/chat", 1, time.Duration(k)*time.Millisecond)
				f.Apply(&e)
			}
			forks[i] = f
		})
	}
	wg.Wait()
	if s, _ := frozen.Summary("a"); s.Used != 100 {
		t.Fatalf("the forked ledger changed: a used %d, want 100", s.Used)
	}
	for i, f := range forks {
		if s, _ := f.Summary("a"); s.Used != 100+10*int64(i+1) {
			t.Errorf("fork %d: a used %d, want %d", i, s.Used, 100+10*(i+1))
		}
		if s, _ := f.Summary("b"); s.Used != 100 {
			t.Errorf("fork %d: b used %d, want 100", i, s.Used)
		}
	}
}
