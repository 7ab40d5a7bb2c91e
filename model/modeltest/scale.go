// Package modeltest builds ledgers of any size for benchmarks and the scale
// harness: the same shape at 1k, 10k and 100k workspaces, so figures compare.
package modeltest

import (
	"fmt"
	"time"

	"mavtop/model"
)

// Endpoints are the four endpoints every scale workspace spends on.
var Endpoints = []string{"/responses", "/mave/chat", "/focus-groups", "/video-analyses"}

// Projects is how many projects every scale workspace has.
const Projects = 3

// Workspace is the name of scale workspace i.
func Workspace(i int) string { return fmt.Sprintf("ws-%06d", i) }

// Snapshot returns the counters of n workspaces in the period holding now:
// allocations of 10,000–1,009,999 credits, usage spread from 0 to 110 % of
// them, 3 projects × 4 endpoints each in used_by, a 402 count on every tenth.
func Snapshot(n int, now time.Time) *model.Snapshot {
	s := &model.Snapshot{
		Period: model.MonthlyUTC.At(now), StreamID: "0-0",
		Used: make(map[string]int64, n), UsedBy: make(map[string]int64, n*Projects*len(Endpoints)),
		Refused: map[string]int64{}, Recharged: map[string]int64{},
		Settings: make(map[string]model.Settings, n),
	}
	for i := 0; i < n; i++ {
		ws := Workspace(i)
		alloc := int64(10_000 + i%1_000_000)
		used := alloc * int64(i*37%111) / 100
		s.Settings[ws] = model.Settings{Allocation: alloc}
		s.Used[ws] = used
		per := used / int64(Projects*len(Endpoints))
		for p := 0; p < Projects; p++ {
			for _, ep := range Endpoints {
				s.UsedBy[model.UsedByField(ws, fmt.Sprintf("p%d", p), ep)] = per
			}
		}
		s.UsedBy[model.UsedByField(ws, "p0", Endpoints[0])] += used - per*int64(Projects*len(Endpoints))
		if i%10 == 0 {
			s.Refused[model.RefusedField(ws, "p0", model.CodeCreditsExhausted)] = 3
		}
	}
	return s
}

// Event returns the k-th event of a steady load over n workspaces at time ts
// (unix ms): workspaces in turn, a project and endpoint each, 1 % refused.
func Event(k, n int, ts int64) model.Event {
	e := model.Event{
		ID: fmt.Sprintf("%d-%d", ts, k), TS: ts, Workspace: Workspace(k % n),
		Project: fmt.Sprintf("p%d", k%Projects), Endpoint: Endpoints[k%len(Endpoints)],
		Credits: int64(1 + k%40), Status: 200,
	}
	if k%100 == 99 {
		e.Status, e.Code, e.Credits, e.Msg = 402, model.CodeCreditsExhausted, 0, "out of credits"
	}
	return e
}

// History returns count events spread over the hour before now across n
// workspaces, newest first (as a start-up read hands them over).
func History(count, n int, now time.Time) []model.Event {
	evs := make([]model.Event, count)
	step := int64(time.Hour/time.Millisecond) / int64(max(count, 1))
	for i := range evs {
		evs[i] = Event(i, n, now.UnixMilli()-int64(i)*step-1)
	}
	return evs
}
