package model

import (
	"testing"
	"time"
)

// Which limit refused a 402 a workspace's raise would end, judged with the
// workspace's limit the raise replaced (limit_raised_from) and the project's
// as it stands: cases from a hostile review of ac2bf4c (hostile25), each
// failing at ac2bf4c, where a project's raised_from was taken too.

// R1 (failed at ac2bf4c): a project's raised_from is kept by every later edit
// and used as "the limit in force" for any 402, even one given long after
// that raise. pj's own limit was raised 200 -> 1,000 long ago (raised_from
// 200 kept). pj at 250 of its 1,000; the workspace at 600 of its 600 refuses
// pj (402); the workspace's limit is raised 600 -> 700 (stamped, from 600).
// Judged with pl=200 (stale), 250 >= 200: "pj's own limit refused", the
// workspace's stamp is not taken, the 402 stands: limit reached for a project
// at 250 of 1,000 in a workspace at 600 of 700. Before ac2bf4c (pl=1000:
// 750 left, not nearer than 100) the raise ended it. The guard (same without
// the old raised_from) ends it.
func TestLimitFromStaleProjectRaisedFrom(t *testing.T) {
	steps := func(from int64) []h24step {
		return []h24step{
			h24settings(Settings{Allocation: 100000, UsageLimit: 600}),
			h24budget(ProjectBudget{Limit: 1000, RaisedFrom: from}, 0, true), // raised 200->1000 long before (guard: from unknown)
			h24charge("", 350),
			h24charge(h24pj, 250),
			h24limit402(h24pj), // the workspace at 600 of 600 refuses
			h24limitStamped(Settings{Allocation: 100000, UsageLimit: 700, LimitRaisedFrom: 600}, 0),
		}
	}
	guard := h24paths(t, steps(0))
	want := guard["4 check"]
	if want.Reached {
		t.Fatalf("guard (no raised_from): want not reached, got:%s", h24report(guard))
	}
	h24expect(t, h24paths(t, steps(200)), want)
}

// R2 (failed at ac2bf4c): raised_from larger than the limit now (a raise
// 3,000 -> 5,000, then lowered to 1,000: a lower does not stamp, the store
// keeps raised_at and raised_from). pj at 990 of its own 1,000 is refused by
// its own limit (10 left; the workspace has 500 left of 2,000). The
// workspace's limit is raised 2,000 -> 30,000 (stamped). Judged with pl=3,000
// (stale), the workspace's limit "refused" (2,010 left vs 500): its stamp ends
// pj's 402 though pj's own limit, never raised since, still refuses its calls.
// Before ac2bf4c (pl=1,000) the 402 stood.
func TestLimitFromRaisedFromAboveTheLoweredLimit(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000, UsageLimit: 2000}),
		h24budget(ProjectBudget{Limit: 5000, RaisedFrom: 3000}, 0, true),               // raised 3000 -> 5000
		h24budget(ProjectBudget{Limit: 1000, RaisedFrom: 3000}, -10*time.Second, true), // lowered: stamp and from kept
		h24charge("", 510),
		h24charge(h24pj, 990),
		h24limit402(h24pj), // pj's own limit: 10 left < 500
		h24limitStamped(Settings{Allocation: 100000, UsageLimit: 30000, LimitRaisedFrom: 2000}, 0),
	})
	h24expect(t, paths, h24verdict{Level: LevelCritical, Reached: true})
}

// R4 (failed at ac2bf4c): exactKeys' key lists were not given the new keys,
// so a key that is limit_raised_from / raised_from in another case is read by
// encoding/json (case-insensitively) instead of refused as "USAGE_LIMIT" is,
// while a reader that looks keys up exactly (Python) ignores it.
func TestLimitFromNewKeysNotMatchedExactly(t *testing.T) {
	if _, err := DecodeSettings(`{"usage_limit":1000,"USAGE_LIMIT":10}`); err == nil {
		t.Fatal("guard: USAGE_LIMIT should be refused")
	}
	s, err := DecodeSettings(`{"usage_limit":10000,"limit_raised_at":1,"LIMIT_RAISED_FROM":500}`)
	if err == nil {
		t.Errorf("LIMIT_RAISED_FROM accepted, read as limit_raised_from=%d; want refused as keys are matched exactly", s.LimitRaisedFrom)
	}
	b, err := DecodeBudget(`{"usage_limit":1000,"raised_at":1,"Raised_From":200}`)
	if err == nil {
		t.Errorf("Raised_From accepted, read as raised_from=%d; want refused", b.RaisedFrom)
	}
}

// R2' (failed at ac2bf4c): the same stale raised_from left by a project limit
// removed (1,000 -> none, stamped, raised_from 1,000) and set again to 200 (a
// limit set is no raise: stamp and raised_from kept). pj at 195 of its 200 is
// refused by its own limit; the workspace (1,500 of 2,000) is raised to
// 30,000. Judged with pl=1,000, the workspace's limit "refused": the 402 ends.
func TestLimitFromProjectLimitRemovedAndSetAgain(t *testing.T) {
	paths := h24paths(t, []h24step{
		h24settings(Settings{Allocation: 100000, UsageLimit: 2000}),
		h24budget(ProjectBudget{Limit: 1000}, 0, false),
		h24budget(ProjectBudget{RaisedFrom: 1000}, 0, true),                           // removed: stamped
		h24budget(ProjectBudget{Limit: 200, RaisedFrom: 1000}, -10*time.Second, true), // set again: kept
		h24charge("", 1305),
		h24charge(h24pj, 195),
		h24limit402(h24pj), // pj's own: 5 left < 500
		h24limitStamped(Settings{Allocation: 100000, UsageLimit: 30000, LimitRaisedFrom: 2000}, 0),
	})
	h24expect(t, paths, h24verdict{Level: LevelCritical, Reached: true})
}
