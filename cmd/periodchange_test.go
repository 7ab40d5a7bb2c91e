package cmd

import (
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// TestAPeriodChangedMidPeriodIsJudgedOnItsNewCounters: `budget period
// --start-day N` with usage events in the period moves every surface to the
// new period's key, whose counters are empty. check said UNKNOWN ("the
// stream holds usage events of this period … usage is unknown") while the
// dashboard, /metrics and budget show said ok at 0 used. One judgement: the
// counters of the new period key are the truth (README, "Billing periods");
// events written before the change went to the old rule's hashes and are no
// sign of missing counters. Every surface says 0 used, ok. Real redis-server;
// the first rule is model.MidPeriod's, the second one whose period now has
// another key.
func TestAPeriodChangedMidPeriodIsJudgedOnItsNewCounters(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	cfg := model.MidPeriod(now)
	if err := f.store.SetPeriod(f.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	f.allocate(t, 1000, "acme")
	f.track(t, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 300, Status: 200})
	var next model.PeriodConfig
	for day := 1; day <= 28 && next.StartDay == 0; day++ {
		c := model.PeriodConfig{StartDay: day}
		if r, err := c.Rule(); err == nil && r.At(now).Key != rule.At(now).Key {
			next = c
		}
	}
	if next.StartDay == 0 {
		t.Fatalf("no start day gives a period key other than %s", rule.At(now).Key)
	}
	if err := f.store.SetPeriod(f.ctx, next); err != nil {
		t.Fatal(err)
	}
	v := readSurfaces(t, f.srv, nil, []string{"acme"})
	line := strings.SplitN(v.checkText, "\n", 2)[0]
	if v.checkCode != 0 || !strings.HasPrefix(line, "MAVTOP OK - ") || !strings.Contains(line, "'acme_used'=0;") {
		t.Errorf("check: exit %d, want 0, OK at 0 used:\n%s", v.checkCode, v.checkText)
	}
	v.jsonRows(t, "acme", func(surface string, row surfaceRow) {
		if string(row.Used) != "0" || row.Level != "ok" || row.Unreadable != "" {
			t.Errorf("%s: used %s, level %q, unreadable %q; want 0, ok", surface, row.Used, row.Level, row.Unreadable)
		}
	})
	if got := seriesOf(t, v.metrics, "mavtop_workspace_level")["acme"]; got != float64(model.LevelOK) {
		t.Errorf("/metrics: workspace_level %v, want %d (ok)", got, model.LevelOK)
	}
	if row := rowOf(v.screen, "acme"); !strings.Contains(row, "ok") || strings.Contains(row, "unkn") {
		t.Errorf("dashboard: acme's row %q, want ok at 0 used", row)
	}
}
