package feed

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestReadLimitedProjectsIsTheFullRead: the used_by fields ReadLimitedProjects
// keeps, walked page by page with HSCAN, are exactly those of the limited
// projects in a full read of used_by (ReadSnapshot), cleaned and summed the
// same, with the same unreadable ones named — on a hash of 25k fields (several
// pages, hashtable-encoded) holding hostile fields of limited projects: values
// that are no integer, endpoints cleaning merges, a workspace that is no id;
// and nothing is read of the projects without a limit.
func TestReadLimitedProjectsIsTheFullRead(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	now := time.Now()
	p := model.MonthlyUTC.At(now)
	usedBy, settings := map[string]any{}, map[string]any{}
	for i := range 2_500 {
		ws := fmt.Sprintf("w%04d", i)
		for _, project := range []string{"a", "b"} {
			for k := range 5 {
				usedBy[model.UsedByField(ws, project, fmt.Sprintf("/e%d", k))] = i%97 + k
			}
		}
		if i%50 == 0 {
			settings[model.ProjectKey(ws, "a")] = `{"usage_limit":500}`
			usedBy[model.UsedByField(ws, "a", "/e 1")] = 7 // cleaned to /e_1
			usedBy[model.UsedByField(ws, "a", "/e_1")] = 3
		}
		if i%500 == 0 {
			usedBy[model.UsedByField(ws, "a", "/bad")] = "12x"
			usedBy[model.UsedByField(ws, "b", "/bad")] = "nope" // b has no limit
		}
	}
	usedBy["bad ws!/a/e"] = 4
	settings[model.ProjectKey("w0001", "b")] = `{"budget_alert":10}` // a budget without a limit
	for key, h := range map[string]map[string]any{keys.UsedBy(p.Key): usedBy, keys.Settings(): settings, keys.Used(p.Key): {"w0000": 1}} {
		if err := c.HSet(ctx, key, h).Err(); err != nil {
			t.Fatal(err)
		}
	}
	full, err := ReadSnapshot(ctx, c, keys, now, model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	want, wantBad := map[string]int64{}, map[string]error{}
	for f, n := range full.Snap.UsedBy {
		if ws, project, _, _ := model.SplitUsedByField(f); full.Snap.Budgets[model.ProjectKey(ws, project)].Limit > 0 {
			want[f] = n
		}
	}
	for f, why := range full.BadCounters {
		if ws, project, _, _ := model.SplitUsedByField(f[len("used_by:"):]); full.Snap.Budgets[model.ProjectKey(ws, project)].Limit > 0 {
			wantBad[f] = why
		}
	}
	res, err := ReadWorkspaceSnapshot(ctx, c, keys, now, model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	if err := ReadLimitedProjects(ctx, c, keys, res); err != nil {
		t.Fatal(err)
	}
	if len(want) != 50*6 || want[model.UsedByField("w0050", "a", "/e_1")] != 7+3 {
		t.Fatalf("the fixture misses the case: %d fields of limited projects, /e_1 of w0050 %d", len(want), want[model.UsedByField("w0050", "a", "/e_1")])
	}
	if !maps.Equal(res.Snap.UsedBy, want) {
		t.Errorf("%d used_by fields read, want %d as the full read has them", len(res.Snap.UsedBy), len(want))
		for f, n := range want {
			if res.Snap.UsedBy[f] != n {
				t.Errorf("%s: %d, want %d", f, res.Snap.UsedBy[f], n)
			}
		}
	}
	if len(wantBad) != 5 || len(res.BadCounters) != len(wantBad) || res.BadCounterCount != len(wantBad) {
		t.Errorf("unreadable: %v (%d), want %v", res.BadCounters, res.BadCounterCount, wantBad)
	}
	for f, why := range wantBad {
		if got := res.BadCounters[f]; got == nil || got.Error() != why.Error() {
			t.Errorf("%s: %v, want %v", f, got, why)
		}
	}
}

// TestUsedByProjectKeyIsSplitThenJoined: the project key ReadLimitedProjects
// looks a raw used_by field up by, cut out of the field, is the one
// model.SplitUsedByField and model.ProjectKey make of it, and "" (a key no
// budget has) for every field SplitUsedByField refuses — on hostile fields:
// missing parts and slashes, empty parts, more slashes, bytes not UTF-8.
func TestUsedByProjectKeyIsSplitThenJoined(t *testing.T) {
	fields := []string{"", "/", "//", "///", "a", "a/", "a/b", "/a/b", "a//", "a//c", "a/b/", "a/b/c", "a/b/c/d",
		"ws-1/p1//responses", "acme///responses", " /p/e", "\xff/\xfe/\xfd", "é✓/💸/x", "a\x00/b\x00/c"}
	for _, f := range fields {
		want := ""
		if ws, project, _, ok := model.SplitUsedByField(f); ok {
			want = model.ProjectKey(ws, project)
		}
		if got := usedByProjectKey(f); got != want {
			t.Errorf("usedByProjectKey(%q) = %q, want %q", f, got, want)
		}
	}
	// what a refused field is looked up by: no budget's key
	if _, _, ok := model.SplitProjectKey(""); ok {
		t.Error(`"" is a project key a budget may have: a refused field would be kept`)
	}
}
