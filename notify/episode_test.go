package notify

import (
	"context"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// An alert that resolved fires again when its condition holds again in the
// same billing period, as a new episode with an id of its own — every kind
// a workspace's settings, its projects' budgets and its 402s make — and each
// episode's firing and resolution reach the receiver exactly once, from two
// watchers (one restarted midway) and a dashboard that only records.
func TestEveryAlertKindFiresAgainAfterItResolved(t *testing.T) {
	srv, st, period := startStore(t)
	ctx := context.Background()
	rc := newReceiver(t)
	reFire := func(o *WatcherOptions) { o.Alert.ReFireAfter = 200 * time.Millisecond }
	startInstanceWith(t, srv, "watch-1", rc.srv.URL, reFire)
	w2 := startInstanceWith(t, srv, "watch-2", rc.srv.URL, reFire)
	startInstanceWith(t, srv, "dashboard", "", reFire)

	c := srv.Client()
	set := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	emit := func(e model.Event) {
		t.Helper()
		e.TS = time.Now().UnixMilli()
		if e.Endpoint == "" && e.Status != 0 {
			e.Endpoint = "/responses"
		}
		if err := pub.Track(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	spend := func(ws, project string, credits int64) {
		emit(model.Event{Workspace: ws, Project: project, Credits: credits, Status: 200})
	}
	settings := func(ws string, s model.Settings) {
		t.Helper()
		if err := set.SetWorkspace(ctx, ws, s); err != nil {
			t.Fatal(err)
		}
	}
	budget := func(ws, project string, b model.ProjectBudget) {
		t.Helper()
		if err := set.SetProject(ctx, ws, project, b); err != nil {
			t.Fatal(err)
		}
	}
	id := func(ws, project string, kind model.AlertKind, detail string, n int) string {
		return model.EpisodeID(model.AlertID(period, ws, project, kind, detail), n)
	}
	both := func(ids ...string) []string {
		var keys []string
		for _, id := range ids {
			keys = append(keys, id+"#firing", id+"#resolved")
		}
		return keys
	}
	firing := func(ids ...string) []string {
		var keys []string
		for _, id := range ids {
			keys = append(keys, id+"#firing")
		}
		return keys
	}

	// the lines, each on a workspace of its own (so each kind's episodes
	// are told apart), and a project's budget
	settings("thr", model.Settings{Allocation: 1000, Alerts: []int{50}})
	settings("alloc", model.Settings{Allocation: 1000, Alerts: []int{99}})
	settings("lim", model.Settings{UsageLimit: 1000, Alerts: []int{99}})
	settings("bud", model.Settings{BudgetAlert: 500})
	budget("proj", "p1", model.ProjectBudget{Limit: 1000, Alert: 500})

	// episode 1 fires
	spend("thr", "", 600)     // 60 % of 1,000
	spend("alloc", "", 1000)  // its whole allocation
	spend("lim", "", 1000)    // its usage limit
	spend("bud", "", 500)     // its budget alert
	spend("proj", "p1", 1000) // the project's alert, limit and thresholds
	emit(model.Event{Workspace: "ref", Status: 402, Code: model.CodeBudgetExceeded})
	first := []string{id("thr", "", model.AlertThreshold, "50", 1), id("alloc", "", model.AlertAllocation, "", 1),
		id("lim", "", model.AlertUsageLimit, "", 1), id("bud", "", model.AlertBudget, "", 1),
		id("proj", "p1", model.AlertProjectBudget, "", 1), id("proj", "p1", model.AlertProjectLimit, "", 1),
		id("proj", "p1", model.AlertThreshold, "50", 1), id("ref", "", model.AlertRefusals, model.CodeBudgetExceeded, 1)}
	waitFor(t, "every first episode fired", func() bool { return has(rc.keys(), firing(first...)...) })

	// and resolves: the lines raised, a call served
	settings("thr", model.Settings{Allocation: 2000, Alerts: []int{50}})
	settings("alloc", model.Settings{Allocation: 2000, Alerts: []int{99}})
	settings("lim", model.Settings{UsageLimit: 2000, Alerts: []int{99}})
	settings("bud", model.Settings{BudgetAlert: 1000})
	budget("proj", "p1", model.ProjectBudget{Limit: 4000, Alert: 2000})
	spend("ref", "", 1)
	waitFor(t, "every first episode resolved", func() bool { return has(rc.keys(), both(first...)...) })
	waitFor(t, "every delivery recorded", func() bool { return notifytest.Settled(ctx, st, period) })

	// one watcher restarts: it reads the episodes from the store
	w2.stop()
	startInstanceWith(t, srv, "watch-2b", rc.srv.URL, reFire)

	// the conditions hold again: episode 2 fires
	spend("thr", "", 500)     // 1,100 of 2,000: 55 %
	spend("alloc", "", 1000)  // 2,000 of 2,000
	spend("lim", "", 1000)    // 2,000 of 2,000
	spend("bud", "", 500)     // 1,000 of 1,000
	spend("proj", "p1", 1000) // 2,000: its alert and 50 % of 4,000
	emit(model.Event{Workspace: "ref", Status: 402, Code: model.CodeBudgetExceeded})
	second := []string{id("thr", "", model.AlertThreshold, "50", 2), id("alloc", "", model.AlertAllocation, "", 2),
		id("lim", "", model.AlertUsageLimit, "", 2), id("bud", "", model.AlertBudget, "", 2),
		id("proj", "p1", model.AlertProjectBudget, "", 2), id("proj", "p1", model.AlertThreshold, "50", 2),
		id("ref", "", model.AlertRefusals, model.CodeBudgetExceeded, 2)}
	waitFor(t, "every second episode fired", func() bool { return has(rc.keys(), firing(second...)...) })
	spend("proj", "p1", 2000) // 4,000: the project's limit again
	second = append(second, id("proj", "p1", model.AlertProjectLimit, "", 2))
	waitFor(t, "the project's limit's second episode fired", func() bool { return has(rc.keys(), firing(second...)...) })

	// and resolves
	settings("thr", model.Settings{Allocation: 4000, Alerts: []int{50}})
	settings("alloc", model.Settings{Allocation: 4000, Alerts: []int{99}})
	settings("lim", model.Settings{UsageLimit: 4000, Alerts: []int{99}})
	settings("bud", model.Settings{BudgetAlert: 4000})
	budget("proj", "p1", model.ProjectBudget{Limit: 20000, Alert: 20000})
	spend("ref", "", 1)
	waitFor(t, "every second episode resolved", func() bool { return has(rc.keys(), both(second...)...) })

	// settled: each transition of each episode arrived once, nothing else
	recs := settledAll(t, st, period, len(first)+len(second), second...)
	once(t, rc, recs)
	inOrder(t, rc)
	for _, k := range both(append(first, second...)...) {
		if n := rc.keys()[k]; n != 1 {
			t.Errorf("%s arrived %d times, want once", k, n)
		}
	}
	// no third episode: no condition held a third time
	for id := range recs {
		if _, n := model.SplitEpisode(id); n > 2 {
			t.Errorf("%s: a third episode", id)
		}
	}
}

// Redis goes away twice in one billing period: feed_stale fires and
// resolves each time, the second time as episode 2, announced by the
// watcher on its own while Redis is away (as the first) and recorded once it
// is back; each transition arrives once.
func TestFeedStaleFiresAgainAtASecondOutage(t *testing.T) {
	srv, rc, period, stale := startStale(t)
	startInstanceWith(t, srv, "w", rc.srv.URL, func(o *WatcherOptions) {
		o.Alert.Stale, o.Alert.ReFireAfter = 300*time.Millisecond, 100*time.Millisecond
	})
	st := feed.NewAlertStore(srv.Client(), "")
	second := model.EpisodeID(stale, 2)
	for _, ep := range []string{stale, second} {
		srv.Kill()
		waitFor(t, ep+" firing while Redis is down", func() bool { return rc.keys()[ep+"#firing"] == 1 })
		srv.Restart()
		waitFor(t, ep+" resolved once Redis is back", func() bool { return rc.keys()[ep+"#resolved"] == 1 })
		waitFor(t, ep+" recorded", func() bool {
			recs, _, err := st.Load(context.Background(), period)
			return err == nil && recs[ep].Status == model.AlertResolved && notifytest.Settled(context.Background(), st, period)
		})
	}
	recs := settledAll(t, st, period, 2, stale, second)
	once(t, rc, recs)
	inOrder(t, rc)
}
