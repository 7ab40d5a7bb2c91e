package feed

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"mavtop/model"
)

// DefaultViewerQueue is how many messages a viewer may fall behind before the hub
// stops queueing for it and hands it a fresh copy of the ledger instead.
const DefaultViewerQueue = 4096

// LedgerMsg hands a viewer a whole ledger (its own copy) to continue from: when
// it joins, and when it fell so far behind that replaying its queue would cost
// more than starting over.
type LedgerMsg struct {
	// Ledger is the viewer's own clone (copy on write: cheap to make); nil for
	// a viewer that joined with JoinEvents.
	Ledger *model.Ledger
	Gen    uint64
	// Resync is true when the viewer fell behind (not on join).
	Resync bool
	// Source is what the counters come from ("" for the stream), as in SnapshotMsg.
	Source string
}

func (*LedgerMsg) feedMsg() {}

// Hub fans one subscription out to any number of viewers (every dashboard, local
// or over SSH, and the metrics): one Redis connection, one XREAD loop. It keeps
// its own ledger so a viewer that joins late starts from a copy of it.
type Hub struct {
	mu       sync.Mutex
	state    LedgerState
	conn     *ConnMsg
	stats    *StatsMsg
	applied  string // the newest stream entry the ledger includes
	viewers  map[*Viewer]struct{}
	maxQueue int
	// keep is the orders viewers list workspaces in (Viewer.Keep), a bit per
	// model.Order: the hub's ledger keeps them, so the copies it hands out
	// come sorted.
	keep atomic.Uint32
}

// NewHub returns a hub with no viewers; feed it with Run or Handle.
func NewHub() *Hub {
	return &Hub{viewers: map[*Viewer]struct{}{}, maxQueue: DefaultViewerQueue}
}

// SetDefaultAlerts sets the thresholds of workspaces without their own for the
// hub's ledger (and so for the copies viewers join with). Called while the hub
// runs (the alert rules every instance shares changed: notify.Watcher adopts
// them), it changes the ledger's (model.Ledger.SetDefaultAlerts) and hands
// every viewer a copy of it (LedgerMsg), so the dashboard, /metrics and the
// watcher judge by them from their next message.
func (h *Hub) SetDefaultAlerts(alerts []int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state.DefaultAlerts = alerts
	if h.state.Ledger == nil || slices.Equal(h.state.Ledger.DefaultAlerts(), alerts) {
		return
	}
	h.state.Ledger.SetDefaultAlerts(alerts)
	for v := range h.viewers {
		lm := &LedgerMsg{Gen: h.state.Gen, Source: h.state.Source}
		if v.noLedger {
			continue // it keeps no ledger
		}
		lm.Ledger = h.viewerLedger(v)
		v.push(lm, h)
	}
}

// Run follows src (the stream's Subscriber or a CounterSource) until ctx is
// done, fanning its messages out.
func (h *Hub) Run(ctx context.Context, src Source) error { return src.Run(ctx, h.Handle) }

// Handle takes one subscriber message: it updates the hub's ledger and queues the
// message for every viewer. It never blocks on a viewer.
func (h *Hub) Handle(m Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sm, ok := m.(*SnapshotMsg); ok && sm.DefaultAlerts == nil {
		sm.DefaultAlerts = h.state.DefaultAlerts // viewers start ledgers like the hub's
	}
	applied := h.state.Apply(m)
	switch m := m.(type) {
	case *BatchMsg:
		if applied && m.LastID != "" {
			h.applied = m.LastID
		}
	case *ConnMsg:
		h.conn = m
	case *StatsMsg:
		h.stats = m
	case *SnapshotMsg:
		if m.Snap != nil {
			h.applied = m.Snap.StreamID
		}
		// Every viewer continues from a copy of the ledger just seeded instead
		// of seeding its own from the same counters.
		for v := range h.viewers {
			if v.noLedger {
				v.push(m, h)
				continue
			}
			vm := *m
			vm.Ledger = h.viewerLedger(v)
			v.push(&vm, h)
		}
		return
	case *UsedByMsg:
		// Folded once here; each viewer continues from a copy (folding it
		// itself would copy every workspace its ledger shares with the hub's).
		for v := range h.viewers {
			lm := &LedgerMsg{Gen: h.state.Gen, Source: h.state.Source}
			if !v.noLedger && h.state.Ledger != nil {
				lm.Ledger = h.viewerLedger(v)
			}
			v.push(lm, h)
		}
		return
	case *HistoryMsg:
		// The hub folds every page; viewers get one copy of the result, after
		// the last page, so the hour is folded once, not once per viewer. No
		// copy comes while it is read back: the next page writes to nearly
		// every workspace, and each copy handed out made the hub copy every
		// state (burn ring included) that page touched, two sets of rings
		// live until the end (a 1M-entry hour at 1,000 workspaces: 17 MB of
		// rings copied, a peak RSS of ~110 MB). Meanwhile the viewers judge
		// nothing that depends on the hour (model.Ledger.HistoryPending),
		// and they see each page's events, marked as folded.
		folded := *m
		folded.Folded = true
		for v := range h.viewers {
			if v.noLedger {
				v.push(m, h)
				continue
			}
			v.push(&folded, h)
			if m.Done && h.state.Ledger != nil {
				v.push(&LedgerMsg{Ledger: h.viewerLedger(v), Gen: h.state.Gen, Source: h.state.Source}, h)
			}
		}
		return
	}
	for v := range h.viewers {
		v.push(m, h)
	}
	if b, ok := m.(*BatchMsg); ok && applied && h.state.Ledger != nil {
		h.refresh(len(b.Events))
	}
}

