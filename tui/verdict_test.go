package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/feed"
	"mavtop/model"
)

// TestGaugeShowsVerdict: a workspace at 9.5 % of its allocation whose project
// "research" is at 95 of its 100-credit usage limit is critical on the gauge's
// level (model.Ledger.Verdict, check's status), its used cell gives the
// project's percent of its limit (what set the level) and names it, its
// credits are the limit's ("95/100 lim", not the workspace's "95 / 1,000")
// and the detail view says which limit.
func TestGaugeShowsVerdict(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	l.SetSettings("acme", model.Settings{Allocation: 1000}, testNow.UnixMilli())
	l.SetBudget("acme", "research", model.ProjectBudget{Limit: 100}, testNow.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "acme", Project: "research", Endpoint: "/responses", Credits: 95, Status: 200})
	v, ok := l.Verdict("acme")
	if !ok || v.Level != model.LevelCritical || v.Project != "research" {
		t.Fatalf("Verdict = %+v, %v; the fixture wants critical by research", v, ok)
	}
	c := testCommon()
	row := gaugeLine(c, l, 160, "acme")
	look := c.st.Level(v.Level)
	for _, want := range []string{"acme ", look.Symbol + " " + look.Word, percent(v.Status.Percent) + " /res", "95 / 100 lim"} {
		if !strings.Contains(row, want) {
			t.Errorf("gauge row %q lacks %q", row, want)
		}
	}
	if strings.Contains(row, "1,000") {
		t.Errorf("gauge row %q gives the workspace's allocation beside the project's percent", row)
	}
	s := ansi.Strip(detailOf(c, l, "acme", 160, 20).View())
	if !strings.Contains(s, "verdict: project research at 95.0 % of its usage limit (95 of 100 credits)") {
		t.Errorf("detail lacks the verdict:\n%s", s)
	}
	// one level in the pane, the verdict's: the own cap's line gives its
	// figures without its own level (it read "✓ ok  9 % used" above the
	// verdict's "▲ crit")
	own := c.st.Level(model.LevelOK)
	if strings.Contains(s, own.Symbol+" "+own.Word) || !strings.Contains(s, "workspace: 9 % used · 95 of 1,000 credits (allocation) · 905 remaining") {
		t.Errorf("detail gives the own cap a level of its own beside the verdict, or lacks its figures:\n%s", s)
	}
}

