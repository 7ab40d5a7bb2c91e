package feed

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAnUnreadableCounterIsHealedOnceNotEveryAudit: a 402 count or a
// usage-limited project's used_by field set behind mavtop's back to a value
// that is no integer ≥ 0 ("-3", text) makes the workspace unknown at the next
// audit, once: the audits after it (quick, digest, scan and full reads) agree
// with what is shown and re-read nothing (before, a negative 402 count was
// taken as −3 and an unreadable used_by field skipped: the project read 0).
// A good value heals it at once. A broken used_by field of a project without
// a usage limit judges nothing: the workspace stays known, the project is
// listed with its credits unknown. A dashboard
// started on such a Redis (its used_by read after the first frame) judges it
// as the one that followed along, and does not flap either.
func TestAnUnreadableCounterIsHealedOnceNotEveryAudit(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	period := model.MonthlyUTC.At(time.Now()).Key
	store := NewSettingsStore(c, StoreOptions{})
	pub := NewPublisher(c, PublisherOptions{})
	if err := store.SetWorkspace(ctx, "alpha", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := store.SetProject(ctx, "alpha", "p1", model.ProjectBudget{Limit: 100_000}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []model.Event{
		{Workspace: "alpha", Project: "p1", Endpoint: "/responses", Credits: 800, Status: 200},
		{Workspace: "alpha", Project: "p2", Endpoint: "/responses", Credits: 100, Status: 200},
		{Workspace: "alpha", Project: "p2", Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded},
	} {
		if err := pub.Track(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 50 * time.Millisecond, StatsEvery: 25 * time.Millisecond, fullEvery: 2})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil && !f.ledger.UsedByPending() })
	audits := func(f *follower) int64 {
		f.mu.Lock()
		defer f.mu.Unlock()
		if st := f.lastStats(); st != nil {
			return st.Audits
		}
		return 0
	}
	rereads := func(f *follower) int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.snaps)
	}
	// judged is what l knows of alpha: whether a figure of it is unknown
	// (its own level, or a limited project's: each figure on its own), and
	// every reason
	judged := func(l *model.Ledger) (unknown bool, why string) {
		s, _ := l.Summary("alpha")
		unknown, why = s.Level == model.LevelUnknown, s.Unreadable+s.RefusedUnreadable
		for _, p := range l.Projects("alpha") {
			if p.Status.Unreadable != "" && p.Budget.Judged() {
				// an unlimited project's credits that cannot be read are
				// listed (below) but judge nothing
				unknown, why = true, why+p.Status.Unreadable
			}
		}
		return unknown, why
	}
	// steady waits for the follower to judge alpha as want says, then for
	// eight audits more (four full ones), and checks none of them re-read
	steady := func(f *follower, what string, unknown bool, why string, n0 int) {
		t.Helper()
		f.waitFor(what, 30*time.Second, func(f *follower) bool {
			if len(f.snaps) <= n0 {
				return false // Redis changed: one re-read, then none
			}
			if f.ledger == nil || f.ledger.UsedByPending() {
				return false
			}
			u, w := judged(f.ledger)
			return u == unknown && strings.Contains(w, why)
		})
		n, a := rereads(f), audits(f)
		f.waitFor(what+": eight audits more", 30*time.Second, func(f *follower) bool {
			st := f.lastStats()
			return st != nil && st.Audits >= a+8
		})
		if got := rereads(f); got != n {
			f.mu.Lock()
			t.Errorf("%s: %d re-reads in the eight audits after it, want none (%v)", what, got-n, f.snaps[n:])
			f.mu.Unlock()
		}
		f.mu.Lock()
		u, w := judged(f.ledger)
		s, _ := f.ledger.Summary("alpha")
		f.mu.Unlock()
		if u != unknown || !strings.Contains(w, why) {
			t.Errorf("%s: alpha %v, unknown %v (%q) after eight audits", what, s.Level, u, w)
		}
		if u && s.Level == model.LevelUnknown && !strings.Contains(why, `"used:`) && !strings.Contains(why, `"recharged:`) {
			t.Errorf("%s: alpha's own level unknown (%q): its usage is known", what, s.Unreadable)
		}
	}
	steady(f, "the start", false, "", 0)
	for _, step := range []struct {
		what, key, field, value string
		unknown                 bool
		why                     string
	}{
		{"a negative 402 count (only the 402s unknown)", keys.Refused(period), model.RefusedField("alpha", "p2", model.CodeBudgetExceeded), "-3", false, `"refused:alpha/p2/budget_exceeded" cannot be read (-3 is negative)`},
		{"the 402 count healed", keys.Refused(period), model.RefusedField("alpha", "p2", model.CodeBudgetExceeded), "2", false, ""},
		{"a limited project's used_by as text", keys.UsedBy(period), model.UsedByField("alpha", "p1", "/responses"), "lots", true, `"used_by:alpha/p1//responses" cannot be read ("lots" is not an integer)`},
		{"the used_by healed", keys.UsedBy(period), model.UsedByField("alpha", "p1", "/responses"), "800", false, ""},
		{"a limited project's used_by negative", keys.UsedBy(period), model.UsedByField("alpha", "p1", "/responses"), "-800", true, `"used_by:alpha/p1//responses" cannot be read (-800 is negative)`},
		{"the used_by healed again", keys.UsedBy(period), model.UsedByField("alpha", "p1", "/responses"), "800", false, ""},
		{"an unlimited project's used_by as text", keys.UsedBy(period), model.UsedByField("alpha", "p2", "/responses"), "lots", false, ""},
	} {
		n0 := rereads(f)
		if err := c.HSet(ctx, step.key, step.field, step.value).Err(); err != nil {
			t.Fatal(err)
		}
		steady(f, step.what, step.unknown, step.why, n0)
	}
	// the unlimited project is listed all the same, its credits unknown
	// and named (hostile review #3: it vanished from every list)
	f.mu.Lock()
	listed := false
	for _, p := range f.ledger.Projects("alpha") {
		listed = listed || p.Name == "p2" && strings.Contains(p.Budget.UsageUnreadable, `"used_by:alpha/p2//responses" cannot be read`)
	}
	f.mu.Unlock()
	if !listed {
		t.Errorf("p2, whose used_by cannot be read, is not listed with its credits unreadable")
	}
	if s, _ := f.ledgerSummary("alpha"); s.Used != 900 || s.Refused[model.ClassOf(model.CodeBudgetExceeded)] != 2 {
		t.Errorf("alpha healed: used %d, 402s %v; want 900 and 2 as Redis holds", s.Used, s.Refused)
	}

	// a dashboard started on it: used_by comes after the first frame
	n0 := rereads(f)
	if err := c.HSet(ctx, keys.UsedBy(period), model.UsedByField("alpha", "p1", "/responses"), "+5").Err(); err != nil {
		t.Fatal(err)
	}
	late := startFollower(t, c, SubscriberOptions{AuditEvery: 50 * time.Millisecond, StatsEvery: 25 * time.Millisecond, fullEvery: 2})
	steady(late, "a start on a broken used_by", true, `"used_by:alpha/p1//responses" cannot be read ("+5" is not an integer)`, 0)
	steady(f, "the follower beside it", true, `"used_by:alpha/p1//responses" cannot be read ("+5" is not an integer)`, n0)
}
