package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestSentencesKeepTheirEnd is the words an operator acts on at the end of a
// line: wrapped or the name before them shortened, never cut. The detail
// view's forecast ends in who refuses (at 60 columns it was cut after
// "sustainable p…"); the burn chart's title ends in this minute's burn (a
// long name pushed it off at 80 columns); the selected 402's advice and
// message end in what to do (cut at 200 columns with 20 lines to spare).
func TestSentencesKeepTheirEnd(t *testing.T) {
	fits := func(t *testing.T, what, s string, w int) {
		t.Helper()
		for _, l := range strings.Split(s, "\n") {
			if cellWidth(l) > w {
				t.Errorf("%s: line %q wider than %d", what, l, w)
			}
		}
	}
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") } // wrapped lines read as one
	t.Run("detail at 60x16", func(t *testing.T) {
		m := update(t, longNameApp(t, 60, 16), press("enter"), OpenDetailMsg{Workspace: longWS})
		d := ansi.Strip(m.detail.View())
		for _, want := range []string{"0 remaining", "refused: credits_exhausted (OUT until credits are added)"} {
			if !strings.Contains(flat(d), want) {
				t.Errorf("detail lacks %q:\n%s", want, d)
			}
		}
		fits(t, "detail", d, m.detail.width)
	})
	t.Run("chart title at 80x24", func(t *testing.T) {
		m := longNameApp(t, 80, 24)
		c := ansi.Strip(m.charts.View())
		title, _, _ := strings.Cut(c, "\n")
		if !strings.Contains(title, "this min ") || !strings.Contains(title, shortName(longWS, nameWidth(80))) {
			t.Errorf("burn title %q: lacks this minute's burn or the name's end", title)
		}
		fits(t, "charts", c, m.charts.width)
	})
	t.Run("selected 402 at 200x50", func(t *testing.T) {
		m := longNameApp(t, 200, 50)
		l := ansi.Strip(m.log.View())
		for _, want := range []string{`or wait for your credits to reset."`, "or wait for the monthly reset.", "settings/billing"} {
			if !strings.Contains(flat(l), want) {
				t.Errorf("402 log lacks %q:\n%s", want, l)
			}
		}
		if n := strings.Count(l, "\n") + 1; n != m.log.height {
			t.Errorf("402 log: %d lines in a pane of %d", n, m.log.height)
		}
		fits(t, "log", l, m.log.width)
	})
}

// TestBannerNamesTheWorkspaceWholeWithRoom: the banner is one sentence on a
// line of its own, so a long workspace is named in full when the line holds
// it (at 120 columns it was cut to the 16 cells the gauge column gets, with
// 36 columns unused) and shortened only as far as the words after it need.
func TestBannerNamesTheWorkspaceWholeWithRoom(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want string
	}{
		{120, 40, " " + longWS + "/trials got 402 credits_exhausted on /focus-groups "},
		{80, 24, "acme…-east/trials got 402 credits_exhausted on /focus-groups "},
	} {
		m := longNameApp(t, tc.w, tc.h)
		f := ansi.Strip(m.footer())
		if !strings.Contains(f, tc.want) || cellWidth(f) > tc.w || !strings.HasSuffix(f, "? help • q quit") {
			t.Errorf("%dx%d: footer %q, want %q in it and ? help • q quit at its end", tc.w, tc.h, f, tc.want)
		}
	}
}

// TestSelectedAlertReadsWhole: an alert's row is cut at the pane's width (at
// 200×50 the alerts pane is 78 columns, its sentences longer); the selected
// one is under the list whole, wrapped, from a pane of 12 lines.
func TestSelectedAlertReadsWhole(t *testing.T) {
	m := update(t, busyApp(t, 200, 50), press("l"), press("l"), press("G"))
	if m.focus != focusAlerts {
		t.Fatalf("focus %d", m.focus)
	}
	v := ansi.Strip(m.alerts.View())
	const whole = "acme-research-team-beta used 50 % of its 1,000-credit cap (at the time: 585 credits used, 58 %)"
	if !strings.Contains(strings.Join(strings.Fields(v), " "), "▸ "+whole) { // wrapped under the list
		t.Errorf("the selected alert is not whole under the list:\n%s", v)
	}
	if n := strings.Count(v, "\n") + 1; n != m.alerts.height {
		t.Errorf("%d lines in a pane of %d", n, m.alerts.height)
	}
	for _, l := range strings.Split(v, "\n") {
		if cellWidth(l) > m.alerts.width {
			t.Errorf("line %q wider than %d", l, m.alerts.width)
		}
	}
}

// TestChartKeyOnlyWithCharts: at 60×16, and at 80×24 with seven workspaces,
// the layout has no room for the charts,
// so the ? screen does not offer c and c does not switch their scope unseen;
// at 200×50 it does both.
func TestChartKeyOnlyWithCharts(t *testing.T) {
	for _, tc := range []struct {
		w, h   int
		offers bool
	}{{60, 16, false}, {80, 24, false}, {200, 50, true}} {
		m := busyApp(t, tc.w, tc.h)
		m.render()
		if got := strings.Contains(view(update(t, m, press("?"))), "chart: selected/all"); got != tc.offers {
			t.Errorf("%dx%d: ? offers c: %v, want %v", tc.w, tc.h, got, tc.offers)
		}
		if got := update(t, m, press("c")).charts.scopeAll; got != tc.offers {
			t.Errorf("%dx%d: c switched the charts to all workspaces: %v, want %v", tc.w, tc.h, got, tc.offers)
		}
	}
}
