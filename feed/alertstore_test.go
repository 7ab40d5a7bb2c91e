package feed

import (
	"context"
	"fmt"
	"reflect"
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

// TestClaimAllClaimsEachTransitionOnce: four instances claim the same 600
// firings at once, each in its own order (so their batches of ClaimBatch
// overlap only in part), then the same resolutions and firings again: each
// transition is claimed by exactly one, the hash holds one record per alert
// with its deliveries, and the version and the changes set count one write
// per claim, as Claim one at a time made them (a watcher's mirror reads them
// by what changed).
func TestClaimAllClaimsEachTransitionOnce(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	expire := ExpireAt(model.MonthlyUTC.At(at))
	const n = 600
	alerts := make([]model.Alert, n)
	for i := range alerts {
		ws := fmt.Sprintf("ws-%03d", i)
		alerts[i] = model.Alert{ID: model.AlertID("2026-11", ws, "", model.AlertThreshold, "75"), Period: "2026-11",
			Workspace: ws, Kind: model.AlertThreshold, Threshold: 75, Used: 760, Cap: 1000}
	}
	claim := func(status model.AlertStatus, which func(i int) bool) map[string]int {
		won := map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for inst := range 4 {
			st := NewAlertStore(srv.Client(), "")
			var reqs []ClaimRequest
			for j := range n {
				i := (j + inst*n/4) % n // each instance starts elsewhere
				if which(i) {
					reqs = append(reqs, ClaimRequest{Transition: model.AlertTransition{Alert: alerts[i], Status: status, At: at, Stream: "1-0"},
						Summary: "s", Options: ClaimOptions{Expire: expire, Owner: fmt.Sprint("w", inst), LeaseUntil: at.Add(time.Minute)}})
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				claimed, err := st.ClaimAll(ctx, reqs)
				if err != nil {
					t.Errorf("instance %d: %v", inst, err)
				}
				mu.Lock()
				defer mu.Unlock()
				for i, ok := range claimed {
					if ok {
						won[reqs[i].Transition.Alert.ID]++
					}
				}
			}()
		}
		wg.Wait()
		return won
	}
	all := func(int) bool { return true }
	even := func(i int) bool { return i%2 == 0 }
	if won := claim(model.AlertResolved, all); len(won) != 0 {
		t.Fatalf("%d alerts that never fired were resolved", len(won))
	}
	won := claim(model.AlertFiring, all)
	if len(won) != n {
		t.Fatalf("%d of %d firings claimed", len(won), n)
	}
	for id, c := range won {
		if c != 1 {
			t.Fatalf("%s claimed by %d instances", id, c)
		}
	}
	if won := claim(model.AlertFiring, all); len(won) != 0 {
		t.Fatalf("%d fired twice", len(won))
	}
	won = claim(model.AlertResolved, even)
	if len(won) != n/2 {
		t.Fatalf("%d of %d resolutions claimed", len(won), n/2)
	}
	for id, c := range won {
		if c != 1 {
			t.Fatalf("%s resolved by %d instances", id, c)
		}
	}
	st := NewAlertStore(srv.Client(), "")
	recs, bad, err := st.Load(ctx, "2026-11")
	if err != nil || bad != 0 || len(recs) != n {
		t.Fatalf("load: %v bad=%d %d records, want %d", err, bad, len(recs), n)
	}
	for i, a := range alerts {
		rec := recs[a.ID]
		want, deliveries := model.AlertFiring, 1
		if even(i) {
			want, deliveries = model.AlertResolved, 2
		}
		if rec.Status != want || len(rec.Deliveries) != deliveries || rec.Deliveries[0].Transition.Status != model.AlertFiring ||
			rec.Deliveries[0].Owner == "" {
			t.Fatalf("%s: %s with %d deliveries, want %s with %d: %+v", a.ID, rec.Status, len(rec.Deliveries), want, deliveries, rec)
		}
	}
	// one version per write: n firings, n/2 resolutions
	rdb := srv.Client()
	version, err := rdb.HGet(ctx, Keys{}.Alerts("2026-11"), alertVersionField).Int64()
	if err != nil || version != n+n/2 {
		t.Fatalf("version %d (%v), want %d", version, err, n+n/2)
	}
	top, err := rdb.ZRangeWithScores(ctx, Keys{}.AlertChanges("2026-11"), -1, -1).Result()
	if members := rdb.ZCard(ctx, Keys{}.AlertChanges("2026-11")).Val(); err != nil || members != n || len(top) != 1 || top[0].Score != float64(version) {
		t.Fatalf("changes: %d members, newest %v (%v), want %d at %d", members, top, err, n, version)
	}
	ttl, err := rdb.ExpireTime(ctx, Keys{}.Alerts("2026-11")).Result()
	if err != nil || ttl != time.Duration(expire.Unix())*time.Second {
		t.Fatalf("hash expires at %v (%v), want %v", ttl, err, expire.Unix())
	}

	// one id twice in a call: its firing, then its resolution, both claimed
	// in one transaction, the second judged on what the first made
	b := model.Alert{ID: model.AlertID("2026-11", "acme", "", model.AlertThreshold, "90"), Period: "2026-11", Workspace: "acme",
		Kind: model.AlertThreshold, Threshold: 90}
	claimed, err := st.ClaimAll(ctx, []ClaimRequest{
		{Transition: model.AlertTransition{Alert: b, Status: model.AlertFiring, At: at, Stream: "2-0"}, Summary: "f", Options: ClaimOptions{Expire: expire}},
		{Transition: model.AlertTransition{Alert: b, Status: model.AlertResolved, At: at.Add(time.Minute), Stream: "3-0"}, Summary: "r", Options: ClaimOptions{Expire: expire}},
		{Transition: model.AlertTransition{Alert: b, Status: model.AlertFiring, At: at.Add(2 * time.Minute), Stream: "4-0"}, Summary: "f", Options: ClaimOptions{Expire: expire}},
	})
	if err != nil || !reflect.DeepEqual(claimed, []bool{true, true, false}) {
		t.Fatalf("claimed %v (%v), want the firing and the resolution", claimed, err)
	}
	recs, _, _ = st.Load(ctx, "2026-11")
	if r := recs[b.ID]; r.Status != model.AlertResolved || len(r.Deliveries) != 2 || r.ResolvedStream != "3-0" || r.FiredStream != "2-0" {
		t.Fatalf("record %+v", r)
	}
	if v, _ := rdb.HGet(ctx, Keys{}.Alerts("2026-11"), alertVersionField).Int64(); v != version+2 {
		t.Fatalf("version %d after two writes, want %d", v, version+2)
	}
}
