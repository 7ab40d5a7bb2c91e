package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/tui"
)

// TestARefusalIsOneJudgementOnEverySurface: the API is the authority on what
// it refused. A budget_exceeded 402 that stands (newer than the refused
// project's last success, its limit not raised since, this period) holds
// the usage limit that refused it reached whatever the counters leave: the
// project's ("limit reached: training", the workspace critical, not OUT),
// or the workspace's own (a call without a project, or the workspace's limit
// the nearer: the workspace critical, "limit reached"). A credits_exhausted
// 402 is OUT at any remaining; a 402 of the previous period, or one followed
// by a success of its project, holds nothing. On a real redis-server, every
// surface shows the one judgement: the dashboard's row (level and words) and
// its detail, check (status, exit, row, --json), budget show (--json and its
// rows), /metrics' levels and the alerts of a dashboard that watched the 402
// arrive and of one started after it. Before, heldproj read "✓ ok" beside a
// firing refusals alert, check OK.
func TestARefusalIsOneJudgementOnEverySurface(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	// now mid-period, whatever the hour: the hour read back is in it, and
	// "the previous period" is an hour before its start
	cfg := model.MidPeriod(now)
	if err := f.store.SetPeriod(f.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	period := rule.At(now)
	setWS := func(ws string, s model.Settings) {
		t.Helper()
		if err := f.store.SetWorkspace(f.ctx, ws, s); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(ws, project string, credits int64, status int, code string) model.Event {
		return model.Event{Workspace: ws, Project: project, Endpoint: "/responses", Credits: credits, Status: status, Code: code}
	}
	type want struct {
		own, verdict model.Level
		project      string // the verdict's project
		reached      bool   // Verdict.LimitReached
		projLevel    model.Level
		check        int
		summary      string // in check's status line
		row          []string
		refusalCode  string // the refusals alert that holds
	}
	cases := map[string]want{
		// the brief's case: 5,000 of training's 100,000-credit limit, refused
		"heldproj": {own: model.LevelOK, verdict: model.LevelCritical, project: "training", reached: true, projLevel: model.LevelExhausted,
			check: checkCritical, summary: "heldproj limit reached: training", row: []string{" crit ", "/training", "limit reached"}, refusalCode: model.CodeBudgetExceeded},
		// the workspace's own usage limit (8,000 of 10,000 allocated), refused at 1,000
		"heldws": {own: model.LevelCritical, verdict: model.LevelCritical, reached: true,
			check: checkCritical, summary: "heldws limit reached: refused with 402 budget_exceeded at 12 % of its usage limit", row: []string{" crit ", "limit reached"}, refusalCode: model.CodeBudgetExceeded},
		// a workspace-level call refused by a limit mavtop was not told of
		"heldnolim": {own: model.LevelCritical, verdict: model.LevelCritical, reached: true,
			check: checkCritical, summary: "heldnolim limit reached: refused with 402 budget_exceeded at 10 % used", row: []string{" crit ", "limit reached"}, refusalCode: model.CodeBudgetExceeded},
		// a project mavtop never heard of, refused
		"heldghost": {own: model.LevelOK, verdict: model.LevelCritical, project: "ghost", reached: true, projLevel: model.LevelExhausted,
			check: checkCritical, summary: "heldghost limit reached: ghost", row: []string{" crit ", "/ghost", "limit reached"}, refusalCode: model.CodeBudgetExceeded},
		// credits_exhausted with 9,000 of 10,000 left: OUT
		"starved": {own: model.LevelExhausted, verdict: model.LevelExhausted,
			check: checkCritical, summary: "starved refused with 402 credits_exhausted at 10 % used", row: []string{" OUT ", "out now"}, refusalCode: model.CodeCreditsExhausted},
		// refused, then a success of the project: it stands no more
		"unheld": {own: model.LevelOK, verdict: model.LevelOK, project: "", check: checkOK, row: []string{" ok "}},
		// refused in the previous period: ended by the rollover
		"lastperiod": {own: model.LevelOK, verdict: model.LevelOK, check: checkOK, row: []string{" ok "}},
	}
	for ws := range cases {
		switch ws {
		case "heldproj":
			setWS(ws, model.Settings{Allocation: 3_000_000})
			if err := f.store.SetProject(f.ctx, ws, "training", model.ProjectBudget{Limit: 100_000}); err != nil {
				t.Fatal(err)
			}
		case "heldws":
			setWS(ws, model.Settings{Allocation: 10_000, UsageLimit: 8_000})
		default:
			setWS(ws, model.Settings{Allocation: 10_000})
		}
	}

	// a dashboard watching as the 402s arrive
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	// (auditing often: a 402 from the stream is judged by the refusals
	// alerts once an audit has seen the counters hold it)
	live := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{AuditEvery: 100 * time.Millisecond}), nil, nil)
	waitUntil(t, 10*time.Second, "the live hub's ledger", func() bool {
		in := false
		live.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			in = l != nil && !l.HistoryPending() && !l.UsedByPending()
		})
		return in
	})
	prev := period.Start.Add(-time.Hour).UnixMilli()
	last := ev("lastperiod", "", 0, 402, model.CodeBudgetExceeded)
	last.TS = prev
	f.track(t,
		ev("heldproj", "training", 5_000, 200, ""), ev("heldproj", "training", 0, 402, model.CodeBudgetExceeded),
		ev("heldws", "", 1_000, 200, ""), ev("heldws", "", 0, 402, model.CodeBudgetExceeded),
		ev("heldnolim", "", 1_000, 200, ""), ev("heldnolim", "", 0, 402, model.CodeBudgetExceeded),
		ev("heldghost", "", 1_000, 200, ""), ev("heldghost", "ghost", 0, 402, model.CodeBudgetExceeded),
		ev("starved", "", 1_000, 200, ""), ev("starved", "", 0, 402, model.CodeCreditsExhausted),
		ev("unheld", "web", 0, 402, model.CodeBudgetExceeded), ev("unheld", "web", 1_000, 200, ""),
		last, ev("lastperiod", "", 1_000, 200, ""))

	var names []string
	for ws := range cases {
		names = append(names, ws)
	}
	v := readSurfaces(t, f.srv, nil, names)
	var liveAlerts []model.Alert
	liveVerdicts := map[string]model.Verdict{}
	waitUntil(t, 10*time.Second, "the live hub applied every event", func() bool {
		ok := false
		live.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			s, known := l.Summary("lastperiod")
			if !known || s.Used != 1_000 {
				return
			}
			ok = true
			for ws := range cases {
				liveVerdicts[ws], _ = l.Verdict(ws)
			}
			liveAlerts = model.EvaluateAlerts(l, time.Now(), model.FeedHealth{Connected: true}, model.AlertOptions{}, nil)
			for _, a := range liveAlerts {
				ok = ok && (a.Kind != model.AlertRefusals || a.Condition != model.ConditionUnknown) // audited
			}
		})
		return ok
	})
	wsLevels := seriesOf(t, v.metrics, "mavtop_workspace_level")
	projLevels := seriesOf(t, v.metrics, "mavtop_project_level")
	checkNames := map[int]string{checkOK: "ok", checkWarning: "warning", checkCritical: "critical"}
	for ws, w := range cases {
		v.jsonRows(t, ws, func(surface string, row surfaceRow) {
			// level is the verdict, the row's level on every surface
			if row.Level != w.verdict.String() || row.Verdict != w.verdict.String() || row.VerdictProject != w.project {
				t.Errorf("%s: %s level %q verdict %q (%q), want %q, %q (%q)", ws, surface, row.Level, row.Verdict, row.VerdictProject, w.verdict, w.verdict, w.project)
			}
			if surface == "check --json" && row.Check != checkNames[w.check] {
				t.Errorf("%s: check --json check %q, want %q", ws, row.Check, checkNames[w.check])
			}
			if w.project != "" {
				pl := ""
				for _, p := range row.Projects {
					if p.Project == w.project {
						pl = p.Level
					}
				}
				if pl != w.projLevel.String() {
					t.Errorf("%s/%s: %s project level %q, want %q", ws, w.project, surface, pl, w.projLevel)
				}
			}
		})
		if out, errOut, code := runMavtop(t, "check", "--redis="+f.srv.URL, ws); code != w.check || w.summary != "" && !strings.Contains(out, w.summary) {
			t.Errorf("check %s: exit %d, want %d and %q\n%s%s", ws, code, w.check, w.summary, out, errOut)
		}
		row := rowOf(v.screen, ws)
		for _, word := range w.row {
			if !strings.Contains(row, word) {
				t.Errorf("%s: dashboard row %q lacks %q", ws, row, word)
			}
		}
		if w.verdict != model.LevelExhausted && strings.Contains(row, "OUT") {
			t.Errorf("%s: dashboard row %q says OUT", ws, row)
		}
		if got := wsLevels[ws]; got != float64(w.verdict) {
			t.Errorf("%s: mavtop_workspace_level %v, want %d (%v, the verdict)", ws, got, w.verdict, w.verdict)
		}
		if w.project != "" {
			if got, ok := projLevels[ws+"/"+w.project]; !ok || got != float64(w.projLevel) {
				t.Errorf("%s/%s: mavtop_project_level %v (%v), want %d", ws, w.project, got, ok, w.projLevel)
			}
		}
		if lv := liveVerdicts[ws]; lv.Level != w.verdict || lv.Project != w.project || lv.LimitReached != w.reached {
			t.Errorf("%s: the live dashboard's verdict %v %q reached %v, want %v %q %v", ws, lv.Level, lv.Project, lv.LimitReached, w.verdict, w.project, w.reached)
		}
		// the refusals alert of the dashboard started after the 402 and of
		// the one that watched it: at the row's level, holding only while
		// the refusal stands; no run_out beside a limit reached
		for surface, alerts := range map[string][]model.Alert{"started after": v.alerts, "watching": liveAlerts} {
			holding := ""
			for _, a := range alerts {
				if a.Workspace != ws || a.Condition != model.ConditionHolds {
					continue
				}
				switch a.Kind {
				case model.AlertRefusals:
					holding = a.Code
					if a.Level != w.verdict {
						t.Errorf("%s: %s, the refusals alert %s at level %v, the row's verdict %v", ws, surface, a.ID, a.Level, w.verdict)
					}
				case model.AlertRunOut:
					t.Errorf("%s: %s, run_out holds beside the refusal: %+v", ws, surface, a)
				}
			}
			if holding != w.refusalCode {
				t.Errorf("%s: %s, the refusals alert holding %q, want %q", ws, surface, holding, w.refusalCode)
			}
		}
	}
	// the detail view of the dashboard that watched: the same judgement in words
	for ws, words := range map[string][]string{
		"heldproj":  {"verdict: limit reached: training", "402 budget_exceeded newer than its last success (95,000 left by the counters)"},
		"heldws":    {"limit reached: 402 budget_exceeded newer than its last success (7,000 left by the counters)"},
		"heldnolim": {"limit reached: 402 budget_exceeded newer than its last success (9,000 left by the counters)"},
		"heldghost": {"verdict: limit reached: ghost", "usage limit mavtop was not told of", "(sets the level): idle · burn 0/h · limit reached: 402 budget_exceeded newer than its last success"},
		"starved":   {"refused: credits_exhausted (OUT until credits are added)"},
	} {
		d := detailOf(t, live, ws)
		if _, after, ok := strings.Cut(d, "Workspace "+ws+" · esc back"); ok {
			d = after // the detail pane, not the gauges above it
		} else {
			t.Fatalf("%s: no detail pane:\n%s", ws, d)
		}
		for _, w := range words {
			if !strings.Contains(d, w) {
				t.Errorf("%s: the detail view lacks %q:\n%s", ws, w, d)
			}
		}
		if ws != "starved" && strings.Contains(d, "OUT") {
			t.Errorf("%s: the detail view says OUT:\n%s", ws, d)
		}
	}
	// budget show's text: a project held at a limit mavtop was not told of has its level
	if row := rowOf(v.budgetText, "/ghost"); !strings.Contains(row, "exhausted") {
		t.Errorf("budget show's /ghost row %q: want its level, exhausted", row)
	}
}

// detailOf is the dashboard's detail view of workspace ws at 200×50, on hub's
// ledger, its words joined into one line (it wraps them at the pane's edge).
func detailOf(t *testing.T, hub *feed.Hub, ws string) string {
	t.Helper()
	tm := teatest.NewTestModel(t, tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.DefaultRenderer()}),
		teatest.WithInitialTermSize(200, 50))
	var seen []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = append(seen, b...)
		return strings.Contains(ansi.Strip(string(seen)), ws)
	}, teatest.WithDuration(15*time.Second))
	tm.Send(tui.OpenDetailMsg{Workspace: ws})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = append(seen, b...)
		return strings.Contains(ansi.Strip(string(seen)), "Recent 402s")
	}, teatest.WithDuration(15*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	screen := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
	var words []string
	for _, line := range strings.Split(screen, "\n") {
		words = append(words, strings.Fields(strings.Trim(line, "│┃ "))...)
	}
	return strings.Join(words, " ")
}
