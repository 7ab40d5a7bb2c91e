package cmd

import (
	"strings"
	"testing"

	"mavtop/model"
)

// TestAnAutoRechargedWorkspaceIsOneVerdict: a workspace auto-recharge keeps
// alive, after several top-ups, is high on every surface — the dashboard's
// row and its hub's alerts, check (text, --json, exit status, --crit), budget
// show and /metrics — not critical: each top-up comes when remaining < 100,
// so used over allocation + recharges tends to 100 %, and judged by the
// cap's last threshold it read critical for ever, like a workspace about to
// be refused (review11 #7). One near its usage limit (90 % of it, its
// allocation plus recharges still binding) is critical on every surface:
// the limit is what will refuse it. On a real redis-server, the top-ups
// written as a producer does (a recharge entry after the charge that took
// remaining below the threshold).
func TestAnAutoRechargedWorkspaceIsOneVerdict(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name         string
		set          model.Settings
		upTo, topUps int64
		want         model.Level
		check        int
		line         string // check's status line, before the perfdata
		used         string // the dashboard row's used cell: the percent behind its level
		budgetPct    string // budget show's PERCENT: the cap's, and the limit's when it sets the level
		checkPct     string // check's PERCENT, likewise
		fixed        []string
		fixedCheck   int
	}{
		// 3,400 of 1,000 + 5 × 500: 97.1 % of its cap, 100 left
		{"refilled", model.Settings{Allocation: 1000, RechargeBelow: 100, RechargeAmount: 500}, 3400, 5,
			model.LevelHigh, checkWarning, "MAVTOP WARNING - refilled 97.1 % used, living on top-ups", "97.1 % used", "97.1 %", "97.1 %",
			[]string{"--warn", "75", "--crit", "90"}, checkWarning},
		// 4,700 of 1,000 + 8 × 500 (the cap, 94 %) and of a 5,200 usage limit (90.3 %)
		{"nearlim", model.Settings{Allocation: 1000, UsageLimit: 5200, RechargeBelow: 100, RechargeAmount: 500}, 4700, 8,
			model.LevelCritical, checkCritical, "MAVTOP CRITICAL - nearlim 90.3 % of its usage limit", "90.3 % lim", "94.0 % (90.3 % of limit)", "94.0 % (90.3 % of limit 5200)",
			[]string{"--warn", "75", "--crit", "95"}, checkWarning},
	}
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
		if err := f.store.SetWorkspace(f.ctx, c.name, c.set); err != nil {
			t.Fatal(err)
		}
		var used, recharged int64
		for used < c.upTo {
			f.track(t, model.Event{Workspace: c.name, Endpoint: "/responses", Credits: 50, Status: 200})
			used += 50
			if c.set.Allocation+recharged-used < c.set.RechargeBelow {
				f.track(t, model.Event{Workspace: c.name, Kind: model.KindRecharge, Credits: c.set.RechargeAmount})
				recharged += c.set.RechargeAmount
			}
		}
		st := model.Assess(&c.set, model.Usage{Used: used, Recharged: recharged}, nil)
		if recharged != c.topUps*c.set.RechargeAmount || st.Level != c.want || st.CapKind != model.CapAllocation {
			t.Fatalf("%s: %d top-ups, model.Assess says %v of its %v; the case says %d, %v of its allocation", c.name,
				recharged/c.set.RechargeAmount, st.Level, st.CapKind, c.topUps, c.want)
		}
	}
	v := readSurfaces(t, f.srv, nil, names)
	r := "--redis=" + f.srv.URL
	checkNames := map[model.Level]string{model.LevelHigh: "warning", model.LevelCritical: "critical"}
	words := map[model.Level]string{model.LevelHigh: "high", model.LevelCritical: "crit"}
	metricLevels := seriesOf(t, v.metrics, "mavtop_workspace_level")
	for _, c := range cases {
		out, errOut, code := runMavtop(t, "check", r, c.name)
		if code != c.check || !strings.HasPrefix(out, c.line+" |") {
			t.Errorf("check %s: exit %d, want %d; %q, want %q\n%s", c.name, code, c.check, out, c.line, errOut)
		}
		if out, errOut, code := runMavtop(t, append([]string{"check", r, c.name}, c.fixed...)...); code != c.fixedCheck {
			t.Errorf("check %s %v: exit %d, want %d\n%s%s", c.name, c.fixed, code, c.fixedCheck, out, errOut)
		}
		v.jsonRows(t, c.name, func(surface string, row surfaceRow) {
			if row.Level != c.want.String() || row.Verdict != c.want.String() {
				t.Errorf("%s: %s level %q verdict %q, want %q", c.name, surface, row.Level, row.Verdict, c.want)
			}
			if surface == "check --json" && row.Check != checkNames[c.want] {
				t.Errorf("%s: check --json check %q, want %q", c.name, row.Check, checkNames[c.want])
			}
		})
		if row := rowOf(v.checkText, c.name); !strings.Contains(row, " "+c.want.String()+" ") || !strings.Contains(row, " "+c.checkPct+" ") {
			t.Errorf("%s: check row %q lacks level %q or percent %q", c.name, row, c.want, c.checkPct)
		}
		if row := rowOf(v.budgetText, c.name); !strings.Contains(row, " "+c.want.String()+" ") || !strings.Contains(row, " "+c.budgetPct+" ") {
			t.Errorf("%s: budget show row %q lacks level %q or percent %q", c.name, row, c.want, c.budgetPct)
		}
		if got := metricLevels[c.name]; got != float64(c.want) {
			t.Errorf("%s: mavtop_workspace_level %v, want %d (%v)", c.name, got, c.want, c.want)
		}
		if row := rowOf(v.screen, c.name); !strings.Contains(row, " "+words[c.want]+" ") || !strings.Contains(row, " "+c.used+" ") {
			t.Errorf("%s: dashboard row %q lacks level %q or %q", c.name, row, words[c.want], c.used)
		}
		// the alerts judged on the dashboard's ledger: every threshold that
		// holds says the gauge's level, and the last one (90 %) holds
		held := 0
		for _, a := range v.alerts {
			if a.Workspace != c.name || a.Kind != model.AlertThreshold || a.Condition != model.ConditionHolds {
				continue
			}
			held++
			if a.Level != c.want {
				t.Errorf("%s: alert %s at level %v, want %v (the gauge's)", c.name, a.ID, a.Level, c.want)
			}
		}
		if held != 3 {
			t.Errorf("%s: %d threshold alerts hold, want 3 (50, 75, 90 %% of its cap)", c.name, held)
		}
	}
}
