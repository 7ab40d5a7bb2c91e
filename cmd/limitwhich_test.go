package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestLimitRaiseAWorkspaceLimitRaisedStillReachedByTheProject (hostile24 A, real
// redis-server): acme's workspace usage limit 500 is used up (400 without a
// project, 100 by project pj, whose own limit is 1,000); the API refuses pj
// with 402 budget_exceeded — the workspace's limit (pj has 900 left of its
// own). The operator raises the workspace's limit to 10,000 with the
// settings store (`budget set`: limit_raised_at stamped after the 402).
// Every surface should say ok (500 of 10,000; pj 100 of 1,000). Judged with
// the limits after the raise, pj's own limit is "nearer" (900 < 9,500 left),
// so the workspace's stamp is not taken for pj's 402 (limitRaisedStamp,
// ownLimitRefuses): check said CRITICAL "limit reached: pj" until pj's next
// success, the watching dashboard too. Now the store stamps the limit the
// raise replaced (limit_raised_from) and which limit refused is judged with
// it: ok everywhere.
func TestLimitRaiseAWorkspaceLimitRaisedStillReachedByTheProject(t *testing.T) {
	const ws = "acme"
	f, hub, verdict := refusedUnderTwoLimits(t, 500, 1000, 400, 100)
	waitUntil(t, 10*time.Second, "the dashboard's ledger", func() bool {
		_, ok := verdict()
		return ok
	})
	time.Sleep(300 * time.Millisecond)
	before, _ := verdict()
	t.Logf("the watching dashboard before the raise: %v limit reached %v (project %q)", before.Level, before.LimitReached, before.Project)
	raised, err := f.store.UpdateWorkspace(f.ctx, ws, func(s *model.Settings) error { s.UsageLimit = 10_000; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if raised.LimitRaisedAt == 0 {
		t.Fatalf("the raise is not stamped: %+v", raised)
	}
	waitUntil(t, 10*time.Second, "the dashboard sees the raise", func() bool {
		var lim int64
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l != nil {
				if sm, ok := l.Summary(ws); ok {
					lim = sm.Settings.UsageLimit
				}
			}
		})
		return lim == 10_000
	})
	time.Sleep(300 * time.Millisecond)
	if v, _ := verdict(); v.LimitReached || v.Level != model.LevelOK {
		t.Errorf("the watching dashboard after the raise: %v limit reached %v (project %q); want ok", v.Level, v.LimitReached, v.Project)
	} else {
		t.Logf("the watching dashboard after the raise: %v", v.Level)
	}
	text, _, code := runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	btext, _, _ := runMavtop(t, "budget", "show", "--redis="+f.srv.URL)
	if code != checkOK || strings.Contains(text, "limit reached") {
		t.Errorf("check after the workspace's limit was raised to 10,000 (acme 500 used, pj 100 of its 1,000): exit %d\n%s\nbudget show:\n%s", code, text, btext)
	}
	if strings.Contains(btext, "limit reached") {
		t.Errorf("budget show after the raise:\n%s", btext)
	}
}

// TestLimitRaiseAReverseWorkspaceLimitRemovedEndsTheProjectsOwn402 (hostile24
// A', real redis-server): pj's own limit refuses it (700 of 1,000 used, a
// call of 400; the workspace has 3,000 left of 5,000: pj's limit is the
// nearer), then the operator removes the workspace's limit (`budget set`,
// limit_raised_at stamped). pj's limit was not raised: the API still
// refuses pj. Judged with the limits after the removal, pj's own limit no
// longer refused (not reached by the counters, no workspace limit to be
// nearer than) and the removal's stamp ended its 402 (check OK). Judged
// with the 5,000 the removal replaced (limit_raised_from), pj's own limit
// refused it: its 402 stands.
func TestLimitRaiseAReverseWorkspaceLimitRemovedEndsTheProjectsOwn402(t *testing.T) {
	const ws = "acme"
	f, hub, verdict := refusedUnderTwoLimits(t, 5000, 1000, 1300, 700)
	waitUntil(t, 10*time.Second, "the dashboard holds pj's 402", func() bool {
		v, ok := verdict()
		return ok && v.LimitReached
	})
	if _, err := f.store.UpdateWorkspace(f.ctx, ws, func(s *model.Settings) error { s.UsageLimit = 0; return nil }); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the dashboard sees the removal", func() bool {
		lim := int64(-1)
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l != nil {
				if sm, ok := l.Summary(ws); ok {
					lim = sm.Settings.UsageLimit
				}
			}
		})
		return lim == 0
	})
	time.Sleep(300 * time.Millisecond)
	if v, _ := verdict(); !v.LimitReached {
		t.Errorf("the watching dashboard after the workspace limit's removal: %v limit reached %v (project %q); want pj's limit reached", v.Level, v.LimitReached, v.Project)
	}
	text, _, code := runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	if code != checkCritical || !strings.Contains(text, "limit reached: pj") {
		t.Errorf("check after the removal (pj's own limit untouched, its 402 standing): exit %d\n%s", code, text)
	}
}

