package feed

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAKeyOfAnotherTypeIsNamedAndTheRestConverges: a hash key mavtop reads
// that holds a string (SET over the refused hash, the used hash, …) is the
// data's fault, not the connection's. Before, every audit failed with
// WRONGTYPE and reconnected, the next XREAD said "connected" again, and what
// was shown never converged (95 shown for minutes while HGET said 98). Now
// the key is named (the workspaces' why, BadCounters or BadSettings, the
// stats), every workspace is judged unknown (for used_by, every workspace
// with a limited project), the follow stays connected, the
// hashes that can be read still converge, and a key made a hash again heals.
func TestAKeyOfAnotherTypeIsNamedAndTheRestConverges(t *testing.T) {
	srv := feedtest.StartReal(t, "WRONGTYPE needs redis-server (CI requires it)")
	c := srv.Client()
	ctx := context.Background()
	k := Keys{}
	for _, tc := range []struct {
		name string
		key  func(period string) string
	}{
		{"refused", k.Refused},
		{"used", k.Used},
		{"recharged", k.Recharged},
		{"used_by", k.UsedBy},
		{"settings", func(string) string { return k.Settings() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := flushAll(ctx, c); err != nil {
				t.Fatal(err)
			}
			pub := NewPublisher(c, PublisherOptions{})
			trackAll(t, pub, usage("w1", "web", "/r", 95), usage("w2", "web", "/r", 10),
				refused("w2", "web", "/r", "credits_exhausted"))
			if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "w1", model.Settings{Allocation: 100}); err != nil {
				t.Fatal(err)
			}
			if tc.name == "used_by" {
				// used_by judges only a project with a usage limit: w1's
				// web has one, w2 none (judged by its own counters)
				if err := NewSettingsStore(c, StoreOptions{}).SetProject(ctx, "w1", "web", model.ProjectBudget{Limit: 1000}); err != nil {
					t.Fatal(err)
				}
			}
			f := startFollower(t, c, SubscriberOptions{AuditEvery: 100 * time.Millisecond, StatsEvery: 50 * time.Millisecond})
			f.caughtUp(c, 10*time.Second)
			period := model.MonthlyUTC.At(time.Now()).Key
			key := tc.key(period)
			if err := c.Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, key, "oops", 0).Err(); err != nil {
				t.Fatal(err)
			}
			// a write behind the stream's back to a hash that can still be read
			other, field, want := k.Used(period), "w1", int64(98)
			if tc.name == "used" {
				other, want = k.Recharged(period), 3
			}
			if err := c.HIncrBy(ctx, other, field, 3).Err(); err != nil {
				t.Fatal(err)
			}
			f.waitFor("w1 and w2 judged unknown, naming the key, and the readable hash converged", 20*time.Second, func(f *follower) bool {
				s1, ok1 := f.ledger.Summary("w1")
				s2, ok2 := f.ledger.Summary("w2")
				got := s1.Used
				if tc.name == "used" {
					got = s1.Recharged
				}
				if tc.name == "refused" {
					// only the 402 counts are unknown: w1's 98 of 100 is
					// known and critical, each names the key
					return ok1 && ok2 && got == want && s1.Unreadable == "" && s2.Unreadable == "" &&
						strings.Contains(s1.RefusedUnreadable, key) && strings.Contains(s2.RefusedUnreadable, key) &&
						s1.Level == model.LevelCritical
				}
				w2ok := strings.Contains(s2.Unreadable, key)
				if tc.name == "used_by" {
					// each figure on its own: junk in used_by does not hide
					// w2's OUT (its 402) nor w1's 98 of 100 (critical); only
					// w1's limited project web is unknown, naming the key
					web := false
					for _, p := range f.ledger.Projects("w1") {
						web = web || p.Name == "web" && p.Status.Level == model.LevelUnknown && strings.Contains(p.Status.Unreadable, key)
					}
					return ok1 && ok2 && got == want && s1.Unreadable == "" && s1.Level == model.LevelCritical &&
						s1.Verdict.Level == model.LevelCritical && web && s2.Unreadable == "" && s2.Level == model.LevelExhausted
				}
				return ok1 && ok2 && got == want && strings.Contains(s1.Unreadable, key) && w2ok &&
					s1.Level == model.LevelUnknown
			})
			snaps := 0
			f.waitFor("the stats to name the key", 10*time.Second, func(f *follower) bool {
				st := f.lastStats()
				snaps = len(f.snaps)
				return st != nil && len(st.BadKeys) == 1 && strings.Contains(st.BadKeys[key], key) && strings.Contains(st.BadKeys[key], "holds a string, not a hash")
			})
			f.mu.Lock()
			last := f.snaps[len(f.snaps)-1]
			named := false
			for name, why := range last.BadCounters {
				named = named || name == key && strings.Contains(why.Error(), "WRONGTYPE")
			}
			for name, why := range last.BadSettings {
				named = named || name == key && strings.Contains(why.Error(), "WRONGTYPE")
			}
			failed := slices.ContainsFunc(f.conns, func(m ConnMsg) bool { return m.Err != nil })
			f.mu.Unlock()
			if !named {
				t.Errorf("the re-read names no bad key %s: counters %v, settings %v", key, last.BadCounters, last.BadSettings)
			}
			if failed {
				t.Errorf("a key of another type was taken for a connection failure: %v", f.conns)
			}
			// audits go on and find nothing new: no re-read per audit
			audits := func() int64 {
				f.mu.Lock()
				defer f.mu.Unlock()
				return f.lastStats().Audits
			}
			a0 := audits()
			f.waitFor("three more audits", 10*time.Second, func(f *follower) bool { return f.lastStats().Audits >= a0+3 })
			f.mu.Lock()
			again := len(f.snaps) - snaps
			f.mu.Unlock()
			if again > 0 {
				t.Errorf("%d re-reads while nothing changed: the audit does not settle on a key of another type", again)
			}
			// the key a hash again: the workspaces are judged again
			if err := c.Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
			f.waitFor("w1 judged again and the stats clear", 20*time.Second, func(f *follower) bool {
				s1, ok := f.ledger.Summary("w1")
				st := f.lastStats()
				return ok && s1.Unreadable == "" && s1.Level != model.LevelUnknown && st != nil && len(st.BadKeys) == 0
			})
		})
	}
}
