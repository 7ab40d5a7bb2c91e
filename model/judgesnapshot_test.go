package model

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// hostileSnapshot is a snapshot of varied and hostile counters and settings:
// workspaces known only by a settings entry, a recharge, a 402, a used_by
// field or a project budget; negative and zero counters; fields that name no
// workspace; own thresholds, usage limits that bind and that do not,
// allocation raises inside and outside the period; projects with and without
// a limit, the workspace's "" project, a project named only by its 402s.
func hostileSnapshot(seed uint64, now time.Time) *Snapshot {
	r := rand.New(rand.NewPCG(seed, 7))
	p := MonthlyUTC.At(now)
	s := &Snapshot{
		Period: p, StreamID: "0-0",
		Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{},
		Recharged: map[string]int64{}, Settings: map[string]Settings{}, Budgets: map[string]ProjectBudget{},
	}
	codes := []string{CodeCreditsExhausted, CodeBudgetExceeded, "usage_limit_exceeded", "other"}
	projects := []string{"", "a", "b", "c"}
	for range 400 {
		ws := fmt.Sprintf("w%03d", r.IntN(300)) // repeats: several entries of one workspace
		switch r.IntN(10) {
		case 0: // known only by what follows
		case 1:
			s.Used[ws] = -r.Int64N(50)
		default:
			s.Used[ws] = r.Int64N(1200)
		}
		if r.IntN(4) != 0 {
			st := Settings{Allocation: r.Int64N(1000)}
			if r.IntN(4) == 0 {
				st.Alerts = []int{10 + r.IntN(20), 40 + r.IntN(50)}
			}
			if r.IntN(4) == 0 {
				st.UsageLimit = 1 + r.Int64N(900)
			}
			switch r.IntN(5) {
			case 0:
				st.RaisedAt = p.Start.UnixMilli() + r.Int64N(int64(time.Hour/time.Millisecond))
			case 1:
				st.RaisedAt = p.Start.UnixMilli() - 1 // before the period
			}
			s.Settings[ws] = st
		}
		if r.IntN(6) == 0 {
			s.Recharged[ws] = r.Int64N(300) - 20
		}
		for range r.IntN(3) {
			s.Refused[RefusedField(ws, projects[r.IntN(len(projects))], codes[r.IntN(len(codes))])] = r.Int64N(5) - 1
		}
		for range r.IntN(3) {
			proj := projects[1+r.IntN(len(projects)-1)]
			s.UsedBy[UsedByField(ws, proj, "/responses")] = r.Int64N(200)
			if r.IntN(2) == 0 {
				s.Budgets[ProjectKey(ws, proj)] = ProjectBudget{Limit: r.Int64N(150) - 10, Alert: r.Int64N(50)}
			}
		}
	}
	// fields that name no workspace, and workspaces known by one hash alone
	s.Refused["no-slash"] = 4
	s.UsedBy["w9x/only"] = 3
	s.Refused["w9r/p/"+CodeCreditsExhausted] = 2
	s.Budgets["w9b/lim"] = ProjectBudget{Limit: 5}
	s.Recharged["w9c"] = 40
	return s
}

// judgedOf collects what JudgeAll or JudgeSnapshot visit, copied.
func judgedOf(judge func(visit func(j *Judged))) []Judged {
	var out []Judged
	judge(func(j *Judged) {
		c := *j
		c.Limited, c.limited = append([]ProjectSummary(nil), j.Limited...), nil
		if j.Limited == nil {
			c.Limited = nil
		}
		out = append(out, c)
	})
	return out
}

// TestJudgeSnapshotIsTheSeededLedgers: JudgeSnapshot gives every workspace,
// in the same order, exactly what JudgeAll gives on a ledger seeded with the
// same snapshot (summary, verdict, the projects weighed), over varied and
// hostile snapshots and default thresholds.
func TestJudgeSnapshotIsTheSeededLedgers(t *testing.T) {
	for seed := range uint64(40) {
		s := hostileSnapshot(seed, t0)
		var defaults []int
		if seed%2 == 1 {
			defaults = []int{30, 60, 80}
		}
		l := NewLedger(MonthlyUTC, t0).WithDefaultAlerts(defaults)
		l.Seed(s, t0)
		want := judgedOf(l.JudgeAll)
		got := judgedOf(func(v func(*Judged)) { JudgeSnapshot(s, defaults, nil, v) })
		if len(got) != len(want) || len(want) < 200 {
			t.Fatalf("seed %d: %d workspaces judged, the ledger has %d", seed, len(got), len(want))
		}
		blocked, limited := 0, 0
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("seed %d: %s judged\n%+v\nthe ledger\n%+v", seed, got[i].Name, got[i], want[i])
			}
			if want[i].Blocked {
				blocked++
			}
			limited += len(want[i].Limited)
		}
		if blocked == 0 || limited == 0 {
			t.Fatalf("seed %d: %d OUT, %d projects weighed: the fixture misses the cases", seed, blocked, limited)
		}
	}
}

