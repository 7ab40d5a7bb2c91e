package model_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestIncrementalAlertsMatchTheFullEvaluation drives random seconds —
// events (usage, refunds, steps, 402s of three codes, recharges), settings and project
// budgets changed (allocation, limit, budget alert, thresholds), the hour
// read back and ended, the project credits read, re-reads, a rewind (a new
// ledger), a clone, the stale feed, a recharge then a credits_exhausted 402 (OUT again, its own alert), time crossing MinSpan, the hour and a
// billing period's rollover, workspaces that stop spending and start again, and the lifecycle edited by "another instance"
// (firing or resolving ids, FiredStream ahead of or behind this ledger, a
// record gone, one cleared by a history that is gone, an earlier period's
// firing) — through both the full EvaluateAlerts + AlertTransitions and the
// AlertEvaluator, and requires the same transitions every second, payload
// and order included, every alert's condition, and each run-out tracked.
func TestIncrementalAlertsMatchTheFullEvaluation(t *testing.T) {
	n := matchIncremental(t, 8, 600, newAlertSim, (*alertSim).step)
	// a run that never reaches these proves nothing
	if n.fired < 500 || n.resolved < 100 || n.removed < 20 || n.blocked < 20 || n.runOuts < 1000 || n.outAgain < 5 {
		t.Fatalf("the random seconds did not exercise the lifecycle: %+v", n)
	}
	// every kind resolved and fired again as a new episode, a few times
	for _, k := range []model.AlertKind{model.AlertThreshold, model.AlertAllocation, model.AlertUsageLimit, model.AlertBudget,
		model.AlertProjectBudget, model.AlertProjectLimit, model.AlertRefusals, model.AlertRunOut, model.AlertStale} {
		if n.reFired[k] < 3 {
			t.Errorf("%s fired again as a new episode %d times: %v", k, n.reFired[k], n.reFired)
		}
	}
}

// TestIncrementalAlertsFollowAClockSetBack is the same comparison with the
// wall clock set back now and then (an NTP step, a resumed machine) by a
// second to 20 minutes: each run-out's due instant was found looking forward
// from the later now, so buckets then in the window or the hour can be
// ahead of the new now and every run-out is judged again.
func TestIncrementalAlertsFollowAClockSetBack(t *testing.T) {
	back := 0
	matchIncremental(t, 3, 1_500, newAlertSim, func(s *alertSim) {
		s.step()
		if s.r.IntN(150) == 0 {
			s.now = s.now.Add(-time.Duration(1+s.r.IntN(1_200)) * time.Second)
			s.lastOp, back = "clock set back", back+1
		}
	})
	if back < 15 {
		t.Fatalf("the clock was set back %d times", back)
	}
}

// TestIncrementalRunOutsFollowTimeAlone is the same comparison over 45
// minutes of single seconds, 3 h to 50 min before the billing period ends, of
// 40 workspaces that each charge at their own pace (and refund now and then,
// and stop for minutes), each with an allocation within 3 % of what its burn
// spends before the period ends: their run-outs change with time alone — the
// span the burn is measured over falling back at a BucketWidth, a refund or
// a charge leaving the BurnWindow, idle — which the evaluator judges only
// when it found they can (runOutDue). Judged a second late, a condition
// differs here.
func TestIncrementalRunOutsFollowTimeAlone(t *testing.T) {
	n := matchIncremental(t, 3, 2_700, newSpendSim, (*alertSim).spendStep)
	t.Logf("run-outs changed by time alone: %v", n.byTime)
	if n.byTime["ended→holds"] < 20 || n.byTime["holds→ended"] < 20 {
		t.Fatalf("the seconds did not change run-outs by time alone: %v", n.byTime)
	}
}

// spender charges its workspace credits every iv (give or take a third).
type spender struct {
	ws      string
	iv      time.Duration
	credits int64
	next    time.Time
}