// refresh hands a viewer a fresh copy of the hub's ledger once it has been sent
// refreshEvery's worth of events since its last one. A viewer applies the
// events to its own copy, which copies each workspace state it changes (copy
// on write): left alone, its ledger becomes a second full ledger over time (at
// 100k workspaces and 1,000 events/s, within ten minutes). A fresh copy shares
// every state with the hub's again, so a viewer holds at most refreshEvery
// states of its own and memory stays flat; it costs one map of pointers per
// viewer every refreshEvery events. The copy comes after the events queued
// before it, so the viewer raises their alerts first and the copy already
// includes them.
//
// While the hour is read back no copy is handed out (see the HistoryMsg case
// of Handle): the copy after its last page comes soon enough, and one before
// it would make the next page copy every state it touches.
func (h *Hub) refresh(events int) {
	if h.state.Ledger.HistoryPending() {
		for v := range h.viewers {
			v.sinceCopy += events
		}
		return
	}
	every := refreshEvery(h.state.Ledger.Len())
	for v := range h.viewers {
		if v.noLedger {
			continue
		}
		v.sinceCopy += events
		if v.sinceCopy >= every {
			v.push(&LedgerMsg{Ledger: h.viewerLedger(v), Gen: h.state.Gen, Source: h.state.Source}, h)
		}
	}
}

// refreshEvery is how many events a viewer applies to its own ledger between
// fresh copies: an eighth of the workspaces (the copies it may make stay an
// eighth of a ledger), at least minRefresh so a small ledger is not copied
// every few events.
func refreshEvery(workspaces int) int { return max(workspaces/8, minRefresh) }

// minRefresh bounds how often a viewer of a small ledger gets a fresh copy.
const minRefresh = 4096

// viewerLedger returns v's own copy of the hub's ledger. The copy's
// pending crossings are dropped: they are the hub's (nobody takes them), and a
// viewer raises only the crossings its own events make. A viewer that joined
// with JoinUnordered gets it without the orders (Ledger.DropOrders).
func (h *Hub) viewerLedger(v *Viewer) *model.Ledger {
	for o, keep := model.Order(0), h.keep.Load(); keep>>o != 0; o++ {
		if keep&(1<<o) != 0 {
			h.state.Ledger.Ordered(o, 0, 0, nil) // sorted once, then kept as events arrive
		}
	}
	l := h.state.Ledger.Clone()
	l.TakeCrossings()
	if v.unordered {
		l.DropOrders()
	}
	return l
}

// Read calls fn with the hub's ledger (nil before the first snapshot) under the
// hub's lock; fn must not keep it.
func (h *Hub) Read(fn func(l *model.Ledger, conn *ConnMsg, stats *StatsMsg)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn(h.state.Ledger, h.conn, h.stats)
}

// Applied reports whether the hub's ledger includes every stream entry up to
// and including id (false before the first snapshot).
func (h *Hub) Applied(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state.Ledger != nil && h.applied != "" && compareIDs(h.applied, id) >= 0
}

// Viewers returns the number of viewers joined.
func (h *Hub) Viewers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.viewers)
}

// Join adds a viewer. Its first messages are a copy of the hub's ledger (when
// there is one) and the latest connection state and stats.
func (h *Hub) Join() *Viewer { return h.join(true, false) }

// JoinEvents adds a viewer that follows the events but keeps no ledger (the
// metrics exporter reads the hub's with Read): its LedgerMsgs carry only the
// generation. A clone nobody changes would keep every workspace state the hub
// has since replaced alive.
func (h *Hub) JoinEvents() *Viewer { return h.join(false, false) }

// JoinUnordered adds a viewer that keeps a ledger but never lists its
// workspaces in order (the alert watcher): its copies come without the
// orders the hub keeps for the dashboards, so its ledger does not keep them
// as every event arrives. Asked for all the same, an order is sorted then.
func (h *Hub) JoinUnordered() *Viewer { return h.join(true, true) }

