package feed

import (
	"context"
	"hash/maphash"
	"math"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestReReadDeltaDoesNotWrap: the credits a re-read finds beyond what was
// shown are exact for counters anywhere up to ±2^63, and clamped to ±MaxInt64
// beyond (an int64 sum wrapped: a loss of 2^63 credits read as a gain).
func TestReReadDeltaDoesNotWrap(t *testing.T) {
	const top, bottom = math.MaxInt64, math.MinInt64
	for _, tc := range []struct {
		name          string
		shown, redis  map[string]int64
		want          int64
		changed, fell int
	}{
		{"ordinary loss", map[string]int64{"a": 6663}, map[string]int64{"a": 3736}, -2927, 1, 1},
		{"gain to the top", map[string]int64{"a": -5}, map[string]int64{"a": top}, top, 1, 0},
		{"loss from the top", map[string]int64{"a": top}, map[string]int64{"a": -5}, -top, 1, 1},
		{"top to bottom", map[string]int64{"a": top}, map[string]int64{"a": bottom}, -top, 1, 1},
		{"bottom to top", map[string]int64{"a": bottom}, map[string]int64{"a": top}, top, 1, 0},
		// +(2^64−1) −(2^63−1) −(2^63−1): every term but the last wraps an int64
		{"terms beyond, sum within", map[string]int64{"a": bottom, "b": top, "c": top}, map[string]int64{"a": top}, 1, 3, 2},
		{"two new at the top", map[string]int64{}, map[string]int64{"a": top, "b": top}, top, 2, 0},
		{"two lost at the bottom", map[string]int64{"a": bottom, "b": bottom}, map[string]int64{}, top, 2, 0},
		{"exactly the bottom", map[string]int64{"a": 0, "b": 1}, map[string]int64{"a": bottom + 1, "b": 0}, -top, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := maphash.MakeSeed()
			tallyFor := func(used map[string]int64) *tally {
				return tallyOf(seed, &model.Snapshot{Used: used}, nil)
			}
			got, changed, fell := tallyFor(tc.shown).diff(tallyFor(tc.redis))
			if got != tc.want || changed != tc.changed || fell != tc.fell {
				t.Errorf("delta %d, changed %d, fell %d; want %d, %d, %d", got, changed, fell, tc.want, tc.changed, tc.fell)
			}
			want := ", +" + model.FormatCredits(got) + " credits"
			if got < 0 {
				want = ", −" + model.FormatCredits(-got) + " credits"
			}
			if note := (&SnapshotMsg{Reason: ReasonDrift, UsedDelta: got}).Note(); !strings.HasSuffix(note, want) {
				t.Errorf("note %q for a delta of %d, want it to end %q", note, got, want)
			}
		})
	}
}

// TestHostileCountersDeltaOnRedis: counters set near ±2^63 behind mavtop's
// back (no entry) are healed by the audit, and the re-read's note and delta
// say the loss or gain with its sign, not a wrapped one. A negative counter
// cannot be read (a used counter only grows): the workspace is judged
// unknown, its credits shown as none, until a good value heals it.
func TestHostileCountersDeltaOnRedis(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	period := model.MonthlyUTC.At(time.Now()).Key
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 200 * time.Millisecond})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	set := func(v int64) {
		t.Helper()
		if err := c.HSet(ctx, Keys{}.Used(period), "alpha", v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	drifts := func() []SnapshotMsg {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.snapsOf(ReasonDrift)
	}
	for i, step := range []struct {
		to   int64
		want int64
		note string
	}{
		{math.MaxInt64, math.MaxInt64, "+9,223,372,036,854,775,807 credits"},
		// MinInt64 is unreadable: what was shown is gone (0 − MaxInt64)
		{math.MinInt64, -math.MaxInt64, "−9,223,372,036,854,775,807 credits"},
		// a good value again heals it
		{2927, 2927, "+2,927 credits"},
	} {
		set(step.to)
		f.waitFor("the audit to heal the counter", 30*time.Second, func(f *follower) bool {
			return len(f.snapsOf(ReasonDrift)) > i
		})
		d := drifts()[i]
		if d.UsedDelta != step.want || !strings.HasSuffix(d.Note(), step.note) {
			t.Errorf("counter set to %d: delta %d, note %q; want %d, %q", step.to, d.UsedDelta, d.Note(), step.want, step.note)
		}
		s, _ := f.ledgerSummary("alpha")
		if step.to < 0 {
			if s.Used != 0 || s.Level != model.LevelUnknown || !strings.Contains(s.Unreadable, "is negative") {
				t.Errorf("counter set to %d, the ledger shows %d at %v (%q); want 0, unknown, negative", step.to, s.Used, s.Level, s.Unreadable)
			}
		} else if s.Used != step.to || s.Level == model.LevelUnknown || s.Unreadable != "" {
			t.Errorf("counter set to %d, the ledger shows %d at %v (%q)", step.to, s.Used, s.Level, s.Unreadable)
		}
	}
}