// newSpendSim is a ledger of spenders that has read their hour back, each
// allocation set within 3 % of what its burn spends before the period ends.
func newSpendSim(seed uint64) *alertSim {
	s := &alertSim{r: rand.New(rand.NewPCG(seed, 61)), known: map[string]model.AlertRecord{}, touched: map[string]bool{}, connected: true,
		silent: map[string]time.Time{}, changed: map[string]bool{}}
	s.ev, s.rival = model.NewAlertEvaluator(simOpt), model.NewAlertEvaluator(simOpt)
	// 3 h, 70 or 50 min before the period ends: close to it, what the
	// credits last crosses the time left between two charges
	s.now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(-[]time.Duration{3 * time.Hour, 70 * time.Minute, 50 * time.Minute}[seed%3])
	from := s.now.Add(-time.Hour)
	s.l = model.NewLedger(model.MonthlyUTC, from)
	snap := &model.Snapshot{Period: model.MonthlyUTC.At(s.now), StreamID: "0-0", HistoryLater: true,
		Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{},
		Recharged: map[string]int64{}, Settings: map[string]model.Settings{}, Budgets: map[string]model.ProjectBudget{}}
	var page []model.Event
	for i := range 40 {
		sp := spender{ws: fmt.Sprintf("w%02d", i), iv: time.Duration(20+s.r.IntN(220)) * time.Second, credits: int64(5 + s.r.IntN(60))}
		snap.Settings[sp.ws] = model.Settings{Allocation: 1_000_000}
		snap.Used[sp.ws] = 10_000
		snap.UsedBy[model.UsedByField(sp.ws, "p0", "chat")] = 10_000
		for at := from.Add(time.Duration(s.r.IntN(60)) * time.Second); at.Before(s.now); at = at.Add(s.jitter(sp.iv)) {
			page = append(page, model.Event{ID: fmt.Sprintf("%d-%d", at.UnixMilli(), i), TS: at.UnixMilli(), Workspace: sp.ws, Project: "p0",
				Endpoint: "chat", Credits: sp.credits, Status: 200})
		}
		sp.next = s.now.Add(s.jitter(sp.iv))
		s.spend = append(s.spend, sp)
	}
	s.l.Seed(snap, s.now)
	slices.SortFunc(page, func(a, b model.Event) int { return int(b.TS - a.TS) })
	s.l.Backfill(page, from)
	s.l.EndHistory()
	for _, sp := range s.spend {
		f := s.l.Forecast(sp.ws, s.now)
		left := int64(f.BurnPerHour * f.Left.Hours() * (0.97 + 0.06*s.r.Float64()))
		s.l.SetSettings(sp.ws, model.Settings{Allocation: 1_000_000 - f.Remaining + left}, s.now.UnixMilli())
	}
	return s
}

func (s *alertSim) jitter(d time.Duration) time.Duration {
	return d*2/3 + time.Duration(s.r.Int64N(int64(d*2/3)))
}

// spendStep moves a second: the spenders due charge (one in eight a
// refund), unless silent; now and then one stops for 1 to 25 minutes.
func (s *alertSim) spendStep() {
	clear(s.changed)
	s.all = false
	s.now = s.now.Add(time.Second)
	if s.r.IntN(20) == 0 {
		s.silent[s.spend[s.r.IntN(len(s.spend))].ws] = s.now.Add(time.Duration(60+s.r.IntN(1_440)) * time.Second)
	}
	for i := range s.spend {
		sp := &s.spend[i]
		if s.now.Before(sp.next) {
			continue
		}
		sp.next = s.now.Add(s.jitter(sp.iv))
		if s.now.Before(s.silent[sp.ws]) {
			continue
		}
		credits := sp.credits
		if s.r.IntN(8) == 0 {
			credits = -sp.credits * int64(1+s.r.IntN(8))
		}
		e := model.Event{ID: s.nextID(), TS: s.now.UnixMilli() - int64(s.r.IntN(1_000)), Workspace: sp.ws, Project: "p0", Endpoint: "chat", Credits: credits, Status: 200}
		s.l.Apply(&e)
		s.changed[sp.ws], s.lastOp = true, "usage"
	}
}

// simCounts are what a run of matchIncremental exercised: transitions
// fired, resolved, removed, resolutions the stream held back, run-outs
// tracked, and run-out conditions that changed in a second that changed
// nothing of their workspace, by what they were and became.
type simCounts struct {
	fired, resolved, removed, blocked, runOuts, outAgain int
	byTime                                               map[string]int
	// reFired counts the episodes after the first that fired, by kind
	reFired map[model.AlertKind]int
}

