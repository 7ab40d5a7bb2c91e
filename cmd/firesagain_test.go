package cmd

import (
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/tui"
)

// TestTheDashboardsLifecycleSaysWhenAnAlertFiresAgain: the lifecycle the
// dashboard polls for its alerts pane carries when each resolved alert may
// fire again, by the rule `mavtop alerts`' FIRES AGAIN column uses
// (model.FiresAgainAt, model.Episodes): the latest episode of each resolved
// alert, during its hold-off and after it, none for one firing or for an
// episode a later one followed (the pane's words: tui's
// TestTheAlertsPaneSaysWhenAnAlertFiresAgain). Before, the pane had no
// re-fire time at all.
func TestTheDashboardsLifecycleSaysWhenAnAlertFiresAgain(t *testing.T) {
	now := time.Now()
	idx := notify.NewIndex("2026-11")
	var entries []alertRow // as mavtop alerts reads them
	rec := func(id string, status model.AlertStatus, resolved time.Time) {
		r := feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: id, Period: "2026-11", Workspace: strings.Split(id, "/")[1]},
			Status: status, FiredAt: now.Add(-2 * time.Hour), ResolvedAt: resolved}}
		idx.Set(id, &r)
		entries = append(entries, newAlertRow(&r, "", false))
	}
	rec("2026-11/acme/-/threshold/75", model.AlertResolved, now.Add(-2*time.Minute))   // in its hold-off
	rec("2026-11/beta/-/threshold/75", model.AlertResolved, now.Add(-30*time.Minute))  // after it
	rec("2026-11/gamma/-/threshold/75", model.AlertResolved, now.Add(-50*time.Minute)) // a later episode followed
	rec("2026-11/gamma/-/threshold/75~2", model.AlertResolved, now.Add(-time.Minute))
	rec("2026-11/delta/-/threshold/90", model.AlertFiring, time.Time{})
	p := &lifecyclePoll{take: idx.Lifecycle}
	life := p.poll()
	want := fireAgainAt(entries) // `mavtop alerts`' column
	if len(want) != 3 {
		t.Fatalf("mavtop alerts' FIRES AGAIN: %v; want acme, beta and gamma~2", want)
	}
	n := 0
	life.Rows.Each(func(e tui.LifecycleEntry) bool {
		n++
		if !e.FiresAgainAt.Equal(want[e.ID]) {
			t.Errorf("%s: the pane's lifecycle says it fires again at %v, mavtop alerts %v", e.ID, e.FiresAgainAt, want[e.ID])
		}
		return true
	})
	if n != 5 {
		t.Fatalf("%d rows, want 5", n)
	}
}
