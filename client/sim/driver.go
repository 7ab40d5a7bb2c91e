package sim

import (
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"mavtop/client"
	"mavtop/estimator"
)

// StressFactor is how much faster than the normal pace stress mode sends traffic.
const StressFactor = 20

// Config configures a Driver.
type Config struct {
	// Client calls the sandbox; give it a tracker (and Balances, for the
	// workspaces that pre-flight). Its clock paces the traffic.
	Client *client.Client
	// Workspaces are the simulated workspaces (default DefaultWorkspaces()).
	Workspaces []Workspace
	// Seed makes the traffic repeatable.
	Seed uint64
	// Pace multiplies every workspace's rate (default 1; Stress multiplies it by StressFactor).
	Pace float64
	// Stress sends traffic StressFactor times faster (it runs into rate limits).
	Stress bool
	// Backoff is how long an application pauses after a refusal (default 5 s).
	Backoff time.Duration
	// Drain makes Run, once ctx is done, let the calls in flight get their answers
	// and wait for the jobs in flight to finish, so that every charge is tracked
	// (tests comparing totals); without it they are abandoned, and a call cut off
	// mid-flight may have been charged by the API without being tracked.
	Drain bool
	// OnError receives errors other than refusals (402, pre-flight); may be nil.
	OnError func(ws string, err error)
	// RaiseLimit is the workspace owner: it sets a project's usage limit (in the
	// API and in the feed's settings). Projects with RaiseBy call it once their
	// calls have been refused for RaiseAfter; nil: nobody raises anything.
	RaiseLimit func(ctx context.Context, ws, project string, limit int64) error
}

// Stats counts what a workspace's application did.
type Stats struct {
	// Calls is every launch attempted (warm-up included).
	Calls int64
	// OK is launches accepted by the API.
	OK int64
	// Refused is 402s; Preflighted is launches the pre-flight check stopped.
	Refused, Preflighted int64
	// Errors is anything else.
	Errors int64
}

// Driver runs the simulated applications.
type Driver struct {
	cfg   Config
	clock client.Clock
	jobs  sync.WaitGroup

	mu    sync.Mutex
	stats map[string]*Stats
	// refusedSince is when each "ws/project" was first refused with
	// budget_exceeded since its last success (absent: not refused).
	refusedSince map[string]time.Time
}

// New returns a driver; Run starts it.
func New(cfg Config) *Driver {
	if cfg.Workspaces == nil {
		cfg.Workspaces = DefaultWorkspaces()
	}
	if cfg.Pace <= 0 {
		cfg.Pace = 1
	}
	if cfg.Stress {
		cfg.Pace *= StressFactor
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 5 * time.Second
	}
	d := &Driver{cfg: cfg, clock: cfg.Client.Clock(), stats: map[string]*Stats{}, refusedSince: map[string]time.Time{}}
	for _, w := range cfg.Workspaces {
		d.stats[w.Name] = &Stats{}
	}
	return d
}

// Stats returns each workspace's counts so far.
func (d *Driver) Stats() map[string]Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]Stats, len(d.stats))
	for k, v := range d.stats {
		out[k] = *v
	}
	return out
}

// Run sends every workspace's traffic, and plays their owners, until ctx is
// done; with Drain it then waits for the jobs in flight. Refusals and errors are
// counted in Stats (errors also go to OnError), not returned: a simulated
// application keeps going.
func (d *Driver) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range d.cfg.Workspaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.traffic(ctx, w)
		}()
	}
	if d.cfg.RaiseLimit != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.owner(ctx)
		}()
	}
	wg.Wait()
	d.jobs.Wait()
}

// owner raises the usage limit of every project with RaiseBy whose calls have
// been refused for its RaiseAfter, as a workspace owner watching the 402s would.
func (d *Driver) owner(ctx context.Context) {
	limits := map[string]int64{}
	for d.clock.Sleep(ctx, 5*time.Second) == nil {
		now := d.clock.Now()
		for _, w := range d.cfg.Workspaces {
			for _, p := range w.Projects {
				if p.RaiseBy <= 0 {
					continue
				}
				key := w.Name + "/" + p.Name
				d.mu.Lock()
				since, refused := d.refusedSince[key]
				d.mu.Unlock()
				if !refused || now.Sub(since) < p.RaiseAfter {
					continue
				}
				limit := limits[key]
				if limit == 0 {
					limit = p.UsageLimit
				}
				limit += p.RaiseBy
				if err := d.cfg.RaiseLimit(ctx, w.Name, p.Name, limit); err != nil {
					if ctx.Err() == nil && d.cfg.OnError != nil {
						d.cfg.OnError(w.Name, err)
					}
					continue
				}
				limits[key] = limit
				d.mu.Lock()
				delete(d.refusedSince, key)
				d.mu.Unlock()
			}
		}
	}
}

