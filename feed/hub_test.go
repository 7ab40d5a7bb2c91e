package feed

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"mavtop/model"
)

var hubNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func hubBatch(gen uint64, from, n int) *BatchMsg {
	b := &BatchMsg{Gen: gen}
	for i := from; i < from+n; i++ {
		b.Events = append(b.Events, model.Event{ID: fmt.Sprintf("%d-0", i+1), TS: hubNow.UnixMilli() + int64(i),
			Workspace: fmt.Sprintf("ws%d", i%3), Endpoint: "/responses", Credits: int64(i % 7), Status: 200})
	}
	b.LastID = b.Events[len(b.Events)-1].ID
	return b
}

func hubSnapshot(gen uint64) *SnapshotMsg {
	return &SnapshotMsg{Gen: gen, Rule: model.MonthlyUTC, At: hubNow, Reason: ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(hubNow), StreamID: "0-0", Used: map[string]int64{"ws0": 1000}}}
}

// drain folds everything queued for v into a fresh LedgerState.
func drain(t *testing.T, v *Viewer, s *LedgerState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, err := v.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		s.Apply(m)
	}
}

func totals(l *model.Ledger) *model.Snapshot {
	s := l.Totals()
	s.Period = model.Period{}
	return s
}

func TestHubViewersAgreeWithMaster(t *testing.T) {
	h := NewHub()
	early := h.Join()
	h.Handle(&ConnMsg{State: Connected})
	h.Handle(hubSnapshot(1))
	h.Handle(hubBatch(1, 0, 100))
	late := h.Join() // starts from a copy
	h.Handle(hubBatch(1, 100, 50))
	h.Handle(hubBatch(0, 150, 50)) // stale generation: dropped everywhere

	var se, sl LedgerState
	drain(t, early, &se)
	drain(t, late, &sl)
	var master *model.Snapshot
	h.Read(func(l *model.Ledger, conn *ConnMsg, _ *StatsMsg) {
		master = totals(l)
		if conn == nil || conn.State != Connected {
			t.Errorf("conn %+v", conn)
		}
	})
	if !reflect.DeepEqual(totals(se.Ledger), master) || !reflect.DeepEqual(totals(sl.Ledger), master) {
		t.Fatalf("viewers differ from master:\n%v\n%v\n%v", totals(se.Ledger), totals(sl.Ledger), master)
	}
	var sum int64
	for i := 0; i < 150; i++ {
		sum += int64(i % 7)
	}
	got := master.Used["ws0"] + master.Used["ws1"] + master.Used["ws2"]
	if got != 1000+sum || master.StreamID != "150-0" {
		t.Fatalf("master total %d (want %d), id %s", got, 1000+sum, master.StreamID)
	}
	if h.Viewers() != 2 {
		t.Fatalf("viewers %d", h.Viewers())
	}
	late.Close()
	if h.Viewers() != 1 {
		t.Fatalf("viewers after close %d", h.Viewers())
	}
}

func TestHubSlowViewerResyncsWithoutLoss(t *testing.T) {
	h := NewHub()
	h.maxQueue = 10
	h.Handle(hubSnapshot(1))
	v := h.Join()
	for i := 0; i < 50; i++ {
		h.Handle(hubBatch(1, i*10, 10))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, err := v.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lm, ok := msgs[0].(*LedgerMsg); !ok || !lm.Resync {
		t.Fatalf("first message %T, want a resync ledger", msgs[0])
	}
	if len(msgs) > 11 {
		t.Fatalf("queue grew to %d past its bound", len(msgs))
	}
	var s LedgerState
	for _, m := range msgs {
		s.Apply(m)
	}
	h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
		if !reflect.DeepEqual(totals(s.Ledger), totals(l)) {
			t.Fatalf("resynced viewer differs:\n%v\n%v", totals(s.Ledger), totals(l))
		}
	})
}

