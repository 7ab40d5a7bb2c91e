package notify

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// The judge reads each stored record as the store holds it (packed, decoded
// on demand), and nothing the watcher does writes it: a claim of this
// instance is a record of its own until the store is read again.
func TestRecordsShareTheStoredRecords(t *testing.T) {
	w := NewWatcher(WatcherOptions{Store: feed.NewAlertStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")}) // nothing here reads Redis
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	const id = "2026-11/ws-1/-/threshold/75"
	stored := &feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: id, Period: "2026-11", Kind: model.AlertThreshold},
		Status: model.AlertFiring, FiredAt: at, FiredStream: "5-0"}}
	w.mu.Lock()
	w.setKnown(id, stored)
	w.mu.Unlock()
	j := judged{w: w}
	if got, ok := j.Get(id); !ok || got != stored.AlertRecord || !j.Has(id) || j.Len() != 1 {
		t.Fatalf("the judge's record of %s is %+v (%v), want the stored one", id, got, ok)
	}

	// this instance resolves it: its own record, the stored one unchanged
	w.ownClaim(&model.AlertTransition{Alert: stored.Alert, Status: model.AlertResolved, At: at.Add(time.Minute), Stream: "9-0"})
	got, _ := j.Get(id)
	if got.Status != model.AlertResolved || got.ResolvedStream != "9-0" || got.FiredStream != "5-0" || j.Len() != 1 {
		t.Fatalf("after this instance's claim the judge's record is %+v; want its own, resolved at 9-0, fired at 5-0", got)
	}
	if stored.Status != model.AlertFiring || stored.ResolvedStream != "" {
		t.Fatalf("the claim wrote the stored record: %+v", stored.AlertRecord)
	}
	if r, _ := w.knownRecord(id); r.Status != model.AlertFiring {
		t.Fatalf("the claim wrote the known record: %+v", r.AlertRecord)
	}

	// the store read again: the stored record stands once more
	again := &feed.StoredAlert{AlertRecord: got}
	again.FiredStream = "6-0"
	w.mu.Lock()
	w.setKnown(id, again)
	w.mu.Unlock()
	if got, _ := j.Get(id); got != again.AlertRecord {
		t.Fatalf("after the store was read again the judge's record is %+v, not the stored one", got)
	}
	w.mu.Lock()
	w.dropKnown(id)
	w.mu.Unlock()
	if _, ok := j.Get(id); ok || j.Has(id) || j.Len() != 0 {
		t.Fatalf("a dropped record is still judged")
	}
}

// sampleRecords are n run-out alerts as the 100k-workspace scale run stores
// them (no sink: nobody delivers), packed as the store mirror keeps them.
func sampleRecords(n int) []feed.PackedAlert {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	out := make([]feed.PackedAlert, n)
	for i := range out {
		ws := fmt.Sprintf("ws-%06d", i)
		a := model.Alert{ID: model.AlertID("2026-11", ws, "", model.AlertRunOut, ""), Period: "2026-11", Kind: model.AlertRunOut,
			Workspace: ws, Used: 44, Cap: 74221, CapKind: model.CapAllocation, PercentUsed: 0.0592, Level: model.LevelWarn,
			BurnPerHour: 174.3278, RunOutIn: 1531810 * time.Second, Spare: 1122140 * time.Second}
		tr := model.AlertTransition{Alert: a, Status: model.AlertFiring, At: at, Stream: "1796107648435-49"}
		out[i] = feed.Pack(&feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: at, FiredStream: tr.Stream},
			Deliveries: []feed.Delivery{{Transition: tr, Summary: ws + " runs out of credits in 17 days at 174 credits/h, 12 days before the billing period ends (at the time: 44 credits used of its 74,221-credit cap)"}}})
	}
	return out
}

// watcherBytes is the live heap the watcher adds to each of n records the
// mirror holds (the judge's input, the pending deliveries, the lifecycle
// index; the packed record itself is the mirror's).
func watcherBytes(n int) float64 {
	recs := sampleRecords(n)
	w := NewWatcher(WatcherOptions{Store: feed.NewAlertStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")})
	w.refresh("2026-11")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	w.mu.Lock()
	for _, p := range recs {
		w.setPacked(p.Decode().Alert.ID, p)
	}
	w.mu.Unlock()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(w)
	runtime.KeepAlive(recs)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
}

// TestWatcherRecordBytes guards the live heap the watcher adds to each
// record (~0.35 KB when it held decoded records by pointer, ~130-170k of
// them at 100k workspaces; rss16, issue 16): no decoded copy is kept.
func TestWatcherRecordBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 5k records")
	}
	if b := watcherBytes(5_000); b > 450 {
		t.Errorf("the watcher adds %.0f B to a record, want ≤ 450 (a decoded record is ~1 KB)", b)
	}
}

// BenchmarkWatcherRecordBytes: the live heap the watcher adds to each stored
// record it keeps (B/record: the judge's input and the lifecycle index; the
// record itself is the store mirror's, BenchmarkMirrorRecordBytes).
func BenchmarkWatcherRecordBytes(b *testing.B) {
	for b.Loop() {
		b.ReportMetric(watcherBytes(20_000), "B/record")
	}
}
