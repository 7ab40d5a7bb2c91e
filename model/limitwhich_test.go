package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// The limit-reached verdict after a usage limit is raised, on every path
// (the watching ledger, a ledger that re-read with the rest unapplied, a
// start, check), judged on the same harness as TestOutIsOneVerdictOnEveryPath
// (outRedis); found by a hostile review (hostile24).

const h24ws, h24pj = "w", "pj"

type h24step func(r *outRedis, at int64)

type h24verdict struct {
	Level   Level
	Reached bool
	Project string
}

func (v h24verdict) String() string {
	return fmt.Sprintf("%v reached=%v project=%q", v.Level, v.Reached, v.Project)
}

// h24paths runs steps 10 s apart from t0 and returns each path's verdict of
// the workspace.
func h24paths(t *testing.T, steps []h24step) map[string]h24verdict {
	t.Helper()
	ats := make([]int64, len(steps))
	for i := range steps {
		ats[i] = ms(time.Duration(i+1) * 10 * time.Second)
	}
	return h24pathsAt(t, steps, ats, t0.Add(time.Duration(len(steps)+1)*10*time.Second))
}

// h24pathsAt runs step i at ats[i] (unix ms, ascending, after t0-3h) and
// judges at now.
func h24pathsAt(t *testing.T, steps []h24step, ats []int64, now time.Time) map[string]h24verdict {
	t.Helper()
	ws := h24ws
	r := newOutRedis()
	start := ms(-3 * time.Hour)
	r.write(settingsEntry(ws, Settings{Allocation: 100}, start), start)
	base := r.read()
	base.StreamID = r.entries[0].ID
	var upto []int
	for i, s := range steps {
		s(r, ats[i])
		upto = append(upto, len(r.entries))
	}
	final := r.read()
	out := map[string]h24verdict{}
	get := func(l *Ledger) h24verdict {
		v, _ := l.Verdict(ws)
		return h24verdict{v.Level, v.LimitReached, v.Project}
	}
	t00 := time.UnixMilli(start)
	live := NewLedger(MonthlyUTC, t00)
	live.Seed(base, t00)
	for i := 1; i < len(r.entries); i++ {
		e := r.entries[i]
		live.Apply(&e)
	}
	out["0 watching (before re-read)"] = get(live)
	heal := *final
	heal.UnappliedKnown = true
	live.Seed(&heal, now)
	out["1 watching"] = get(live)
	for k, n := range upto[:len(upto)-1] {
		l := NewLedger(MonthlyUTC, t00)
		l.Seed(base, t00)
		for i := 1; i < n; i++ {
			e := r.entries[i]
			l.Apply(&e)
		}
		reread := *final
		reread.Unapplied, reread.UnappliedKnown = slices.Clone(r.entries[n:]), true
		l.Seed(&reread, now)
		out[fmt.Sprintf("2 re-read after step %d", k+1)] = get(l)
	}
	fresh, j := startAndCheck(r, final, ws, now)
	out["3 start"] = get(fresh)
	if j != nil {
		out["4 check"] = h24verdict{j.Verdict.Level, j.Verdict.LimitReached, j.Verdict.Project}
	}
	return out
}

func h24report(paths map[string]h24verdict) string {
	var b strings.Builder
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-30s %v", k, paths[k])
	}
	return b.String()
}

// steps
func h24settings(s Settings) h24step {
	return func(r *outRedis, at int64) { r.write(settingsEntry(h24ws, s, at), at) }
}

// a workspace settings entry whose limit_raised_at is at+d (d<0: before the entry)
func h24limitStamped(s Settings, d time.Duration) h24step {
	return func(r *outRedis, at int64) {
		s.LimitRaisedAt = at + d.Milliseconds()
		r.write(settingsEntry(h24ws, s, at), at)
	}
}

func h24budget(b ProjectBudget, stampD time.Duration, stamped bool) h24step {
	return func(r *outRedis, at int64) {
		if stamped {
			b.RaisedAt = at + stampD.Milliseconds()
		}
		js, _ := json.Marshal(b)
		r.write(Event{TS: at, Workspace: h24ws, Project: h24pj, Kind: KindSettings, Msg: string(js)}, at)
	}
}

func h24charge(project string, credits int64) h24step {
	return func(r *outRedis, at int64) {
		r.write(Event{TS: at, Workspace: h24ws, Project: project, Endpoint: "/responses", Credits: credits, Status: 200}, at)
	}
}

func h24limit402(project string) h24step {
	return func(r *outRedis, at int64) {
		r.write(Event{TS: at, Workspace: h24ws, Project: project, Endpoint: "/responses", Status: 402, Code: CodeBudgetExceeded}, at)
	}
}

func h24limit402Raw(project string) h24step {
	return func(r *outRedis, at int64) {
		r.writeRaw(Event{Workspace: h24ws, Project: project, Endpoint: "/responses", Status: 402, Code: CodeBudgetExceeded}, at)
	}
}

