package feed

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestADatasetReplacedUnderTheSameRunIDIsNamed is issue 11's old master
// rejoining as a replica: the dashboard watches server B (its own data), then
// B is made a replica of A (REPLICAOF: a full sync replaces every key, B's
// run id stays). A's stream starts before the id the dashboard had read to
// and ends after it, and no counter fell, so neither the gap check nor the
// restart test saw it: the audit called it "drift +…" and the ages, burn and
// 402 log derived from B's entries stayed where a fresh start shows A's. The
// entry the dashboard read last is gone from a stream that was not trimmed
// past it nor had it deleted: the dataset was replaced — named
// a reset (SnapshotMsg.Replaced), counted, and everything derived from the old dataset
// dropped (the long-running instance shows what a fresh start shows).
func TestADatasetReplacedUnderTheSameRunIDIsNamed(t *testing.T) {
	srvA, srvB, makeReplica := replicaPair(t)
	a, b := srvA.Client(), srvB.Client()
	ctx := context.Background()
	pubA, pubB := NewPublisher(a, PublisherOptions{}), NewPublisher(b, PublisherOptions{})
	track := func(p *Publisher, evs ...model.Event) {
		t.Helper()
		for _, e := range evs {
			e.TS = time.Now().UnixMilli()
			if err := p.Track(ctx, e); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond) // ids of other milliseconds
		}
	}
	// A's stream starts before B's entries and ends after them; every
	// counter of A is at least B's (no counter falls at the sync).
	track(pubA, usage("acme", "web", "/responses", 900), usage("gamma", "web", "/responses", 100),
		model.Event{Workspace: "gamma", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "gamma-402-A"})
	track(pubB, usage("acme", "web", "/responses", 40), usage("gamma", "web", "/responses", 30),
		model.Event{Workspace: "gamma", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "gamma-402-B"})
	long := startInstance(t, srvB, SubscriberOptions{AuditEvery: 300 * time.Millisecond})
	long.settled(srvB, "the instance watching B")
	if before := long.screen(time.Now()); len(before.Refusals) != 1 || !strings.Contains(before.Refusals[0], "gamma-402-B") {
		t.Fatalf("before the sync the instance does not show B's 402:\n%v", before)
	}
	long.mu.Lock()
	n0 := len(long.snaps)
	long.mu.Unlock()
	track(pubA, usage("acme", "batch", "/focus-groups", 50))

	makeReplica()
	tailA, err := a.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
	if err != nil || len(tailA) == 0 {
		t.Fatalf("A's stream tail: %v %v", tailA, err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		tail, err := b.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
		if err == nil && len(tail) == 1 && tail[0].ID == tailA[0].ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B did not sync A's stream within 20 s: %v %v", tail, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	long.settled(srvB, "the instance after B synced A's data")
	fresh := startInstance(t, srvB, SubscriberOptions{AuditEvery: time.Second})
	fresh.settled(srvB, "a fresh instance on B")
	var got, want screen
	for deadline := time.Now().Add(20 * time.Second); ; {
		now := time.Now()
		got, want = long.screen(now), fresh.screen(now)
		if got.String() == want.String() || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	long.mu.Lock()
	after := append([]SnapshotMsg(nil), long.snaps[n0:]...)
	long.mu.Unlock()
	if got.String() != want.String() {
		t.Errorf("after the dataset was replaced the instance shows\n%vwhere a fresh start shows\n%v(re-reads %v)", got, want, reasons(after))
	}
	if len(after) == 0 || after[0].Reason != ReasonReset || !after[0].Replaced || !after[0].Rewound ||
		!strings.Contains(after[0].Note(), "replaced") {
		t.Errorf("re-reads after the sync: %v, want the first a reset of a replaced dataset, rewound, its note naming it", reasons(after))
	}
	for _, sm := range after {
		if sm.Reason == ReasonDrift {
			t.Errorf("re-reads %v: the replaced dataset was called a drift (note %q)", reasons(after), sm.Note())
		}
	}
}

// TestALostRechargeIsNamedWithItsFigure: a DEL of the period's recharged hash
// loses a 500 recharge. The drift re-read that heals it names the figure —
// on screen (the header reads RechargedDelta), in the note the alert and the
// notifications carry — where before it said "drift" with no figure (only
// credits used were summed).
func TestALostRechargeIsNamedWithItsFigure(t *testing.T) {
	srv := feedtest.StartReal(t, "the heal of a DEL is tested on redis-server (CI requires it)")
	c := srv.Client()
	ctx := context.Background()
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 200 * time.Millisecond})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	trackAll(t, NewPublisher(c, PublisherOptions{}), usage("alpha", "web", "/responses", 100),
		model.Event{Workspace: "alpha", Kind: model.KindRecharge, Credits: 500})
	f.caughtUp(c, 10*time.Second)
	f.convergedTo(c, "before the DEL", 30*time.Second)
	if err := c.Del(ctx, Keys{}.Recharged(model.MonthlyUTC.At(time.Now()).Key)).Err(); err != nil {
		t.Fatal(err)
	}
	f.convergedTo(c, "after the DEL", 30*time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	drifts := f.snapsOf(ReasonDrift)
	if len(drifts) != 1 {
		t.Fatalf("%d drift re-reads, want 1 (snapshots %v)", len(drifts), reasons(f.snaps))
	}
	d := drifts[0]
	if d.UsedDelta != 0 || d.RechargedDelta != -500 || !strings.HasSuffix(d.Note(), "counters re-read, −500 credits recharged") {
		t.Errorf("the heal of the lost recharge: used %+d, recharged %+d, note %q; want 0, −500 and the note naming −500 credits recharged",
			d.UsedDelta, d.RechargedDelta, d.Note())
	}
}
