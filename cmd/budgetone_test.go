package cmd

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// TestBudgetShowReadsOnlyItsWorkspace: budget show WS read every workspace's
// counters and settings (6 HGETALLs; 102 MB at 100k workspaces) to print one.
// It reads WS's fields only (HMGET, and HSCAN MATCH "WS/*" for its projects'
// fields): no HGETALL reaches Redis, and each workspace's row is the one
// budget show prints for it among all (a workspace whose name another's
// begins with, acme and acme-2, is not mixed with it). A workspace that is not
// there is told from a db holding nothing.
func TestBudgetShowReadsOnlyItsWorkspace(t *testing.T) {
	f := newFixture(t)
	r := "--redis=" + f.srv.URL
	f.allocate(t, 1000, "acme", "acme-2", "globex")
	if err := f.store.SetProject(f.ctx, "acme", "web", model.ProjectBudget{Limit: 300}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	ev := func(ws, project, endpoint string, credits int64) model.Event {
		return model.Event{TS: now, Workspace: ws, Project: project, Endpoint: endpoint, Credits: credits, Status: 200}
	}
	f.track(t, ev("acme", "web", "/responses", 120), ev("acme", "api", "/mave/chat", 40), ev("acme", "web", "/mave/chat", 90),
		ev("acme-2", "web", "/responses", 700), ev("globex", "", "/responses", 5),
		model.Event{TS: now, Workspace: "acme-2", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	rows := func(args ...string) map[string]string {
		t.Helper()
		out, errOut, code := runMavtop(t, append([]string{"budget", "show", r, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("budget show %v: exit %d, %s", args, code, errOut)
		}
		var doc struct {
			Workspaces []json.RawMessage `json:"workspaces"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, w := range doc.Workspaces {
			var row struct {
				Workspace string `json:"workspace"`
			}
			if err := json.Unmarshal(w, &row); err != nil {
				t.Fatal(err)
			}
			got[row.Workspace] = string(w)
		}
		return got
	}
	all := rows()
	if len(all) != 3 {
		t.Fatalf("budget show lists %d workspaces, want 3: %v", len(all), all)
	}
	for _, ws := range []string{"acme", "acme-2", "globex"} {
		if err := f.c.ConfigResetStat(f.ctx).Err(); err != nil {
			t.Fatal(err)
		}
		one := rows(ws)
		if len(one) != 1 || one[ws] != all[ws] {
			t.Errorf("budget show %s:\n%v\nwant its row among all:\n%s", ws, one, all[ws])
		}
		stats, err := f.c.Info(f.ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stats, "cmdstat_hgetall:") {
			t.Errorf("budget show %s read a whole hash (HGETALL):\n%s", ws, stats)
		}
		if !strings.Contains(stats, "cmdstat_hmget:") {
			t.Errorf("budget show %s read no field (HMGET): the test sees nothing:\n%s", ws, stats)
		}
	}
	if !strings.Contains(all["acme"], `"project":"web"`) || !strings.Contains(all["acme"], `"project":"api"`) {
		t.Errorf("acme's row lacks its projects: %s", all["acme"])
	}
	_, errOut, code := runMavtop(t, "budget", "show", "nosuch", r)
	if code != 1 || !strings.Contains(errOut, "workspace nosuch has no settings and no usage") {
		t.Errorf("budget show nosuch: exit %d, %q", code, errOut)
	}
	_, errOut, code = runMavtop(t, "budget", "show", "acme", r, "--key-prefix", "nosuch")
	if code != 1 || !strings.Contains(errOut, "no workspaces found") {
		t.Errorf("budget show acme under an empty prefix: exit %d, %q", code, errOut)
	}
}
