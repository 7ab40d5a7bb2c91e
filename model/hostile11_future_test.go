package model

import (
	"fmt"
	"testing"
	"time"
)

// TestAWorkspaceThatStoppedIsIdleWhileIdsAreAhead (hostile11, issue 11): one
// entry XADDed with an id 20 minutes ahead of Redis's clock (a producer
// writing ClockIDs from a clock 20 min fast, a hand-made id) makes every
// later entry's id 20 min ahead too (Redis takes max(now, last)+seq). A
// workspace charging 20 credits every 2 s then stops. On a real
// redis-server its row kept `out in 29 h · 3.4k/h · age now` and run_out
// firing 3.5 min after the last charge (the burn even rose from 1.9k/h),
// while /metrics' feed_last_event_timestamp_seconds said 100 s quiet: Event.At
// takes the id's time (ts is more than MaxClockBehind before it) and nothing
// is idle until the clock passes the ids. The same writer on time is idle
// after a minute (README "Idle").
func TestAWorkspaceThatStoppedIsIdleWhileIdsAreAhead(t *testing.T) {
	for _, ahead := range []time.Duration{0, 20 * time.Minute} {
		t.Run(fmt.Sprint(ahead), func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			l.Seed(&Snapshot{Period: MonthlyUTC.At(t0), StreamID: "0-0",
				Settings: map[string]Settings{"w1": {Allocation: 100000}}}, t0)
			last := t0
			for i := range 60 {
				at := t0.Add(time.Duration(i) * 2 * time.Second)
				id := fmt.Sprintf("%d-0", at.Add(ahead).UnixMilli())
				// the follow reads each entry as it is written (ReadAt)
				l.Apply(&Event{ID: id, TS: at.UnixMilli(), ReadAt: at.UnixMilli(), Workspace: "w1", Endpoint: "/responses", Credits: 20, Status: 200})
				last = at
			}
			now := last.Add(3 * time.Minute)
			_, f, ok := l.VerdictForecast("w1", now)
			if !ok {
				t.Fatal("no w1")
			}
			if !f.Idle || f.RunsOut {
				t.Errorf("3 min after the last of 60 charges 2 s apart (ids %v ahead): idle %v, runs out %v in %v at %.0f/h; want idle", ahead, f.Idle, f.RunsOut, f.RunsOutIn, f.BurnPerHour)
			}
		})
	}
}
