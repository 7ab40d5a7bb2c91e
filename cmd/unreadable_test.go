package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAnUnreadableCounterIsUnknownOnEverySurface: a counter that holds no
// integer ≥ 0 — text, a number beyond int64, a negative number, an empty
// string, "+5", "05" or "-0" (Redis's HINCRBY refuses them) — makes its
// workspace's level unknown, the model's one judgement (model.LevelUnknown), on
// every surface alike: the dashboard row ("? unkn", "unreadable", not "✓ ok 0
// %"), check (text, --json with null figures, exit 3), budget show (text,
// --json, a line on stderr), /metrics (workspace_level NaN, no percent, no
// counter series that could go down, counters_unreadable) and the alerts (a
// threshold alert that held is neither held nor ended: a firing one is not
// resolved; its project's lines alike). It holds for every counter mavtop
// judges by: used, a 402 count (refused, "−3 refusals" before) and the
// used_by credits of a project with a usage limit (read as 0 or skipped
// before). With settings or without. A good value written later heals it.
func TestAnUnreadableCounterIsUnknownOnEverySurface(t *testing.T) {
	hostile := map[string]struct {
		value    string
		settings bool
		why      string
	}{
		"text":      {"notanumber", true, `"notanumber" is not an integer`},
		"overflow":  {"18446744073709551616", true, `"18446744073709551616" is not an integer`}, // 2^64
		"negative":  {"-50", false, "-50 is negative"},
		"negset":    {"-3", true, "-3 is negative"},
		"empty":     {"", false, `"" is not an integer`},
		"emptyset":  {"", true, `"" is not an integer`},
		"minint":    {"-9223372036854775808", true, "-9223372036854775808 is negative"},
		"plusminus": {"+-7", true, `"+-7" is not an integer`},
		// integers to strconv but not to Redis: every producer's HINCRBY
		// fails on them, so the counter is frozen, not 5 or 0
		"plus":      {"+5", true, `"+5" is not an integer`},
		"zerofirst": {"05", false, `"05" is not an integer`},
		"minuszero": {"-0", true, `"-0" is not an integer`},
	}
	for _, counter := range []struct {
		hash  string
		key   func(period string) string
		field func(ws string) string
	}{
		{"used", feed.Keys{}.Used, func(ws string) string { return ws }},
		{"refused", feed.Keys{}.Refused, func(ws string) string { return model.RefusedField(ws, "p1", model.CodeCreditsExhausted) }},
		{"used_by", feed.Keys{}.UsedBy, func(ws string) string { return model.UsedByField(ws, "p1", "/responses") }},
	} {
		t.Run(counter.hash, func(t *testing.T) {
			f := newFixture(t)
			srv, period := f.srv, f.period
			// spent beside the hostile one, and a project p2 without a limit
			// whose used_by field is broken: it judges nothing, so it changes
			// nothing (the check row stays "high")
			names := []string{"fine", "free"}
			f.allocate(t, 1000, names...)
			for _, name := range names {
				f.track(t, model.Event{Workspace: name, Project: "p2", Endpoint: "/responses", Credits: 800, Status: 200})
			}
			f.hset(t, feed.Keys{}.UsedBy(period), model.UsedByField("free", "p2", "/responses"), "garbage")
			for name, h := range hostile {
				names = append(names, name)
				if h.settings {
					f.allocate(t, 1000, name)
				}
				// p1's usage limit is far: its used_by judges the workspace's verdict
				if err := f.store.SetProject(f.ctx, name, "p1", model.ProjectBudget{Limit: 100_000}); err != nil {
					t.Fatal(err)
				}
				// 800 of 1,000: the 50 and 75 % threshold alerts held before the
				// counter was broken
				f.track(t, model.Event{Workspace: name, Project: "p1", Endpoint: "/responses", Credits: 800, Status: 200})
				f.hset(t, counter.key(period), counter.field(name), h.value)
			}

			v := readSurfaces(t, srv, nil, names)
			// WARNING (fine, 80 %) ranks above UNKNOWN (model.WorseCheck), whose reason is said
			if textField := counter.hash + ":" + counter.field("text"); v.checkCode != checkWarning || !strings.Contains(v.checkText, `counter "`+textField+`" cannot be read`) {
				t.Errorf("check exit %d, want 1 (WARNING over UNKNOWN) naming %s\n%s", v.checkCode, textField, v.checkText)
			}
			wsLevels := seriesOf(t, v.metrics, "mavtop_workspace_level")
			pcts := seriesOf(t, v.metrics, "mavtop_credits_used_percent")
			if got := metricValue(t, v.metrics, "mavtop_counters_unreadable"); got != float64(len(hostile)) {
				t.Errorf("mavtop_counters_unreadable %v, want %d", got, len(hostile))
			}
			counters := map[string]map[string]float64{}
			for _, m := range []string{"mavtop_credits_used_total", "mavtop_refusals_total", "mavtop_credits_recharged_total"} {
				counters[m] = seriesOf(t, v.metrics, m)
			}
			_, budgetErr, _ := runMavtop(t, "budget", "show", "--redis="+srv.URL)
			for name, h := range hostile {
				field := counter.hash + ":" + counter.field(name)
				if counter.hash == "refused" {
					// each figure on its own: only the 402 count is unknown;
					// 800 of 1,000 is known and judged (high), as the
					// model judges it on every surface
					v.jsonRows(t, name, func(surface string, row surfaceRow) {
						if !strings.Contains(row.RefusedUnreadable, field) || !strings.Contains(row.RefusedUnreadable, h.why) || row.Unreadable != "" || string(row.Refused) != "null" {
							t.Errorf("%s: %s refused_unreadable %q unreadable %q refused_402 %s; want the field named, usage known, 402s null", name, surface, row.RefusedUnreadable, row.Unreadable, row.Refused)
						}
						if h.settings && (row.Level != "high" || string(row.Used) != "800") {
							t.Errorf("%s: %s level %q used %s; want high, 800", name, surface, row.Level, row.Used)
						}
					})
					if row := rowOf(v.checkText, name); !strings.Contains(row, " unreadable ") || strings.Contains(row, " unknown") || h.settings && !strings.Contains(row, " high ") {
						t.Errorf("%s: check row %q, want its level judged and its 402s unreadable", name, row)
					}
					if !strings.Contains(budgetErr, field) || !strings.Contains(budgetErr, name+"'s 402 count is unknown") {
						t.Errorf("%s: budget show's stderr %q does not name it", name, budgetErr)
					}
					if got := wsLevels[name]; h.settings && got != float64(model.LevelHigh) {
						t.Errorf("%s: mavtop_workspace_level %v, want high", name, got)
					}
					for key, got := range counters["mavtop_refusals_total"] {
						if key == name || strings.HasPrefix(key, name+"/") {
							t.Errorf("%s: mavtop_refusals_total %v, want no series (a counter never goes down)", name, got)
						}
					}
					continue
				}
				if counter.hash == "used_by" {
					// each figure on its own: only the project's credits, and
					// so its level, are unknown; the workspace's 800 of 1,000
					// is known and judged (high), and its verdict ranks the
					// unknown project as check ranks UNKNOWN (below high)
					v.jsonRows(t, name, func(surface string, row surfaceRow) {
						if row.Unreadable != "" || string(row.Used) != "800" {
							t.Errorf("%s: %s unreadable %q used %s; want the usage known (800)", name, surface, row.Unreadable, row.Used)
						}
						if h.settings && (row.Level != "high" || row.Verdict != "high") {
							t.Errorf("%s: %s level %q verdict %q; want high, high", name, surface, row.Level, row.Verdict)
						}
						if !h.settings && row.Verdict != "unknown" {
							t.Errorf("%s: %s verdict %q; want unknown (p1's credits decide it)", name, surface, row.Verdict)
						}
						if len(row.Projects) != 1 || row.Projects[0].Level != "unknown" || string(row.Projects[0].Used) != "null" ||
							!strings.Contains(row.Projects[0].Unreadable, field) || !strings.Contains(row.Projects[0].Unreadable, h.why) {
							t.Errorf("%s: %s projects %+v; want p1 unknown, used null, naming %s", name, surface, row.Projects, field)
						}
					})
					if row := rowOf(v.checkText, name+"/p1"); !strings.Contains(row, " - ") || !strings.Contains(row, " unknown") || strings.Contains(row, " 800 ") {
						t.Errorf("%s: check's project row %q, want its credits - and unknown", name, row)
					}
					if row := rowOf(v.checkText, name); h.settings && (!strings.Contains(row, " 800 ") || !strings.Contains(row, " high ")) {
						t.Errorf("%s: check row %q, want 800 and high", name, row)
					}
					if !strings.Contains(budgetErr, field) || !strings.Contains(budgetErr, name+"/p1's usage and level are unknown") {
						t.Errorf("%s: budget show's stderr %q does not name it", name, budgetErr)
					}
					if got := wsLevels[name]; h.settings && got != float64(model.LevelHigh) {
						t.Errorf("%s: mavtop_workspace_level %v, want high", name, got)
					}
					if got, ok := seriesOf(t, v.metrics, "mavtop_project_level")[name+"/p1"]; !ok || !math.IsNaN(got) {
						t.Errorf("%s: mavtop_project_level %v (%v), want NaN", name, got, ok)
					}
					for _, a := range v.alerts {
						if a.Workspace != name || a.Kind == model.AlertRefusals {
							continue
						}
						if a.Project == "p1" && a.Condition != model.ConditionUnknown {
							t.Errorf("%s: alert %s condition %v, want unknown (a firing one must not resolve)", name, a.ID, a.Condition)
						}
						if a.Project == "" && h.settings && a.Kind == model.AlertThreshold && a.Threshold <= 75 && a.Condition != model.ConditionHolds {
							t.Errorf("%s: alert %s condition %v, want holds (800 of 1,000 is known)", name, a.ID, a.Condition)
						}
					}
					continue
				}
				v.jsonRows(t, name, func(surface string, row surfaceRow) {
					if row.Level != "unknown" || row.Verdict != "unknown" || !strings.Contains(row.Unreadable, field) || !strings.Contains(row.Unreadable, h.why) {
						t.Errorf("%s: %s level %q verdict %q unreadable %q; want unknown, naming %s and %s", name, surface, row.Level, row.Verdict, row.Unreadable, field, h.why)
					}
					if surface == "check --json" && row.Check != "unknown" {
						t.Errorf("%s: check --json check %q, want unknown", name, row.Check)
					}
					// no figure a script would take for a reading
					for key, raw := range map[string]json.RawMessage{"used": row.Used, "percent": row.Percent, "remaining": row.Remaining, "refused_402": row.Refused} {
						if string(raw) != "null" {
							t.Errorf("%s: %s %q is %s, want null", name, surface, key, raw)
						}
					}
				})
				for surface, text := range map[string]string{"check": v.checkText, "budget show": v.budgetText} {
					if row := rowOf(text, name); !strings.Contains(row, " unreadable ") || !strings.Contains(row, " unknown") {
						t.Errorf("%s: %s row %q, want unreadable and unknown", name, surface, row)
					}
				}
				if !strings.Contains(budgetErr, field) || !strings.Contains(budgetErr, name+"'s usage and level are unknown") {
					t.Errorf("%s: budget show's stderr %q does not name it", name, budgetErr)
				}
				if row := rowOf(v.screen, name); !strings.Contains(row, "? unkn") || !strings.Contains(row, "unreadable") || strings.Contains(row, " ok ") || strings.Contains(row, "0 %") || strings.Contains(row, "−") {
					t.Errorf("%s: dashboard row %q, want '? unkn' and 'unreadable'", name, row)
				}
				if got, ok := wsLevels[name]; !ok || !math.IsNaN(got) {
					t.Errorf("%s: mavtop_workspace_level %v (%v), want NaN", name, got, ok)
				}
				if got, ok := pcts[name]; ok {
					t.Errorf("%s: mavtop_credits_used_percent %v, want none", name, got)
				}
				for m, series := range counters {
					for key, got := range series {
						if key == name || strings.HasPrefix(key, name+"/") {
							t.Errorf("%s: %s %v, want no series (a counter never goes down)", name, m, got)
						}
					}
				}
				n := 0
				for _, a := range v.alerts {
					if a.Workspace != name || a.Kind == model.AlertRefusals {
						continue
					}
					n++
					if a.Condition != model.ConditionUnknown {
						t.Errorf("%s: alert %s condition %v, want unknown (a firing one must not resolve)", name, a.ID, a.Condition)
					}
				}
				if h.settings && n == 0 {
					t.Errorf("%s: no alert judged", name)
				}
			}
			// the controls: a good counter beside them is judged as ever, and
			// so is one whose project without a limit has a broken used_by
			for _, name := range []string{"fine", "free"} {
				if row := rowOf(v.checkText, name); !strings.Contains(row, " 80 % ") || !strings.Contains(row, " high ") {
					t.Errorf("%s: check row %q", name, row)
				}
				if got := wsLevels[name]; got != float64(model.LevelHigh) {
					t.Errorf("%s: mavtop_workspace_level %v", name, got)
				}
			}
			for _, row := range v.check.Workspaces {
				if row.Workspace == "fine" && string(row.Used) != "800" {
					t.Errorf("fine: check --json used %s, want 800", row.Used)
				}
			}

			// a good value heals it
			f.hset(t, counter.key(period), counter.field("text"), 950)
			out, _, _ := runMavtop(t, "check", "--redis="+srv.URL, "text")
			if row := rowOf(out, "text"); strings.Contains(row, "unreadable") || strings.Contains(row, "unknown") || strings.HasPrefix(out, "MAVTOP UNKNOWN") {
				t.Errorf("check text after a good value: %q", out)
			}
		})
	}
}