// TestJudgeSnapshotTakesTheHistorysOrder: a workspace both refused with
// credits_exhausted and given credit this period is OUT or not by which came
// last; RefusalUndecided names exactly those a seeded ledger cannot decide,
// and a ledger seeded with their part of the snapshot (Snapshot.Only) and
// given the history decides them as the whole ledger given it does, so
// JudgeSnapshot with its decisions equals the whole ledger's JudgeAll.
func TestJudgeSnapshotTakesTheHistorysOrder(t *testing.T) {
	totalDecided, heldByHistory := 0, 0
	for seed := range uint64(40) {
		s := hostileSnapshot(seed, t0)
		l := NewLedger(MonthlyUTC, t0)
		l.Seed(s, t0)
		// what the seeded ledger leaves undecided, read from its summaries
		want := map[string]int64{}
		for _, sum := range l.Summaries(nil) {
			credit := int64(0)
			if st := sum.Settings; st.RaisedAt > 0 && s.Period.Contains(st.RaisedAt) {
				credit = st.RaisedAt
			}
			if sum.Recharged > 0 {
				credit = max(credit, 1)
			}
			// (a negative 402 count, which no read of Redis makes — it is
			// unreadable — holds no 402, as a negative recharge no credit)
			if credit > 0 && sum.Refused[RefusedCredits] > 0 {
				want[sum.Name] = credit
			}
			for _, ps := range l.Projects(sum.Name) {
				// a budget_exceeded this period: whether it stands is the history's
				if n := s.Refused[RefusedField(sum.Name, ps.Name, CodeBudgetExceeded)]; n > 0 {
					want[sum.Name] = credit
				}
			}
		}
		undecided := RefusalUndecided(s)
		if !reflect.DeepEqual(undecided, want) {
			t.Fatalf("seed %d: undecided %v, the ledger's %v", seed, undecided, want)
		}
		if len(undecided) == 0 {
			t.Fatalf("seed %d: nothing undecided: the fixture misses the case", seed)
		}
		// a history newest first: recharges, 402s and successes of the
		// undecided workspaces and of others
		r := rand.New(rand.NewPCG(seed, 11))
		var names []string
		for _, sum := range l.Summaries(nil) {
			names = append(names, sum.Name)
		}
		for ws := range undecided { // the undecided ones more often
			names = append(names, ws, ws, ws)
		}
		slices.Sort(names) // the map's order would make the history differ from run to run
		var evs []Event
		ts := t0.UnixMilli()
		projects := []string{"", "a", "b", "c"}
		for i := range 300 {
			ts -= 1 + r.Int64N(20_000)
			e := Event{ID: fmt.Sprintf("%d-0", ts), TS: ts, Workspace: names[r.IntN(len(names))], Project: projects[r.IntN(len(projects))], Endpoint: "/responses", Status: 200, Credits: 1}
			switch i % 4 {
			case 0:
				e.Kind, e.Status, e.Credits, e.Project = KindRecharge, 0, 10, ""
			case 1:
				e.Status, e.Code, e.Credits = 402, CodeCreditsExhausted, 0
			case 2:
				e.Status, e.Code, e.Credits = 402, CodeBudgetExceeded, 0
			}
			evs = append(evs, e)
		}
		from := time.UnixMilli(ts)
		l.Backfill(evs, from)
		named := map[string]int64{}
		for ws := range undecided {
			named[ws] = 0
		}
		for _, e := range evs {
			named[e.Workspace] = 0
		}
		sub := NewLedger(MonthlyUTC, t0)
		sub.Seed(s.Only(named), t0)
		sub.Backfill(evs, from)
		refusing := map[string]RefusalState{}
		for ws := range named {
			if rs, ok := sub.RefusalState(ws); ok {
				refusing[ws] = rs
			}
		}
		wantJ := judgedOf(l.JudgeAll)
		got := judgedOf(func(v func(*Judged)) { JudgeSnapshot(s, nil, refusing, v) })
		byCounters := judgedOf(func(v func(*Judged)) { JudgeSnapshot(s, nil, nil, v) })
		if len(got) != len(wantJ) {
			t.Fatalf("seed %d: %d workspaces judged, the ledger has %d", seed, len(got), len(wantJ))
		}
		decided := 0
		for i := range wantJ {
			wantJ[i].LastTS = 0 // JudgeSnapshot saw no event
			if !reflect.DeepEqual(got[i], wantJ[i]) {
				t.Fatalf("seed %d: %s judged\n%+v\nthe ledger given the history\n%+v", seed, got[i].Name, got[i], wantJ[i])
			}
			if byCounters[i].Blocked != wantJ[i].Blocked {
				decided++
			}
			if byCounters[i].Verdict.LimitReached != wantJ[i].Verdict.LimitReached {
				heldByHistory++
			}
		}
		totalDecided += decided
	}
	if totalDecided == 0 || heldByHistory == 0 {
		t.Fatalf("the history changed %d workspaces' OUT, %d a limit reached: the fixture misses the case", totalDecided, heldByHistory)
	}
}

