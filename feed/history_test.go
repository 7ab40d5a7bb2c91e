package feed

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestStartReadsHistoryInTheBackground: a mavtop started after an hour of
// traffic shows the snapshot's counters at once, then folds the hour read back
// page by page (never more than a page held) into its burn rate, its 402 log
// and who is being refused, while the counters stay what Redis holds.
func TestStartReadsHistoryInTheBackground(t *testing.T) {
	defer func(n int64) { historyPage = n }(historyPage)
	historyPage = 7
	rdb := feedtest.Start(t).Client()
	ctx := context.Background()
	now := time.Now()
	// the history's ids dated by its ts (ClockIDs), as producers on time wrote
	// them: the burn is dated by the ids (model.Event.At); the period before it
	ids := new(ClockIDs)
	midPeriodBy(t, rdb, StoreOptions{Now: func() time.Time { return now.Add(-4 * time.Hour) }, IDs: ids}) // the 3 h written inside the period at any hour CI runs
	pub := NewPublisher(rdb, PublisherOptions{Now: func() time.Time { return now }, IDs: ids})
	at := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	var evs []model.Event
	for i := 119; i >= 0; i-- { // 10 credits every 30 s for the last hour, oldest first
		evs = append(evs, model.Event{TS: at(time.Duration(i) * 30 * time.Second), Workspace: "acme",
			Endpoint: "/responses", Credits: 10, Status: 200})
	}
	evs = append(evs,
		model.Event{TS: at(3 * time.Hour), Workspace: "acme", Endpoint: "/responses", Credits: 1000, Status: 200},
		// dry was refused half an hour ago and nothing succeeded since: OUT
		model.Event{TS: at(40 * time.Minute), Workspace: "dry", Endpoint: "/responses", Credits: 5, Status: 200},
		model.Event{TS: at(30 * time.Minute), Workspace: "dry", Endpoint: "/mave/chat", Status: 402, Code: model.CodeCreditsExhausted, Req: "dry-402"},
		// back was refused, then recharged: not refused now (a call that went
		// through adds no credit: OUT lasts until credits are added)
		model.Event{TS: at(20 * time.Minute), Workspace: "back", Endpoint: "/mave/chat", Status: 402, Code: model.CodeCreditsExhausted, Req: "back-402"},
		model.Event{TS: at(15 * time.Minute), Workspace: "back", Endpoint: "/responses", Credits: 5, Status: 200},
		model.Event{TS: at(10 * time.Minute), Workspace: "back", Kind: model.KindRecharge, Credits: 500},
	)
	slices.SortStableFunc(evs, func(a, b model.Event) int { return cmp.Compare(a.TS, b.TS) }) // written in time order
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := NewSettingsStore(rdb, StoreOptions{}).SetWorkspace(ctx, "dry", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var s LedgerState
	var order []string
	var pages, most int
	var done *HistoryMsg
	runState(t, rdb, SubscriberOptions{Block: 100 * time.Millisecond}, &mu, &s, func(m Msg) {
		switch m := m.(type) {
		case *SnapshotMsg:
			order = append(order, "snapshot")
			if len(m.History) != 0 {
				t.Errorf("the first snapshot waited for %d history events", len(m.History))
			}
		case *HistoryMsg:
			order = append(order, "history")
			pages++
			most = max(most, len(m.Events))
			if m.Done {
				done = m
			}
		}
	})
	waitUntilFeed(t, "the history read back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return done != nil
	})
	mu.Lock()
	defer mu.Unlock()
	if order[0] != "snapshot" || done.Err != nil || done.Read < 125 {
		t.Fatalf("messages %v, last page %+v", order, done)
	}
	if pages < 125/7 || most > 7 {
		t.Fatalf("%d pages of at most %d events, want pages of at most 7", pages, most)
	}
	if b := s.Ledger.Burn("acme", time.Hour, now); b < 1150 || b > 1250 {
		t.Fatalf("burn after the history %.0f/h, want ≈1200/h", b)
	}
	sum, _ := s.Ledger.Summary("acme")
	want := int64(1200 + 1000) // the hour's, and the 1,000 three hours ago (same period)
	if sum.Used != want {
		t.Fatalf("history changed the counters: used %d, want %d", sum.Used, want)
	}
	if dry, _ := s.Ledger.Summary("dry"); !dry.Blocked || dry.Level != model.LevelExhausted {
		t.Fatalf("dry after the history: blocked %v level %v, want refused and OUT", dry.Blocked, dry.Level)
	}
	if back, _ := s.Ledger.Summary("back"); back.Blocked {
		t.Fatalf("back is refused after the history, but it was recharged since its 402")
	}
	log := s.Ledger.Refusals(nil, 10)
	if len(log) != 2 || log[0].Event.Req != "back-402" || log[1].Event.Req != "dry-402" {
		t.Fatalf("402 log %+v", log)
	}
}

// TestSnapshotReadsWaitLonger: the snapshot and audit reads may take longer
// than go-redis's 3 s read timeout (a 100k-workspace snapshot on a loaded
// machine) on the same connections, so a failover moves them too.
func TestSnapshotReadsWaitLonger(t *testing.T) {
	c := feedtest.Start(t).Client().(*redis.Client)
	long := longReads(c, bulkReadTimeout)
	lc, ok := long.(*redis.Client)
	if !ok || lc.Options().ReadTimeout != bulkReadTimeout || c.Options().ReadTimeout >= bulkReadTimeout {
		t.Fatalf("long reads wait %v (the client %v), want %v", lc.Options().ReadTimeout, c.Options().ReadTimeout, bulkReadTimeout)
	}
	if err := lc.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if a, b := c.PoolStats().TotalConns, lc.PoolStats().TotalConns; a != b || a == 0 {
		t.Fatalf("the long-read client has a pool of its own: %d vs %d connections", b, a)
	}
}