// TestHubEventViewerGetsNoLedger: a JoinEvents viewer learns the generation,
// on join and on resync, but never holds a clone (which would keep every
// workspace state the hub replaced alive), and still gets every event.
func TestHubEventViewerGetsNoLedger(t *testing.T) {
	h := NewHub()
	h.Handle(hubSnapshot(3))
	h.Handle(hubBatch(3, 0, 10))
	v := h.JoinEvents()
	h.Handle(hubBatch(3, 10, 25))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, err := v.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lm, ok := msgs[0].(*LedgerMsg)
	if !ok || lm.Ledger != nil || lm.Gen != 3 {
		t.Fatalf("first message %T %+v, want a ledger message of gen 3 without a ledger", msgs[0], msgs[0])
	}
	events := 0
	for _, m := range msgs {
		if b, ok := m.(*BatchMsg); ok {
			events += len(b.Events)
		}
	}
	if events != 25 {
		t.Fatalf("%d events after joining, want 25", events)
	}
}

func TestLedgerStateNewRuleStartsANewLedger(t *testing.T) {
	var s LedgerState
	s.Apply(hubSnapshot(1))
	first := s.Ledger
	rule, err := model.PeriodConfig{StartDay: 15}.Rule()
	if err != nil {
		t.Fatal(err)
	}
	m := hubSnapshot(2)
	m.Rule = rule
	m.Snap.Period = rule.At(hubNow)
	s.Apply(m)
	if s.Ledger == first || s.Ledger.Rule().StartDay != 15 || s.Gen != 2 {
		t.Fatalf("rule change kept the old ledger")
	}
	if s.Apply(hubBatch(1, 0, 1)) {
		t.Fatal("batch of an old generation applied")
	}
}

// TestHubHandsViewersItsSeededLedger: a viewer continues from a copy of the
// ledger the hub seeded (it seeds none of its own) and gets the start's history
// folded by the hub, as one ledger copy after the last page, never page by
// page; its figures equal the hub's, its changes stay its own.
func TestHubHandsViewersItsSeededLedger(t *testing.T) {
	h := NewHub()
	v := h.Join()
	events := h.JoinEvents()
	h.Handle(hubSnapshot(1))
	var pages []*HistoryMsg
	for i := 0; i < 5; i++ {
		var evs []model.Event
		for j := 0; j < 10; j++ { // newest first, each page older than the last
			k := i*10 + j
			evs = append(evs, model.Event{TS: hubNow.UnixMilli() - int64(k)*60_000, Workspace: "ws0", Endpoint: "/responses", Credits: 3, Status: 200})
		}
		pages = append(pages, &HistoryMsg{Gen: 1, Events: evs, From: hubNow.Add(-time.Duration(i*10+9) * time.Minute), Done: i == 4})
	}
	for _, p := range pages {
		h.Handle(p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, err := v.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var s LedgerState
	var seeded, copies, seen int
	for _, m := range msgs {
		switch m := m.(type) {
		case *SnapshotMsg:
			if m.Ledger != nil {
				seeded++
			}
		case *LedgerMsg:
			copies++
		case *HistoryMsg:
			if !m.Folded {
				t.Fatalf("a ledger viewer got a history page to fold itself")
			}
			seen += len(m.Events)
		}
		s.Apply(m)
	}
	if seeded != 1 || copies != 1 || seen != 50 {
		t.Fatalf("%d seeded snapshots, %d ledger copies and %d events seen for 5 history pages of 10, want 1, 1 and 50", seeded, copies, seen)
	}
	var hubBurn float64
	var hubLedger *model.Ledger
	h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
		hubBurn, hubLedger = l.Burn("ws0", time.Hour, hubNow), l
	})
	if got := s.Ledger.Burn("ws0", time.Hour, hubNow); got != hubBurn || got < 140 || s.Ledger == hubLedger {
		t.Fatalf("viewer burn %.0f/h, hub %.0f/h (want the hub's 150 credits over the hour, in a ledger of its own)", got, hubBurn)
	}
	s.Apply(hubBatch(1, 0, 30))
	if hub, own := hubLedger.Totals().Used["ws0"], s.Ledger.Totals().Used["ws0"]; hub != 1000 || own <= 1000 {
		t.Fatalf("after the viewer's own events: hub used %d, viewer %d", hub, own)
	}
	em, _ := events.Next(ctx)
	hist := 0
	for _, m := range em {
		if _, ok := m.(*HistoryMsg); ok {
			hist++
		}
	}
	if hist != 5 {
		t.Fatalf("the events viewer got %d history pages, want all 5 (it keeps no ledger)", hist)
	}
}

