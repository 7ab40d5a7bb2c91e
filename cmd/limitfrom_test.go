package cmd

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestLimitFromStaleProjectRaisedFromKeepsA402TheWorkspaceRaiseEnded (real
// redis-server; failed at ac2bf4c): pj's own limit was raised 200 -> 1,000
// with `budget set` (the store stamps raised_at and raised_from 200, kept by
// every later edit). Later acme (limit 600) is used up: 350 without a
// project, 250 by pj; the API refuses pj with budget_exceeded — the
// workspace's limit (pj has 750 left of its own 1,000). The operator raises
// acme's limit to 700 (`budget set`, stamped). Every surface should say the
// limit is not reached (acme 600 of 700, pj 250 of 1,000). ac2bf4c judges
// which limit refused pj's 402 with pj's raised_from (200, the limit before
// a raise made long before the 402): 250 >= 200, "pj's own limit refused
// it", the workspace's stamp is not taken, the 402 stands and check says
// limit reached. Before ac2bf4c (pj's limit as it stands, 1,000) the raise
// ended it.
func TestLimitFromStaleProjectRaisedFromKeepsA402TheWorkspaceRaiseEnded(t *testing.T) {
	f := newFixture(t)
	const ws, pj = "acme", "pj"
	if err := f.store.SetWorkspace(f.ctx, ws, model.Settings{Allocation: 1_000_000, UsageLimit: 600}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetProject(f.ctx, ws, pj, model.ProjectBudget{Limit: 200}); err != nil {
		t.Fatal(err)
	}
	b, err := f.store.UpdateProject(f.ctx, ws, pj, func(b *model.ProjectBudget) error { b.Limit = 1000; return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pj's budget after its raise: %+v", b)
	time.Sleep(50 * time.Millisecond)
	now := time.Now()
	f.track(t,
		model.Event{TS: now.UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: 350, Status: 200},
		model.Event{TS: now.Add(time.Millisecond).UnixMilli(), Workspace: ws, Project: pj, Endpoint: "/responses", Credits: 250, Status: 200},
		model.Event{TS: now.Add(2 * time.Millisecond).UnixMilli(), Workspace: ws, Project: pj, Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded},
	)
	time.Sleep(50 * time.Millisecond)
	s, err := f.store.UpdateWorkspace(f.ctx, ws, func(s *model.Settings) error { s.UsageLimit = 700; return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("acme's settings after its raise: %+v", s)
	text, _, code := runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	btext, _, _ := runMavtop(t, "budget", "show", "--redis="+f.srv.URL)
	if strings.Contains(text, "limit reached") || strings.Contains(btext, "limit reached") {
		t.Errorf("after acme's limit was raised 600 -> 700 (acme 600 used, pj 250 of its 1,000): check exit %d\n%s\nbudget show:\n%s", code, text, btext)
	} else {
		t.Logf("check exit %d\n%s\nbudget show:\n%s", code, text, btext)
	}
}

// TestLimitFromRepairKeepsARaisedAtNoReaderAccepted (real redis-server; new
// with ac2bf4c): a producer wrote acme's settings with "RAISED_AT" (an hour
// ahead), a key every reader refuses (exactKeys: keys are matched exactly;
// check says the settings cannot be read). The operator repairs them with
// `budget set` (UpdateWorkspace from zero). The repair "keeps the
// allocation's raised_at if it can still be read" with a case-insensitive
// json.Unmarshal: the refused RAISED_AT becomes the stored raised_at, an hour
// ahead, and a credits_exhausted 402 given after the repair is dated before
// that "raise": acme OUT (990 of 1,000, refused) is not said OUT.
func TestLimitFromRepairKeepsARaisedAtNoReaderAccepted(t *testing.T) {
	ahead := time.Now().Add(time.Hour).UnixMilli()
	h25repair(t, fmt.Sprintf(`{"allocation":1000,"RAISED_AT":%d}`, ahead))
}

// the guard (passes): the same broken value without RAISED_AT: OUT.
func TestLimitFromRepairGuard(t *testing.T) {
	h25repair(t, `{"allocation":1000,"ALLOCATION":5}`)
}

func h25repair(t *testing.T, broken string) {
	f := newFixture(t)
	const ws = "acme"
	f.hset(t, feed.Keys{}.Settings(), ws, broken)
	text, _, code := runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	t.Logf("settings with RAISED_AT: check exit %d\n%s", code, text)
	repaired, err := f.store.UpdateWorkspace(f.ctx, ws, func(s *model.Settings) error { s.Allocation = 1000; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if repaired.RaisedAt != 0 {
		t.Errorf("the repair stored raised_at %d (%v ahead) from the refused key RAISED_AT", repaired.RaisedAt, time.Duration(repaired.RaisedAt-time.Now().UnixMilli())*time.Millisecond)
	}
	now := time.Now()
	f.track(t,
		model.Event{TS: now.UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: 990, Status: 200},
		model.Event{TS: now.Add(time.Millisecond).UnixMilli(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted},
	)
	text, _, code = runMavtop(t, "check", "--redis="+f.srv.URL, ws)
	if !strings.Contains(text, "refused with 402 credits_exhausted") {
		t.Errorf("acme refused credits_exhausted after the repair: check exit %d\n%s", code, text)
	} else {
		t.Logf("check exit %d\n%s", code, text)
	}
}
