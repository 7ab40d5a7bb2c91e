package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestAProjectWhoseCreditsCannotBeReadIsListedWithOrWithoutABudget (hostile
// review #3): a used_by field that holds no integer ≥ 0 of a project with no
// budget made the project vanish from every list of projects — budget show
// (text, --json, one workspace or all) listed only its sibling, stderr said
// nothing, and the dashboard's detail said "Projects (1)" with endpoint
// credits that added up to 2 of the workspace's 42. The README promises
// such a field is skipped and reported: the project is listed, its credits
// unknown (-, null) and named unreadable, on every surface that lists
// projects, as one with a usage limit already was; the workspace's used is
// its own counter's, and the audit does not re-read for ever.
func TestAProjectWhoseCreditsCannotBeReadIsListedWithOrWithoutABudget(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "k1")
	ev := func(project string, credits int64) model.Event {
		return model.Event{TS: time.Now().UnixMilli(), Workspace: "k1", Project: project, Endpoint: "/x", Credits: credits, Status: 200}
	}
	f.track(t, ev("p", 40), ev("q", 2), ev("lim", 5))
	if err := f.store.SetProject(f.ctx, "k1", "lim", model.ProjectBudget{Limit: 100}); err != nil {
		t.Fatal(err)
	}
	usedBy := feed.Keys{}.UsedBy(f.period)
	f.hset(t, usedBy, "k1/p//x", "junk")
	f.hset(t, usedBy, "k1/lim//x", "junk")
	field := `used_by:k1/p//x`

	r := "--redis=" + f.srv.URL
	for _, args := range [][]string{{"budget", "show", r}, {"budget", "show", r, "k1"}} {
		out, errOut, code := runMavtop(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s %s", args, code, out, errOut)
		}
		row := rowOf(out, "/p")
		if f := strings.Fields(row); len(f) < 2 || f[1] != "-" || !strings.Contains(row, "unreadable") {
			t.Errorf("%v: /p row %q, want it listed with its credits - and named unreadable:\n%s", args, row, out)
		}
		if row := rowOf(out, "/q"); !strings.Contains(row, " 2 ") {
			t.Errorf("%v: /q row %q, want 2", args, row)
		}
		if row := rowOf(out, "/lim"); !strings.Contains(row, " - ") || !strings.Contains(row, "unknown") {
			t.Errorf("%v: /lim row %q, want - and unknown", args, row)
		}
		if row := rowOf(out, "k1"); !strings.Contains(row, " 47 ") || !strings.Contains(row, " 4 % ") {
			t.Errorf("%v: k1 row %q, want 47 and 4 %% (its own counters)", args, row)
		}
		if !strings.Contains(errOut, field) || !strings.Contains(errOut, "k1/p's") {
			t.Errorf("%v: stderr %q does not name %s and k1/p", args, errOut, field)
		}

		js, errOut, code := runMavtop(t, append(args, "--json")...)
		if code != 0 {
			t.Fatalf("%v --json: exit %d: %s", args, code, errOut)
		}
		var got surfaceJSON
		if err := json.Unmarshal([]byte(js), &got); err != nil {
			t.Fatalf("%v --json: %q: %v", args, js, err)
		}
		projects := map[string]string{}
		for _, w := range got.Workspaces {
			if w.Workspace != "k1" {
				continue
			}
			if string(w.Used) != "47" {
				t.Errorf("%v --json: k1 used %s, want 47 (its own counter)", args, w.Used)
			}
			for _, p := range w.Projects {
				projects[p.Project] = string(p.Used) + " " + p.Unreadable
			}
		}
		if p, ok := projects["p"]; !ok || !strings.HasPrefix(p, "null ") || !strings.Contains(p, field) {
			t.Errorf("%v --json: project p %q (listed %v), want used null and the reason naming %s; projects %v", args, p, ok, field, projects)
		}
		if p := projects["q"]; p != "2 " {
			t.Errorf("%v --json: project q %q, want 2", args, p)
		}
		if !strings.Contains(errOut, field) {
			t.Errorf("%v --json: stderr %q does not name %s", args, errOut, field)
		}
	}

	// the dashboard: its start reads used_by after the first frame (the
	// ledger's MarkProjectsUnreadable), its audits re-read the counters
	// (Seed): the project stays listed, named, and the endpoints say they
	// are not all of it
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{AuditEvery: 100 * time.Millisecond}), nil, nil)
	waitUntil(t, 10*time.Second, "the hub's used_by read", func() bool {
		in := false
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) { in = l != nil && !l.UsedByPending() })
		return in
	})
	var snaps0 int64
	hub.Read(func(_ *model.Ledger, _ *feed.ConnMsg, s *feed.StatsMsg) {
		if s != nil {
			snaps0 = s.Snapshots
		}
	})
	time.Sleep(time.Second) // ten audits
	var projects []model.ProjectSummary
	var snaps, audits int64
	hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, s *feed.StatsMsg) {
		projects = l.Projects("k1")
		if s != nil {
			snaps, audits = s.Snapshots, s.Audits
		}
	})
	listed := map[string]string{}
	for _, p := range projects {
		listed[p.Name] = p.Budget.UsageUnreadable
	}
	if why, ok := listed["p"]; !ok || !strings.Contains(why, field) {
		t.Errorf("the ledger's projects of k1 %v: want p listed, its credits unreadable naming %s", listed, field)
	}
	if audits > 0 && snaps > snaps0+1 {
		t.Errorf("%d re-reads in %d audits: an unreadable field of an unlimited project must not read as drift", snaps-snaps0, audits)
	}
	d := detailOf(t, hub, "k1")
	if !strings.Contains(d, "Projects (3)") || !strings.Contains(d, "p unreadable") {
		t.Errorf("the detail view's projects, want 3 with p unreadable:\n%s", d)
	}
	if !strings.Contains(d, "incomplete: the credits of 2 projects cannot be read (lim, p)") {
		t.Errorf("the detail view's endpoints do not say they are incomplete:\n%s", d)
	}
}

