package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/metrics"
	"mavtop/model"
	"mavtop/tui"
)

// surfaceView is what every surface shows of one Redis, each read once:
// check and budget show (text and --json), the dashboard at 200×50, /metrics
// and the alerts judged on the ledger the dashboard command's hub keeps.
type surfaceView struct {
	checkText, budgetText, screen, metrics string
	checkCode                              int
	check, budget                          surfaceJSON
	alerts                                 []model.Alert
}

// surfaceJSON is the part of check --json and budget show --json compared.
type surfaceJSON struct {
	Workspaces []surfaceRow `json:"workspaces"`
}

// surfaceRow is one workspace's row of check --json or budget show --json.
type surfaceRow struct {
	Workspace      string `json:"workspace"`
	Level          string `json:"level"`
	Verdict        string `json:"verdict"`
	VerdictProject string `json:"verdict_project"`
	Check          string `json:"check"`
	Unreadable     string `json:"unreadable"`
	// RefusedUnreadable names a 402 count that cannot be read (only that unknown)
	RefusedUnreadable string `json:"refused_unreadable"`
	// the figures, as written (null for an unreadable counter)
	Used      json.RawMessage `json:"used"`
	Percent   json.RawMessage `json:"percent"`
	Remaining json.RawMessage `json:"remaining"`
	Refused   json.RawMessage `json:"refused_402"`
	Alloc     json.RawMessage `json:"allocation"`
	// LastEventAt is the row's last event (null when none this period)
	LastEventAt json.RawMessage `json:"last_event_at"`
	Projects    []struct {
		Project    string          `json:"project"`
		Level      string          `json:"level"`
		Check      string          `json:"check"`
		Used       json.RawMessage `json:"used"`
		Unreadable string          `json:"unreadable"`
	} `json:"projects"`
}

// jsonRows calls each with workspace's row on check --json and on budget show
// --json (surface says which), and fails t where a surface has no row for it.
func (v surfaceView) jsonRows(t *testing.T, workspace string, each func(surface string, row surfaceRow)) {
	t.Helper()
	for _, s := range []struct {
		name string
		js   surfaceJSON
	}{{"check --json", v.check}, {"budget show --json", v.budget}} {
		found := false
		for _, row := range s.js.Workspaces {
			if row.Workspace == workspace {
				found = true
				each(s.name, row)
			}
		}
		if !found {
			t.Errorf("%s: not on %s", workspace, s.name)
		}
	}
}

// readSurfaces reads every surface of srv, with defaults as the default
// alert thresholds (nil: the built-in ones), once the dashboard shows every
// workspace of names.
func readSurfaces(t *testing.T, srv *feedtest.Server, defaults []int, names []string) surfaceView {
	t.Helper()
	var v surfaceView
	if defaults != nil {
		th := make([]string, len(defaults))
		for i, d := range defaults {
			th[i] = strconv.Itoa(d)
		}
		// from the environment, as mavtop.toml's alerts.thresholds would give them
		t.Setenv("MAVTOP_ALERTS_THRESHOLDS", strings.Join(th, ","))
	}
	r := "--redis=" + srv.URL
	v.checkText, _, v.checkCode = runMavtop(t, "check", r)
	v.budgetText, _, _ = runMavtop(t, "budget", "show", r)
	for _, j := range []struct {
		args []string
		into *surfaceJSON
	}{{[]string{"check", r, "--json"}, &v.check}, {[]string{"budget", "show", r, "--json"}, &v.budget}} {
		out, errOut, _ := runMavtop(t, j.args...)
		if err := json.Unmarshal([]byte(out), j.into); err != nil {
			t.Fatalf("%v: %q (%s): %v", j.args, out, errOut, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := startHub(ctx, feed.NewSubscriber(srv.Client(), feed.SubscriberOptions{}), defaults, nil)
	reg, err := metrics.NewRegistry(metrics.New(hub, metrics.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(metrics.Handler(reg))
	defer hs.Close()
	// the dashboard joins once the start's used_by read is in (it comes
	// after the first frame): its first ledger judges the projects' credits
	waitUntil(t, 10*time.Second, "the hub's used_by read", func() bool {
		in := false
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) { in = l != nil && !l.UsedByPending() })
		return in
	})
	// tall enough that every row of TestEverySurfaceJudgesAlike's 27
	// workspaces is on the screen
	tm := teatest.NewTestModel(t, tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.DefaultRenderer()}),
		teatest.WithInitialTermSize(200, 80))
	var seen []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = append(seen, b...)
		s := ansi.Strip(string(seen))
		for _, name := range names {
			if !strings.Contains(s, name) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(15*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	v.screen = ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
	waitUntil(t, 10*time.Second, "metrics show every workspace", func() bool {
		v.metrics, err = httpGet(hs.URL + "/metrics")
		return err == nil && len(seriesOf(t, v.metrics, "mavtop_workspace_level")) == len(names)
	})
	hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		v.alerts = model.EvaluateAlerts(l, time.Now(), model.FeedHealth{Connected: true}, model.AlertOptions{}, nil)
	})
	return v
}

// rowOf is the line of a table (check, budget show, the gauges) naming name
// in its first or second column: the gauges are above the 402 log, which
// names workspaces too.
func rowOf(table, name string) string {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == name || len(f) > 1 && f[1] == name) {
			return line
		}
	}
	return ""
}