// simOpt is the sims' evaluation: a resolved alert may fire again after 45 s
// (the default's 10 min would seldom pass in a run).
var simOpt = model.AlertOptions{ReFireAfter: 45 * time.Second}

// matchIncremental runs seeds simulations (made by sim, moved a second by
// step) of seconds each and fails t at the first second where the
// evaluator and the full evaluation differ.
func matchIncremental(t *testing.T, seeds uint64, seconds int, sim func(seed uint64) *alertSim, step func(*alertSim)) simCounts {
	t.Helper()
	n := simCounts{byTime: map[string]int{}, reFired: map[model.AlertKind]int{}}
	for seed := range seeds {
		s := sim(seed)
		prev := map[string]string{} // run-out id → its state last second
		tracked := map[string]time.Duration{}
		for sec := range seconds {
			step(s)
			h := s.health()
			cands := model.EvaluateAlerts(s.l, s.now, h, model.AlertOptions{}, nil)
			full := simOpt.Transitions(s.known, cands, s.l.Period().Key, s.l.StreamID(), s.now)
			fullRun := map[string]time.Duration{}
			for _, a := range cands {
				if a.Kind == model.AlertRunOut && a.Condition == model.ConditionHolds && a.RunOutIn > 0 {
					fullRun[a.Workspace] = a.RunOutIn
				}
			}
			incRun := map[string]time.Duration{}
			// the first evaluator is told which records changed (the
			// watcher's way: its map kept and changed in place); the second
			// compares a new map with its last
			recs := model.AlertRecords{Known: s.known, Tracked: true, Changed: slices.Collect(maps.Keys(s.touched))}
			if seed%2 == 1 { // the records shared by pointer instead (notify.Watcher's way)
				recs.Known, recs.Shared = nil, make(map[string]*model.AlertRecord, len(s.known))
				for id, r := range s.known {
					recs.Shared[id] = &r
				}
			}
			clear(s.touched)
			inc := s.ev.Transitions(s.l, s.now, h, recs, func(ws string, in time.Duration) {
				if _, twice := incRun[ws]; twice {
					t.Fatalf("seed %d second %d: run-out of %s reported twice", seed, sec, ws)
				}
				incRun[ws] = in
			})
			if !reflect.DeepEqual(full, inc) {
				t.Fatalf("seed %d second %d (%s, stream %s, last op %s): transitions differ\nfull: %s\nincremental: %s",
					seed, sec, s.now.Format(time.RFC3339), s.l.StreamID(), s.lastOp, describe(full), describe(inc))
			}
			// every alert's condition as the evaluator holds it, not only
			// those a transition shows: a run-out judged late by time alone
			// (a bucket leaving the window or the hour) shows here first
			conds := map[string]model.AlertCondition{}
			for _, a := range cands {
				conds[a.ID] = a.Condition
			}
			if held := s.ev.Conditions(); !reflect.DeepEqual(conds, held) {
				for id, c := range conds {
					if held[id] != c {
						t.Errorf("seed %d second %d (%s): %s is %d, the evaluator holds %d", seed, sec, s.now.Format(time.RFC3339), id, c, held[id])
					}
				}
				t.FailNow()
			}
			// each run-out reported is the full evaluation's of this second,
			// and each that holds was reported (this second, or since it
			// last changed: it is judged again whenever it can stop holding)
			for ws, in := range incRun {
				if full, ok := fullRun[ws]; !ok || full != in {
					t.Fatalf("seed %d second %d: %s reported to run out in %v, the full evaluation says %v (holds: %v)", seed, sec, ws, in, full, ok)
				}
				tracked[ws] = in
			}
			for ws := range tracked {
				if _, ok := fullRun[ws]; !ok {
					delete(tracked, ws)
				}
			}
			for ws := range fullRun {
				if _, ok := tracked[ws]; !ok {
					t.Fatalf("seed %d second %d: %s runs out in %v and was never reported", seed, sec, ws, fullRun[ws])
				}
			}
			if s.r.IntN(40) == 0 {
				// a second evaluator takes the ledger's list of changed
				// workspaces: each must then find them by their stamps
				if rival := s.rival.Transitions(s.l, s.now, h, model.AlertRecords{Known: maps.Clone(s.known)}, nil); !reflect.DeepEqual(full, rival) {
					t.Fatalf("seed %d second %d: the second evaluator's transitions differ\nfull: %s\nsecond: %s", seed, sec, describe(full), describe(rival))
				}
			}
			n.runOuts += len(fullRun)
			for _, tr := range full {
				switch {
				case tr.Removed:
					n.removed++
				case tr.Status == model.AlertFiring:
					n.fired++
					if _, ep := model.SplitEpisode(tr.Alert.ID); ep > 1 {
						n.reFired[tr.Alert.Kind]++
					}
					if strings.Contains(tr.Alert.ID, "/refusals/credits_exhausted@") {
						n.outAgain++ // OUT again after credit was added
					}
				default:
					n.resolved++
				}
			}
			now := map[string]string{}
			for _, a := range cands {
				if a.Kind != model.AlertRunOut {
					continue
				}
				st := map[model.AlertCondition]string{model.ConditionUnknown: "unknown", model.ConditionHolds: "holds", model.ConditionEnded: "ended"}[a.Condition]
				if a.Condition == model.ConditionHolds && a.RunOutIn == 0 {
					st = "reached"
				}
				now[a.ID] = st
				if was, ok := prev[a.ID]; ok && was != st && !s.all && !s.changed[a.Workspace] {
					n.byTime[was+"→"+st]++
				}
			}
			prev = now
			n.blocked += s.claim(full, cands)
			s.edit(cands)
		}
	}
	t.Logf("fired %d (OUT again %d), resolved %d, removed %d, held back by the stream %d, run-outs tracked %d; episodes after the first by kind %v",
		n.fired, n.outAgain, n.resolved, n.removed, n.blocked, n.runOuts, n.reFired)
	return n
}