// TestCheckOfAWorkspaceSaysNothingOfAnothersSettings (hostile review #7):
// `check k1` printed "settings field "b1/p" skipped" on stderr for other
// workspaces' broken budgets. check WS and budget show WS report only on
// what they report (issue 16); its own broken fields, the billing period's
// and a bare `check` still say every one.
func TestCheckOfAWorkspaceSaysNothingOfAnothersSettings(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "k1", "b1", "c1")
	f.track(t, model.Event{TS: time.Now().UnixMilli(), Workspace: "k1", Endpoint: "/x", Credits: 3, Status: 200})
	settings := feed.Keys{}.Settings()
	for _, field := range []string{"b1/p", "c1/p", "k1/own"} {
		f.hset(t, settings, field, `{"usage_limit":"abc"`)
	}
	r := "--redis=" + f.srv.URL
	for _, c := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"check", r, "k1"}, []string{`"k1/own"`}, []string{"b1/p", "c1/p"}},
		{[]string{"check", r, "--json", "k1"}, []string{`"k1/own"`}, []string{"b1/p", "c1/p"}},
		{[]string{"check", r, "b1"}, []string{`"b1/p"`}, []string{"c1/p", "k1/own"}},
		{[]string{"check", r}, []string{`"b1/p"`, `"c1/p"`, `"k1/own"`}, nil},
		{[]string{"budget", "show", r, "k1"}, []string{`"k1/own"`}, []string{"b1/p", "c1/p"}},
		{[]string{"budget", "show", r}, []string{`"b1/p"`, `"c1/p"`, `"k1/own"`}, nil},
	} {
		_, errOut, _ := runMavtop(t, c.args...)
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q does not name %s", c.args, errOut, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(errOut, n) {
				t.Errorf("%v: stderr %q names %s, another workspace's", c.args, errOut, n)
			}
		}
	}
	// the billing period's config is every workspace's: check WS names it
	f.hset(t, settings, feed.PeriodSettingsField, `{"start_day":"x"`)
	if _, errOut, _ := runMavtop(t, "check", r, "k1"); !strings.Contains(errOut, feed.PeriodSettingsField) || strings.Contains(errOut, "b1/p") {
		t.Errorf("check k1 with the period config unreadable: stderr %q, want %s named and b1/p not", errOut, feed.PeriodSettingsField)
	}
}
