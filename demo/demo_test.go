package demo_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/demo"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestPeriodIsMidWay: whatever the date and time, the demo's billing period is
// between 40 and 60 % gone, so "time left", pace and forecasts read as they do
// mid-month (never "23 h left" on the last day of a month).
func TestPeriodIsMidWay(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h := 0; h < 2*366*24; h += 5 { // two years, every fifth hour
		now := start.Add(time.Duration(h) * time.Hour)
		cfg := demo.PeriodAt(now)
		rule, err := cfg.Rule()
		if err != nil {
			t.Fatal(err)
		}
		p := rule.At(now)
		f := float64(now.Sub(p.Start)) / float64(p.End.Sub(p.Start))
		if f < 0.4 || f > 0.6 || p.Left(now) < 11*24*time.Hour {
			t.Fatalf("at %s the demo period %s–%s is %.0f %% gone, %s left", now, p.Start, p.End, f*100, p.Left(now))
		}
	}
}

// sample is what the dashboard's ledger shows at one moment.
type sample struct {
	at     time.Duration
	levels map[model.Level][]string
	rows   []string
}

// TestDemoStaysTruthfulFor35Minutes runs the demo — history, traffic, owner —
// on a compressed clock (35 simulated minutes) against a real redis-server,
// followed by the feed's subscriber on the same clock, as the dashboard follows
// it. Every 30 simulated seconds it checks what the dashboard's ledger shows,
// judged by the model's own rules: pace ≤ 50× for every workspace (none at
// ">999×"), no forecast of running out within the hour (no frozen "out in 4 s"),
// at least three distinct levels at 90 % of the samples and at the end. GET
// /usage read at quiet moments equals the counters to the credit (no drift the
// demo invents), the subscriber's audit never had to heal a difference, and at
// the end the ledger equals the Redis counters and the API's own ledger.
func TestDemoStaysTruthfulFor35Minutes(t *testing.T) {
	if testing.Short() {
		t.Skip("35 simulated minutes")
	}
	const (
		speed = 50
		span  = 35 * time.Minute
		every = 30 * time.Second
	)
	srv := feedtest.Start(t)
	// 21:30 on the last day of a month (the period must still be mid-way), in
	// the future: Redis expires the counters by its own clock.
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Add(-150 * time.Minute)
	clock := client.NewScaledClock(start, speed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errMu sync.Mutex
	var demoErrs []string
	d, err := demo.Start(ctx, demo.Options{Redis: srv.Client(), Seed: 3, Clock: clock, OnError: func(err error) {
		errMu.Lock()
		demoErrs = append(demoErrs, err.Error())
		errMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	hub := feed.NewHub()
	sub := feed.NewSubscriber(d.Redis, feed.SubscriberOptions{Now: clock.Now, AuditEvery: 5 * time.Second})
	go func() { _ = hub.Run(ctx, sub) }()

	keys := feed.Keys{}
	counters := func(period string) map[string]int64 {
		m, err := d.Redis.HGetAll(ctx, keys.Used(period)).Result()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for k, v := range m {
			var n int64
			fmt.Sscan(v, &n)
			out[k] = n
		}
		return out
	}
	// GET /usage at quiet moments, as the dashboard reads it: equal to the counters.
	var recMu sync.Mutex
	var readings, quiet int
	var drifts []string
	rec := &client.Reconciler{Client: d.Client, Interval: time.Minute, QuietWait: 30 * time.Second,
		Sink: func(r client.Reconciliation) {
			if r.Err != nil {
				t.Errorf("GET /usage: %v", r.Err)
				return
			}
			period := model.MonthlyUTC
			if rule, err := demo.PeriodAt(start).Rule(); err == nil {
				period = rule
			}
			var tracked int64
			for _, n := range counters(period.At(r.At).Key) {
				tracked += n
			}
			recMu.Lock()
			defer recMu.Unlock()
			readings++
			if r.Quiet {
				quiet++
				if diff := r.Usage.Credits.Used - tracked; diff != 0 {
					drifts = append(drifts, fmt.Sprintf("%s: API %d, tracked %d", r.At.Sub(start), r.Usage.Credits.Used, tracked))
				}
			}
		}}
	go func() { _ = rec.Run(ctx) }()

	var samples []sample
	// the alert lifecycle judged at each sample, as one instance would: a
	// run_out must never stay resolved while the row says it runs out (it
	// was resolved by a short idle spell and never fired again while the
	// row said "out in 29 h")
	known := map[string]model.AlertRecord{}
	runOuts := map[model.AlertStatus]int{}
	for at := every; at <= span; at += every {
		if clock.Sleep(ctx, every) != nil {
			t.Fatal("stopped")
		}
		now := clock.Now()
		s := sample{at: at, levels: map[model.Level][]string{}}
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l == nil {
				t.Fatalf("no ledger %s in", at)
			}
			if left := l.Period().Left(now); left < 11*24*time.Hour {
				t.Errorf("%s in: the period has only %s left", at, left)
			}
			for _, sum := range l.Summaries(nil) {
				// the forecast the row shows: of the budget that sets the
				// level (a project's usage limit where it binds)
				v, f, _ := l.VerdictForecast(sum.Name, now)
				s.levels[sum.Level] = append(s.levels[sum.Level], sum.Name)
				s.rows = append(s.rows, fmt.Sprintf("%-18s %-5s %5.1f%% /%s burn %7.0f/h pace %5.1f× out %v in %s",
					sum.Name, sum.Level, sum.Percent, v.Project, f.BurnPerHour, f.PaceMultiple, f.RunsOut, f.RunsOutIn.Round(time.Minute)))
				if math.IsInf(f.PaceMultiple, 0) || math.IsNaN(f.PaceMultiple) || f.PaceMultiple > 50 {
					t.Errorf("%s in: %s paces at %.1f× (burn %.0f/h, %d left, %s to go)", at, sum.Name, f.PaceMultiple, f.BurnPerHour, f.Remaining, f.Left)
				}
				if f.RunsOut && f.RunsOutIn > 0 && f.RunsOutIn < time.Hour {
					t.Errorf("%s in: %s runs out in %s", at, sum.Name, f.RunsOutIn)
				}
			}
			cands := model.EvaluateAlerts(l, now, model.FeedHealth{Connected: true, Since: start}, model.AlertOptions{}, nil)
			for _, tr := range model.AlertTransitions(known, cands, l.Period().Key, l.StreamID(), now) {
				rec := known[tr.Alert.ID]
				if tr.Status == model.AlertFiring {
					rec = model.AlertRecord{Alert: tr.Alert, Status: tr.Status, FiredAt: now, FiredStream: tr.Stream}
				} else {
					rec.Alert, rec.Status, rec.ResolvedAt, rec.ResolvedStream = tr.Alert, tr.Status, now, tr.Stream
				}
				known[tr.Alert.ID] = rec
				if tr.Alert.Kind == model.AlertRunOut {
					runOuts[tr.Status]++
				}
			}
			for _, a := range cands {
				if a.Kind != model.AlertRunOut || a.Condition != model.ConditionHolds || a.RunOutIn <= 0 {
					continue
				}
				var latest model.AlertRecord
				n := 0
				for id, r := range known {
					if base, ep := model.SplitEpisode(id); base == a.ID && ep > n {
						latest, n = r, ep
					}
				}
				if n > 0 && latest.Status == model.AlertResolved && now.Sub(latest.ResolvedAt) > model.DefaultReFireAfter+every {
					t.Errorf("%s in: %s's row runs out in %s, its run_out alert resolved at %s and did not fire again",
						at, a.Workspace, a.RunOutIn.Round(time.Minute), latest.ResolvedAt.Sub(start))
				}
			}
		})
		samples = append(samples, s)
	}
	var mixed int
	for _, s := range samples {
		if len(s.levels) >= 3 {
			mixed++
		}
	}
	last := samples[len(samples)-1]
	t.Logf("at the end (%s simulated):\n%s", span, strings.Join(last.rows, "\n"))
	if mixed < len(samples)*9/10 || len(last.levels) < 3 {
		t.Errorf("three or more levels at %d of %d samples, %d at the end: %v", mixed, len(samples), len(last.levels), last.levels)
	}
	changes := levelChanges(samples)
	t.Logf("level changes: %v", changes)
	t.Logf("run_out transitions: %v", runOuts)

	// Quiet moment: the API's ledger, the counters and the dashboard's ledger agree.
	var apiUsed map[string]int64
	var redisUsed map[string]int64
	var newest string
	d.Client.Quiesce(ctx, time.Minute, func(q bool) {
		if !q {
			t.Errorf("jobs still in flight after a minute")
		}
		l, _ := d.Sandbox.Ledger(d.Key)
		apiUsed = map[string]int64{}
		for ws, wl := range l.Workspaces {
			apiUsed[ws] = wl.Used
		}
		rule, _ := demo.PeriodAt(start).Rule()
		redisUsed = counters(rule.At(clock.Now()).Key)
		msgs, err := d.Redis.XRevRangeN(ctx, keys.Stream(), "+", "-", 1).Result()
		if err != nil || len(msgs) == 0 {
			t.Fatalf("newest entry: %v", err)
		}
		newest = msgs[0].ID
	})
	waitFor(t, "the dashboard's ledger to include the newest entry", func() bool { return hub.Applied(newest) })
	hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, st *feed.StatsMsg) {
		for _, sum := range l.Summaries(nil) {
			if sum.Used != redisUsed[sum.Name] || sum.Used != apiUsed[sum.Name] {
				t.Errorf("%s: dashboard %d, Redis %d, API %d", sum.Name, sum.Used, redisUsed[sum.Name], apiUsed[sum.Name])
			}
		}
		if st != nil {
			for reason, n := range st.Resyncs {
				if n > 0 {
					t.Errorf("the audit re-read the counters %d times for %q: something disagreed", n, reason)
				}
			}
		}
	})
	recMu.Lock()
	t.Logf("GET /usage: %d readings, %d at quiet moments", readings, quiet)
	if quiet == 0 || len(drifts) > 0 {
		t.Errorf("GET /usage at quiet moments (%d of %d) differed from the counters: %v", quiet, readings, drifts)
	}
	recMu.Unlock()
	errMu.Lock()
	for _, e := range demoErrs {
		t.Errorf("demo error: %s", e)
	}
	errMu.Unlock()
}

// levelChanges lists each workspace's levels in the order they were seen.
func levelChanges(samples []sample) map[string][]string {
	out := map[string][]string{}
	for _, s := range samples {
		for lvl, names := range s.levels {
			for _, n := range names {
				seq := out[n]
				if len(seq) == 0 || seq[len(seq)-1] != lvl.String() {
					out[n] = append(seq, lvl.String())
				}
			}
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
