package sandbox

import "time"

// Ledger is the sandbox's own account of one key's billing period: what it charged,
// refused and recharged, per workspace and project. Tests compare it with what
// mavtop tracked.
type Ledger struct {
	// AccountID is the account's id ("acct_…"; never the key).
	AccountID string
	// PeriodStart and PeriodEnd bound the billing period.
	PeriodStart, PeriodEnd time.Time
	// Allocation is the account pool's monthly credits; Remaining what is left in it.
	Allocation, Remaining int64
	// Used is every credit charged in the account (all pools); Recharged every
	// credit added.
	Used, Recharged int64
	// Refused counts 402s by code.
	Refused map[string]int64
	// Requests counts requests that passed authentication and the rate limit.
	Requests int64
	// RunningJobs is the asynchronous jobs not yet finished (their charges are in
	// Used already).
	RunningJobs int
	// Workspaces by id.
	Workspaces map[string]WorkspaceLedger
}

// WorkspaceLedger is one workspace's account.
type WorkspaceLedger struct {
	// OwnPool is true when the workspace has its own allocation.
	OwnPool bool
	// Allocation and Remaining describe its own pool (0 when it draws from the account).
	Allocation, Remaining int64
	// Used is the credits it was charged; Recharged the credits added on its behalf.
	Used, Recharged int64
	// UsageLimit is its hard cap (0: none).
	UsageLimit int64
	// Refused counts 402s by code.
	Refused map[string]int64
	// ByEndpoint is Used per endpoint path.
	ByEndpoint map[string]int64
	// Projects by id.
	Projects map[string]ProjectLedger
}

// ProjectLedger is one project's account.
type ProjectLedger struct {
	// Used is the credits the project was charged.
	Used int64
	// UsageLimit is its hard cap (0: none).
	UsageLimit int64
	// Refused counts 402s by code.
	Refused map[string]int64
}

// Ledger returns the account of key; ok is false if the key was never used.
func (s *Sandbox) Ledger(key string) (Ledger, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[key]
	if a == nil {
		return Ledger{}, false
	}
	now := s.cfg.Now()
	a.rollover(now)
	s.settle(a, now)
	l := Ledger{
		AccountID: a.id, PeriodStart: a.periodStart, PeriodEnd: a.periodEnd,
		Allocation: a.pool.allocation, Remaining: a.pool.remaining(),
		Used: a.used, Recharged: a.recharged, Refused: copyCounts(a.refused),
		Requests: a.requests, RunningJobs: len(a.running),
		Workspaces: make(map[string]WorkspaceLedger, len(a.workspaces)),
	}
	for id, w := range a.workspaces {
		wl := WorkspaceLedger{
			OwnPool: w.own, Used: w.used, Recharged: w.recharged, UsageLimit: w.usageLimit,
			Refused: copyCounts(w.refused), ByEndpoint: copyCounts(w.byEndpoint),
			Projects: make(map[string]ProjectLedger, len(w.projects)),
		}
		if w.own {
			wl.Allocation, wl.Remaining = w.pool.allocation, w.pool.remaining()
		}
		for pid, p := range w.projects {
			wl.Projects[pid] = ProjectLedger{Used: p.used, UsageLimit: p.usageLimit, Refused: copyCounts(p.refused)}
		}
		l.Workspaces[id] = wl
	}
	return l, true
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
