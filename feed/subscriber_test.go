package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// servers runs a test against the real redis-server (when there is one), a
// three-master Redis Cluster through go-redis's cluster client, and the
// embedded server, whose gap detection takes the fallback path.
func servers(t *testing.T, run func(t *testing.T, c redis.UniversalClient)) {
	t.Run("redis-server", func(t *testing.T) {
		srv := feedtest.StartReal(t, "no redis-server on PATH")
		run(t, srv.Client())
	})
	t.Run("cluster", func(t *testing.T) {
		run(t, feedtest.StartCluster(t).Client())
	})
	t.Run("embedded", func(t *testing.T) {
		e, err := StartEmbedded()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		run(t, e.Client())
	})
}

func mixedEvent(i int) model.Event {
	ws := []string{"acme", "beta", "gamma"}[i%3]
	switch {
	case i%17 == 0:
		return refused(ws, "web", "/mave/chat", model.CodeCreditsExhausted)
	case i%29 == 0:
		return model.Event{Workspace: ws, Kind: model.KindRecharge, Credits: 100}
	}
	project := ""
	if i%2 == 0 {
		project = "research"
	}
	return usage(ws, project, []string{"/responses", "/mave/chat", "/focus-groups"}[i%3], int64(i%9+1))
}

func TestSnapshotThenFollowCountsEveryEventOnce(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		pub := NewPublisher(c, PublisherOptions{})
		for i := range 200 {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		// Publish while the subscriber takes its snapshot and starts following.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 200; i < 500; i++ {
				if err := pub.Track(ctx, mixedEvent(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		f := startFollower(t, c, SubscriberOptions{})
		wg.Wait()
		f.caughtUp(c, 10*time.Second)
		if got, want := f.totals(), redisCounters(t, c, time.Now()); !got.equal(want) {
			t.Fatalf("ledger:\n%v\nredis:\n%v", got, want)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.snaps) != 1 || f.snaps[0].Reason != ReasonStart {
			t.Errorf("snapshots %+v, want one at start", f.snaps)
		}
		if f.conns[0].State != Connecting || f.conns[len(f.conns)-1].State != Connected {
			t.Errorf("connection states %+v, want connecting then connected", f.conns)
		}
	})
}

func TestMalformedEntriesAreReportedAndSkipped(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		pub := NewPublisher(c, PublisherOptions{})
		f := startFollower(t, c, SubscriberOptions{})
		f.waitFor("the start snapshot", 5*time.Second, func(f *follower) bool { return f.ledger != nil })
		stream := Keys{}.Stream()
		garbage := []map[string]any{
			{"hello": "world"},
			{"v": "1", "ts": "1", "ws": "acme", "endpoint": "/responses", "credits": "1", "status": "ok"},
			{"v": "9", "ts": "1", "ws": "acme"},
			{"v": "1", "ts": "1", "ws": "acme", "endpoint": "/responses", "credits": "-4", "status": "200"},
		}
		var badIDs []string
		for i, g := range garbage {
			if err := pub.Track(ctx, usage("acme", "", "/responses", int64(i+1))); err != nil {
				t.Fatal(err)
			}
			id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: g}).Result()
			if err != nil {
				t.Fatal(err)
			}
			badIDs = append(badIDs, id)
		}
		if err := pub.Track(ctx, usage("acme", "", "/responses", 100)); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(c, 10*time.Second)
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.malformed) != len(garbage) {
			t.Fatalf("%d malformed reports, want %d: %+v", len(f.malformed), len(garbage), f.malformed)
		}
		for i, m := range f.malformed {
			var de *model.DecodeError
			if m.ID != badIDs[i] || !errors.As(m.Err, &de) || m.Total != int64(i+1) {
				t.Errorf("report %d: %+v, want id %s with a *model.DecodeError", i, m, badIDs[i])
			}
		}
		if !strings.Contains(f.malformed[1].Err.Error(), "status") {
			t.Errorf("reason %q does not name the field status", f.malformed[1].Err)
		}
		if s, _ := f.ledger.Summary("acme"); s.Used != 1+2+3+4+100 {
			t.Errorf("acme used %d, want %d: entries behind the garbage must count", s.Used, 110)
		}
		if f.lastID == "" || compareIDs(f.lastID, badIDs[len(badIDs)-1]) <= 0 {
			t.Errorf("resume id %s did not move past the malformed entries", f.lastID)
		}
	})
}

