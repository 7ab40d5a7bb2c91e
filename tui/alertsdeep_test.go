package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// deepPane is a pane of n lifecycle entries, newest first a second apart: the
// newest `resolved` of them resolved, the rest firing; and 200 local alerts
// among them.
func deepPane(n, resolved int) (*Alerts, []LifecycleEntry) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	es := make([]LifecycleEntry, 0, n)
	for i := range n {
		st := model.AlertFiring
		if i < resolved {
			st = model.AlertResolved
		}
		es = append(es, LifecycleEntry{ID: model.AlertID("2026-11", fmt.Sprintf("ws-%06d", i), "", model.AlertThreshold, "75"),
			At: base.Add(-time.Duration(i) * time.Second), Status: st, Level: model.LevelWarn, Summary: "used 75 % of its cap"})
	}
	a := NewAlerts(testCommon())
	a.SetSize(120, 40)
	for i := range maxAlerts {
		a.add(Alert{At: base.Add(-time.Duration(i*37) * time.Second), Level: model.LevelWarn, Text: "a notice", Workspace: "x"})
	}
	a.SetLifecycle(Lifecycle{Rows: newSliceRows(es), Version: 1})
	return &a, es
}

// A selection far down the alerts pane (G, or `a` selecting the newest
// firing alert under thousands of newer resolutions) stays on its alert as
// the lifecycle changes, and each change makes only the rows on screen, not
// every row above the selection: with the selection 99k rows down a change
// made 99k rows (87 ms and 26 MB, per viewer, every lifecycle change: nearly
// every second at 100k workspaces).
func TestAlertsSelectionFarDownMakesOnlyTheRowsShown(t *testing.T) {
	const n = 20_000
	a, es := deepPane(n, 15_000)
	a.focused = true
	if !a.ShowNewestFiring() {
		t.Fatal("no firing alert selected")
	}
	if got := a.rowKey(a.cur.pos).id; got != es[15_000].ID {
		t.Fatalf("`a` selected %s, want the newest firing %s", got, es[15_000].ID)
	}
	bound := a.height + 2*rowsMargin + 1
	if len(a.order) > bound {
		t.Errorf("after `a`: %d rows made, want at most %d (those shown and a margin)", len(a.order), bound)
	}
	want := a.cur.pos
	// one entry above the selection resolves again later (it moves to the
	// top: the selection stays at its row), one below it too
	for step, moved := range []int{100, 17_000} {
		es2 := append([]LifecycleEntry(nil), es...)
		es2[moved].At = es[0].At.Add(time.Duration(step+1) * time.Minute)
		es2[moved].Status = model.AlertResolved
		a.SetLifecycle(Lifecycle{Rows: newSliceRows(es2), Version: uint64(2 + step)})
		if step == 1 {
			want++ // a row from below it now above it
		}
		if got := a.rowKey(a.cur.pos).id; got != es[15_000].ID || a.cur.pos != want {
			t.Errorf("change %d: row %d selected (%s), want row %d (%s)", step, a.cur.pos, got, want, es[15_000].ID)
		}
		if len(a.order) > bound {
			t.Errorf("change %d: %d rows made, want at most %d", step, len(a.order), bound)
		}
		es = es2
	}
	// the rows shown are those of the merged order
	v := a.View()
	from, to := a.cur.window()
	for i := from; i < to; i++ {
		if r := a.ref(i); r.src == srcLife && !strings.Contains(v, r.e.At.Local().Format("15:04:05")) {
			t.Errorf("row %d (%s) not drawn", i, r.e.ID)
		}
	}
}

// BenchmarkAlertsSelectionFarDown is a lifecycle change reaching a pane
// whose selection is 300, 10k, 90k or 99k rows down (100k entries), and
// its frame: the selection is found again by its position (O(log n)), the
// rows above it neither walked nor made.
//
//	go test ./tui -run '^$' -bench AlertsSelectionFarDown -benchmem
func BenchmarkAlertsSelectionFarDown(b *testing.B) {
	for _, at := range []int{300, 10_000, 90_000, 99_000} {
		b.Run(fmt.Sprint(at), func(b *testing.B) {
			a, es := deepPane(100_000, 0)
			rows := newSliceRows(es)
			a.focused = true
			a.cur.move(at)
			a.ensureShown()
			b.ReportAllocs()
			v := uint64(1)
			for b.Loop() {
				v++
				a.SetLifecycle(Lifecycle{Rows: rows, Version: v})
				_ = a.View()
			}
		})
	}
}
