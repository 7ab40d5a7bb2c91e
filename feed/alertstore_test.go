package feed

import (
	"context"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

func TestAlertStoreClaimsEachTransitionOnce(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	expire := ExpireAt(model.MonthlyUTC.At(at))
	a := model.Alert{ID: model.AlertID("2026-11", "acme", "", model.AlertThreshold, "75"), Period: "2026-11",
		Workspace: "acme", Kind: model.AlertThreshold, Threshold: 75, Used: 760, Cap: 1000}
	claim := func(status model.AlertStatus, instances int) int {
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for i := range instances {
			st := NewAlertStore(srv.Client(), "")
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := model.AlertTransition{Alert: a, Status: status, At: at, Stream: "1-0"}
				ok, err := st.Claim(ctx, tr, "s", ClaimOptions{Expire: expire})
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return won
	}
	if n := claim(model.AlertResolved, 4); n != 0 {
		t.Fatalf("%d instances resolved an alert that never fired", n)
	}
	if n := claim(model.AlertFiring, 8); n != 1 {
		t.Fatalf("%d of 8 instances claimed the firing, want 1", n)
	}
	if n := claim(model.AlertFiring, 8); n != 0 {
		t.Fatalf("%d claimed a second firing", n)
	}
	if n := claim(model.AlertResolved, 8); n != 1 {
		t.Fatalf("%d of 8 claimed the resolution, want 1", n)
	}
	if n := claim(model.AlertFiring, 8); n != 0 {
		t.Fatalf("%d fired a resolved alert again", n)
	}
	st := NewAlertStore(srv.Client(), "")
	recs, bad, err := st.Load(ctx, "2026-11")
	if err != nil || bad != 0 || len(recs) != 1 {
		t.Fatalf("load: %v bad=%d %d records", err, bad, len(recs))
	}
	rec := recs[a.ID]
	if rec.Status != model.AlertResolved || len(rec.Deliveries) != 2 ||
		rec.Deliveries[0].Transition.Status != model.AlertFiring || rec.Deliveries[1].Transition.Status != model.AlertResolved {
		t.Fatalf("record %+v", rec)
	}
	ttl, err := srv.Client().ExpireTime(ctx, Keys{}.Alerts("2026-11")).Result()
	if err != nil || ttl != time.Duration(expire.Unix())*time.Second {
		t.Fatalf("hash expires at %v (%v), want %v", ttl, err, expire.Unix())
	}
}

func TestAlertStoreLeasesDeliveryToOneInstance(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := NewAlertStore(srv.Client(), "")
	a := model.Alert{ID: "2026-11/acme/-/allocation_reached/-", Period: "2026-11", Workspace: "acme", Kind: model.AlertAllocation}
	tr := model.AlertTransition{Alert: a, Status: model.AlertFiring, At: at}
	// a dashboard without sinks records the transition, leased to nobody
	if ok, err := st.Claim(ctx, tr, "s", ClaimOptions{}); !ok || err != nil {
		t.Fatalf("claim %v %v", ok, err)
	}
	lease := at.Add(time.Minute)
	if _, idx, ok, err := st.TakeDelivery(ctx, "2026-11", a.ID, -1, "w1", at, lease); !ok || idx != 0 || err != nil {
		t.Fatalf("w1 take: %v %d %v", ok, idx, err)
	}
	if _, _, ok, _ := st.TakeDelivery(ctx, "2026-11", a.ID, -1, "w2", at.Add(30*time.Second), lease); ok {
		t.Fatal("w2 took a delivery w1 holds")
	}
	// w1 dies: once its lease ends, w2 takes over and finishes
	if _, _, ok, _ := st.TakeDelivery(ctx, "2026-11", a.ID, -1, "w2", lease, lease.Add(time.Minute)); !ok {
		t.Fatal("w2 could not take over an expired lease")
	}
	if ok, _ := st.Report(ctx, "2026-11", a.ID, 0, "w1", map[string]SinkResult{"hook": {Result: ResultSent}}, true, lease); ok {
		t.Fatal("w1 reported on a delivery it lost")
	}
	if ok, err := st.Report(ctx, "2026-11", a.ID, 0, "w2", map[string]SinkResult{"hook": {Result: ResultSent, Err: "\x1b[31mred"}}, true, lease); !ok || err != nil {
		t.Fatalf("w2 report: %v %v", ok, err)
	}
	if _, _, ok, _ := st.TakeDelivery(ctx, "2026-11", a.ID, -1, "w3", lease.Add(time.Hour), lease.Add(2*time.Hour)); ok {
		t.Fatal("a done delivery was taken again")
	}
	recs, _, _ := st.Load(ctx, "2026-11")
	d := recs[a.ID].Deliveries[0]
	if !d.Done || d.Owner != "w2" || d.Sinks["hook"].Result != ResultSent || d.Sinks["hook"].Err != model.Sanitize("\x1b[31mred") {
		t.Fatalf("delivery %+v", d)
	}
}
