package proxy_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/client/sandbox"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/proxy"
)

// testKey is a well-formed API key; tests assert it never reaches Redis.
const testKey = "mvra_live_Pr0xyT3stK3yN0tF0rUs3ABCDEFGH0123"

// clock is a test clock moved by hand; the sandbox's jobs finish on it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// rig is the sandbox behind the proxy, the proxy tracking into a real Redis.
type rig struct {
	t     *testing.T
	clock *clock
	sb    *sandbox.Sandbox
	up    *httptest.Server
	redis *feedtest.Server
	rc    redis.UniversalClient
	q     *proxy.Queue
	px    *proxy.Proxy
	srv   *httptest.Server
	// Base is the proxy's API base URL, what applications set.
	Base string
	// stopRun stops the proxy's job follower (Run) and waits for it.
	stopRun func()
	// log is what the proxy logged, with rigOptions.periodLog.
	log *feedtest.LogBuffer
}

type rigOptions struct {
	sandbox     sandbox.Config
	keys        *proxy.Keys
	noPreflight bool
	budgetCache time.Duration
	jobPoll     time.Duration
	// periodLog wires a feed.PeriodLog into the tracking and the pre-flight
	// as `mavtop proxy` does, logging to rig.log.
	periodLog bool
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, clock: &clock{now: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)}}
	o.sandbox.Now = r.clock.Now
	if o.sandbox.JobSpeed == 0 {
		o.sandbox.JobSpeed = 100
	}
	r.sb = sandbox.New(o.sandbox)
	r.up = httptest.NewServer(r.sb)
	t.Cleanup(r.up.Close)
	r.redis = feedtest.Start(t)
	r.rc = r.redis.Client()
	var plog *feed.PeriodLog
	var log *slog.Logger
	if o.periodLog {
		r.log = &feedtest.LogBuffer{}
		log = slog.New(slog.NewTextHandler(r.log, nil))
		plog = feed.NewPeriodLog(log, "usage events are recorded, and budgets read, in this period")
	}
	pub := feed.NewPublisher(r.rc, feed.PublisherOptions{Now: r.clock.Now, RetryFor: time.Second, PeriodLog: plog})
	r.q = proxy.NewQueue(pub, proxy.QueueOptions{Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	r.q.Run(ctx)
	t.Cleanup(func() { cancel(); r.q.Wait() })
	cfg := proxy.Config{Upstream: r.up.URL + sandbox.BasePath, Keys: o.keys, Queue: r.q, Now: r.clock.Now, BudgetCache: o.budgetCache, JobPoll: o.jobPoll, Log: log}
	if plog != nil {
		cfg.PeriodUnreadable = plog.Unreadable
	}
	if !o.noPreflight {
		cfg.Budgets = feed.NewBalances(r.rc, feed.StoreOptions{Now: r.clock.Now, PeriodLog: plog})
	}
	px, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.px = px
	rctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); px.Run(rctx) }()
	r.stopRun = func() { stop(); <-ran }
	t.Cleanup(r.stopRun)
	r.srv = httptest.NewServer(px)
	t.Cleanup(r.srv.Close)
	r.Base = r.srv.URL + sandbox.BasePath
	return r
}

// settle waits until every event the proxy queued is written.
func (r *rig) settle() {
	r.t.Helper()
	waitFor(r.t, "the tracking backlog to drain", func() bool { return r.q.Backlog() == 0 })
}

// snapshot reads the counters of the rig's billing period.
func (r *rig) snapshot() *model.Snapshot {
	r.t.Helper()
	res, err := feed.ReadSnapshot(context.Background(), r.rc, feed.Keys{}, r.clock.Now(), model.MonthlyUTC)
	if err != nil {
		r.t.Fatal(err)
	}
	return res.Snap
}

// setWorkspace stores a workspace's settings as `mavtop budget set` does.
func (r *rig) setWorkspace(ws string, s model.Settings) {
	r.t.Helper()
	if err := feed.NewSettingsStore(r.rc, feed.StoreOptions{Now: r.clock.Now}).SetWorkspace(context.Background(), ws, s); err != nil {
		r.t.Fatal(err)
	}
}

// setProject stores a project's budget.
func (r *rig) setProject(ws, project string, b model.ProjectBudget) {
	r.t.Helper()
	if err := feed.NewSettingsStore(r.rc, feed.StoreOptions{Now: r.clock.Now}).SetProject(context.Background(), ws, project, b); err != nil {
		r.t.Fatal(err)
	}
}

// ledger returns the sandbox's account of testKey.
func (r *rig) ledger() sandbox.Ledger {
	r.t.Helper()
	l, ok := r.sb.Ledger(testKey)
	if !ok {
		r.t.Fatal("the sandbox never saw the test key")
	}
	return l
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after 30 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