func describe(trs []model.AlertTransition) string {
	out := ""
	for _, tr := range trs {
		out += fmt.Sprintf("\n  %s %s removed=%v %+v", tr.Alert.ID, tr.Status, tr.Removed, tr.Alert)
	}
	return out
}

// alertSim is a ledger fed random seconds and a lifecycle edited at random.
type alertSim struct {
	r     *rand.Rand
	l     *model.Ledger
	ev    *model.AlertEvaluator
	rival *model.AlertEvaluator
	now   time.Time
	seq   int
	known map[string]model.AlertRecord
	// touched are the ids whose record changed since the last judgement
	touched map[string]bool
	lastOp  string
	// down is when the feed went stale (zero: connected)
	down      time.Time
	connected bool
	// silent are the workspaces that spend nothing until the time kept:
	// their burn decays, buckets leave the window and the hour, they turn
	// idle, all with time alone, second by second
	silent map[string]time.Time
	// changed are the workspaces this second's ops changed, all whether an
	// op changed every one (a read, a rewind, the hour)
	changed map[string]bool
	all     bool
	// spend are the workspaces of newSpendSim and how they spend
	spend []spender
}

var (
	simWS    = []string{"acme", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota"}
	simProj  = []string{"p0", "p1", "p2"}
	simCodes = []string{model.CodeCreditsExhausted, model.CodeBudgetExceeded, "rate_limited"}
)

func newAlertSim(seed uint64) *alertSim {
	s := &alertSim{r: rand.New(rand.NewPCG(seed, 16)), known: map[string]model.AlertRecord{}, touched: map[string]bool{}, connected: true,
		silent: map[string]time.Time{}, changed: map[string]bool{}}
	// late on the period's last day: the rollover comes within the run
	s.now = time.Date(2026, 11, 30, 22, 40, 0, 0, time.UTC).Add(time.Duration(s.r.IntN(3600)) * time.Second)
	s.ev, s.rival = model.NewAlertEvaluator(simOpt), model.NewAlertEvaluator(simOpt)
	s.fresh()
	return s
}

// fresh starts a new ledger seeded from random counters, as a start (or a
// rewind) does.
func (s *alertSim) fresh() {
	s.l = model.NewLedger(model.MonthlyUTC, s.now)
	if s.r.IntN(2) == 0 {
		s.l.WithDefaultAlerts([]int{40, 80})
	}
	s.seed(s.r.IntN(2) == 0, s.r.IntN(2) == 0)
}

func (s *alertSim) nextID() string {
	s.seq++
	return fmt.Sprintf("%d-%d", s.now.UnixMilli(), s.seq)
}

func (s *alertSim) settings() model.Settings {
	st := model.Settings{}
	if s.r.IntN(5) > 0 {
		st.Allocation = int64(500 + s.r.IntN(5_000))
	}
	if s.r.IntN(3) == 0 {
		st.UsageLimit = int64(500 + s.r.IntN(6_000))
	}
	if s.r.IntN(3) == 0 {
		st.BudgetAlert = int64(200 + s.r.IntN(4_000))
	}
	if s.r.IntN(3) == 0 {
		st.Alerts = [][]int{{30, 60, 90}, {50}, {10, 95}}[s.r.IntN(3)]
	}
	if s.r.IntN(4) == 0 {
		st.RechargeBelow, st.RechargeAmount = 100, 1_000
	}
	return st
}

func (s *alertSim) budget() model.ProjectBudget {
	b := model.ProjectBudget{}
	if s.r.IntN(2) == 0 {
		b.Limit = int64(300 + s.r.IntN(3_000))
	}
	if s.r.IntN(2) == 0 {
		b.Alert = int64(100 + s.r.IntN(300))
	}
	return b
}

// seed re-reads random counters at the ledger's stream id (the period
// holding now), the project credits later or not, the hour read back later
// or not.
func (s *alertSim) seed(usedByLater, historyLater bool) {
	snap := &model.Snapshot{
		Period: model.MonthlyUTC.At(s.now), StreamID: s.l.StreamID(),
		Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{},
		Recharged: map[string]int64{}, Settings: map[string]model.Settings{}, Budgets: map[string]model.ProjectBudget{},
		UsedByLater: usedByLater, HistoryLater: historyLater,
	}
	if snap.StreamID == "" {
		snap.StreamID = "0-0"
	}
	for _, ws := range simWS {
		if s.r.IntN(6) == 0 {
			continue // not in this read
		}
		snap.Settings[ws] = s.settings()
		used := int64(s.r.IntN(6_000))
		snap.Used[ws] = used
		if !usedByLater {
			snap.UsedBy[model.UsedByField(ws, "p0", "chat")] = used / 2
			snap.UsedBy[model.UsedByField(ws, "p1", "embed")] = used - used/2
		}
		if s.r.IntN(3) == 0 {
			snap.Refused[model.RefusedField(ws, simProj[s.r.IntN(3)], simCodes[s.r.IntN(3)])] = int64(1 + s.r.IntN(3))
		}
		if s.r.IntN(4) == 0 {
			snap.Recharged[ws] = 1_000
		}
		if s.r.IntN(2) == 0 {
			snap.Budgets[model.ProjectKey(ws, simProj[s.r.IntN(3)])] = s.budget()
		}
	}
	s.l.Seed(snap, s.now)
}

// step moves time and changes the ledger as a second of the feed would.
func (s *alertSim) step() {
	clear(s.changed)
	s.all = false
	switch k := s.r.IntN(100); {
	case k < 85:
		s.now = s.now.Add(time.Second)
	case k < 97:
		s.now = s.now.Add(time.Duration(10+s.r.IntN(120)) * time.Second)
	default:
		s.now = s.now.Add(time.Duration(5+s.r.IntN(25)) * time.Minute) // crosses MinSpan, the hour, idle rules
	}
	if p := model.MonthlyUTC.At(s.now); p.Key != s.l.Period().Key {
		s.lastOp, s.all = "rollover", true
		s.seed(false, false) // the feed re-reads the counters of the new period
		return
	}
	if s.r.IntN(25) == 0 { // a workspace stops spending for 1 to 20 minutes
		s.silent[simWS[s.r.IntN(len(simWS))]] = s.now.Add(time.Duration(60+s.r.IntN(1_140)) * time.Second)
	}
	for range s.r.IntN(6) {
		s.op()
	}
}

func (s *alertSim) op() {
	ws := simWS[s.r.IntN(len(simWS))]
	proj := simProj[s.r.IntN(len(simProj))]
	ts := s.now.UnixMilli() - int64(s.r.IntN(1_000))
	k := s.r.IntN(1_000)
	if k < 760 && s.now.Before(s.silent[ws]) {
		return // it spends nothing meanwhile
	}
	// what the op changes: ws, or (past the budgets' ops) every workspace
	s.changed[ws] = true
	s.all = s.all || k >= 900
	switch {
	case k < 700:
		s.lastOp = "usage"
		e := model.Event{ID: s.nextID(), TS: ts, Workspace: ws, Project: proj, Endpoint: "chat", Credits: int64(s.r.IntN(120)), Status: 200}
		switch s.r.IntN(40) {
		case 0: // a refund: when its bucket leaves the window the burn rises
			e.Credits = -int64(1 + s.r.IntN(300))
		case 1: // a step: the hour's typical charge, and who has reached a cap by it, move when it leaves
			e.Credits = int64(800 + s.r.IntN(3_000))
		}
		if s.r.IntN(10) == 0 {
			e.Status, e.Code, e.Credits = 402, simCodes[s.r.IntN(3)], 0
		}
		s.l.Apply(&e)
	case k < 760:
		s.lastOp = "recharge"
		e := model.Event{ID: s.nextID(), TS: ts, Workspace: ws, Kind: model.KindRecharge, Credits: 500}
		s.l.Apply(&e)
		if s.r.IntN(2) == 0 { // refused again after it: a new OUT, its own alert
			s.lastOp = "recharge then 402 credits_exhausted"
			e = model.Event{ID: s.nextID(), TS: ts, Workspace: ws, Project: proj, Endpoint: "chat", Status: 402, Code: model.CodeCreditsExhausted}
			s.l.Apply(&e)
		}
	case k < 820:
		s.lastOp = "settings event"
		b, _ := json.Marshal(s.settings())
		e := model.Event{ID: s.nextID(), TS: ts, Workspace: ws, Kind: model.KindSettings, Msg: string(b)}
		s.l.Apply(&e)
	case k < 860:
		s.lastOp = "budget event"
		b, _ := json.Marshal(s.budget())
		e := model.Event{ID: s.nextID(), TS: ts, Workspace: ws, Project: proj, Kind: model.KindSettings, Msg: string(b)}
		s.l.Apply(&e)
	case k < 880:
		s.lastOp = "SetSettings"
		s.l.SetSettings(ws, s.settings(), ts)
	case k < 900:
		s.lastOp = "SetBudget"
		s.l.SetBudget(ws, proj, s.budget(), ts)
	case k < 940:
		s.lastOp = "backfill"
		var page []model.Event
		from := s.now.Add(-time.Hour)
		for i := range 1 + s.r.IntN(20) {
			e := model.Event{ID: fmt.Sprintf("%d-0", from.UnixMilli()+int64(i)), TS: from.UnixMilli() + int64(s.r.IntN(3_000_000)),
				Workspace: simWS[s.r.IntN(len(simWS))], Project: simProj[s.r.IntN(3)], Endpoint: "chat", Credits: int64(s.r.IntN(200)), Status: 200}
			if s.r.IntN(5) == 0 {
				e.Status, e.Code, e.Credits = 402, simCodes[s.r.IntN(3)], 0
			}
			page = append(page, e)
		}
		slices.SortFunc(page, func(a, b model.Event) int { return int(b.TS - a.TS) })
		s.l.Backfill(page, from)
	case k < 960:
		s.lastOp = "EndHistory"
		s.l.EndHistory()
	case k < 972:
		s.lastOp = "SeedUsedBy"
		usedBy := map[string]int64{}
		for _, w := range simWS {
			usedBy[model.UsedByField(w, simProj[s.r.IntN(3)], "chat")] = int64(s.r.IntN(4_000))
		}
		s.l.SeedUsedBy(usedBy, s.l.StreamID())
	case k < 984:
		s.lastOp = "re-read"
		s.seed(s.r.IntN(3) == 0, s.r.IntN(3) == 0)
	case k < 990:
		s.lastOp = "rewind"
		s.fresh()
	case k < 996:
		s.lastOp = "clone"
		c := s.l.Clone()
		switch s.r.IntN(3) {
		case 0:
			s.l = c // the viewer's copy from now on; else the original goes on, its states shared
		case 1:
			// a fresh copy of the hub's ledger: the original (the viewer's,
			// judged) and the copy (the hub's) each change states of their
			// own, then the copy is judged
			for range s.r.IntN(4) {
				s.op()
			}
			s.l = c
			for range s.r.IntN(4) {
				s.op()
			}
		}
	default:
		s.lastOp = "default thresholds"
		s.l.WithDefaultAlerts([][]int{nil, {20, 70}, {55}}[s.r.IntN(3)])
	}
}

// health is the feed's state: now and then unreachable for long enough to
// be stale, or read late.
func (s *alertSim) health() model.FeedHealth {
	switch k := s.r.IntN(200); {
	case k == 0 && s.connected:
		s.connected, s.down = false, s.now.Add(-time.Duration(s.r.IntN(10))*time.Minute)
	case k < 4 && !s.connected:
		s.connected = true
	}
	if !s.connected {
		return model.FeedHealth{Since: s.down}
	}
	return model.FeedHealth{Connected: true, Since: s.now.Add(-time.Hour), Lag: time.Duration(s.r.IntN(2)) * time.Duration(s.r.IntN(400)) * time.Second}
}

// claim records the transitions as the store would, each but one in ten
// (a claim that failed is due again); it returns how many resolutions the
// stream held back (ended, firing, fired further than this ledger read).
func (s *alertSim) claim(trs []model.AlertTransition, cands []model.Alert) int {
	for _, tr := range trs {
		if s.r.IntN(10) == 0 {
			continue
		}
		rec := s.known[tr.Alert.ID]
		s.touched[tr.Alert.ID] = true
		rec.Apply(&tr)
		s.known[tr.Alert.ID] = rec
	}
	held := 0
	for _, a := range cands {
		if rec, ok := s.known[a.ID]; ok && a.Condition == model.ConditionEnded && rec.Status == model.AlertFiring &&
			model.CompareStreamIDs(s.l.StreamID(), rec.FiredStream) < 0 {
			held++
		}
	}
	// the watcher reads this period and the last
	cur := s.l.Period()
	prev := s.l.Rule().At(cur.Start.Add(-time.Millisecond)).Key
	for id, rec := range s.known {
		if p := rec.Alert.Period; p != cur.Key && p != prev {
			delete(s.known, id)
			s.touched[id] = true
		}
	}
	return held
}

// edit changes the lifecycle as other instances (or a Redis that lost data)
// would.
func (s *alertSim) edit(cands []model.Alert) {
	if s.r.IntN(4) != 0 {
		return
	}
	ids := slices.Sorted(maps.Keys(s.known))
	ms, _, _ := splitStream(s.l.StreamID())
	pick := func() string {
		id := ids[s.r.IntN(len(ids))]
		s.touched[id] = true
		return id
	}
	switch k := s.r.IntN(6); {
	case k == 0 && len(cands) > 0: // another instance, further on, fired one
		a := cands[s.r.IntN(len(cands))]
		if _, ok := s.known[a.ID]; !ok {
			s.touched[a.ID] = true
			s.known[a.ID] = model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: s.now,
				FiredStream: fmt.Sprintf("%d-0", ms+int64(s.r.IntN(20_000))-5_000)}
		}
	case k == 1 && len(ids) > 0: // another instance resolved one, further on than this ledger read or behind it
		id := pick()
		rec := s.known[id]
		rec.Status, rec.ResolvedAt = model.AlertResolved, s.now
		rec.ResolvedStream = fmt.Sprintf("%d-0", ms+int64(s.r.IntN(20_000))-5_000)
		s.known[id] = rec
	case k == 2 && len(ids) > 0: // a record gone (expired, a Redis that lost it)
		delete(s.known, pick())
	case k == 3 && len(ids) > 0: // decided on a history that is gone (rolledBack)
		id := pick()
		if rec := s.known[id]; rec.Status == model.AlertFiring {
			rec.FiredStream = ""
			s.known[id] = rec
		}
	case k == 4 && len(cands) > 0: // an earlier period's firing, read with this one
		a := cands[s.r.IntN(len(cands))]
		cur := s.l.Period()
		a.Period = s.l.Rule().At(cur.Start.Add(-time.Millisecond)).Key
		a.ID = model.AlertID(a.Period, a.Workspace, a.Project, a.Kind, "x")
		s.touched[a.ID] = true
		s.known[a.ID] = model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: s.now.Add(-48 * time.Hour), FiredStream: "1-0"}
	case k == 5 && len(ids) > 0: // fired further on than this ledger read, or behind it
		id := pick()
		if rec := s.known[id]; rec.Status == model.AlertFiring {
			rec.FiredStream = fmt.Sprintf("%d-0", ms+int64(s.r.IntN(30_000))-10_000)
			s.known[id] = rec
		}
	}
}