// JoinAsync is Join without waiting for the hub's lock: the viewer is
// returned at once and joins (its copy of the ledger, the connection state
// and stats queued first, as Join's) as soon as the hub is between two
// messages. An SSH session joins so: the hub holds its lock while it folds
// a message, seconds for the start's used_by or a page of the hour read
// back at 100k workspaces on a loaded machine, and a session that waited
// for it drew nothing meanwhile (the hunt's second viewer: 10 bytes, the
// terminal queries, in its first 10 s), where it can draw its frame and
// say it is connecting.
func (h *Hub) JoinAsync() *Viewer {
	v := h.newViewer(true, false)
	go h.register(v)
	return v
}

func (h *Hub) join(ledger, unordered bool) *Viewer {
	v := h.newViewer(ledger, unordered)
	h.register(v)
	return v
}

func (h *Hub) newViewer(ledger, unordered bool) *Viewer {
	return &Viewer{wake: make(chan struct{}, 1), noLedger: !ledger, unordered: unordered, keep: &h.keep}
}

// register adds v to the viewers with what it needs to start from the
// hub's present state; nothing when v was closed meanwhile.
func (h *Hub) register(v *Viewer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.queue = h.catchUp(v, v.queue[:0], false)
	v.signal()
	h.viewers[v] = struct{}{}
	v.leave = func() {
		h.mu.Lock()
		delete(h.viewers, v)
		h.mu.Unlock()
	}
}

// catchUp appends what a viewer needs to start from the hub's present state.
func (h *Hub) catchUp(v *Viewer, q []Msg, resync bool) []Msg {
	if h.state.Ledger != nil {
		lm := &LedgerMsg{Gen: h.state.Gen, Resync: resync, Source: h.state.Source}
		if !v.noLedger {
			// without the hub's pending crossings, as every copy: a late
			// joiner or a resynced viewer would raise old alerts as new
			lm.Ledger = h.viewerLedger(v)
		}
		q = append(q, lm)
	}
	if h.conn != nil {
		q = append(q, h.conn)
	}
	if h.stats != nil {
		q = append(q, h.stats)
	}
	return q
}

// Viewer is one reader of a Hub. Messages queue up between reads and are handed
// over all at once, so a viewer that draws at a fixed frame rate applies whole
// bursts per frame. It is safe for one reader goroutine.
type Viewer struct {
	mu     sync.Mutex
	queue  []Msg
	wake   chan struct{}
	leave  func() // set when it joined (guarded by mu)
	closed bool
	// noLedger: joined with JoinEvents; unordered: with JoinUnordered.
	noLedger, unordered bool
	// sinceCopy counts the events queued since the viewer's last ledger copy
	// (guarded by the hub's lock; see Hub.refresh).
	sinceCopy int
	keep      *atomic.Uint32 // the hub's
}

// Keep asks the hub to keep order o (the one this viewer lists workspaces in)
// in its own ledger, so every fresh copy it hands this viewer comes with o
// sorted. Without it each copy (every eighth of the workspaces' worth of
// events) was sorted again on the viewer's next frame: at 100k workspaces
// 0.18–0.35 s and 18 MB allocated (load 12–15), every ~12 s at 1,000
// events/s. The hub
// then keeps o as events arrive for as long as it runs (a move costs
// microseconds an event); safe from any goroutine, cheap enough for every frame.
func (v *Viewer) Keep(o model.Order) {
	if o < 32 {
		v.keep.Or(1 << o)
	}
}

// push queues m (called with the hub locked). A viewer too far behind drops its
// queue for a fresh ledger copy: nothing is lost, the copy holds it all.
func (v *Viewer) push(m Msg, h *Hub) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	if len(v.queue) >= h.maxQueue {
		v.queue = h.catchUp(v, v.queue[:0], true)
		v.sinceCopy = 0
	} else {
		v.queue = append(v.queue, m)
		switch m := m.(type) {
		case *LedgerMsg:
			if m.Ledger != nil {
				v.sinceCopy = 0
			}
		case *SnapshotMsg:
			if m.Ledger != nil {
				v.sinceCopy = 0
			}
		}
	}
	v.signal()
}

func (v *Viewer) signal() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// Next waits for messages and returns all that are queued, oldest first.
func (v *Viewer) Next(ctx context.Context) ([]Msg, error) {
	for {
		v.mu.Lock()
		if len(v.queue) > 0 {
			q := v.queue
			v.queue = nil
			v.mu.Unlock()
			return q, nil
		}
		v.mu.Unlock()
		select {
		case <-v.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close leaves the hub; Next then waits forever (until its context ends).
func (v *Viewer) Close() {
	v.mu.Lock()
	v.closed, v.queue = true, nil
	leave := v.leave
	v.mu.Unlock()
	if leave != nil {
		leave()
	}
}