func TestPeriodRolloverWithoutRestart(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		next := futureMonth()
		clock := newClock(next.Add(-2 * time.Minute)) // two minutes before a period ends
		pub := NewPublisher(c, PublisherOptions{Now: clock.Now})
		f := startFollower(t, c, SubscriberOptions{Now: clock.Now})
		for range 5 {
			if err := pub.Track(ctx, usage("acme", "", "/responses", 10)); err != nil {
				t.Fatal(err)
			}
		}
		f.caughtUp(c, 5*time.Second)
		if s := f.totals(); s.Used["acme"] != 50 {
			t.Fatalf("before the boundary: used %d, want 50", s.Used["acme"])
		}

		clock.Set(next.Add(time.Minute)) // the new period has begun
		f.waitFor("a rollover snapshot", 5*time.Second, func(f *follower) bool {
			return len(f.snaps) == 2 && f.snaps[1].Reason == ReasonRollover
		})
		if err := pub.Track(ctx, usage("acme", "", "/responses", 7)); err != nil {
			t.Fatal(err)
		}
		// A late event stamped in the old period lands in the old period's hash
		// and does not count in the new one.
		late := usage("acme", "", "/responses", 1000)
		late.TS = next.Add(-time.Second).UnixMilli()
		if err := pub.Track(ctx, late); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(c, 5*time.Second)
		got := f.totals()
		want := redisCounters(t, c, clock.Now())
		if !got.equal(want) || got.Used["acme"] != 7 || got.Period != model.MonthlyUTC.At(next).Key {
			t.Fatalf("after rollover: ledger\n%v\nredis\n%v\nwant acme 7 in %s", got, want, model.MonthlyUTC.At(next).Key)
		}
		if old := redisCounters(t, c, next.Add(-time.Second)); old.Used["acme"] != 1050 {
			t.Errorf("old period used %d, want 1050 (50 + the late 1000)", old.Used["acme"])
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if n := f.ledger.Counts().OtherPeriod; n != 1 {
			t.Errorf("ledger skipped %d other-period events, want 1", n)
		}
		if f.snaps[1].Gen != f.snaps[0].Gen+1 {
			t.Errorf("generations %d then %d", f.snaps[0].Gen, f.snaps[1].Gen)
		}
	})
}

func TestTrimmedStreamIsReportedAsGapAndTotalsStayExact(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		pub := NewPublisher(c, PublisherOptions{})
		for i := range 50 {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		f := startFollower(t, c, SubscriberOptions{})
		f.caughtUp(c, 5*time.Second)

		f.pause() // the consumer stalls on its next message
		for i := 50; i < 300; i++ {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		// Wait until the subscriber is stuck delivering, then trim away most of
		// what it has not read yet.
		time.Sleep(300 * time.Millisecond)
		if err := c.XTrimMaxLen(ctx, Keys{}.Stream(), 20).Err(); err != nil {
			t.Fatal(err)
		}
		for i := 300; i < 320; i++ {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		f.resume()
		f.waitFor("a gap snapshot", 5*time.Second, func(f *follower) bool {
			for _, s := range f.snaps {
				if s.Reason == ReasonGap {
					return true
				}
			}
			return false
		})
		f.caughtUp(c, 5*time.Second)
		if got, want := f.totals(), redisCounters(t, c, time.Now()); !got.equal(want) {
			t.Fatalf("after the gap: ledger\n%v\nredis\n%v", got, want)
		}
	})
}

func TestThreeSubscribersAgree(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	var fs []*follower
	for i := range 3 {
		for j := range 100 {
			if err := pub.Track(ctx, mixedEvent(i*100+j)); err != nil {
				t.Fatal(err)
			}
		}
		// Each starts at a different point of the stream, on its own connection.
		fs = append(fs, startFollower(t, srv.Client(), SubscriberOptions{Count: int64(10 + 40*i)}))
	}
	evs := make([]model.Event, 0, 700)
	for j := range 700 {
		evs = append(evs, mixedEvent(300+j))
	}
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	want := redisCounters(t, c, time.Now())
	for i, f := range fs {
		f.caughtUp(c, 10*time.Second)
		if got := f.totals(); !got.equal(want) {
			t.Errorf("subscriber %d:\n%v\nredis:\n%v", i, got, want)
		}
	}
}

func TestSettingsChangesArriveLive(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		store := NewSettingsStore(c, StoreOptions{})
		if err := store.SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
			t.Fatal(err)
		}
		f := startFollower(t, c, SubscriberOptions{})
		f.waitFor("the snapshot", 5*time.Second, func(f *follower) bool { return f.ledger != nil })
		f.mu.Lock()
		s, _ := f.ledger.Summary("acme")
		f.mu.Unlock()
		if s.Settings.Allocation != 1000 {
			t.Fatalf("snapshot settings %+v", s.Settings)
		}
		if _, err := store.UpdateWorkspace(ctx, "acme", func(s *model.Settings) error { s.UsageLimit = 800; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := store.SetProject(ctx, "acme", "research", model.ProjectBudget{Limit: 300, Alert: 200}); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(c, 5*time.Second)
		f.mu.Lock()
		s, _ = f.ledger.Summary("acme")
		projects := f.ledger.Projects("acme")
		f.mu.Unlock()
		if s.Settings.Allocation != 1000 || s.Settings.UsageLimit != 800 {
			t.Errorf("live settings %+v, want allocation 1000 and limit 800", s.Settings)
		}
		found := false
		for _, p := range projects {
			if p.Name == "research" && p.Budget.Limit == 300 {
				found = true
			}
		}
		if !found {
			t.Errorf("project budget did not arrive: %+v", projects)
		}
		// A period config change re-reads the snapshot under the new rule.
		if err := store.SetPeriod(ctx, model.PeriodConfig{StartDay: 10}); err != nil {
			t.Fatal(err)
		}
		f.waitFor("a period snapshot", 5*time.Second, func(f *follower) bool {
			n := len(f.snaps)
			return n >= 2 && f.snaps[n-1].Reason == ReasonPeriod && f.snaps[n-1].Rule.StartDay == 10
		})
		f.mu.Lock()
		_, phantom := f.ledger.Summary(PeriodEntryWorkspace)
		f.mu.Unlock()
		if phantom {
			t.Errorf("the period entry reached the ledger as a workspace")
		}
	})
}

