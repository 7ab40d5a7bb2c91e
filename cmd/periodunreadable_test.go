package cmd

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// brokenPeriod is a stored period config no one can read, its zone holding
// an escape sequence (JSON \u001b: ESC once decoded): the reason names the
// zone sanitised ("␛[2J"), never the ESC itself.
const brokenPeriod = `{"start_day":7,"tz":"Europe/Paris\u001b[2J"}`

// brokenPeriodReason is model.ParsePeriodConfig's reason for brokenPeriod.
const brokenPeriodReason = `billing period config {"start_day":7,"tz":"Europe/Paris\u001b[2J"}: billing period time zone "Europe/Paris␛[2J" is no IANA zone name (like Europe/Paris)`

// TestAnUnreadablePeriodConfigIsNamedOnEverySurface: a stored billing-period
// config that cannot be read is one judgement (model.ParsePeriodConfig) with
// one fallback (model.PeriodFallback, calendar months in UTC), and every
// surface names it with the same sanitised reason: check is UNKNOWN (exit 3)
// unless its rows are WARNING or CRITICAL (kept, the reason added), --json
// says it in "reason" and "period_config_unreadable"; budget show prints a
// line and its --json the key; budget period shows the stored value and the
// reason, and setting a new period overwrites the broken one; alerts names
// it on stderr; emit records the event in the fallback's period and says so;
// watch's /metrics has mavtop_billing_period_config_unreadable 1 and its log
// a WARN, then 0 and an INFO once repaired. No output carries the ESC.
func TestAnUnreadablePeriodConfigIsNamedOnEverySurface(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	keys := feed.Keys{}
	r := "--redis=" + srv.URL
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	for ws, alloc := range map[string]int64{"calm": 1000, "warm": 100, "hot": 100} {
		if err := store.SetWorkspace(ctx, ws, model.Settings{Allocation: alloc}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.HSet(ctx, keys.Settings(), feed.PeriodSettingsField, brokenPeriod).Err(); err != nil {
		t.Fatal(err)
	}
	noESC := func(surface, out string) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\a") {
			t.Errorf("%s: a control byte reached the output: %q", surface, out)
		}
	}
	// emit records each event, in the fallback's period, and says so
	for ws, credits := range map[string]string{"calm": "100", "warm": "80", "hot": "95"} {
		out, errOut, code := runMavtop(t, "emit", r, "--ws", ws, "--endpoint", "/responses", "--credits", credits)
		noESC("emit", out+errOut)
		if code != 0 || !strings.Contains(errOut, "mavtop: warning: period config unreadable ("+brokenPeriodReason+"): recorded in period ") {
			t.Errorf("emit %s: exit %d, %q, %q; want 0, the event recorded and the config named", ws, code, out, errOut)
		}
	}
	fallback := model.PeriodFallback.At(time.Now())
	for ws, want := range map[string]string{"calm": "100", "warm": "80", "hot": "95"} {
		if v, err := c.HGet(ctx, keys.Used(fallback.Key), ws).Result(); err != nil || v != want {
			t.Errorf("HGET used:%s %s = %q, %v; want %s: the producer wrote elsewhere", fallback.Key, ws, v, err, want)
		}
	}
	words := model.PeriodUnreadableWords(brokenPeriodReason)
	// check: UNKNOWN over OK, WARNING and CRITICAL kept, the reason always said
	for _, cs := range []struct {
		ws, status string
		code       int
	}{{"calm", "UNKNOWN", 3}, {"warm", "WARNING", 1}, {"hot", "CRITICAL", 2}, {"", "CRITICAL", 2}} {
		args := []string{"check", r}
		if cs.ws != "" {
			args = append(args, cs.ws)
		}
		out, errOut, code := runMavtop(t, args...)
		noESC("check", out+errOut)
		if code != cs.code || !strings.HasPrefix(out, "MAVTOP "+cs.status+" - ") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], words) {
			t.Errorf("check %s: exit %d, %q; want %d, %s naming %q", cs.ws, code, out, cs.code, cs.status, words)
		}
		out, _, code = runMavtop(t, append(args, "--json")...)
		noESC("check --json", out)
		var js struct {
			Status, Reason, Period string
			Unreadable             string `json:"period_config_unreadable"`
		}
		if err := json.Unmarshal([]byte(out), &js); err != nil || code != cs.code || js.Status != strings.ToLower(cs.status) ||
			!strings.Contains(js.Reason, words) || js.Unreadable != brokenPeriodReason || js.Period != fallback.Key {
			t.Errorf("check --json %s: exit %d, %+v, %v", cs.ws, code, js, err)
		}
	}
	// budget show: a line, and the key in --json
	out, errOut, code := runMavtop(t, "budget", "show", r)
	noESC("budget show", out+errOut)
	if code != 0 || !strings.Contains(out, "period config unreadable: "+brokenPeriodReason+"; periods are calendar months in UTC meanwhile") ||
		!strings.Contains(out, "period "+fallback.Key+": ") {
		t.Errorf("budget show: exit %d, %q", code, out)
	}
	out, _, code = runMavtop(t, "budget", "show", r, "--json")
	noESC("budget show --json", out)
	var bs struct {
		Period     string
		Unreadable string `json:"period_config_unreadable"`
	}
	if err := json.Unmarshal([]byte(out), &bs); err != nil || code != 0 || bs.Unreadable != brokenPeriodReason || bs.Period != fallback.Key {
		t.Errorf("budget show --json: exit %d, %+v, %v", code, bs, err)
	}
	// budget period: the stored value (sanitised) and the reason
	out, errOut, code = runMavtop(t, "budget", "period", r)
	noESC("budget period", out+errOut)
	if code != 0 || !strings.Contains(out, `stored #period: "{\"start_day\":7,\"tz\":\"Europe/Paris\\u001b[2J\"}"`) ||
		!strings.Contains(out, "period config unreadable: "+brokenPeriodReason) || !strings.Contains(out, "current period "+fallback.Key+": ") {
		t.Errorf("budget period: exit %d, %q, %q", code, out, errOut)
	}
	// alerts: on stderr
	out, errOut, code = runMavtop(t, "alerts", r)
	noESC("alerts", out+errOut)
	if code != 0 || !strings.Contains(errOut, "mavtop: period config unreadable ("+brokenPeriodReason+"): listing period "+fallback.Key) {
		t.Errorf("alerts: exit %d, %q, %q", code, out, errOut)
	}
	// watch: the gauge and the log, broken then repaired
	stderr, stop := startWatch(t, r, "--metrics", "127.0.0.1:0", "--audit", "200ms")
	defer stop()
	var url string
	waitUntil(t, 30*time.Second, "watch to log its metrics address", func() bool {
		if m := regexp.MustCompile(`metrics=(http://\S+/metrics)`).FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
		return url != ""
	})
	gauge := func(v string) func() bool {
		return func() bool {
			m, err := httpGet(url)
			return err == nil && strings.Contains(m, "\nmavtop_billing_period_config_unreadable "+v+"\n")
		}
	}
	waitUntil(t, 30*time.Second, "mavtop_billing_period_config_unreadable 1", gauge("1"))
	waitUntil(t, 30*time.Second, "watch to log a WARN", func() bool {
		return strings.Contains(stderr.String(), "level=WARN msg="+strconv.Quote(words)+" field=#period")
	})
	// a new period overwrites the broken one: never refused for it
	out, errOut, code = runMavtop(t, "budget", "period", r, "--start-day", "3")
	if code != 0 || strings.Contains(out+errOut, "unreadable") || !strings.Contains(out, "billing periods: starting on day 3 of each month at 00:00 UTC") {
		t.Errorf("budget period --start-day 3 over a broken config: exit %d, %q, %q", code, out, errOut)
	}
	waitUntil(t, 30*time.Second, "mavtop_billing_period_config_unreadable 0", gauge("0"))
	waitUntil(t, 30*time.Second, "watch to log an INFO", func() bool {
		return strings.Contains(stderr.String(), `level=INFO msg="period config readable again" field=#period`)
	})
	noESC("watch", stderr.String())
	out, _, _ = runMavtop(t, "check", r, "--json")
	if strings.Contains(out, "period_config_unreadable") || strings.Contains(out, "period config unreadable") {
		t.Errorf("check --json once repaired: %s", out)
	}
}