// TestVerdictCueFitsEveryWidth is the demo's hooli-ml: 1,650,000 of its
// 3,000,000-credit allocation (55 %), its project training at 89,960 of a
// 90,000-credit usage limit. Its row is crit by the verdict, and at every size
// its used cell gives the percent that set the level (the model's own
// Verdict.Status, 99.9 %) and the project after "/", where the name cell has
// no room for "/training" (80×24 and 60×16) as where it has; a row judged by
// its own cap keeps its own percent.
func TestVerdictCueFitsEveryWidth(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}, {200, 50}} {
		w, h := sz[0], sz[1]
		m, hub := newApp(t, w, h, Options{})
		hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
			Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
				Settings: map[string]model.Settings{"hooli-ml": {Allocation: 3_000_000}, "acme-staging": {Allocation: 50_000}},
				Budgets:  map[string]model.ProjectBudget{model.ProjectKey("hooli-ml", "training"): {Limit: 90_000}}}})
		at := testNow.Add(-time.Minute).UnixMilli()
		hub.Handle(&feed.BatchMsg{Gen: 2, Events: []model.Event{
			{ID: "1-0", TS: at, Workspace: "hooli-ml", Project: "training", Endpoint: "/focus-groups", Credits: 89_960, Status: 200},
			{ID: "2-0", TS: at, Workspace: "hooli-ml", Project: "serving", Endpoint: "/responses", Credits: 1_560_040, Status: 200},
			{ID: "3-0", TS: at, Workspace: "acme-staging", Endpoint: "/responses", Credits: 37_485, Status: 200},
		}})
		m = pump(t, m)
		v, ok := m.feed.Ledger.Verdict("hooli-ml")
		if !ok || v.Project != "training" || v.Level != model.LevelCritical {
			t.Fatalf("Verdict = %+v, %v; the fixture wants critical by training", v, ok)
		}
		look := m.st.Level(v.Level)
		cue := percent(v.Status.Percent) + "/"
		if w >= 70 { // the used column's word form: "99.9 % /tra…"
			cue = percent(v.Status.Percent) + " /tr"
		}
		if w >= 200 { // room for the project whole, as the help says it reads
			cue = percent(v.Status.Percent) + " /training "
		}
		rows := map[string]string{}
		for _, line := range strings.Split(view(m), "\n") {
			for _, ws := range []string{"hooli-ml", "acme-staging"} {
				if strings.Contains(line, shortName(ws, nameWidth(w))+" ") && strings.Contains(line, "┃") {
					rows[ws] = line
				}
			}
		}
		row := rows["hooli-ml"]
		if !strings.Contains(row, look.Symbol+" "+look.Word) || !strings.Contains(row, cue) {
			t.Errorf("%dx%d: hooli-ml row %q lacks %q and %q", w, h, row, look.Symbol+" "+look.Word, cue)
		}
		if strings.Contains(row, "55 %") {
			t.Errorf("%dx%d: hooli-ml row %q shows its own 55 %% beside a level the project set", w, h, row)
		}
		if own := percent(37_485 * 100.0 / 50_000); !strings.Contains(rows["acme-staging"], own) || strings.Contains(rows["acme-staging"], own+" /") {
			t.Errorf("%dx%d: acme-staging row %q lacks its own %s", w, h, rows["acme-staging"], own)
		}
		if n := ansi.StringWidth(row); n > w {
			t.Errorf("%dx%d: row %q is %d cells", w, h, row, n)
		}
	}
}

// TestVerdictCueOneFormPerSize: a project's cue keeps one form per column
// width whatever its percent: at 100×30 the demo's hooli-ml read "99.9 %
// /tra…" and, a minute later at its limit, "100 % /tr…ng".
func TestVerdictCueOneFormPerSize(t *testing.T) {
	for _, w := range []int{7, 12, 20} {
		var got []string
		for _, pct := range []float64{99.9, 100, 42} {
			r := &gaugeRow{verdict: model.Verdict{Project: "training", Status: model.Status{Percent: pct}}}
			c := cellPercent(nil, r, w)
			if cellWidth(c) > w {
				t.Errorf("width %d: %q is wider", w, c)
			}
			_, project, _ := strings.Cut(c, "/")
			got = append(got, project)
		}
		if got[0] != got[1] || got[1] != got[2] {
			t.Errorf("width %d: the project reads %q at 99.9, 100 and 42 %%", w, got)
		}
	}
}

// TestVerdictRowIsOneBudget is the demo's hooli-ml: 55 % of its allocation,
// its project training near its 90,000-credit usage limit (crit). Every
// figure after the level is of training's limit: the used cell names it,
// the credits are the limit's ("lim") and the run-out is the limit's
// (model.Ledger.VerdictForecast), never the workspace's 1.65M/3.00M or its
// "lasts period" beside a level the limit set.
func TestVerdictRowIsOneBudget(t *testing.T) {
	start := testNow.Add(-2 * time.Hour)
	l := model.NewLedger(model.MonthlyUTC, start)
	l.SetSettings("hooli-ml", model.Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.Apply(&model.Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "serving", Endpoint: "/x", Credits: 1_560_600, Status: 200})
	l.Apply(&model.Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 86_000, Status: 200})
	for i := 1; i <= 60; i++ { // 6,000/h on serving, 1,200/h on training
		at := testNow.Add(time.Duration(i-60) * time.Minute).UnixMilli()
		l.Apply(&model.Event{TS: at, Workspace: "hooli-ml", Project: "serving", Endpoint: "/x", Credits: 100, Status: 200})
		l.Apply(&model.Event{TS: at, Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 20, Status: 200})
	}
	v, f, _ := l.VerdictForecast("hooli-ml", testNow)
	own := l.Forecast("hooli-ml", testNow)
	if v.Project != "training" || !f.RunsOut || own.RunsOut {
		t.Fatalf("fixture: verdict %+v, forecast %+v vs the workspace's %+v", v, f, own)
	}
	for _, w := range []int{78, 118, 198} {
		g := NewGauges(testCommon())
		g.SetSize(w, 10)
		g.Refresh(l)
		var row string
		for _, line := range strings.Split(ansi.Strip(g.View()), "\n") {
			if strings.Contains(line, "hooli-ml") {
				row = line
			}
		}
		lim := "87.2k/90.0k lim"
		if w >= wideCredits {
			lim = "87,200 / 90,000 lim"
		}
		for _, want := range []string{"out in " + humanize(f.RunsOutIn), lim, percent(v.Status.Percent) + " /tr"} {
			if !strings.Contains(row, want) {
				t.Errorf("width %d: row %q lacks %q", w, row, want)
			}
		}
		for _, not := range []string{"lasts period", "3.00M", "3,000,000", "55 %"} {
			if strings.Contains(row, not) {
				t.Errorf("width %d: row %q shows the workspace's %q beside the limit's level", w, row, not)
			}
		}
	}
}

