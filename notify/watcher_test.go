package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/internal/backoff"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// instance is one mavtop process as far as alerts go: its own Redis client,
// hub, subscriber and watcher.
type instance struct {
	name   string
	hub    *feed.Hub
	w      *Watcher
	cancel context.CancelFunc
	done   chan struct{}
}

func startInstance(t *testing.T, srv *feedtest.Server, name string, hookURL string) *instance {
	t.Helper()
	return startInstanceWith(t, srv, name, hookURL, nil)
}

// startInstanceWith starts an instance whose options tune may change.
func startInstanceWith(t *testing.T, srv *feedtest.Server, name string, hookURL string, tune func(*WatcherOptions)) *instance {
	t.Helper()
	return startClocked(t, srv, name, hookURL, nil, tune)
}

// startClocked starts an instance whose subscriber and watcher both read
// clock (nil: time.Now), as one process does.
func startClocked(t *testing.T, srv *feedtest.Server, name string, hookURL string, clock func() time.Time, tune func(*WatcherOptions)) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := srv.Client()
	hub := feed.NewHub()
	var n *Notifier
	if hookURL != "" {
		sinks, err := ParseSinks(strings.Fields(hookURL), nil) // several, separated by spaces
		if err != nil {
			t.Fatal(err)
		}
		n = New(sinks, Options{Backoff: &backoff.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	}
	opt := WatcherOptions{Hub: hub, Store: feed.NewAlertStore(c, ""), Notifier: n, Instance: name,
		Every: 20 * time.Millisecond, Lease: 3 * time.Second, Now: clock}
	if tune != nil {
		tune(&opt)
	}
	sub := feed.NewSubscriber(c, feed.SubscriberOptions{Block: 50 * time.Millisecond, Now: clock})
	w := NewWatcher(opt)
	in := &instance{name: name, hub: hub, w: w, cancel: cancel, done: make(chan struct{})}
	go func() { _ = hub.Run(ctx, sub) }()
	go func() { defer close(in.done); _ = w.Run(ctx) }()
	t.Cleanup(in.stop)
	return in
}

func (in *instance) stop() {
	in.cancel()
	<-in.done
}

// keys returns what the receiver got: each transition key, counted.
func (r *receiver) keys() map[string]int {
	m := map[string]int{}
	for _, p := range r.payloads() {
		m[p.Key]++
	}
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// has reports whether every key arrived.
func has(got map[string]int, keys ...string) bool {
	for _, k := range keys {
		if got[k] == 0 {
			return false
		}
	}
	return true
}

func TestEveryTransitionReachesTheReceiverExactlyOnce(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	rc := newReceiver(t)
	period := model.MonthlyUTC.At(time.Now()).Key
	key := func(ws, th string, st model.AlertStatus) string { return notifytest.ThresholdKey(period, ws, th, st) }
	usage := notifytest.NewUsage(t, srv.Client())
	spend := usage.Spend
	usage.Set("acme", model.Settings{Allocation: 1000})

	// two watchers with the webhook, and a dashboard that only records
	w1 := startInstance(t, srv, "watch-1", rc.srv.URL)
	w2 := startInstance(t, srv, "watch-2", rc.srv.URL)
	dash := startInstance(t, srv, "dashboard", "")

	spend("acme", 400) // 40 %: nothing
	spend("acme", 110) // 51 %
	fired50 := key("acme", "50", model.AlertFiring)
	waitFor(t, "the 50 % firing", func() bool { return has(rc.keys(), fired50) })

	// one watcher is stopped and restarted mid-way (once the store has the
	// 50 % delivery done: a kill between a receiver's answer and its record
	// is the at-least-once case, TestCrashMidDeliveryIsTakenOver)
	st := feed.NewAlertStore(srv.Client(), "")
	settled := func() bool { return notifytest.Settled(ctx, st, period) }
	waitFor(t, "the 50 % delivery recorded", settled)
	w2.stop()
	spend("acme", 250) // 76 %
	fired := []string{fired50, key("acme", "75", model.AlertFiring), key("acme", "90", model.AlertFiring)}
	waitFor(t, "the 75 % firing", func() bool { return has(rc.keys(), fired[1]) })
	w2 = startInstance(t, srv, "watch-2b", rc.srv.URL)
	spend("acme", 160) // 92 %
	waitFor(t, "every firing", func() bool { return has(rc.keys(), fired...) })

	// the allocation is raised: 920 of 2,000 is 46 %, under every threshold
	usage.Set("acme", model.Settings{Allocation: 2000})
	resolved := []string{key("acme", "50", model.AlertResolved), key("acme", "75", model.AlertResolved),
		key("acme", "90", model.AlertResolved)}
	waitFor(t, "every resolution", func() bool { return has(rc.keys(), resolved...) })

	// the receiver answers 503 for a while; a second workspace crosses its lines meanwhile
	rc.mu.Lock()
	refusals := 0
	rc.fail = func() bool { refusals++; return refusals <= 30 }
	rc.mu.Unlock()
	usage.Set("globex", model.Settings{Allocation: 1000})
	spend("globex", 950)
	later := []string{key("globex", "50", model.AlertFiring), key("globex", "75", model.AlertFiring),
		key("globex", "90", model.AlertFiring)}
	waitFor(t, "globex's firings after the outage", func() bool { return has(rc.keys(), later...) })
	rc.mu.Lock()
	if refusals < 30 {
		t.Errorf("the receiver refused %d times, want the whole outage of 30", refusals)
	}
	rc.mu.Unlock()

	// everything settles: every delivery done in the store, then nothing more arrives
	waitFor(t, "every delivery done", settled)
	got := rc.keys()
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s arrived %d times", k, n)
		}
	}
	for _, k := range slices.Concat(fired, resolved, later) {
		if got[k] != 1 {
			t.Errorf("%s arrived %d times, want once", k, got[k])
		}
	}
	// the store and every instance agree on the lifecycle
	recs, _, _ := st.Load(ctx, period)
	for _, id := range []string{"50", "75", "90"} {
		if r := recs[model.AlertID(period, "acme", "", model.AlertThreshold, id)]; r.Status != model.AlertResolved || len(r.Deliveries) != 2 {
			t.Errorf("acme %s %%: %s, %d deliveries", id, r.Status, len(r.Deliveries))
		}
	}
	waitFor(t, "the dashboard's list: six threshold alerts, each delivered to the one sink", func() bool {
		n := 0
		for _, e := range dash.w.Entries() {
			sent, _, _, _, _ := e.Delivery()
			if e.Alert.Kind == model.AlertThreshold && sent == 1 {
				n++
			}
		}
		return n == 6
	})
	var summaries []string
	for _, p := range rc.payloads() {
		if p.ID == model.AlertID(period, "acme", "", model.AlertThreshold, "75") {
			summaries = append(summaries, string(p.Status)+": "+p.Summary)
		}
	}
	want := []string{"firing: acme used 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)",
		"resolved: acme is back under 75 % of its 2,000-credit cap (at the time: 920 credits used, 46 %)"}
	if strings.Join(summaries, "\n") != strings.Join(want, "\n") {
		t.Errorf("summaries\n%s\nwant\n%s", strings.Join(summaries, "\n"), strings.Join(want, "\n"))
	}
	_ = w1 // runs throughout: two watchers deliver side by side
}

