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
	// Fresh is the generation of the last re-read that started the hub's
	// ledger afresh (SnapshotMsg.Fresh; 0: none since the start): a viewer
	// that fell behind may have missed that SnapshotMsg, and what it keeps
	// of the stream beside the ledger (the dashboard's job log) starts
	// afresh with it too.
	Fresh uint64
	// copy is what Viewer.Next makes Ledger from, on the viewer's goroutine.
	copy *ledgerCopy
}

func (*LedgerMsg) feedMsg() {}

// ledgerCopy is how the hub hands a viewer a copy of its ledger without
// making it under its lock: a frozen copy of the ledger (made once and
// shared by every copy handed out until the next) and the messages the hub
// applied since it (at most a refresh's worth of events, refreshEvery).
// The viewer forks the frozen copy and applies the messages to the fork on
// its own goroutine (Viewer.Next), so the feed's cost of a join or of a
// viewer fallen behind does not depend on how many viewers there are or
// how they read.
type ledgerCopy struct {
	frozen    *model.Ledger // never changed once made: any goroutine may Fork it
	tail      []Msg         // SnapshotMsg never; BatchMsg, AuditMsg, HistoryMsg applied by the hub
	gen       uint64
	unordered bool // JoinUnordered: without the orders (Ledger.DropOrders)
}

// ledger makes the viewer's own ledger: the frozen copy forked, then the
// tail applied. Its pending crossings are dropped: they are the hub's (a
// late joiner or a resynced viewer would raise old alerts as new), and a
// viewer raises only the crossings its own events make.
func (c *ledgerCopy) ledger() *model.Ledger {
	l := c.frozen.Fork()
	if c.unordered {
		l.DropOrders()
	}
	s := LedgerState{Ledger: l, Gen: c.gen}
	for _, m := range c.tail {
		s.Apply(m)
	}
	l.TakeCrossings()
	return l
}

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

	// frozen is a copy of the ledger nobody changes, made when a viewer
	// first needs one (Hub.freeze); tail is what the hub applied to its
	// ledger since (tailEvents events). Every copy handed out until the
	// next is frozen plus tail (ledgerCopy). frozenGen is the generation,
	// frozenKeep the orders kept, when it was made. nil: none made since
	// the ledger was seeded or folded anew, or the tail grew past a
	// refresh's worth of events.
	frozen     *model.Ledger
	frozenGen  uint64
	frozenKeep uint32
	tail       []Msg
	tailEvents int
	// sinceCopy counts the events applied since every ledger viewer was
	// last handed a copy (see Hub.refresh).
	sinceCopy int
	// fold is the used_by read being folded off the lock (Hub.foldUsedBy);
	// nil when none is.
	fold *foldRun
	// copies counts the ledger copies made under the lock (Ledger.Clone:
	// one map of pointers, O(workspaces)), for tests and benchmarks.
	copies int
	// foldHook, when set (tests), is called by a fold off the lock before
	// it folds.
	foldHook func()
	// seeded is closed at the first snapshot applied (Seeded); wasSeeded
	// says it was.
	seeded    chan struct{}
	wasSeeded bool
}

// foldRun is a used_by read (UsedByMsg) folded into a copy of the hub's
// ledger off the hub's lock; the messages the hub takes meanwhile are
// applied to both, to the hub's ledger at once and to the copy after the
// fold, in order, so the copy that replaces the hub's holds each once.
type foldRun struct {
	state LedgerState
	log   []Msg // guarded by the hub's lock; appended only
}

// foldLocked is how many messages a fold may have left to apply when it
// takes the hub's lock to finish: it applies the rest off the lock first.
const foldLocked = 16

// NewHub returns a hub with no viewers; feed it with Run or Handle.
func NewHub() *Hub {
	return &Hub{viewers: map[*Viewer]struct{}{}, maxQueue: DefaultViewerQueue, seeded: make(chan struct{})}
}

// Seeded is closed once the hub first has a ledger (its first snapshot
// applied): a viewer that waits for something drawn from it (the alert
// watcher held until the dashboard's first frame) can tell how long it has
// waited since.
func (h *Hub) Seeded() <-chan struct{} { return h.seeded }

