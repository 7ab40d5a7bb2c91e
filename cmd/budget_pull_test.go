package cmd

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"mavtop/client/sandbox"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

func TestBudgetPullCopiesAPIBudgets(t *testing.T) {
	const key = "mvra_live_pulltest000000000000000000000"
	sb := sandbox.New(sandbox.Config{Seed: 1})
	if err := sb.ConfigureWorkspace(key, sandbox.WorkspaceConfig{ID: "acme", UsageLimit: 4000, BudgetAlert: 3000}); err != nil {
		t.Fatal(err)
	}
	if err := sb.ConfigureWorkspace(key, sandbox.WorkspaceConfig{ID: "globex"}); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sb)
	defer api.Close()
	srv := feedtest.Start(t)
	ctx := context.Background()
	store := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{})
	if err := store.SetWorkspace(ctx, "acme", model.Settings{Allocation: 5000, Alerts: []int{60, 80, 95}}); err != nil {
		t.Fatal(err)
	}
	base := "--api-base=" + api.URL + sandbox.BasePath

	t.Setenv("MAVERA_API_KEY", "")
	if _, errOut, code := runMavtop(t, "budget", "pull", base, "--redis="+srv.URL); code != 2 || !strings.Contains(errOut, "MAVERA_API_KEY is not set") {
		t.Fatalf("without a key: exit %d %q", code, errOut)
	}
	t.Setenv("MAVERA_API_KEY", key)
	out, errOut, code := runMavtop(t, "budget", "pull", base, "--redis="+srv.URL, "--dry-run")
	if code != 0 || !strings.Contains(out, "would set acme") {
		t.Fatalf("dry run: exit %d %q %q", code, out, errOut)
	}
	if s, _, _ := store.Workspace(ctx, "acme"); s.UsageLimit != 0 {
		t.Fatalf("dry run wrote %+v", s)
	}
	out, errOut, code = runMavtop(t, "budget", "pull", base, "--redis="+srv.URL)
	if code != 0 || !strings.Contains(out, "set acme") || !strings.Contains(out, "budget alert 3000, usage limit 4000") {
		t.Fatalf("pull: exit %d %q %q", code, out, errOut)
	}
	s, ok, err := store.Workspace(ctx, "acme")
	if err != nil || !ok || s.UsageLimit != 4000 || s.BudgetAlert != 3000 || s.Allocation != 5000 || len(s.Alerts) != 3 {
		t.Fatalf("acme after pull: %+v %v %v (allocation and thresholds must stay)", s, ok, err)
	}
	if g, ok, _ := store.Workspace(ctx, "globex"); !ok || g.UsageLimit != 0 {
		t.Fatalf("globex after pull: %+v %v", g, ok)
	}
}