// callContext is the context calls run with: with Drain, stopping does not cut
// a call off mid-flight.
func (d *Driver) callContext(ctx context.Context) context.Context {
	if d.cfg.Drain {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// traffic sends the workspace's mix at its rate, swinging over the spending
// cycle (Poisson arrivals, thinned to the cycle).
func (d *Driver) traffic(ctx context.Context, w Workspace) {
	rate := w.Rate * d.cfg.Pace
	if rate <= 0 || len(w.Mix) == 0 {
		return
	}
	r := rand.New(rand.NewPCG(d.cfg.Seed, hash(w.Name)))
	var total float64
	for _, s := range w.Mix {
		total += s.Weight
	}
	var n int64
	for ctx.Err() == nil {
		gap := nextArrival(r, w.Name, rate, d.clock.Now())
		if d.clock.Sleep(ctx, gap) != nil {
			return
		}
		// Draw everything the call needs first, so the sequence of draws does not
		// depend on timing.
		op := pickOp(r, w.Mix, total)
		project := pickProject(r, w.Projects)
		op = opOf(r, w, project, op)
		call := d.prepare(r, w, op, n)
		n++
		c := d.cfg.Client.In(w.Name, project)
		if !w.Preflight {
			c = c.WithoutPreflight()
		}
		err := call(d.callContext(ctx), c)
		if ctx.Err() != nil && err != nil {
			d.count(w.Name, err)
			return
		}
		d.streak(w.Name, project, err)
		if d.count(w.Name, err) {
			// A graceful application backs off after a refusal (Pattern 6).
			if d.clock.Sleep(ctx, d.cfg.Backoff) != nil {
				return
			}
		}
	}
}

// prepare draws a call's request and returns the function that makes it.
func (d *Driver) prepare(r *rand.Rand, w Workspace, op estimator.Operation, n int64) func(context.Context, *client.Client) error {
	ws := w.Name
	switch op {
	case estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex:
		req := client.MaveChatRequest{Message: maveMessage(r, op), WorkspaceID: ws}
		return func(ctx context.Context, c *client.Client) error {
			_, _, err := c.LaunchMave(ctx, req, op)
			return err
		}
	case estimator.FocusGroup:
		req := focusGroup(r, ws)
		return d.async(client.JobFocusGroup, func(ctx context.Context, c *client.Client) (waiter, error) {
			return c.StartFocusGroup(ctx, req)
		})
	case estimator.Video:
		req, secs := video(r, ws, n)
		return d.async(client.JobVideo, func(ctx context.Context, c *client.Client) (waiter, error) {
			return c.StartVideoAnalysis(ctx, req, secs)
		})
	case estimator.BrandVoice:
		req := brandVoice(r, ws)
		return d.async(client.JobBrandVoice, func(ctx context.Context, c *client.Client) (waiter, error) {
			return c.StartBrandVoice(ctx, req)
		})
	case estimator.Persona:
		req := persona(r)
		return func(ctx context.Context, c *client.Client) error {
			_, _, err := c.LaunchPersona(ctx, req)
			return err
		}
	}
	req := client.ResponseRequest{Input: chatInput(r), PersonaID: "clxp0000000000000000000001"}
	return func(ctx context.Context, c *client.Client) error {
		_, _, err := c.LaunchResponse(ctx, req)
		return err
	}
}

// waiter is a started job (*client.Job[T] for any T).
type waiter interface {
	Release()
}

// async starts a job and waits for it in the background. When the kind's slots
// are all taken the application does not queue behind them: it skips the job.
func (d *Driver) async(kind client.JobKind, start func(context.Context, *client.Client) (waiter, error)) func(context.Context, *client.Client) error {
	return func(ctx context.Context, c *client.Client) error {
		for _, s := range c.Concurrency() {
			if s.Kind == kind && s.Running+s.Waiting >= s.Limit {
				return nil
			}
		}
		j, err := start(ctx, c)
		if err != nil {
			return err
		}
		wctx := ctx // already a call context: uncancelled with Drain
		d.jobs.Add(1)
		go func() {
			defer d.jobs.Done()
			var err error
			switch j := j.(type) {
			case *client.Job[*client.FocusGroup]:
				_, err = j.Wait(wctx)
			case *client.Job[*client.VideoAnalysis]:
				_, err = j.Wait(wctx)
			case *client.Job[*client.BrandVoice]:
				_, err = j.Wait(wctx)
			}
			if err != nil && wctx.Err() == nil && d.cfg.OnError != nil {
				var jf *client.JobFailedError
				if !errors.As(err, &jf) {
					d.cfg.OnError(c.Scope().Workspace, err)
				}
			}
		}()
		return nil
	}
}

// count records a call's outcome; it reports whether it was a refusal.
func (d *Driver) count(ws string, err error) (refused bool) {
	d.mu.Lock()
	st := d.stats[ws]
	st.Calls++
	switch {
	case err == nil:
		st.OK++
	case client.IsPaymentRequired(err):
		st.Refused++
		refused = true
	case client.IsInsufficientCredits(err):
		st.Preflighted++
		refused = true
	default:
		st.Errors++
	}
	d.mu.Unlock()
	if err != nil && !refused && d.cfg.OnError != nil && !errors.Is(err, context.Canceled) {
		d.cfg.OnError(ws, err)
	}
	return refused
}

// streak keeps when a project's calls began to be refused with budget_exceeded
// (for the owner); a success ends the streak.
func (d *Driver) streak(ws, project string, err error) {
	key := ws + "/" + project
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case err == nil:
		delete(d.refusedSince, key)
	case client.IsBudgetExceeded(err):
		if _, ok := d.refusedSince[key]; !ok {
			d.refusedSince[key] = d.clock.Now()
		}
	}
}

func pickOp(r *rand.Rand, mix []Share, total float64) estimator.Operation {
	x := r.Float64() * total
	for _, s := range mix {
		if x < s.Weight {
			return s.Op
		}
		x -= s.Weight
	}
	return mix[len(mix)-1].Op
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
