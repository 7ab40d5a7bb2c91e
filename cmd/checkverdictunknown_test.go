package cmd

import (
	"strings"
	"testing"

	"mavtop/model"
)

// TestAProjectAtItsLimitIsCriticalBesideUnreadableSettings: a workspace whose
// own settings cannot be read (its level unknown) with a project past its
// usage limit is refused by the API whatever its allocation: the model's
// verdict is critical (the dashboard's row "▲ crit … limit reached",
// mavtop_workspaces_by_level{level="critical"}), and check says the same —
// CRITICAL, exit 2, its row's verdict and CHECK critical — with the unreadable
// settings still named. check said UNKNOWN (exit 3), verdict "unknown".
func TestAProjectAtItsLimitIsCriticalBesideUnreadableSettings(t *testing.T) {
	f := newFixture(t)
	if err := f.store.SetProject(f.ctx, "w1", "p", model.ProjectBudget{Limit: 50}); err != nil {
		t.Fatal(err)
	}
	f.track(t,
		model.Event{Workspace: "w1", Project: "p", Endpoint: "/x", Credits: 80, Status: 200},
		model.Event{Workspace: "w1", Endpoint: "/x", Credits: 10, Status: 200})
	f.hset(t, "{mavera}:settings", "w1", `{"allocation":"lots"}`)
	v := readSurfaces(t, f.srv, nil, []string{"w1"})
	if !strings.Contains(v.metrics, "\nmavtop_workspaces_by_level{level=\"critical\"} 1\n") {
		t.Fatalf("control: /metrics does not count w1 critical\n%s", v.metrics)
	}
	if v.checkCode != checkCritical {
		t.Errorf("check: exit %d, want 2 (the dashboard and /metrics say critical)\n%s", v.checkCode, v.checkText)
	}
	if len(v.check.Workspaces) != 1 {
		t.Fatalf("check --json rows %+v", v.check.Workspaces)
	}
	row := v.check.Workspaces[0]
	if row.Verdict != "critical" || row.VerdictProject != "p" || row.Check != "critical" || row.Level != "unknown" || row.Unreadable == "" {
		t.Errorf("check --json w1: level %q verdict %q (%q) check %q unreadable %q; want unknown, critical (p), critical, named",
			row.Level, row.Verdict, row.VerdictProject, row.Check, row.Unreadable)
	}
}
