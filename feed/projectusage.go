package feed

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// ReadLimitedProjects adds to res (a ReadWorkspaceSnapshot, which leaves out
// used_by) the used_by fields of every project with a usage limit in
// res.Snap.Budgets, so that a reader reporting per workspace judges those
// projects too (model.Ledger.Verdict): a project at 95 of its 100-credit
// limit is refused at 100 whatever its workspace has left. Nothing is read
// when no project has a limit. used_by is read after the snapshot's MULTI, so
// a project's figure may hold an event or two its workspace's does not yet;
// each budget is judged by its own counter. The error is Redis's.
func ReadLimitedProjects(ctx context.Context, c redis.UniversalClient, keys Keys, res *SnapshotResult) error {
	limited := map[string]bool{}
	for key, b := range res.Snap.Budgets {
		if b.Limit > 0 {
			limited[key] = true
		}
	}
	if len(limited) == 0 {
		return nil
	}
	m, err := c.HGetAll(ctx, keys.UsedBy(res.Snap.Period.Key)).Result()
	if err != nil {
		return fmt.Errorf("read used_by: %w", err)
	}
	if res.Snap.UsedBy == nil {
		res.Snap.UsedBy = map[string]int64{}
	}
	for f, n := range res.parseCounts("used_by", m, model.CleanUsedByField) {
		if ws, project, _, ok := model.SplitUsedByField(f); ok && limited[model.ProjectKey(ws, project)] {
			res.Snap.UsedBy[f] = n
		}
	}
	return nil
}
