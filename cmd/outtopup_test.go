package cmd

import (
	"strings"
	"testing"

	"mavtop/model"
)

// TestAToppedUpWorkspaceUsedUpIsOutOnEverySurface: a workspace auto-recharge
// should top up, used up with no top-up come (used = allocation + recharges),
// is OUT on every surface, and none says it lives on top-ups or will top up:
// the row said "✖ OUT … top-up now", check "acme 100 % used, living on
// top-ups"; with a usage limit equal to the allocation (no top-up can lift
// it) check said "living on top-ups" too, and with a limit above the cap the
// row said "out in 2 h" (hostile13 #1). On a real redis-server.
func TestAToppedUpWorkspaceUsedUpIsOutOnEverySurface(t *testing.T) {
	f := newFixture(t)
	sets := map[string]model.Settings{
		"outnolim": {Allocation: 100, RechargeBelow: 10, RechargeAmount: 50},
		"outtie":   {Allocation: 100, UsageLimit: 100, RechargeBelow: 10, RechargeAmount: 50},
		"outabove": {Allocation: 100, UsageLimit: 3000, RechargeBelow: 10, RechargeAmount: 50},
	}
	var names []string
	for name, set := range sets {
		names = append(names, name)
		if err := f.store.SetWorkspace(f.ctx, name, set); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			f.track(t, model.Event{Workspace: name, Endpoint: "/responses", Credits: 20, Status: 200})
		}
	}
	v := readSurfaces(t, f.srv, nil, names)
	r := "--redis=" + f.srv.URL
	for _, name := range names {
		out, errOut, code := runMavtop(t, "check", r, name)
		if code != checkCritical || !strings.HasPrefix(out, "MAVTOP CRITICAL - "+name+" 100 % ") || strings.Contains(out, "top-up") {
			t.Errorf("check %s: exit %d, want %d; %q\n%s", name, code, checkCritical, out, errOut)
		}
		v.jsonRows(t, name, func(surface string, row surfaceRow) {
			if row.Level != model.LevelExhausted.String() {
				t.Errorf("%s: %s level %q, want exhausted", name, surface, row.Level)
			}
		})
		// at a usage limit equal to the allocation the limit binds: used
		// up, the row says the limit is reached
		now := map[bool]string{false: "out now", true: "limit reached"}[sets[name].UsageLimit == sets[name].Allocation]
		row := rowOf(v.screen, name)
		if !strings.Contains(row, "OUT") || !strings.Contains(row, now) || strings.Contains(row, "top-up") || strings.Contains(row, "out in") {
			t.Errorf("%s: dashboard row %q, want OUT and %q", name, row, now)
		}
	}
	if strings.Contains(v.checkText, "living on top-ups") {
		t.Errorf("check: %q says living on top-ups of a workspace used up", strings.SplitN(v.checkText, "|", 2)[0])
	}
}