// TestEverySurfaceJudgesAlike: under custom default thresholds (40/60/80), the
// dashboard, check (text, --json, exit status), budget show --json, /metrics
// and the alerts give each workspace and each project with a usage limit the
// same level — the one model.Assess gives — and check's status is the
// workspace's verdict (model.Ledger.Verdict): the worse of its own level and
// its projects'.
func TestEverySurfaceJudgesAlike(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	type proj struct {
		budget model.ProjectBudget
		used   int64
		want   model.Level
	}
	type ws struct {
		set     *model.Settings
		used    int64 // without a project
		want    model.Level
		project *proj  // p1, when set
		verdict string // the project that sets the verdict ("" the workspace)
	}
	cases := map[string]ws{
		"calm":    {set: &model.Settings{Allocation: 1000}, used: 390, want: model.LevelOK},                        // one below 40 %
		"mid":     {set: &model.Settings{Allocation: 1000}, used: 450, want: model.LevelWarn},                      // 45 %: warn under 40/60/80, ok under 50/75/90
		"hot":     {set: &model.Settings{Allocation: 1000}, used: 650, want: model.LevelHigh},                      // 65 %
		"limited": {set: &model.Settings{Allocation: 1000, UsageLimit: 500}, used: 460, want: model.LevelCritical}, // 92 % of the limit that binds
		"own":     {set: &model.Settings{Allocation: 1000, Alerts: []int{50, 75, 90}}, used: 450, want: model.LevelOK},
		"onlylim": {set: &model.Settings{UsageLimit: 500}, used: 495, want: model.LevelCritical},
		"out":     {set: &model.Settings{Allocation: 100}, used: 100, want: model.LevelExhausted},
		// over its cap: remaining is 0 on every surface, never negative
		"overcap": {set: &model.Settings{Allocation: 100}, used: 130, want: model.LevelExhausted},
		// fewer thresholds of its own: the last reached is always critical, the one before high
		"pair": {set: &model.Settings{Allocation: 1000, Alerts: []int{30, 60}}, used: 350, want: model.LevelHigh},
		"lone": {set: &model.Settings{Allocation: 1000, Alerts: []int{20}}, used: 250, want: model.LevelCritical},
		"hush": {set: &model.Settings{Allocation: 1000, Alerts: []int{20}}, used: 199, want: model.LevelOK},
		// 900 of 1,000 + 500 recharged is 60 %: high, not critical
		"topped": {set: &model.Settings{Allocation: 1000}, used: 900, want: model.LevelHigh},
		// refused with credits_exhausted at 50 % and no credit added since:
		// OUT on every surface, started after the 402
		"starved": {set: &model.Settings{Allocation: 1000}, used: 500, want: model.LevelExhausted},
		// a usage limit's 402 that stands holds the limit that refused it
		// reached (a call without a project: the workspace's own, one mavtop
		// was not told of) whatever the counters leave: 65 % is critical,
		// "limit reached", never OUT (model.Status.LimitHeld)
		"limref": {set: &model.Settings{Allocation: 1000}, used: 650, want: model.LevelCritical},
		// refused, then recharged 500: 500 of 1,500 is 33 %
		"rerefill": {set: &model.Settings{Allocation: 1000}, used: 500, want: model.LevelOK},
		// recharged 500, then refused with credits_exhausted: the 402 is newer
		// than the last credit added, so OUT at 33 %; the counters alone cannot
		// order them, check reads the history back as the dashboard does
		"reout": {set: &model.Settings{Allocation: 1000}, used: 500, want: model.LevelExhausted},

		// project usage limits: the workspace keeps its own level (its gauge),
		// the project has its own (Assess of its limit by the workspace's
		// thresholds), the verdict — check's status — is the worse
		// 95 of the project's 100-credit limit, 9.5 % of the allocation
		"projhot": {set: &model.Settings{Allocation: 1000}, want: model.LevelOK,
			project: &proj{model.ProjectBudget{Limit: 100}, 95, model.LevelCritical}, verdict: "p1"},
		// a project with a limit in a workspace with no settings at all
		"projonly": {want: model.LevelNone, project: &proj{model.ProjectBudget{Limit: 100}, 70, model.LevelHigh}, verdict: "p1"},
		// at its limit: the project's calls get 402 budget_exceeded
		"projout": {set: &model.Settings{Allocation: 10000}, used: 100, want: model.LevelOK,
			project: &proj{model.ProjectBudget{Limit: 100}, 100, model.LevelExhausted}, verdict: "p1"},
		// over it (the workspace under its allocation): one level on every
		// surface, the verdict's — before, ok (check's and budget show's
		// LEVEL, --json's level, workspace_level) beside the row's ▲ crit
		"projover": {set: &model.Settings{Allocation: 10000}, used: 100, want: model.LevelOK,
			project: &proj{model.ProjectBudget{Limit: 100}, 120, model.LevelExhausted}, verdict: "p1"},
		// the same with no settings of its own, and under its own usage limit
		"projoveronly": {want: model.LevelNone,
			project: &proj{model.ProjectBudget{Limit: 100}, 120, model.LevelExhausted}, verdict: "p1"},
		"projoverlim": {set: &model.Settings{UsageLimit: 10000}, used: 100, want: model.LevelOK,
			project: &proj{model.ProjectBudget{Limit: 100}, 101, model.LevelExhausted}, verdict: "p1"},
		// the workspace is the worse: it sets the verdict
		"projcalm": {set: &model.Settings{Allocation: 1000}, used: 300, want: model.LevelHigh,
			project: &proj{model.ProjectBudget{Limit: 10000}, 400, model.LevelOK}},
		// a tie goes to the workspace: 85 % of its allocation, 85 % of the limit
		"projtie": {set: &model.Settings{Allocation: 1000}, used: 765, want: model.LevelCritical,
			project: &proj{model.ProjectBudget{Limit: 100}, 85, model.LevelCritical}},
		// a budget alert alone refuses nothing: not judged
		"projalert": {set: &model.Settings{Allocation: 1000}, used: 100, want: model.LevelOK,
			project: &proj{model.ProjectBudget{Alert: 10}, 50, model.LevelNone}},
	}
	recharged := map[string]int64{"topped": 500}
	refusedWith := map[string]string{"starved": model.CodeCreditsExhausted, "limref": model.CodeBudgetExceeded, "rerefill": model.CodeCreditsExhausted, "reout": model.CodeCreditsExhausted}
	refill := map[string]int64{"rerefill": 500}
	refillFirst := map[string]int64{"reout": 500}
	defaults := []int{40, 60, 80}
	track := func(e model.Event) {
		t.Helper()
		if err := pub.Track(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for name, w := range cases {
		names = append(names, name)
		set := model.Settings{}
		if w.set != nil {
			set = *w.set
			if err := store.SetWorkspace(ctx, name, set); err != nil {
				t.Fatal(err)
			}
		}
		if w.used > 0 {
			track(model.Event{Workspace: name, Endpoint: "/responses", Credits: w.used, Status: 200})
		}
		if p := w.project; p != nil {
			if err := store.SetProject(ctx, name, "p1", p.budget); err != nil {
				t.Fatal(err)
			}
			track(model.Event{Workspace: name, Project: "p1", Endpoint: "/responses", Credits: p.used, Status: 200})
			b := p.budget.Settings()
			if got := model.Assess(&b, model.Usage{Used: p.used}, set.Thresholds(defaults)).Level; got != p.want {
				t.Fatalf("%s/p1: model.Assess says %v, the case says %v", name, got, p.want)
			}
		}
		if r := recharged[name]; r > 0 {
			if err := c.HSet(ctx, feed.Keys{}.Recharged(model.MonthlyUTC.At(time.Now()).Key), name, r).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if r := refillFirst[name]; r > 0 {
			track(model.Event{Workspace: name, Kind: model.KindRecharge, Credits: r})
		}
		if code := refusedWith[name]; code != "" {
			track(model.Event{Workspace: name, Endpoint: "/focus-groups", Status: 402, Code: code})
		}
		if r := refill[name]; r > 0 {
			track(model.Event{Workspace: name, Kind: model.KindRecharge, Credits: r})
		}
		used := w.used
		if w.project != nil {
			used += w.project.used
		}
		u := model.Usage{Used: used, Recharged: recharged[name] + refill[name] + refillFirst[name],
			Refusing: refusedWith[name] == model.CodeCreditsExhausted && refill[name] == 0, LimitRefusing: refusedWith[name] == model.CodeBudgetExceeded}
		if got := model.Assess(&set, u, defaults).Level; got != w.want {
			t.Fatalf("%s: model.Assess says %v, the case says %v", name, got, w.want)
		}
	}
	v := readSurfaces(t, srv, defaults, names)
	r := "--redis=" + srv.URL

	// check's exit status follows the verdicts: WARNING from the second
	// threshold (high), CRITICAL from the third or exhausted; --warn/--crit
	// given replace them with fixed percents of each budget's cap
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"mid"}, checkOK}, {[]string{"calm", "own"}, checkOK}, {[]string{"hot"}, checkWarning},
		{[]string{"limited"}, checkCritical}, {[]string{"onlylim"}, checkCritical}, {[]string{"out"}, checkCritical}, {[]string{"overcap"}, checkCritical},
		{[]string{"mid", "--warn", "45", "--crit", "95"}, checkWarning},
		{[]string{"limited", "--warn", "93", "--crit", "95"}, checkOK},
		{[]string{"pair"}, checkWarning}, {[]string{"lone"}, checkCritical}, {[]string{"hush"}, checkOK},
		{[]string{"topped"}, checkWarning}, {[]string{"topped", "--warn", "50"}, checkWarning},
		{[]string{"topped", "--crit", "60"}, checkCritical},
		{[]string{"starved"}, checkCritical}, {[]string{"starved", "--warn", "90", "--crit", "95"}, checkCritical},
		{[]string{"limref"}, checkCritical}, {[]string{"limref", "--warn", "90", "--crit", "95"}, checkCritical}, {[]string{"rerefill"}, checkOK}, {[]string{"reout"}, checkCritical},
		{[]string{"projhot"}, checkCritical}, {[]string{"projonly"}, checkWarning}, {[]string{"projout"}, checkCritical},
		{[]string{"projover"}, checkCritical}, {[]string{"projoveronly"}, checkCritical}, {[]string{"projoverlim"}, checkCritical},
		{[]string{"projcalm"}, checkWarning}, {[]string{"projtie"}, checkCritical}, {[]string{"projalert"}, checkOK},
		// fixed thresholds judge the project's percent of its limit too
		{[]string{"projhot", "--warn", "96", "--crit", "99"}, checkOK}, {[]string{"projhot", "--warn", "90", "--crit", "99"}, checkWarning},
		{[]string{"projout", "--warn", "96", "--crit", "99"}, checkCritical},
	} {
		if out, errOut, code := runMavtop(t, append([]string{"check", r}, c.args...)...); code != c.code {
			t.Errorf("check %v: exit %d, want %d\n%s%s", c.args, code, c.code, out, errOut)
		}
	}
	// the status line names the project that sets the verdict
	if out, _, _ := runMavtop(t, "check", r, "projhot"); !strings.HasPrefix(out, "MAVTOP CRITICAL - projhot/p1 95.0 % of its usage limit |") {
		t.Errorf("check projhot: %q", out)
	}

	words := map[model.Level]string{model.LevelNone: "unset", model.LevelOK: "ok", model.LevelWarn: "warn",
		model.LevelHigh: "high", model.LevelCritical: "crit", model.LevelExhausted: "OUT"}
	checkNames := map[model.Level]string{model.LevelNone: "ok", model.LevelOK: "ok", model.LevelWarn: "ok",
		model.LevelHigh: "warning", model.LevelCritical: "critical", model.LevelExhausted: "critical"}
	wsLevels := seriesOf(t, v.metrics, "mavtop_workspace_level")
	projLevels := seriesOf(t, v.metrics, "mavtop_project_level")
	for name, w := range cases {
		verdict := w.want
		if w.verdict != "" {
			verdict = w.project.want
			if verdict == model.LevelExhausted {
				// a project at its usage limit is not its workspace OUT: the
				// workspace has credits; its verdict is critical (Verdict.LimitReached)
				verdict = model.LevelCritical
			}
		}
		// the workspace's level is the verdict on every surface (its own
		// cap's judgement is its percent of its cap)
		v.jsonRows(t, name, func(surface string, row surfaceRow) {
			if row.Level != verdict.String() || row.Verdict != verdict.String() || row.VerdictProject != w.verdict {
				t.Errorf("%s: %s level %q verdict %q (%q), want %q, %q (%q)", name, surface, row.Level, row.Verdict, row.VerdictProject,
					verdict, verdict, w.verdict)
			}
			if surface == "check --json" && row.Check != checkNames[verdict] {
				t.Errorf("%s: check --json check %q, want %q", name, row.Check, checkNames[verdict])
			}
			var pl string
			for _, p := range row.Projects {
				if p.Project == "p1" {
					pl = p.Level
				}
			}
			switch {
			case w.project != nil && (w.project.budget.Limit > 0 || surface == "budget show --json") && pl != w.project.want.String():
				t.Errorf("%s/p1: %s level %q, want %q", name, surface, pl, w.project.want)
			case surface == "check --json" && (w.project == nil || w.project.budget.Limit == 0) && len(row.Projects) > 0:
				t.Errorf("%s: check --json lists projects without a usage limit: %+v", name, row.Projects)
			}
		})
		if got := wsLevels[name]; got != float64(verdict) {
			t.Errorf("%s: mavtop_workspace_level %v, want %d (%v, the verdict)", name, got, verdict, verdict)
		}
		if row := rowOf(v.checkText, name); !strings.Contains(row, " "+verdict.String()+" ") {
			t.Errorf("%s: check row %q lacks level %q (the verdict)", name, row, verdict)
		}
		if row := rowOf(v.budgetText, name); !strings.Contains(row, " "+verdict.String()+" ") {
			t.Errorf("%s: budget show row %q lacks level %q (the verdict)", name, row, verdict)
		}
		if w.project != nil && w.project.budget.Limit > 0 {
			if got, ok := projLevels[name+"/p1"]; !ok || got != float64(w.project.want) {
				t.Errorf("%s/p1: mavtop_project_level %v (%v), want %d", name, got, ok, w.project.want)
			}
			// the text of check and budget show print the project's level on its row
			if row := rowOf(v.checkText, name+"/p1"); !strings.Contains(row, " "+w.project.want.String()+" ") {
				t.Errorf("%s/p1: check row %q lacks %q", name, row, w.project.want)
			}
			if row := rowOf(v.budgetText, "/p1"); row == "" {
				t.Errorf("budget show has no /p1 row")
			}
		}
		// the gauge's level is the verdict, as check's: a workspace at 9.5 %
		// of its allocation whose project is at 95 % of its usage limit reads
		// crit, and its used cell names the project
		if row := rowOf(v.screen, name); w.verdict != "" && w.project.want == model.LevelExhausted && (strings.Contains(row, "OUT") || !strings.Contains(row, "limit reached")) {
			t.Errorf("%s: dashboard row %q, want a limit reached, not OUT", name, row)
		}
		if row := rowOf(v.screen, name); !strings.Contains(row, " "+words[verdict]+" ") {
			t.Errorf("%s: dashboard row %q lacks level %q (check's verdict)", name, row, words[verdict])
		} else if w.verdict != "" && !strings.Contains(row, " % /"+w.verdict+" ") {
			t.Errorf("%s: dashboard row %q does not name project %q", name, row, w.verdict)
		}
		// the threshold alerts that hold carry the level of their budget
		for _, a := range v.alerts {
			if a.Workspace != name || a.Kind != model.AlertThreshold || a.Condition != model.ConditionHolds {
				continue
			}
			want := w.want
			if a.Project != "" {
				want = w.project.want
			}
			if a.Level != want {
				t.Errorf("%s %s: alert level %v, want %v", name, a.ID, a.Level, want)
			}
		}
	}
	// remaining credits are one rule (model.Status.Remaining): the cap minus
	// the credits used, never below 0 — 130 of 100 and 100 of 100 are 0 on
	// check --json, budget show --json and mavtop_credits_remaining; a
	// project over its own limit leaves its workspace's remaining its own
	remaining := seriesOf(t, v.metrics, "mavtop_credits_remaining")
	for name, want := range map[string]string{"overcap": "0", "out": "0", "projover": "9780", "calm": "610"} {
		v.jsonRows(t, name, func(surface string, row surfaceRow) {
			if string(row.Remaining) != want {
				t.Errorf("%s: %s remaining %s, want %s", name, surface, row.Remaining, want)
			}
		})
		if got, ok := remaining[name]; !ok || strconv.FormatFloat(got, 'f', -1, 64) != want {
			t.Errorf("%s: mavtop_credits_remaining %v (%v), want %s", name, got, ok, want)
		}
	}
	// a project's thresholds alert before its 402s: 95 of 100 has all three
	for _, th := range []string{"40", "60", "80"} {
		id := model.AlertID(model.MonthlyUTC.At(time.Now()).Key, "projhot", "p1", model.AlertThreshold, th)
		holds := false
		for _, a := range v.alerts {
			holds = holds || a.ID == id && a.Condition == model.ConditionHolds
		}
		if !holds {
			t.Errorf("no alert %s holding", id)
		}
	}
}

