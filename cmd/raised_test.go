package cmd

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestAllocationRaisedWhileDownEndsOut: refused with credits_exhausted at its
// allocation of 100, the workspace's allocation is raised to 1,000 while no
// mavtop runs. Started afterwards, check, budget show and the dashboard's hub
// read the settings hash as the truth — its raised_at orders the raise after
// the 402 — so the workspace is at 10 %, ok, not OUT. A 402 after the raise is
// OUT again on every surface.
func TestAllocationRaisedWhileDownEndsOut(t *testing.T) {
	f := newFixture(t)
	ctx, c, store, srv := f.ctx, f.c, f.store, f.srv
	track := func(e model.Event) { t.Helper(); f.track(t, e) }
	f.allocate(t, 100, "w")
	// a second apart, so the raise (stamped now) is later than the 402 to the millisecond
	track(model.Event{TS: time.Now().Add(-2 * time.Second).UnixMilli(), Workspace: "w", Endpoint: "/responses", Credits: 100, Status: 200})
	track(model.Event{TS: time.Now().Add(-time.Second).UnixMilli(), Workspace: "w", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	set, err := store.UpdateWorkspace(ctx, "w", func(s *model.Settings) error { s.Allocation = 1000; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if set.RaisedAt == 0 {
		t.Fatalf("the raise is not stamped: %+v", set)
	}
	// a later edit of another field keeps the stamp; setting it anew with
	// SetWorkspace (budget set) too
	if err := store.SetWorkspace(ctx, "w", model.Settings{Allocation: 1000, UsageLimit: 5000}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := store.Workspace(ctx, "w"); got.RaisedAt != set.RaisedAt {
		t.Fatalf("raised_at %d after an edit, want %d kept", got.RaisedAt, set.RaisedAt)
	}
	levels := func() (check string, code int, budget string, hub model.Level) {
		t.Helper()
		var js surfaceJSON
		out, _, code := runMavtop(t, "check", "--redis="+srv.URL, "--json", "w")
		decodeInto(t, out, &js)
		check = js.Workspaces[0].Level
		out, _, _ = runMavtop(t, "budget", "show", "--redis="+srv.URL, "--json", "w")
		decodeInto(t, out, &js)
		budget = js.Workspaces[0].Level
		hctx, cancel := context.WithCancel(ctx)
		defer cancel()
		h := feed.NewHub()
		v := h.JoinEvents() // before it runs: the start's history is seen
		defer v.Close()
		go func() { _ = h.Run(hctx, feed.NewSubscriber(c, feed.SubscriberOptions{})) }()
		for done := false; !done; {
			nctx, ncancel := context.WithTimeout(hctx, 10*time.Second)
			msgs, err := v.Next(nctx)
			ncancel()
			if err != nil {
				t.Fatalf("the hub read no history back: %v", err)
			}
			for _, m := range msgs {
				if hm, ok := m.(*feed.HistoryMsg); ok && hm.Done {
					done = true
				}
			}
		}
		h.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			s, _ := l.Summary("w")
			hub = s.Level
		})
		return check, code, budget, hub
	}
	if check, code, budget, hub := levels(); check != "ok" || code != checkOK || budget != "ok" || hub != model.LevelOK {
		t.Errorf("raised after the 402: check %s (exit %d), budget show %s, hub %v; want ok everywhere", check, code, budget, hub)
	}
	// refused again after the raise: the 402 is the newer, OUT again
	track(model.Event{Workspace: "w", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	if check, code, budget, hub := levels(); check != "exhausted" || code != checkCritical || budget != "exhausted" || hub != model.LevelExhausted {
		t.Errorf("refused after the raise: check %s (exit %d), budget show %s, hub %v; want exhausted everywhere", check, code, budget, hub)
	}
}

func decodeInto(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
}
