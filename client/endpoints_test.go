package client_test

import (
	"context"
	"testing"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/model"
)

// TestEveryEndpoint calls each endpoint against the sandbox and checks the credits
// each result exposes, that exactly one event per creation was tracked with those
// credits, and that the sandbox's ledger agrees to the credit.
func TestEveryEndpoint(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	ctx := context.Background()
	c := e.c
	var want int64

	resp, err := c.CreateResponse(ctx, client.ResponseRequest{Input: "Summarise our Q3 survey in three bullets.", PersonaID: "clxp0000000000000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Credits() < 1 || resp.Credits() > 5 || resp.Text() == "" || resp.Object != "response" {
		t.Fatalf("response: %+v", resp)
	}
	want += resp.Credits()

	mave, err := c.MaveChat(ctx, client.MaveChatRequest{Message: "What do Gen Z shoppers think of refill packs?", WorkspaceID: "acme-prod"})
	if err != nil {
		t.Fatal(err)
	}
	if mave.Credits() < 10 || mave.Credits() > 15 || mave.ThreadID == "" {
		t.Fatalf("mave (simple question): %+v", mave)
	}
	want += mave.Credits()

	fg, err := c.CreateFocusGroup(ctx, sampleFocusGroup("acme-prod", 20, 4))
	if err != nil {
		t.Fatal(err)
	}
	if fg.Status != "pending" || fg.Credits() != 0 {
		t.Fatalf("new focus group: %+v", fg)
	}
	if n := c.PendingJobs(); n != 1 {
		t.Fatalf("pending jobs = %d, want 1", n)
	}
	fg, err = c.WaitFocusGroup(ctx, fg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fg.Status != "completed" || fg.Credits() < 50 || fg.Credits() > 75+2*4+10 {
		t.Fatalf("finished focus group: %+v", fg)
	}
	want += fg.Credits()
	// Polling a finished job again publishes nothing more.
	if _, err := c.GetFocusGroup(ctx, fg.ID); err != nil {
		t.Fatal(err)
	}

	v, err := c.CreateVideoAnalysis(ctx, sampleVideo("acme-prod", 45))
	if err != nil {
		t.Fatal(err)
	}
	v, err = c.WaitVideoAnalysis(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "completed" || v.Credits() < 150 || v.Credits() > 270 || v.Progress == nil || v.Progress.ProcessedChunks != v.Progress.TotalChunks {
		t.Fatalf("video: %+v", v)
	}
	want += v.Credits()

	p, err := c.CreatePersona(ctx, client.PersonaRequest{Name: "Budget-minded IT lead", Type: "B2B", PipelineType: "north_star"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Credits() != 300 || !p.IsCustom || p.Object != "custom_persona" {
		t.Fatalf("persona: %+v", p)
	}
	want += p.Credits()

	bv, err := c.CreateBrandVoice(ctx, client.BrandVoiceRequest{Label: "Acme", UsageContext: "Marketing emails and landing pages", WorkspaceID: "acme-prod"})
	if err != nil {
		t.Fatal(err)
	}
	bv, err = c.WaitBrandVoice(ctx, bv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bv.Credits() != 50 || bv.VoiceSummary == "" {
		t.Fatalf("brand voice: %+v", bv)
	}
	want += bv.Credits()

	// Free reads: personas (paginated), usage, workspaces.
	var personas []client.Persona
	cursor := ""
	for {
		page, err := c.ListPersonas(ctx, client.PersonaListParams{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		personas = append(personas, page.Data...)
		if !page.HasMore {
			break
		}
		cursor = page.NextCursor
	}
	if len(personas) != 7 { // six stock personas and the custom one
		t.Fatalf("listed %d personas, want 7", len(personas))
	}
	custom, err := c.ListPersonas(ctx, client.PersonaListParams{CustomOnly: true})
	if err != nil || len(custom.Data) != 1 || custom.Data[0].ID != p.ID {
		t.Fatalf("custom personas: %+v, %v", custom, err)
	}

	u, err := c.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Object != "usage" || u.Credits.Used != want || u.Credits.Included != 5000 || u.Credits.Remaining != 5000-want ||
		u.RateLimit.RequestsPerMinute != 240 || u.BillingPeriod.End.Before(u.BillingPeriod.Start) {
		t.Fatalf("usage: %+v (want used %d)", u, want)
	}

	wss, err := c.AllWorkspaces(ctx, "")
	// Every call was attributed to acme-prod (body workspace_id or the scope header).
	if err != nil || len(wss) != 1 || wss[0].ID != "acme-prod" || wss[0].Object != "workspace" {
		t.Fatalf("workspaces: %+v, %v", wss, err)
	}

	// Tracking: one event per creation, credits equal to the results'.
	evs := e.events()
	if len(evs) != 6 {
		t.Fatalf("tracked %d events, want 6: %+v", len(evs), evs)
	}
	var tracked int64
	wantOps := map[string]string{"/responses": "chat", "/mave/chat": "", "/focus-groups": "focus-group",
		"/video-analyses": "video", "/personas": "persona", "/brand-voices": "brand-voice"}
	for _, ev := range evs {
		tracked += ev.Credits
		if ev.Workspace != "acme-prod" || ev.Req == "" || (ev.Status != 200 && ev.Status != 201) || ev.Code != "" {
			t.Errorf("event %+v", ev)
		}
		if op, ok := wantOps[ev.Endpoint]; !ok || op != ev.Op {
			t.Errorf("event %s has op %q, want %q", ev.Endpoint, ev.Op, op)
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("event %+v invalid: %v", ev, err)
		}
	}
	if tracked != want {
		t.Fatalf("tracked %d credits, results say %d", tracked, want)
	}
	l := e.ledger()
	if l.Used != want || l.Workspaces["acme-prod"].Used != want {
		t.Fatalf("ledger used %d (acme-prod %d), tracked %d", l.Used, l.Workspaces["acme-prod"].Used, want)
	}
	if c.PendingJobs() != 0 {
		t.Fatalf("%d jobs still pending", c.PendingJobs())
	}
}

// TestWorkspaceBudgets reads budgets from GET /workspaces across pages.
func TestWorkspaceBudgets(t *testing.T) {
	e := newEnv(t, sandbox.Config{})
	for i := 0; i < 120; i++ {
		cfg := sandbox.WorkspaceConfig{ID: "ws-" + itoa(i)}
		if i%2 == 0 {
			cfg.UsageLimit, cfg.BudgetAlert = int64(1000+i), int64(500+i)
		}
		if err := e.sb.ConfigureWorkspace(testKey, cfg); err != nil {
			t.Fatal(err)
		}
	}
	budgets, err := e.c.WorkspaceBudgets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(budgets) != 120 {
		t.Fatalf("got %d budgets, want 120 (two pages)", len(budgets))
	}
	if b := budgets[10]; b.ID != "ws-10" || b.UsageLimit != 1010 || b.BudgetAlert != 510 {
		t.Fatalf("budget 10: %+v", b)
	}
	if b := budgets[11]; b.UsageLimit != 0 || b.BudgetAlert != 0 {
		t.Fatalf("budget 11 should have no limits: %+v", b)
	}
	s := budgets[10].Apply(model.Settings{Allocation: 5000})
	if s.Allocation != 5000 || s.UsageLimit != 1010 || s.BudgetAlert != 510 || s.Validate() != nil {
		t.Fatalf("applied settings: %+v", s)
	}
	if got := e.count("GET /workspaces"); got != 2 {
		t.Fatalf("GET /workspaces called %d times, want 2 pages", got)
	}
}
