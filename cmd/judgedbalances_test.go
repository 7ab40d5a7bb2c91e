package cmd

import (
	"context"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestTheRetryQueueWaitsForAWorkspaceTheAPIRefuses: the retry queue's
// poller and the client's pre-flight read a workspace's remaining credits
// through judgedBalances, which gives none while the hub's ledger judges it
// OUT by a credits_exhausted 402 newer than its last credit: the estimator
// pane said "0 credits: the API refuses it" and refused the job, yet the
// poller relaunched it a second after `r`, by the counters' 9,900 left
// (hostile14 #1). A recharge ends it. On a real redis-server.
func TestTheRetryQueueWaitsForAWorkspaceTheAPIRefuses(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 10_000, "e1")
	f.track(t,
		model.Event{Workspace: "e1", Endpoint: "/responses", Credits: 100, Status: 200},
		model.Event{Workspace: "e1", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{}), nil, nil)
	bal := feed.NewBalances(f.c, feed.StoreOptions{})
	j := judgedBalances{bal, hub}
	blocked := func() bool {
		b := false
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l != nil {
				s, _ := l.Summary("e1")
				b = s.Blocked
			}
		})
		return b
	}
	waitUntil(t, 10*time.Second, "the hub judges e1 refused", blocked)
	if rem, known, err := bal.Remaining(ctx, "e1"); err != nil || !known || rem != 9900 {
		t.Fatalf("the counters: %d known %v (%v), want 9,900", rem, known, err)
	}
	if rem, known, err := j.Remaining(ctx, "e1"); err != nil || !known || rem != 0 {
		t.Fatalf("judged: %d known %v (%v), want 0 while the API refuses it", rem, known, err)
	}
	// a top-up: credits again
	f.track(t, model.Event{Workspace: "e1", Kind: model.KindRecharge, Credits: 500})
	waitUntil(t, 10*time.Second, "the hub sees the recharge", func() bool { return !blocked() })
	if rem, _, err := j.Remaining(ctx, "e1"); err != nil || rem != 10_400 {
		t.Fatalf("after a recharge: %d (%v), want 10,400", rem, err)
	}
}