// TestHubFoldsTheHourIntoOneSetOfStates: while the start's hour is read back
// the hub hands its viewers no copy of its ledger, neither for the pages nor
// for the live events between them (Hub.refresh): each copy made the next
// page copy every workspace state it touched, burn ring included, so two
// sets of rings were live until the last page (a 1M-entry hour at 1,000
// workspaces peaked at ~110 MB RSS). The hub owns each state from the first
// page on and folds every later page into it in place; the one copy after
// the last page holds the whole hour and the live events, as the hub does.
func TestHubFoldsTheHourIntoOneSetOfStates(t *testing.T) {
	const workspaces, pages = 200, 6
	h := NewHub()
	v := h.Join()
	snap := hubSnapshot(1)
	snap.Snap.HistoryLater = true
	snap.Snap.Used = map[string]int64{}
	for i := range workspaces {
		snap.Snap.Used[fmt.Sprintf("ws%d", i)] = 1000
	}
	h.Handle(snap)
	page := func(i int) *HistoryMsg {
		m := &HistoryMsg{Gen: 1, From: hubNow.Add(-time.Duration((i+1)*workspaces) * time.Second), Done: i == pages-1}
		for j := range workspaces { // newest first, each page older than the last
			m.Events = append(m.Events, model.Event{TS: hubNow.UnixMilli() - int64(i*workspaces+j+1)*1000,
				Workspace: fmt.Sprintf("ws%d", j), Endpoint: "/responses", Credits: int64(1 + j%5), Status: 200})
		}
		return m
	}
	owned := func() (n int) {
		h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { n = l.Owned() })
		return n
	}
	h.Handle(page(0))
	if got := owned(); got != workspaces {
		t.Fatalf("after the first page the hub owns %d of its %d workspace states", got, workspaces)
	}
	live := 0
	for i := 1; i < pages; i++ {
		b := &BatchMsg{Gen: 1}
		for range refreshEvery(workspaces) { // a fresh copy's worth of live events
			b.Events = append(b.Events, model.Event{ID: fmt.Sprintf("%d-0", live+1), TS: hubNow.UnixMilli() + int64(live),
				Workspace: fmt.Sprintf("ws%d", live*7%workspaces), Endpoint: "/responses", Credits: 2, Status: 200})
			live++
		}
		b.LastID = b.Events[len(b.Events)-1].ID
		h.Handle(b)
		h.Handle(page(i))
		if got := owned(); got != workspaces && i < pages-1 {
			t.Fatalf("after page %d and %d live events the hub owns %d of its %d states: a copy handed out meanwhile made the page copy the rest",
				i, live, got, workspaces)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, err := v.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var s LedgerState
	copies, lastPage, copyAt := 0, -1, -1
	for i, m := range msgs {
		switch m := m.(type) {
		case *LedgerMsg:
			copies++
			copyAt = i
		case *HistoryMsg:
			if m.Done {
				lastPage = i
			}
		}
		s.Apply(m)
	}
	if copies != 1 || copyAt < lastPage {
		t.Fatalf("the viewer got %d ledger copies, the last at message %d, the last page at %d; want one, after the last page", copies, copyAt, lastPage)
	}
	var hub *model.Snapshot
	var hubBurn float64
	h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
		hub, hubBurn = totals(l), l.Burn("ws7", time.Hour, hubNow)
	})
	if got := totals(s.Ledger); !reflect.DeepEqual(got, hub) || s.Ledger.HistoryPending() {
		t.Fatalf("the viewer's copy disagrees with the hub after the hour (pending %v)", s.Ledger.HistoryPending())
	}
	if got := s.Ledger.Burn("ws7", time.Hour, hubNow); got != hubBurn || got <= 0 {
		t.Fatalf("ws7 burns %.1f/h in the viewer's copy, %.1f/h in the hub's; want the hub's, > 0", got, hubBurn)
	}
}