// SetDefaultAlerts sets the thresholds of workspaces without their own for the
// hub's ledger (and so for the copies viewers join with). Called while the hub
// runs (the alert rules every instance shares changed: notify.Watcher adopts
// them), it changes the ledger's (model.Ledger.SetDefaultAlerts) and hands
// every viewer a copy of it (LedgerMsg), so the dashboard, /metrics and the
// watcher judge by them from their next message.
func (h *Hub) SetDefaultAlerts(alerts []int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fold != nil {
		h.fold.log = append(h.fold.log, &alertsMsg{alerts}) // the fold's copy changes too, in order
	}
	if !setAlerts(&h.state, alerts) {
		return
	}
	h.frozen, h.tail = nil, nil // copies judge by the new ones
	for v := range h.viewers {
		if v.noLedger {
			continue // it keeps no ledger
		}
		v.push(h.ledgerMsg(v, false), h)
	}
}

// setAlerts sets s's default thresholds and reports whether its ledger's
// changed.
func setAlerts(s *LedgerState, alerts []int) bool {
	s.DefaultAlerts = alerts
	if s.Ledger == nil || slices.Equal(s.Ledger.DefaultAlerts(), alerts) {
		return false
	}
	s.Ledger.SetDefaultAlerts(alerts)
	return true
}

// alertsMsg is a change of the default thresholds (Hub.SetDefaultAlerts)
// in a fold's log.
type alertsMsg struct{ alerts []int }

func (*alertsMsg) feedMsg() {}

// foldApply applies one message of a fold's log to its state.
func foldApply(s *LedgerState, m Msg) {
	if a, ok := m.(*alertsMsg); ok {
		setAlerts(s, a.alerts)
		return
	}
	s.Apply(m)
}

// Run follows src (the stream's Subscriber or a CounterSource) until ctx is
// done, fanning its messages out.
func (h *Hub) Run(ctx context.Context, src Source) error { return src.Run(ctx, h.Handle) }

