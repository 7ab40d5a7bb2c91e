package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/feed"
	"mavtop/metrics"
	"mavtop/model"
	"mavtop/tui"
)

// TestACounterNearTheTopIsJudgedAsCheckDoes (issue 11, hostile11 #1 and #2)
// on a real redis-server: acme's used counter is set by hand to
// 9223372036854775800 (allocation 100), big's recharged counter to
// 9223372036854775000 (allocation 10^12, 50 used); a dashboard at 200×50
// and the /metrics of the same hub follow; then a producer charges acme 10
// credits: Redis refuses the HINCRBY ("increment or decrement would
// overflow") and writes the stream entry. The counters stay as they were,
// and every surface judges as check does: acme OUT (critical), big ok.
// Before, the hub's ledger wrapped to −9.2×10^18: the dashboard panicked in
// gaugeBar at 200 columns, /metrics said level 1 and exhausted 0, the
// alerts resolved allocation_reached; big's allocation_reached and
// thresholds held (its cap wrapped) where check says ok.
func TestACounterNearTheTopIsJudgedAsCheckDoes(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 100, "acme")
	f.allocate(t, 1_000_000_000_000, "big")
	f.track(t, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 10, Status: 200},
		model.Event{Workspace: "big", Endpoint: "/responses", Credits: 50, Status: 200})
	keys := feed.Keys{}
	f.hset(t, keys.Used(f.period), "acme", "9223372036854775800")
	f.hset(t, keys.Recharged(f.period), "big", "9223372036854775000")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{}), nil, nil)
	reg, err := metrics.NewRegistry(metrics.New(hub, metrics.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(metrics.Handler(reg))
	defer hs.Close()
	waitUntil(t, 10*time.Second, "the hub's start", func() bool {
		in := false
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) { in = l != nil && !l.UsedByPending() })
		return in
	})
	tm := teatest.NewTestModel(t, tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.DefaultRenderer()}),
		teatest.WithInitialTermSize(200, 50))
	var seen []byte
	screenHas := func(names ...string) func([]byte) bool {
		return func(b []byte) bool {
			seen = append(seen, b...)
			s := ansi.Strip(string(seen))
			for _, n := range names {
				if !strings.Contains(s, n) {
					return false
				}
			}
			return true
		}
	}
	teatest.WaitFor(t, tm.Output(), screenHas("acme", "big"), teatest.WithDuration(15*time.Second))

	// the charge whose HINCRBY Redis refuses, its entry written; then one
	// on a new workspace, so its row on the screen says the dashboard drew
	// what came after the charge
	e, err := f.pub.Record(f.ctx, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 10, Status: 200})
	var we *feed.WriteError
	if !errors.As(err, &we) || !we.Recorded() || e.ID == "" || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("the charge on a counter at 2^63-8: %v (entry %q), want the counter's HINCRBY refused, the entry written", err, e.ID)
	}
	f.track(t, model.Event{Workspace: "zeta", Endpoint: "/responses", Credits: 1, Status: 200})
	seen = nil
	teatest.WaitFor(t, tm.Output(), screenHas("zeta"), teatest.WithDuration(15*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
	var screen string
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("the dashboard at 200x50: panic %v", r)
			}
		}()
		screen = ansi.Strip(fm.View())
	}()

	out, errOut, _ := runMavtop(t, "check", "--redis="+f.srv.URL, "--json")
	var check surfaceJSON
	if err := json.Unmarshal([]byte(out), &check); err != nil {
		t.Fatalf("check --json: %q (%s): %v", out, errOut, err)
	}
	want := map[string]model.Level{"acme": model.LevelExhausted, "big": model.LevelOK}
	for _, row := range check.Workspaces {
		if w, ok := want[row.Workspace]; ok && (row.Level != w.String() || row.Verdict != w.String()) {
			t.Fatalf("check says %s %s (verdict %s), the case %v", row.Workspace, row.Level, row.Verdict, w)
		}
	}
	var scrape string
	waitUntil(t, 10*time.Second, "metrics of every workspace", func() bool {
		scrape, err = httpGet(hs.URL + "/metrics")
		return err == nil && len(seriesOf(t, scrape, "mavtop_workspace_level")) == 3
	})
	levels, exhausted := seriesOf(t, scrape, "mavtop_workspace_level"), seriesOf(t, scrape, "mavtop_workspace_exhausted")
	var alerts []model.Alert
	sums := map[string]model.Summary{}
	hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		for ws := range want {
			sums[ws], _ = l.Summary(ws)
		}
		alerts = model.EvaluateAlerts(l, time.Now(), model.FeedHealth{Connected: true, Since: time.Now()}, model.AlertOptions{}, nil)
	})
	words := map[model.Level]string{model.LevelOK: "✓ ok", model.LevelExhausted: "✖ OUT"}
	for ws, w := range want {
		s := sums[ws]
		if s.Used < 0 || s.Verdict.Level != w || s.Status.Level != w {
			t.Errorf("%s: the hub's ledger says %d used, %v (verdict %v); check says %v", ws, s.Used, s.Status.Level, s.Verdict.Level, w)
		}
		if levels[ws] != float64(w) || exhausted[ws] != b2f(w == model.LevelExhausted) {
			t.Errorf("%s: /metrics level %v, exhausted %v; check says %v", ws, levels[ws], exhausted[ws], w)
		}
		if row := rowOf(screen, ws); !strings.Contains(row, words[w]) || strings.Contains(row, "-9") {
			t.Errorf("%s: dashboard row %q, want %q", ws, row, words[w])
		}
	}
	for _, a := range alerts {
		switch {
		case a.Workspace == "acme" && a.Kind == model.AlertAllocation && a.Condition != model.ConditionHolds:
			t.Errorf("%s %v (used %d): acme is OUT by check", a.ID, a.Condition, a.Used)
		case a.Workspace == "big" && a.Condition == model.ConditionHolds:
			t.Errorf("%s holds (cap %d, used %d): big is ok by check", a.ID, a.Cap, a.Used)
		}
	}
}

// b2f is 1 for true, 0 for false: a gauge's value.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
