package cmd

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// runningWatch is a `mavtop watch` run in this process whose end (a refusal
// at its start, exit 2) the test looks at.
type runningWatch struct {
	stderr *syncBuffer
	ended  chan struct{} // closed when it ended, with err
	err    error
	cancel context.CancelFunc
}

func runWatch(t *testing.T, args ...string) *runningWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &runningWatch{stderr: &syncBuffer{}, ended: make(chan struct{}), cancel: cancel}
	root := newRootCmd()
	root.SetArgs(append([]string{"watch"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(w.stderr)
	go func() { w.err = root.ExecuteContext(ctx); close(w.ended) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.ended:
		case <-time.After(10 * time.Second):
		}
	})
	return w
}

// Two mavtops that differ only in a flag that changes an alert's judgement
// (the thresholds of workspaces without their own, the stale limit) share one
// alert store. Before, each resolved the other's alerts as "removed from the
// settings" (hunt defect 1): hot at 95 % ended with no threshold alert
// firing, a webhook for each of six transitions, again every 10 minutes.
// Now the rules live in Redis ({prefix}:alert_rules): the first instance
// seeds them, one that is not given the flag judges by them, one given
// another value is refused at its start (exit 2, saying what the store holds
// and how to change it for every instance). Each case: two watchers on one
// redis-server and one webhook; nothing resolves, the firing set is the one
// judgement of the shared rules, each transition arrives once.
func TestInstancesThatDifferInAlertFlagsDoNotFight(t *testing.T) {
	th := func(ths ...string) []string { return ths }
	cases := []struct {
		name   string
		first  []string // flags of the instance started first
		second []string // and of the one started once it fired
		// refused is what the second says when it refuses to start ("": it runs)
		refused string
		// says is what the second, running, logs of the rules it judges by
		says   string
		firing []string // the thresholds firing for a workspace at 95 %
	}{
		{"default-alerts given to the second", nil, []string{"--default-alerts", "10,20,30"},
			"--default-alerts 10,20,30 disagrees", "", th("50", "75", "90")},
		{"default-alerts seeded by the first", []string{"--default-alerts", "10,20,30"}, nil, "", "default_alerts=10,20,30", th("10", "20", "30")},
		{"default-alerts given alike", []string{"--default-alerts", "10,20,30"}, []string{"--default-alerts", "10,20,30"}, "", "default_alerts=10,20,30", th("10", "20", "30")},
		{"stale given to the second", nil, []string{"--stale", "1ns"}, "--stale 1ns disagrees", "", th("50", "75", "90")},
		{"stale seeded by the first", []string{"--stale", "1h"}, nil, "", "stale=1h0m0s", th("50", "75", "90")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := feedtest.Start(t)
			ctx := context.Background()
			hook := notifytest.NewReceiver(t)
			usage := notifytest.NewUsage(t, srv.Client())
			store := feed.NewAlertStore(srv.Client(), "")
			period := model.MonthlyUTC.At(time.Now()).Key
			args := func(extra []string) []string {
				return append([]string{"--redis", srv.URL, "--notify", hook.URL + "/mavtop", "--notify-retry-min", "100ms"}, extra...)
			}
			want := map[string]bool{}
			spend := func(ws string) {
				usage.Set(ws, model.Settings{Allocation: 1000})
				usage.Spend(ws, 950)
				for _, p := range tc.firing {
					want[notifytest.ThresholdKey(period, ws, p, model.AlertFiring)] = true
				}
			}
			spend("hot")
			first := runWatch(t, args(tc.first)...)
			waitUntil(t, 60*time.Second, "the first instance to follow", func() bool {
				return strings.Contains(first.stderr.String(), "workspaces found")
			})
			waitUntil(t, 60*time.Second, "hot's firings", hook.Has(slices.Collect(maps.Keys(want))...))
			second := runWatch(t, args(tc.second)...)
			if tc.refused != "" {
				select {
				case <-second.ended:
					err := second.err
					var ee *exitError
					if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tc.refused) ||
						!strings.Contains(err.Error(), "mavtop budget rules") {
						t.Errorf("the second instance ended with %v, want exit 2 saying %q and how to change the rules", err, tc.refused)
					}
				case <-time.After(15 * time.Second):
					// it runs: what it does to the shared alerts is checked below
					t.Errorf("the second instance was not refused")
				}
			} else {
				waitUntil(t, 60*time.Second, "the second instance to follow", func() bool {
					return strings.Contains(second.stderr.String(), "workspaces found")
				})
				if !strings.Contains(second.stderr.String(), tc.says) {
					t.Errorf("the second instance does not say %q", tc.says)
				}
			}
			// a workspace crossing its lines once both judge: its firings
			// arrive once both instances have judged hot for seconds
			spend("late")
			waitUntil(t, 60*time.Second, "late's firings", hook.Has(slices.Collect(maps.Keys(want))...))
			time.Sleep(3 * time.Second) // three more cycles of each: a fight shows in them
			waitUntil(t, 60*time.Second, "every delivery recorded", func() bool { return notifytest.Settled(ctx, store, period) })

			for k, n := range hook.Keys() {
				switch {
				case strings.HasSuffix(k, "#resolved"):
					t.Errorf("%s arrived (%d times): nothing ended, yet it resolved", k, n)
				case !want[k]:
					t.Errorf("%s arrived (%d times): not the shared rules' judgement %v", k, n, slices.Sorted(maps.Keys(want)))
				case n != 1:
					t.Errorf("%s arrived %d times, want once", k, n)
				}
			}
			recs, _, err := store.Load(ctx, period)
			if err != nil {
				t.Fatal(err)
			}
			firing := map[string]bool{}
			for id, r := range recs {
				if r.Status == model.AlertFiring {
					firing[id+"#firing"] = true
				}
			}
			if !maps.Equal(firing, want) {
				t.Errorf("firing in the store: %v, want %v", slices.Sorted(maps.Keys(firing)), slices.Sorted(maps.Keys(want)))
			}
			if t.Failed() {
				t.Logf("first:\n%s\nsecond:\n%s", first.stderr.String(), second.stderr.String())
			}
		})
	}
}