// TestJudgeSnapshotEachIsJudgeSnapshot: split over goroutines (the halves of
// the sort merged, the ranges judged at once), JudgeSnapshotEach gives each
// workspace at its index exactly what JudgeSnapshot visits in order, over a
// snapshot of 40 hostile ones side by side (~12k workspaces, above the size
// that splits) and one small enough to stay on one goroutine.
func TestJudgeSnapshotEachIsJudgeSnapshot(t *testing.T) {
	big := &Snapshot{
		Period: MonthlyUTC.At(t0), StreamID: "0-0",
		Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{},
		Recharged: map[string]int64{}, Settings: map[string]Settings{}, Budgets: map[string]ProjectBudget{},
	}
	for seed := range uint64(40) {
		s := hostileSnapshot(seed, t0)
		pre := fmt.Sprintf("s%02d", (seed*17)%40) // not in name order of the seeds
		for k, v := range s.Used {
			big.Used[pre+k] = v
		}
		for k, v := range s.UsedBy {
			big.UsedBy[pre+k] = v
		}
		for k, v := range s.Refused {
			big.Refused[pre+k] = v
		}
		for k, v := range s.Recharged {
			big.Recharged[pre+k] = v
		}
		for k, v := range s.Settings {
			big.Settings[pre+k] = v
		}
		for k, v := range s.Budgets {
			big.Budgets[pre+k] = v
		}
	}
	for _, s := range []*Snapshot{big, hostileSnapshot(3, t0)} {
		refusing := map[string]RefusalState{}
		for ws := range s.Used {
			if len(refusing) < 50 {
				refusing[ws] = RefusalState{Blocked: len(refusing)%2 == 0, LimitRefused: []string{"a", ""}[:len(refusing)%3]}
			}
		}
		want := judgedOf(func(v func(*Judged)) { JudgeSnapshot(s, []int{30, 60, 80}, refusing, v) })
		// the merged halves of the sort: every workspace of the ledger once, in name order
		l := NewLedger(MonthlyUTC, t0)
		l.Seed(s, t0)
		if len(want) != l.Len() {
			t.Fatalf("JudgeSnapshot visited %d workspaces, the ledger has %d", len(want), l.Len())
		}
		for i := 1; i < len(want); i++ {
			if want[i-1].Name >= want[i].Name {
				t.Fatalf("JudgeSnapshot visited %s then %s", want[i-1].Name, want[i].Name)
			}
		}
		for _, workers := range []int{1, 2, 5} {
			var got []Judged
			JudgeSnapshotEach(s, []int{30, 60, 80}, refusing, workers, func(n int) { got = make([]Judged, n) }, func(i int, j *Judged) {
				got[i] = judgedOf(func(v func(*Judged)) { v(j) })[0]
			})
			if len(got) != len(want) || len(want) < 200 {
				t.Fatalf("%d workers: %d judged, JudgeSnapshot %d", workers, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%d workers: %d: %s judged\n%+v\nJudgeSnapshot\n%+v", workers, i, got[i].Name, got[i], want[i])
				}
			}
		}
		if s == big && len(want) < 4*judgeChunk {
			t.Fatalf("%d workspaces: too few to split", len(want))
		}
	}
}
