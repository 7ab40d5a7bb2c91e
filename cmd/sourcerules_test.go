package cmd

import (
	"context"
	"encoding/json"
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

// sourceSplit writes usage the stream and the Pattern 1 counters judge
// differently: hot is at 95 % by its counter and 10 % by the stream, cold
// the other way round. It returns the workspaces each source sees over 90 %.
func sourceSplit(t *testing.T, srv *feedtest.Server, usage *notifytest.Usage) map[feed.SourceKind][]string {
	t.Helper()
	c := srv.Client()
	for ws, v := range map[string][2]int64{"hot": {100, 950}, "cold": {950, 100}} {
		usage.Set(ws, model.Settings{Allocation: 1000})
		usage.Spend(ws, v[0])
		if err := c.Set(context.Background(), "mavera:credits_used:current_period:"+ws, v[1], 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return map[feed.SourceKind][]string{feed.SourceStream: {"cold"}, feed.SourceCounters: {"hot"}}
}

// Two mavtops reading usage from different sources (--source stream and
// --source counters, or auto resolving otherwise) judge one workspace by
// different figures. Before (hunt defect 11), sharing one alert store, the
// counters' instance fired hot at 95 % and the stream's resolved it at once
// ("hot is back under 50 % … 100 credits used"): measured with two real
// `mavtop watch` on one redis-server, 9 webhooks in 20 s, and `mavtop alerts`
// showed cold firing by the stream and hot resolved against its own counter.
// Now the source is a shared alert rule ({prefix}:alert_rules field source):
// the first instance seeds it (auto resolved), one given --source auto
// judges by it, one given another is refused at its start (exit 2, naming
// `mavtop budget rules`). Each case: two watchers, one redis-server, one
// webhook; nothing resolves, the firing set is the shared source's one
// judgement, each transition arrives once.
func TestInstancesThatDifferInSourceDoNotFight(t *testing.T) {
	cases := []struct {
		name          string
		first, second []string
		refused, says string
		judged        feed.SourceKind // the source every alert is judged by
	}{
		{"stream given to the second", []string{"--source", "counters"}, []string{"--source", "stream"},
			"--source stream disagrees", "", feed.SourceCounters},
		{"counters given to the second", []string{"--source", "stream"}, []string{"--source", "counters"},
			"--source counters disagrees", "", feed.SourceStream},
		{"counters seeded by the first", []string{"--source", "counters"}, nil,
			"", `source="counters mavera:credits_used:current_period:*"`, feed.SourceCounters},
		{"auto alike", nil, []string{"--source", "auto"}, "", "source=stream", feed.SourceStream},
		// both read the counters, each on its own poll (--counter-poll is
		// no shared rule: which reading is newer is, by Redis's clock)
		{"counters, polls apart", []string{"--source", "counters"}, []string{"--source", "auto", "--counter-poll", "3s"},
			"", `source="counters mavera:credits_used:current_period:*"`, feed.SourceCounters},
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
				return append([]string{"--redis", srv.URL, "--notify", hook.URL + "/mavtop", "--notify-retry-min", "100ms",
					"--counter-poll", "100ms"}, extra...)
			}
			want := map[string]bool{}
			judge := func(ws ...string) {
				for _, w := range ws {
					for _, p := range []string{"50", "75", "90"} {
						want[notifytest.ThresholdKey(period, w, p, model.AlertFiring)] = true
					}
				}
			}
			judge(sourceSplit(t, srv, usage)[tc.judged]...)
			first := runWatch(t, args(tc.first)...)
			waitUntil(t, 60*time.Second, "the first instance to follow", func() bool {
				return strings.Contains(first.stderr.String(), "workspaces found")
			})
			waitUntil(t, 60*time.Second, "the first's firings", hook.Has(slices.Collect(maps.Keys(want))...))
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
			// a workspace both sources see alike, crossing once both judge:
			// when both read the counters, each polls them (and the
			// settings) on its own cadence, and one that has not polled
			// yet must not resolve what the other fired ("removed from the
			// settings"): each reading carries Redis's TIME, and only one
			// not older than the reading that fired resolves
			usage.Set("late", model.Settings{Allocation: 1000})
			usage.Spend("late", 950)
			if err := srv.Client().Set(ctx, "mavera:credits_used:current_period:late", 950, 0).Err(); err != nil {
				t.Fatal(err)
			}
			judge("late")
			waitUntil(t, 60*time.Second, "late's firings", hook.Has(slices.Collect(maps.Keys(want))...))
			time.Sleep(3 * time.Second) // three more cycles of each: a fight shows in them
			waitUntil(t, 60*time.Second, "every delivery recorded", func() bool { return notifytest.Settled(ctx, store, period) })

			for k, n := range hook.Keys() {
				switch {
				case strings.HasSuffix(k, "#resolved"):
					t.Errorf("%s arrived (%d times): nothing ended, yet it resolved", k, n)
				case !want[k]:
					t.Errorf("%s arrived (%d times): not the %s's judgement %v", k, n, tc.judged, slices.Sorted(maps.Keys(want)))
				case n != 1:
					t.Errorf("%s arrived %d times, want once", k, n)
				}
			}
			out, errOut, code := runMavtop(t, "alerts", "--redis", srv.URL, "--json")
			if code != 0 {
				t.Fatalf("alerts --json: %d %s", code, errOut)
			}
			var listed struct {
				Alerts []struct {
					Status string
					Alert  struct{ ID string }
				}
			}
			if err := json.Unmarshal([]byte(out), &listed); err != nil {
				t.Fatalf("alerts --json: %v\n%s", err, out)
			}
			shown := map[string]bool{}
			for _, a := range listed.Alerts {
				shown[a.Alert.ID+"#"+a.Status] = true
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
			if !maps.Equal(firing, want) || !maps.Equal(shown, want) {
				t.Errorf("firing in the store: %v, in alerts --json: %v, want %v", slices.Sorted(maps.Keys(firing)),
					slices.Sorted(maps.Keys(shown)), slices.Sorted(maps.Keys(want)))
			}
			if t.Failed() {
				t.Logf("first:\n%s\nsecond:\n%s", first.stderr.String(), second.stderr.String())
			}
		})
	}
}

// The shared source changed while instances run (mavtop budget rules
// --source counters): those started before read the stream, so they hold
// every alert — neither fire nor resolve — and say so on stderr (naming
// the flag and what is shared) and in /metrics.
func TestChangedSourceHoldsInstancesStartedBefore(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	hook := notifytest.NewReceiver(t)
	usage := notifytest.NewUsage(t, srv.Client())
	store := feed.NewAlertStore(srv.Client(), "")
	period := model.MonthlyUTC.At(time.Now()).Key
	key := func(ws, th string) string { return notifytest.ThresholdKey(period, ws, th, model.AlertFiring) }
	sourceSplit(t, srv, usage)
	args := []string{"--redis", srv.URL, "--notify", hook.URL + "/mavtop", "--notify-retry-min", "100ms", "--counter-poll", "100ms",
		"--metrics", "127.0.0.1:0"}
	w := runWatch(t, args...)
	waitUntil(t, 60*time.Second, "the instance to follow", func() bool { return strings.Contains(w.stderr.String(), "workspaces found") })
	cold := []string{key("cold", "50"), key("cold", "75"), key("cold", "90")}
	waitUntil(t, 60*time.Second, "cold's firings", hook.Has(cold...))

	out, errOut, code := runMavtop(t, "budget", "rules", "--redis", srv.URL, "--source", "counters")
	if code != 0 || !strings.Contains(out, "source          counters mavera:credits_used:current_period:*") {
		t.Fatalf("budget rules: %d\n%s%s", code, out, errOut)
	}
	scrape := func() string {
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
	waitUntil(t, 60*time.Second, "the instance started before to hold", func() bool {
		return strings.Contains(w.stderr.String(), "alert rules disagree with the shared ones: holding every alert") &&
			strings.Contains(w.stderr.String(), "--source stream (shared: counters mavera:credits_used:current_period:*)") &&
			strings.Contains(scrape(), "mavtop_alert_rules_disagree 1\n")
	})
	// a workspace the stream alone sees over its lines: held, not fired
	usage.Set("late", model.Settings{Allocation: 1000})
	usage.Spend("late", 950)
	time.Sleep(3 * time.Second) // three cycles: held, nothing is recorded
	waitUntil(t, 60*time.Second, "every delivery recorded", func() bool { return notifytest.Settled(ctx, store, period) })
	for k, n := range hook.Keys() {
		if !slices.Contains(cold, k) || n != 1 {
			t.Errorf("%s arrived %d times while the instance held", k, n)
		}
	}
	if t.Failed() {
		t.Logf("watch:\n%s", w.stderr.String())
	}
}

// check given --source auto reads the source every instance judges by, as
// the dashboards and watchers do: with the stream contract in use and the
// shared source set to the Pattern 1 counters, hot (95 % by its counter) is
// CRITICAL, not ok by the stream's 10 %.
func TestCheckReadsTheSharedSource(t *testing.T) {
	srv := feedtest.Start(t)
	sourceSplit(t, srv, notifytest.NewUsage(t, srv.Client()))
	read := func(extra ...string) (source string, levels map[string]string) {
		t.Helper()
		out, errOut, _ := runMavtop(t, append([]string{"check", "--redis", srv.URL, "--json"}, extra...)...)
		var got struct {
			Source     string
			Workspaces []struct{ Workspace, Level string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("check --json: %v\n%s%s", err, out, errOut)
		}
		levels = map[string]string{}
		for _, w := range got.Workspaces {
			levels[w.Workspace] = w.Level
		}
		return got.Source, levels
	}
	if src, lv := read(); src != "stream" || lv["hot"] != "ok" || lv["cold"] != "critical" {
		t.Fatalf("before the shared source: source %q, levels %v", src, lv)
	}
	if _, errOut, code := runMavtop(t, "budget", "rules", "--redis", srv.URL, "--source", "counters"); code != 0 {
		t.Fatalf("budget rules: %d %s", code, errOut)
	}
	if src, lv := read(); src != "counters" || lv["hot"] != "critical" || lv["cold"] != "ok" {
		t.Errorf("by the shared counters: source %q, levels %v, want counters, hot critical, cold ok", src, lv)
	}
	if src, lv := read("--source", "stream"); src != "stream" || lv["hot"] != "ok" {
		t.Errorf("check --source stream: source %q, levels %v", src, lv)
	}
}
