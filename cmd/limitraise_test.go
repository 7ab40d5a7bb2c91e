package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestARaisedProjectLimitIsBelievedAtOnce is the demo's hooli-ml with a real
// redis-server: project training refused with 402 budget_exceeded at 950 of
// its 1,000-credit limit, then its owner raises the limit to 1,100 (the
// settings store, as `budget set` does). The dashboard's ledger, following
// the stream, ends the refusal at the raise, not at training's next call: no
// "limit reached", the budget_exceeded alert ended, no run-out, high (86 % of
// the new limit, which still sets the verdict); check says WARNING and a dashboard started after the raise (the
// settings hash's stamp orders it after the 402 it reads back) says the same
// on its screen and its alerts. A 402 after the raise refuses again.
func TestARaisedProjectLimitIsBelievedAtOnce(t *testing.T) {
	f := newFixture(t)
	const ws, proj = "hooli-ml", "training"
	f.allocate(t, 3_000_000, ws)
	if err := f.store.SetProject(f.ctx, ws, proj, model.ProjectBudget{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	refuse := model.Event{Workspace: ws, Project: proj, Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded}
	// a second apart, so the raise (stamped now) is later than the 402 to the millisecond
	f.track(t, model.Event{TS: time.Now().Add(-2 * time.Second).UnixMilli(), Workspace: ws, Project: proj, Endpoint: "/responses", Credits: 950, Status: 200})
	refuse.TS = time.Now().Add(-time.Second).UnixMilli()
	f.track(t, refuse)

	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	hub := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{}), nil, nil)
	type judged struct {
		limit            int64
		reached, runOut  bool
		refusal          model.AlertCondition
		level            model.Level
		history, applied bool
	}
	judge := func() judged {
		var j judged
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l == nil || l.HistoryPending() || l.UsedByPending() {
				return
			}
			j.history = true
			now := time.Now()
			v, fc, ok := l.VerdictForecast(ws, now)
			if !ok {
				return
			}
			j.applied = true
			j.level, j.reached = v.Level, fc.Reached
			for _, p := range l.LimitedProjects(nil) {
				if p.Workspace == ws && p.Project == proj {
					j.limit = p.Status.Cap
				}
			}
			for _, a := range model.EvaluateAlerts(l, now, model.FeedHealth{Connected: true}, model.AlertOptions{}, nil) {
				switch {
				case a.Workspace != ws:
				case a.Kind == model.AlertRefusals && a.Code == model.CodeBudgetExceeded:
					j.refusal = a.Condition
				case a.Kind == model.AlertRunOut:
					j.runOut = a.Condition == model.ConditionHolds
				}
			}
		})
		return j
	}
	var j judged
	waitUntil(t, 10*time.Second, "the dashboard's ledger read back the 402", func() bool {
		j = judge()
		return j.applied && j.history
	})
	if !j.reached || j.refusal != model.ConditionHolds || j.level != model.LevelCritical || j.limit != 1000 {
		t.Fatalf("refused at 950 of 1,000: %+v; want the limit reached, the refusal alert holding, critical", j)
	}

	raised, err := f.store.UpdateProject(f.ctx, ws, proj, func(b *model.ProjectBudget) error { b.Limit = 1100; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if raised.RaisedAt <= refuse.TS {
		t.Fatalf("the raise is not stamped after the 402: %+v", raised)
	}
	waitUntil(t, 10*time.Second, "the dashboard's ledger sees the raise", func() bool {
		j = judge()
		return j.limit == 1100
	})
	if j.reached || j.runOut || j.refusal != model.ConditionEnded || j.level != model.LevelHigh {
		t.Errorf("live, raised to 1,100 before training's next call: %+v; want not reached, no run-out, the refusal ended, high", j)
	}

	var js surfaceJSON
	out, _, code := runMavtop(t, "check", "--redis="+f.srv.URL, "--json", ws)
	decodeInto(t, out, &js)
	if code != checkWarning || len(js.Workspaces) != 1 || js.Workspaces[0].Verdict != "high" || js.Workspaces[0].VerdictProject != proj {
		t.Errorf("check after the raise: exit %d, %s; want WARNING, high by training", code, out)
	}
	// a dashboard started after the raise reads the 402 back and the stamp
	v := readSurfaces(t, f.srv, nil, []string{ws})
	if row := rowOf(v.screen, ws); !strings.Contains(row, "high") || strings.Contains(row, "limit reached") || strings.Contains(row, "crit") {
		t.Errorf("started after the raise, the row %q: want high, no limit reached\n%s", row, v.screen)
	}
	for _, a := range v.alerts {
		if a.Workspace == ws && a.Condition == model.ConditionHolds && (a.Kind == model.AlertRefusals || a.Kind == model.AlertRunOut) {
			t.Errorf("started after the raise: %s holds", a.ID)
		}
	}
	if v.checkCode != checkWarning {
		t.Errorf("check after the raise: exit %d\n%s", v.checkCode, v.checkText)
	}

	// refused again after the raise: the 402 is the newer
	refuse.TS = 0
	f.track(t, refuse)
	waitUntil(t, 10*time.Second, "the dashboard's ledger sees the 402 after the raise", func() bool {
		j = judge()
		return j.refusal == model.ConditionHolds
	})
	if !j.reached {
		t.Errorf("refused after the raise: %+v; want the limit reached again", j)
	}
}
