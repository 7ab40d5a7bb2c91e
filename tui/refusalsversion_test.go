package tui

import (
	"fmt"
	"testing"
	"time"

	"mavtop/model"
)

// TestRefusalLogRetakesWhatChanged: the 402 log takes its rows, total and
// uncounted count again only when the ledger's RefusalsVersion moves, so
// after every kind of change — a 402 applied, a success, a re-read of the
// counters, a 402 read back, a copy of the ledger changed on its own — a log
// refreshed at each step shows what a new log shows of the same ledger.
func TestRefusalLogRetakesWhatChanged(t *testing.T) {
	at := testNow.Add(-10 * time.Minute).UnixMilli()
	ev := func(i int, status int) model.Event {
		e := model.Event{ID: fmt.Sprintf("%d-0", at+int64(i)), TS: at + int64(i), Workspace: "acme", Project: "web",
			Endpoint: "/x", Credits: 3, Status: status, Req: fmt.Sprintf("req_%d", i)}
		if status == 402 {
			e.Code, e.Credits = model.CodeCreditsExhausted, 0
		}
		return e
	}
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-time.Hour))
	kept := NewRefusalLog(testCommon())
	kept.SetSize(100, 10)
	var copied *model.Ledger
	check := func(step string, l *model.Ledger) {
		t.Helper()
		kept.Refresh(l)
		fresh := NewRefusalLog(testCommon())
		fresh.SetSize(100, 10)
		fresh.Refresh(l)
		if kept.Title() != fresh.Title() || len(kept.rows) != len(fresh.rows) || kept.View() != fresh.View() {
			t.Errorf("%s: the kept log says %q (%d rows), a new one %q (%d rows)", step, kept.Title(), len(kept.rows), fresh.Title(), len(fresh.rows))
		}
	}
	steps := []struct {
		name string
		do   func() *model.Ledger
	}{
		{"a success", func() *model.Ledger { e := ev(1, 200); l.Apply(&e); return l }},
		{"a 402", func() *model.Ledger { e := ev(2, 402); l.Apply(&e); return l }},
		{"a second 402", func() *model.Ledger { e := ev(3, 402); l.Apply(&e); return l }},
		{"a copy", func() *model.Ledger { copied = l.Clone(); return copied }},
		{"a 402 in the copy", func() *model.Ledger { e := ev(4, 402); copied.Apply(&e); return copied }},
		{"the original again", func() *model.Ledger { return l }},
		{"a 402 in the original", func() *model.Ledger { e := ev(5, 402); l.Apply(&e); return l }},
		{"the copy again", func() *model.Ledger { return copied }},
		{"the original once more", func() *model.Ledger { return l }},
		{"the counters read again, holding one", func() *model.Ledger {
			snap := l.Totals()
			snap.Refused = map[string]int64{model.RefusedField("acme", "web", model.CodeCreditsExhausted): 1}
			l.Seed(snap, testNow)
			return l
		}},
		{"a 402 read back", func() *model.Ledger {
			e := ev(0, 402)
			l.Backfill([]model.Event{e}, testNow.Add(-time.Hour))
			return l
		}},
		{"a success after", func() *model.Ledger { e := ev(6, 200); l.Apply(&e); return l }},
	}
	for _, s := range steps {
		check(s.name, s.do())
	}
	if kept.uncounted == 0 {
		t.Fatalf("the fixture wants rows the counters do not hold at the end: %q", kept.Title())
	}
}
