package model_test

import (
	"fmt"
	"testing"
	"time"

	"mavtop/model"
)

// TestACopiedWorkspaceKeepsEachProjectsEndpoints: a ledger copies a
// workspace state it shares with a clone at its first change, every
// project's endpoint credits into one array; an endpoint new to one project
// of the copy, in any order of names, must move that project's credits
// elsewhere and leave its neighbours' and the original's exactly as they
// were. Checked against the sums of the events each ledger applied.
func TestACopiedWorkspaceKeepsEachProjectsEndpoints(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, now.Add(-time.Hour))
	type key struct{ project, endpoint string }
	orig := map[key]int64{}
	ts := now.UnixMilli()
	apply := func(l *model.Ledger, sums map[key]int64, project, endpoint string, credits int64) {
		ts++
		e := model.Event{ID: fmt.Sprintf("%d-0", ts), TS: ts, Workspace: "acme", Project: project, Endpoint: endpoint, Credits: credits, Status: 200}
		l.Apply(&e)
		sums[key{project, endpoint}] += credits
	}
	for i, p := range []string{"a", "b", "c"} {
		for j, ep := range []string{"/m", "/c", "/x"} {
			apply(l, orig, p, ep, int64(1+i*10+j))
		}
	}
	want := func(name string, l *model.Ledger, sums map[key]int64) {
		t.Helper()
		got := map[key]int64{}
		for _, p := range l.Projects("acme") {
			for _, ep := range p.Endpoints {
				got[key{p.Name, ep.Endpoint}] += ep.Credits
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(sums) {
			t.Errorf("%s: endpoint credits %v, want %v", name, got, sums)
		}
	}
	copied := map[key]int64{}
	for k, v := range orig {
		copied[k] = v
	}
	c := l.Clone()
	// new endpoints sorting first, in the middle and last, in every project of the copy
	for _, ep := range []string{"/a", "/d", "/z", "/b"} {
		for _, p := range []string{"a", "b", "c"} {
			apply(c, copied, p, ep, 100)
			apply(c, copied, p, "/m", 1)
		}
	}
	want("the copy", c, copied)
	want("the original, the copy changed", l, orig)
	apply(l, orig, "b", "/y", 7)
	apply(l, orig, "a", "/c", 7)
	want("the original changed", l, orig)
	want("the copy, the original changed", c, copied)
}
