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

// The judge's input shares each stored record by pointer instead of keeping
// a second copy of it (at 100k workspaces ~130k records, ~680 B each by
// value), and nothing the watcher does writes through that pointer: a claim
// of this instance is a record of its own until the store is read again.
func TestRecordsShareTheStoredRecords(t *testing.T) {
	w := NewWatcher(WatcherOptions{Store: feed.NewAlertStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")}) // nothing here reads Redis
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	const id = "2026-11/ws-1/-/threshold/75"
	stored := &feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: id, Period: "2026-11", Kind: model.AlertThreshold},
		Status: model.AlertFiring, FiredAt: at, FiredStream: "5-0"}}
	w.mu.Lock()
	w.setKnown(id, stored)
	w.mu.Unlock()
	if got := w.records[id]; got != &stored.AlertRecord {
		t.Fatalf("the judge's record of %s is a copy (%p), not the stored one (%p)", id, got, &stored.AlertRecord)
	}

	// this instance resolves it: its own record, the stored one unchanged
	w.ownClaim(&model.AlertTransition{Alert: stored.Alert, Status: model.AlertResolved, At: at.Add(time.Minute), Stream: "9-0"})
	got := w.records[id]
	if got == &stored.AlertRecord || got.Status != model.AlertResolved || got.ResolvedStream != "9-0" || got.FiredStream != "5-0" {
		t.Fatalf("after this instance's claim the judge's record is %+v (shared %v); want its own, resolved at 9-0, fired at 5-0",
			*got, got == &stored.AlertRecord)
	}
	if stored.Status != model.AlertFiring || stored.ResolvedStream != "" {
		t.Fatalf("the claim wrote the stored record: %+v", stored.AlertRecord)
	}

	// the store read again: the stored record, shared once more
	again := &feed.StoredAlert{AlertRecord: *got}
	w.mu.Lock()
	w.setKnown(id, again)
	w.mu.Unlock()
	if w.records[id] != &again.AlertRecord {
		t.Fatalf("after the store was read again the judge's record is not the stored one")
	}
	w.mu.Lock()
	w.dropKnown(id)
	w.mu.Unlock()
	if _, ok := w.records[id]; ok {
		t.Fatalf("a dropped record is still judged")
	}
}

// BenchmarkWatcherRecordBytes: the live heap the watcher adds to each stored
// record it keeps (B/record: the judge's input and the lifecycle index; the
// record itself is the store mirror's, BenchmarkMirrorRecordBytes).
func BenchmarkWatcherRecordBytes(b *testing.B) {
	const n = 20_000
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	stored := make([]*feed.StoredAlert, n)
	for i := range stored {
		id := model.AlertID("2026-11", fmt.Sprintf("ws-%06d", i), "", model.AlertRunOut, "")
		stored[i] = &feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: id, Period: "2026-11", Kind: model.AlertRunOut},
			Status: model.AlertFiring, FiredAt: at, FiredStream: "5-0"}}
	}
	for b.Loop() {
		w := NewWatcher(WatcherOptions{Store: feed.NewAlertStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		w.mu.Lock()
		for _, r := range stored {
			w.setKnown(r.Alert.ID, r)
		}
		w.mu.Unlock()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/record")
		runtime.KeepAlive(w)
	}
}
