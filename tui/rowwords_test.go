package tui

import (
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// TestTheRowSaysEachThingOnce is the newcomer's first screen at every width:
// a project held at its usage limit read "90.0k/90.0k lim limit reached"
// (limit said twice: the credits' tag and the runs-out words), and a
// workspace refused with credits_exhausted read "402: refused" in the
// runs-out column, a state where the column tells a time, beside "✖ OUT".
// Now the limit is named once ("90.0k/90.0k     limit reached"), a row whose
// usage limit binds without being reached keeps its " lim" tag, and OUT reads
// "out now" whatever the counters leave.
func TestTheRowSaysEachThingOnce(t *testing.T) {
	start := testNow.Add(-time.Hour)
	l := model.NewLedger(model.MonthlyUTC, start)
	l.SetSettings("hooli-ml", model.Settings{Allocation: 3_000_000}, start.UnixMilli())
	l.SetBudget("hooli-ml", "training", model.ProjectBudget{Limit: 90_000}, start.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-2 * time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Credits: 90_000, Status: 200})
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "hooli-ml", Project: "training", Endpoint: "/x", Status: 402, Code: model.CodeBudgetExceeded})
	// its own usage limit binds (37,400 of 50,000), not reached
	l.SetSettings("acme", model.Settings{Allocation: 100_000, UsageLimit: 50_000}, start.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-2 * time.Minute).UnixMilli(), Workspace: "acme", Endpoint: "/x", Credits: 37_400, Status: 200})
	// refused with credits_exhausted at 10 % used
	l.SetSettings("umbrella", model.Settings{Allocation: 30_000}, start.UnixMilli())
	l.Apply(&model.Event{TS: testNow.Add(-2 * time.Minute).UnixMilli(), Workspace: "umbrella", Endpoint: "/x", Credits: 3_000, Status: 200})
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "umbrella", Endpoint: "/x", Status: 402, Code: model.CodeCreditsExhausted})
	c := testCommon()
	for _, w := range []int{78, 98, 118, 148, 198} {
		if row := gaugeLine(c, l, w, "hooli-ml"); !strings.Contains(row, "limit reached") || strings.Contains(row, "lim limit") {
			t.Errorf("width %d: hooli-ml %q: want limit reached, named once", w, row)
		}
		if row := gaugeLine(c, l, w, "acme"); !strings.Contains(row, " lim ") {
			t.Errorf("width %d: acme %q: want its figures tagged lim", w, row)
		}
		if row := gaugeLine(c, l, w, "umbrella"); !strings.Contains(row, "✖ OUT") || !strings.Contains(row, "out now") || strings.Contains(row, "402:") {
			t.Errorf("width %d: umbrella %q: want OUT, out now", w, row)
		}
	}
}
