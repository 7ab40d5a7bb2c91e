package sim

import (
	"math/rand/v2"
	"time"

	"mavtop/estimator"
	"mavtop/model"
)

// Workspace is one simulated application's workspace: its budget, where it
// stands when the demo starts, and what traffic it sends.
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
	// Used is the credits the workspace used earlier in the billing period, before
	// the demo starts (History writes them: the earlier days as daily totals, the
	// last hour call by call).
	Used int64
	// RanOutAgo, when set, is how long before the start the workspace's credits
	// ran out: since then its application (one without pre-flight) is refused.
	RanOutAgo time.Duration
	// Rate is calls per second at normal pace, on average over a spending cycle
	// (the rate swings by CycleSwing over CyclePeriod).
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
	// Used is the project's credits before the demo starts (0: an even share of
	// what the workspace's other projects leave).
	Used int64
	// RaiseBy, when set, is what the workspace's owner adds to the project's usage
	// limit once its calls have been refused for RaiseAfter (simulated in Run).
	RaiseBy    int64
	RaiseAfter time.Duration
	// LimitAgo, when set, is how long before the demo the project reached its
	// usage limit: its calls since were refused with budget_exceeded (the last
	// hour's history holds them), and Used is its UsageLimit.
	LimitAgo time.Duration
	// Weight is the project's relative share of the workspace's calls (0: 1,
	// an even share).
	Weight float64
	// Mix, when set, is what the project's calls do in place of the
	// workspace's Mix (live traffic, the last hour's history and the earlier
	// days' totals alike). A small project drawing the workspace's focus
	// groups and videos spends in lumps: the demo's training, a tenth of
	// hooli-ml's calls, paced from 10× to 54× over the seeds and runs of
	// TestDemoStaysTruthfulFor35Minutes (a few hundred credits a job against
	// the 27,000 its raise leaves), so the test's pace bound failed by
	// chance.
	Mix []Share
}

// projectMix is the mix of a call of project in w, and its total weight: the
// project's own Mix when it has one, else the workspace's.
func projectMix(w Workspace, project string) ([]Share, float64) {
	mix := w.Mix
	for _, p := range w.Projects {
		if p.Name == project && len(p.Mix) > 0 {
			mix = p.Mix
		}
	}
	var total float64
	for _, s := range mix {
		total += s.Weight
	}
	return mix, total
}

// opOf is the operation of one call of project: op, drawn from the
// workspace's mix, unless the project has a mix of its own, which draws it
// again (one more draw for its calls alone, so the other workspaces' and
// projects' sequences of draws are as they were).
func opOf(r *rand.Rand, w Workspace, project string, op estimator.Operation) estimator.Operation {
	for _, p := range w.Projects {
		if p.Name == project && len(p.Mix) > 0 {
			mix, total := projectMix(w, project)
			return pickOp(r, mix, total)
		}
	}
	return op
}

