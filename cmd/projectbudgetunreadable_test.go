package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/model"
)

// projectFigures is a project's figures in check --json and budget show
// --json, as written (null kept apart from 0).
type projectFigures struct {
	Workspaces []struct {
		Workspace string `json:"workspace"`
		Projects  []struct {
			Project    string          `json:"project"`
			Used       json.RawMessage `json:"used"`
			Percent    json.RawMessage `json:"percent"`
			Budget     json.RawMessage `json:"budget"`
			Level      string          `json:"level"`
			Unreadable string          `json:"unreadable"`
		} `json:"projects"`
	} `json:"workspaces"`
}

// project returns the figures of ws/project in out, or fails t.
func (p projectFigures) project(t *testing.T, out, ws, project string) (used, percent, budget, level, unreadable string) {
	t.Helper()
	for _, w := range p.Workspaces {
		for _, pr := range w.Projects {
			if w.Workspace == ws && pr.Project == project {
				return string(pr.Used), string(pr.Percent), string(pr.Budget), pr.Level, pr.Unreadable
			}
		}
	}
	t.Fatalf("no project %s/%s in:\n%s", ws, project, out)
	return
}

// TestAProjectWhoseBudgetCannotBeReadKeepsItsCreditsUsed: a project's stored
// budget that cannot be read makes its level and percent unknown, never its
// credits used, which used_by holds. check read used_by only for projects
// with a usage limit, so its row said 0 (--json "used":0, "percent":0) and
// its perfdata U where budget show and the dashboard said 95. With the
// project's used_by unreadable too, its used is unknown, and the field is
// named as its workspace's, not as one "naming no workspace".
func TestAProjectWhoseBudgetCannotBeReadKeepsItsCreditsUsed(t *testing.T) {
	for _, stored := range []string{`{"usage_limit":1000,"Usage_Limit":100}`, `{"usage_limit":"100"}`} {
		for _, usedByBroken := range []bool{false, true} {
			name := stored
			if usedByBroken {
				name += "+used_by"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				f.allocate(t, 1000, "c1")
				f.track(t, model.Event{Workspace: "c1", Project: "p", Endpoint: "/a", Credits: 95, Status: 200})
				k := feed.Keys{}
				f.hset(t, k.Settings(), "c1/p", stored)
				used, perf := "95", "'c1/p_used'=95;;;0; "
				if usedByBroken {
					f.hset(t, k.UsedBy(f.period), "c1/p/b", "notanumber")
					used, perf = "null", "'c1/p_used'=U;;;0; "
				}
				r := "--redis=" + f.srv.URL

				out, _, code := runMavtop(t, "check", r)
				line, table, _ := strings.Cut(out, "\n")
				if code != checkUnknown || !strings.Contains(line+" ", perf) {
					t.Errorf("check: exit %d, want %d, perfdata %q:\n%s", code, checkUnknown, perf, out)
				}
				if strings.Contains(line, "naming no workspace") {
					t.Errorf("check: a used_by field of c1 named as no workspace's:\n%s", out)
				}
				row := strings.Fields(rowOf(table, "c1/p"))
				wantUsed := used
				if usedByBroken {
					wantUsed = "-"
				}
				if len(row) < 5 || row[1] != wantUsed || !strings.Contains(rowOf(table, "c1/p"), "unknown") {
					t.Errorf("check: row of c1/p %q, want used %s, unknown:\n%s", row, wantUsed, out)
				}

				for _, args := range [][]string{{"check", r, "--json"}, {"budget", "show", r, "--json"}} {
					out, _, _ := runMavtop(t, args...)
					var js projectFigures
					if err := json.Unmarshal([]byte(out), &js); err != nil {
						t.Fatalf("%s: %v:\n%s", args[0], err, out)
					}
					u, pct, budget, level, why := js.project(t, out, "c1", "p")
					if u != used || pct != "null" || budget != "null" || level != "unknown" {
						t.Errorf("%s --json: c1/p used %s percent %s budget %s level %s, want used %s, percent, budget null, unknown:\n%s",
							args[0], u, pct, budget, level, used, out)
					}
					if usedByBroken != strings.Contains(why, "used_by:c1/p/b") {
						t.Errorf("%s --json: c1/p unreadable %q (used_by broken: %v)", args[0], why, usedByBroken)
					}
				}
			})
		}
	}
}

// TestAJudgedProjectsUnreadableCreditsAreItsWorkspaces: a used_by field of a
// project with a usage limit that holds no integer is named once, as its
// workspace's counter; check's status line also listed it as "1 field naming
// no workspace, not judged" (its workspace was looked for in used and
// recharged fields' terms only).
func TestAJudgedProjectsUnreadableCreditsAreItsWorkspaces(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "c1")
	if err := f.store.SetProject(f.ctx, "c1", "p", model.ProjectBudget{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	f.track(t, model.Event{Workspace: "c1", Project: "p", Endpoint: "/a", Credits: 95, Status: 200})
	f.hset(t, feed.Keys{}.UsedBy(f.period), "c1/p/b", "notanumber")
	out, _, code := runMavtop(t, "check", "--redis="+f.srv.URL)
	line, _, _ := strings.Cut(out, "\n")
	if code != checkUnknown || strings.Count(line, `counter "used_by:c1/p/b" cannot be read`) != 1 || strings.Contains(line, "naming no workspace") {
		t.Errorf("check: exit %d, want %d, the field named once as c1's:\n%s", code, checkUnknown, out)
	}
}
