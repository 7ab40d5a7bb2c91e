package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/metrics"
	"mavtop/model"
	"mavtop/tui"
)

// TestEverySurfaceJudgesAlike: under custom default thresholds (40/60/80, from
// the environment as mavtop.toml's alerts.thresholds would give them), the
// dashboard, check --json, budget show --json and /metrics give each workspace
// the same level — the one model.Assess gives.
func TestEverySurfaceJudgesAlike(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	type ws struct {
		set  model.Settings
		used int64
		want model.Level
	}
	cases := map[string]ws{
		"calm":    {model.Settings{Allocation: 1000}, 390, model.LevelOK},                        // one below 40 %
		"mid":     {model.Settings{Allocation: 1000}, 450, model.LevelWarn},                      // 45 %: warn under 40/60/80, ok under 50/75/90
		"hot":     {model.Settings{Allocation: 1000}, 650, model.LevelHigh},                      // 65 %
		"limited": {model.Settings{Allocation: 1000, UsageLimit: 500}, 460, model.LevelCritical}, // 92 % of the limit that binds
		"own":     {model.Settings{Allocation: 1000, Alerts: []int{50, 75, 90}}, 450, model.LevelOK},
		"onlylim": {model.Settings{UsageLimit: 500}, 495, model.LevelCritical},
		"out":     {model.Settings{Allocation: 100}, 100, model.LevelExhausted},
		// fewer thresholds of its own: the last reached is always critical, the one before high
		"pair": {model.Settings{Allocation: 1000, Alerts: []int{30, 60}}, 350, model.LevelHigh},
		"lone": {model.Settings{Allocation: 1000, Alerts: []int{20}}, 250, model.LevelCritical},
		"hush": {model.Settings{Allocation: 1000, Alerts: []int{20}}, 199, model.LevelOK},
		// 900 of 1,000 + 500 recharged is 60 %: high, not critical
		"topped": {model.Settings{Allocation: 1000}, 900, model.LevelHigh},
		// refused with credits_exhausted at 50 % and no credit added since:
		// OUT on every surface, started after the 402
		"starved": {model.Settings{Allocation: 1000}, 500, model.LevelExhausted},
		// a usage limit's 402 is judged by the limit: 65 % is high
		"limref": {model.Settings{Allocation: 1000}, 650, model.LevelHigh},
		// refused, then recharged 500: 500 of 1,500 is 33 %
		"rerefill": {model.Settings{Allocation: 1000}, 500, model.LevelOK},
		// recharged 500, then refused with credits_exhausted: the 402 is newer
		// than the last credit added, so OUT at 33 %; the counters alone cannot
		// order them, check reads the history back as the dashboard does
		"reout": {model.Settings{Allocation: 1000}, 500, model.LevelExhausted},
	}
	recharged := map[string]int64{"topped": 500}
	refusedWith := map[string]string{"starved": model.CodeCreditsExhausted, "limref": model.CodeBudgetExceeded, "rerefill": model.CodeCreditsExhausted, "reout": model.CodeCreditsExhausted}
	refill := map[string]int64{"rerefill": 500}
	refillFirst := map[string]int64{"reout": 500}
	defaults := []int{40, 60, 80}
	for name, w := range cases {
		if err := store.SetWorkspace(ctx, name, w.set); err != nil {
			t.Fatal(err)
		}
		if err := pub.Track(ctx, model.Event{Workspace: name, Endpoint: "/responses", Credits: w.used, Status: 200}); err != nil {
			t.Fatal(err)
		}
		if r := recharged[name]; r > 0 {
			if err := c.HSet(ctx, feed.Keys{}.Recharged(model.MonthlyUTC.At(time.Now()).Key), name, r).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if r := refillFirst[name]; r > 0 {
			if err := pub.Track(ctx, model.Event{Workspace: name, Kind: model.KindRecharge, Credits: r}); err != nil {
				t.Fatal(err)
			}
		}
		if code := refusedWith[name]; code != "" {
			if err := pub.Track(ctx, model.Event{Workspace: name, Endpoint: "/focus-groups", Status: 402, Code: code}); err != nil {
				t.Fatal(err)
			}
		}
		if r := refill[name]; r > 0 {
			if err := pub.Track(ctx, model.Event{Workspace: name, Kind: model.KindRecharge, Credits: r}); err != nil {
				t.Fatal(err)
			}
		}
		u := model.Usage{Used: w.used, Recharged: recharged[name] + refill[name] + refillFirst[name],
			Refusing: refusedWith[name] == model.CodeCreditsExhausted && refill[name] == 0}
		if got := model.Assess(&w.set, u, defaults).Level; got != w.want {
			t.Fatalf("%s: model.Assess says %v, the case says %v", name, got, w.want)
		}
	}
	t.Setenv("MAVTOP_ALERTS_THRESHOLDS", "40,60,80")
	r := "--redis=" + srv.URL

	// check --json
	out, errOut, _ := runMavtop(t, "check", r, "--json")
	var chk struct {
		Workspaces []struct {
			Workspace string `json:"workspace"`
			Level     string `json:"level"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &chk); err != nil {
		t.Fatalf("check --json %q (%s): %v", out, errOut, err)
	}
	checkLevels := map[string]string{}
	for _, w := range chk.Workspaces {
		checkLevels[w.Workspace] = w.Level
	}

	// check's exit status follows the levels: WARNING from the second
	// threshold (high), CRITICAL from the third or exhausted; --warn/--crit
	// given replace them with fixed percents of the effective cap
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"mid"}, checkOK}, {[]string{"calm", "own"}, checkOK}, {[]string{"hot"}, checkWarning},
		{[]string{"limited"}, checkCritical}, {[]string{"onlylim"}, checkCritical}, {[]string{"out"}, checkCritical},
		{[]string{"mid", "--warn", "45", "--crit", "95"}, checkWarning},
		{[]string{"limited", "--warn", "93", "--crit", "95"}, checkOK},
		{[]string{"pair"}, checkWarning}, {[]string{"lone"}, checkCritical}, {[]string{"hush"}, checkOK},
		{[]string{"topped"}, checkWarning}, {[]string{"topped", "--warn", "50"}, checkWarning},
		{[]string{"topped", "--crit", "60"}, checkCritical},
		{[]string{"starved"}, checkCritical}, {[]string{"starved", "--warn", "90", "--crit", "95"}, checkCritical},
		{[]string{"limref"}, checkWarning}, {[]string{"rerefill"}, checkOK}, {[]string{"reout"}, checkCritical},
	} {
		if out, errOut, code := runMavtop(t, append([]string{"check", r}, c.args...)...); code != c.code {
			t.Errorf("check %v: exit %d, want %d\n%s%s", c.args, code, c.code, out, errOut)
		}
	}

	// budget show --json
	out, errOut, code := runMavtop(t, "budget", "show", r, "--json")
	var bs struct {
		Workspaces []struct {
			Workspace string `json:"workspace"`
			Level     string `json:"level"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &bs); err != nil || code != 0 {
		t.Fatalf("budget show --json: exit %d %q (%s): %v", code, out, errOut, err)
	}
	budgetLevels := map[string]string{}
	for _, w := range bs.Workspaces {
		budgetLevels[w.Workspace] = w.Level
	}

	// the dashboard and /metrics, on the hub the dashboard command starts
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hub := startHub(hctx, feed.NewSubscriber(c, feed.SubscriberOptions{}), defaults, nil)
	col := metrics.New(hub, metrics.Options{})
	reg, err := metrics.NewRegistry(col)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(metrics.Handler(reg))
	defer hs.Close()

	tm := teatest.NewTestModel(t, tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.DefaultRenderer()}),
		teatest.WithInitialTermSize(200, 50))
	var seen []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = append(seen, b...)
		s := ansi.Strip(string(seen))
		for name := range cases {
			if !strings.Contains(s, name) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(15*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	screen := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
	words := map[model.Level]string{model.LevelNone: "unset", model.LevelOK: "ok", model.LevelWarn: "warn",
		model.LevelHigh: "high", model.LevelCritical: "crit", model.LevelExhausted: "OUT"}

	var metricLevels map[string]float64
	waitUntil(t, 10*time.Second, "metrics show every workspace", func() bool {
		metricLevels = scrapeGauge(t, hs.URL+"/metrics", "mavtop_workspace_level")
		return len(metricLevels) == len(cases)
	})

	for name, w := range cases {
		if got := checkLevels[name]; got != w.want.String() {
			t.Errorf("%s: check --json level %q, want %q", name, got, w.want)
		}
		if got := budgetLevels[name]; got != w.want.String() {
			t.Errorf("%s: budget show --json level %q, want %q", name, got, w.want)
		}
		if got := metricLevels[name]; got != float64(w.want) {
			t.Errorf("%s: mavtop_workspace_level %v, want %d (%v)", name, got, w.want, w.want)
		}
		row := ""
		for _, line := range strings.Split(screen, "\n") {
			if f := strings.Fields(line); len(f) > 0 && (f[0] == name || len(f) > 1 && f[1] == name) {
				row = line
				break // the gauges are above the 402 log, which names workspaces too
			}
		}
		if !strings.Contains(row, " "+words[w.want]+" ") {
			t.Errorf("%s: dashboard row %q lacks level %q", name, row, words[w.want])
		}
	}
}

// scrapeGauge reads one metric's series by their workspace label.
func scrapeGauge(t *testing.T, url, name string) map[string]float64 {
	t.Helper()
	resp, err := httpGet(url)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(resp, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		i := strings.Index(line, `workspace="`)
		j := strings.LastIndex(line, `"}`)
		if i < 0 || j < i {
			continue
		}
		var v float64
		if err := json.Unmarshal([]byte(strings.TrimSpace(line[j+2:])), &v); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		out[line[i+len(`workspace="`):j]] = v
	}
	return out
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = io.Copy(&b, resp.Body)
	return b.String(), err
}