func TestReconnectStatesAndResume(t *testing.T) {
	// miniredis's restart leaves go-redis connections with stray replies
	srv := feedtest.StartReal(t, "a server going away needs redis-server (CI requires it)")
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	for i := range 100 {
		if err := pub.Track(ctx, mixedEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	f := startFollower(t, c, SubscriberOptions{})
	f.caughtUp(c, 5*time.Second)

	srv.Kill()
	f.waitFor("reconnecting with attempts counted", 10*time.Second, func(f *follower) bool {
		n := len(f.conns)
		return n > 0 && f.conns[n-1].State == Reconnecting && f.conns[n-1].Attempt >= 2 && f.conns[n-1].Err != nil
	})
	srv.Restart()
	for i := 100; i < 200; i++ {
		if err := pub.Track(ctx, mixedEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	f.waitFor("connected again", 10*time.Second, func(f *follower) bool {
		return f.conns[len(f.conns)-1].State == Connected
	})
	f.caughtUp(c, 10*time.Second)
	if got, want := f.totals(), redisCounters(t, c, time.Now()); !got.equal(want) {
		t.Fatalf("after reconnect: ledger\n%v\nredis\n%v", got, want)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.snaps) != 1 {
		t.Errorf("%d snapshots: a reconnect without a gap must resume, not re-snapshot", len(f.snaps))
	}
	var attempts []string
	for _, cm := range f.conns {
		attempts = append(attempts, fmt.Sprintf("%s/%d", cm.State, cm.Attempt))
	}
	t.Logf("connection states: %s", strings.Join(attempts, " "))
}

func TestStatsReportThroughputAndLag(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	f := startFollower(t, c, SubscriberOptions{StatsEvery: 100 * time.Millisecond})
	// The 500 events must come through the stream, not the start snapshot.
	f.waitFor("the start snapshot", 5*time.Second, func(f *follower) bool { return f.ledger != nil })
	pub := NewPublisher(c, PublisherOptions{})
	evs := make([]model.Event, 500)
	for i := range evs {
		evs[i] = mixedEvent(i)
	}
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	f.caughtUp(c, 5*time.Second)
	f.waitFor("stats counting 500 events", 5*time.Second, func(f *follower) bool {
		return len(f.stats) > 0 && f.stats[len(f.stats)-1].Events == 500
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	var peak float64
	for _, s := range f.stats {
		peak = max(peak, s.EventsPerSec)
	}
	last := f.stats[len(f.stats)-1]
	if peak <= 0 || last.Lag <= 0 || last.Lag > 5*time.Second || last.LastID != f.lastID {
		t.Errorf("stats %+v (peak %.0f events/s)", last, peak)
	}
}

func TestResyncAndLostDataReSnapshot(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		pub := NewPublisher(c, PublisherOptions{})
		for i := range 30 {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		f := startFollower(t, c, SubscriberOptions{})
		f.caughtUp(c, 5*time.Second)
		f.sub.Resync()
		f.waitFor("a resync snapshot", 5*time.Second, func(f *follower) bool {
			return len(f.snaps) == 2 && f.snaps[1].Reason == ReasonResync
		})
		// The server loses everything (a restart without persistence).
		if err := flushAll(ctx, c); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		f.waitFor("a snapshot after the data loss", 5*time.Second, func(f *follower) bool {
			r := f.snaps[len(f.snaps)-1].Reason
			return len(f.snaps) >= 3 && (r == ReasonReset || r == ReasonGap)
		})
		f.caughtUp(c, 5*time.Second)
		if got, want := f.totals(), redisCounters(t, c, time.Now()); !got.equal(want) {
			t.Fatalf("after the data loss: ledger\n%v\nredis\n%v", got, want)
		}
	})
}

func TestClientInfoFieldTakesOnlyAnAddress(t *testing.T) {
	for _, tc := range []struct{ info, want string }{
		{"id=3 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name=", "127.0.0.1:6379"},
		{"id=3 laddr=[::1]:6379 fd=8", "[::1]:6379"},
		{"id=3 laddr=\x1b[31mevil:6379 fd=8", ""},
		{"id=3 laddr=nohostport fd=8", ""},
		{"id=3 fd=8", ""},
	} {
		if got := clientInfoField(tc.info, "laddr"); got != tc.want {
			t.Errorf("clientInfoField(%q) = %q, want %q", tc.info, got, tc.want)
		}
	}
}

// TestStartReadsUsedByAfterTheFirstSnapshot: a start's snapshot leaves the
// used_by hash out (the first frame needs only the workspace counters) and
// reads it right after, at a later stream id. Events written in between are in
// that read and in the stream the follow reads on: their project credits must
// count once, their workspace credits once; and the audit, comparing every
// hash with what was delivered, must find nothing to heal.
func TestStartReadsUsedByAfterTheFirstSnapshot(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pub := NewPublisher(c, PublisherOptions{})
		for i := range 60 {
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu      sync.Mutex
			state   LedgerState
			snaps   []*SnapshotMsg
			usedBys []*UsedByMsg
			audits  int64
			done    = make(chan error, 1)
		)
		sub := NewSubscriber(c, SubscriberOptions{AuditEvery: 20 * time.Millisecond, Block: 100 * time.Millisecond,
			Backoff: &Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
		go func() {
			done <- sub.Run(ctx, func(m Msg) {
				if sm, ok := m.(*SnapshotMsg); ok && len(snaps) == 0 {
					// Between the snapshot and the used_by read: 40 more events,
					// in the stream after the snapshot's id and in used_by.
					for i := 60; i < 100; i++ {
						if err := pub.Track(ctx, mixedEvent(i)); err != nil {
							t.Error(err)
						}
					}
					if len(sm.Snap.UsedBy) != 0 || !sm.Snap.UsedByLater {
						t.Errorf("the start snapshot carried %d used_by fields (UsedByLater %v), want none, later", len(sm.Snap.UsedBy), sm.Snap.UsedByLater)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				switch m := m.(type) {
				case *SnapshotMsg:
					snaps = append(snaps, m)
				case *UsedByMsg:
					usedBys = append(usedBys, m)
				case *StatsMsg:
					audits = m.Audits
				}
				state.Apply(m)
			})
		}()
		for i := 100; i < 130; i++ { // and some while it follows
			if err := pub.Track(ctx, mixedEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		tail, err := c.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
		if err != nil || len(tail) != 1 {
			t.Fatalf("stream tail: %v", err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			ok := state.Ledger != nil && compareIDs(state.Ledger.StreamID(), tail[0].ID) >= 0 && audits > fullAuditEvery
			mu.Unlock()
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the follow did not reach %s with %d audits", tail[0].ID, fullAuditEvery+1)
			}
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		got := countersOf(state.Ledger.Totals())
		pending := state.Ledger.UsedByPending()
		nSnaps, nUsedBy := len(snaps), len(usedBys)
		var ubAt, snapAt string
		if nUsedBy > 0 {
			ubAt, snapAt = usedBys[0].StreamID, snaps[0].Snap.StreamID
		}
		mu.Unlock()
		if want := redisCounters(t, c, time.Now()); !got.equal(want) {
			t.Fatalf("ledger:\n%v\nredis:\n%v", got, want)
		}
		if nSnaps != 1 || nUsedBy != 1 || pending || compareIDs(ubAt, snapAt) <= 0 {
			t.Fatalf("%d snapshots, %d used_by reads (at %s, snapshot at %s), pending %v: want one each, used_by read after the 40 events",
				nSnaps, nUsedBy, ubAt, snapAt, pending)
		}
		cancel()
		<-done
	})
}
