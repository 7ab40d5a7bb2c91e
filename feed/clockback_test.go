package feed

import (
	"testing"
	"time"

	"mavtop/model"
)

// TestAClockSteppedBackAcrossTheBoundaryShowsWhatAFreshStartShows: the
// machine's clock stepped back across a billing period's start (NTP
// correcting a clock that ran ahead, a VM restored) puts "now" in the old
// period again; the instance that watched the rollover re-reads the old
// period, as a start and check at that clock read it, and rolls over again
// when the clock passes the boundary. Before (hostile23 #2), the rollover was
// looked for forward only: the watching dashboard stayed in the new period,
// showing its counters (acme 30 used, not OUT), while a start and check
// showed the old period's (acme 900 used, OUT), until the clock caught up.
func TestAClockSteppedBackAcrossTheBoundaryShowsWhatAFreshStartShows(t *testing.T) {
	srv, clock, next, at, track := beforeAPeriodEnds(t, map[string]int64{"acme": 1_000})
	track(
		model.Event{TS: at(-100 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 900, Status: 200},
		model.Event{TS: at(-90 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "acme-old"},
	)
	long := startInstance(t, srv, SubscriberOptions{Now: clock.Now, AuditEvery: 200 * time.Millisecond})
	long.settled(srv, "the instance before the period ends")
	clock.Set(next.Add(20 * time.Second)) // the clock ran ahead: the rollover comes
	long.settled(srv, "the instance after the rollover")
	track(model.Event{TS: at(21 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 30, Status: 200})
	long.settled(srv, "the instance in the new period")
	if r := long.screen(clock.Now()).Rows["acme"]; r.Out || r.Used != 30 {
		t.Fatalf("acme in the new period: %+v, want 30 used, not OUT", r)
	}

	clock.Set(next.Add(-30 * time.Second)) // NTP steps the clock back across the boundary
	long.settled(srv, "the instance after the clock stepped back")
	fresh := startInstance(t, srv, SubscriberOptions{Now: clock.Now, AuditEvery: 200 * time.Millisecond})
	fresh.settled(srv, "a fresh instance with the clock stepped back")
	now := clock.Now()
	got, want := long.screen(now), fresh.screen(now)
	if got.String() != want.String() {
		t.Fatalf("with the clock stepped back the instance that watched shows\n%vwhere a fresh start shows\n%v", got, want)
	}
	if r := got.Rows["acme"]; !r.Out || r.Used != 900 {
		t.Errorf("acme with the clock back in the old period: %+v, want the old period's 900 used, OUT", r)
	}

	clock.Set(next.Add(40 * time.Second)) // and forward again
	long.settled(srv, "the instance after the second rollover")
	if r := long.screen(clock.Now()).Rows["acme"]; r.Out || r.Used != 30 {
		t.Errorf("acme after the clock passed the boundary again: %+v, want the new period's 30 used, not OUT", r)
	}
	long.mu.Lock()
	defer long.mu.Unlock()
	var rollovers int
	for _, s := range long.snaps {
		if s.Reason == ReasonRollover {
			rollovers++
			if !s.NewPeriod || s.Rewound {
				t.Errorf("a rollover's re-read: new period %v rewound %v, want another period, nothing lost", s.NewPeriod, s.Rewound)
			}
		}
	}
	var back []string
	for _, s := range long.snaps {
		if s.ClockBack {
			back = append(back, s.Note())
		}
	}
	if want := "the clock went back into billing period " + model.MonthlyUTC.At(next.Add(-time.Minute)).Key + ": its counters re-read"; len(back) != 1 || back[0] != want {
		t.Errorf("the notes of re-reads into an earlier period: %q, want one: %q", back, want)
	}
	if rollovers != 3 {
		t.Errorf("rollovers %d (snapshots %v), want 3 (forward, back, forward)", rollovers, reasons(long.snaps))
	}
}
