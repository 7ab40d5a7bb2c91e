package cmd

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
)

// TestCheckStaleIsNotDefeatedByTheFuture: an entry (with its counters) whose
// id is 10 minutes ahead of the clock made `check --stale 10s` OK for ten
// minutes with last_event_at the check's own time: every time read is clamped
// to now, so nothing looked old and nothing said the ids were ahead (the
// dashboard says "ids 10 min ahead of clock"). Now the skew is said
// (ids_ahead_seconds, the status line) and --stale judges freshness unknown:
// WARNING, without a feed_idle_seconds that would read 0. The same for an
// event whose ts is 10 minutes ahead under an id 20 s old (a producer's clock
// running fast): it is 20 s old, not "now".
func TestCheckStaleIsNotDefeatedByTheFuture(t *testing.T) {
	f := newFixture(t)
	r := "--redis=" + f.srv.URL
	add := func(id, ts time.Time) { t.Helper(); addStamped(t, f, id, ts) }
	type checkOut struct {
		Status     string   `json:"status"`
		Reason     string   `json:"reason"`
		Ahead      *float64 `json:"ids_ahead_seconds"`
		Idle       *float64 `json:"feed_idle_seconds"`
		Workspaces []struct {
			LastEventAt *time.Time `json:"last_event_at"`
		} `json:"workspaces"`
	}
	run := func(args ...string) (checkOut, string, int) {
		t.Helper()
		var got checkOut
		out, _, code := runMavtop(t, append([]string{"check", r, "--json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		text, _, _ := runMavtop(t, append([]string{"check", r}, args...)...)
		status, _, _ := strings.Cut(text, "\n")
		return got, status, code
	}

	// ts ahead, id 20 s ago: 20 s old
	now := time.Now()
	add(now.Add(-20*time.Second), now.Add(10*time.Minute))
	got, status, code := run("--stale", "10s")
	if code != checkWarning || !strings.Contains(got.Reason, "no event for 2") || got.Ahead != nil {
		t.Errorf("an event stamped ahead under an id 20 s old: exit %d, %+v; want WARNING, no event for 20 s", code, got)
	}
	if len(got.Workspaces) != 1 || got.Workspaces[0].LastEventAt == nil || time.Since(*got.Workspaces[0].LastEventAt) < 19*time.Second {
		t.Errorf("last_event_at %v, want its id's time, 20 s ago", got.Workspaces[0].LastEventAt)
	}
	if !strings.HasPrefix(status, "MAVTOP WARNING - no event for 2") {
		t.Errorf("status line %q", status)
	}

	// an id 10 minutes ahead
	add(time.Now().Add(10*time.Minute), time.Now().Add(10*time.Minute))
	got, status, code = run("--stale", "10s")
	if code != checkWarning || got.Status != "warning" || !strings.Contains(got.Reason, "ahead of clock: freshness unknown (--stale 10s)") {
		t.Errorf("ids 10 min ahead, --stale 10s: exit %d, %+v; want WARNING, freshness unknown", code, got)
	}
	if got.Ahead == nil || *got.Ahead < 590 || *got.Ahead > 600 || got.Idle != nil {
		t.Errorf("ids_ahead_seconds %v (want about 600), feed_idle_seconds %v (want none)", got.Ahead, got.Idle)
	}
	if !strings.HasPrefix(status, "MAVTOP WARNING - ids ") || !strings.Contains(status, " min ahead of clock: freshness unknown (--stale 10s)") {
		t.Errorf("status line %q", status)
	}
	// without --stale the status is the credits' (OK), the skew still said
	got, status, code = run()
	if code != checkOK || got.Ahead == nil || !strings.Contains(got.Reason, " min ahead of clock") || !strings.Contains(status, " min ahead of clock") {
		t.Errorf("ids 10 min ahead, no --stale: exit %d, %+v, %q; want OK saying the ids are ahead", code, got, status)
	}
}

// addStamped writes one 3-credit usage of acme, its counter and its entry,
// with the stream id's time id and the producer's ts.
func addStamped(t *testing.T, f *fixture, id, ts time.Time) {
	t.Helper()
	if err := f.c.HIncrBy(f.ctx, feed.Keys{}.Used(f.period), "acme", 3).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.c.XAdd(f.ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: strconv.FormatInt(id.UnixMilli(), 10) + "-0", Values: []any{
		"v", "1", "ts", strconv.FormatInt(ts.UnixMilli(), 10), "ws", "acme", "endpoint", "/responses", "credits", "3", "status", "200"}}).Err(); err != nil {
		t.Fatal(err)
	}
}
