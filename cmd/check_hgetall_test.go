package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestCheckJSONIsWhatHGETALLHolds: every figure of `mavtop check --json` read
// from Redis is what a plain HGETALL of the same hashes holds (go-redis's
// maps, decoded with encoding/json: none of check's own readers, scanners,
// collector policy or row encoders), on a real redis-server at
// BenchmarkCheckRead's scale shape (3,000 workspaces with settings, 402s and
// projects, some recharged, a usage limit on some projects): the same
// workspaces in name order, each with its used, recharged, allocation,
// usage limit and settings, its 402s (the sum of its refused fields) and
// each limited project's used (the sum of its used_by fields) and limit.
func TestCheckJSONIsWhatHGETALLHolds(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	keys := feed.Keys{}
	const n = 3_000
	pk := fillScale(t, c, keys, n).Period.Key
	recharged, budgets := map[string]any{}, map[string]any{}
	for i := 0; i < n; i += 7 {
		recharged[modeltest.Workspace(i)] = 100 + i
	}
	for i := 0; i < n; i += 11 {
		budgets[model.ProjectKey(modeltest.Workspace(i), "p1")] = fmt.Sprintf(`{"usage_limit":%d}`, 1_000+i)
	}
	if err := c.HSet(ctx0, keys.Recharged(pk), recharged).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx0, keys.Settings(), budgets).Err(); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	if code := run(root, []string{"check", "--json", "--redis-timeout=1m", "--redis=" + srv.URL}, &bytes.Buffer{}); code == checkUnknown {
		t.Fatalf("exit %d: %.300s", code, out.String())
	}
	var got struct {
		Period     string `json:"period"`
		Workspaces []struct {
			Workspace  string          `json:"workspace"`
			Used       int64           `json:"used"`
			Recharged  int64           `json:"recharged"`
			Allocation int64           `json:"allocation"`
			UsageLimit int64           `json:"usage_limit"`
			Refused    int64           `json:"refused_402"`
			Settings   json.RawMessage `json:"settings"`
			Projects   []struct {
				Project string `json:"project"`
				Used    int64  `json:"used"`
				Budget  struct {
					Limit int64 `json:"usage_limit"`
				} `json:"budget"`
			} `json:"projects"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %.300s", err, out.String())
	}
	if got.Period != pk {
		t.Fatalf("period %q, the hashes' %q", got.Period, pk)
	}

	// the bare read: HGETALL of each hash, as redis-cli or a script reads it
	hgetall := func(key string) map[string]string {
		m, err := c.HGetAll(ctx0, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return v
	}
	used, rech, refusedH, usedBy, settingsH := hgetall(keys.Used(pk)), hgetall(keys.Recharged(pk)), hgetall(keys.Refused(pk)), hgetall(keys.UsedBy(pk)), hgetall(keys.Settings())
	names := map[string]bool{}
	for ws := range used {
		names[ws] = true
	}
	for ws := range rech {
		names[ws] = true
	}
	refused := map[string]int64{}
	for f, v := range refusedH {
		ws, _, _, ok := model.SplitRefusedField(f)
		if !ok {
			t.Fatalf("refused field %q", f)
		}
		names[ws] = true
		refused[ws] += num(v)
	}
	projectUsed := map[string]int64{}
	for f, v := range usedBy {
		if ws, p, _, ok := model.SplitUsedByField(f); ok {
			projectUsed[model.ProjectKey(ws, p)] += num(v)
		}
	}
	settings, limits := map[string]model.Settings{}, map[string]int64{}
	for f, raw := range settingsH {
		if ws, p, ok := model.SplitProjectKey(f); ok {
			var b model.ProjectBudget
			if err := json.Unmarshal([]byte(raw), &b); err != nil {
				t.Fatal(err)
			}
			if b.Limit > 0 {
				limits[model.ProjectKey(ws, p)] = b.Limit
			}
			names[ws] = true
			continue
		}
		var s model.Settings
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			t.Fatal(err)
		}
		settings[f] = s
		names[f] = true
	}
	want := make([]string, 0, len(names))
	for ws := range names {
		want = append(want, ws)
	}
	slices.Sort(want)
	if len(got.Workspaces) != len(want) || len(want) < n {
		t.Fatalf("%d rows, the hashes name %d workspaces", len(got.Workspaces), len(want))
	}
	limited := 0
	for i, r := range got.Workspaces {
		ws := want[i]
		if r.Workspace != ws {
			t.Fatalf("row %d is %q, the hashes' %d-th workspace by name %q", i, r.Workspace, i, ws)
		}
		var wantUsed, wantRech int64
		if v, ok := used[ws]; ok {
			wantUsed = num(v)
		}
		if v, ok := rech[ws]; ok {
			wantRech = num(v)
		}
		s := settings[ws]
		if r.Used != wantUsed || r.Recharged != wantRech || r.Refused != refused[ws] || r.Allocation != s.Allocation || r.UsageLimit != s.UsageLimit {
			t.Fatalf("%s: used %d, recharged %d, 402s %d, allocation %d, usage limit %d; HGETALL: %d, %d, %d, %d, %d",
				ws, r.Used, r.Recharged, r.Refused, r.Allocation, r.UsageLimit, wantUsed, wantRech, refused[ws], s.Allocation, s.UsageLimit)
		}
		var gotS model.Settings
		if err := json.Unmarshal(r.Settings, &gotS); err != nil {
			t.Fatal(err)
		}
		if a, b := fmt.Sprint(gotS), fmt.Sprint(s); a != b {
			t.Fatalf("%s: settings %s, HGETALL's %s", ws, a, b)
		}
		var wantProjects []string
		for key := range limits {
			if w, _, _ := model.SplitProjectKey(key); w == ws {
				wantProjects = append(wantProjects, key)
			}
		}
		slices.Sort(wantProjects)
		if len(r.Projects) != len(wantProjects) {
			t.Fatalf("%s: %d projects, HGETALL has %d with a usage limit", ws, len(r.Projects), len(wantProjects))
		}
		for j, p := range r.Projects {
			key := model.ProjectKey(ws, p.Project)
			if key != wantProjects[j] || p.Used != projectUsed[key] || p.Budget.Limit != limits[key] {
				t.Fatalf("%s: project %q used %d limit %d; HGETALL: %q used %d limit %d",
					ws, p.Project, p.Used, p.Budget.Limit, wantProjects[j], projectUsed[wantProjects[j]], limits[wantProjects[j]])
			}
			limited++
		}
	}
	if limited == 0 || len(rech) == 0 || len(refusedH) == 0 {
		t.Fatalf("the fixture tries nothing: %d limited projects, %d recharged, %d refused fields", limited, len(rech), len(refusedH))
	}
}