// metricValue is the value of a metric without labels in a scrape.
func metricValue(t *testing.T, scrape, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(scrape, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the scrape", name)
	return 0
}

// TestARefusedWorkspaceWithAnUnreadableCounterIsOutOnEverySurface: the API
// refusing a workspace with credits_exhausted is known whatever its used
// counter holds (model.Assess: LevelExhausted, the API's word). The dashboard
// said ✖ OUT and /metrics level 5, but check overrode the model with UNKNOWN
// (exit 3, not 2) and budget show with "unknown". And the text surfaces gave
// figures --json says are unknown: check's 402 column and perfdata ('_402'=1c),
// a limited project's used, percent and level ("0", "0 %", "ok"), budget
// show's RECHARGED. The reason of a workspace refused before its cap is used
// up said only 'early 20 % used', which explains no CRITICAL.
func TestARefusedWorkspaceWithAnUnreadableCounterIsOutOnEverySurface(t *testing.T) {
	f := newFixture(t)
	srv := f.srv
	f.allocate(t, 100, "out", "lim", "early", "rerefused", "refilled")
	if err := f.store.SetProject(f.ctx, "lim", "p1", model.ProjectBudget{Limit: 500}); err != nil {
		t.Fatal(err)
	}
	f.track(t,
		model.Event{Workspace: "out", Endpoint: "/r", Credits: 20, Status: 200},
		model.Event{Workspace: "out", Endpoint: "/r", Status: 402, Code: model.CodeCreditsExhausted},
		model.Event{Workspace: "lim", Project: "p1", Endpoint: "/r", Credits: 30, Status: 200},
		model.Event{Workspace: "lim", Kind: model.KindRecharge, Credits: 50},
		// readable, refused at 20 %: its reason says why it is CRITICAL
		model.Event{Workspace: "early", Endpoint: "/r", Credits: 20, Status: 200},
		model.Event{Workspace: "early", Endpoint: "/r", Status: 402, Code: model.CodeCreditsExhausted},
		// their 402 count broken below: a 402 after a recharge is OUT (the
		// dashboard said OUT, check UNKNOWN: it judged by the counters
		// alone), a recharge after the 402 ends it (unknown: unreadable)
		model.Event{Workspace: "rerefused", Endpoint: "/r", Credits: 20, Status: 200},
		model.Event{Workspace: "rerefused", Kind: model.KindRecharge, Credits: 50},
		model.Event{Workspace: "rerefused", Endpoint: "/r", Status: 402, Code: model.CodeCreditsExhausted},
		model.Event{Workspace: "refilled", Endpoint: "/r", Credits: 20, Status: 200},
		model.Event{Workspace: "refilled", Endpoint: "/r", Status: 402, Code: model.CodeCreditsExhausted},
		model.Event{Workspace: "refilled", Kind: model.KindRecharge, Credits: 50},
	)
	for _, ws := range []string{"rerefused", "refilled"} {
		f.hset(t, feed.Keys{}.Refused(f.period), model.RefusedField(ws, "", model.CodeCreditsExhausted), "abc")
	}
	f.hset(t, feed.Keys{}.Used(f.period), "out", "abc")
	f.hset(t, feed.Keys{}.Recharged(f.period), "lim", "-3") // its recharges alone unknown: its 30 used, its 402s, p1's credits known
	v := readSurfaces(t, srv, nil, []string{"out", "lim", "early", "rerefused", "refilled"})
	// the model's rule, on every surface: a credits_exhausted 402 newer than
	// the last credit added outranks a count that cannot be read; a credit
	// added after it ends it, and the usage read is judged (only the 402
	// count is unknown: TestAnUnreadable402CountLeavesUsageKnown)
	for ws, want := range map[string]model.Level{"rerefused": model.LevelExhausted, "refilled": model.LevelOK} {
		v.jsonRows(t, ws, func(surface string, row surfaceRow) {
			if row.Level != want.String() {
				t.Errorf("%s: %s level %q, want %v", ws, surface, row.Level, want)
			}
		})
		word := map[model.Level]string{model.LevelExhausted: "✖ OUT", model.LevelOK: "✓ ok"}[want]
		if row := rowOf(v.screen, ws); !strings.Contains(row, word) {
			t.Errorf("%s: dashboard row %q, want %s", ws, row, word)
		}
		got := seriesOf(t, v.metrics, "mavtop_workspace_level")[ws]
		if got != float64(want) {
			t.Errorf("%s: mavtop_workspace_level %v, want %v", ws, got, want)
		}
	}
	if !strings.Contains(v.checkText, "rerefused refused with 402 credits_exhausted at 13 % used") {
		t.Errorf("check's reason does not name rerefused as refused\n%s", v.checkText)
	}
	if row := rowOf(v.screen, "out"); !strings.Contains(row, "OUT") {
		t.Fatalf("control: dashboard row %q, want OUT", row)
	}
	if got := seriesOf(t, v.metrics, "mavtop_workspace_level")["out"]; got != float64(model.LevelExhausted) {
		t.Fatalf("control: mavtop_workspace_level %v, want 5", got)
	}
	if v.checkCode != checkCritical || !strings.HasPrefix(v.checkText, "MAVTOP CRITICAL - ") || !strings.Contains(v.checkText, "out refused with 402 credits_exhausted (usage unreadable)") {
		t.Errorf("check exit %d, want 2 naming out\n%s", v.checkCode, v.checkText)
	}
	if !strings.Contains(v.checkText, "early refused with 402 credits_exhausted at 20 % used") {
		t.Errorf("check's reason does not say why early is CRITICAL (it said 'early 20 %% used')\n%s", v.checkText)
	}
	for surface, text := range map[string]string{"check": v.checkText, "budget show": v.budgetText} {
		if row := rowOf(text, "out"); !strings.Contains(row, " unreadable ") || !strings.Contains(row, " exhausted") {
			t.Errorf("%s row %q, want unreadable and exhausted", surface, row)
		}
	}
	v.jsonRows(t, "out", func(surface string, row surfaceRow) {
		if row.Level != "exhausted" || string(row.Used) != "null" {
			t.Errorf("%s: out level %q used %s, want exhausted and null", surface, row.Level, row.Used)
		}
	})
	perf := strings.SplitN(strings.SplitN(v.checkText, "\n", 2)[0], " | ", 2)[1]
	for _, want := range []string{"'out_used'=U;", "'out_402'=U", "'lim_used'=30;", "'lim_402'=0c", "'lim/p1_used'=30;"} {
		if !strings.Contains(perf, want) {
			t.Errorf("perfdata %q lacks %s", perf, want)
		}
	}
	if row := rowOf(v.checkText, "lim/p1"); !strings.Contains(row, " 30 ") || !strings.Contains(row, " ok ") {
		t.Errorf("check's project row %q: its 30 of its limit 500 are known whatever lim's recharges, ok", row)
	}
	if row := rowOf(v.budgetText, "lim"); !strings.Contains(row, "  -  ") || strings.Contains(row, " 50 ") {
		t.Errorf("budget show row %q, want RECHARGED -", row)
	}
	for _, row := range v.budget.Workspaces {
		if row.Workspace == "lim" && (len(row.Projects) != 1 || row.Projects[0].Level != "ok") {
			t.Errorf("budget show --json lim's projects %+v, want level ok (its limit is not lim's recharges')", row.Projects)
		}
	}
}

// TestAnUnreadableSettingsValueIsUnknownOnEverySurface: a settings value that
// is present but cannot be read — a negative usage limit, 1e300, a string
// "1000", NaN, a fraction, an object, a negative recharge threshold, for a
// workspace or a project's budget — made the workspace "· unset" on the
// dashboard, its check row ok and /metrics level 0, while check's status
// line said UNKNOWN: the value was dropped and the workspace judged as if
// none were set. It is unknown on every surface (model.Settings.Unreadable,
// Assess: LevelUnknown), the field named (sanitised), as an unreadable
// counter is: JSON null, text "-"/"unreadable", perfdata U, workspace_level
// NaN; its counters are sound, so their series stay. A setting absent is
// unset; a good value written later heals it.
func TestAnUnreadableSettingsValueIsUnknownOnEverySurface(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	hostile := map[string]struct{ raw, why string }{
		"neglimit": {`{"allocation":1000,"usage_limit":-5}`, "usage limit -5 must be between 0"},
		"huge":     {`{"allocation":1e300}`, "allocation holds number 1e300"},
		"text":     {`{"allocation":"1000"}`, "allocation holds string"},
		"nan":      {`{"allocation":NaN}`, "allocation holds no JSON value"},
		"frac":     {`{"allocation":1000.5}`, "allocation holds number 1000.5"},
		"object":   {`{"allocation":{"n":1000}}`, "allocation holds object"},
		"recharge": {`{"allocation":1000,"recharge_below":-1,"recharge_amount":50}`, "must not be negative"},
		"escape":   {"{\"allocation\":\"\x1b[31m\"}", "invalid character"},
	}
	names := []string{"fine", "loose", "projbad"}
	for _, name := range names {
		if err := pub.Track(ctx, model.Event{Workspace: name, Project: "p1", Endpoint: "/responses", Credits: 800, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range []string{"fine", "projbad"} {
		if err := store.SetWorkspace(ctx, ws, model.Settings{Allocation: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	// a project budget that cannot be read: the workspace's own cap is read
	// (high, 80 %), its verdict is unknown (p1 may be at a limit)
	if err := c.HSet(ctx, feed.Keys{}.Settings(), model.ProjectKey("projbad", "p1"), `{"usage_limit":-5}`).Err(); err != nil {
		t.Fatal(err)
	}
	for name, h := range hostile {
		names = append(names, name)
		if err := pub.Track(ctx, model.Event{Workspace: name, Endpoint: "/responses", Credits: 800, Status: 200}); err != nil {
			t.Fatal(err)
		}
		if err := c.HSet(ctx, feed.Keys{}.Settings(), name, h.raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	v := readSurfaces(t, srv, nil, names)
	if v.checkCode != checkWarning || !strings.Contains(v.checkText, `settings "text" cannot be read`) || !strings.Contains(v.checkText, `settings "projbad/p1" cannot be read`) {
		t.Errorf("check exit %d, want 1 (fine is high; WARNING over UNKNOWN) naming the unreadable settings\n%s", v.checkCode, v.checkText)
	}
	if strings.Contains(v.checkText, "\x1b") || strings.Contains(v.budgetText, "\x1b") || strings.Contains(v.screen, "\x1b[31m") {
		t.Errorf("the hostile value reached a surface raw")
	}
	wsLevels := seriesOf(t, v.metrics, "mavtop_workspace_level")
	pcts := seriesOf(t, v.metrics, "mavtop_credits_used_percent")
	used := seriesOf(t, v.metrics, "mavtop_credits_used_total")
	if got := metricValue(t, v.metrics, "mavtop_settings_unreadable"); got != float64(len(hostile)+1) {
		t.Errorf("mavtop_settings_unreadable %v, want %d", got, len(hostile)+1)
	}
	if got := metricValue(t, v.metrics, "mavtop_counters_unreadable"); got != 0 {
		t.Errorf("mavtop_counters_unreadable %v, want 0: the counters are sound", got)
	}
	for name, h := range hostile {
		for surface, js := range map[string]surfaceJSON{"check --json": v.check, "budget show --json": v.budget} {
			found := false
			for _, row := range js.Workspaces {
				if row.Workspace != name {
					continue
				}
				found = true
				if row.Level != "unknown" || row.Verdict != "unknown" || !strings.Contains(row.Unreadable, `settings "`+name+`" cannot be read`) || !strings.Contains(row.Unreadable, h.why) {
					t.Errorf("%s: %s level %q verdict %q unreadable %q; want unknown naming its settings and %q", name, surface, row.Level, row.Verdict, row.Unreadable, h.why)
				}
				if surface == "check --json" && row.Check != "unknown" {
					t.Errorf("%s: check --json check %q, want unknown", name, row.Check)
				}
				for key, raw := range map[string]json.RawMessage{"percent": row.Percent, "remaining": row.Remaining, "allocation": row.Alloc} {
					if string(raw) != "null" {
						t.Errorf("%s: %s %q is %s, want null", name, surface, key, raw)
					}
				}
				// the counters are sound: the credits used are known whatever
				// the settings say (model.Assess: a figure that cannot change
				// them never makes them unknown)
				if string(row.Used) != "800" {
					t.Errorf("%s: %s \"used\" is %s, want 800 (HGET used)", name, surface, row.Used)
				}
			}
			if !found {
				t.Errorf("%s: not on %s", name, surface)
			}
		}
		for surface, text := range map[string]string{"check": v.checkText, "budget show": v.budgetText} {
			if row := rowOf(text, name); !strings.Contains(row, " 800 ") || !strings.Contains(row, " unknown") || strings.Contains(row, model.Unset) {
				t.Errorf("%s: %s row %q, want 800 used and unknown, not unset", name, surface, row)
			}
		}
		if !strings.Contains(v.checkText, "'"+name+"_used'=800;;;0; ") {
			t.Errorf("%s: perfdata is not 800 used with no cap", name)
		}
		if row := rowOf(v.screen, name); !strings.Contains(row, "? unkn") || strings.Contains(row, model.Unset) || strings.Contains(row, " ok ") {
			t.Errorf("%s: dashboard row %q, want '? unkn', not unset", name, row)
		}
		if got, ok := wsLevels[name]; !ok || !math.IsNaN(got) {
			t.Errorf("%s: mavtop_workspace_level %v (%v), want NaN", name, got, ok)
		}
		if got, ok := pcts[name]; ok {
			t.Errorf("%s: mavtop_credits_used_percent %v, want none", name, got)
		}
		if got := used["endpoint=/responses,project=,workspace="+name]; got != 800 && used[name] != 800 {
			n := 0.0
			for key, x := range used {
				if strings.HasPrefix(key, name) || strings.Contains(key, "workspace="+name) {
					n += x
				}
			}
			if n != 800 {
				t.Errorf("%s: mavtop_credits_used_total %v, want 800: its counters are sound", name, n)
			}
		}
	}
	// the project budget: its workspace's own level is judged, the project is
	// unknown, and the verdict is the workspace's high (WARNING outranks
	// UNKNOWN, model.WorseCheck: a level known not to be fine is not hidden)
	for surface, js := range map[string]surfaceJSON{"check --json": v.check, "budget show --json": v.budget} {
		for _, row := range js.Workspaces {
			if row.Workspace == "projbad" && (row.Level != "high" || row.Verdict != "high" || row.VerdictProject != "" || len(row.Projects) != 1 || row.Projects[0].Level != "unknown") {
				t.Errorf("projbad: %s level %q verdict %q (%q) projects %+v; want high, high of its own, p1 unknown", surface, row.Level, row.Verdict, row.VerdictProject, row.Projects)
			}
			if surface == "check --json" && row.Workspace == "projbad" && row.Check != "warning" {
				t.Errorf("projbad: check %q, want warning", row.Check)
			}
		}
	}
	if got, ok := seriesOf(t, v.metrics, "mavtop_project_level")["projbad/p1"]; !ok || !math.IsNaN(got) {
		t.Errorf("projbad/p1: mavtop_project_level %v (%v), want NaN", got, ok)
	}
	if row := rowOf(v.screen, "projbad"); !strings.Contains(row, "▲ high") {
		t.Errorf("projbad: dashboard row %q, want '▲ high' (its verdict)", row)
	}
	// the controls: settings absent are unset, good ones judged as ever
	if row := rowOf(v.checkText, "loose"); !strings.Contains(row, " "+model.Unset+" ") || !strings.Contains(row, " ok") {
		t.Errorf("loose: check row %q, want unset and ok", row)
	}
	if got := wsLevels["loose"]; got != float64(model.LevelNone) {
		t.Errorf("loose: mavtop_workspace_level %v, want 0", got)
	}
	if got := wsLevels["fine"]; got != float64(model.LevelHigh) {
		t.Errorf("fine: mavtop_workspace_level %v, want high", got)
	}
	// a good value heals it
	if err := store.SetWorkspace(ctx, "text", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	out, _, code := runMavtop(t, "check", "--redis="+srv.URL, "text")
	if row := rowOf(out, "text"); code != checkWarning || !strings.Contains(row, " 80 % ") || strings.Contains(out, "cannot be read") {
		t.Errorf("check text after a good value: exit %d\n%s", code, out)
	}
}

// Settings present but unreadable are "settings": null in check --json and
// budget show --json, a project budget that cannot be read "budget": null:
// never the zero value the decoder left beside "unreadable" (it gave
// "settings":{"allocation":0} for an allocation of -100, 1e3, 100.7 or
// "100"; issue 11). Readable settings are written as read.
func TestUnreadableSettingsShowNoMadeUpValueInJSON(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	raws := []string{`{"allocation":-100}`, `{"allocation":1e3}`, `{"allocation":100.7}`, `{"allocation":"100"}`,
		`{"allocation":100,"usage_limit":-1}`, `{"allocation":100,"alerts":[90,50,75]}`, `{"allocation":1e20}`}
	var names []string
	for i, raw := range raws {
		ws := fmt.Sprintf("s%d", i)
		names = append(names, ws)
		if err := c.HSet(ctx, feed.Keys{}.Settings(), ws, raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "good", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, feed.Keys{}.Settings(), model.ProjectKey("good", "p1"), `{"usage_limit":-5}`).Err(); err != nil {
		t.Fatal(err)
	}
	for _, ws := range append(names, "good") {
		if err := pub.Track(ctx, model.Event{Workspace: ws, Project: "p1", Endpoint: "/responses", Credits: 10, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		Workspace  string          `json:"workspace"`
		Settings   json.RawMessage `json:"settings"`
		Unreadable string          `json:"unreadable"`
		Projects   []struct {
			Project string          `json:"project"`
			Budget  json.RawMessage `json:"budget"`
		} `json:"projects"`
	}
	r := "--redis=" + srv.URL
	for _, args := range [][]string{{"check", r, "--json"}, {"budget", "show", r, "--json"}} {
		out, _, _ := runMavtop(t, args...)
		var got struct {
			Workspaces []row `json:"workspaces"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			var rows []row // budget show --json: an array of rows
			if err2 := json.Unmarshal([]byte(out), &rows); err2 != nil {
				t.Fatalf("%v: %v / %v\n%s", args[:len(args)-2], err, err2, out)
			}
			got.Workspaces = rows
		}
		seen := 0
		for _, w := range got.Workspaces {
			switch {
			case w.Workspace == "good":
				seen++
				if string(w.Settings) != `{"allocation":1000}` {
					t.Errorf("%v good: settings %s, want them as read", args[:len(args)-2], w.Settings)
				}
				for _, p := range w.Projects {
					if p.Project == "p1" && string(p.Budget) != "null" {
						t.Errorf("%v good/p1: budget %s beside an unreadable budget, want null", args[:len(args)-2], p.Budget)
					}
				}
			case slices.Contains(names, w.Workspace):
				seen++
				if string(w.Settings) != "null" || w.Unreadable == "" {
					t.Errorf("%v %s: settings %s, unreadable %q: want null beside why", args[:len(args)-2], w.Workspace, w.Settings, w.Unreadable)
				}
			}
		}
		if seen != len(names)+1 {
			t.Errorf("%v: %d of %d workspaces listed\n%s", args[:len(args)-2], seen, len(names)+1, out)
		}
	}
}