// TestHubViewerLedgerStaysShared: a viewer applies the events to its own copy
// of the hub's ledger, which copies every workspace state an event changes;
// the hub hands it a fresh copy every refreshEvery events, so the states it
// holds of its own stay bounded however many workspaces the events touch, and
// its totals stay the hub's. A start's used_by read (UsedByMsg) is folded by the
// hub once and reaches the viewer as a copy, not to fold again.
func TestHubViewerLedgerStaysShared(t *testing.T) {
	const workspaces, events = 20_000, 15_000
	h := NewHub()
	v := h.Join()
	snap := hubSnapshot(1)
	snap.Snap.UsedByLater = true
	snap.Snap.Used = map[string]int64{}
	usedBy := map[string]int64{}
	for i := range workspaces {
		snap.Snap.Used[fmt.Sprintf("ws%d", i)] = 100
		usedBy[model.UsedByField(fmt.Sprintf("ws%d", i), "web", "/responses")] = 100
	}
	h.Handle(snap)
	h.Handle(&UsedByMsg{Gen: 1, UsedBy: usedBy, StreamID: "0-0"})
	var s LedgerState
	// not a speed: a guard against a copy that never comes (the whole test
	// took 17 s under -race at a load of 28)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var copies, folds int
	take := func() {
		msgs, err := v.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			switch m := m.(type) {
			case *LedgerMsg:
				if m.Ledger != nil {
					copies++
				}
			case *UsedByMsg:
				folds++
			}
			s.Apply(m)
		}
	}
	take()
	for s.Ledger.UsedByPending() {
		take() // the read is folded off the hub's lock: its copy comes when done
	}
	if s.Ledger.UsedByPending() || s.Ledger.Totals().UsedBy[model.UsedByField("ws7", "web", "/responses")] != 100 || folds != 0 {
		t.Fatalf("after the used_by read: viewer pending %v, ws7's project %d credits, %d reads to fold itself; want false, 100, 0",
			s.Ledger.UsedByPending(), s.Ledger.Totals().UsedBy[model.UsedByField("ws7", "web", "/responses")], folds)
	}
	maxOwned := 0
	for from := 0; from < events; from += 500 {
		b := &BatchMsg{Gen: 1}
		for i := from; i < from+500; i++ {
			b.Events = append(b.Events, model.Event{ID: fmt.Sprintf("%d-0", i+1), TS: hubNow.UnixMilli() + int64(i),
				Workspace: fmt.Sprintf("ws%d", i*7919%workspaces), Project: "web", Endpoint: "/responses", Credits: 3, Status: 200})
		}
		b.LastID = b.Events[len(b.Events)-1].ID
		h.Handle(b)
		take()
		maxOwned = max(maxOwned, s.Ledger.Owned())
	}
	if every := refreshEvery(workspaces); maxOwned > every || copies < events/every {
		t.Fatalf("the viewer held up to %d workspace states of its own after %d fresh copies; want at most %d, at least %d copies",
			maxOwned, copies, every, events/every)
	}
	var hub *model.Snapshot
	h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { hub = totals(l) })
	if got := totals(s.Ledger); !reflect.DeepEqual(got, hub) {
		t.Fatalf("viewer and hub disagree after %d events", events)
	}
}