// scrapeWatch returns a running watch's /metrics ("" until it says where).
func scrapeWatch(w *runningWatch) string {
	m := regexp.MustCompile(`metrics=(http://\S+/metrics)`).FindStringSubmatch(w.stderr.String())
	if m == nil {
		return ""
	}
	resp, err := http.Get(m[1])
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// exactly fails the test unless every key the hook got is in want, once, and
// every one of want arrived.
func exactly(t *testing.T, hook *notifytest.Receiver, want ...string) {
	t.Helper()
	got := hook.Keys()
	for k, n := range got {
		if n != 1 || !slices.Contains(want, k) {
			t.Errorf("%s arrived %d times (want once each of %v)", k, n, want)
		}
	}
	for _, k := range want {
		if got[k] == 0 {
			t.Errorf("%s never arrived", k)
		}
	}
}

// The rules changed while instances run (mavtop budget rules). Before, every
// instance started before held every alert until restarted (rules11 defect
// 3): nothing fired or resolved. Now the stored rules are the shared truth and
// the flags only seed them: both instances started without the flag adopt
// the new thresholds, hot's 50/75/90 resolve saying why (not "removed from the
// settings") and 10/20/30 fire for hot and for late, each transition
// delivered once; an instance given --default-alerts 50,75,90 explicitly
// holds every alert instead and says so on stderr and in /metrics.
func TestRunningInstancesAdoptChangedAlertRules(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	hook := notifytest.NewReceiver(t)
	usage := notifytest.NewUsage(t, srv.Client())
	store := feed.NewAlertStore(srv.Client(), "")
	period := model.MonthlyUTC.At(time.Now()).Key
	key := func(ws, th string, st model.AlertStatus) string { return notifytest.ThresholdKey(period, ws, th, st) }
	args := []string{"--redis", srv.URL, "--notify", hook.URL + "/mavtop", "--notify-retry-min", "100ms", "--metrics", "127.0.0.1:0"}
	usage.Set("hot", model.Settings{Allocation: 1000})
	usage.Spend("hot", 950)
	w1, w2 := runWatch(t, args...), runWatch(t, args...)
	pinned := runWatch(t, append(slices.Clone(args), "--default-alerts", "50,75,90")...)
	all := []*runningWatch{w1, w2, pinned}
	for _, w := range all {
		waitUntil(t, 60*time.Second, "an instance to follow", func() bool { return strings.Contains(w.stderr.String(), "workspaces found") })
	}
	old := []string{key("hot", "50", model.AlertFiring), key("hot", "75", model.AlertFiring), key("hot", "90", model.AlertFiring)}
	waitUntil(t, 60*time.Second, "hot's firings", hook.Has(old...))

	out, errOut, code := runMavtop(t, "budget", "rules", "--redis", srv.URL, "--default-alerts", "10,20,30")
	if code != 0 || !strings.Contains(out, "default alerts  10,20,30") || !strings.Contains(out, "stale           5m0s") ||
		!strings.Contains(out, "running instances adopt them") {
		t.Fatalf("budget rules: %d\n%s%s", code, out, errOut)
	}
	for _, w := range []*runningWatch{w1, w2} {
		waitUntil(t, 60*time.Second, "an instance started before to adopt the new rules", func() bool {
			return strings.Contains(w.stderr.String(), "alert rules changed: judging by the shared ones") &&
				strings.Contains(w.stderr.String(), "default alerts 10,20,30") &&
				strings.Contains(scrapeWatch(w), "mavtop_alert_rules_disagree 0\n")
		})
	}
	waitUntil(t, 60*time.Second, "the instance given the flag to hold", func() bool {
		return strings.Contains(pinned.stderr.String(), "alert rules disagree with the shared ones: holding every alert") &&
			strings.Contains(pinned.stderr.String(), "--default-alerts 50,75,90 (shared: 10,20,30)") &&
			strings.Contains(scrapeWatch(pinned), "mavtop_alert_rules_disagree 1\n")
	})
	usage.Set("late", model.Settings{Allocation: 1000})
	usage.Spend("late", 950)
	var want []string
	for _, ws := range []string{"hot", "late"} {
		for _, th := range []string{"10", "20", "30"} {
			want = append(want, key(ws, th, model.AlertFiring))
		}
	}
	resolved := []string{key("hot", "50", model.AlertResolved), key("hot", "75", model.AlertResolved), key("hot", "90", model.AlertResolved)}
	waitUntil(t, 60*time.Second, "the new rules' judgement", hook.Has(append(want, resolved...)...))
	time.Sleep(3 * time.Second) // three more cycles of each: a fight shows in them
	waitUntil(t, 60*time.Second, "every delivery recorded", func() bool { return notifytest.Settled(ctx, store, period) })
	exactly(t, hook, slices.Concat(old, want, resolved)...)
	out, _, _ = runMavtop(t, "alerts", "--redis", srv.URL)
	if !strings.Contains(out, "hot is no longer alerted on at 50 % (the default thresholds every mavtop sharing the Redis judges by are now 10/20/30 %") ||
		strings.Contains(out, "removed from the settings") {
		t.Errorf("mavtop alerts does not say why hot's 50 %% resolved:\n%s", out)
	}
	if t.Failed() {
		for i, w := range all {
			t.Logf("instance %d:\n%s", i+1, w.stderr.String())
		}
	}
}

// An instance started while Redis is away (down, or answering slower than
// the 2 s its start waits for the rules) starts by its flags' rules, here the
// built-in 50/75/90 %, while the store holds 10/20/30 %. Before, it held every
// alert until restarted (rules11 defect 2): warm at 25 % never alerted. Now,
// once Redis answers, it reads the stored rules, adopts them and judges:
// warm's 10 and 20 % fire, once each, and nothing else. Real redis-server:
// killed and restarted (down), or CLIENT PAUSE for 6 s (slow).
func TestAnInstanceStartedWhileRedisIsAwayJudgesByTheStoredRules(t *testing.T) {
	for _, away := range []string{"down", "slow"} {
		t.Run(away, func(t *testing.T) {
			srv := feedtest.Start(t)
			ctx := context.Background()
			hook := notifytest.NewReceiver(t)
			usage := notifytest.NewUsage(t, srv.Client())
			store := feed.NewAlertStore(srv.Client(), "")
			period := model.MonthlyUTC.At(time.Now()).Key
			if _, errOut, code := runMavtop(t, "budget", "rules", "--redis", srv.URL, "--default-alerts", "10,20,30"); code != 0 {
				t.Fatalf("budget rules: %d %s", code, errOut)
			}
			usage.Set("warm", model.Settings{Allocation: 1000})
			usage.Spend("warm", 250)
			switch away {
			case "down":
				srv.Kill()
			case "slow":
				if err := srv.Client().Do(ctx, "CLIENT", "PAUSE", "6000", "ALL").Err(); err != nil {
					t.Fatal(err)
				}
			}
			w := runWatch(t, "--redis", srv.URL, "--notify", hook.URL+"/mavtop", "--notify-retry-min", "100ms")
			if away == "down" {
				waitUntil(t, 30*time.Second, "the watch to find Redis down", func() bool {
					return strings.Contains(w.stderr.String(), "connection refused")
				})
				srv.Restart()
			}
			want := []string{notifytest.ThresholdKey(period, "warm", "10", model.AlertFiring), notifytest.ThresholdKey(period, "warm", "20", model.AlertFiring)}
			waitUntil(t, 90*time.Second, "warm's firings by the stored rules", hook.Has(want...))
			time.Sleep(3 * time.Second)
			waitUntil(t, 60*time.Second, "every delivery recorded", func() bool { return notifytest.Settled(ctx, store, period) })
			exactly(t, hook, want...)
			if !strings.Contains(w.stderr.String(), "alert rules changed: judging by the shared ones") {
				t.Errorf("the watch does not say it adopted the stored rules")
			}
			if t.Failed() {
				t.Logf("watch:\n%s", w.stderr.String())
			}
		})
	}
}

// check and budget show judge a workspace without thresholds of its own by
// the shared ones (mavtop budget rules), as every dashboard and watcher does,
// unless given --default-alerts: at 25 % with the shared 10/20/30 % acme is
// high (WARNING), not ok.
func TestCheckJudgesByTheSharedThresholds(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "acme")
	f.track(t, model.Event{Workspace: "acme", Endpoint: "/r", Credits: 250, Status: 200})
	if out, errOut, code := runMavtop(t, "check", "--redis", f.srv.URL, "acme"); code != 0 {
		t.Fatalf("check before the rules: %d\n%s%s", code, out, errOut)
	}
	own, _, _ := runMavtop(t, "budget", "show", "--redis", f.srv.URL, "acme")
	if _, errOut, code := runMavtop(t, "budget", "rules", "--redis", f.srv.URL, "--default-alerts", "10,20,30"); code != 0 {
		t.Fatalf("budget rules: %d %s", code, errOut)
	}
	if out, errOut, code := runMavtop(t, "check", "--redis", f.srv.URL, "acme"); code != 1 || !strings.Contains(out, "WARNING") {
		t.Errorf("check by the shared 10,20,30: %d, want 1 (WARNING)\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runMavtop(t, "check", "--redis", f.srv.URL, "--default-alerts", "50,75,90", "acme"); code != 0 {
		t.Errorf("check --default-alerts 50,75,90: %d, want 0\n%s%s", code, out, errOut)
	}
	shared, _, _ := runMavtop(t, "budget", "show", "--redis", f.srv.URL, "acme")
	given, _, _ := runMavtop(t, "budget", "show", "--redis", f.srv.URL, "acme", "--default-alerts", "50,75,90")
	if shared == own || given != own {
		t.Errorf("budget show: before the rules\n%s\nby the shared ones\n%s\ngiven 50,75,90\n%s", own, shared, given)
	}
}

// The stored rules are read by the flags' own validation (rules11 defect 1):
// each value is written to the hash by hand on a real redis-server, and what
// ReadAlertRules refuses is exactly what --default-alerts and --stale refuse.
// Before, a threshold of 100 was taken from the hash (the flag refuses it),
// and a 1,000-number list was split whole.
func TestStoredRulesAreValidatedAsTheFlagsAre(t *testing.T) {
	f := newFixture(t)
	k := feed.Keys{}
	long := strings.Repeat("1,", 1000) + "2"
	for _, v := range []string{"50,75,90", "10,20,30", " 1, 2 ,99", "[50,75,90]", "50,75,100", "0,50,75", "-5,50,75", "90,75,50",
		"50,50,90", "50,75", "50,75,90,95", "NaN", "fifty", "", long} {
		f.hset(t, k.AlertRules(), feed.RuleDefaultAlerts, v)
		held, err := feed.ReadAlertRules(f.ctx, f.c, k)
		_, flagErr := thresholdsFlag(v).parse()
		var bad *feed.AlertRulesError
		switch {
		case (err != nil) != (flagErr != nil):
			t.Errorf("default_alerts %.20q: stored %v (%v), flag %v", v, held.DefaultAlerts, err, flagErr)
		case err != nil && (!errors.As(err, &bad) || !slices.Equal(bad.Fields, []string{feed.RuleDefaultAlerts}) ||
			!slices.Equal(held.DefaultAlerts, model.DefaultThresholds()) || len(err.Error()) > 300 ||
			!strings.Contains(err.Error(), "{mavera}:alert_rules field default_alerts holds")):
			t.Errorf("default_alerts %.20q: %v (held %v), want the field named and the built-in thresholds held", v, err, held.DefaultAlerts)
		}
	}
	f.hset(t, k.AlertRules(), feed.RuleDefaultAlerts, "50,75,90")
	for _, v := range []string{"5m", "1ns", "24h", "0s", "-1m", "25h", "100000h", "NaN", "five"} {
		f.hset(t, k.AlertRules(), feed.RuleStale, v)
		held, err := feed.ReadAlertRules(f.ctx, f.c, k)
		d, perr := time.ParseDuration(v)
		flagErr := perr
		if perr == nil {
			flagErr = model.ValidateStale(d) // what startAlerts and budget rules refuse
		}
		if (err != nil) != (flagErr != nil) || err != nil && held.Stale != model.DefaultStale || err == nil && held.Stale != d {
			t.Errorf("stale %q: held %v (%v), flag %v", v, held.Stale, err, flagErr)
		}
	}
	if _, errOut, code := runMavtop(t, "budget", "rules", "--redis", f.srv.URL, "--stale", "100000h"); code != 2 || !strings.Contains(errOut, "at most 24h") {
		t.Errorf("budget rules --stale 100000h: exit %d %s", code, errOut)
	}
}

// A rule stored that cannot be read (a hand's "50,75,100") no longer stops
// the instances (before: exit 2 at every start, rules11 defect 1). Every
// instance judges that field at its built-in value — whenever it started, so
// that one running before the mistake and one started after it judge alike
// (a last good value would differ between them and they would fight) — and
// names the key and field in its log and its alerts pane; check, budget show
// and budget rules name it too. Real redis-server: a watch started on
// 10,20,30 fires hot's 10/20/30, the field is broken by hand, the watch
// resolves them and fires 50/75/90, a second watch started after it agrees:
// each transition delivered once.
func TestAnUnreadableAlertRuleIsNamedAndJudgedByTheBuiltIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hook := notifytest.NewReceiver(t)
	usage := notifytest.NewUsage(t, f.srv.Client())
	store := feed.NewAlertStore(f.srv.Client(), "")
	period := model.MonthlyUTC.At(time.Now()).Key
	key := func(th string, st model.AlertStatus) string { return notifytest.ThresholdKey(period, "hot", th, st) }
	if _, errOut, code := runMavtop(t, "budget", "rules", "--redis", f.srv.URL, "--default-alerts", "10,20,30"); code != 0 {
		t.Fatalf("budget rules: %d %s", code, errOut)
	}
	usage.Set("hot", model.Settings{Allocation: 1000})
	usage.Spend("hot", 950)
	args := []string{"--redis", f.srv.URL, "--notify", hook.URL + "/mavtop", "--notify-retry-min", "100ms"}
	w1 := runWatch(t, args...)
	first := []string{key("10", model.AlertFiring), key("20", model.AlertFiring), key("30", model.AlertFiring)}
	waitUntil(t, 60*time.Second, "hot's firings by 10,20,30", hook.Has(first...))

	f.hset(t, feed.Keys{}.AlertRules(), feed.RuleDefaultAlerts, "50,75,100")
	named := `{mavera}:alert_rules field default_alerts holds "50,75,100"`
	logged := strings.ReplaceAll(named, `"`, `\"`) // slog's text quotes the value
	waitUntil(t, 60*time.Second, "the watch to name the field", func() bool {
		return strings.Contains(w1.stderr.String(), "an alert rule stored cannot be read") && strings.Contains(w1.stderr.String(), logged)
	})
	w2 := runWatch(t, args...)
	waitUntil(t, 60*time.Second, "the second watch to follow", func() bool {
		return strings.Contains(w2.stderr.String(), "workspaces found") && strings.Contains(w2.stderr.String(), logged)
	})
	then := []string{key("10", model.AlertResolved), key("20", model.AlertResolved), key("30", model.AlertResolved),
		key("50", model.AlertFiring), key("75", model.AlertFiring), key("90", model.AlertFiring)}
	waitUntil(t, 60*time.Second, "the built-in thresholds' judgement", hook.Has(then...))
	time.Sleep(3 * time.Second) // three more cycles of each: a fight shows in them
	waitUntil(t, 60*time.Second, "every delivery recorded", func() bool { return notifytest.Settled(ctx, store, period) })
	exactly(t, hook, append(first, then...)...)
	select {
	case <-w1.ended:
		t.Errorf("the first watch ended: %v", w1.err)
	case <-w2.ended:
		t.Errorf("the second watch ended: %v", w2.err)
	default:
	}
	for _, cmd := range [][]string{{"check", "hot"}, {"budget", "show", "hot"}, {"budget", "rules"}} {
		out, errOut, _ := runMavtop(t, append(cmd, "--redis", f.srv.URL)...)
		if !strings.Contains(out+errOut, named) {
			t.Errorf("mavtop %s does not name the field:\n%s%s", strings.Join(cmd, " "), out, errOut)
		}
	}
	if t.Failed() {
		t.Logf("w1:\n%s\nw2:\n%s", w1.stderr.String(), w2.stderr.String())
	}
}
