package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestCreditsOneFormPerSize: the credits and used columns take one form at a
// size whatever the figures (credits in full from wideCredits, else compact) (184,415/200,000 and 29,980 / 30,000 and
// 850k/1.25M were all seen in one column at 80 columns; at 200 columns a
// project's "89,962/90,000 lim" stood above "29,980 / 30,000"), and the cap
// figures end in one column whether " lim" follows them or not.
func TestCreditsOneFormPerSize(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	for ws, f := range map[string][2]int64{
		"initech": {184_415, 200_000}, "umbrella": {29_980, 30_000}, "globex": {850_000, 1_250_000},
		"small": {950, 1000}, "prod": {4_200_000, 12_000_000},
	} {
		l.SetSettings(ws, model.Settings{Allocation: f[1]}, testNow.UnixMilli())
		l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: f[0], Status: 200})
	}
	l.SetSettings("limited", model.Settings{Allocation: 1_000_000, UsageLimit: 90_000}, testNow.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "limited", Endpoint: "/responses", Credits: 89_950, Status: 200})
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "unset", Endpoint: "/responses", Credits: 123_456, Status: 200})
	// a project at its usage limit sets hooli-ml's level: "100 % /training"
	l.SetSettings("hooli-ml", model.Settings{Allocation: 3_000_000}, testNow.UnixMilli())
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 90_000}, testNow.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/responses", Credits: 90_000, Status: 200})
	l.TakeCrossings()
	compactFig := `-?[0-9]+(\.[0-9]+)?[kMG]?`
	credit := regexp.MustCompile(`^(` + compactFig + `/` + compactFig + `( lim)?|` + compactFig + `)$`)
	fullFig := `[0-9]{1,3}(,[0-9]{3})*`
	creditFull := regexp.MustCompile(`^(` + fullFig + ` / ` + fullFig + `( lim)?|` + fullFig + `)$`)
	for _, w := range []int{58, 78, 98, 198} {
		g := NewGauges(testCommon())
		g.SetSize(w, 10)
		g.Refresh(l)
		_, _, cols := g.layout()
		capEnds := map[int][]string{} // where the cap figure ends in the column: one place
		pctEnds := map[int][]string{} // where the percent sign is: one place
		for i := range g.visible {
			r := &g.visible[i]
			for _, c := range cols {
				cell := ansi.Strip(c.cell(&g, r, c.width))
				if cellWidth(cell) > c.width {
					t.Errorf("width %d: %s cell %q wider than its %d cells", w, c.head, cell, c.width)
				}
				switch c.head {
				case "credits":
					in := align(cell, c.width, c.right)
					end := len(strings.TrimRight(strings.TrimSuffix(in, limTag), " "))
					capEnds[end] = append(capEnds[end], in)
					cell = strings.TrimSpace(cell)
					if w >= wideCredits && !creditFull.MatchString(cell) || w < wideCredits && !credit.MatchString(cell) {
						t.Errorf("width %d: credits of %s %q: not the column's one compact form", w, r.Name, cell)
					}
				case "used":
					// one column for every percent: a workspace's, a usage
					// limit's ("lim") and a project's ("/training")
					in := align(cell, c.width, c.right)
					pctEnds[strings.Index(in, "%")] = append(pctEnds[strings.Index(in, "%")], in)
					cell = strings.TrimRight(cell, " ")
					want := c.width >= 11 && r.CapKind != model.CapNone
					if r.CapKind == model.CapAllocation && r.verdict.Project == "" && strings.HasSuffix(cell, " used") != want {
						t.Errorf("width %d: used of %s %q: the form changes with the figure", w, r.Name, cell)
					}
					if r.CapKind == model.CapLimit && strings.HasSuffix(cell, " lim") != want {
						t.Errorf("width %d: used of %s %q: the form changes with the figure", w, r.Name, cell)
					}
				}
			}
		}
		delete(pctEnds, -1) // "—": no cap
		if len(pctEnds) > 1 {
			t.Errorf("width %d: the percents end in %d places: %v", w, len(pctEnds), pctEnds)
		}
		if len(capEnds) > 1 {
			t.Errorf("width %d: the cap figures end in %d places: %v", w, len(capEnds), capEnds)
		}
	}
}