// TestLimitRaiseEARepairedSettingsLoseTheRaisesStamp (hostile24 E, real
// redis-server): acme refused at its usage limit 50 (402 budget_exceeded),
// the limit raised to 500 with `budget set` (stamped): check OK. Then the
// settings value is broken (an HSET of bad JSON) and repaired by the
// settings store (UpdateWorkspace overwrites a broken value from zero:
// limit_raised_at was lost, and 0 → 500 is no raise): the 402 the raise
// ended held the limit reached again, on every surface, until acme's next
// success. Now a repair of a broken value dates a change of the limit (the
// store stamps limit_raised_at): the 402 before it ends, check OK.
func TestLimitRaiseEARepairedSettingsLoseTheRaisesStamp(t *testing.T) {
	f := newFixture(t)
	const ws = "acme"
	if err := f.store.SetWorkspace(f.ctx, ws, model.Settings{Allocation: 1_000_000, UsageLimit: 50}); err != nil {
		t.Fatal(err)
	}
	f.track(t,
		model.Event{TS: time.Now().Add(-3 * time.Second).UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: 30, Status: 200},
		model.Event{TS: time.Now().Add(-2 * time.Second).UnixMilli(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded},
	)
	if _, err := f.store.UpdateWorkspace(f.ctx, ws, func(s *model.Settings) error { s.UsageLimit = 500; return nil }); err != nil {
		t.Fatal(err)
	}
	text, _, code := runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	if code != checkOK {
		t.Fatalf("fixture: after the raise, check exit %d\n%s", code, text)
	}
	f.hset(t, feed.Keys{}.Settings(), ws, `{"allocation":1000000,"usage_limit":`) // broken
	text, _, code = runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	t.Logf("settings broken: check exit %d\n%s", code, text)
	repaired, err := f.store.UpdateWorkspace(f.ctx, ws, func(s *model.Settings) error { s.Allocation, s.UsageLimit = 1_000_000, 500; return nil })
	if err != nil {
		t.Fatal(err)
	}
	text, _, code = runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	if code != checkOK || strings.Contains(text, "limit reached") {
		t.Errorf("the settings repaired as they were (limit 500, stored %+v): check exit %d\n%s", repaired, code, text)
	}
}

// refusedUnderTwoLimits stores acme's usage limit (limit) and its project pj's
// (projectLimit) with the settings store, writes credits spent without a
// project and by pj, then a 402 budget_exceeded of pj, and starts a dashboard
// watching (hub, following the stream) until the test ends; verdict is
// that dashboard's verdict of acme (ok false until its ledger has read back
// what a start reads back).
func refusedUnderTwoLimits(t *testing.T, limit, projectLimit, credits, projectCredits int64) (*fixture, *feed.Hub, func() (model.Verdict, bool)) {
	t.Helper()
	f := newFixture(t)
	const ws, pj = "acme", "pj"
	if err := f.store.SetWorkspace(f.ctx, ws, model.Settings{Allocation: 1_000_000, UsageLimit: limit}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetProject(f.ctx, ws, pj, model.ProjectBudget{Limit: projectLimit}); err != nil {
		t.Fatal(err)
	}
	f.track(t,
		model.Event{TS: time.Now().Add(-3 * time.Second).UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: credits, Status: 200},
		model.Event{TS: time.Now().Add(-2 * time.Second).UnixMilli(), Workspace: ws, Project: pj, Endpoint: "/responses", Credits: projectCredits, Status: 200},
		model.Event{TS: time.Now().Add(-time.Second).UnixMilli(), Workspace: ws, Project: pj, Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded},
	)
	ctx, cancel := context.WithCancel(f.ctx)
	t.Cleanup(cancel)
	hub := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{}), nil, nil)
	return f, hub, func() (v model.Verdict, ok bool) {
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l == nil || l.HistoryPending() || l.UsedByPending() {
				return
			}
			v, ok = l.Verdict(ws)
		})
		return v, ok
	}
}
