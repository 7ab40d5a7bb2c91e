package feed

import (
	"context"
	"strconv"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestEveryAuditComparesThePeriodRule is hunt11's fifth defect: a billing
// period config written to the settings hash without its stream entry. check
// and budget show read the hash and switch at once; the dashboard switched
// only at the audit's full read, every fullAuditEveryDigest cadences while
// producers keep the digest (5 minutes at the default, 8.5 measured on a
// loaded machine). Every audit now asks the period field in its MULTI, so the
// dashboard follows within one cadence. Here the full read never comes
// (fullEvery), so only the quick audits can find it: before, the wait timed
// out. Without a digest (readCounters) the full read comes every
// fullAuditEvery cadences anyway; that run checks the quick read's period
// field is read and compared there too, without failing the audit.
func TestEveryAuditComparesThePeriodRule(t *testing.T) {
	for _, digest := range []bool{true, false} {
		name := "digest"
		if !digest {
			name = "counters"
		}
		t.Run(name, func(t *testing.T) {
			srv := feedtest.Start(t)
			c := srv.Client()
			ctx := context.Background()
			keys := Keys{}
			rule := midPeriod(t, c)
			allocate(t, c, map[string]int64{"plain": 1000})
			trackAll(t, NewPublisher(c, PublisherOptions{}), usage("plain", "", "/responses", 118))
			if !digest {
				if err := c.Del(ctx, keys.Digest(rule.At(time.Now()).Key)).Err(); err != nil {
					t.Fatal(err)
				}
			}
			f := startFollower(t, c, SubscriberOptions{AuditEvery: 50 * time.Millisecond, StatsEvery: 50 * time.Millisecond, fullEvery: 1 << 40})
			f.caughtUp(c, 20*time.Second)
			f.waitFor("the audits on the cadence", 20*time.Second, func(f *follower) bool {
				st := f.lastStats()
				return st != nil && st.Audits >= 3 && st.AuditByDigest == digest
			})
			// another start day, with the hash write alone (no stream entry)
			other := model.PeriodConfig{StartDay: rule.StartDay%28 + 1, TZ: "UTC"}
			raw := `{"start_day":` + strconv.Itoa(other.StartDay) + `,"tz":"UTC"}`
			if err := c.HSet(ctx, keys.Settings(), PeriodSettingsField, raw).Err(); err != nil {
				t.Fatal(err)
			}
			want, err := other.Rule()
			if err != nil {
				t.Fatal(err)
			}
			wantKey := want.At(time.Now()).Key
			f.waitFor("the period config read by a quick audit", 20*time.Second, func(f *follower) bool {
				return len(f.snapsOf(ReasonPeriod)) > 0 && f.ledger.Period().Key == wantKey
			})
		})
	}
}