// TestHubJoinCarriesNoOldCrossings: a viewer raises only the crossings its
// own events make. One joining (or resyncing after falling behind) after a
// workspace crossed its 50 % line starts from a ledger with no crossing
// pending, as the copies Hub.refresh hands out do; an earlier viewer raises
// the crossing once, from the event.
func TestHubJoinCarriesNoOldCrossings(t *testing.T) {
	h := NewHub()
	early := h.Join()
	snap := hubSnapshot(1)
	snap.Snap.Settings = map[string]model.Settings{"ws0": {Allocation: 2000}}
	h.Handle(snap)
	h.Handle(&BatchMsg{Gen: 1, LastID: "1-0", Events: []model.Event{{ID: "1-0", TS: hubNow.UnixMilli(), Workspace: "ws0",
		Endpoint: "/responses", Credits: 500, Status: 200}}}) // 1,000 → 1,500 of 2,000: past 50 %
	var es LedgerState
	drain(t, early, &es)
	if n := len(es.Ledger.TakeCrossings()); n != 1 {
		t.Fatalf("the viewer that saw the event raised %d crossings, want 1", n)
	}
	late := h.Join()
	var ls LedgerState
	drain(t, late, &ls)
	if c := ls.Ledger.TakeCrossings(); len(c) != 0 {
		t.Errorf("a viewer joining later starts with %d old crossings pending (%+v), want 0", len(c), c)
	}
	h.maxQueue = 1
	h.Handle(hubBatch(1, 10, 1))
	h.Handle(hubBatch(1, 11, 1)) // past the queue: early resyncs from a copy
	es = LedgerState{}
	drain(t, early, &es)
	if c := es.Ledger.TakeCrossings(); len(c) != 0 {
		t.Errorf("a resynced viewer starts with %d old crossings pending, want 0", len(c))
	}
}

// TestHubKeepsTheOrdersItsViewersList: a viewer's fresh copies of the hub's
// ledger (on joining, and every refreshEvery events) came with no order
// sorted, so the dashboard sorted every workspace on the frame after each
// one. The hub now keeps the orders its viewers ask for (Viewer.Keep): listing
// a window of a kept order on a copy allocates next to nothing, where an order
// not kept is sorted first (its keys and blocks allocated).
func TestHubKeepsTheOrdersItsViewersList(t *testing.T) {
	const workspaces = 20_000
	h := NewHub()
	snap := hubSnapshot(1)
	snap.Snap.Used = map[string]int64{}
	for i := range workspaces {
		snap.Snap.Used[fmt.Sprintf("ws%d", i)] = int64(i)
	}
	h.Handle(snap)
	h.Join().Keep(model.ByCredits)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := joinedLedger(ctx, t, h.Join()) // a copy made after the first viewer asked
	window := make([]string, 0, 10)
	mallocs := func(o model.Order) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		window = l.Ordered(o, 0, 10, window[:0])
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	kept := mallocs(model.ByCredits) // the first listing: sorted already, or not
	if window[0] != "ws19999" {
		t.Errorf("kept order by credits: top %s, want ws19999", window[0])
	}
	// an order not kept: its first listing of a few rows picks them without
	// a sort (model.Ledger.Ordered), the next sorts
	_ = l.Ordered(model.ByRefused, 0, 10, nil)
	notKept := mallocs(model.ByRefused)
	// the counts are the process's: another goroutine of the test binary
	// may allocate a few meanwhile, never the blocks of a sort
	if kept*4 > notKept || notKept < workspaces/512 {
		t.Errorf("listing 10 rows of a %d-workspace copy: %d allocations in the kept order, %d in one not kept (want ≥ %d: sorted first, and 4× the kept one's)",
			workspaces, kept, notKept, workspaces/512)
	}
}

