package notify

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// Through the whole path (a real redis-server, the watcher, the store): the
// receiver refuses one alert for good (413), answers 503 to another for as
// long as the test runs, and takes the rest. The others arrive once while
// those two are stuck; the refused one is recorded failed after one attempt
// — in the store (what `mavtop alerts --json` reads), the alerts pane's text
// and the counts behind mavtop_notifications_total — and is not tried again,
// by this instance or by another that starts later.
func TestAStuckAlertDelaysNoOtherAndARefusalIsFinal(t *testing.T) {
	srv, st, period := startStore(t)
	ctx := context.Background()
	id := func(th string) string { return notifytest.ThresholdID(period, "acme", th) }
	rc := newReceiver(t)
	calls := map[string]int{}
	rc.answer = func(p *Payload) int {
		calls[p.Key]++
		switch p.ID {
		case id("50"):
			return http.StatusRequestEntityTooLarge
		case id("75"):
			return http.StatusServiceUnavailable
		}
		return 0
	}
	setUp(t, srv, model.Settings{Allocation: 1000}, 950) // 50, 75 and 90 % fire at once
	w1 := startInstance(t, srv, "w1", rc.srv.URL)
	fired90 := id("90") + "#" + string(model.AlertFiring)
	waitFor(t, "the 90 % firing, behind the two stuck ones", func() bool { return rc.keys()[fired90] == 1 })

	sink := w1.w.Sinks()[0]
	var recs map[string]feed.StoredAlert
	// the receiver counts the 90 % firing before its answer is recorded, so
	// wait for the record too (what it says is asserted below)
	waitFor(t, "the 413 recorded failed, the 503 retrying, the 90 % recorded done", func() bool {
		var err error
		if recs, _, err = st.Load(ctx, period); err != nil {
			return false
		}
		d50, d75, d90 := recs[id("50")].Deliveries, recs[id("75")].Deliveries, recs[id("90")].Deliveries
		return len(d50) == 1 && d50[0].Done && len(d75) == 1 && d75[0].Sinks[sink].Attempts >= 2 && len(d90) == 1 && d90[0].Done
	})
	if r := recs[id("50")].Deliveries[0].Sinks[sink]; r.Result != feed.ResultFailed || r.Attempts != 1 || r.Err != "413 Request Entity Too Large" {
		t.Errorf("50 %%: %+v, want failed at the first attempt: 413", r)
	}
	if d := recs[id("75")].Deliveries[0]; d.Done || d.Sinks[sink].Result != feed.ResultRetrying || d.Sinks[sink].Err != "503 Service Unavailable" {
		t.Errorf("75 %%: %+v, want retrying: 503", d)
	}
	if d := recs[id("90")].Deliveries[0]; !d.Done || d.Sinks[sink].Result != feed.ResultSent || d.Sinks[sink].Attempts != 1 {
		t.Errorf("90 %%: %+v, want sent at the first attempt", d)
	}
	if n := w1.w.Notifications()[[2]string{sink, OutcomeFailed}]; n != 1 {
		t.Errorf("failed deliveries counted %d, want 1", n)
	}
	waitFor(t, "the pane's delivery texts", func() bool {
		texts := map[string]string{}
		for _, e := range w1.w.Entries() {
			texts[e.Alert.ID] = e.DeliveryText()
		}
		return texts[id("50")] == "✗ failed: 413 Request Entity Too Large" && texts[id("75")] == "↻ retrying: 503 Service Unavailable" &&
			texts[id("90")] == "✓ sent 1 sink"
	})

	// a second instance reads the same store and leaves the failed one be
	w2 := startInstance(t, srv, "w2", rc.srv.URL)
	waitFor(t, "w2 to have judged the store", func() bool { return len(w2.w.Entries()) >= 3 })
	w1.stop()
	w2.stop()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if n := calls[id("50")+"#firing"]; n != 1 {
		t.Errorf("the refused firing was tried %d times, want 1", n)
	}
	if n := calls[id("75")+"#firing"]; n < 2 {
		t.Errorf("the 503 firing was tried %d times, want retries", n)
	}
	if s := strings.Join(rc.raw, "\n"); strings.Count(s, `"key":"`+fired90+`"`) != 1 {
		t.Errorf("the 90 %% firing arrived %d times, want 1", strings.Count(s, fired90))
	}
}