// TestAProjectHeldAtItsLimit is the demo's hooli-ml once training's 40
// credits left cannot cover one of its charges (150 a minute for an hour,
// then 402 budget_exceeded): its row says "limit reached" with no pace, not
// "out in 16 s" at ">999×" for as long as the window holds the burn; its
// detail view gives the limit's forecast first and the workspace's own after
// it, each saying whose it is (it gave the workspace's alone, "runs out in
// 2 days" under a row crit by the project).
func TestAProjectHeldAtItsLimit(t *testing.T) {
	start := testNow.Add(-3 * time.Hour)
	l := model.NewLedger(model.MonthlyUTC, start)
	l.SetSettings("hooli-ml", model.Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.Apply(&model.Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "serving", Endpoint: "/x", Credits: 1_560_000, Status: 200})
	l.Apply(&model.Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 80_960, Status: 200})
	for i := 1; i <= 60; i++ {
		at := testNow.Add(time.Duration(i-64) * time.Minute).UnixMilli()
		l.Apply(&model.Event{TS: at, Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 150, Status: 200})
	}
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Status: 402, Code: "budget_exceeded"})
	v, f, _ := l.VerdictForecast("hooli-ml", testNow)
	if v.Project != "training" || f.Remaining != 40 || !f.Reached {
		t.Fatalf("fixture: verdict %+v, forecast %+v", v, f)
	}
	c := testCommon()
	row := gaugeLine(c, l, 198, "hooli-ml")
	if !strings.Contains(row, "limit reached") || strings.Contains(row, "out in") || strings.Contains(row, "×") {
		t.Errorf("row %q: want limit reached and no pace", row)
	}
	d := detailOf(c, l, "hooli-ml", 240, 30)
	s := ansi.Strip(d.View())
	limit := strings.Index(s, "project training's usage limit (sets the level): ")
	own := strings.Index(s, "workspace's own allocation: ")
	// refused with 402 budget_exceeded: the API's word, ahead of what the counters leave
	if limit < 0 || own < limit || !strings.Contains(s, "limit reached: 402 budget_exceeded newer than its last success (40 left by the counters)") {
		t.Errorf("detail: want the limit's forecast (reached) first, then the workspace's own:\n%s", s)
	}
	// used up to the credit, still spending in the window: no pace either
	l.Apply(&model.Event{TS: testNow.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 40, Status: 200})
	if line := gaugeLine(c, l, 198, "hooli-ml"); !strings.Contains(line, "limit reached") || strings.Contains(line, "×") {
		t.Errorf("row %q at 90,000/90,000: want limit reached and no pace", line)
	}
	// and refused at it: the detail says the limit is reached, as the row
	// does, not "out of credits" (the workspace has 1.35M left)
	l.Apply(&model.Event{TS: testNow.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Status: 402, Code: model.CodeBudgetExceeded})
	d.Refresh(l)
	if s := ansi.Strip(d.View()); !strings.Contains(s, "days left · limit reached") || strings.Contains(s, "out of credits") {
		t.Errorf("detail at 90,000/90,000, refused: want limit reached, not out of credits:\n%s", s)
	}
}

