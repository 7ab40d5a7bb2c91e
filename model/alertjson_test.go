package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAlertDurationsAreStoredInSeconds: an alert record held its durations
// in nanoseconds ("spare": 23160717362470) where every other duration mavtop
// writes as JSON is in seconds. It writes run_out_in_seconds, spare_seconds
// and down_seconds, no nanoseconds, reads them back to the nanosecond, and
// reads a record in the form an earlier mavtop stored (nanoseconds).
func TestAlertDurationsAreStoredInSeconds(t *testing.T) {
	a := Alert{ID: "2026-11/acme/-/run_out/-", Kind: AlertRunOut, Period: "2026-11", Workspace: "acme",
		Used: 600, Cap: 1000, PercentUsed: 60, Level: LevelWarn, BurnPerHour: 40,
		RunOutIn: 5*time.Hour + 3*time.Nanosecond, Spare: 6*time.Hour + 26*time.Minute + 717362470, Down: 90 * time.Second}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["spare_seconds"] != 23160.71736247 || m["run_out_in_seconds"] != 18000.000000003 || m["down_seconds"] != 90.0 || m["percent_used"] != 60.0 || m["id"] != a.ID {
		t.Errorf("stored %s", b)
	}
	for _, ns := range []string{"spare", "run_out_in", "down"} {
		if _, ok := m[ns]; ok {
			t.Errorf("%s in nanoseconds stored: %s", ns, b)
		}
	}
	var back Alert
	if err := json.Unmarshal(b, &back); err != nil || back != a {
		t.Errorf("read back %+v (%v), want %+v", back, err, a)
	}
	// a record of the previous version: durations in nanoseconds
	old := strings.NewReplacer(`"run_out_in_seconds":18000.000000003`, `"run_out_in":18000000000003`,
		`"spare_seconds":23160.71736247`, `"spare":23160717362470`, `"down_seconds":90`, `"down":90000000000`).Replace(string(b))
	if old == string(b) || strings.Contains(old, "_seconds") {
		t.Fatalf("the old form was not made: %s", old)
	}
	var fromOld Alert
	if err := json.Unmarshal([]byte(old), &fromOld); err != nil || fromOld != a {
		t.Errorf("read the old form %s as %+v (%v), want %+v", old, fromOld, err, a)
	}
	// no duration: none written
	b, _ = json.Marshal(Alert{ID: "x", Kind: AlertThreshold})
	if strings.Contains(string(b), "seconds") || strings.Contains(string(b), "spare") {
		t.Errorf("an alert without durations: %s", b)
	}
}