// TestRunsOutHoldsItsLongestValue: the runs-out column holds every forecast
// whole, the longest a top-up 31 days away, in one form ("top-up in …"):
// "top-up 2 days" filled the column to the border at 60 and 80 columns.
func TestRunsOutHoldsItsLongestValue(t *testing.T) {
	longest := ""
	for _, fc := range []model.Forecast{
		{RemainingKnown: true, RechargeDue: true, NextRechargeIn: 31 * 24 * time.Hour},
		{RemainingKnown: true, RechargeDue: true, NextRechargeIn: 59 * time.Minute},
		{RemainingKnown: true, RunsOut: true, RunsOutIn: 31 * 24 * time.Hour},
	} {
		if s := cellRunsOut(nil, &gaugeRow{fc: fc}, 0); cellWidth(s) > cellWidth(longest) {
			longest = s
		}
	}
	if longest != "top-up in 31 days" {
		t.Fatalf("longest forecast %q", longest)
	}
	for _, w := range []int{58, 78, 98, 198} {
		g := NewGauges(testCommon())
		g.SetSize(w, 10)
		_, _, cols := g.layout()
		found := false
		for _, c := range cols {
			if c.head == "runs out" {
				found = true
				if c.width < cellWidth(longest) {
					t.Errorf("width %d: runs out gets %d cells, %q needs %d", w, c.width, longest, cellWidth(longest))
				}
				for _, in := range []time.Duration{2 * 24 * time.Hour, 14 * 24 * time.Hour} {
					s := cellRunsOut(&g, &gaugeRow{fc: model.Forecast{RemainingKnown: true, RechargeDue: true, NextRechargeIn: in}}, c.width)
					if !strings.HasPrefix(s, "top-up in ") {
						t.Errorf("width %d: %q, want the one form top-up in …", w, s)
					}
				}
			}
		}
		if !found {
			t.Errorf("width %d: no runs-out column", w)
		}
	}
}

// TestCompactFitsFiveCells: burn and 402 counts above 100k kept a decimal
// ("123.4k/h") and overflowed the burn column's 7 cells.
func TestCompactFitsFiveCells(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 2.5: "2.5", 9.96: "10", 999: "999", 999.6: "1.0k", 15_900: "15.9k", 99_960: "100k", 123_456: "123k",
		999_600: "1.0M", 4_100_000: "4.1M", 2.5e9: "2.5G", -123_456: "-123k",
	} {
		if got := compact(v); got != want {
			t.Errorf("compact(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestACutProjectIsNamedInTheTitle: a row whose level a project's usage limit
// sets shows "100 % /tra…" at 80 columns, which says nothing to a newcomer;
// the pane's title says whose row it is and what its figures are of
// ("hooli-ml shows project training's limit"; it said "/tra… is project
// training", a riddle), and nothing where the name is whole.
func TestACutProjectIsNamedInTheTitle(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	l.SetSettings("hooli-ml", model.Settings{Allocation: 3_000_000}, testNow.UnixMilli())
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 90_000}, testNow.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/responses", Credits: 90_000, Status: 200})
	for _, tc := range []struct {
		w    int
		want string
	}{{78, "Workspaces (1) · by use · hooli-ml shows project training's limit"}, {198, "Workspaces (1) · by use"}} {
		g := NewGauges(testCommon())
		g.SetSize(tc.w, 10)
		g.Refresh(l)
		if got := g.Title(); got != tc.want {
			t.Errorf("width %d: title %q, want %q\n%s", tc.w, got, tc.want, ansi.Strip(g.View()))
		}
	}
}

// TestAPercentPastTheLargestShownIsWhole: a workspace past 9999 % of its cap
// reads ">9999 % used" on the gauges, as check and budget show write it
// (model.MaxShownPercent); the cell cut it to ">9999…" at every width
// (hostile13 #5).
func TestAPercentPastTheLargestShownIsWhole(t *testing.T) {
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	l.SetSettings("h4", model.Settings{Allocation: 1000}, testNow.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "h4", Endpoint: "/z", Credits: 1_000_000_000, Status: 200})
	for _, w := range []int{78, 198} {
		g := NewGauges(testCommon())
		g.SetSize(w, 10)
		g.Refresh(l)
		if v := ansi.Strip(g.View()); !strings.Contains(v, ">9999 % used") {
			t.Errorf("width %d: no \">9999 %% used\" in\n%s", w, v)
		}
	}
}
