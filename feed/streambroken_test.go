package feed

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAStreamThatCannotBeReadBacksOffAndStillConverges is hunt11's second
// defect: the stream key replaced by a hash (WRONGTYPE), then a producer's
// MULTI whose XADD fails while its HINCRBYs run. Before, the subscriber
// flipped connected / reconnecting ~8 times a second (the CLIENT INFO that
// asks which server answers counted as a reconnect: the backoff never grew,
// and feed_stale resolved "flowing again" while nothing was read), and the
// screen stayed at 118 while Redis said 125: every audit read the stream too
// and failed with it. Now: the state stays reconnecting with a backoff that
// grows, every attempt names the key and why, the feed_stale alert holds
// while nothing is read, check's read names the key, the counters converge
// within the audit cadence meanwhile, and once the stream is back everything
// is counted once. The class: a user that may not read the stream (NOPERM).
func TestAStreamThatCannotBeReadBacksOffAndStillConverges(t *testing.T) {
	for _, member := range []string{"wrongtype", "noperm"} {
		t.Run(member, func(t *testing.T) {
			srv := feedtest.StartReal(t, "ACLs and WRONGTYPE as redis-server answers them")
			c := srv.Client()
			ctx := context.Background()
			keys := Keys{}
			rule := midPeriod(t, c)
			period := rule.At(time.Now()).Key
			allocate(t, c, map[string]int64{"plain": 1000})
			pub := NewPublisher(c, PublisherOptions{})
			trackAll(t, pub, usage("plain", "", "/responses", 118))

			sc := c
			if member == "noperm" {
				if err := c.Do(ctx, "ACL", "SETUSER", "viewer", "on", ">pw", "~*", "&*", "+@all").Err(); err != nil {
					t.Fatal(err)
				}
				var err error
				sc, err = NewClient(ConnectOptions{URL: "redis://viewer:pw@" + srv.Addr + "/0"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = sc.Close() })
			}
			f := startFollower(t, sc, SubscriberOptions{AuditEvery: 300 * time.Millisecond,
				Backoff: &Backoff{Min: 20 * time.Millisecond, Max: 400 * time.Millisecond}})
			f.caughtUp(c, 20*time.Second)
			f.convergedTo(c, "the start", 20*time.Second)

			// break the stream
			switch member {
			case "wrongtype":
				if err := c.Rename(ctx, keys.Stream(), "{mavera}:usage_bak").Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.HSet(ctx, keys.Stream(), "a", "b").Err(); err != nil {
					t.Fatal(err)
				}
			case "noperm":
				if err := c.Do(ctx, "ACL", "SETUSER", "viewer", "-xread").Err(); err != nil {
					t.Fatal(err)
				}
			}
			f.mu.Lock()
			brokeAt := len(f.conns)
			f.mu.Unlock()
			// the producer's MULTI: the HINCRBYs run; the XADD fails (wrongtype)
			// or succeeds unread (noperm)
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			_, _ = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HIncrBy(ctx, keys.Used(period), "plain", 7)
				p.HIncrBy(ctx, keys.UsedBy(period), model.UsedByField("plain", "", "/responses"), 7)
				p.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), Values: []any{
					"v", "1", "ts", ts, "ws", "plain", "endpoint", "/responses", "credits", "7", "status", "200"}})
				return nil
			})
			f.convergedTo(c, "while the stream cannot be read", 20*time.Second)
			if s, _ := f.ledgerSummary("plain"); s.Used != 125 {
				t.Errorf("while the stream cannot be read plain shows %d, Redis 125", s.Used)
			}
			f.waitFor("several attempts with backoff", 30*time.Second, func(f *follower) bool {
				n := 0
				for _, m := range f.conns[brokeAt:] {
					if m.Retry >= 200*time.Millisecond {
						n++
					}
				}
				return n >= 3
			})
			f.waitFor("stats counting the reconnect", 30*time.Second, func(f *follower) bool {
				return f.lastStats() != nil && f.lastStats().Reconnects >= 1
			})
			f.mu.Lock()
			conns := append([]ConnMsg(nil), f.conns[brokeAt:]...)
			var reconnects int64
			if st := f.lastStats(); st != nil {
				reconnects = st.Reconnects
			}
			f.mu.Unlock()
			last := 0
			for i, m := range conns {
				if m.State == Connected {
					t.Fatalf("conn message %d says connected while the stream cannot be read: %+v", i, conns)
				}
				if m.Attempt <= last {
					t.Fatalf("attempt %d after %d: the backoff started over (%+v)", m.Attempt, last, conns)
				}
				last = m.Attempt
				if m.Err == nil || !strings.Contains(m.Err.Error(), `"{mavera}:usage"`) {
					t.Fatalf("attempt %d does not name the stream key: %v", m.Attempt, m.Err)
				}
				if member == "wrongtype" && !strings.Contains(m.Err.Error(), `"{mavera}:usage" holds a hash (WRONGTYPE)`) {
					t.Fatalf("attempt %d does not say why: %v", m.Attempt, m.Err)
				}
			}
			if reconnects != 1 {
				t.Errorf("%d reconnects counted for one broken stream", reconnects)
			}
			// feed_stale: nothing is flowing, so it holds (a short limit here)
			// (as the watcher builds it from the conn messages)
			lastConn := conns[len(conns)-1]
			h := model.FeedHealth{Connected: lastConn.State == Connected, Since: lastConn.Since}
			if se := (*StreamError)(nil); errors.As(lastConn.Err, &se) {
				h.Unreadable = se.Why
			}
			f.mu.Lock()
			var stale *model.Alert
			for _, a := range model.EvaluateAlerts(f.ledger, time.Now().Add(time.Second), h, model.AlertOptions{Stale: 100 * time.Millisecond}, nil) {
				if a.Kind == model.AlertStale {
					stale = &a
				}
			}
			f.mu.Unlock()
			if stale == nil || stale.Condition != model.ConditionHolds {
				t.Errorf("feed_stale does not hold while the stream cannot be read: %+v", stale)
			} else if tr := (model.AlertTransition{Alert: *stale, Status: model.AlertFiring}); !strings.Contains(tr.Summary(""), `the usage stream cannot be read (stream "{mavera}:usage"`) {
				t.Errorf("feed_stale says %q", tr.Summary(""))
			}
			if member == "wrongtype" {
				// mavtop check's read: the counters read, the stream named
				// (it decides no level: each figure on its own)
				res, err := ReadWorkspaceSnapshot(ctx, c, keys, time.Now(), rule)
				if err != nil || !strings.Contains(res.StreamUnreadable(), `stream "{mavera}:usage" holds a hash (WRONGTYPE)`) || res.Snap.Used["plain"] == 0 {
					t.Errorf("check's read of a wrong-typed stream: %v, %+v", err, res)
				}
			}

			// the stream back: everything counted once, connected again
			switch member {
			case "wrongtype":
				if err := c.Del(ctx, keys.Stream()).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Rename(ctx, "{mavera}:usage_bak", keys.Stream()).Err(); err != nil {
					t.Fatal(err)
				}
			case "noperm":
				if err := c.Do(ctx, "ACL", "SETUSER", "viewer", "+xread").Err(); err != nil {
					t.Fatal(err)
				}
			}
			trackAll(t, pub, usage("plain", "", "/responses", 5))
			f.caughtUp(c, 20*time.Second)
			f.convergedTo(c, "after the stream came back", 20*time.Second)
			f.waitFor("connected again", 20*time.Second, func(f *follower) bool {
				return f.conns[len(f.conns)-1].State == Connected
			})
			if s, _ := f.ledgerSummary("plain"); s.Used != 130 {
				t.Errorf("after the stream came back plain shows %d, Redis 130", s.Used)
			}
		})
	}
}

