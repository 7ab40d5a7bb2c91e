package model

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestTrustedTimeReadNeverAfterTheRead: no time taken from an entry is later
// than when it was read, and an id ahead of the read (beyond MaxClockSkew)
// dates nothing: ts does, never later than the read. An id not ahead dates as
// TrustedTime does; a read time of 0 (not known) changes nothing.
func TestTrustedTimeReadNeverAfterTheRead(t *testing.T) {
	read := t0.UnixMilli()
	sec := time.Second.Milliseconds()
	for _, tc := range []struct {
		name          string
		ts, id, readM int64
		want          int64
	}{
		{"on time", read - 2*sec, read - sec, read, read - 2*sec},
		{"slow producer, id on time", read - 20*60*sec, read - sec, read, read - sec},
		{"id 20 min ahead, ts on time", read - 3*sec, read + 20*60*sec, read, read - 3*sec},
		{"id 20 min ahead, ts after the read", read + 5*sec, read + 20*60*sec, read, read},
		{"id in 2100, ts 3 min before the read", read - 180*sec, 4102444800000, read, read - 180*sec},
		{"id within the skew ahead, ts on it", read + 500, read + 500, read, read},
		{"slow producer, id within the skew ahead", read - 20*60*sec, read + 500, read, read},
		{"hand-made id, ts ahead of the read", read + 60*sec, 1, read, read},
		{"not read (0): the id dates", read - 20*60*sec, read + 20*60*sec, 0, read + 20*60*sec},
	} {
		if got := TrustedTimeRead(tc.ts, tc.id, tc.readM); got != tc.want {
			t.Errorf("%s: TrustedTimeRead %v, want %v", tc.name, time.UnixMilli(got).UTC(), time.UnixMilli(tc.want).UTC())
		}
	}
	// check's newest entries (EventTime) follow the same rule
	if got, want := EventTime(read-3*sec, time.UnixMilli(4102444800000), t0), read-3*sec; got != want {
		t.Errorf("EventTime of an id in 2100: %v, want its ts %v", time.UnixMilli(got).UTC(), time.UnixMilli(want).UTC())
	}
}