// TestHubUnorderedViewerKeepsNoOrders: a viewer that joined with
// JoinUnordered (the alert watcher) gets copies without the orders the hub
// keeps for its dashboards, so its events do not move workspaces in them
// (nor copy the order blocks it shares with the hub's ledger), while a
// dashboard's copy keeps them; asked for all the same, its order is sorted
// then and agrees with the dashboard's, counters equal.
func TestHubUnorderedViewerKeepsNoOrders(t *testing.T) {
	const workspaces = 20_000
	h := NewHub()
	snap := hubSnapshot(1)
	snap.Snap.Used = map[string]int64{}
	for i := range workspaces {
		snap.Snap.Used[fmt.Sprintf("ws%d", i)] = int64(i)
	}
	h.Handle(snap)
	h.Join().Keep(model.ByCredits)
	dash, judge := h.Join(), h.JoinUnordered() // copies made after a dashboard asked
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dl, jl := joinedLedger(ctx, t, dash), joinedLedger(ctx, t, judge)
	// one event per workspace, each moving it in the order by credits
	evs := make([]model.Event, 0, workspaces)
	for i := range workspaces {
		evs = append(evs, model.Event{ID: fmt.Sprintf("%d-1", i+1), TS: hubNow.UnixMilli() + int64(i),
			Workspace: fmt.Sprintf("ws%d", i), Endpoint: "/responses", Credits: int64(workspaces - 2*i), Status: 200})
	}
	applied := func(l *model.Ledger) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		l.ApplyBatch(evs)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	ordered, unordered := applied(dl), applied(jl)
	// the dashboard's copy copies each of the ~80 blocks of 256–512 keys it
	// shares (tens of bytes each): at least a megabyte more
	if ordered < unordered+1<<20 {
		t.Errorf("%d events: %d bytes allocated in the dashboard's copy, %d in the unordered one (want ≥ 1 MiB fewer)", workspaces, ordered, unordered)
	}
	if !reflect.DeepEqual(totals(dl), totals(jl)) {
		t.Error("the two copies' counters differ")
	}
	a, b := dl.Ordered(model.ByCredits, 0, 50, nil), jl.Ordered(model.ByCredits, 0, 50, nil)
	if !reflect.DeepEqual(a, b) || a[0] != "ws0" {
		t.Errorf("order by credits: dashboard %v, unordered copy %v (want both from ws0)", a[:3], b[:3])
	}
}

// joinedLedger is the ledger copy a viewer gets on joining (its first
// batch's LedgerMsg); it fails the test when the batch has none.
func joinedLedger(ctx context.Context, t *testing.T, v *Viewer) *model.Ledger {
	t.Helper()
	msgs, err := v.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var l *model.Ledger
	for _, m := range msgs {
		if lm, ok := m.(*LedgerMsg); ok {
			l = lm.Ledger
		}
	}
	if l == nil {
		t.Fatal("no ledger copy on joining")
	}
	return l
}

// TestJoinAsyncDoesNotWaitForTheHub: JoinAsync returns while the hub's lock
// is held (by a reader here; by a long fold in serve) and the viewer joins
// once it is free, from the state of then: the batch applied while it
// waited is in its copy, the next one comes as a message. A viewer closed
// before it could join never joins.
func TestJoinAsyncDoesNotWaitForTheHub(t *testing.T) {
	h := NewHub()
	h.Handle(hubSnapshot(1))
	hold := func() (release func()) {
		held, free := make(chan struct{}), make(chan struct{})
		go h.Read(func(*model.Ledger, *ConnMsg, *StatsMsg) { close(held); <-free })
		<-held
		return func() { close(free) }
	}
	release := hold()
	v := h.JoinAsync() // must return with the lock held
	gone := h.JoinAsync()
	gone.Close()
	applied := make(chan struct{})
	go func() { h.Handle(hubBatch(1, 0, 3)); close(applied) }()
	release()
	<-applied
	h.Handle(hubBatch(1, 3, 3))

	// Both batches were handed over before this read: whichever came first,
	// the join or the first batch, the viewer's state is the hub's.
	var s LedgerState
	drain(t, v, &s)
	var want *model.Snapshot
	h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { want = totals(l) })
	if s.Ledger == nil || !reflect.DeepEqual(totals(s.Ledger), want) {
		t.Fatalf("the viewer that joined late does not hold the hub's ledger")
	}
	if n := h.Viewers(); n != 1 {
		t.Fatalf("%d viewers, want 1 (the closed one never joins)", n)
	}
	v.Close()
	if n := h.Viewers(); n != 0 {
		t.Fatalf("%d viewers after Close, want 0", n)
	}
}