// A watcher that dies after claiming, before delivering, leaves a pending
// delivery: another takes it over once the lease ends and delivers it once.
func TestCrashMidDeliveryIsTakenOver(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	rc := newReceiver(t)
	st := feed.NewAlertStore(srv.Client(), "")
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	tr := claimedByTheDead(t, st, now)
	setUp(t, srv, model.Settings{Allocation: 1000}, 1000)
	startInstance(t, srv, "heir", rc.srv.URL)
	waitFor(t, "the taken-over delivery", func() bool { return rc.keys()[tr.Key()] == 1 })
	recs, _, _ := st.Load(ctx, period)
	waitFor(t, "the delivery recorded done", func() bool {
		recs, _, _ = st.Load(ctx, period)
		r := recs[tr.Alert.ID]
		return r.Pending() < 0
	})
	if d := recs[tr.Alert.ID].Deliveries[0]; d.Owner != "heir" || d.Sinks["webhook:"+strings.TrimPrefix(rc.srv.URL, "http://")].Result != feed.ResultSent {
		t.Fatalf("delivery %+v", d)
	}
	if n := rc.keys()[tr.Key()]; n != 1 {
		t.Fatalf("delivered %d times", n)
	}
}

// Two webhooks on one host are told apart by their URL, not by their order:
// an instance that lists them the other way round takes over a delivery the
// dead one had sent to team-a only, and sends it to team-b alone. By order
// (webhook:host, webhook:host#2) it took team-a's record for team-b's and
// sent team-a the firing twice, team-b never.
func TestATakeOverKnowsSinksByURLNotOrder(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	var mu sync.Mutex
	posts := map[string]int{} // path + " " + idempotency key → POSTs
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		posts[req.URL.Path+" "+req.Header.Get("Idempotency-Key")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	a, b := hook.URL+"/team-a", hook.URL+"/team-b"
	dead, err := ParseSinks([]string{a, b}, nil)
	if err != nil || len(dead) != 2 || dead[0].Name() == dead[1].Name() {
		t.Fatalf("sinks %v %v", dead, err)
	}
	st := feed.NewAlertStore(srv.Client(), "")
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	// the dead instance claimed it, sent it to team-a, and died before team-b
	tr := claimedByTheDead(t, st, now)
	sent := map[string]feed.SinkResult{dead[0].Name(): {Result: feed.ResultSent, Attempts: 1, At: now}}
	if ok, err := st.Report(ctx, period, tr.Alert.ID, 0, "dead", sent, false, now.Add(300*time.Millisecond)); !ok || err != nil {
		t.Fatalf("report %v %v", ok, err)
	}
	setUp(t, srv, model.Settings{Allocation: 1000}, 1000)
	startInstanceWith(t, srv, "heir", "", func(o *WatcherOptions) {
		sinks, err := ParseSinks([]string{b, a}, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Notifier = New(sinks, Options{Backoff: &backoff.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	})
	waitFor(t, "the taken-over delivery recorded done", func() bool {
		recs, _, _ := st.Load(ctx, period)
		r, ok := recs[tr.Alert.ID]
		return ok && r.Pending() < 0
	})
	mu.Lock()
	defer mu.Unlock()
	if pa, pb := posts["/team-a "+tr.Key()], posts["/team-b "+tr.Key()]; pa != 0 || pb != 1 {
		t.Fatalf("after the take-over team-a got %d POSTs (want 0: the dead one had sent it), team-b %d (want 1)", pa, pb)
	}
}

// startStore starts a redis-server for the test and returns it with the
// alert store over it (the default prefix, where the watchers record their
// deliveries) and the key of the billing period now (monthly, UTC).
func startStore(t *testing.T) (srv *feedtest.Server, st *feed.AlertStore, period string) {
	t.Helper()
	srv = feedtest.Start(t)
	// mid-period: the forecasts these tests judge have the time left to run
	// out in, and the period cannot change under them
	rule := notifytest.NewUsage(t, srv.Client()).MidPeriod()
	return srv, feed.NewAlertStore(srv.Client(), ""), rule.At(time.Now()).Key
}

// claimedByTheDead stores acme's allocation alert (at the time: 1,000 of 1,000 credits)
// firing at now, claimed by an instance "dead" whose lease runs out 300 ms
// after now, and returns the transition: what a watcher that died before it
// delivered leaves for another to take over.
func claimedByTheDead(t *testing.T, st *feed.AlertStore, now time.Time) model.AlertTransition {
	t.Helper()
	period := model.MonthlyUTC.At(now).Key
	tr := model.AlertTransition{Status: model.AlertFiring, At: now,
		Alert: model.Alert{ID: model.AlertID(period, "acme", "", model.AlertAllocation, ""), Period: period, Workspace: "acme", Kind: model.AlertAllocation, Cap: 1000, Used: 1000}}
	if ok, err := st.Claim(context.Background(), tr, tr.Summary(period), feed.ClaimOptions{Owner: "dead", LeaseUntil: now.Add(300 * time.Millisecond)}); !ok || err != nil {
		t.Fatalf("claim %v %v", ok, err)
	}
	return tr
}

// setUp gives acme allocation of 1,000 (and lines), then spends credits.
func setUp(t *testing.T, srv *feedtest.Server, st model.Settings, credits int64) {
	t.Helper()
	u := notifytest.NewUsage(t, srv.Client())
	u.Set("acme", st)
	u.Spend("acme", credits)
}

// settledAll waits until the store holds at least n alerts of the period,
// every id of want among them, every delivery of each done, and returns them.
func settledAll(t *testing.T, st *feed.AlertStore, period string, n int, want ...string) map[string]feed.StoredAlert {
	t.Helper()
	var recs map[string]feed.StoredAlert
	waitFor(t, fmt.Sprintf("%d alerts (%q among them), every delivery done", n, want), func() bool {
		var err error
		if recs, _, err = st.Load(context.Background(), period); err != nil || len(recs) < n {
			return false
		}
		for _, id := range want {
			if _, ok := recs[id]; !ok {
				return false
			}
		}
		for _, r := range recs {
			if r.Pending() >= 0 {
				return false
			}
		}
		return true
	})
	return recs
}

// once checks that the receiver got every transition the store holds,
// each exactly once, and nothing else.
func once(t *testing.T, rc *receiver, recs map[string]feed.StoredAlert) {
	t.Helper()
	got := rc.keys()
	n := 0
	for _, r := range recs {
		for _, d := range r.Deliveries {
			n++
			if c := got[d.Transition.Key()]; c != 1 {
				t.Errorf("%s arrived %d times, want once", d.Transition.Key(), c)
			}
		}
	}
	if len(got) != n {
		t.Errorf("the receiver got %d transitions, the store holds %d: %v", len(got), n, got)
	}
}

// A delivery waits in a lane longer than its lease (the holder's renewals
// are slow: a long evaluation cadence, a stalled process): another instance
// takes it over, and the first must not send it too. Each attempt first
// extends the lease in the store, and an instance that finds it taken hands
// the job over unsent.
func TestAHandedOverDeliveryIsNotSentByItsFormerHolder(t *testing.T) {
	srv := feedtest.Start(t)
	rc := newReceiver(t)
	// every answer takes 300 ms: six deliveries queue for 1.8 s in one lane
	rc.delay = 300 * time.Millisecond
	first := make(chan struct{})
	var one sync.Once
	rc.onPost = func() { one.Do(func() { close(first) }) }
	period := model.MonthlyUTC.At(time.Now()).Key
	// three thresholds, the allocation, the usage limit and the budget alert
	setUp(t, srv, model.Settings{Allocation: 1000, UsageLimit: 1000, BudgetAlert: 500}, 1000)
	slow := func(o *WatcherOptions) {
		o.Every, o.Lease = 2*time.Second, time.Second
		o.Notifier.opt.Concurrency = 1 // one attempt at a time: the six queue
	}
	startInstanceWith(t, srv, "slow", rc.srv.URL, slow)
	<-first
	startInstanceWith(t, srv, "quick", rc.srv.URL, func(o *WatcherOptions) { o.Lease = time.Second })
	recs := settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 6)
	once(t, rc, recs)
	owners := map[string]int{}
	for _, r := range recs {
		for _, d := range r.Deliveries {
			owners[d.Owner]++
		}
	}
	t.Logf("deliveries by holder: %v", owners)
}

// A sink's answer arrives but Redis is gone before the result is written:
// the holder keeps the result and writes it once Redis is back, instead of
// taking its own unrecorded delivery up again and sending it twice.
func TestASentDeliveryWhoseRecordFailedIsNotSentAgain(t *testing.T) {
	srv := feedtest.StartReal(t, "needs redis-server to kill and restart with its data")
	rc := newReceiver(t)
	killed := make(chan struct{})
	var first sync.Once
	var sentID string // the first delivery's alert (under rc.mu, then read after killed)
	rc.onPost = func() {
		first.Do(func() { sentID = rc.got[len(rc.got)-1].ID; srv.Kill(); close(killed) })
	}
	period := model.MonthlyUTC.At(time.Now()).Key
	setUp(t, srv, model.Settings{Allocation: 1000}, 600) // 50 % fires (and the run-out, soon)
	var logMu sync.Mutex
	var logged strings.Builder
	startInstanceWith(t, srv, "w", rc.srv.URL, func(o *WatcherOptions) {
		o.Logger = slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
			logMu.Lock()
			defer logMu.Unlock()
			return logged.Write(b)
		}), nil))
	})
	<-killed
	waitFor(t, "the sent result's write to fail", func() bool {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Contains(logged.String(), "write alert "+sentID)
	})
	srv.Restart()
	fifty := model.AlertID(period, "acme", "", model.AlertThreshold, "50")
	recs := settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 1, fifty)
	once(t, rc, recs)
	for id, r := range recs {
		for s, res := range r.Deliveries[0].Sinks {
			if res.Result != feed.ResultSent || res.Attempts != 1 {
				t.Errorf("%s to %s: recorded %+v, want sent at the first attempt", id, s, res)
			}
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// A workspace's first credits_exhausted 402 is set against the run-out the
// claiming instance had projected; the projection is stored with the firing,
// so an instance that never saw the forecast (started after it) shows the
// same score, and so does the claimer after the alert resolves.
func TestForecastScoreIsSharedThroughTheStore(t *testing.T) {
	srv, st, period := startStore(t)
	ctx := context.Background()
	// burns fast: runs out within the hour (six charges: a single one is no
	// rate but a step, README "Forecasts")
	setUp(t, srv, model.Settings{Allocation: 1000}, 100)
	u := notifytest.NewUsage(t, srv.Client())
	for range 5 {
		u.Spend("acme", 100)
	}
	rc := newReceiver(t)
	w1 := startInstance(t, srv, "w1", rc.srv.URL)
	runOut := model.AlertID(period, "acme", "", model.AlertRunOut, "")
	settledAll(t, st, period, 1, runOut)
	waitFor(t, "w1 to hold a projection", func() bool {
		w1.w.mu.Lock()
		defer w1.w.mu.Unlock()
		return !w1.w.runOut["acme"].IsZero()
	})
	pub := feed.NewPublisher(srv.Client(), feed.PublisherOptions{})
	if err := pub.Track(ctx, model.Event{TS: time.Now().UnixMilli(), Workspace: "acme", Endpoint: "/responses",
		Status: 402, Code: model.CodeCreditsExhausted, Msg: "You have run out of credits"}); err != nil {
		t.Fatal(err)
	}
	refusals := model.AlertID(period, "acme", "", model.AlertRefusals, model.CodeCreditsExhausted)
	recs := settledAll(t, st, period, 2, refusals)
	fired := recs[refusals].Deliveries[0].Transition
	if fired.Alert.ProjectedRunOut.IsZero() {
		t.Fatalf("the firing was stored without the projection: %+v", fired.Alert)
	}
	want := model.ForecastScore{Workspace: "acme", Projected: fired.Alert.ProjectedRunOut, Refused: fired.At}
	if !want.Projected.After(recs[runOut].FiredAt) {
		t.Errorf("projected %s, before the run-out alert fired at %s", want.Projected, recs[runOut].FiredAt)
	}
	w2 := startInstance(t, srv, "w2", rc.srv.URL)
	for _, in := range []*instance{w1, w2} {
		waitFor(t, in.name+"'s scores", func() bool { return len(in.w.Scores()) > 0 })
		got := in.w.Scores()
		if len(got) != 1 || !got[0].Projected.Equal(want.Projected) || !got[0].Refused.Equal(want.Refused) || got[0].Workspace != "acme" {
			t.Errorf("%s scores %+v, want %+v (as Redis holds it)", in.name, got, want)
		}
	}
	// the refusals resolve (a recharge); the score stays
	if err := pub.Track(ctx, model.Event{Kind: model.KindRecharge, TS: time.Now().UnixMilli(), Workspace: "acme", Credits: 5000}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusals resolved", func() bool {
		recs, _, err := st.Load(ctx, period)
		return err == nil && recs[refusals].Status == model.AlertResolved
	})
	waitFor(t, "w2 to see the resolution", func() bool {
		for _, e := range w2.w.Entries() {
			if e.Alert.ID == refusals {
				return e.Status == model.AlertResolved
			}
		}
		return false
	})
	if got := w2.w.Scores(); len(got) != 1 || got[0].Error() != want.Error() {
		t.Errorf("after the resolution: %+v, want %s", got, want.Error())
	}
}

// A delivery's text says how many sinks a retry or a failure is when there are
// several: "✗ failed" alone read as if no sink had the alert while another had.
func TestDeliveryTextCountsThePartOfTheSinks(t *testing.T) {
	res := func(r ...string) Entry {
		sinks := map[string]feed.SinkResult{}
		for i, x := range r {
			sinks[fmt.Sprint("s", i)] = feed.SinkResult{Result: x, Err: map[string]string{feed.ResultFailed: "400 Bad Request", feed.ResultRetrying: "503 Service Unavailable"}[x]}
		}
		return Entry{StoredAlert: &feed.StoredAlert{Deliveries: []feed.Delivery{{Sinks: sinks}}}}
	}
	for _, c := range []struct {
		e    Entry
		want string
	}{
		{res(feed.ResultFailed), "✗ failed: 400 Bad Request"},
		{res(feed.ResultRetrying), "↻ retrying: 503 Service Unavailable"},
		{res(feed.ResultSent, feed.ResultFailed), "✗ failed 1 of 2: 400 Bad Request"},
		{res(feed.ResultSent, feed.ResultSent, feed.ResultRetrying), "↻ retrying 1 of 3: 503 Service Unavailable"},
		{res(feed.ResultSent, feed.ResultSent), "✓ sent 2 sinks"},
		// a resolution sent to s0 and held back from s1, whose firing is
		// still retrying there: s1 has neither yet
		{Entry{StoredAlert: &feed.StoredAlert{Deliveries: []feed.Delivery{
			res(feed.ResultSent, feed.ResultRetrying).Deliveries[0],
			{Sinks: map[string]feed.SinkResult{"s0": {Result: feed.ResultSent}}},
		}}}, "↻ retrying 1 of 2: its firing first: 503 Service Unavailable"},
		// no sink anywhere: a word, not "…" (which reads as text cut short)
		{Entry{StoredAlert: &feed.StoredAlert{Deliveries: []feed.Delivery{{}}}}, "waiting: no mavtop runs with --notify"},
	} {
		if got := c.e.DeliveryText(); got != c.want {
			t.Errorf("%v: %q, want %q", c.e.Deliveries[0].Sinks, got, c.want)
		}
	}
}

// A sink that never answers, with more deliveries pending than its queue
// holds: the dropped ones wait in the store for room instead of being taken
// back (and dropped again) every cycle, and each counts as dropped once.
func TestAHangingSinkDoesNotChurnItsDroppedDeliveries(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select { // never answers while the test runs
		case <-release:
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(func() { close(release) })
	u := notifytest.NewUsage(t, srv.Client())
	for _, ws := range []string{"acme", "beta", "gamma"} {
		u.Set(ws, model.Settings{Allocation: 1000})
		u.Spend(ws, 950)
	}
	var ticks atomic.Int64
	const queue = 2
	var n *Notifier
	in := startInstanceWith(t, srv, "solo", "", func(o *WatcherOptions) {
		sinks, err := ParseSinks([]string{hook.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n = New(sinks, Options{Queue: queue, Concurrency: 1, Backoff: &backoff.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
		o.Notifier = n
		o.Now = func() time.Time { ticks.Add(1); return time.Now() }
	})
	sink := in.w.Sinks()[0]
	dropped := func() int64 { return in.w.Notifications()[[2]string{sink, OutcomeDropped}] }
	st := feed.NewAlertStore(srv.Client(), "")
	period := model.MonthlyUTC.At(time.Now()).Key
	var firings int64
	waitFor(t, "the firings stored and some dropped", func() bool {
		recs, _, err := st.Load(ctx, period)
		if err != nil {
			return false
		}
		firings = int64(len(recs))
		return firings > queue+1 && dropped() > 0
	})
	// many more cycles of the watcher (each reads the clock several times)
	from := ticks.Load()
	waitFor(t, "the watcher to run on", func() bool { return ticks.Load() > from+300 })
	// each firing is queued, under way, or dropped once: by the queue (not
	// taken back into a full one) and in the count
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	firings = int64(len(recs))
	if d := dropped(); d > firings-1 {
		t.Fatalf("%d drops counted for %d firings (a queue of %d, one under way): a drop is counted again", d, firings, queue)
	}
	if d := n.Dropped(); d > firings-1 {
		t.Fatalf("the queue dropped %d times for %d firings (a queue of %d, one under way): dropped deliveries are taken back into a full queue", d, firings, queue)
	}
}

// TestAHeldWatcherJudgesWhatHappenedMeanwhile: a watcher whose start is held
// (WatcherOptions.StartHold, the dashboard's until its first frame) records
// nothing while held, and judges what happened meanwhile (a threshold crossed)
// once released, or once MaxStartHold has passed when nothing releases it.
func TestAHeldWatcherJudgesWhatHappenedMeanwhile(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	period := model.MonthlyUTC.At(time.Now()).Key
	usage := notifytest.NewUsage(t, srv.Client())
	usage.Set("acme", model.Settings{Allocation: 1000})
	hold := make(chan struct{})
	never := make(chan struct{}) // released by MaxStartHold alone
	started := time.Now()
	held := startInstanceWith(t, srv, "held", "", func(o *WatcherOptions) { o.StartHold = hold })
	unreleased := startInstanceWith(t, srv, "unreleased", "", func(o *WatcherOptions) { o.StartHold = never })
	usage.Spend("acme", 510) // 51 %: the 50 % line crossed while held
	waitFor(t, "the hub to apply the spend", func() bool {
		var used int64
		held.hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l != nil {
				if s, ok := l.Summary("acme"); ok {
					used = s.Used
				}
			}
		})
		return used == 510
	})
	st := feed.NewAlertStore(srv.Client(), "")
	id := model.AlertID(period, "acme", "", model.AlertThreshold, "50")
	firing := func() bool {
		recs, _, err := st.Load(ctx, period)
		r, ok := recs[id]
		return err == nil && ok && r.Status == model.AlertFiring
	}
	// ten of the watchers' cycles (20 ms): an unheld watcher records the
	// firing within two
	time.Sleep(200 * time.Millisecond)
	if time.Since(started) < MaxStartHold && firing() {
		t.Fatalf("%s recorded while both watchers were held", id)
	}
	if n := len(held.w.Entries()); n != 0 {
		t.Fatalf("the held watcher lists %d entries before its release", n)
	}
	close(hold)
	waitFor(t, "the held watcher to judge the crossing once released", func() bool {
		for _, e := range held.w.Entries() {
			if e.Alert.ID == id && e.Status == model.AlertFiring {
				return true
			}
		}
		return false
	})
	if !firing() {
		t.Fatalf("%s not recorded in the store after the release", id)
	}
	waitFor(t, "the watcher nothing released to go on after MaxStartHold", func() bool {
		for _, e := range unreleased.w.Entries() {
			if e.Alert.ID == id && e.Status == model.AlertFiring {
				return true
			}
		}
		return false
	})
	if d := time.Since(started); d < MaxStartHold {
		t.Fatalf("the unreleased watcher went on after %v, before MaxStartHold", d)
	}
}
