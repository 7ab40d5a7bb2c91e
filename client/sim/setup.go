package sim

import (
	"context"
	"errors"
	"fmt"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/model"
)

// DemoKey is the API key the demo's simulated applications use against the sandbox.
const DemoKey = "mvra_live_demo0000000000000000000000sim"

// DemoRateLimit is the demo account's requests per minute: room for the paced
// traffic and its polls; stress mode runs into it, as it should.
const DemoRateLimit = 1200

// DemoJobSpeed shortens asynchronous jobs in the demo (a 60–90 s focus group
// takes 6–9 s, a video analysis 12–60 s) so a newcomer sees them finish.
const DemoJobSpeed = 10

// SandboxConfig returns the sandbox configuration the demo uses; the caller adds
// the clock and the OnRecharge hook (see RechargeHook).
func SandboxConfig(seed uint64) sandbox.Config {
	return sandbox.Config{Seed: seed, Plan: "enterprise", RateLimit: DemoRateLimit, JobSpeed: DemoJobSpeed}
}

// Setup configures key's account and the workspaces in the sandbox: pools,
// limits, project budgets, auto-recharge.
func Setup(sb *sandbox.Sandbox, key string, wss []Workspace) error {
	acct := sandbox.AccountConfig{RateLimit: DemoRateLimit}
	shared := 0
	for _, w := range wss {
		if w.SharesAccount {
			shared++
			acct.Allocation = w.Allocation
			if w.RechargeAmount > 0 {
				acct.AutoRecharge = sandbox.AutoRecharge{Enabled: true, Threshold: w.RechargeBelow, Amount: w.RechargeAmount}
			}
		}
	}
	if shared > 1 {
		return errors.New("sim: at most one workspace may share the account's pool")
	}
	if err := sb.ConfigureAccount(key, acct); err != nil {
		return err
	}
	for _, w := range wss {
		if !model.IsID(w.Name) {
			return fmt.Errorf("sim: workspace name %q is not a valid id", w.Name)
		}
		cfg := sandbox.WorkspaceConfig{ID: w.Name, UsageLimit: w.UsageLimit, BudgetAlert: w.BudgetAlert,
			Projects: map[string]sandbox.ProjectConfig{}}
		if !w.SharesAccount {
			cfg.Allocation = w.Allocation
			if w.RechargeAmount > 0 {
				cfg.AutoRecharge = sandbox.AutoRecharge{Enabled: true, Threshold: w.RechargeBelow, Amount: w.RechargeAmount}
			}
		}
		for _, p := range w.Projects {
			cfg.Projects[p.Name] = sandbox.ProjectConfig{UsageLimit: p.UsageLimit, BudgetAlert: p.BudgetAlert}
		}
		if err := sb.ConfigureWorkspace(key, cfg); err != nil {
			return err
		}
	}
	return nil
}

// RechargeHook returns a sandbox OnRecharge hook that publishes each recharge as a
// kind=recharge event (Pattern 5), so the feed raises the workspace's cap. Errors go
// to onErr (may be nil).
func RechargeHook(t client.Tracker, clock client.Clock, onErr func(error)) func(ws string, amount int64) {
	return func(ws string, amount int64) {
		e := model.Event{Kind: model.KindRecharge, TS: clock.Now().UnixMilli(), Workspace: ws, Credits: amount}
		if err := t.Track(context.Background(), e); err != nil && onErr != nil {
			onErr(fmt.Errorf("publish recharge of %s: %w", ws, err))
		}
	}
}
