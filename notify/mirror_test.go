package notify

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// stored returns the entries of in keyed by alert id, as stored records.
func (in *instance) stored() map[string]feed.StoredAlert {
	out := map[string]feed.StoredAlert{}
	for _, e := range in.w.Entries() {
		out[e.Alert.ID] = *e.StoredAlert
	}
	return out
}

// nextCycle waits until in has run a whole cycle that began after now:
// what the store held when nextCycle was called is what that cycle read.
func (in *instance) nextCycle(t *testing.T) {
	t.Helper()
	c := in.w.cycles.Load()
	waitFor(t, "two more cycles", func() bool { return in.w.cycles.Load() >= c+2 })
}

// A watcher reads the shared lifecycle by what changed, yet sees every
// change another instance makes in the first cycle after it: a watcher
// with a sink claims and delivers (claims, leases, results), another
// instance takes a delivery over and reports on it, and after each write the
// watcher without sinks shows exactly what a full read of the store holds.
// A hand edit (redis-cli HSET) bypasses the store's version and is not seen
// by the reads of what changed; a reconnect (Redis restarted) makes the
// watcher read the lifecycle whole, and it shows the edit at once.
func TestAWatcherSeesEveryChangeOfAnotherInstanceInOneCycle(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	st := feed.NewAlertStore(srv.Client(), "")
	period := model.MonthlyUTC.At(time.Now()).Key
	rc := newReceiver(t)
	usage := notifytest.NewUsage(t, srv.Client())
	usage.Set("acme", model.Settings{Allocation: 1000})
	usage.Set("beta", model.Settings{Allocation: 1000})
	sender := startInstance(t, srv, "sender", rc.srv.URL)
	dash := startInstance(t, srv, "dashboard", "")
	usage.Spend("acme", 800)
	usage.Spend("beta", 600)
	fired := []string{notifytest.ThresholdID(period, "acme", "50"), notifytest.ThresholdID(period, "acme", "75"), notifytest.ThresholdID(period, "beta", "50")}
	settledAll(t, st, period, 3, fired...)
	sender.stop()
	same := func(what string) map[string]feed.StoredAlert {
		t.Helper()
		dash.nextCycle(t)
		want, _, err := st.Load(ctx, period)
		if err != nil {
			t.Fatal(err)
		}
		if got := dash.stored(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the dashboard shows %d alerts:\n%+v\nthe store holds %d:\n%+v", what, len(got), got, len(want), want)
		}
		return want
	}
	same("delivered by the sender")
	fullBefore := dash.w.mirror.FullReads()
	// another instance reopens, takes over and reports, one write a cycle
	now := time.Now()
	for i, id := range fired {
		lease := now.Add(time.Duration(i+1) * time.Hour)
		rec := same("before " + id)[id]
		if _, _, ok, err := st.TakeDelivery(ctx, period, id, 0, "other", now, lease); ok || err != nil {
			t.Fatalf("took a done delivery of %s: %v %v", id, ok, err)
		}
		a := rec.Alert
		a.Used = 1000 + int64(i)
		tr := model.AlertTransition{Alert: a, Status: model.AlertResolved, At: now}
		if ok, err := st.Claim(ctx, tr, "resolved elsewhere", feed.ClaimOptions{Owner: "other", LeaseUntil: lease}); !ok || err != nil {
			t.Fatalf("claim the resolution of %s: %v %v", id, ok, err)
		}
		got := same("resolution of " + id + " claimed by another")[id]
		if got.Status != model.AlertResolved || got.Deliveries[1].Owner != "other" {
			t.Fatalf("%s: %+v", id, got)
		}
		if ok, err := st.Report(ctx, period, id, 1, "other", map[string]feed.SinkResult{"hook": {Result: feed.ResultRetrying, Attempts: i + 1, Err: "503"}}, false, lease); !ok || err != nil {
			t.Fatalf("report on %s: %v %v", id, ok, err)
		}
		same("a result of " + id + " reported by another")
	}
	if full := dash.w.mirror.FullReads(); full != fullBefore {
		t.Fatalf("the dashboard read the lifecycle in full %d times while another instance wrote, want none: each change read by itself", full-fullBefore)
	}

	// a hand edit of one delivery's summary: not seen by what changed...
	id := fired[0]
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		t.Fatal(err)
	}
	rec := recs[id]
	rec.Deliveries[1].Summary = "edited by hand"
	b, err := json.Marshal(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Client().HSet(ctx, feed.Keys{}.Alerts(period), id, b).Err(); err != nil {
		t.Fatal(err)
	}
	dash.nextCycle(t)
	if s := dash.stored()[id].Deliveries[1].Summary; s != "resolved elsewhere" {
		t.Fatalf("a hand edit was seen before a full read: %q (full reads %d, before %d)", s, dash.w.mirror.FullReads(), fullBefore)
	}
	// ...but by the full read after a reconnect
	srv.Restart()
	waitFor(t, "the dashboard to read the lifecycle again after the restart", func() bool {
		return dash.stored()[id].Deliveries[1].Summary == "edited by hand"
	})
	same("after the restart")
}
