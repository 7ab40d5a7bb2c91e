package model

import (
	"fmt"
	"testing"
	"time"
)

// TestEventsAppliedWhileUsedByIsRead: the live stream flows while used_by is
// read, so events on either side of the read's id come before SeedUsedBy
// and after it. Each is in the project credits once — those up to the id
// through the hash, newer ones through the ledger — and a project line that
// a newer event crossed fires then, one the hash passed does not.
func TestEventsAppliedWhileUsedByIsRead(t *testing.T) {
	period := MonthlyUTC.At(t0)
	// entries 101…110, 10 credits each, to acme/web; the snapshot is at 100,
	// when web had used 150 of its 200 limit (alert at 160)
	ev := func(i int) Event {
		e := use("acme", "web", "/responses", 10, time.Duration(i)*time.Second)
		e.ID = fmt.Sprintf("%d-0", 100+i)
		return e
	}
	for _, c := range []struct {
		name    string
		at      int // the used_by read's id: entries up to it are in the hash
		applied int // entries applied before the read comes
	}{
		{"the follow ahead of the read", 3, 6},
		{"the follow behind the read", 5, 2},
		{"the read before any entry", 0, 0},
		{"every entry before the read", 10, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			l.Seed(&Snapshot{Period: period, StreamID: "100-0", Used: map[string]int64{"acme": 150},
				Budgets: map[string]ProjectBudget{ProjectKey("acme", "web"): {Alert: 160, Limit: 200}}, UsedByLater: true}, t0)
			for i := 1; i <= c.applied; i++ {
				e := ev(i)
				l.Apply(&e)
			}
			if got := l.Totals().UsedBy[UsedByField("acme", "web", "/responses")]; got != 0 || !l.UsedByPending() {
				t.Fatalf("before the read: web %d, pending %v; want 0 (not known yet), pending", got, l.UsedByPending())
			}
			l.TakeCrossings()
			l.SeedUsedBy(map[string]int64{UsedByField("acme", "web", "/responses"): 150 + 10*int64(c.at)}, fmt.Sprintf("%d-0", 100+c.at))
			crossings := l.TakeCrossings()
			for i := c.applied + 1; i <= 10; i++ {
				e := ev(i)
				l.Apply(&e)
				crossings = append(crossings, l.TakeCrossings()...)
			}
			got := l.Totals()
			if got.Used["acme"] != 250 || got.UsedBy[UsedByField("acme", "web", "/responses")] != 250 {
				t.Fatalf("used %d, web %d; want 250 and 250 (150 + ten entries of 10, each once)", got.Used["acme"], got.UsedBy[UsedByField("acme", "web", "/responses")])
			}
			if all := l.Endpoints(""); len(all) != 1 || all[0] != (EndpointTotal{"/responses", 250}) {
				t.Fatalf("all-workspace endpoints %v, want /responses 250", all)
			}
			// the alert (160) is crossed by entry 1, the limit (200) by entry 5:
			// each fires once, with the credits of the entry that crossed it,
			// if that entry is newer than the read
			want := map[CrossingKind]bool{CrossProjectAlert: c.at < 1, CrossProjectLimit: c.at < 5}
			at := map[CrossingKind]int64{CrossProjectAlert: 160, CrossProjectLimit: 200}
			seen := map[CrossingKind]int{}
			for _, x := range crossings {
				if _, ok := want[x.Kind]; ok && x.Project == "web" {
					seen[x.Kind]++
					if x.Used != at[x.Kind] {
						t.Errorf("project line %d fired at %d credits, want %d (the entry that crossed it)", x.Kind, x.Used, at[x.Kind])
					}
				}
			}
			for k, fire := range want {
				if n := seen[k]; fire && n != 1 || !fire && n != 0 {
					t.Errorf("project line %d fired %d times, want %v once", k, n, fire)
				}
			}
		})
	}
}
