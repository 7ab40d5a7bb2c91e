package feed

import (
	"context"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

func TestBalancesRemainingIsFreshAndExact(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	clock := newClock(futureMonth().Add(time.Hour))
	pub := NewPublisher(c, PublisherOptions{Now: clock.Now})
	bal := NewBalances(c, StoreOptions{Now: clock.Now})
	store := NewSettingsStore(c, StoreOptions{Now: clock.Now})

	if _, known, err := bal.Remaining(ctx, "acme"); err != nil || known {
		t.Fatalf("no settings: known %v, %v; want unknown", known, err)
	}
	if err := store.SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000, UsageLimit: 900}); err != nil {
		t.Fatal(err)
	}
	if err := pub.Track(ctx, usage("acme", "", "/focus-groups", 600)); err != nil {
		t.Fatal(err)
	}
	rem, known, err := bal.Remaining(ctx, "acme")
	if err != nil || !known || rem != 300 {
		t.Fatalf("remaining %d, %v, %v; want 300 (the usage limit comes first)", rem, known, err)
	}
	if err := pub.Track(ctx, model.Event{Workspace: "acme", Kind: model.KindRecharge, Credits: 500}); err != nil {
		t.Fatal(err)
	}
	if err := store.SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	rem, known, err = bal.Remaining(ctx, "acme")
	if err != nil || !known || rem != 900 {
		t.Fatalf("remaining %d, %v, %v; want 900 (1000 + 500 recharged − 600)", rem, known, err)
	}
	// Next period: counters start afresh.
	clock.Add(32 * 24 * time.Hour)
	if rem, _, _ := bal.Remaining(ctx, "acme"); rem != 1000 {
		t.Errorf("next period remaining %d, want 1000", rem)
	}
}