func splitStream(id string) (ms, seq int64, ok bool) {
	_, err := fmt.Sscanf(id, "%d-%d", &ms, &seq)
	return ms, seq, err == nil
}

// TestAFreshCopyOfTheHubsLedgerIsJudgedByWhatDiffers: a watcher follows the
// hub as a viewer, whose ledger the hub replaces with a fresh copy of its
// own every eighth of the workspaces' worth of events (feed.Hub.refresh).
// Judging every workspace again at each copy (at 100k workspaces every 12.5
// s, ~500k alerts and every record) was most of the watcher's CPU. A copy
// of the same history differs from the ledger judged only in the states
// either changed since: those alone are judged again, with the transitions
// the full evaluation gives.
func TestAFreshCopyOfTheHubsLedgerIsJudgedByWhatDiffers(t *testing.T) {
	const n = 2_000
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := model.NewLedger(model.MonthlyUTC, now.Add(-time.Hour))
	hub.Seed(modeltest.Snapshot(n, now), now)
	hub.EndHistory()
	viewer := hub.Clone()
	ev := model.NewAlertEvaluator(model.AlertOptions{})
	known := map[string]model.AlertRecord{}
	h := model.FeedHealth{Connected: true, Since: now.Add(-time.Hour)}
	k := 0
	judge := func(l *model.Ledger) []model.AlertTransition {
		t.Helper()
		full := model.AlertOptions{}.Transitions(known, model.EvaluateAlerts(l, now, h, model.AlertOptions{}, nil), l.Period().Key, l.StreamID(), now)
		inc := ev.Transitions(l, now, h, model.AlertRecords{Known: maps.Clone(known)}, nil)
		if !reflect.DeepEqual(full, inc) {
			t.Fatalf("transitions differ\nfull: %s\nincremental: %s", describe(full), describe(inc))
		}
		for _, tr := range inc {
			r := model.AlertRecord{Alert: tr.Alert, Status: tr.Status, FiredAt: tr.At, FiredStream: tr.Stream}
			if tr.Status == model.AlertResolved {
				r = known[tr.Alert.ID]
				r.Alert, r.Status, r.ResolvedAt, r.ResolvedStream = tr.Alert, tr.Status, tr.At, tr.Stream
			}
			known[tr.Alert.ID] = r
		}
		return inc
	}
	if trs := judge(viewer); len(trs) == 0 {
		t.Fatal("the first judgement fired nothing: the fixture misses the case")
	}
	for copyNo := range 5 {
		touched := map[string]bool{}
		for range 20 { // seconds of 25 events, applied by the hub and its viewer alike
			now = now.Add(time.Second)
			for range 25 {
				e := modeltest.Event(k, n, now.UnixMilli())
				e.ID = fmt.Sprintf("%d-%d", now.UnixMilli(), k)
				k += 7919
				hub.Apply(&e)
				ve := e
				viewer.Apply(&ve)
				touched[e.Workspace] = true
			}
			judge(viewer)
		}
		before := ev.Rebuilt()
		viewer = hub.Clone() // the fresh copy
		now = now.Add(time.Second)
		judge(viewer)
		// each state the viewer changed since the last copy is its own copy,
		// and the hub's is another: those, not the 2,000
		if got := ev.Rebuilt() - before; got > len(touched) || got == 0 {
			t.Fatalf("copy %d: %d workspaces judged whole, %d changed since the last copy (of %d)", copyNo, got, len(touched), n)
		}
	}
}