func h24expect(t *testing.T, paths map[string]h24verdict, want h24verdict) {
	t.Helper()
	for _, k := range []string{"1 watching", "3 start", "4 check"} {
		if _, ok := paths[k]; !ok {
			t.Errorf("no verdict of the path %q: every path must judge", k)
		}
	}
	bad := false
	for k, v := range paths {
		if strings.HasPrefix(k, "0 ") {
			continue // before the re-read: informative only
		}
		if v.Level != want.Level || v.Reached != want.Reached {
			bad = true
		}
	}
	if bad {
		t.Errorf("want %v on every path; got:%s", want, h24report(paths))
	} else {
		t.Logf("all paths:%s", h24report(paths))
	}
}

// A: the workspace's usage limit refused the project (the workspace at its
// limit, the project far from its own), then the workspace's limit was
// raised with a stamp after the 402 (and the limit it replaced, as the
// settings store writes them). Judged with the limits after the raise, the
// project's own limit was "nearer" (1000-100 < 10000-500), the workspace's
// stamp was not taken and the 402 stood on every path: "limit reached" for
// a project at 100 of its 1,000. Judged with the limit the raise replaced
// (limit_raised_from), the workspace's refused it: ok.
func TestLimitRaiseAWorkspaceRaiseMakesTheProjectLimitNearer(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000, UsageLimit: 500}),
		h24budget(ProjectBudget{Limit: 1000}, 0, false),
		h24charge("", 400),
		h24charge(h24pj, 100),
		h24limit402(h24pj), // the workspace at 500 of 500: its limit refuses
		h24limitStamped(Settings{Allocation: 100000, UsageLimit: 10000, LimitRaisedFrom: 500}, 0),
	})
	h24expect(t, paths, h24verdict{Level: LevelOK})
}

// A guard: the same without the project limit ends the 402.
func TestLimitRaiseAGuardNoProjectLimit(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000, UsageLimit: 500}),
		h24charge("", 400),
		h24charge(h24pj, 100),
		h24limit402(h24pj),
		h24limitStamped(Settings{Allocation: 100000, UsageLimit: 10000}, 0),
	})
	h24expect(t, paths, h24verdict{Level: LevelOK})
}

// C (guard, passes): a success of 0 credits of the project after its
// limit's 402 ends it on every path (pj 30 of 50: warn).
func TestLimitRaiseCZeroCreditSuccess(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000}),
		h24budget(ProjectBudget{Limit: 50}, 0, false),
		h24charge(h24pj, 30),
		h24limit402(h24pj),
		h24charge(h24pj, 0),
	})
	h24expect(t, paths, h24verdict{Level: LevelWarn})
}

// D: both limits reached; the project's own raised (stamped) — the
// workspace's still refuses, but its limit is the workspace's to say.
func TestLimitRaiseDBothReachedProjectRaised(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000, UsageLimit: 100}),
		h24budget(ProjectBudget{Limit: 50}, 0, false),
		h24charge("", 50),
		h24charge(h24pj, 50),
		h24limit402(h24pj),
		h24budget(ProjectBudget{Limit: 5000}, 0, true),
	})
	t.Logf("%s", h24report(paths))
}

// B guard: the same raise stamped when written: the 402 after it stands.
func TestLimitRaiseBGuardStampOnTime(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000}),
		h24budget(ProjectBudget{Limit: 50}, 0, false),
		h24charge(h24pj, 30),
		h24limit402(h24pj),
		h24budget(ProjectBudget{Limit: 60}, 0, true),
		h24limit402(h24pj),
	})
	h24expect(t, paths, h24verdict{Level: LevelCritical, Reached: true})
}

// H: a raise stamped in the very millisecond of the 402 (a tie): the 402
// stands (at or after the raise), as OUT's tie.
func TestLimitRaiseHTie(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000}),
		h24budget(ProjectBudget{Limit: 50}, 0, false),
		h24charge(h24pj, 30),
		h24limit402(h24pj),
		h24budget(ProjectBudget{Limit: 500}, -10*time.Second, true), // stamp == the 402's
	})
	h24expect(t, paths, h24verdict{Level: LevelCritical, Reached: true})
}

// A': the reverse of A — pj's own limit refused it (300 left of 1,000, a
// call of more; the workspace had 3,000 left of its 5,000), then the
// operator removes the workspace's limit (stamped, with the limit it
// replaced). Judged after the removal, pj's own limit no longer "refused"
// (not reached by the counters, no workspace limit to be nearer than), and
// the removal's stamp ended pj's 402 while pj's limit, never raised, still
// refuses the call; judged with the workspace's 5,000 the removal replaced,
// pj's own limit refused it and its 402 stands.
func TestLimitRaiseAReverseWorkspaceLimitRemoved(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000, UsageLimit: 5000}),
		h24budget(ProjectBudget{Limit: 1000}, 0, false),
		h24charge("", 1300),
		h24charge(h24pj, 700),
		h24limit402(h24pj), // pj's own limit: 300 left < 3,000
		h24limitStamped(Settings{Allocation: 100000, LimitRaisedFrom: 5000}, 0),
	})
	h24expect(t, paths, h24verdict{Level: LevelCritical, Reached: true})
}
