package feed

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// mirrorClock is the clock a mirror's full reads are paced by.
type mirrorClock struct{ t time.Time }

func (c *mirrorClock) now() time.Time { return c.t }

// loadAll is what a full read of periods holds: every record, decoded.
func loadAll(t *testing.T, st *AlertStore, periods ...string) map[string]StoredAlert {
	t.Helper()
	all := map[string]StoredAlert{}
	for _, p := range periods {
		recs, _, err := st.Load(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(all, recs)
	}
	return all
}

// differ returns the ids whose record differs between a and b, sorted.
// vals is a mirror's records as values (a copy: the test's own).
func vals(recs map[string]PackedAlert) map[string]StoredAlert {
	out := make(map[string]StoredAlert, len(recs))
	for id, r := range recs {
		out[id] = *r.Decode()
	}
	return out
}

func differ(a, b map[string]StoredAlert) []string {
	var out []string
	for id, r := range a {
		if o, ok := b[id]; !ok || !reflect.DeepEqual(r, o) {
			out = append(out, id)
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// testAlert is alert n of workspace ws in period: a threshold alert.
func testAlert(period string, n int) model.Alert {
	ws := fmt.Sprintf("ws%02d", n)
	return model.Alert{ID: model.AlertID(period, ws, "", model.AlertThreshold, "75"), Period: period, Workspace: ws,
		Kind: model.AlertThreshold, Threshold: 75, Used: 760, Cap: 1000}
}

// After any mix of writes through the store (claims, leases, reports, by
// several instances) the mirror holds exactly what a full read decodes, and
// Sync says exactly which records changed; writes that bypass the store (a
// hand HSET, HDEL, a deleted or trimmed changes set, a deleted hash) are seen
// at once when they move the version or break its changes, and otherwise by
// the full read within MinFullReadEvery. A step without writes costs one
// incremental read, never a full one.
func TestAlertMirrorEqualsAFullReadAfterRandomChanges(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	stores := []*AlertStore{NewAlertStore(c, ""), NewAlertStore(srv.Client(), "")}
	clock := &mirrorClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	m := NewAlertMirror(stores[0], clock.now)
	rng := rand.New(rand.NewPCG(16, 1))
	periods := []string{"2026-10", "2026-11"}
	k := Keys{}
	bypassed := false
	seen := vals(m.Records())
	hand := map[string]int{}
	for step := range 600 {
		period := periods[rng.IntN(len(periods))]
		a := testAlert(period, rng.IntN(12))
		st := stores[rng.IntN(len(stores))]
		at := clock.t
		what := ""
		switch op := rng.IntN(20); {
		case op < 5:
			what = "claim firing"
			_, _ = st.Claim(ctx, model.AlertTransition{Alert: a, Status: model.AlertFiring, At: at, Stream: "1-0"}, "fired", ClaimOptions{Owner: "w1", LeaseUntil: at.Add(time.Minute)})
		case op < 8:
			what = "claim resolved"
			_, _ = st.Claim(ctx, model.AlertTransition{Alert: a, Status: model.AlertResolved, At: at}, "resolved", ClaimOptions{})
		case op < 11:
			what = "take delivery"
			_, _, _, _ = st.TakeDelivery(ctx, period, a.ID, -1, fmt.Sprintf("w%d", rng.IntN(3)), at, at.Add(time.Duration(rng.IntN(90))*time.Second))
		case op < 14:
			what = "report"
			_, _ = st.Report(ctx, period, a.ID, rng.IntN(2), fmt.Sprintf("w%d", rng.IntN(3)),
				map[string]SinkResult{"hook": {Result: ResultRetrying, Attempts: rng.IntN(5), Err: "503", At: at}}, rng.IntN(3) == 0, at.Add(time.Minute))
		case op == 14:
			what = "hand HSET"
			hand[a.ID]++
			rec := StoredAlert{AlertRecord: model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: at, FiredStream: fmt.Sprintf("%d-0", hand[a.ID])}}
			b, _ := json.Marshal(rec)
			if rng.IntN(4) == 0 {
				b = []byte("{not json")
			}
			bypassed = true
			if err := c.HSet(ctx, k.Alerts(period), a.ID, b).Err(); err != nil {
				t.Fatal(err)
			}
		case op == 15:
			what = "hand HDEL"
			bypassed = true
			if err := c.HDel(ctx, k.Alerts(period), a.ID).Err(); err != nil {
				t.Fatal(err)
			}
		case op == 16:
			what = "changes trimmed"
			if err := c.ZRemRangeByRank(ctx, k.AlertChanges(period), 0, int64(rng.IntN(3))).Err(); err != nil {
				t.Fatal(err)
			}
		case op == 17:
			what = "changes deleted"
			if err := c.Del(ctx, k.AlertChanges(period)).Err(); err != nil {
				t.Fatal(err)
			}
		case op == 18 && rng.IntN(4) == 0:
			what = "hash deleted"
			if err := c.Del(ctx, k.Alerts(period)).Err(); err != nil {
				t.Fatal(err)
			}
		case op == 18:
			what = "rollover"
			last, _ := time.Parse("2006-01", periods[1])
			periods = []string{periods[1], last.AddDate(0, 1, 0).Format("2006-01")}
		default:
			what = "nothing"
		}
		full0, _ := m.Reads(periods[1])
		before := maps.Clone(seen)
		changed, err := m.Sync(ctx, periods...)
		if err != nil {
			t.Fatal(err)
		}
		if what == "nothing" && !bypassed {
			if full, _ := m.Reads(periods[1]); full != full0 && full0 > 0 {
				t.Fatalf("step %d: a sync with nothing written read the hash in full", step)
			}
		}
		if bypassed && rng.IntN(3) == 0 {
			// the safety net: a full read at most MinFullReadEvery later
			clock.t = clock.t.Add(MinFullReadEvery)
			more, err := m.Sync(ctx, periods...)
			if err != nil {
				t.Fatal(err)
			}
			changed = append(changed, more...)
			slices.Sort(changed)
			changed = slices.Compact(changed)
			bypassed = false
		}
		seen = vals(m.Records())
		if bypassed {
			continue // a hand edit may not be seen yet: that is the bound
		}
		want := loadAll(t, stores[0], periods...)
		if d := differ(seen, want); len(d) > 0 {
			t.Fatalf("step %d (%s): the mirror differs from a full read at %v:\nmirror %+v\nfull   %+v", step, what, d, seen[d[0]], want[d[0]])
		}
		if d := differ(before, seen); !slices.Equal(d, changed) {
			t.Fatalf("step %d (%s): Sync said %v changed, the records that did are %v", step, what, changed, d)
		}
	}
	full, partial := m.Reads(periods[1])
	t.Logf("last period: %d full reads, %d incremental", full, partial)
}

// A changes set that no longer accounts for the version (trimmed, or its
// newest member gone) makes the next sync read the hash in full; a version
// that did not move costs one incremental read.
func TestAlertMirrorReadsInFullWhenTheChangesWereTrimmed(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	st := NewAlertStore(c, "")
	m := NewAlertMirror(st, nil)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	claim := func(n int) {
		t.Helper()
		if ok, err := st.Claim(ctx, model.AlertTransition{Alert: testAlert("2026-11", n), Status: model.AlertFiring, At: at}, "s", ClaimOptions{}); !ok || err != nil {
			t.Fatalf("claim %d: %v %v", n, ok, err)
		}
	}
	sync := func(wantFull, wantPartial int, wantChanged ...string) {
		t.Helper()
		changed, err := m.Sync(ctx, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(changed, wantChanged) {
			t.Fatalf("changed %v, want %v", changed, wantChanged)
		}
		if full, partial := m.Reads("2026-11"); full != wantFull || partial != wantPartial {
			t.Fatalf("%d full and %d incremental reads, want %d and %d", full, partial, wantFull, wantPartial)
		}
		if d := differ(vals(m.Records()), loadAll(t, st, "2026-11")); len(d) > 0 {
			t.Fatalf("mirror differs from a full read at %v", d)
		}
	}
	for n := range 3 {
		claim(n)
	}
	sync(1, 0, testAlert("2026-11", 0).ID, testAlert("2026-11", 1).ID, testAlert("2026-11", 2).ID)
	sync(1, 1)
	claim(3)
	sync(1, 2, testAlert("2026-11", 3).ID)
	// trimmed past the version known: all but the newest member gone
	claim(4)
	claim(5)
	if err := c.ZRemRangeByRank(ctx, Keys{}.AlertChanges("2026-11"), 0, -2).Err(); err != nil {
		t.Fatal(err)
	}
	sync(2, 2, testAlert("2026-11", 4).ID, testAlert("2026-11", 5).ID)
	// the newest member gone
	claim(6)
	if err := c.ZRem(ctx, Keys{}.AlertChanges("2026-11"), testAlert("2026-11", 6).ID).Err(); err != nil {
		t.Fatal(err)
	}
	sync(3, 2, testAlert("2026-11", 6).ID)
	// the newest member gone, with as many members as alerts (one left by
	// a field deleted by hand)
	if err := c.HDel(ctx, Keys{}.Alerts("2026-11"), testAlert("2026-11", 0).ID).Err(); err != nil {
		t.Fatal(err)
	}
	claim(7)
	claim(8)
	if err := c.ZRem(ctx, Keys{}.AlertChanges("2026-11"), testAlert("2026-11", 8).ID).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, Keys{}.AlertChanges("2026-11"), redis.Z{Score: 1, Member: "a-field-deleted-by-hand"}).Err(); err != nil {
		t.Fatal(err)
	}
	sync(4, 2, testAlert("2026-11", 0).ID, testAlert("2026-11", 7).ID, testAlert("2026-11", 8).ID)
	// Redis back older (a restore of the hash as it was two writes ago):
	// the version went back, the epoch is the same
	keys := []string{Keys{}.Alerts("2026-11"), Keys{}.AlertChanges("2026-11")}
	var dumps []string
	for _, key := range keys {
		dump, err := c.Dump(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		dumps = append(dumps, dump)
	}
	claim(9)
	sync(4, 3, testAlert("2026-11", 9).ID)
	for i, key := range keys {
		if err := c.RestoreReplace(ctx, key, 0, dumps[i]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	sync(5, 3, testAlert("2026-11", 9).ID)
	// the hash deleted and made again, up to the version known: another epoch
	v := m.periods["2026-11"].version
	if err := c.Del(ctx, Keys{}.Alerts("2026-11")).Err(); err != nil {
		t.Fatal(err)
	}
	for n := range v + 1 {
		claim(10 + int(n))
	}
	changed, err := m.Sync(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if full, _ := m.Reads("2026-11"); full != 6 || len(changed) != int(v)+1+8 {
		t.Fatalf("after the hash was made again: %d full reads, %d changed (want 6 and %d)", full, len(changed), v+1+8)
	}
	if d := differ(vals(m.Records()), loadAll(t, st, "2026-11")); len(d) > 0 {
		t.Fatalf("mirror differs from a full read at %v", d)
	}
}

// A hand HSET or HDEL (redis-cli) bypasses the version: the incremental
// read cannot see it, the full read MinFullReadEvery after the last one
// does.
func TestAlertMirrorSeesAHandEditByTheFullRead(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	st := NewAlertStore(c, "")
	clock := &mirrorClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	m := NewAlertMirror(st, clock.now)
	for n := range 2 {
		if ok, err := st.Claim(ctx, model.AlertTransition{Alert: testAlert("2026-11", n), Status: model.AlertFiring, At: clock.t}, "s", ClaimOptions{}); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if _, err := m.Sync(ctx, "2026-11"); err != nil {
		t.Fatal(err)
	}
	a0, a1 := testAlert("2026-11", 0), testAlert("2026-11", 1)
	edited := StoredAlert{AlertRecord: model.AlertRecord{Alert: a0, Status: model.AlertResolved, FiredAt: clock.t, ResolvedAt: clock.t}}
	b, _ := json.Marshal(edited)
	if err := c.HSet(ctx, Keys{}.Alerts("2026-11"), a0.ID, b).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HDel(ctx, Keys{}.Alerts("2026-11"), a1.ID).Err(); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(MinFullReadEvery - time.Second)
	changed, err := m.Sync(ctx, "2026-11")
	if err != nil || len(changed) != 0 || m.Records()[a0.ID].Decode().Status != model.AlertFiring {
		t.Fatalf("before the full read is due: %v changed (%v), %s; want nothing seen yet", changed, err, m.Records()[a0.ID].Decode().Status)
	}
	clock.t = clock.t.Add(time.Second)
	changed, err = m.Sync(ctx, "2026-11")
	if err != nil || !slices.Equal(changed, []string{a0.ID, a1.ID}) {
		t.Fatalf("the full read saw %v changed (%v), want %v", changed, err, []string{a0.ID, a1.ID})
	}
	if !reflect.DeepEqual(vals(m.Records()), map[string]StoredAlert{a0.ID: edited}) {
		t.Fatalf("after the full read the mirror holds %+v", m.Records())
	}
}

// fillAlerts writes n alert records of period as the store writes them
// (version, epoch, changes), a pipeline at a time: what a watcher finds
// after hours of a large deployment. Each holds a firing delivery retried
// by one sink, as a dashboard with --notify leaves them.
func fillAlerts(tb testing.TB, c redis.UniversalClient, period string, n int) {
	tb.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	k := Keys{}
	p := c.Pipeline()
	for i := range n {
		a := model.Alert{ID: model.AlertID(period, fmt.Sprintf("workspace-%06d", i), "", model.AlertThreshold, "75"), Period: period,
			Workspace: fmt.Sprintf("workspace-%06d", i), Kind: model.AlertThreshold, Threshold: 75, Used: 760_000, Cap: 1_000_000}
		tr := model.AlertTransition{Alert: a, Status: model.AlertFiring, At: at, Stream: "1764072000000-0"}
		rec := StoredAlert{AlertRecord: model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: at, FiredStream: tr.Stream},
			Deliveries: []Delivery{{Transition: tr, Summary: tr.Summary(period), Owner: "host/1234/abcd", LeaseUntil: at.Add(2 * time.Minute),
				Sinks: map[string]SinkResult{"https://hooks.example.com/mavtop": {Result: ResultRetrying, Attempts: 3, Err: "503 Service Unavailable", At: at}}}}}
		b, err := json.Marshal(&rec)
		if err != nil {
			tb.Fatal(err)
		}
		p.HSet(ctx, k.Alerts(period), a.ID, b)
		p.ZAdd(ctx, k.AlertChanges(period), redis.Z{Score: float64(i + 1), Member: a.ID})
		if i%1000 == 999 || i == n-1 {
			p.HSet(ctx, k.Alerts(period), alertVersionField, i+1, alertEpochField, "bench")
			if _, err := p.Exec(ctx); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// A hand edit of the hash's own fields (redis-cli HDEL of #version, HSET
// of a field of its own beginning with "#") costs one full read: the
// writes that follow are read by what changed again, not each in full for
// the rest of the period (at 100k records, 20 s every second).
func TestAlertMirrorHandEditsOfTheHeadCostOneFullRead(t *testing.T) {
	for _, edit := range []string{"HDEL #version", "HSET #version 2", "HSET #note"} {
		t.Run(edit, func(t *testing.T) {
			srv := feedtest.Start(t)
			ctx := context.Background()
			c := srv.Client()
			st := NewAlertStore(c, "")
			m := NewAlertMirror(st, nil)
			at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			n := 0
			claim := func() {
				t.Helper()
				if ok, err := st.Claim(ctx, model.AlertTransition{Alert: testAlert("2026-11", n), Status: model.AlertFiring, At: at}, "s", ClaimOptions{}); !ok || err != nil {
					t.Fatalf("claim %d: %v %v", n, ok, err)
				}
				n++
			}
			sync := func() {
				t.Helper()
				if _, err := m.Sync(ctx, "2026-11"); err != nil {
					t.Fatal(err)
				}
				if d := differ(vals(m.Records()), loadAll(t, st, "2026-11")); len(d) > 0 {
					t.Fatalf("mirror differs from a full read at %v", d)
				}
			}
			for range 8 {
				claim()
			}
			sync()
			key := Keys{}.Alerts("2026-11")
			var err error
			switch edit {
			case "HDEL #version":
				err = c.HDel(ctx, key, alertVersionField).Err()
			case "HSET #version 2":
				err = c.HSet(ctx, key, alertVersionField, 2).Err()
			default:
				err = c.HSet(ctx, key, "#note", "paged ops at 14:02").Err()
			}
			if err != nil {
				t.Fatal(err)
			}
			for range 12 {
				claim()
				sync()
			}
			if full, partial := m.Reads("2026-11"); full > 3 || partial < 10 {
				t.Fatalf("after %s, 12 writes each synced: %d full and %d incremental reads, want at most 3 full", edit, full, partial)
			}
		})
	}
}
