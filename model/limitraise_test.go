package model

import (
	"strconv"
	"testing"
	"time"
)

// raiseOp is one step of a raiseCase: an event, a workspace's settings or a
// project's budget (as the settings store writes them, stamps included), or
// the billing period rolling over.
type raiseOp struct {
	ev       *Event
	settings *Settings
	budget   *ProjectBudget
	rollover bool
	// unseen: the settings change reaches Redis only (mavtop disconnected);
	// reread: mavtop re-reads the counters and the settings hash (a gap healed)
	unseen, reread bool
}

// raiseJudged is what every surface shows of workspace w, judged once: the
// verdict (the row's level, check's status), whether the forecast holds the
// verdict's budget reached (the row's "limit reached", the run-out cell),
// and the conditions of the refusal alert of a code and of run_out.
type raiseJudged struct {
	level   Level
	reached bool
	refusal AlertCondition // noAlert: none (no 402 counted this period)
	runOut  AlertCondition
}

// noAlert is raiseJudged's refusal when no refusal alert is judged at all.
const noAlert AlertCondition = 255

// TestARefusalEndsWhenTheSettingThatCausedItChanges is the refusal rule as a
// table: every state a 402 put a workspace in — a project's budget_exceeded
// (its limit reached: the row's "limit reached", the forecast reached, the
// refusal alert firing), a workspace's usage limit's budget_exceeded, a
// credits_exhausted OUT — ends when the setting that caused it changes so the
// refusal no longer holds (a limit raised or removed, the allocation raised,
// a recharge, the period rolled over), at that event, not at the next
// successful call; a limit lowered, a raise of a limit that did not refuse,
// or a 402 newer than the raise leaves it refused. Each case is judged live
// (the dashboard's ledger, its alerts), by a ledger started afterwards from
// the counters, the settings hash's stamps and the hour read back (a fresh
// dashboard), and by check (JudgeSnapshot): all agree, before and after.
func TestARefusalEndsWhenTheSettingThatCausedItChanges(t *testing.T) {
	const ws, proj = "w", "p"
	ev := func(e Event) raiseOp { return raiseOp{ev: &e} }
	spend := func(n int64, at time.Duration) raiseOp { return ev(use(ws, proj, "/x", n, at)) }
	refused := func(code string, at time.Duration) raiseOp { return ev(refusal(ws, proj, code, at)) }
	set := func(s Settings) raiseOp { return raiseOp{settings: &s} }
	budget := func(b ProjectBudget) raiseOp { return raiseOp{budget: &b} }
	at := func(d time.Duration) int64 { return ms(d) }
	// spent long before the burn window: the run-out is judged idle, so it
	// holds only while the forecast says the budget is reached
	cases := []struct {
		name          string
		setup, change []raiseOp
		before, after raiseJudged
	}{
		{
			name:   "project limit raised",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000}), budget(ProjectBudget{Limit: 1000}), spend(1000, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{budget(ProjectBudget{Limit: 2000, RaisedAt: at(-2 * time.Minute)})},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelWarn, false, ConditionEnded, ConditionEnded},
		},
		{
			name:   "project limit raised, counters under it when refused",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000}), budget(ProjectBudget{Limit: 1000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{budget(ProjectBudget{Limit: 2000, RaisedAt: at(-2 * time.Minute)})},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelOK, false, ConditionEnded, ConditionEnded},
		},
		{
			name:  "project limit raised while mavtop was disconnected, seen by the re-read",
			setup: []raiseOp{set(Settings{Allocation: 1_000_000}), budget(ProjectBudget{Limit: 1000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{{budget: &ProjectBudget{Limit: 2000, RaisedAt: at(-2 * time.Minute)}, unseen: true},
				{reread: true}},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelOK, false, ConditionEnded, ConditionEnded},
		},
		{
			name:  "workspace usage limit raised while mavtop was disconnected, seen by the re-read",
			setup: []raiseOp{set(Settings{Allocation: 1_000_000, UsageLimit: 1000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{{settings: &Settings{Allocation: 1_000_000, UsageLimit: 2000, LimitRaisedAt: at(-2 * time.Minute)}, unseen: true},
				{reread: true}},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelOK, false, ConditionEnded, ConditionEnded},
		},
		{
			name:   "project limit removed",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000}), budget(ProjectBudget{Limit: 1000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{budget(ProjectBudget{RaisedAt: at(-2 * time.Minute)})},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelOK, false, ConditionEnded, ConditionEnded},
		},
		{
			name:   "project limit lowered: still refused",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000}), budget(ProjectBudget{Limit: 1000}), spend(900, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{budget(ProjectBudget{Limit: 990})},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
		},
		{
			name:   "project limit raised, then refused again",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000}), budget(ProjectBudget{Limit: 1000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{budget(ProjectBudget{Limit: 1100, RaisedAt: at(-2 * time.Minute)}), refused(CodeBudgetExceeded, -time.Minute)},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown}, // 950 of 1,100 is high by the counters: the 402 holds it at the limit
		},
		{
			name:   "workspace usage limit raised",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000, UsageLimit: 1000}), budget(ProjectBudget{Limit: 5000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{set(Settings{Allocation: 1_000_000, UsageLimit: 2000, LimitRaisedAt: at(-2 * time.Minute)})},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelOK, false, ConditionEnded, ConditionEnded},
		},
		{
			name:   "workspace usage limit removed",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000, UsageLimit: 1000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{set(Settings{Allocation: 1_000_000, LimitRaisedAt: at(-2 * time.Minute)})},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelOK, false, ConditionEnded, ConditionEnded},
		},
		{
			name: "workspace usage limit raised, the project's own nearer limit still refuses",
			setup: []raiseOp{set(Settings{Allocation: 1_000_000, UsageLimit: 1200}), budget(ProjectBudget{Limit: 960}),
				spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{set(Settings{Allocation: 1_000_000, UsageLimit: 2000, LimitRaisedAt: at(-2 * time.Minute)})},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
		},
		{
			name:   "allocation raised ends OUT",
			setup:  []raiseOp{set(Settings{Allocation: 1000}), spend(900, -3*time.Hour), refused(CodeCreditsExhausted, -5*time.Minute)},
			change: []raiseOp{set(Settings{Allocation: 1500, RaisedAt: at(-2 * time.Minute)})},
			before: raiseJudged{LevelExhausted, false, ConditionHolds, ConditionEnded},
			after:  raiseJudged{LevelWarn, false, ConditionEnded, ConditionEnded},
		},
		{
			name:   "a recharge ends OUT",
			setup:  []raiseOp{set(Settings{Allocation: 1000}), spend(1000, -3*time.Hour), refused(CodeCreditsExhausted, -5*time.Minute)},
			change: []raiseOp{ev(Event{Kind: KindRecharge, TS: at(-2 * time.Minute), Workspace: ws, Credits: 1000})},
			before: raiseJudged{LevelExhausted, false, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelWarn, false, ConditionEnded, ConditionEnded},
		},
		{
			name:   "the period rolled over",
			setup:  []raiseOp{set(Settings{Allocation: 1_000_000}), budget(ProjectBudget{Limit: 1000}), spend(950, -3*time.Hour), refused(CodeBudgetExceeded, -5*time.Minute)},
			change: []raiseOp{{rollover: true}},
			before: raiseJudged{LevelCritical, true, ConditionHolds, ConditionUnknown},
			after:  raiseJudged{LevelOK, false, noAlert, ConditionEnded},
		},
	}
	now := t0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := CodeBudgetExceeded
			for _, op := range c.setup {
				if op.ev != nil && op.ev.Code != "" {
					code = op.ev.Code
				}
			}
			live := NewLedger(MonthlyUTC, now.Add(-4*time.Hour))
			var (
				hist     []Event // usage and recharges, as the stream holds them
				settings = map[string]Settings{}
				budgets  = map[string]ProjectBudget{}
				period   = live.Period()
				judgeAt  = now
			)
			apply := func(ops []raiseOp) {
				for _, op := range ops {
					switch {
					case op.ev != nil:
						e := *op.ev
						e.ID = strconv.FormatInt(e.TS, 10) + "-0"
						live.Apply(&e)
						hist = append(hist, e)
					case op.settings != nil:
						if !op.unseen {
							live.SetSettings(ws, *op.settings, now.UnixMilli())
						}
						settings[ws] = *op.settings
					case op.budget != nil:
						if !op.unseen {
							live.SetBudget(ws, proj, *op.budget, now.UnixMilli())
						}
						budgets[ProjectKey(ws, proj)] = *op.budget
					case op.reread:
						snap := live.Totals()
						snap.Settings, snap.Budgets = settings, budgets
						live.Seed(snap, now)
					case op.rollover:
						judgeAt = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) // mid-day of the next period's first day
						period, hist = MonthlyUTC.At(judgeAt), nil
						live.Seed(&Snapshot{Period: period, Settings: settings, Budgets: budgets}, judgeAt)
					}
				}
			}
			judge := func(l *Ledger) raiseJudged {
				t.Helper()
				v, f, ok := l.VerdictForecast(ws, judgeAt)
				if !ok {
					t.Fatalf("%s unknown to the ledger", ws)
				}
				j := raiseJudged{level: v.Level, reached: f.Reached && (v.Project != "" || f.Remaining > 0), refusal: noAlert}
				for _, a := range EvaluateAlerts(l, judgeAt, FeedHealth{Connected: true}, AlertOptions{}, nil) {
					switch {
					case a.Workspace != ws:
					case a.Kind == AlertRefusals && a.Code == code && (j.refusal == noAlert || a.Condition == ConditionHolds):
						j.refusal = a.Condition
					case a.Kind == AlertRunOut:
						j.runOut = a.Condition
					}
				}
				return j
			}
			// fresh is a ledger started at judgeAt from what Redis holds:
			// the counters, the settings hash and the hour read back
			fresh := func() *Ledger {
				snap := live.Totals()
				snap.Settings, snap.Budgets, snap.HistoryLater = settings, budgets, true
				l := NewLedger(MonthlyUTC, judgeAt)
				l.Seed(snap, judgeAt)
				back := make([]Event, 0, len(hist))
				for i := len(hist) - 1; i >= 0; i-- {
					back = append(back, hist[i])
				}
				l.Backfill(back, judgeAt.Add(-4*time.Hour))
				l.EndHistory()
				return l
			}
			// check judges the counters and the settings hash, and the hour
			// read back for what they cannot decide (RefusalUndecided), as
			// cmd's judgeWorkspaces does
			check := func() Level {
				snap := live.Totals()
				snap.Settings, snap.Budgets = settings, budgets
				lv := Level(255)
				JudgeSnapshot(snap, nil, refusalStates(snap, hist, judgeAt), func(j *Judged) {
					if j.Name == ws {
						lv = j.Verdict.Level
					}
				})
				return lv
			}
			for _, step := range []struct {
				name string
				ops  []raiseOp
				want raiseJudged
			}{{"before", c.setup, c.before}, {"after", c.change, c.after}} {
				apply(step.ops)
				if got := judge(live); got != step.want {
					t.Errorf("%s, live: %+v, want %+v", step.name, got, step.want)
				}
				if got := judge(fresh()); got != step.want {
					t.Errorf("%s, started afterwards: %+v, want %+v", step.name, got, step.want)
				}
				if got := check(); got != step.want.level {
					t.Errorf("%s, check: %v, want %v", step.name, got, step.want.level)
				}
			}
		})
	}
}

// refusalStates is what check takes from the history (hist, oldest first)
// for the workspaces snap's counters cannot decide (RefusalUndecided): a
// ledger seeded with their part of snap, given the history newest first.
func refusalStates(snap *Snapshot, hist []Event, now time.Time) map[string]RefusalState {
	undecided := RefusalUndecided(snap)
	if len(undecided) == 0 {
		return nil
	}
	l := NewLedger(MonthlyUTC, now)
	l.Seed(snap.Only(undecided), now)
	back := make([]Event, 0, len(hist))
	for i := len(hist) - 1; i >= 0; i-- {
		back = append(back, hist[i])
	}
	l.Backfill(back, now.Add(-4*time.Hour))
	out := map[string]RefusalState{}
	for ws := range undecided {
		if r, ok := l.RefusalState(ws); ok {
			out[ws] = r
		}
	}
	return out
}
