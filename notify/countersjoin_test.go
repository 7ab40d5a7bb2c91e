package notify

import (
	"context"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// A watcher that joins its hub after the hub's first reading of the Pattern
// 1 counters gets the hub's ledger as a LedgerMsg, not the SnapshotMsg that
// said where the counters come from. Before, it took itself for one
// following the stream: its records' positions, Redis's clock of another
// instance's readings (model.ReadPosition), were compared with the stream's
// end, found ahead of it ("Redis came back older") and cleared, so it
// resolved at once what a faster instance had just fired on a reading
// newer than any of its own — late, which it had not read yet, as "its
// line was removed from the settings", and cool, read under the line before
// it crossed, as "back under 50 %" (cmd's TestInstancesThatDifferInSourceDoNotFight
// flaked so under load: 1 run in 30 with two busy loops on 2 cores). Each
// record waits until this ledger has read as far as the reading that fired
// it, then resolves: the hold is the lifecycle rule's, not a watcher stuck.
func TestAWatcherJoiningAfterTheCountersWereReadResolvesNothingNewer(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	st := feed.NewAlertStore(srv.Client(), "")
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	at := func(d time.Duration) string { // a server time, as a counters reading carries it
		t := now.Add(d)
		return model.ServerTimeID(t.Unix(), int64(t.Nanosecond()/1000))
	}
	hub := feed.NewHub()
	hub.Handle(&feed.ConnMsg{State: feed.Connected, Since: now.Add(-time.Minute)})
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Rule: model.MonthlyUTC, At: now, Reason: feed.ReasonStart, Source: feed.CounterLabel,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(now), Read: model.ReadPosition{From: at(-3 * time.Second), To: at(-2 * time.Second)},
			Used: map[string]int64{"cool": 100}, Settings: map[string]model.Settings{"cool": {Allocation: 1000}}}})
	select {
	case <-hub.Seeded():
	default:
		t.Fatal("fixture: the hub did not take the snapshot")
	}
	// what another instance fired on its reading a second later: late's
	// settings and counter written, cool's counter at 950 (both 950 of 1,000)
	fired := at(-time.Second)
	var ids []string
	for _, ws := range []string{"late", "cool"} {
		tr := model.AlertTransition{Status: model.AlertFiring, At: now, Stream: fired,
			Alert: model.Alert{ID: notifytest.ThresholdID(period, ws, "50"), Period: period, Workspace: ws, Kind: model.AlertThreshold,
				Threshold: 50, Cap: 1000, Used: 950, PercentUsed: 95, Condition: model.ConditionHolds}}
		if ok, err := st.Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{Delivered: true}); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", tr.Alert.ID, ok, err)
		}
		ids = append(ids, tr.Alert.ID)
	}

	// its first cycle reads both records (claimed before it started)
	tenCycles(t, hub, st, "behind")
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if r := recs[id]; r.Status != model.AlertFiring {
			t.Errorf("%s is %s by a watcher whose newest reading began before the one that fired it: %q", id, r.Status,
				r.Deliveries[len(r.Deliveries)-1].Summary)
		}
	}

	// a reading begun after the one that fired: late has no line (it is no
	// longer alerted on), cool is back under 50 %
	hub.Handle(&feed.BatchMsg{Gen: 1, Read: model.ReadPosition{From: at(0), To: at(time.Millisecond)}})
	waitFor(t, "both resolved once the watcher's ledger read as far", func() bool {
		recs, _, err := st.Load(ctx, period)
		return err == nil && recs[ids[0]].Status == model.AlertResolved && recs[ids[1]].Status == model.AlertResolved
	})
}

// Before its first reading a watcher does not know whether positions are
// stream ids or Redis's clock: one that took them for stream ids cleared
// those ahead of the stream's end (here there is none) and resolved, still
// connecting, the feed_stale alert another instance on the counters fired
// a moment ago. It holds it until it has read as far.
func TestAWatcherThatReadNothingYetResolvesNothingNewer(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	st := feed.NewAlertStore(srv.Client(), "")
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	hub := feed.NewHub()
	hub.Handle(&feed.ConnMsg{State: feed.Connecting, Since: now})
	fired := model.ServerTimeID(now.Unix(), int64(now.Nanosecond()/1000))
	tr := model.AlertTransition{Status: model.AlertFiring, At: now, Stream: fired,
		Alert: model.Alert{ID: model.AlertID(period, "", "", model.AlertStale, ""), Period: period, Kind: model.AlertStale,
			Level: model.LevelCritical, Down: 6 * time.Minute, Condition: model.ConditionHolds}}
	if ok, err := st.Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{Delivered: true}); err != nil || !ok {
		t.Fatalf("claim %s: %v %v", tr.Alert.ID, ok, err)
	}
	tenCycles(t, hub, st, "starting")
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	if r := recs[tr.Alert.ID]; r.Status != model.AlertFiring {
		t.Errorf("%s is %s by a watcher that read nothing yet: %q", tr.Alert.ID, r.Status, r.Deliveries[len(r.Deliveries)-1].Summary)
	}
}

// tenCycles runs a watcher named instance on hub and st (a cycle every 20
// ms, stopped by t.Cleanup) and waits for its tenth cycle.
func tenCycles(t *testing.T, hub *feed.Hub, st *feed.AlertStore, instance string) {
	t.Helper()
	w := NewWatcher(WatcherOptions{Hub: hub, Store: st, Instance: instance, Every: 20 * time.Millisecond, Lease: 3 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "ten cycles", func() bool { return w.cycles.Load() >= 10 })
}
