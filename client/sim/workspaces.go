package sim

import (
	"mavtop/estimator"
	"mavtop/model"
)

// Workspace is one simulated application's workspace: its budget, how it warms
// up and what traffic it sends.
type Workspace struct {
	// Name is the workspace id (in the stream, the feed's settings and the sandbox).
	Name string
	// Note says what the workspace shows in the demo.
	Note string
	// Allocation is the monthly credits: the workspace's own pool in the sandbox,
	// or, when SharesAccount, the account's pool.
	Allocation int64
	// SharesAccount makes the workspace draw from the account's pool (at most one
	// simulated workspace may).
	SharesAccount bool
	// UsageLimit and BudgetAlert are the workspace budget (Pattern 7); 0: none.
	UsageLimit, BudgetAlert int64
	// RechargeBelow and RechargeAmount are auto-recharge (Pattern 5); 0: off.
	RechargeBelow, RechargeAmount int64
	// Projects are the projects traffic is spread over, with their budgets.
	Projects []Project
	// Warmup is used at start so that the workspace shows its level at once.
	Warmup Warmup
	// Rate is calls per second at normal pace.
	Rate float64
	// Mix is the relative weight of each operation in the traffic.
	Mix []Share
	// Preflight is whether the application checks its balance before a launch
	// (Pattern 3); one that does not runs into 402s.
	Preflight bool
}

// Project is a project of a simulated workspace and its budget.
type Project struct {
	// Name is the project id.
	Name string
	// UsageLimit and BudgetAlert are the project's budget (Pattern 7); 0: none.
	UsageLimit, BudgetAlert int64
}

// Warmup is the spending a workspace does as fast as it can at start: Personas
// custom personas (300 credits each) in Project.
type Warmup struct {
	// Personas is how many custom personas to create.
	Personas int
	// Project is the project they are created in (may be empty).
	Project string
}

// Share is one operation's weight in a traffic mix.
type Share struct {
	// Op is the operation.
	Op estimator.Operation
	// Weight is its relative frequency.
	Weight float64
}

// Settings returns the workspace's settings as the feed stores them, so the
// gauges show the same allocation the sandbox enforces.
func (w Workspace) Settings() model.Settings {
	return model.Settings{
		Allocation: w.Allocation, UsageLimit: w.UsageLimit, BudgetAlert: w.BudgetAlert,
		RechargeBelow: w.RechargeBelow, RechargeAmount: w.RechargeAmount,
	}
}

// ProjectBudgets returns the budgets of the workspace's projects that have one.
func (w Workspace) ProjectBudgets() map[string]model.ProjectBudget {
	out := map[string]model.ProjectBudget{}
	for _, p := range w.Projects {
		if p.UsageLimit > 0 || p.BudgetAlert > 0 {
			out[p.Name] = model.ProjectBudget{Limit: p.UsageLimit, Alert: p.BudgetAlert}
		}
	}
	return out
}

// DefaultWorkspaces returns the six demo workspaces. Within 15 s of a start:
//
//	acme-prod          15 %   below 50: steady chat-heavy production traffic
//	acme-staging       60 %   50–75: light QA traffic
//	globex             81 %   75–90: research jobs; auto-recharge keeps it going
//	initech            90 %+  ≥ 90: chat only, runs out in a few minutes
//	umbrella-research  402    credits_exhausted: focus groups without pre-flight
//	hooli-ml           402    budget_exceeded in project "training" (limit 600);
//	                          draws from the account's pool
func DefaultWorkspaces() []Workspace {
	chat, simple, moderate, complex := estimator.Chat, estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex
	fg, video, bv := estimator.FocusGroup, estimator.Video, estimator.BrandVoice
	return []Workspace{
		{
			Name: "acme-prod", Note: "healthy production traffic",
			Allocation: 20_000, BudgetAlert: 15_000,
			Projects: []Project{{Name: "web"}, {Name: "mobile"}},
			Warmup:   Warmup{Personas: 10, Project: "web"},
			Rate:     1.2, Preflight: true,
			Mix: []Share{{chat, 70}, {simple, 10}, {moderate, 6}, {complex, 4}, {fg, 6}, {video, 2}, {bv, 2}},
		},
		{
			Name: "acme-staging", Note: "past the 50 % alert",
			Allocation: 2_000,
			Projects:   []Project{{Name: "qa"}},
			Warmup:     Warmup{Personas: 4, Project: "qa"},
			Rate:       0.4, Preflight: true,
			Mix: []Share{{chat, 80}, {simple, 20}},
		},
		{
			Name: "globex", Note: "past 75 %; auto-recharge adds 2,000 below 500 left",
			Allocation: 10_000, RechargeBelow: 500, RechargeAmount: 2_000,
			Projects: []Project{{Name: "research"}},
			Warmup:   Warmup{Personas: 27, Project: "research"},
			Rate:     0.8, Preflight: true,
			Mix: []Share{{chat, 30}, {simple, 10}, {moderate, 15}, {complex, 15}, {fg, 20}, {video, 15}},
		},
		{
			Name: "initech", Note: "past 90 %, runs out in minutes",
			Allocation: 3_000,
			Warmup:     Warmup{Personas: 9},
			Rate:       0.5, Preflight: true,
			Mix: []Share{{chat, 100}},
		},
		{
			Name: "umbrella-research", Note: "no pre-flight: refused with 402 credits_exhausted",
			Allocation: 1_500,
			Projects:   []Project{{Name: "trials"}},
			Warmup:     Warmup{Personas: 4, Project: "trials"},
			Rate:       0.8, Preflight: false,
			Mix: []Share{{fg, 60}, {chat, 30}, {video, 10}},
		},
		{
			Name: "hooli-ml", Note: "project training over its limit: 402 budget_exceeded",
			Allocation: 8_000, SharesAccount: true, UsageLimit: 7_000,
			Projects: []Project{{Name: "training", UsageLimit: 600}, {Name: "inference"}},
			Warmup:   Warmup{Personas: 2, Project: "training"},
			Rate:     1.0, Preflight: true,
			Mix: []Share{{chat, 70}, {simple, 10}, {moderate, 5}, {complex, 5}, {fg, 8}, {video, 2}},
		},
	}
}
