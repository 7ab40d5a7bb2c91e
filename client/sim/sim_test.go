package sim_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/client/sim"
	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// The feed's publisher and balances are what the client expects.
var (
	_ client.Tracker  = (*feed.Publisher)(nil)
	_ client.Balances = (*feed.Balances)(nil)
)

// tee sends every event to the feed's publisher and keeps a copy for calibration.
type tee struct {
	pub *feed.Publisher
	mu  sync.Mutex
	evs []model.Event
}

func (t *tee) Track(ctx context.Context, e model.Event) error {
	if err := t.pub.Track(ctx, e); err != nil {
		return err
	}
	t.mu.Lock()
	t.evs = append(t.evs, e)
	t.mu.Unlock()
	return nil
}

func (t *tee) events() []model.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]model.Event(nil), t.evs...)
}

// errs collects unexpected errors from any goroutine.
type errs struct {
	mu   sync.Mutex
	list []string
}

func (e *errs) add(format string, args ...any) {
	e.mu.Lock()
	e.list = append(e.list, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

// rig is the demo's wiring for a test: a real Redis (feedtest) with the feed's
// publisher, settings and balances; the sandbox with the demo workspaces; the
// client calling it through httptest; the simulator. All on one scaled clock.
type rig struct {
	clock    *client.ScaledClock
	rdb      redis.UniversalClient
	tr       *tee
	balances *feed.Balances
	sb       *sandbox.Sandbox
	d        *sim.Driver
	wss      []sim.Workspace
	bad      *errs
	limited  atomic.Int64
}

func newRig(t *testing.T, speed float64, drain, stress bool, pace float64, mix ...sim.Share) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{clock: client.NewScaledClock(time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC), speed), bad: &errs{}, wss: sim.DefaultWorkspaces()}
	if len(mix) > 0 {
		for i := range r.wss {
			r.wss[i].Mix = mix
		}
	}
	r.rdb = feedtest.Start(t).Client()
	r.tr = &tee{pub: feed.NewPublisher(r.rdb, feed.PublisherOptions{Now: r.clock.Now})}
	store := feed.NewSettingsStore(r.rdb, feed.StoreOptions{Now: r.clock.Now})
	r.balances = feed.NewBalances(r.rdb, feed.StoreOptions{Now: r.clock.Now})
	for _, w := range r.wss {
		if err := store.SetWorkspace(ctx, w.Name, w.Settings()); err != nil {
			t.Fatal(err)
		}
		for p, b := range w.ProjectBudgets() {
			if err := store.SetProject(ctx, w.Name, p, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := sim.SandboxConfig(11)
	cfg.Now = r.clock.Now
	cfg.OnRecharge = sim.RechargeHook(r.tr, r.clock, func(err error) { r.bad.add("%v", err) })
	r.sb = sandbox.New(cfg)
	if err := sim.Setup(r.sb, sim.DemoKey, r.wss); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.sb)
	t.Cleanup(srv.Close)
	c, err := client.New(
		client.WithBaseURL(srv.URL+sandbox.BasePath), client.WithAPIKey(sim.DemoKey), client.WithClock(r.clock),
		client.WithTracker(r.tr, client.DefaultWorkspace, ""), client.WithBalances(r.balances),
		client.WithTrackErrorHandler(func(err error) { r.bad.add("track: %v", err) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	r.d = sim.New(sim.Config{Client: c, Workspaces: r.wss, Seed: 5, Drain: drain, Stress: stress, Pace: pace,
		OnError: func(ws string, err error) {
			if stress && client.IsRateLimited(err) {
				r.limited.Add(1) // stress runs into the rate limit on purpose
				return
			}
			r.bad.add("%s: %v", ws, err)
		}})
	t.Cleanup(func() { r.bad.report(t) })
	return r
}

// run runs the simulator for d of simulated time (then drains its jobs, if the rig does).
func (r *rig) run(t *testing.T, d time.Duration) {
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		r.clock.Sleep(ctx, d)
		stop()
	}()
	realStart := time.Now()
	r.d.Run(ctx)
	stop()
	t.Logf("%v of simulated traffic in %v of real time", d, time.Since(realStart).Round(time.Millisecond))
}

// refusedByCode sums the feed's 402 counters per "ws/code".
func (r *rig) snapshot(t *testing.T) (*model.Snapshot, map[string]int64) {
	snap, err := feed.ReadSnapshot(context.Background(), r.rdb, feed.Keys{}, r.clock.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]int64{}
	for f, n := range snap.Snap.Refused {
		ws, _, code, _ := model.SplitRefusedField(f)
		refused[ws+"/"+code] += n
	}
	return snap.Snap, refused
}

func (e *errs) report(t *testing.T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sort.Strings(e.list)
	for i, msg := range e.list {
		if i == 10 {
			t.Errorf("… and %d more", len(e.list)-10)
			break
		}
		t.Errorf("unexpected: %s", msg)
	}
}

// TestHistoryBringsEachWorkspaceToItsStart: the history of the demo's period
// sums to each workspace's Used and each project's Used to the credit; the last
// hour is call by call (burn and charts plausible from the first frame) at a
// pace that leaves every workspace hours from running out; a workspace that ran
// out is refused since then and spent nothing in the last hour; judged by the
// model, the start shows every level from ok to OUT's neighbour crit.
func TestHistoryBringsEachWorkspaceToItsStart(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 10, 0, 0, time.UTC)
	rule := model.PeriodRule{StartDay: 15, Location: time.UTC}
	p := rule.At(now)
	pace := sim.PaceFor(p.Left(now))
	wss := sim.DefaultWorkspaces()
	evs, err := sim.History(wss, p, now, pace, 9)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := sim.History(wss, p, now, pace, 9)
	if len(again) != len(evs) || again[len(again)-1] != evs[len(evs)-1] {
		t.Errorf("the same seed gave another history")
	}
	used := map[string]int64{}
	projUsed := map[string]int64{}
	lastHour := map[string]int64{}
	refusedSince := map[string]int64{}
	hourAgo := now.Add(-sim.HistoryWindow).UnixMilli()
	for i, e := range evs {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if !p.Contains(e.TS) || e.TS >= now.UnixMilli() || (i > 0 && e.TS < evs[i-1].TS) {
			t.Fatalf("event %d at %s: outside the period's past or out of order", i, time.UnixMilli(e.TS))
		}
		used[e.Workspace] += e.Credits
		projUsed[e.Workspace+"/"+e.Project] += e.Credits
		if e.TS >= hourAgo {
			lastHour[e.Workspace] += e.Credits
		}
		if e.Refused() {
			refusedSince[e.Workspace]++
		}
	}
	l := model.NewLedger(rule, now)
	snap := &model.Snapshot{Period: p, StreamID: "1-0", Used: used, Settings: map[string]model.Settings{}}
	for _, w := range wss {
		snap.Settings[w.Name] = w.Settings()
	}
	l.Seed(snap, now)
	l.Backfill(reversed(evs), now.Add(-sim.HistoryWindow))
	levels := map[model.Level]bool{}
	for _, w := range wss {
		if used[w.Name] != w.Used {
			t.Errorf("%s: history sums to %d, want %d", w.Name, used[w.Name], w.Used)
		}
		for _, pr := range w.Projects {
			if pr.Used > 0 && projUsed[w.Name+"/"+pr.Name] != pr.Used {
				t.Errorf("%s/%s: history sums to %d, want %d", w.Name, pr.Name, projUsed[w.Name+"/"+pr.Name], pr.Used)
			}
		}
		f := l.Forecast(w.Name, now)
		st := model.Assess(&model.Settings{Allocation: w.Allocation, UsageLimit: w.UsageLimit}, model.Usage{Used: used[w.Name]}, nil)
		levels[st.Level] = true
		t.Logf("%-18s %-8s %5.1f %%  last hour %7d  burn %7.0f/h  pace %5.1f×  out in %s", w.Name, st.Level, st.Percent, lastHour[w.Name], f.BurnPerHour, f.PaceMultiple, f.RunsOutIn.Round(time.Minute))
		if f.PaceMultiple > 25 || math.IsInf(f.PaceMultiple, 0) {
			t.Errorf("%s starts at pace %.1f×", w.Name, f.PaceMultiple)
		}
		if w.RanOutAgo > 0 {
			if lastHour[w.Name] != 0 || refusedSince[w.Name] == 0 {
				t.Errorf("%s ran out %s ago but spent %d in the last hour with %d 402s", w.Name, w.RanOutAgo, lastHour[w.Name], refusedSince[w.Name])
			}
		} else if lastHour[w.Name] == 0 {
			t.Errorf("%s spent nothing in the last hour: no burn on the first frame", w.Name)
		}
	}
	for _, lv := range []model.Level{model.LevelOK, model.LevelWarn, model.LevelHigh, model.LevelCritical} {
		if !levels[lv] {
			t.Errorf("no workspace starts at %s: %v", lv, levels)
		}
	}
}

func reversed(evs []model.Event) []model.Event {
	out := make([]model.Event, len(evs))
	for i, e := range evs {
		out[len(evs)-1-i] = e
	}
	return out
}

// TestTenMinutesOfTraffic runs the six demo workspaces for ten minutes of
// simulated time (a few seconds of real time) against the sandbox, through the
// real client, tracked by the feed's publisher into a real Redis, with pre-flight
// reading the feed's balances. At the end the feed's Redis counters must equal the
// sandbox's ledger to the credit (used and recharged per workspace, 402s per
// workspace and code), and the estimator's upper bound must have covered ≥ 95 % of
// actual charges per operation.
func TestTenMinutesOfTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("ten simulated minutes")
	}
	// Every workspace sends every priced operation alike, at eight times the
	// demo's pace: enough jobs of each for calibration, even under -race.
	var mix []sim.Share
	for _, op := range []estimator.Operation{estimator.Chat, estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex, estimator.FocusGroup, estimator.Video} {
		mix = append(mix, sim.Share{Op: op, Weight: 1})
	}
	r := newRig(t, 50, true, false, 8, mix...)
	r.run(t, 10*time.Minute)

	ledger, ok := r.sb.Ledger(sim.DemoKey)
	if !ok || ledger.RunningJobs != 0 {
		t.Fatalf("ledger: ok %v, %d jobs still running", ok, ledger.RunningJobs)
	}
	snap, refused := r.snapshot(t)
	var total int64
	for _, w := range r.wss {
		l := ledger.Workspaces[w.Name]
		got, rech := snap.Used[w.Name], snap.Recharged[w.Name]
		t.Logf("%-18s sandbox used %6d recharged %5d refused %v | feed used %6d recharged %5d | app %+v",
			w.Name, l.Used, l.Recharged, l.Refused, got, rech, r.d.Stats()[w.Name])
		if got != l.Used || rech != l.Recharged {
			t.Errorf("%s: feed used %d recharged %d, sandbox used %d recharged %d", w.Name, got, rech, l.Used, l.Recharged)
		}
		for code, n := range l.Refused {
			if refused[w.Name+"/"+code] != n {
				t.Errorf("%s: feed counts %d 402 %s, sandbox %d", w.Name, refused[w.Name+"/"+code], code, n)
			}
		}
		total += got
	}
	if total != ledger.Used || total == 0 {
		t.Errorf("feed total %d, sandbox total %d", total, ledger.Used)
	}
	if len(snap.Used) != len(r.wss) {
		t.Errorf("unexpected workspaces in the feed: %v", snap.Used)
	}

	// Calibration: the upper bound covers ≥ 95 % of actual charges, per operation.
	var cal estimator.Calibration
	for _, e := range r.tr.events() {
		if e.Kind == model.KindUsage && e.Est > 0 && e.Code == "" && e.Status < 300 {
			if err := cal.Record(estimator.Operation(e.Op), e.Est, e.Credits); err != nil {
				t.Error(err)
			}
		}
	}
	var b strings.Builder
	b.WriteString(cal.Table())
	fmt.Fprintf(&b, "%-14s %5s %9s\n", "operation", "jobs", "covered")
	counts := map[estimator.Operation]int64{}
	for _, row := range cal.Report() {
		covered := 1 - row.AboveShare
		counts[row.Op] = row.Count
		fmt.Fprintf(&b, "%-14s %5d %8.1f %%\n", row.Op, row.Count, covered*100)
		if covered < 0.95 {
			t.Errorf("%s: upper bound covered %.1f %% of %d jobs, want ≥ 95 %%", row.Op, covered*100, row.Count)
		}
	}
	t.Logf("calibration (estimate = upper bound):\n%s", b.String())
	for _, op := range []estimator.Operation{estimator.Chat, estimator.MaveComplex, estimator.FocusGroup, estimator.Video} {
		if counts[op] < 20 {
			t.Errorf("only %d %s jobs: too few for calibration to mean anything", counts[op], op)
		}
	}
}

// TestStressKeepsTotalsExact sends traffic twenty times faster than normal for
// 30 simulated seconds against an account limited to 20 requests a minute: the
// client runs into the rate limit (429, Retry-After) and the totals must still
// match the sandbox's ledger to the credit. The limit is far under what the
// stress sends even on a loaded machine (the clock is scaled, so a starved CPU
// sends fewer calls per simulated second: 66 in 30 s were seen under load).
func TestStressKeepsTotalsExact(t *testing.T) {
	r := newRig(t, 20, true, true, 1)
	if err := r.sb.ConfigureAccount(sim.DemoKey, sandbox.AccountConfig{RateLimit: 20}); err != nil {
		t.Fatal(err)
	}
	r.run(t, 30*time.Second)
	ledger, _ := r.sb.Ledger(sim.DemoKey)
	snap, refused := r.snapshot(t)
	var calls int64
	for _, w := range r.wss {
		l := ledger.Workspaces[w.Name]
		if snap.Used[w.Name] != l.Used || snap.Recharged[w.Name] != l.Recharged {
			t.Errorf("%s: feed used %d recharged %d, sandbox %d %d", w.Name, snap.Used[w.Name], snap.Recharged[w.Name], l.Used, l.Recharged)
		}
		for code, n := range l.Refused {
			if refused[w.Name+"/"+code] != n {
				t.Errorf("%s: feed counts %d 402 %s, sandbox %d", w.Name, refused[w.Name+"/"+code], code, n)
			}
		}
		calls += r.d.Stats()[w.Name].Calls
	}
	var requests int64
	for _, n := range r.sb.Stats() {
		requests += n
	}
	t.Logf("%d calls in 30 s; %d requests, %d answered 429; %d calls gave up on 429 after waiting; used %d",
		calls, requests, requests-ledger.Requests, r.limited.Load(), ledger.Used)
	if requests-ledger.Requests == 0 {
		t.Errorf("stress never ran into the rate limit")
	}
}

func TestDefaultWorkspacesAreValid(t *testing.T) {
	names := map[string]bool{}
	shared := 0
	for _, w := range sim.DefaultWorkspaces() {
		if !model.IsID(w.Name) || names[w.Name] {
			t.Errorf("bad or duplicate name %q", w.Name)
		}
		names[w.Name] = true
		s := w.Settings()
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", w.Name, err)
		}
		for p, b := range w.ProjectBudgets() {
			if err := b.Validate(); err != nil || !model.IsID(p) {
				t.Errorf("%s/%s: %v", w.Name, p, err)
			}
		}
		if w.SharesAccount {
			shared++
		}
	}
	if len(names) != 6 || shared != 1 {
		t.Fatalf("%d workspaces, %d sharing the account", len(names), shared)
	}
}
