package sandbox

import (
	"errors"
	"fmt"
)

// AccountConfig configures an account (the key's owner). Zero fields keep the
// account's current value, except AutoRecharge, which is set as given.
type AccountConfig struct {
	// Plan is starter, basic, professional or enterprise; it sets the allocation and
	// rate limit unless those are given.
	Plan string
	// Allocation is the monthly credits of the account's shared pool.
	Allocation int64
	// RateLimit is requests per minute for the key.
	RateLimit int
	// BudgetAlert is the account's alert threshold GET /usage reports.
	BudgetAlert int64
	// UsageLimit is the account's hard cap (402 budget_exceeded) GET /usage reports.
	UsageLimit int64
	// AutoRecharge is the shared pool's auto-recharge.
	AutoRecharge AutoRecharge
}

// WorkspaceConfig configures a workspace of an account.
type WorkspaceConfig struct {
	// ID is the workspace id (the API's workspace_id; the sandbox accepts any
	// 1–64 of [A-Za-z0-9._:-], so a mavtop workspace name works).
	ID string
	// Name is the display name (default: ID); Type is enterprise, marketing_agency,
	// user or starter (default user).
	Name, Type string
	// Allocation, when > 0, gives the workspace a pool of its own with that many
	// monthly credits; 0 makes it draw from the account's pool.
	Allocation int64
	// UsageLimit is a hard cap on the workspace's use (402 budget_exceeded); 0: none.
	UsageLimit int64
	// BudgetAlert is the alert threshold in credits; 0: none.
	BudgetAlert int64
	// AutoRecharge applies to the workspace's own pool.
	AutoRecharge AutoRecharge
	// Projects sets project budgets by project id.
	Projects map[string]ProjectConfig
	// BillingEmail is shown in GET /workspaces.
	BillingEmail string
}

// ProjectConfig is a project's budget inside a workspace (Pattern 7).
type ProjectConfig struct {
	// UsageLimit is a hard cap on the project's use (402 budget_exceeded); 0: none.
	UsageLimit int64
	// BudgetAlert is the alert threshold in credits; 0: none.
	BudgetAlert int64
}

