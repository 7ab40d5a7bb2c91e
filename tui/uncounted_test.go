package tui

import (
	"testing"
	"time"

	"mavtop/model"
)

// TestRefusalTitleSaysWhatItCounts: a 402 written to the stream without its
// counter (a raw XADD) is counted live, then, once the counters are read
// again (the truth), left out of the title's count while the list still
// shows it: the title said "0 this period" over one row. It now says how
// many listed rows the counters do not hold, by workspace, project and code.
func TestRefusalTitleSaysWhatItCounts(t *testing.T) {
	at := testNow.Add(-time.Minute).UnixMilli()
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	counted := model.Event{TS: at, Workspace: "acme", Project: "web", Endpoint: "/x", Status: 402, Code: model.CodeCreditsExhausted, Req: "req_counted"}
	raw := model.Event{TS: at + 1, Workspace: "acme", Project: "web", Endpoint: "/x", Status: 402, Code: model.CodeCreditsExhausted, Req: "req_raw"}
	l.Apply(&counted)
	l.Apply(&raw)
	r := NewRefusalLog(testCommon())
	r.SetSize(100, 10)
	r.Refresh(l)
	if got, want := r.Title(), "402 refusals (2 this period)"; got != want {
		t.Fatalf("live: %q, want %q", got, want)
	}
	// Redis holds one: the counters are read again
	snap := l.Totals()
	snap.Refused = map[string]int64{model.RefusedField("acme", "web", model.CodeCreditsExhausted): 1}
	l.Seed(snap, testNow)
	r.Refresh(l)
	if n := len(r.rows); n != 2 || l.RefusalTotals().Total() != 1 {
		t.Fatalf("after the re-read: %d rows, %d counted; the fixture wants 2 and 1", n, l.RefusalTotals().Total())
	}
	if got, want := r.Title(), "402 refusals (1 this period · 1 listed not counted)"; got != want {
		t.Errorf("after the re-read: %q, want %q", got, want)
	}
}
