package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestForecastsOnScreen shows the forecast cases as the gauges and the
// detail pane draw them: a workspace that stopped spending goes idle instead
// of "out in 4 s" for ten minutes; one large charge is a step, not "out in
// 18 min, 7.6k/h"; a workspace kept alive by auto-recharge says when its next
// top-up comes instead of "out in 3 min" for ever.
func TestForecastsOnScreen(t *testing.T) {
	clock := testNow
	c := testCommon()
	c.now = func() time.Time { return clock }
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	charge := func(ws string, at time.Time, credits int64) {
		l.Apply(&model.Event{TS: at.UnixMilli(), Workspace: ws, Endpoint: "/mave/chat", Credits: credits, Status: 200})
	}
	// stopped: 4 credits every 2 s for 20 min, then nothing, 8 credits left
	l.SetSettings("stopped", model.Settings{Allocation: 2408}, testNow.UnixMilli())
	stop := testNow.Add(-20 * time.Minute)
	for i := 0; i < 600; i++ {
		stop = testNow.Add(-20*time.Minute + time.Duration(i)*2*time.Second)
		charge("stopped", stop, 4)
	}
	// emitted: 1 credit a second for 30 min, then one emit of 7,600; 10,200
	// left: at 3.6k/h that is 2 h; counted as a rate it would be 18 min
	l.SetSettings("emitted", model.Settings{Allocation: 1800 + 7600 + 10_200}, testNow.UnixMilli())
	for i := 0; i < 1800; i++ {
		charge("emitted", testNow.Add(-30*time.Minute+time.Duration(i)*time.Second), 1)
	}
	charge("emitted", testNow.Add(-time.Second+500*time.Millisecond), 7600)
	// globex: auto-recharge adds 2,000 below 500 left; 100 credits a minute
	l.SetSettings("globex", model.Settings{Allocation: 10_000, RechargeBelow: 500, RechargeAmount: 2000}, testNow.UnixMilli())
	charge("globex", testNow.Add(-time.Hour), 5000)
	for i := 0; i < 30; i++ {
		charge("globex", testNow.Add(-30*time.Minute+time.Duration(i)*time.Minute), 100)
	}
	row := func(ws string) string {
		g := NewGauges(c)
		g.SetSize(160, 10)
		g.Refresh(l)
		for _, line := range strings.Split(ansi.Strip(g.View()), "\n") {
			if f := strings.Fields(line); len(f) > 1 && (f[0] == ws || f[1] == ws) {
				return line
			}
		}
		t.Fatalf("no row for %s", ws)
		return ""
	}
	has := func(what, line string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q lacks %q", what, line, w)
			}
		}
	}
	clock = stop.Add(2 * time.Second)
	has("stopped, just after", row("stopped"), "out in 4 s", "7.2k/h")
	for _, after := range []time.Duration{2 * time.Minute, 5 * time.Minute, 9 * time.Minute} {
		clock = stop.Add(after)
		has("stopped, later", row("stopped"), " idle ", " 0/h ")
	}
	clock = testNow
	has("emitted", row("emitted"), "out in 2 h", "3.6k/h")
	has("globex", row("globex"), "top-up in 15 min", "6.0k/h") // 2,000 left, 1,500 above the threshold
	d := detailOf(c, l, "emitted", 200, 20)
	has("emitted detail", ansi.Strip(d.View()), "burn 3.6k/h (15 min)", "step +7,600 at 11:59 left out of the burn")
	d.Open("globex")
	d.Refresh(l)
	has("globex detail", ansi.Strip(d.View()), "recharges at 500 left in 15 min, ~", "top-ups of 2,000 left this period")
}

// TestABurstySpenderIsNotIdleBetweenItsBursts is the review's case on the
// gauges: 10 charges of 50 in 5 s every 5 minutes (6k/h, allocation 10,000).
// A minute after a burst the row read "idle 0/h —" beside a run_out alert
// that fired: the idle rule counted the 10 charges of one 10-s bucket as
// intervals of 1 s. Its silence is judged against the 5 minutes between its
// bursts (model.Forecast.Idle), so the row runs out until 15 minutes of
// silence.
func TestABurstySpenderIsNotIdleBetweenItsBursts(t *testing.T) {
	clock := testNow
	c := testCommon()
	c.now = func() time.Time { return clock }
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	l.SetSettings("bursty", model.Settings{Allocation: 10_000}, testNow.Add(-time.Hour).UnixMilli())
	var last time.Time
	for at := testNow.Add(-time.Hour); !at.After(testNow); at = at.Add(5 * time.Minute) {
		for i := range 10 {
			last = at.Add(time.Duration(i) * 500 * time.Millisecond)
			l.Apply(&model.Event{TS: last.UnixMilli(), Workspace: "bursty", Endpoint: "/mave/chat", Credits: 50, Status: 200})
		}
	}
	row := func() string {
		g := NewGauges(c)
		g.SetSize(160, 10)
		g.Refresh(l)
		for _, line := range strings.Split(ansi.Strip(g.View()), "\n") {
			if f := strings.Fields(line); len(f) > 1 && (f[0] == "bursty" || f[1] == "bursty") {
				return line
			}
		}
		t.Fatalf("no row")
		return ""
	}
	for _, after := range []time.Duration{3 * time.Second, 30 * time.Second, time.Minute, 75 * time.Second, 4 * time.Minute, 14 * time.Minute} {
		clock = last.Add(after)
		if r := row(); !strings.Contains(r, "out in ") || strings.Contains(r, " idle ") || strings.Contains(r, " 0/h ") {
			t.Errorf("%v after the burst: %q, want out in …", after, r)
		}
	}
	clock = last.Add(16 * time.Minute)
	if r := row(); !strings.Contains(r, " idle ") {
		t.Errorf("16 min after the burst: %q, want idle", r)
	}
}
