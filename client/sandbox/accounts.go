package sandbox

import (
	"fmt"
	"hash/fnv"
	"time"
)

// AutoRecharge is a pool's auto-recharge setting (Pattern 5): when its remaining
// credits fall below Threshold, Amount credits are added.
type AutoRecharge struct {
	// Enabled turns it on.
	Enabled bool
	// Threshold is the remaining credits below which it fires.
	Threshold int64
	// Amount is the credits it adds.
	Amount int64
}

// pool is a balance: the account's, or a workspace's own.
type pool struct {
	allocation int64
	recharged  int64
	used       int64
	auto       AutoRecharge
}

func (p *pool) remaining() int64 { return p.allocation + p.recharged - p.used }

type account struct {
	id          string
	plan        Plan
	rateLimit   int
	pool        pool
	budgetAlert int64
	usageLimit  int64
	used        int64
	recharged   int64
	refused     map[string]int64
	workspaces  map[string]*workspace
	wsOrder     []string
	window      []time.Time
	jobs        map[string]*job
	jobOrder    []string
	running     []*job
	personas    []personaObject
	requests    int64
	errors      int64
	tokensIn    int64
	tokensOut   int64
	periodStart time.Time
	periodEnd   time.Time
	periodDay   int
	created     time.Time
}

type workspace struct {
	id, name, typ string
	billingEmail  string
	own           bool
	pool          pool
	usageLimit    int64
	budgetAlert   int64
	used          int64
	recharged     int64
	refused       map[string]int64
	byEndpoint    map[string]int64
	projects      map[string]*project
	created       time.Time
	threads       int
}

type project struct {
	usageLimit  int64
	budgetAlert int64
	used        int64
	refused     map[string]int64
}

type rechargeNote struct {
	ws     string
	amount int64
}