// TestAProjectRefusedAfterItsLimitWasRaised is the demo's hooli-ml for the
// minute after its owner raised training's limit from 90,000 to 117,000 and
// before training's next call: the raise, stamped by the settings store
// after the budget_exceeded it gave (raised_at, as the demo's UpdateProject
// stamps it), ends it, so the row says neither "limit reached" nor crit and
// the detail no refusal; training is at 76 % of its new limit, high. A 402
// newer than the raise (the API refuses with 27,000 left by the counters:
// a limit mavtop does not know) holds it reached again, and the detail says
// why, not "reached: 27,000 left cannot cover one typical charge (25)".
func TestAProjectRefusedAfterItsLimitWasRaised(t *testing.T) {
	start := testNow.Add(-3 * time.Hour)
	l := model.NewLedger(model.MonthlyUTC, start)
	l.SetSettings("hooli-ml", model.Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.Apply(&model.Event{TS: start.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 89_000, Status: 200})
	for i := 1; i <= 40; i++ {
		at := testNow.Add(time.Duration(i-45) * time.Minute).UnixMilli()
		l.Apply(&model.Event{TS: at, Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 25, Status: 200})
	}
	l.Apply(&model.Event{TS: testNow.Add(-2 * time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Status: 402, Code: model.CodeBudgetExceeded})
	if v, f, _ := l.VerdictForecast("hooli-ml", testNow); !v.LimitReached || !f.Reached {
		t.Fatalf("fixture, at 90,000/90,000 refused: verdict %+v, forecast %+v", v, f)
	}
	raised := testNow.Add(-time.Minute).UnixMilli()
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 117_000, RaisedAt: raised}, raised)
	v, f, _ := l.VerdictForecast("hooli-ml", testNow)
	if v.Project != "training" || v.Level != model.LevelHigh || v.LimitReached || f.Remaining != 27_000 || f.Reached || f.RunsOut {
		t.Fatalf("raised: verdict %+v, forecast %+v; want training high, 27,000 left, not reached", v, f)
	}
	c := testCommon()
	if row := gaugeLine(c, l, 198, "hooli-ml"); strings.Contains(row, "limit reached") || strings.Contains(row, "crit") || !strings.Contains(row, "high") {
		t.Errorf("row after the raise %q: want high, no limit reached", row)
	}
	s := ansi.Strip(detailOf(c, l, "hooli-ml", 240, 30).View())
	if strings.Contains(s, "refused") || strings.Contains(s, "cannot cover") || strings.Contains(s, "limit reached") {
		t.Errorf("detail after the raise: want no refusal:\n%s", s)
	}
	// refused again after the raise: the 402 is the newer, reached again
	l.Apply(&model.Event{TS: testNow.UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Status: 402, Code: model.CodeBudgetExceeded})
	if _, f, _ := l.VerdictForecast("hooli-ml", testNow); !f.Reached || f.Remaining != 27_000 {
		t.Fatalf("refused after the raise: forecast %+v, want reached with 27,000 left", f)
	}
	s = ansi.Strip(detailOf(c, l, "hooli-ml", 240, 30).View())
	if strings.Contains(s, "cannot cover") || !strings.Contains(s, "limit reached: 402 budget_exceeded newer than its last success (27,000 left by the counters)") {
		t.Errorf("detail: want the refusal as the reason, not a typical charge 27,000 cannot cover:\n%s", s)
	}
}

// gaugeLine is the gauges pane's last line naming ws, the pane w cells wide
// with l's workspaces, without colours.
func gaugeLine(c common, l *model.Ledger, w int, ws string) string {
	g := NewGauges(c)
	g.SetSize(w, 10)
	g.Refresh(l)
	var row string
	for _, line := range strings.Split(ansi.Strip(g.View()), "\n") {
		if strings.Contains(line, ws) {
			row = line
		}
	}
	return row
}
