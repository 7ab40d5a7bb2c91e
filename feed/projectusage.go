package feed

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// ReadLimitedProjects adds to res (a ReadWorkspaceSnapshot, which leaves out
// used_by) the used_by fields of every project with a usage limit in
// res.Snap.Budgets, or whose budget cannot be read (model.ProjectBudget.Judged:
// it may have one), so that a reader reporting per workspace judges those
// projects too (model.Ledger.Verdict): a project at 95 of its 100-credit
// limit is refused at 100 whatever its workspace has left, and one whose
// budget cannot be read shows its 95 credits used, not 0. Nothing is read
// when no project is judged. used_by is read after the snapshot's MULTI, so
// a project's figure may hold an event or two its workspace's does not yet;
// each budget is judged by its own counter.
//
// used_by is walked with HSCAN, limitedPage fields a call, and only the
// fields of limited projects are kept: with a limit on any project check read
// the whole hash (1.2M fields at 100k workspaces) into one map, in one reply
// that outlasted the read timeout on a busy machine. A field HSCAN returns
// twice (the hash rehashed meanwhile) is counted once. A used_by key of
// another type is named in res.BadKeys, as the snapshot's read names one. The
// error is Redis's.
func ReadLimitedProjects(ctx context.Context, c redis.UniversalClient, keys Keys, res *SnapshotResult) error {
	limited := map[string]bool{}
	for key, b := range res.Snap.Budgets {
		if b.Judged() {
			limited[key] = true
		}
	}
	if len(limited) == 0 {
		return nil
	}
	if res.Snap.UsedBy == nil {
		res.Snap.UsedBy = map[string]int64{}
	}
	key := keys.UsedBy(res.Snap.Period.Key)
	seen := map[string]string{} // the raw fields kept, with their value
	var cursor uint64
	for {
		kv, next, err := c.HScan(ctx, key, cursor, "", limitedPage).Result()
		if isKeyRefusal(err) {
			// the data's fault (or the ACL's), as in the snapshot's read: the
			// key named, its figures unknown (SnapshotResult.BadKeys), not a
			// read error
			res.wrongKeys(ctx, c, keys, []keyRefusal{{key, err}})
			return nil
		}
		if err != nil {
			return fmt.Errorf("read used_by: %w", err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			// the raw field's workspace and project, before any cleaning:
			// a limited project's are ids, which cleaning keeps as they are
			if limited[usedByProjectKey(kv[i])] {
				seen[kv[i]] = kv[i+1]
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	counts, bad := res.parseCounts("used_by", seen, model.CleanUsedByField)
	for f, n := range counts {
		if ws, project, _, ok := model.SplitUsedByField(f); ok && limited[model.ProjectKey(ws, project)] {
			res.Snap.UsedBy[f] = n
		}
	}
	// a limited project's credits that cannot be read: its workspace is
	// unknown, as the dashboard judges it (one judgement)
	for key, why := range unreadableProjects(bad) {
		res.Snap.MarkProjectUnreadable(key, why)
	}
	return nil
}

// limitedPage is HSCAN's COUNT in ReadLimitedProjects: a reply of a few
// hundred kB, a millisecond or two of the server's time.
const limitedPage = 10_000

// usedByProjectKey is model.ProjectKey of a used_by field's workspace and
// project (model.SplitUsedByField), "" when the field has none: the field up
// to its second "/", a part of it, where ProjectKey's concatenation made a
// string for each of the 1.2M fields HSCAN walks at 100k workspaces.
func usedByProjectKey(f string) string {
	first := strings.IndexByte(f, '/')
	if first <= 0 { // no workspace
		return ""
	}
	second := strings.IndexByte(f[first+1:], '/')
	if second < 0 {
		return ""
	}
	return f[:first+1+second]
}