// Handle takes one subscriber message: it updates the hub's ledger and queues the
// message for every viewer. It never blocks on a viewer.
//
// A used_by read (UsedByMsg) is folded on a goroutine of its own, into a
// copy of the ledger, without the hub's lock (at 100k workspaces ~5 s of
// CPU): the messages meanwhile are handled as ever and applied to the fold's
// copy after it; then the copy becomes the hub's ledger and every viewer is
// handed a copy of it.
func (h *Hub) Handle(m Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sm, ok := m.(*SnapshotMsg); ok && sm.DefaultAlerts == nil {
		sm.DefaultAlerts = h.state.DefaultAlerts // viewers start ledgers like the hub's
	}
	if u, ok := m.(*UsedByMsg); ok {
		h.foldUsedBy(u)
		return
	}
	applied := h.state.Apply(m)
	if h.fold != nil {
		h.fold.log = append(h.fold.log, m)
	}
	if applied {
		h.extendTail(m)
	}
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
		if h.state.Ledger != nil && !h.wasSeeded {
			h.wasSeeded = true
			close(h.seeded)
		}
		// Every viewer continues from a copy of the ledger just seeded instead
		// of seeding its own from the same counters.
		h.sinceCopy = 0
		for v := range h.viewers {
			if v.noLedger {
				v.push(m, h)
				continue
			}
			vm := *m
			vm.copy = h.copyFor(v)
			v.push(&vm, h)
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
		done := m.Done && h.state.Ledger != nil
		if done {
			h.frozen, h.tail, h.sinceCopy = nil, nil, 0 // one copy of the whole hour, no page to apply
		}
		for v := range h.viewers {
			if v.noLedger {
				v.push(m, h)
				continue
			}
			v.push(&folded, h)
			if done {
				v.push(h.ledgerMsg(v, false), h)
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

// refresh hands every viewer a fresh copy of the hub's ledger once
// refreshEvery's worth of events were applied since the last. A viewer
// applies the events to its own copy, which copies each workspace state it
// changes (copy on write): left alone, its ledger becomes a second full
// ledger over time (at 100k workspaces and 1,000 events/s, within ten
// minutes). A fresh copy shares every state with the hub's again, so a
// viewer holds at most refreshEvery states of its own and memory stays flat.
// It costs the hub one frozen copy (one map of pointers) for all its
// viewers, and each viewer a fork of it on its own goroutine. The copy comes
// after the events queued before it, so the viewer raises their alerts
// first and the copy already includes them.
//
// While the hour is read back no copy is handed out (see the HistoryMsg case
// of Handle): the copy after its last page comes soon enough, and one before
// it would make the next page copy every state it touches.
func (h *Hub) refresh(events int) {
	h.sinceCopy += events
	if h.state.Ledger.HistoryPending() || h.sinceCopy < refreshEvery(h.state.Ledger.Len()) {
		return
	}
	h.frozen, h.tail, h.sinceCopy = nil, nil, 0
	for v := range h.viewers {
		if !v.noLedger {
			v.push(h.ledgerMsg(v, false), h)
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

// extendTail adds m, just applied to the hub's ledger, to the tail of the
// frozen copy; past a refresh's worth of events the frozen copy is dropped
// instead (a copy handed out applies no more than that), and a snapshot
// drops it (the ledger seeded anew).
func (h *Hub) extendTail(m Msg) {
	if h.frozen == nil {
		return
	}
	switch m := m.(type) {
	case *BatchMsg:
		h.tailEvents += max(len(m.Events), 1) // a counters poll's empty one too: the tail stays bounded
	case *HistoryMsg:
		h.tailEvents += len(m.Events)
	case *AuditMsg:
		h.tailEvents++
	default:
		h.frozen, h.tail = nil, nil
		return
	}
	if h.tailEvents > refreshEvery(h.state.Ledger.Len()) {
		h.frozen, h.tail = nil, nil
		return
	}
	h.tail = append(h.tail, m)
}

// freeze makes the frozen copy of the hub's ledger when there is none (or
// a viewer asked for an order it lacks since): the one ledger copy the hub
// makes under its lock, whatever the number of viewers. The orders viewers
// list are sorted in the hub's ledger first (then kept as events arrive), so
// every copy comes sorted.
func (h *Hub) freeze() {
	keep := h.keep.Load()
	if h.frozen != nil && h.frozenKeep == keep {
		return
	}
	for o := model.Order(0); keep>>o != 0; o++ {
		if keep&(1<<o) != 0 {
			h.state.Ledger.Ordered(o, 0, 0, nil) // sorted once, then kept as events arrive
		}
	}
	h.frozen = h.state.Ledger.Clone()
	h.frozen.TakeCrossings()
	h.frozenGen, h.frozenKeep = h.state.Gen, keep
	h.tail, h.tailEvents = nil, 0
	h.copies++
}

// copyFor returns what v makes its copy of the hub's ledger from (the
// hub's ledger must not be nil).
func (h *Hub) copyFor(v *Viewer) *ledgerCopy {
	h.freeze()
	return &ledgerCopy{frozen: h.frozen, tail: slices.Clip(h.tail), gen: h.frozenGen, unordered: v.unordered}
}

// ledgerMsg returns a LedgerMsg handing v the hub's present ledger (for a
// JoinEvents viewer, only the generation).
func (h *Hub) ledgerMsg(v *Viewer, resync bool) *LedgerMsg {
	lm := &LedgerMsg{Gen: h.state.Gen, Resync: resync, Source: h.state.Source, Fresh: h.state.fresh}
	if !v.noLedger && h.state.Ledger != nil {
		lm.copy = h.copyFor(v)
	}
	return lm
}

// foldUsedBy starts folding u into a copy of the hub's ledger on a
// goroutine of its own (runFold); while one runs, u waits in its log.
func (h *Hub) foldUsedBy(u *UsedByMsg) {
	if h.fold != nil {
		h.fold.log = append(h.fold.log, u)
		return
	}
	if h.state.Ledger == nil || u.Gen != h.state.Gen {
		return // of a generation replaced: LedgerState.Apply drops it too
	}
	f := &foldRun{state: h.state}
	f.state.Ledger = h.state.Ledger.Clone()
	h.copies++
	h.fold = f
	go h.runFold(f, u, h.foldHook)
}

// runFold folds u into f's copy, then applies the messages the hub took
// meanwhile, in slices off the lock until at most foldLocked are left
// (none a used_by read); those it applies under the lock, and the copy
// replaces the hub's ledger.
func (h *Hub) runFold(f *foldRun, u *UsedByMsg, hook func()) {
	if hook != nil {
		hook()
	}
	f.state.Apply(u)
	done := 0
	for {
		h.mu.Lock()
		rest := f.log[done:]
		if len(rest) <= foldLocked && !slices.ContainsFunc(rest, isUsedBy) {
			for _, m := range rest {
				foldApply(&f.state, m)
			}
			h.endFold(f)
			h.mu.Unlock()
			return
		}
		done = len(f.log)
		h.mu.Unlock()
		for _, m := range rest {
			foldApply(&f.state, m)
		}
	}
}

func isUsedBy(m Msg) bool { _, ok := m.(*UsedByMsg); return ok }

// endFold makes f's ledger the hub's and hands every viewer a copy of it
// (a viewer folding the read itself would copy every workspace its ledger
// shares with the hub's). Called with the hub locked.
func (h *Hub) endFold(f *foldRun) {
	h.fold, h.state = nil, f.state
	h.frozen, h.tail, h.sinceCopy = nil, nil, 0
	for v := range h.viewers {
		v.push(h.ledgerMsg(v, false), h)
	}
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

// Viewers returns the number of viewers joined, mavtop's own helpers
// (JoinOption Helper) among them.
func (h *Hub) Viewers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.viewers)
}

// Readers returns the number of viewers that read the feed for someone
// (dashboards, SSH sessions, the metrics exporter): Viewers less mavtop's
// own helpers (the alert watcher, the log), which every dashboard and watch
// runs whether anyone looks or not. mavtop_feed_viewers says it: a dashboard
// run with --metrics is 2 readers (it said 4, counting the watcher and the
// log).
func (h *Hub) Readers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for v := range h.viewers {
		if !v.helper {
			n++
		}
	}
	return n
}

// JoinOption changes how a viewer joins.
type JoinOption func(*Viewer)

// Helper marks a viewer as mavtop's own machinery (the alert watcher, the
// log), not a reader of the feed: Readers does not count it.
func Helper(v *Viewer) { v.helper = true }

// Join adds a viewer. Its first messages are a copy of the hub's ledger (when
// there is one; made by the viewer's Next, from the hub's frozen copy) and
// the latest connection state and stats. Under the hub's lock it takes the
// frozen copy the hub keeps while a viewer with a ledger is joined (O(1));
// without one it makes it (one map of pointers, Ledger.Clone).
func (h *Hub) Join() *Viewer { return h.join(true, false) }

// JoinEvents adds a viewer that follows the events but keeps no ledger (the
// metrics exporter reads the hub's with Read): its LedgerMsgs carry only the
// generation. A clone nobody changes would keep every workspace state the hub
// has since replaced alive.
func (h *Hub) JoinEvents(opts ...JoinOption) *Viewer { return h.join(false, false, opts...) }

// JoinUnordered adds a viewer that keeps a ledger but never lists its
// workspaces in order (the alert watcher): its copies come without the
// orders the hub keeps for the dashboards, so its ledger does not keep them
// as every event arrives. Asked for all the same, an order is sorted then.
func (h *Hub) JoinUnordered(opts ...JoinOption) *Viewer { return h.join(true, true, opts...) }

// JoinAsync is Join without waiting for the hub's lock: the viewer is
// returned at once and joins (its copy of the ledger, the connection state
// and stats queued first, as Join's) as soon as the hub is between two
// messages. An SSH session joins so: the hub holds its lock while it
// applies a message (a page of the hour read back; the start's used_by is
// folded off it), and on a loaded machine a session that waited for it
// drew nothing meanwhile (the hunt's second viewer: 10 bytes, the terminal
// queries, in its first 10 s), where it can draw its frame and say it is
// connecting.
func (h *Hub) JoinAsync() *Viewer {
	v := h.newViewer(true, false)
	go h.register(v)
	return v
}

func (h *Hub) join(ledger, unordered bool, opts ...JoinOption) *Viewer {
	v := h.newViewer(ledger, unordered)
	for _, o := range opts {
		o(v)
	}
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
		q = append(q, h.ledgerMsg(v, resync))
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
	// noLedger: joined with JoinEvents; unordered: with JoinUnordered;
	// helper: with Helper (not counted by Readers).
	noLedger, unordered, helper bool
	keep                        *atomic.Uint32 // the hub's
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
	} else {
		v.queue = append(v.queue, m)
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
// The copies of the hub's ledger among them (LedgerMsg, SnapshotMsg) are
// made here, on the caller's goroutine.
func (v *Viewer) Next(ctx context.Context) ([]Msg, error) {
	for {
		v.mu.Lock()
		if len(v.queue) > 0 {
			q := v.queue
			v.queue = nil
			v.mu.Unlock()
			for _, m := range q {
				switch m := m.(type) {
				case *LedgerMsg:
					if m.copy != nil {
						m.Ledger, m.copy = m.copy.ledger(), nil
					}
				case *SnapshotMsg:
					if m.copy != nil {
						m.Ledger, m.copy = m.copy.ledger(), nil
					}
				}
			}
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
