package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// A poll of the lifecycle costs what changed: with nothing rebuilt since the
// last poll EntriesSince hands back nothing (no copy), and after a record
// changed only that record's Rev moves, so the pane's rows of the others are
// reused.
func TestEntriesSinceSkipsAnUnchangedPoll(t *testing.T) {
	w := NewWatcher(WatcherOptions{Store: feed.NewAlertStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")}) // nothing here reads Redis
	const period = "2026-11"
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	rec := func(id string, s model.AlertStatus, k int) *feed.StoredAlert {
		r := feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: id, Period: period}, Status: s,
			FiredAt: at.Add(time.Duration(k) * time.Minute)}}
		if s == model.AlertResolved {
			r.ResolvedAt = at.Add(time.Hour)
		}
		return &r
	}
	w.mu.Lock()
	for k := range 5 {
		id := fmt.Sprintf("a%d", k)
		w.setKnown(id, rec(id, model.AlertFiring, k))
	}
	w.mu.Unlock()
	w.refresh(period)

	e1, _, g1 := w.EntriesSince(0)
	if len(e1) != 5 || g1 == 0 {
		t.Fatalf("first poll: %d entries, build %d; want 5 entries and a build", len(e1), g1)
	}
	revs := map[string]uint64{}
	for _, e := range e1 {
		revs[e.Alert.ID] = e.Rev
	}
	w.refresh(period) // a cycle that changed nothing
	if e, s, g := w.EntriesSince(g1); e != nil || s != nil || g != g1 {
		t.Fatalf("an unchanged poll got %d entries, %d scores, build %d (want none, build %d)", len(e), len(s), g, g1)
	}

	w.mu.Lock()
	w.setKnown("a2", rec("a2", model.AlertResolved, 2))
	w.mu.Unlock()
	w.refresh(period)
	e2, _, g2 := w.EntriesSince(g1)
	if g2 == g1 || len(e2) != 5 {
		t.Fatalf("after a2 resolved: %d entries, build %d (was %d)", len(e2), g2, g1)
	}
	if e2[0].Alert.ID != "a2" || e2[0].Status != model.AlertResolved {
		t.Errorf("newest entry %s %s, want a2 resolved", e2[0].Alert.ID, e2[0].Status)
	}
	moved := 0
	for _, e := range e2 {
		if e.Rev != revs[e.Alert.ID] {
			moved++
			if e.Alert.ID != "a2" {
				t.Errorf("%s's Rev moved though its record did not", e.Alert.ID)
			}
		}
	}
	if moved != 1 {
		t.Errorf("%d Revs moved, want 1 (a2's)", moved)
	}
	// the first poll's slice was not written by the rebuild: it is shared
	if e1[0].Alert.ID != "a4" || e1[0].Status != model.AlertFiring {
		t.Errorf("the first poll's newest entry became %s %s, want a4 firing as it was", e1[0].Alert.ID, e1[0].Status)
	}
}