// pickProject draws the project of one call by the projects' weights ("" for
// a workspace without projects). With no weight set it is one draw of an even
// share, as it always was, so the other workspaces' traffic is unchanged.
func pickProject(r *rand.Rand, ps []Project) string {
	if len(ps) == 0 {
		return ""
	}
	var total float64
	weighted := false
	for _, p := range ps {
		w := p.Weight
		if w > 0 {
			weighted = true
		} else {
			w = 1
		}
		total += w
	}
	if !weighted {
		return ps[r.IntN(len(ps))].Name
	}
	x := r.Float64() * total
	for _, p := range ps {
		w := p.Weight
		if w <= 0 {
			w = 1
		}
		if x < w {
			return p.Name
		}
		x -= w
	}
	return ps[len(ps)-1].Name
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

// RefLeft is the time left in the billing period the workspaces' rates are set
// for: the demo's period is about half gone (15 of 30 days), and PaceFor scales
// the rates when it is not exactly.
const RefLeft = 360 * time.Hour

// PaceFor returns the factor to apply to every rate so that, with left of the
// billing period to go, each workspace spends at the pace DefaultWorkspaces
// describes (pace is burn × time left ÷ credits left).
func PaceFor(left time.Duration) float64 {
	if left <= 0 {
		return 1
	}
	return min(max(float64(RefLeft)/float64(left), 0.25), 4)
}

// DefaultWorkspaces returns the six demo workspaces, set in a billing period
// about half gone (RefLeft to go). Paces are burn ÷ the rate that lasts exactly
// to the period's end, at the start:
//
//	acme-prod          35 %  ok; chat-heavy production traffic, pace ~0.6×
//	acme-staging       74.97 %  warn, crosses 75 % (high) within a few minutes;
//	                   light QA traffic, pace ~10×
//	globex             84.96 %  high; research jobs; auto-recharge adds 250,000
//	                   below 150,000 left (within ~5 min), which brings it back
//	                   to warn; pace ~12× before, ~4× after
//	initech            92 %  crit; chat only, pace ~15× (runs out in about a day)
//	umbrella-research  OUT: ran out two hours ago; no pre-flight, so its focus
//	                   groups and videos are refused with 402 credits_exhausted
//	hooli-ml           55 %  warn; draws from the account's pool; project
//	                   "training" (a tenth of its calls) reached its usage
//	                   limit 10 minutes before the start (402 budget_exceeded)
//	                   and its owner raises the limit by 27,000 a minute and
//	                   a half after the live refusals start: then training
//	                   is at 77 % of its limit (high: it sets hooli-ml's
//	                   level), pace under 20×, for about 20 hours
//
// No workspace can run out within hours at these paces: levels stay mixed
// however long the demo runs (a day or so), and pace stays under 20×.
func DefaultWorkspaces() []Workspace {
	chat, simple, moderate, complex := estimator.Chat, estimator.MaveSimple, estimator.MaveModerate, estimator.MaveComplex
	fg, video, bv := estimator.FocusGroup, estimator.Video, estimator.BrandVoice
	return []Workspace{
		{
			Name: "acme-prod", Note: "healthy production traffic",
			Allocation: 12_000_000, BudgetAlert: 9_000_000, Used: 4_200_000,
			Projects: []Project{{Name: "web"}, {Name: "mobile"}},
			Rate:     0.45, Preflight: true,
			Mix: []Share{{chat, 80}, {simple, 10}, {moderate, 5}, {complex, 2}, {fg, 2}, {bv, 1}},
		},
		{
			Name: "acme-staging", Note: "crosses the 75 % alert within minutes",
			Allocation: 50_000, Used: 37_485,
			Projects: []Project{{Name: "qa"}},
			Rate:     0.02, Preflight: true,
			Mix: []Share{{chat, 70}, {simple, 30}},
		},
		{
			Name: "globex", Note: "past 75 %; auto-recharge adds 250,000 below 150,000 left",
			Allocation: 1_000_000, RechargeBelow: 150_000, RechargeAmount: 250_000, Used: 849_600,
			Projects: []Project{{Name: "research"}},
			Rate:     0.015, Preflight: true,
			Mix: []Share{{chat, 25}, {moderate, 15}, {complex, 15}, {fg, 30}, {video, 15}},
		},
		{
			Name: "initech", Note: "past 90 %, runs out in about a day",
			Allocation: 200_000, Used: 184_400,
			Rate: 0.06, Preflight: true,
			Mix: []Share{{chat, 100}},
		},
		{
			Name: "umbrella-research", Note: "ran out; no pre-flight: refused with 402 credits_exhausted",
			Allocation: 30_000, Used: 29_980, RanOutAgo: 2 * time.Hour,
			Projects: []Project{{Name: "trials"}},
			Rate:     0.04, Preflight: false,
			Mix: []Share{{fg, 70}, {video, 30}},
		},
		{
			Name: "hooli-ml", Note: "project training at its limit: 402 budget_exceeded until the owner raises it",
			Allocation: 3_000_000, SharesAccount: true, Used: 1_650_000,
			Projects: []Project{
				// a tenth of the calls, model runs of many small steps (~1.3k
				// credits/h, no focus groups or videos: see Project.Mix): the
				// raise of 27,000 leaves it at 77 % of its limit (high, so it
				// sets the level) for about 20 hours at a pace under 20×
				{Name: "training", UsageLimit: 90_000, Used: 90_000, LimitAgo: 10 * time.Minute,
					RaiseBy: 27_000, RaiseAfter: 90 * time.Second, Weight: 1,
					Mix: []Share{{chat, 40}, {simple, 30}, {moderate, 20}, {complex, 10}}},
				{Name: "inference", Weight: 9},
			},
			Rate: 0.25, Preflight: true,
			Mix: []Share{{chat, 60}, {simple, 15}, {moderate, 10}, {complex, 5}, {fg, 8}, {video, 2}},
		},
	}
}
