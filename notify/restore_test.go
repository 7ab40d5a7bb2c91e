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

// Redis comes back from an older copy and nobody writes since (the stream
// ends before what was read), while its alert hash holds a resolution
// decided at a stream id the copy never reached: the claim of an instance
// whose cycle began before the restart and wrote after it (the restored
// record was firing, so the claim went through). acme's 50 % alert holds
// again on the restored counters (600 of 1,000: the raise that resolved it
// was lost). The resolution ahead of the stream no longer holds the next
// episode back until a new event's id passes it (the re-fire rule's "read
// as far as the one that resolved it": that history is gone): the watcher
// fires threshold/50~2 with no event written since the restart.
func TestARestoredRedisFiresTheNextEpisodeOfAResolutionAheadOfIt(t *testing.T) {
	srv := feedtest.StartReal(t, "needs redis-server to restart onto older data")
	rc := newReceiver(t)
	ctx := context.Background()
	c := srv.Client()
	period := model.MonthlyUTC.At(time.Now()).Key
	u := notifytest.NewUsage(t, c)
	u.Set("acme", model.Settings{Allocation: 1000})
	u.Spend("acme", 600)
	startInstanceWith(t, srv, "w", rc.srv.URL, func(o *WatcherOptions) { o.Alert.ReFireAfter = -1 })
	st := feed.NewAlertStore(c, "")
	base := notifytest.ThresholdID(period, "acme", "50")
	settledAll(t, st, period, 1, base)
	older := srv.CopyData()                         // 50 % firing, the stream at its end then
	u.Set("acme", model.Settings{Allocation: 2000}) // 30 %: 50 % resolves
	var resolved feed.StoredAlert
	waitFor(t, "the 50 % alert resolved", func() bool {
		recs, _, err := st.Load(ctx, period)
		resolved = recs[base]
		return err == nil && resolved.Status == model.AlertResolved && rc.keys()[base+"#resolved"] == 1
	})
	srv.RestartFrom(older)
	end, err := st.StreamEnd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if model.CompareStreamIDs(resolved.ResolvedStream, end) <= 0 {
		t.Fatalf("fixture: the resolution at %s is not ahead of the restored stream's end %s", resolved.ResolvedStream, end)
	}
	// the late claim: the resolution written into the restored hash
	tr := model.AlertTransition{Alert: resolved.Alert, Status: model.AlertResolved, At: resolved.ResolvedAt, Stream: resolved.ResolvedStream}
	if ok, err := st.Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{Delivered: true}); err != nil || !ok {
		t.Fatalf("the late claim of the resolution: %v %v", ok, err)
	}
	next := model.EpisodeID(base, 2)
	waitFor(t, "the next episode of the 50 % alert, with no event since the restart", func() bool {
		recs, _, err := st.Load(ctx, period)
		return err == nil && recs[next].Status == model.AlertFiring && rc.keys()[next+"#firing"] == 1
	})
	if now, err := st.StreamEnd(ctx); err != nil || now != end {
		t.Fatalf("the stream moved after the restart (%s to %s, %v): the episode may have waited for it", end, now, err)
	}
}