// lastHeader is the header line the screen drew last: the text from the last
// "mavtop " that starts a header to the end of its line. The renderer
// repaints a line only when it changed, so this is the header on screen.
func lastHeader(seen string) string {
	s := ansi.Strip(seen)
	i := strings.LastIndex(s, "mavtop ● ")
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.IndexAny(s, "\r\n"); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestAPeriodConfigBrokenThenRepairedWhileRunning: a running dashboard (the
// subscriber auditing every 200 ms, the tui model drawing its header)
// follows the stored billing-period config as it breaks and is repaired with
// no stream entry (HSET by hand): the header says "period config unreadable"
// within the audit cadence and stops saying it once repaired, and the period
// the ledger judges moves from the stored rule to model.PeriodFallback and
// back. The repair into the fallback's own rule ({"start_day":1}) changes
// the judgement, not the period: the audit compares the judgement too. The
// alerts pane's note of each break is resolved by its repair (it stayed for
// as long as the dashboard ran).
func TestAPeriodConfigBrokenThenRepairedWhileRunning(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	keys := feed.Keys{}
	now := time.Now()
	meant := model.MidPeriod(now) // a start day other than 1: its periods start elsewhere than the fallback's
	if meant.StartDay == 1 {
		meant.StartDay = 15
	}
	meantRule, err := meant.Rule()
	if err != nil {
		t.Fatal(err)
	}
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetPeriod(ctx, meant); err != nil {
		t.Fatal(err)
	}
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	hubCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	hub := startHub(hubCtx, feed.NewSubscriber(c, feed.SubscriberOptions{AuditEvery: 200 * time.Millisecond, StatsEvery: 200 * time.Millisecond}), nil, nil)
	tm := teatest.NewTestModel(t, tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.DefaultRenderer()}), teatest.WithInitialTermSize(200, 30))
	var seen []byte
	// wait reads the screen until the header and the hub's ledger say what is wanted
	wait := func(what string, unreadable bool, rule model.PeriodRule) {
		t.Helper()
		p := rule.At(time.Now())
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			seen = append(seen, b...)
			h := lastHeader(string(seen))
			if h == "" || strings.Contains(h, tui.PeriodUnreadableNote) != unreadable || !strings.Contains(h, p.Key+": ") {
				return false
			}
			var start time.Time
			hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
				if l != nil {
					start = l.Period().Start
				}
			})
			return start.Equal(p.Start)
		}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(50*time.Millisecond))
		if h := lastHeader(string(seen)); strings.Contains(h, "\x1b") {
			t.Errorf("%s: the header holds an escape: %q", what, h)
		}
	}
	wait("the stored rule", false, meantRule)
	for _, step := range []struct {
		what, raw  string
		unreadable bool
		rule       model.PeriodRule
	}{
		{"broken", brokenPeriod, true, model.PeriodFallback},
		{"repaired into the fallback's own rule", `{"start_day":1}`, false, model.PeriodFallback},
		{"broken again", `{"start_day":1,"tz":"Nowhere/City"}`, true, model.PeriodFallback},
		{"repaired into the rule meant", `{"start_day":` + strconv.Itoa(meant.StartDay) + `}`, false, meantRule},
	} {
		if err := c.HSet(ctx, keys.Settings(), feed.PeriodSettingsField, step.raw).Err(); err != nil {
			t.Fatal(err)
		}
		wait(step.what, step.unreadable, step.rule)
		var st feed.StatsMsg
		waitUntil(t, 10*time.Second, step.what+": the stats say it", func() bool {
			hub.Read(func(_ *model.Ledger, _ *feed.ConnMsg, s *feed.StatsMsg) {
				if s != nil {
					st = *s
				}
			})
			return (st.PeriodUnreadable != "") == step.unreadable
		})
	}
	// the alerts pane: each note resolved with its repair, none left standing
	tm.Send(tea.WindowSizeMsg{Width: 200, Height: 60}) // room for every notice
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	screen := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
	if n := strings.Count(screen, "resolved: period config unreadable"); n != 2 || strings.Count(screen, "period config unreadable") != n {
		t.Errorf("repaired twice: the screen holds %d notes 'resolved: period config unreadable' (want 2) and %d unresolved (want 0):\n%s",
			n, strings.Count(screen, "period config unreadable")-n, screen)
	}
}