// TestEverySurfacePrintsOnePercent: a workspace's percent reads the same on
// check, budget show and the dashboard (model.FormatPercent: floored, a decimal
// from 90 % on), so 18,708 of 18,900 is "98.9 %" above 18,522's "98.0 %", and
// 18,899 is not yet "100 %".
func TestEverySurfacePrintsOnePercent(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	cases := map[string]struct {
		used int64
		want string
	}{
		"close": {18708, "98.9 %"}, "flat": {18522, "98.0 %"}, "nearly": {18899, "99.9 %"},
		"half": {9449, "49 %"}, "ninety": {17009, "89 %"}, "full": {18900, "100 %"},
	}
	var names []string
	for name, w := range cases {
		names = append(names, name)
		if err := store.SetWorkspace(ctx, name, model.Settings{Allocation: 18900, Alerts: []int{99}}); err != nil {
			t.Fatal(err)
		}
		if err := pub.Track(ctx, model.Event{Workspace: name, Endpoint: "/responses", Credits: w.used, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	v := readSurfaces(t, srv, nil, names)
	for name, w := range cases {
		for surface, out := range map[string]string{"check": v.checkText, "budget show": v.budgetText, "dashboard": v.screen} {
			row := rowOf(out, name)
			if !strings.Contains(row, " "+w.want+" ") && !strings.HasSuffix(row, " "+w.want) {
				t.Errorf("%s: %s row %q lacks %q", name, surface, row, w.want)
			}
			if w.want != "100 %" && strings.Contains(row, "100 %") {
				t.Errorf("%s: %s row %q shows 100 %% before the allocation is used", name, surface, row)
			}
		}
	}
}

// seriesOf reads one metric's series from a scrape, keyed by their workspace
// label, or "workspace/project" when the series has a project label too.
func seriesOf(t *testing.T, scrape, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(scrape, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		j := strings.LastIndex(line, "}")
		labels := map[string]string{}
		for _, kv := range strings.Split(line[len(name)+1:j], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				labels[k], _ = strconv.Unquote(v)
			}
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[j+1:]), 64) // NaN too
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		key := labels["workspace"]
		if p, ok := labels["project"]; ok {
			key += "/" + p
		}
		out[key] = v
	}
	return out
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = io.Copy(&b, resp.Body)
	return b.String(), err
}
