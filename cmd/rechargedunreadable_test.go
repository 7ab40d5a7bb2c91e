package cmd

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestARechargedCounterDecidesOnlyWhatRechargesCan: the recharged counter
// alone cannot be read — a field of junk, the key of another type
// (WRONGTYPE), forbidden to the user (NOPERM) — and the credits used stay
// known, and so does every verdict the recharges cannot change. w2 has used
// 600 of a usage limit of 500 below its allocation of 1000: the limit binds
// whatever the recharges (the effective cap is min(allocation + recharged,
// usage limit)), so it is exhausted, CRITICAL, on every surface. w1 has used
// 95 of an allocation of 100: critical with nothing recharged, ok with
// enough, so its level is unknown, its 95 used known. w3 has used 100 of
// 1000: under its first threshold whatever it was given, ok. Each surface
// names the field or key. Before: every workspace the counter touched was
// "unreadable" used, UNKNOWN (check exit 3, perfdata U, used null, the
// dashboard's "counter unreadable"), w2 included.
func TestARechargedCounterDecidesOnlyWhatRechargesCan(t *testing.T) {
	srv := feedtest.StartReal(t, "WRONGTYPE and ACLs as redis-server answers them (CI requires it)")
	f := &fixture{srv: srv, ctx: t.Context(), c: srv.Client()}
	f.store = feed.NewSettingsStore(f.c, feed.StoreOptions{})
	f.pub = feed.NewPublisher(f.c, feed.PublisherOptions{})
	for ws, set := range map[string]model.Settings{"w1": {Allocation: 100}, "w2": {Allocation: 1000, UsageLimit: 500}, "w3": {Allocation: 1000}} {
		if err := f.store.SetWorkspace(f.ctx, ws, set); err != nil {
			t.Fatal(err)
		}
	}
	f.track(t,
		model.Event{Workspace: "w1", Endpoint: "/r", Credits: 95, Status: 200},
		model.Event{Workspace: "w2", Endpoint: "/r", Credits: 600, Status: 200},
		model.Event{Workspace: "w3", Endpoint: "/r", Credits: 100, Status: 200},
	)
	k := feed.Keys{}
	period := model.MonthlyUTC.At(time.Now()).Key
	key := k.Recharged(period)
	used, err := f.c.HGetAll(f.ctx, k.Used(period)).Result()
	if err != nil || used["w1"] != "95" || used["w2"] != "600" || used["w3"] != "100" {
		t.Fatalf("HGETALL used: %v %v", used, err)
	}
	levels := map[string]string{"w1": "unknown", "w2": "exhausted", "w3": "ok"}
	for _, fault := range []string{"junk", "wrongtype", "noperm"} {
		t.Run(fault, func(t *testing.T) {
			t.Cleanup(func() { _ = f.c.Del(f.ctx, key).Err() })
			url := srv.URL
			named := map[string]string{} // workspace → the words naming what cannot be read
			switch fault {
			case "junk":
				for _, ws := range []string{"w1", "w2", "w3"} {
					f.hset(t, key, ws, "zz")
					named[ws] = fmt.Sprintf(`counter "recharged:%s"`, ws)
				}
			case "wrongtype":
				if err := f.c.Set(f.ctx, key, "x", 0).Err(); err != nil {
					t.Fatal(err)
				}
			case "noperm":
				args := []any{"ACL", "SETUSER", "viewer", "reset", "on", ">pw", "&*", "+@all"}
				for _, other := range []string{k.Stream(), k.Used("*"), k.UsedBy("*"), k.Refused("*"), k.Settings(), k.Digest("*"), "{mavera}:alert*", "{mavera}:acks:*"} {
					args = append(args, "~"+other)
				}
				if err := f.c.Do(f.ctx, args...).Err(); err != nil {
					t.Fatal(err)
				}
				url = "redis://viewer:pw@" + srv.Addr + "/0"
			}
			if len(named) == 0 {
				for _, ws := range []string{"w1", "w2", "w3"} {
					named[ws] = fmt.Sprintf("key %q", key)
				}
			}
			r := "--redis=" + url

			out, _, code := runMavtop(t, "check", r)
			line, table, _ := strings.Cut(out, "\n")
			if code != checkCritical || !strings.HasPrefix(line, "MAVTOP CRITICAL - w2 120 % of its usage limit") || !strings.Contains(line, named["w1"]) {
				t.Errorf("check: exit %d, want %d, CRITICAL by w2's limit, naming %s:\n%s", code, checkCritical, named["w1"], out)
			}
			for ws, n := range used {
				if !strings.Contains(line, fmt.Sprintf("'%s_used'=%s;", ws, n)) {
					t.Errorf("check: perfdata of %s is not its %s used:\n%s", ws, n, line)
				}
				if row := strings.Fields(rowOf(table, ws)); len(row) < 5 || row[1] != n || !strings.Contains(rowOf(table, ws), " "+levels[ws]+" ") {
					t.Errorf("check: row of %s %q, want %s used, %s", ws, row, n, levels[ws])
				}
			}
			if !strings.Contains(line, "'w2_used'=600;;;0;500 ") {
				t.Errorf("check: w2's perfdata has not its limit as its max (the cap known):\n%s", line)
			}

			out, _, code = runMavtop(t, "check", r, "--json")
			var js struct {
				Status, Reason string
				Workspaces     []struct {
					surfaceRow
					Recharged json.RawMessage `json:"recharged"`
					Cap       json.RawMessage `json:"cap"`
				}
			}
			if err := json.Unmarshal([]byte(out), &js); err != nil || code != checkCritical || js.Status != "critical" {
				t.Fatalf("check --json: exit %d %v:\n%s", code, err, out)
			}
			if len(js.Workspaces) != len(used) {
				t.Errorf("check --json: %d rows, want %d:\n%s", len(js.Workspaces), len(used), out)
			}
			for _, row := range js.Workspaces {
				ws := row.Workspace
				if string(row.Used) != used[ws] || row.Level != levels[ws] || string(row.Recharged) != "null" || !strings.Contains(row.Unreadable, named[ws]) {
					t.Errorf("check --json: %s used %s level %q recharged %s unreadable %q, want %s, %s, null, naming %s",
						ws, row.Used, row.Level, row.Recharged, row.Unreadable, used[ws], levels[ws], named[ws])
				}
			}
			for _, row := range js.Workspaces {
				switch {
				case row.Workspace == "w2" && (string(row.Percent) != "120" || string(row.Cap) != "500"):
					t.Errorf("check --json: w2 percent %s cap %s, want 120 of its limit 500 (it binds whatever the recharges)", row.Percent, row.Cap)
				case row.Workspace == "w1" && (string(row.Percent) != "null" || string(row.Cap) != "null"):
					t.Errorf("check --json: w1 percent %s cap %s, want null (the recharges decide them)", row.Percent, row.Cap)
				}
			}

			for _, args := range [][]string{{"budget", "show", r}, {"budget", "show", r, "w2"}} {
				out, errOut, code := runMavtop(t, args...)
				if code != 0 || !strings.Contains(errOut, named["w2"]) || !strings.Contains(errOut, "w2's recharges are unknown") {
					t.Errorf("%v: exit %d, want 0, stderr naming %s and what it leaves unknown:\n%s%s", args, code, named["w2"], out, errOut)
				}
				if !budgetShowsUsed(out, "w2", "600") || !strings.Contains(rowOf(out, "w2"), "exhausted") {
					t.Errorf("%v: w2's row is not 600 used, exhausted:\n%s", args, out)
				}
			}
			if fault == "noperm" {
				return // the dashboard and /metrics below read as the admin
			}

			v := readSurfaces(t, srv, nil, []string{"w1", "w2", "w3"})
			for ws, n := range used {
				row := rowOf(v.screen, ws)
				if !strings.Contains(row, n) || strings.Contains(row, "counter unreadable") {
					t.Errorf("dashboard: row of %s %q, want its %s used, no counter unreadable", ws, row, n)
				}
				total := 0.0
				for s, x := range seriesOf(t, v.metrics, "mavtop_credits_used_total") {
					if s == ws || strings.HasPrefix(s, ws+"/") {
						total += x
					}
				}
				if fmt.Sprint(total) != n {
					t.Errorf("/metrics: %s's credits_used_total %v, want %s", ws, total, n)
				}
			}
			if row := rowOf(v.screen, "w2"); !strings.Contains(row, "OUT") && !strings.Contains(row, "limit") {
				t.Errorf("dashboard: w2's row %q does not say it is at its limit", row)
			}
			lv := seriesOf(t, v.metrics, "mavtop_workspace_level")
			if lv["w2"] != float64(model.LevelExhausted) || lv["w3"] != float64(model.LevelOK) || !math.IsNaN(lv["w1"]) {
				t.Errorf("/metrics: workspace_level %v, want w2 %d, w3 %d, w1 NaN", lv, model.LevelExhausted, model.LevelOK)
			}
			if got := metricValue(t, v.metrics, "mavtop_counters_unreadable"); got != 3 {
				t.Errorf("mavtop_counters_unreadable %v, want 3 (every recharged counter)", got)
			}
			if got := seriesOf(t, v.metrics, "mavtop_credits_recharged_total"); len(got) != 0 {
				t.Errorf("/metrics: credits_recharged_total %v, want none (not known)", got)
			}
			want := map[string]model.AlertCondition{
				model.AlertID(period, "w2", "", model.AlertUsageLimit, ""):  model.ConditionHolds,
				model.AlertID(period, "w2", "", model.AlertThreshold, "90"): model.ConditionHolds,
				model.AlertID(period, "w2", "", model.AlertAllocation, ""):  model.ConditionEnded, // 600 < 1000 whatever the recharges
				model.AlertID(period, "w1", "", model.AlertAllocation, ""):  model.ConditionEnded, // 95 < 100
				model.AlertID(period, "w1", "", model.AlertThreshold, "90"): model.ConditionUnknown,
				model.AlertID(period, "w1", "", model.AlertThreshold, "50"): model.ConditionUnknown,
				model.AlertID(period, "w3", "", model.AlertThreshold, "50"): model.ConditionEnded,
				model.AlertID(period, "w3", "", model.AlertAllocation, ""):  model.ConditionEnded,
			}
			got := map[string]model.AlertCondition{}
			for _, a := range v.alerts {
				got[a.ID] = a.Condition
			}
			for id, c := range want {
				if got[id] != c {
					t.Errorf("alerts: %s %v, want %v", id, got[id], c)
				}
			}
		})
	}
}
