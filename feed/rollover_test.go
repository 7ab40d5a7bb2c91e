package feed

import (
	"context"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestARolloverShowsWhatAFreshStartShows: a billing period's first entries
// written before the instance watching all along re-reads the new period's
// counters (its clock still in the old period: the ledger skipped them as
// another period's) decide the new period as a start reading them back
// decides it. Before (hostile22 P) the rollover's re-read judged OUT by the
// new counters alone: a recharge and a credits_exhausted 402 after it, both
// held, read ok on the dashboard that watched (a credit the counters cannot
// order) and OUT on a start and in check (which read the 402 after the
// recharge), until the next 402; every ages, burn and 402-log figure of the
// new period likewise came from the counters alone.
func TestARolloverShowsWhatAFreshStartShows(t *testing.T) {
	srv, clock, next, at, track := beforeAPeriodEnds(t, map[string]int64{"acme": 1_000, "beta": 1_000})
	// the old period: acme spent and was refused (OUT there), beta spent
	track(
		model.Event{TS: at(-100 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 900, Status: 200},
		model.Event{TS: at(-90 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "acme-old"},
		model.Event{TS: at(-80 * time.Second), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 100, Status: 200},
	)
	long := startInstance(t, srv, SubscriberOptions{Now: clock.Now, AuditEvery: 200 * time.Millisecond})
	long.settled(srv, "the instance before the period ends")
	if r := long.screen(clock.Now()).Rows["acme"]; !r.Out {
		t.Fatalf("acme before the boundary: %+v, want OUT (its 402 came after its last credit)", r)
	}
	// The new period's first entries, read while the clock is still in the
	// old one: acme recharged, then refused again (OUT: the 402 is after the
	// credit); beta refused, then recharged (not OUT); gamma new.
	track(
		model.Event{TS: at(5 * time.Second), Workspace: "acme", Kind: model.KindRecharge, Credits: 500},
		model.Event{TS: at(6 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 30, Status: 200},
		model.Event{TS: at(7 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "acme-new"},
		model.Event{TS: at(8 * time.Second), Workspace: "beta", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "beta-new"},
		model.Event{TS: at(9 * time.Second), Workspace: "beta", Kind: model.KindRecharge, Credits: 200},
		model.Event{TS: at(10 * time.Second), Workspace: "gamma", Project: "web", Endpoint: "/responses", Credits: 20, Status: 200},
	)
	long.waitApplied(srv)
	clock.Set(next.Add(20 * time.Second)) // the new period has begun: the re-read comes
	long.settled(srv, "the instance after the rollover")

	fresh := startInstance(t, srv, SubscriberOptions{Now: clock.Now, AuditEvery: 200 * time.Millisecond})
	fresh.settled(srv, "a fresh instance in the new period")
	now := clock.Now()
	got, want := long.screen(now), fresh.screen(now)
	if got.String() != want.String() {
		t.Fatalf("after the rollover the instance that watched all along shows\n%vwhere a fresh start shows\n%v", got, want)
	}
	// the numbers themselves, not only their agreement
	if r := got.Rows["acme"]; !r.Out || r.Used != 30 || r.LastTS != at(7*time.Second) {
		t.Errorf("acme in the new period: %+v, want OUT (a 402 after its recharge), 30 used, newest event at +7 s", r)
	}
	if r := got.Rows["beta"]; r.Out || r.Used != 0 {
		t.Errorf("beta in the new period: %+v, want not OUT (recharged after its 402), 0 used", r)
	}
	if r := got.Rows["gamma"]; r.Used != 20 || r.LastTS != at(10*time.Second) {
		t.Errorf("gamma in the new period: %+v, want 20 used, newest event at +10 s", r)
	}
	long.mu.Lock()
	defer long.mu.Unlock()
	var rollovers int
	for _, s := range long.snaps {
		if s.Reason == ReasonRollover {
			rollovers++
			if !s.Fresh() || s.Rewound {
				t.Errorf("the rollover's re-read: fresh %v rewound %v, want a fresh ledger (the hour read back) and nothing lost", s.Fresh(), s.Rewound)
			}
		}
	}
	if rollovers != 1 {
		t.Errorf("rollovers %d (snapshots %v), want 1", rollovers, reasons(long.snaps))
	}
}

// waitApplied waits until the instance's hub has applied the stream's newest
// entry.
func (in *instance) waitApplied(srv *feedtest.Server) {
	in.t.Helper()
	msgs, err := srv.Client().XRevRangeN(context.Background(), Keys{}.Stream(), "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		in.t.Fatalf("stream tail: %v (%d entries)", err, len(msgs))
	}
	waitUntilFeed(in.t, "the instance to apply "+msgs[0].ID, func() bool { return in.hub.Applied(msgs[0].ID) })
}

// TestLateOldPeriodEntriesAfterTheRolloverCharge: entries of the old period
// (their ts before the boundary: the producer's clock a little behind the
// dashboard's, or a batch flushed late) read live after the rollover's
// re-read count in the old period's counters and charge the burn, as a
// fresh start reading them back charges it (Backfill: the burn is not per
// period). Before, the watching ledger skipped them whole: acme's burn
// 40/h there, 3,640/h on a fresh start, for the hour after (hostile23 #5).
func TestLateOldPeriodEntriesAfterTheRolloverCharge(t *testing.T) {
	srv, clock, next, at, track := beforeAPeriodEnds(t, map[string]int64{"acme": 100_000, "beta": 1_000})
	track(
		model.Event{TS: at(-100 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 900, Status: 200},
		model.Event{TS: at(-80 * time.Second), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 100, Status: 200},
	)
	long := startInstance(t, srv, SubscriberOptions{Now: clock.Now, AuditEvery: 200 * time.Millisecond})
	long.settled(srv, "the instance before the period ends")
	clock.Set(next.Add(20 * time.Second)) // the rollover's re-read comes
	long.settled(srv, "the instance after the rollover")
	// a producer whose clock is 25 s behind (or that flushes its batch
	// late) writes its last old-period charges now
	clock.Set(next.Add(21 * time.Second))
	track(
		model.Event{TS: at(-4 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 5_000, Status: 200},
		model.Event{TS: at(-3 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 5_000, Status: 200},
		model.Event{TS: at(5 * time.Second), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 10, Status: 200},
	)
	long.settled(srv, "the instance after the late entries")
	clock.Set(next.Add(5 * time.Minute))
	fresh := startInstance(t, srv, SubscriberOptions{Now: clock.Now, AuditEvery: 200 * time.Millisecond})
	fresh.settled(srv, "a fresh instance in the new period")
	now := clock.Now()
	got, want := long.screen(now), fresh.screen(now)
	if got.String() != want.String() {
		t.Fatalf("late old-period entries after the rollover: the instance that watched shows\n%vwhere a fresh start shows\n%v", got, want)
	}
}

// beforeAPeriodEnds starts a Redis for t with allocations set, and a clock
// two minutes before a billing period ends (next: its end), the stream's
// ids on that clock as the events' ts (ClockIDs); at is a time relative to
// next (unix ms), track writes events through a producer on the clock.
func beforeAPeriodEnds(t *testing.T, allocations map[string]int64) (srv *feedtest.Server, clock *fakeClock, next time.Time, at func(time.Duration) int64, track func(...model.Event)) {
	t.Helper()
	srv = feedtest.Start(t)
	c := srv.Client()
	next = futureMonth()
	clock = newClock(next.Add(-2 * time.Minute))
	ids := new(ClockIDs)
	allocateBy(t, c, StoreOptions{Now: clock.Now, IDs: ids}, allocations)
	pub := NewPublisher(c, PublisherOptions{Now: clock.Now, IDs: ids})
	at = func(d time.Duration) int64 { return next.Add(d).UnixMilli() }
	track = func(evs ...model.Event) {
		t.Helper()
		if err := pub.TrackBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	return srv, clock, next, at, track
}
