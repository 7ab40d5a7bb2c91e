package cmd

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestCheckLastEventAfterAnIdIn2100IsTheDashboards (issue 11): an entry
// XADDed with an id in 2100 (`XADD {mavera}:usage 4102444800000-0 …`), then
// a producer's normal emits, which Redis gives ids 2100-1, 2100-2, …: beta
// charged 40 s ago, spender 2 s ago. check's LAST EVENT (last_event_at) is
// each event's ts, and the dashboard started now dates each row alike (its
// age); the ids being ahead is said (ids_ahead_seconds). Before, every
// last_event_at was check's own time ("now", until 2100) and the
// dashboard's rows were dated 2100.
func TestCheckLastEventAfterAnIdIn2100IsTheDashboards(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 3000, "spender", "beta")
	if err := f.c.XAdd(f.ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: "4102444800000-0", Values: []any{
		"v", "1", "ts", strconv.FormatInt(time.Now().UnixMilli(), 10), "ws", "zzz", "kind", "settings", "msg", "{}"}}).Err(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	want := map[string]time.Time{"beta": now.Add(-40 * time.Second).Truncate(time.Millisecond), "spender": now.Add(-2 * time.Second).Truncate(time.Millisecond)}
	for _, ws := range []string{"beta", "spender"} {
		f.track(t, model.Event{TS: want[ws].UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: 5, Status: 200})
	}
	out, _, _ := runMavtop(t, "check", "--redis="+f.srv.URL, "--json")
	var got struct {
		Ahead      *float64 `json:"ids_ahead_seconds"`
		Workspaces []struct {
			Workspace   string     `json:"workspace"`
			LastEventAt *time.Time `json:"last_event_at"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if got.Ahead == nil || *got.Ahead < 3600 {
		t.Errorf("ids_ahead_seconds %v, want the ids' decades ahead said", got.Ahead)
	}

	// the dashboard started now: a subscriber into the ledger it draws
	read := f.startedLedger(t)
	seen := 0
	for _, r := range got.Workspaces {
		w, ok := want[r.Workspace]
		if !ok {
			continue
		}
		seen++
		if r.LastEventAt == nil || !r.LastEventAt.Equal(w) {
			t.Errorf("%s: check's last_event_at %v, want its ts %v", r.Workspace, r.LastEventAt, w)
		}
		read(func(l *model.Ledger) {
			if sum, _ := l.Summary(r.Workspace); sum.LastTS != w.UnixMilli() {
				t.Errorf("%s: the dashboard's row dated %v, check's LAST EVENT %v: its age must be the same", r.Workspace, time.UnixMilli(sum.LastTS).UTC(), w.UTC())
			}
		})
	}
	if seen != 2 {
		t.Errorf("check listed %d of beta and spender: %s", seen, out)
	}
}
