package cmd

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestEachFigureIsKnownOrUnknownOnItsOwn: every key of the contract broken
// in each way Redis can refuse it — another type (WRONGTYPE), a user the ACL
// forbids it (NOPERM), deleted — on check, check --json, budget show and
// budget show WS. w1 has used 95 of its 100 (critical); its project web has a
// usage limit of 1000; w2 10 of 1000 plus 100 recharged (ok).
//
// The rule: a level is judged from what is known; a figure that decides it
// (used, recharged, the settings) unknown makes it UNKNOWN, naming the key; a
// figure that does not (the stream: last events; the 402 count; a limited
// project's used_by: the project's own level) is named beside the known
// CRITICAL, never hiding it. Before: a stream of another type, or a user
// without XINFO (the MULTI's EXECABORT), left check UNKNOWN with no row and
// budget show exiting 1; a used_by of another type turned w1's known 95 %
// into "unreadable".
func TestEachFigureIsKnownOrUnknownOnItsOwn(t *testing.T) {
	srv := feedtest.StartReal(t, "WRONGTYPE and ACLs as redis-server answers them (CI requires it)")
	f := &fixture{srv: srv, ctx: t.Context(), c: srv.Client()}
	f.store = feed.NewSettingsStore(f.c, feed.StoreOptions{})
	f.pub = feed.NewPublisher(f.c, feed.PublisherOptions{})
	now := time.Now()
	cfg := model.MidPeriod(now)
	if err := f.store.SetPeriod(f.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	period := rule.At(now).Key
	if err := f.store.SetWorkspace(f.ctx, "w1", model.Settings{Allocation: 100}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetWorkspace(f.ctx, "w2", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetProject(f.ctx, "w1", "web", model.ProjectBudget{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	f.track(t,
		model.Event{Workspace: "w1", Project: "web", Endpoint: "/r", Credits: 95, Status: 200},
		model.Event{Workspace: "w2", Endpoint: "/r", Credits: 10, Status: 200},
		model.Event{Workspace: "w2", Kind: model.KindRecharge, Credits: 100},
	)
	k := feed.Keys{}
	contract := []string{k.Stream(), k.Used(period), k.UsedBy(period), k.Refused(period), k.Recharged(period), k.Settings(), k.Digest(period)}

	type want struct {
		code int  // check's exit
		used bool // w1's used (95) is known on every surface
		rows bool // every workspace has its row, budget show exits 0
	}
	// what each key decides when it cannot be read
	unreadable := map[string]want{
		k.Stream():          {checkCritical, true, true}, // last events only
		k.Refused(period):   {checkCritical, true, true}, // the 402 count only
		k.UsedBy(period):    {checkCritical, true, true}, // web's level only: w1's own is known
		k.Used(period):      {checkUnknown, false, true}, // decides every level
		k.Recharged(period): {checkUnknown, true, true},  // the cap (w1 95 of 100 + ?): the credits used known
		k.Digest(period):    {checkCritical, true, true}, // the audit's alone
		// the allocations and the billing period's rule: which period's
		// counters to read is unknown (the calendar month's are read: none)
		k.Settings(): {checkUnknown, false, false},
	}
	deleted := map[string]want{
		k.Stream(): {checkCritical, true, true}, k.Refused(period): {checkCritical, true, true},
		k.UsedBy(period): {checkCritical, true, true}, k.Recharged(period): {checkCritical, true, true},
		k.Digest(period): {checkCritical, true, true},
		// the used counters gone: 0 used is what Redis holds
		k.Used(period): {checkOK, false, true},
		// no settings: no period rule, the calendar month holds nothing
		k.Settings(): {checkUnknown, false, false},
	}
	ws := func(code int) string { return checkNames[code] }
	for _, key := range []string{k.Stream(), k.Used(period), k.UsedBy(period), k.Refused(period), k.Recharged(period), k.Settings(), k.Digest(period)} {
		for _, fault := range []string{"wrongtype", "noperm", "deleted"} {
			t.Run(fmt.Sprintf("%s/%s", key, fault), func(t *testing.T) {
				saved, _ := f.c.Dump(f.ctx, key).Result()
				t.Cleanup(func() {
					_ = f.c.Del(f.ctx, key).Err()
					if saved != "" {
						if err := f.c.Restore(f.ctx, key, 0, saved).Err(); err != nil {
							t.Fatal(err)
						}
					}
				})
				url := srv.URL
				switch fault {
				case "wrongtype":
					if err := f.c.Del(f.ctx, key).Err(); err != nil {
						t.Fatal(err)
					}
					if err := f.c.Set(f.ctx, key, "x", 0).Err(); err != nil {
						t.Fatal(err)
					}
				case "noperm":
					// a user who may read every key of the contract but this one
					// (its kind of key in any period: the read looks in the
					// calendar month first)
					args := []any{"ACL", "SETUSER", "viewer", "reset", "on", ">pw", "&*", "+@all"}
					for _, other := range contract {
						if other != key {
							args = append(args, "~"+strings.Replace(other, ":"+period, ":*", 1))
						}
					}
					args = append(args, "~{mavera}:alert*", "~{mavera}:acks:*")
					if err := f.c.Do(f.ctx, args...).Err(); err != nil {
						t.Fatal(err)
					}
					url = "redis://viewer:pw@" + srv.Addr + "/0"
				case "deleted":
					if err := f.c.Del(f.ctx, key).Err(); err != nil {
						t.Fatal(err)
					}
				}
				r := "--redis=" + url
				w := unreadable[key]
				named := fault != "deleted"
				if !named {
					w = deleted[key]
				}
				// the key is named by what it is: the stream's words, a hash's
				keyName := fmt.Sprintf("%q", key)

				out, _, code := runMavtop(t, "check", r)
				line, table, _ := strings.Cut(out, "\n")
				if code != w.code || !strings.HasPrefix(line, "MAVTOP "+ws(w.code)+" - ") {
					t.Errorf("check: exit %d, want %d (%s):\n%s", code, w.code, ws(w.code), out)
				}
				if named && !strings.Contains(line, keyName) && key != k.Digest(period) {
					t.Errorf("check: the status line names no %s:\n%s", keyName, line)
				}
				if w.rows && (!strings.Contains(table, "w1") || !strings.Contains(table, "w2")) {
					t.Errorf("check: no row of each workspace:\n%s", out)
				}
				if w.used && !strings.Contains(line, "'w1_used'=95;") {
					t.Errorf("check: w1's 95 used is known, perfdata:\n%s", line)
				}

				out, _, code = runMavtop(t, "check", r, "--json")
				var js struct {
					Status, Reason   string
					StreamUnreadable string `json:"stream_unreadable"`
					Workspaces       []struct {
						Workspace string
						Used      *int64
					}
				}
				if err := json.Unmarshal([]byte(out), &js); err != nil {
					t.Fatalf("check --json: %v:\n%s", err, out)
				}
				if code != w.code || js.Status != strings.ToLower(ws(w.code)) {
					t.Errorf("check --json: exit %d status %q, want %d:\n%s", code, js.Status, w.code, out)
				}
				if named && key != k.Digest(period) && !strings.Contains(js.Reason, keyName) {
					t.Errorf("check --json: the reason names no %s: %q", keyName, js.Reason)
				}
				if named && key == k.Stream() && !strings.Contains(js.StreamUnreadable, keyName) {
					t.Errorf("check --json: stream_unreadable %q names no %s", js.StreamUnreadable, keyName)
				}
				for _, row := range js.Workspaces {
					if row.Workspace == "w1" && w.used && (row.Used == nil || *row.Used != 95) {
						t.Errorf("check --json: w1's used %v, want 95:\n%s", row.Used, out)
					}
				}

				for _, args := range [][]string{{"budget", "show", r}, {"budget", "show", r, "w1"}} {
					out, errOut, code := runMavtop(t, args...)
					if w.rows && code != 0 {
						t.Errorf("%v: exit %d, want 0 (it prints what it can and names what it cannot):\n%s%s", args[:2], code, out, errOut)
					}
					if named && key != k.Digest(period) && !strings.Contains(errOut, keyName) {
						t.Errorf("%v: stderr names no %s:\n%s", args[:2], keyName, errOut)
					}
					if w.used && !budgetShowsUsed(out, "w1", "95") {
						t.Errorf("%v: w1's row does not say 95 used:\n%s", args[:2], out)
					}
				}
			})
		}
	}
}

// budgetShowsUsed reports whether budget show's text has ws's row with used
// in its USED column.
func budgetShowsUsed(out, ws, used string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == ws {
			return f[1] == used
		}
	}
	return false
}

// TestASettingsFigureLeavesTheCountersKnown: the settings — one workspace's
// field junk, the whole hash of another type (WRONGTYPE), forbidden to the
// user (NOPERM), deleted — decide the allocation, the usage limit and so the
// level, never the credits used: on check, check --json, budget show and
// budget show WS (and, for the faults an admin sees, the dashboard and
// /metrics) each workspace's used equals HGET used, and the key or field is
// named. Billing periods are calendar months (no period config), so the
// period read is the one Redis holds whatever the settings say. Before: a
// settings value that cannot be read left "unreadable" used everywhere
// (model.Assess zeroed it) and the dashboard's bar said "counter
// unreadable".
func TestASettingsFigureLeavesTheCountersKnown(t *testing.T) {
	srv := feedtest.StartReal(t, "WRONGTYPE and ACLs as redis-server answers them (CI requires it)")
	f := &fixture{srv: srv, ctx: t.Context(), c: srv.Client()}
	f.store = feed.NewSettingsStore(f.c, feed.StoreOptions{})
	f.pub = feed.NewPublisher(f.c, feed.PublisherOptions{})
	if err := f.store.SetWorkspace(f.ctx, "w1", model.Settings{Allocation: 100}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetWorkspace(f.ctx, "w2", model.Settings{Allocation: 1000, UsageLimit: 500}); err != nil {
		t.Fatal(err)
	}
	f.track(t,
		model.Event{Workspace: "w1", Endpoint: "/r", Credits: 95, Status: 200},
		model.Event{Workspace: "w2", Endpoint: "/r", Credits: 600, Status: 200},
	)
	k := feed.Keys{}
	key := k.Settings()
	period := model.MonthlyUTC.At(time.Now()).Key
	used, err := f.c.HGetAll(f.ctx, k.Used(period)).Result()
	if err != nil || used["w1"] != "95" || used["w2"] != "600" {
		t.Fatalf("HGETALL used: %v %v", used, err)
	}
	for _, fault := range []string{"junk", "wrongtype", "noperm", "deleted"} {
		t.Run(fault, func(t *testing.T) {
			saved, _ := f.c.Dump(f.ctx, key).Result()
			t.Cleanup(func() {
				_ = f.c.Del(f.ctx, key).Err()
				if err := f.c.Restore(f.ctx, key, 0, saved).Err(); err != nil {
					t.Fatal(err)
				}
			})
			url := srv.URL
			named := fmt.Sprintf("%q", key)
			// what each workspace's level is: w1 unknown whenever its
			// settings are (it is at 95 % of an allocation not known), w2's
			// 600 ≥ 500 is its limit's — not known without its settings
			levels := map[string]string{"w1": "unknown", "w2": "unknown"}
			code := checkUnknown
			switch fault {
			case "junk":
				f.hset(t, key, "w1", "junk{")
				named, levels["w2"], code = `settings "w1"`, "exhausted", checkCritical
			case "wrongtype":
				if err := f.c.Del(f.ctx, key).Err(); err != nil {
					t.Fatal(err)
				}
				if err := f.c.Set(f.ctx, key, "x", 0).Err(); err != nil {
					t.Fatal(err)
				}
			case "noperm":
				args := []any{"ACL", "SETUSER", "viewer", "reset", "on", ">pw", "&*", "+@all"}
				for _, other := range []string{k.Stream(), k.Used("*"), k.UsedBy("*"), k.Refused("*"), k.Recharged("*"), k.Digest("*"), "{mavera}:alert*", "{mavera}:acks:*"} {
					args = append(args, "~"+other)
				}
				if err := f.c.Do(f.ctx, args...).Err(); err != nil {
					t.Fatal(err)
				}
				url = "redis://viewer:pw@" + srv.Addr + "/0"
			case "deleted":
				if err := f.c.Del(f.ctx, key).Err(); err != nil {
					t.Fatal(err)
				}
				named, levels["w1"], levels["w2"], code = "", model.Unset, model.Unset, checkOK
			}
			r := "--redis=" + url
			out, _, got := runMavtop(t, "check", r)
			line, table, _ := strings.Cut(out, "\n")
			if got != code || !strings.Contains(line, named) {
				t.Errorf("check: exit %d, want %d, naming %s:\n%s", got, code, named, out)
			}
			for ws, n := range used {
				if !strings.Contains(line, fmt.Sprintf("'%s_used'=%s;", ws, n)) {
					t.Errorf("check: perfdata of %s is not its %s used:\n%s", ws, n, line)
				}
				if row := strings.Fields(rowOf(table, ws)); len(row) < 5 || row[1] != n || !slices.Contains(row, levels[ws]) {
					t.Errorf("check: row of %s %q, want %s used, %s", ws, row, n, levels[ws])
				}
			}
			out, _, got = runMavtop(t, "check", r, "--json")
			var js surfaceJSON
			if err := json.Unmarshal([]byte(out), &js); err != nil || got != code {
				t.Fatalf("check --json: exit %d %v:\n%s", got, err, out)
			}
			if len(js.Workspaces) != len(used) {
				t.Errorf("check --json: %d rows, want %d:\n%s", len(js.Workspaces), len(used), out)
			}
			for _, row := range js.Workspaces {
				if string(row.Used) != used[row.Workspace] || row.Level != levels[row.Workspace] {
					t.Errorf("check --json: %s used %s level %q, want %s, %s", row.Workspace, row.Used, row.Level, used[row.Workspace], levels[row.Workspace])
				}
				if levels[row.Workspace] == "unknown" && (string(row.Percent) != "null" || string(row.Alloc) != "null") {
					t.Errorf("check --json: %s percent %s allocation %s, want null (its settings are not known)", row.Workspace, row.Percent, row.Alloc)
				}
			}
			for _, args := range [][]string{{"budget", "show", r}, {"budget", "show", r, "w1"}} {
				out, errOut, got := runMavtop(t, args...)
				if got != 0 || !strings.Contains(errOut, named) {
					t.Errorf("%v: exit %d, want 0, stderr naming %s:\n%s%s", args[:2], got, named, out, errOut)
				}
				if named != "" && !strings.Contains(errOut, "w1's allocation, usage limit and level are unknown") {
					t.Errorf("%v: stderr does not say what is unknown in an operator's words:\n%s", args[:2], errOut)
				}
				if !budgetShowsUsed(out, "w1", "95") {
					t.Errorf("%v: w1's row does not say 95 used:\n%s", args[:2], out)
				}
			}
			if fault == "noperm" {
				return // the dashboard and /metrics below read as the admin
			}
			v := readSurfaces(t, srv, nil, []string{"w1", "w2"})
			for ws, n := range used {
				row := rowOf(v.screen, ws)
				if !strings.Contains(row, n) || strings.Contains(row, "counter unreadable") {
					t.Errorf("dashboard: row of %s %q, want its %s used, no counter unreadable", ws, row, n)
				}
				if levels[ws] == "unknown" && !strings.Contains(row, "settings unreadable") {
					t.Errorf("dashboard: row of %s %q does not say its settings cannot be read", ws, row)
				}
				total := 0.0
				for s, x := range seriesOf(t, v.metrics, "mavtop_credits_used_total") {
					if s == ws || strings.HasPrefix(s, ws+"/") { // seriesOf's key: workspace/project
						total += x
					}
				}
				if fmt.Sprint(total) != n {
					t.Errorf("/metrics: %s's credits_used_total %v, want %s", ws, total, n)
				}
			}
		})
	}
}