// TestADeletedStreamOrWrongTypedSettingsStillConverge are the other members
// of the class: the stream deleted (not wrong-typed) while a producer goes on
// writing, which recreates it (a reset of what was read: no connection
// failure, no reconnect counted), and the settings hash replaced by a string
// (every workspace judged unknown, the counters still followed). Each
// converges to what Redis holds, and counts nothing twice once back.
func TestADeletedStreamOrWrongTypedSettingsStillConverge(t *testing.T) {
	for _, member := range []string{"stream deleted", "settings wrong-typed"} {
		t.Run(member, func(t *testing.T) {
			srv := feedtest.Start(t)
			c := srv.Client()
			ctx := context.Background()
			keys := Keys{}
			if member != "settings wrong-typed" {
				// the period config lives in the settings hash: wrong-typed,
				// it is calendar months in UTC for every reader, so that
				// member counts by them from the start
				midPeriod(t, c)
			}
			allocate(t, c, map[string]int64{"plain": 1000})
			pub := NewPublisher(c, PublisherOptions{})
			trackAll(t, pub, usage("plain", "", "/responses", 118))
			f := startFollower(t, c, SubscriberOptions{AuditEvery: 300 * time.Millisecond})
			f.caughtUp(c, 20*time.Second)
			switch member {
			case "stream deleted":
				if err := c.Del(ctx, keys.Stream()).Err(); err != nil {
					t.Fatal(err)
				}
			case "settings wrong-typed":
				if err := c.Rename(ctx, keys.Settings(), "{mavera}:settings_bak").Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Set(ctx, keys.Settings(), "x", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			trackAll(t, pub, usage("plain", "", "/responses", 7))
			f.convergedTo(c, "after the break", 20*time.Second)
			if s, ok := f.ledgerSummary("plain"); s.Used != 125 {
				t.Errorf("after the break plain shows %d (%v), Redis 125; totals %v, snaps %v", s.Used, ok, f.totals(), reasons(f.snaps))
			}
			if member == "settings wrong-typed" {
				f.waitFor("plain judged unknown", 20*time.Second, func(f *follower) bool {
					s, _ := f.ledger.Summary("plain")
					return s.Level == model.LevelUnknown
				})
				if err := c.Del(ctx, keys.Settings()).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Rename(ctx, "{mavera}:settings_bak", keys.Settings()).Err(); err != nil {
					t.Fatal(err)
				}
			}
			trackAll(t, pub, usage("plain", "", "/responses", 5))
			f.caughtUp(c, 20*time.Second)
			f.convergedTo(c, "after more writes", 20*time.Second)
			f.waitFor("plain at 130 and judged", 20*time.Second, func(f *follower) bool {
				s, _ := f.ledger.Summary("plain")
				return s.Used == 130 && s.Level != model.LevelUnknown
			})
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, m := range f.conns {
				if m.State == Reconnecting {
					t.Errorf("a %s was taken for a connection failure: %+v", member, m)
					break
				}
			}
		})
	}
}
