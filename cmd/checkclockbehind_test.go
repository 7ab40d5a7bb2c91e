package cmd

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCheckStaleIsNotFooledByASlowProducerClock: a producer whose clock runs
// 20 minutes slow writes ts 20 minutes before the id Redis gives its entry.
// Its events are a second old, not 20 minutes (model.TrustedTime: beyond
// MaxClockBehind the id's time dates the event): check --stale 10m is not
// WARNING and last_event_at is the id's time. Before, it said "no event for
// 20 min" of a feed taking events every second.
func TestCheckStaleIsNotFooledByASlowProducerClock(t *testing.T) {
	f := newFixture(t)
	r := "--redis=" + f.srv.URL
	id := time.Now().Add(-time.Second)
	addStamped(t, f, id, id.Add(-20*time.Minute))
	out, _, code := runMavtop(t, "check", r, "--json", "--stale", "10m")
	var got struct {
		Status     string `json:"status"`
		Reason     string `json:"reason"`
		Workspaces []struct {
			Workspace   string     `json:"workspace"`
			LastEventAt *time.Time `json:"last_event_at"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if code == checkWarning || strings.Contains(got.Reason, "no event for") {
		t.Errorf("a producer 20 min slow, its entry 1 s old: exit %d, %+v; want no stale WARNING", code, got)
	}
	for _, w := range got.Workspaces {
		if w.Workspace == "acme" && (w.LastEventAt == nil || w.LastEventAt.Before(id.Add(-time.Second))) {
			t.Errorf("acme's last_event_at %v, want the id's time %v", w.LastEventAt, id)
		}
	}
}