// ConfigureAccount sets an account's plan, allocation, limits and auto-recharge,
// creating the account if the key has not been seen.
func (s *Sandbox) ConfigureAccount(key string, c AccountConfig) error {
	if !wellFormedKey(key) {
		return errors.New("sandbox: not a well-formed mvra_live_ key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(key, s.cfg.Now())
	if c.Plan != "" {
		p, ok := Plans[c.Plan]
		if !ok {
			return fmt.Errorf("sandbox: unknown plan %q", c.Plan)
		}
		a.plan = p
		a.pool.allocation, a.rateLimit = p.Allocation, p.RateLimit
	}
	if c.Allocation > 0 {
		a.pool.allocation = c.Allocation
	}
	if c.RateLimit > 0 {
		a.rateLimit = c.RateLimit
	}
	if c.BudgetAlert > 0 {
		a.budgetAlert = c.BudgetAlert
	}
	if c.UsageLimit > 0 {
		a.usageLimit = c.UsageLimit
	}
	a.pool.auto = c.AutoRecharge
	return nil
}

// ConfigureWorkspace creates or updates a workspace; its usage so far is kept.
func (s *Sandbox) ConfigureWorkspace(key string, c WorkspaceConfig) error {
	if !wellFormedKey(key) {
		return errors.New("sandbox: not a well-formed mvra_live_ key")
	}
	if validID(c.ID) == "" {
		return fmt.Errorf("sandbox: workspace id %q is not 1–64 of [A-Za-z0-9._:-]", c.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	a := s.account(key, now)
	w := a.workspace(c.ID, now)
	if c.Name != "" {
		w.name = c.Name
	}
	if c.Type != "" {
		w.typ = c.Type
	}
	if c.Allocation > 0 {
		if !w.own {
			// Usage drawn from the account so far stays there.
			w.own = true
			w.pool = pool{}
		}
		w.pool.allocation = c.Allocation
		w.pool.auto = c.AutoRecharge
	}
	w.usageLimit, w.budgetAlert, w.billingEmail = c.UsageLimit, c.BudgetAlert, c.BillingEmail
	for id, pc := range c.Projects {
		if validID(id) == "" {
			return fmt.Errorf("sandbox: project id %q is not 1–64 of [A-Za-z0-9._:-]", id)
		}
		p := w.project(id)
		p.usageLimit, p.budgetAlert = pc.UsageLimit, pc.BudgetAlert
	}
	return nil
}

// SetAllocation changes a monthly allocation at runtime: the workspace's own pool
// (giving it one if it drew from the account), or the account's pool when ws is "".
func (s *Sandbox) SetAllocation(key, ws string, credits int64) error {
	if credits < 0 {
		return errors.New("sandbox: allocation must not be negative")
	}
	if !wellFormedKey(key) {
		return errors.New("sandbox: not a well-formed mvra_live_ key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	a := s.account(key, now)
	if ws == "" {
		a.pool.allocation = credits
		return nil
	}
	if validID(ws) == "" {
		return fmt.Errorf("sandbox: workspace id %q is not valid", ws)
	}
	w := a.workspace(ws, now)
	if !w.own {
		w.own, w.pool = true, pool{}
	}
	w.pool.allocation = credits
	return nil
}

// AddCredits buys credits now (a manual top-up): they are added to the pool of ws
// (or the account's when ws is "" or draws from it) and reported through OnRecharge.
func (s *Sandbox) AddCredits(key, ws string, credits int64) error {
	if credits <= 0 {
		return errors.New("sandbox: credits to add must be positive")
	}
	if !wellFormedKey(key) {
		return errors.New("sandbox: not a well-formed mvra_live_ key")
	}
	s.mu.Lock()
	now := s.cfg.Now()
	a := s.account(key, now)
	pl := &a.pool
	label := ws
	if ws != "" {
		if validID(ws) == "" {
			s.mu.Unlock()
			return fmt.Errorf("sandbox: workspace id %q is not valid", ws)
		}
		w := a.workspace(ws, now)
		pl = a.poolOf(w)
		w.recharged += credits
	} else {
		label = DefaultWorkspaceID
		a.workspace(DefaultWorkspaceID, now).recharged += credits
	}
	pl.recharged += credits
	a.recharged += credits
	s.mu.Unlock()
	if s.cfg.OnRecharge != nil {
		s.cfg.OnRecharge(label, credits)
	}
	return nil
}

// RevokeKey makes every later request with key fail with 401 revoked_api_key.
func (s *Sandbox) RevokeKey(key string) {
	s.mu.Lock()
	s.revoked[key] = true
	s.mu.Unlock()
}

// Past is one line of an account's history before the sandbox started: credits
// charged to a workspace (and project) on an endpoint, a refusal, or credits
// added. A demo records the history it shows, so that GET /usage and the pools
// agree with the usage stream from the first reading.
type Past struct {
	// Workspace and Project are who the line belongs to.
	Workspace, Project string
	// Endpoint is the API path charged.
	Endpoint string
	// Credits is what was charged (≥ 0).
	Credits int64
	// Refused is the 402 code of a refusal ("" for none).
	Refused string
	// Recharged is credits added to the workspace's pool (≥ 0).
	Recharged int64
}

// RecordPast applies history lines to key's account as they were: charges draw
// from their pools and count towards limits, refusals are counted, recharges
// add credits. Nothing is checked against limits or balances, no auto-recharge
// fires and OnRecharge is not called: the history already says what happened.
// Lines for unknown workspaces create them (drawing from the account's pool).
func (s *Sandbox) RecordPast(key string, lines []Past) error {
	if !wellFormedKey(key) {
		return errors.New("sandbox: not a well-formed mvra_live_ key")
	}
	for _, l := range lines {
		if validID(l.Workspace) == "" || (l.Project != "" && validID(l.Project) == "") {
			return fmt.Errorf("sandbox: workspace %q or project %q is not 1–64 of [A-Za-z0-9._:-]", l.Workspace, l.Project)
		}
		if l.Credits < 0 || l.Recharged < 0 {
			return fmt.Errorf("sandbox: negative credits in the history of %q", l.Workspace)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	a := s.account(key, now)
	for _, l := range lines {
		w := a.workspace(l.Workspace, now)
		p := w.project(l.Project)
		pl := a.poolOf(w)
		if l.Credits > 0 {
			pl.used += l.Credits
			a.used += l.Credits
			w.used += l.Credits
			w.byEndpoint[l.Endpoint] += l.Credits
			if p != nil {
				p.used += l.Credits
			}
		}
		if l.Refused != "" {
			a.refused[l.Refused]++
			w.refused[l.Refused]++
			if p != nil {
				p.refused[l.Refused]++
			}
		}
		if l.Recharged > 0 {
			pl.recharged += l.Recharged
			a.recharged += l.Recharged
			w.recharged += l.Recharged
		}
	}
	return nil
}

// SetProjectLimit changes a project's usage limit at runtime (a workspace owner
// raising it in Workspace Settings > Budget); 0 removes it. Its use so far is kept.
func (s *Sandbox) SetProjectLimit(key, ws, project string, limit int64) error {
	if limit < 0 {
		return errors.New("sandbox: usage limit must not be negative")
	}
	if !wellFormedKey(key) {
		return errors.New("sandbox: not a well-formed mvra_live_ key")
	}
	if validID(ws) == "" || validID(project) == "" {
		return fmt.Errorf("sandbox: workspace %q or project %q is not 1–64 of [A-Za-z0-9._:-]", ws, project)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.account(key, now).workspace(ws, now).project(project).usageLimit = limit
	return nil
}
