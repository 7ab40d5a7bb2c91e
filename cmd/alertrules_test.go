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

// The rules changed while instances run (mavtop budget rules): those started
// before judge by their old rules, so they hold every alert — neither fire
// nor resolve — and say so on stderr and in /metrics; one started after
// judges by the new rules, and the alerts of the old thresholds resolve
// saying why (the shared default thresholds are now others), not that a
// settings line was removed (none was).
func TestChangedAlertRulesHoldInstancesStartedBefore(t *testing.T) {
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
	for _, w := range []*runningWatch{w1, w2} {
		waitUntil(t, 60*time.Second, "an instance to follow", func() bool { return strings.Contains(w.stderr.String(), "workspaces found") })
	}
	old := []string{key("hot", "50", model.AlertFiring), key("hot", "75", model.AlertFiring), key("hot", "90", model.AlertFiring)}
	waitUntil(t, 60*time.Second, "hot's firings", hook.Has(old...))

	out, errOut, code := runMavtop(t, "budget", "rules", "--redis", srv.URL, "--default-alerts", "10,20,30")
	if code != 0 || !strings.Contains(out, "default alerts  10,20,30") || !strings.Contains(out, "stale           5m0s") {
		t.Fatalf("budget rules: %d\n%s%s", code, out, errOut)
	}
	scrape := func(w *runningWatch) string {
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
	for _, w := range []*runningWatch{w1, w2} {
		waitUntil(t, 60*time.Second, "an instance started before to hold", func() bool {
			return strings.Contains(w.stderr.String(), "alert rules disagree with the shared ones: holding every alert") &&
				strings.Contains(w.stderr.String(), "--default-alerts 50,75,90 (shared: 10,20,30)") &&
				strings.Contains(scrape(w), "mavtop_alert_rules_disagree 1\n")
		})
	}
	usage.Set("late", model.Settings{Allocation: 1000})
	usage.Spend("late", 950)
	time.Sleep(3 * time.Second) // three cycles of each: held, nothing is recorded
	for k := range hook.Keys() {
		if !slices.Contains(old, k) {
			t.Errorf("%s arrived while every instance held", k)
		}
	}

	// one restarted: it judges by the shared rules
	w1.cancel()
	<-w1.ended
	w3 := runWatch(t, args[:len(args)-2]...)
	waitUntil(t, 60*time.Second, "the restarted instance to follow", func() bool {
		return strings.Contains(w3.stderr.String(), "workspaces found") && strings.Contains(w3.stderr.String(), "default_alerts=10,20,30")
	})
	var want []string
	for _, ws := range []string{"hot", "late"} {
		for _, th := range []string{"10", "20", "30"} {
			want = append(want, key(ws, th, model.AlertFiring))
		}
	}
	resolved := []string{key("hot", "50", model.AlertResolved), key("hot", "75", model.AlertResolved), key("hot", "90", model.AlertResolved)}
	waitUntil(t, 60*time.Second, "the new rules' judgement", hook.Has(append(want, resolved...)...))
	time.Sleep(3 * time.Second)
	waitUntil(t, 60*time.Second, "every delivery recorded", func() bool { return notifytest.Settled(ctx, store, period) })
	for k, n := range hook.Keys() {
		if n != 1 || !slices.Contains(slices.Concat(old, want, resolved), k) {
			t.Errorf("%s arrived %d times", k, n)
		}
	}
	out, _, _ = runMavtop(t, "alerts", "--redis", srv.URL)
	if !strings.Contains(out, "hot is no longer alerted on at 50 % (the default thresholds every mavtop sharing the Redis judges by are now 10/20/30 %") ||
		strings.Contains(out, "removed from the settings") {
		t.Errorf("mavtop alerts does not say why hot's 50 %% resolved:\n%s", out)
	}
	if t.Failed() {
		t.Logf("w1:\n%s\nw2:\n%s\nw3:\n%s", w1.stderr.String(), w2.stderr.String(), w3.stderr.String())
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

// A rule stored that cannot be read (a hand's "fifty") refuses the start,
// naming the field, rather than judging by the flags beside others that
// judge by something else.
func TestAnUnreadableAlertRuleRefusesTheStart(t *testing.T) {
	f := newFixture(t)
	f.hset(t, feed.Keys{}.AlertRules(), feed.RuleDefaultAlerts, "fifty")
	w := runWatch(t, "--redis", f.srv.URL)
	select {
	case <-w.ended:
	case <-time.After(30 * time.Second):
		t.Fatal("watch started with an unreadable rule")
	}
	var ee *exitError
	if !errors.As(w.err, &ee) || ee.code != 2 || !strings.Contains(w.err.Error(), `field default_alerts holds "fifty"`) ||
		!strings.Contains(w.err.Error(), "mavtop budget rules") {
		t.Errorf("watch ended with %v, want exit 2 naming the field and how to set it", w.err)
	}
}
