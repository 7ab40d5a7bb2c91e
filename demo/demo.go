// Package demo assembles demo mode from the real parts: a Redis (embedded unless
// one is given), the API sandbox on a loopback port, and simulated applications
// that call it through the real client with tracking on, so the dashboard has
// live, believable traffic with nothing to install.
package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/client/sim"
	"mavtop/feed"
	"mavtop/model"
)

// Options configure a demo. The zero value is the normal demo.
type Options struct {
	// Redis, when set, is used instead of an embedded server (tests run the demo
	// on a real redis-server).
	Redis redis.UniversalClient
	// Prefix is the key prefix (feed.DefaultPrefix).
	Prefix string
	// Seed makes the sandbox's charges and the traffic repeatable.
	Seed uint64
	// Stress sends traffic sim.StressFactor times faster.
	Stress bool
	// NoTraffic sets everything up but starts no simulated applications (tests
	// publish their own events).
	NoTraffic bool
	// Clock paces traffic and jobs (client.RealClock).
	Clock client.Clock
	// OnError receives errors of the simulated applications and of tracking; may be nil.
	OnError func(error)
}

// Demo is a running demo.
type Demo struct {
	// Redis is the demo's Redis; Embedded is set when it is the embedded one.
	Redis    redis.UniversalClient
	Embedded *feed.Embedded
	// Sandbox is the emulated API, served at BaseURL with Key.
	Sandbox *sandbox.Sandbox
	BaseURL string
	Key     string
	// Client calls the sandbox with tracking and pre-flight, as the dashboard's
	// launches do.
	Client *client.Client
	// Publisher, Balances and Retries are the feed pieces the client uses.
	Publisher *feed.Publisher
	Balances  *feed.Balances
	Retries   *client.RetryQueue
	// Workspaces are the simulated workspaces.
	Workspaces []sim.Workspace
	// IDs stamps the ids of every stream entry the demo writes by its clock
	// (feed.ClockIDs): any other writer of its stream must share it.
	IDs *feed.ClockIDs

	server *sandbox.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start sets the demo up and starts its traffic; Close stops it.
func Start(ctx context.Context, opt Options) (d *Demo, err error) {
	if opt.Clock == nil {
		opt.Clock = client.RealClock{}
	}
	onErr := opt.OnError
	if onErr == nil {
		onErr = func(error) {}
	}
	d = &Demo{Redis: opt.Redis, Key: sim.DemoKey, Workspaces: sim.DefaultWorkspaces()}
	now := opt.Clock.Now()
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.Redis == nil {
		if d.Embedded, err = feed.StartEmbedded(); err != nil {
			return nil, err
		}
		d.Redis = d.Embedded.Client()
	}
	// The demo's clock dates its entries: every stream entry it writes (its
	// history of the period so far, its traffic, its settings) has its id
	// from its ts (feed.ClockIDs), as a producer whose clock is Redis's
	// would, so the burn, idle and a row's age (model.Event.At) follow the
	// demo's clock, scaled or not. Its Redis must hold no later entries.
	ids := new(feed.ClockIDs)
	d.IDs = ids
	store := feed.StoreOptions{Prefix: opt.Prefix, Now: opt.Clock.Now, IDs: ids}
	d.Publisher = feed.NewPublisher(d.Redis, feed.PublisherOptions{Prefix: opt.Prefix, Now: opt.Clock.Now, IDs: ids})
	d.Balances = feed.NewBalances(d.Redis, store)
	settings := feed.NewSettingsStore(d.Redis, store)
	// The demo's billing period is about half gone whatever today's date, so
	// "time left", pace and forecasts read as they would mid-month.
	periodCfg := PeriodAt(now)
	if opt.NoTraffic {
		periodCfg = model.PeriodConfig{StartDay: 1}
	}
	rule, err := periodCfg.Rule()
	if err != nil {
		return nil, fmt.Errorf("demo billing period: %w", err)
	}
	period := rule.At(now)
	// The settings held since the period began: their entries are dated at
	// its start, before the history written next.
	setup := store
	setup.Now = func() time.Time { return period.Start }
	initial := feed.NewSettingsStore(d.Redis, setup)
	if !opt.NoTraffic {
		if err := initial.SetPeriod(ctx, periodCfg); err != nil {
			return nil, fmt.Errorf("demo billing period: %w", err)
		}
	}
	for _, w := range d.Workspaces {
		if err := initial.SetWorkspace(ctx, w.Name, w.Settings()); err != nil {
			return nil, fmt.Errorf("demo settings for %s: %w", w.Name, err)
		}
		for p, b := range w.ProjectBudgets() {
			if err := initial.SetProject(ctx, w.Name, p, b); err != nil {
				return nil, fmt.Errorf("demo budget for %s/%s: %w", w.Name, p, err)
			}
		}
	}
	cfg := sim.SandboxConfig(opt.Seed)
	cfg.Now = opt.Clock.Now
	cfg.PeriodStartDay = periodCfg.StartDay
	cfg.OnRecharge = sim.RechargeHook(d.Publisher, opt.Clock, onErr)
	d.Sandbox = sandbox.New(cfg)
	if err := sim.Setup(d.Sandbox, d.Key, d.Workspaces); err != nil {
		return nil, err
	}
	if d.server, err = sandbox.Listen("127.0.0.1:0", d.Sandbox); err != nil {
		return nil, err
	}
	d.BaseURL = d.server.BaseURL
	d.Client, err = client.New(
		client.WithBaseURL(d.BaseURL), client.WithAPIKey(d.Key), client.WithClock(opt.Clock),
		client.WithTracker(d.Publisher, client.DefaultWorkspace, ""), client.WithBalances(d.Balances),
		client.WithTrackErrorHandler(onErr),
	)
	if err != nil {
		return nil, err
	}
	var qopts []client.QueueOption
	if opt.Prefix != "" {
		qopts = append(qopts, client.WithQueuePrefix(opt.Prefix))
	}
	d.Retries = client.NewRetryQueue(d.Redis, append(qopts, client.WithQueueClock(opt.Clock))...)
	if opt.NoTraffic {
		return d, nil
	}
	// The period so far: written before anything reads the stream, so the
	// counters, the stream and the sandbox's pools agree from the first frame.
	pace := sim.PaceFor(period.Left(now))
	history, err := sim.History(d.Workspaces, period, now, pace, opt.Seed)
	if err != nil {
		return nil, err
	}
	if err := d.Publisher.TrackBatch(ctx, history); err != nil {
		return nil, fmt.Errorf("demo history: %w", err)
	}
	if err := d.Sandbox.RecordPast(d.Key, sim.PastOf(history)); err != nil {
		return nil, fmt.Errorf("demo history: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	driver := sim.New(sim.Config{Client: d.Client, Workspaces: d.Workspaces, Seed: opt.Seed, Stress: opt.Stress, Pace: pace,
		OnError: func(ws string, err error) { onErr(fmt.Errorf("%s: %w", ws, err)) },
		RaiseLimit: func(ctx context.Context, ws, project string, limit int64) error {
			if err := d.Sandbox.SetProjectLimit(d.Key, ws, project, limit); err != nil {
				return err
			}
			_, err := settings.UpdateProject(ctx, ws, project, func(b *model.ProjectBudget) error { b.Limit = limit; return nil })
			return err
		}})
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		driver.Run(runCtx)
	}()
	return d, nil
}

// PeriodAt returns the billing-period config (a start day in UTC) that puts now
// closest to half-way through its period: between about 45 and 55 % whatever
// the date, never "23 h left" at a month's end.
func PeriodAt(now time.Time) model.PeriodConfig { return model.MidPeriod(now) }

// Close stops the traffic, the sandbox and the embedded Redis.
func (d *Demo) Close() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	if d.server != nil {
		_ = d.server.Close()
	}
	if d.Embedded != nil {
		d.Embedded.Close()
	}
}
