package teatest

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestASlowProducerClockShowsItsRealBurnAndAge: two workspaces spend alike,
// 5 credits every 10 s for 15 minutes, their entries taken by Redis at the same
// instants (ids by the screen's clock); the producer of "slow" has a clock 20
// minutes slow, so its ts lie 20 minutes before its ids. Its row reads what
// the on-time one's does — the same burn, run-out and age — where it read
// "idle · 0/h", 20 min old, while ts dated the burn and the age.
func TestASlowProducerClockShowsItsRealBurnAndAge(t *testing.T) {
	r := newRig(t, 160, 16)
	ctx := context.Background()
	// the settings held before the spending began: dated then
	before := feed.NewSettingsStore(r.rdb, feed.StoreOptions{Now: func() time.Time { return now.Add(-time.Hour) }, IDs: r.ids})
	for _, ws := range []string{"ontime", "slow"} {
		if err := before.SetWorkspace(ctx, ws, model.Settings{Allocation: 3000}); err != nil {
			t.Fatal(err)
		}
	}
	for at := now.Add(-15 * time.Minute); at.Before(now); at = at.Add(10 * time.Second) {
		r.track(model.Event{TS: at.UnixMilli(), Workspace: "ontime", Endpoint: "/responses", Credits: 5}, // id at
			model.Event{TS: at.Add(-20 * time.Minute).UnixMilli(), Workspace: "slow", Endpoint: "/responses", Credits: 5}) // id at too
	}
	// a last entry after both: once its row shows, both rows hold every charge
	r.track(model.Event{TS: now.UnixMilli(), Workspace: "marker", Endpoint: "/responses", Credits: 1})
	r.waitFor("450 / 3,000", "marker")
	screen := r.screen()
	row := func(ws string) string {
		for _, l := range strings.Split(screen, "\n") {
			if i := strings.Index(l, " "+ws+" "); i >= 0 {
				return strings.Trim(l[i+len(ws)+2:], " ┃")
			}
		}
		t.Fatalf("no row of %s in\n%s", ws, screen)
		return ""
	}
	want, got := row("ontime"), row("slow")
	if !strings.Contains(want, "out in") || strings.Contains(want, "idle") {
		t.Fatalf("the on-time workspace's row %q: want a run-out, not idle\n%s", want, screen)
	}
	if got != want {
		t.Errorf("the slow producer's row\n %q\nwant the on-time one's\n %q\n%s", got, want, screen)
	}
}
