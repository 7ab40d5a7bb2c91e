package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestARefundAfterItsStepOnScreen: a large charge is a step left out of the
// burn, and a refund of part of it that lands in a later 10-s bucket (a job
// refunded 20 s after its charge) corrects the step, not the rate: the
// gauge's burn and run-out are those of the same spending with the step
// alone, and the detail pane says the step that is left (+3,800). Before,
// the refund came off the rate: "0/h" where the spending is 3.5k/h.
func TestARefundAfterItsStepOnScreen(t *testing.T) {
	clock := testNow.Add(30 * time.Second)
	c := testCommon()
	c.now = func() time.Time { return clock }
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	charge := func(ws string, at time.Time, credits int64) {
		l.Apply(&model.Event{TS: at.UnixMilli(), Workspace: ws, Endpoint: "/mave/chat", Credits: credits, Status: 200})
	}
	// both: 1 credit a second for 30 min, then one charge of 7,600, 10,200
	// left; refunded gets 3,800 of it back 20 s later (its allocation 3,800
	// less, so that both have the same credits left)
	for _, ws := range []string{"stepped", "refunded"} {
		alloc := int64(1800 + 7600 + 10_200)
		if ws == "refunded" {
			alloc -= 3800
		}
		l.SetSettings(ws, model.Settings{Allocation: alloc}, testNow.UnixMilli())
		for i := 0; i < 1800; i++ {
			charge(ws, testNow.Add(-30*time.Minute+time.Duration(i)*time.Second), 1)
		}
		charge(ws, testNow.Add(-time.Second+500*time.Millisecond), 7600)
	}
	charge("refunded", testNow.Add(20*time.Second), -3800)
	g := NewGauges(c)
	g.SetSize(160, 10)
	g.Refresh(l)
	// the run-out and the burn of each row
	forecast := regexp.MustCompile(`(out in \S+ \S+|idle)\s+(\S+/h)`)
	rows := map[string]string{}
	for _, line := range strings.Split(ansi.Strip(g.View()), "\n") {
		for _, ws := range []string{"stepped", "refunded"} {
			if strings.Contains(line, ws) {
				rows[ws] = strings.Join(forecast.FindStringSubmatch(line), "|")
			}
		}
	}
	if rows["stepped"] == "" || rows["stepped"] != rows["refunded"] || !strings.Contains(rows["refunded"], "|3.5k/h") {
		t.Errorf("the refund after the step changes the forecast: stepped %q, refunded %q, want both out in 2 h at 3.5k/h (the spending's own burn)", rows["stepped"], rows["refunded"])
	}
	if v := ansi.Strip(detailOf(c, l, "refunded", 200, 20).View()); !strings.Contains(v, "step +3,800 at 11:59 left out of the burn") {
		t.Errorf("refunded detail lacks the step left after the refund (+3,800):\n%s", v)
	}
}