// account returns the account of key, creating it. Called with s.mu held.
func (s *Sandbox) account(key string, now time.Time) *account {
	if a := s.accounts[key]; a != nil {
		return a
	}
	plan := Plans[s.cfg.Plan]
	if s.cfg.Allocation > 0 {
		plan.Allocation = s.cfg.Allocation
	}
	if s.cfg.RateLimit > 0 {
		plan.RateLimit = s.cfg.RateLimit
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	a := &account{
		id:         fmt.Sprintf("acct_%08x", h.Sum32()),
		plan:       plan,
		rateLimit:  plan.RateLimit,
		pool:       pool{allocation: plan.Allocation},
		refused:    map[string]int64{},
		workspaces: map[string]*workspace{},
		jobs:       map[string]*job{},
		created:    now,
		periodDay:  s.cfg.PeriodStartDay,
	}
	a.periodStart, a.periodEnd = periodOf(now, s.cfg.PeriodStartDay)
	s.accounts[key] = a
	return a
}

// periodOf returns the billing period holding t: from 00:00 UTC on day (1–28)
// of a month to the same instant a month later.
func periodOf(t time.Time, day int) (start, end time.Time) {
	u := t.UTC()
	start = time.Date(u.Year(), u.Month(), day, 0, 0, 0, 0, time.UTC)
	if u.Before(start) {
		start = time.Date(u.Year(), u.Month()-1, day, 0, 0, 0, 0, time.UTC)
	}
	return start, start.AddDate(0, 1, 0)
}

// rollover starts a new billing period when the clock has passed the current one:
// every counter starts afresh (no rollover of credits, as documented).
func (a *account) rollover(now time.Time) {
	if now.Before(a.periodEnd) {
		return
	}
	a.periodStart, a.periodEnd = periodOf(now, a.periodDay)
	a.pool.used, a.pool.recharged = 0, 0
	a.used, a.recharged, a.requests, a.errors, a.tokensIn, a.tokensOut = 0, 0, 0, 0, 0, 0
	a.refused = map[string]int64{}
	for _, w := range a.workspaces {
		w.pool.used, w.pool.recharged = 0, 0
		w.used, w.recharged = 0, 0
		w.refused, w.byEndpoint = map[string]int64{}, map[string]int64{}
		for _, p := range w.projects {
			p.used = 0
			p.refused = map[string]int64{}
		}
	}
}

// workspace returns workspace id, creating it (drawing from the account's pool).
func (a *account) workspace(id string, now time.Time) *workspace {
	if w := a.workspaces[id]; w != nil {
		return w
	}
	w := &workspace{id: id, name: id, typ: "user", refused: map[string]int64{},
		byEndpoint: map[string]int64{}, projects: map[string]*project{}, created: now}
	a.workspaces[id] = w
	a.wsOrder = append(a.wsOrder, id)
	return w
}

func (w *workspace) project(name string) *project {
	if name == "" {
		return nil
	}
	p := w.projects[name]
	if p == nil {
		p = &project{refused: map[string]int64{}}
		w.projects[name] = p
	}
	return p
}

// poolOf returns the pool workspace w draws from.
func (a *account) poolOf(w *workspace) *pool {
	if w.own {
		return &w.pool
	}
	return &a.pool
}

// charge draws amount credits for a call of workspace w (and project) on endpoint,
// or refuses it with 402 (assumptions.go: limits first, then credits, no overdraft).
// It returns the pool charged, or the refusal. Called with s.mu held.
func (c *call) charge(w *workspace, endpoint string, amount int64) (*pool, *result) {
	a := c.a
	p := w.project(c.project)
	refuse := func(code, msg string) (*pool, *result) {
		a.refused[code]++
		w.refused[code]++
		if p != nil {
			p.refused[code]++
		}
		r := paymentRequired(code, msg)
		return nil, &r
	}
	switch {
	case p != nil && p.usageLimit > 0 && p.used+amount > p.usageLimit:
		return refuse("budget_exceeded", fmt.Sprintf("Budget exceeded: project %q in workspace %q has reached its usage limit of %d credits (%d used). Raise the project's limit in Workspace Settings > Budget.", c.project, w.id, p.usageLimit, p.used))
	case w.usageLimit > 0 && w.used+amount > w.usageLimit:
		return refuse("budget_exceeded", fmt.Sprintf("Budget exceeded: workspace %q has reached its usage limit of %d credits (%d used). Raise it in Workspace Settings > Budget.", w.id, w.usageLimit, w.used))
	case a.usageLimit > 0 && a.used+amount > a.usageLimit:
		return refuse("budget_exceeded", fmt.Sprintf("Budget exceeded: the account has reached its usage limit of %d credits.", a.usageLimit))
	}
	pl := a.poolOf(w)
	if pl.remaining() < amount {
		return refuse("credits_exhausted", "You have run out of credits. Upgrade your plan, add credits in Settings > Billing, or wait for your credits to reset.")
	}
	pl.used += amount
	a.used += amount
	w.used += amount
	w.byEndpoint[endpoint] += amount
	if p != nil {
		p.used += amount
	}
	if pl.auto.Enabled && pl.auto.Amount > 0 && pl.remaining() < pl.auto.Threshold {
		pl.recharged += pl.auto.Amount
		a.recharged += pl.auto.Amount
		w.recharged += pl.auto.Amount
		c.recharges = append(c.recharges, rechargeNote{ws: w.id, amount: pl.auto.Amount})
	}
	return pl, nil
}

// refund gives a failed job's charge back.
func (a *account) refund(j *job) {
	j.pool.used -= j.charge
	a.used -= j.charge
	j.ws.used -= j.charge
	j.ws.byEndpoint[j.endpoint] -= j.charge
	if p := j.ws.projects[j.project]; p != nil {
		p.used -= j.charge
	}
}

// limit applies the sliding-window rate limit: it records the request, or returns
// how many seconds to wait when the window is full.
func (a *account) limit(now time.Time) (retryAfter int, limited bool) {
	a.trim(now)
	if len(a.window) >= a.rateLimit {
		wait := a.window[0].Add(time.Minute).Sub(now)
		secs := int((wait + time.Second - 1) / time.Second)
		return max(secs, 1), true
	}
	a.window = append(a.window, now)
	return 0, false
}

func (a *account) trim(now time.Time) {
	cut := now.Add(-time.Minute)
	i := 0
	for i < len(a.window) && !a.window[i].After(cut) {
		i++
	}
	if i > 0 {
		a.window = append(a.window[:0], a.window[i:]...)
	}
}

// rateHeaders returns X-RateLimit-Limit, -Remaining and -Reset (Unix seconds:
// when the oldest request leaves the window).
func (a *account) rateHeaders(now time.Time) (limit, remaining int, reset int64) {
	a.trim(now)
	reset = now.Add(time.Minute).Unix()
	if len(a.window) > 0 {
		reset = a.window[0].Add(time.Minute).Unix()
	}
	return a.rateLimit, max(0, a.rateLimit-len(a.window)), reset
}
