package cmd

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAnUnreadableCounterIsUnknownOnEverySurface: a used counter that holds no
// integer ≥ 0 — text, a number beyond int64, a negative number, an empty
// string, "+5", "05" or "-0" (Redis's HINCRBY refuses them) — makes its
// workspace's level unknown, the model's one judgement (model.LevelUnknown), on
// every surface alike: the dashboard row ("? unkn", "unreadable", not "✓ ok 0
// %"), check (text, --json, exit 3), budget show (text, --json, a line on
// stderr), /metrics (workspace_level NaN, no percent, counters_unreadable) and
// the alerts (a threshold alert that held is neither held nor ended: a firing
// one is not resolved). With settings or without (a negative counter of a
// workspace without settings had no dashboard row at all). A good value written
// later heals it.
func TestAnUnreadableCounterIsUnknownOnEverySurface(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	period := model.MonthlyUTC.At(time.Now()).Key
	hostile := map[string]struct {
		value    string
		settings bool
		why      string
	}{
		"text":      {"notanumber", true, `"notanumber" is not an integer`},
		"overflow":  {"18446744073709551616", true, `"18446744073709551616" is not an integer`}, // 2^64
		"negative":  {"-50", false, "-50 is negative"},
		"negset":    {"-1", true, "-1 is negative"},
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
	names := []string{"fine"}
	for name, h := range hostile {
		names = append(names, name)
		if h.settings {
			if err := store.SetWorkspace(ctx, name, model.Settings{Allocation: 1000}); err != nil {
				t.Fatal(err)
			}
		}
		// 800 of 1,000: the 50 and 75 % threshold alerts held before the
		// counter was broken
		if err := pub.Track(ctx, model.Event{Workspace: name, Endpoint: "/responses", Credits: 800, Status: 200}); err != nil {
			t.Fatal(err)
		}
		if err := c.HSet(ctx, feed.Keys{}.Used(period), name, h.value).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetWorkspace(ctx, "fine", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := pub.Track(ctx, model.Event{Workspace: "fine", Endpoint: "/responses", Credits: 800, Status: 200}); err != nil {
		t.Fatal(err)
	}

	v := readSurfaces(t, srv, nil, names)
	// WARNING (fine, 80 %) ranks above UNKNOWN (model.WorseCheck), whose reason is said
	if v.checkCode != checkWarning || !strings.Contains(v.checkText, `counter "used:text" cannot be read`) {
		t.Errorf("check exit %d, want 1 (WARNING over UNKNOWN) naming used:text\n%s", v.checkCode, v.checkText)
	}
	wsLevels := seriesOf(t, v.metrics, "mavtop_workspace_level")
	pcts := seriesOf(t, v.metrics, "mavtop_credits_used_percent")
	if got := metricValue(t, v.metrics, "mavtop_counters_unreadable"); got != float64(len(hostile)) {
		t.Errorf("mavtop_counters_unreadable %v, want %d", got, len(hostile))
	}
	_, budgetErr, _ := runMavtop(t, "budget", "show", "--redis="+srv.URL)
	for name, h := range hostile {
		field := "used:" + name
		for surface, js := range map[string]surfaceJSON{"check --json": v.check, "budget show --json": v.budget} {
			found := false
			for _, row := range js.Workspaces {
				if row.Workspace != name {
					continue
				}
				found = true
				if row.Level != "unknown" || row.Verdict != "unknown" || !strings.Contains(row.Unreadable, field) || !strings.Contains(row.Unreadable, h.why) {
					t.Errorf("%s: %s level %q verdict %q unreadable %q; want unknown, naming %s and %s", name, surface, row.Level, row.Verdict, row.Unreadable, field, h.why)
				}
				if surface == "check --json" && row.Check != "unknown" {
					t.Errorf("%s: check --json check %q, want unknown", name, row.Check)
				}
			}
			if !found {
				t.Errorf("%s: not on %s", name, surface)
			}
		}
		for surface, text := range map[string]string{"check": v.checkText, "budget show": v.budgetText} {
			if row := rowOf(text, name); !strings.Contains(row, " unreadable ") || !strings.Contains(row, " unknown") {
				t.Errorf("%s: %s row %q, want unreadable and unknown", name, surface, row)
			}
		}
		if !strings.Contains(budgetErr, field) || !strings.Contains(budgetErr, name+"'s usage and level are unknown") {
			t.Errorf("%s: budget show's stderr %q does not name it", name, budgetErr)
		}
		if row := rowOf(v.screen, name); !strings.Contains(row, "? unkn") || !strings.Contains(row, "unreadable") || strings.Contains(row, " ok ") || strings.Contains(row, "0 %") {
			t.Errorf("%s: dashboard row %q, want '? unkn' and 'unreadable'", name, row)
		}
		if got, ok := wsLevels[name]; !ok || !math.IsNaN(got) {
			t.Errorf("%s: mavtop_workspace_level %v (%v), want NaN", name, got, ok)
		}
		if got, ok := pcts[name]; ok {
			t.Errorf("%s: mavtop_credits_used_percent %v, want none", name, got)
		}
		n := 0
		for _, a := range v.alerts {
			if a.Workspace != name || a.Project != "" || a.Kind == model.AlertRefusals {
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
	// the control: a good counter beside them is judged as ever
	if row := rowOf(v.checkText, "fine"); !strings.Contains(row, " 80 % ") || !strings.Contains(row, " high ") {
		t.Errorf("fine: check row %q", row)
	}
	if got := wsLevels["fine"]; got != float64(model.LevelHigh) {
		t.Errorf("fine: mavtop_workspace_level %v", got)
	}

	// a good value heals it
	if err := c.HSet(ctx, feed.Keys{}.Used(period), "text", 950).Err(); err != nil {
		t.Fatal(err)
	}
	out, _, _ := runMavtop(t, "check", "--redis="+srv.URL, "text")
	if !strings.HasPrefix(out, "MAVTOP CRITICAL - ") || !strings.Contains(rowOf(out, "text"), " 95.0 % ") {
		t.Errorf("check text after a good value: %q", out)
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