// TestIdsAheadDateAlikeWatchingAndAtAStart (issue 11): one entry XADDed with
// an id ahead of Redis's clock puts every later "*" id as far ahead. Two
// workspaces: "spender" charges 5 credits every 10 s for 15 minutes up to 10
// s ago, "stopped" charged 20 every 2 s for 2 minutes and stopped 3 minutes
// ago. With ids on time, 20 minutes ahead, or all in 2100 (seq rising), a
// ledger watching (each entry read as written) and one started now (the hour
// read back at the start) show what a control with ids on time shows: the
// same burn, idle and run-out for each workspace, the same row age, and
// check's LAST EVENT (EventTime) equals the row's. Before, the ids dated the
// events: "stopped" burned on, never idle, age "now"; a start with ids in 2100
// read "spender" as 0/h.
func TestIdsAheadDateAlikeWatchingAndAtAStart(t *testing.T) {
	now := t0.Add(30 * time.Minute)
	type charge struct {
		ws      string
		at      time.Duration
		credits int64
	}
	var charges []charge
	for at := 15*time.Minute - 10*time.Second; at <= 30*time.Minute-10*time.Second; at += 10 * time.Second {
		charges = append(charges, charge{"spender", at, 5})
	}
	for at := 25 * time.Minute; at <= 27*time.Minute; at += 2 * time.Second {
		charges = append(charges, charge{"stopped", at, 20})
	}
	slices.SortStableFunc(charges, func(a, b charge) int { return int(a.at - b.at) })
	const y2100 = 4102444800000
	events := func(ahead string) []Event {
		var evs []Event
		for i, c := range charges {
			e := use(c.ws, "", "/responses", c.credits, c.at)
			switch ahead {
			case "on time":
				e.ID = fmt.Sprintf("%d-%d", e.TS, i)
			case "20 min ahead":
				e.ID = fmt.Sprintf("%d-%d", e.TS+(20*time.Minute).Milliseconds(), i)
			case "2100":
				e.ID = fmt.Sprintf("%d-%d", int64(y2100), i)
			}
			evs = append(evs, e)
		}
		return evs
	}
	settings := func(l *Ledger) {
		l.SetSettings("spender", Settings{Allocation: 3000}, ms(0))
		l.SetSettings("stopped", Settings{Allocation: 100000}, ms(0))
	}
	watch := func(evs []Event) *Ledger {
		l := NewLedger(MonthlyUTC, t0)
		settings(l)
		for i := range evs {
			evs[i].ReadAt = evs[i].TS // the follow reads each as it is written
			l.Apply(&evs[i])
		}
		return l
	}
	start := func(evs []Event, totals *Snapshot) *Ledger {
		l := NewLedger(MonthlyUTC, now)
		l.Seed(totals, now)
		settings(l)
		rev := slices.Clone(evs)
		slices.Reverse(rev) // newest first, as read back
		for i := range rev {
			rev[i].ReadAt = now.UnixMilli() // read back at the start
		}
		l.Backfill(rev, now.Add(-time.Hour))
		return l
	}
	control := watch(events("on time"))
	for _, ws := range []string{"spender", "stopped"} {
		f := control.Forecast(ws, now)
		if ws == "stopped" && (!f.Idle || f.RunsOut) || ws == "spender" && (f.Idle || !f.RunsOut) {
			t.Fatalf("control %s: idle %v, runs out %v", ws, f.Idle, f.RunsOut)
		}
	}
	for _, ahead := range []string{"on time", "20 min ahead", "2100"} {
		evs := events(ahead)
		for _, how := range []string{"watching", "started now"} {
			var l *Ledger
			if how == "watching" {
				l = watch(slices.Clone(evs))
			} else {
				l = start(evs, control.Totals())
			}
			for _, ws := range []string{"spender", "stopped"} {
				want, got := control.Forecast(ws, now), l.Forecast(ws, now)
				if got.Idle != want.Idle || got.BurnPerHour != want.BurnPerHour || got.RunsOut != want.RunsOut || got.RunsOutIn != want.RunsOutIn || !got.LastCharge.Equal(want.LastCharge) {
					t.Errorf("ids %s, %s, %s: idle %v, burn %.0f/h, runs out %v in %v, last charge %v; want the control's: idle %v, %.0f/h, %v in %v, %v",
						ahead, how, ws, got.Idle, got.BurnPerHour, got.RunsOut, got.RunsOutIn, got.LastCharge.UTC(), want.Idle, want.BurnPerHour, want.RunsOut, want.RunsOutIn, want.LastCharge.UTC())
				}
				s, _ := l.Summary(ws)
				c, _ := control.Summary(ws)
				if s.LastTS != c.LastTS {
					t.Errorf("ids %s, %s, %s: newest event at %v, the control's at %v: the row's age must be the same", ahead, how, ws, time.UnixMilli(s.LastTS).UTC(), time.UnixMilli(c.LastTS).UTC())
				}
			}
		}
		// check reads the newest entries at now: its LAST EVENT is the row's
		newest := map[string]int64{}
		for i := range evs {
			ms, _, _ := ParseStreamID(evs[i].ID)
			newest[evs[i].Workspace] = max(newest[evs[i].Workspace], EventTime(evs[i].TS, time.UnixMilli(int64(ms)), now))
		}
		for ws, at := range newest {
			if c, _ := control.Summary(ws); at != c.LastTS {
				t.Errorf("ids %s, check's LAST EVENT of %s at %v, the row's at %v", ahead, ws, time.UnixMilli(at).UTC(), time.UnixMilli(c.LastTS).UTC())
			}
		}
	}
}
