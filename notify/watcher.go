package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// Defaults of WatcherOptions.
const (
	// DefaultEvery is how often alerts are evaluated and the store read.
	DefaultEvery = time.Second
	// DefaultLease is how long a delivery stays with the instance that took
	// it without news from it; the owner renews it while it works.
	DefaultLease = 2 * time.Minute
	// MaxScores is how many forecast scores are kept.
	MaxScores = 20
)

// WatcherOptions configure a Watcher.
type WatcherOptions struct {
	// Hub is followed like a dashboard follows it.
	Hub *feed.Hub
	// Store holds the lifecycle every instance shares.
	Store *feed.AlertStore
	// Notifier delivers; nil (or one without sinks) records transitions only,
	// and leaves their delivery to an instance with sinks.
	Notifier *Notifier
	// Instance names this process in delivery leases (host, pid and a random
	// suffix by default).
	Instance string
	// Alert tunes the evaluation (the stale limit).
	Alert model.AlertOptions
	// Every is the evaluation cadence (DefaultEvery); Lease the delivery lease
	// (DefaultLease).
	Every, Lease time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
	// Logger logs transitions and store errors (nil: none).
	Logger *slog.Logger
	// Rules are the alert rules this instance starts judging by (its
	// thresholds of workspaces without their own, as the Hub's ledger has
	// them, and its stale limit, as Alert has it): at each cycle they are
	// compared with those the store holds (each one no instance stored yet
	// is stored), and one stored that differs is adopted (checkRules). Zero:
	// not compared.
	Rules feed.AlertRules
	// Pinned are the rules given explicitly (a flag, mavtop.toml; zero
	// fields: not given): one stored that differs is not adopted, and while
	// it differs the watcher records no transition (RulesDisagree). The
	// source is always pinned (it is taken at the start): its Source is the
	// one the hub reads, or, left empty (auto, which found no source in use
	// at the start or could not ask), the one the hub's snapshots come from
	// once one came, compared but never stored.
	Pinned feed.AlertRules
	// StartHold, when set, holds the watcher's start until it is closed or
	// MaxStartHold has passed, whichever comes first, counted from the hub's
	// first ledger (Hub.Seeded), or from Run's start while the hub has none
	// (Redis cannot be read: the feed's own alert is judged after at most
	// that): the dashboard closes it once its first frame with the gauges is
	// drawn (tui.Options.FirstGauges). Meanwhile the watcher has joined the hub
	// (what the hub sends queues for it: nothing is missed) but takes no
	// copy of the ledger and judges nothing; then it goes on as without a
	// hold, its first judgement of every workspace at the next cycle. At
	// 100k workspaces its copy of the ledger and that first judgement were
	// ~100 ms of CPU falling among the dashboard's first frame's (issue 16).
	// Nil: no hold (watch, serve, tests).
	StartHold <-chan struct{}
}

// MaxStartHold bounds WatcherOptions.StartHold: the longest the watcher's
// first judgement waits for a dashboard's first frame once the hub has its
// ledger (or, while it has none, since the watcher started). Nothing is
// judged meanwhile, so a transition (a threshold crossed, the feed stale, a
// re-read) that happens during the start is judged at most this much plus
// one cycle (DefaultEvery) after the snapshot came, where without a hold it
// was judged at the first cycle after the snapshot; in practice when the
// first frame is drawn (at 100k workspaces 0.1–0.6 s after the snapshot
// idle, 1–3 s at load 12).
const MaxStartHold = 2 * time.Second

// Entry is one alert of this period as the alerts pane and `mavtop alerts`
// show it: its lifecycle and how its delivery goes.
type Entry struct {
	// StoredAlert is the record (never write it): decoded in the entries
	// Lifecycle.Entries hands out, and given in those a caller makes of a
	// record; nil in those Each, EachFrom, At and Find hand out, which keep
	// it packed (Record decodes it): ~170k entries at 100k workspaces.
	*feed.StoredAlert
	// ID, Status and Level are the record's alert id, status and level.
	ID     string
	Status model.AlertStatus
	Level  model.Level
	// Summary is the newest transition's sentence.
	Summary string
	// Rev changes whenever the alert's record does: two entries of one id
	// with the same Rev are the same, so a poll may reuse what it made of
	// the older one (lifecycleOf's pane rows).
	Rev uint64
	// Said is DeliveryText, said once when the entry is made.
	Said string
	key  string // lifecycleKey of its id (lifeIndex)
	at   time.Time
	rec  feed.PackedAlert
}

// EntryOf is the entry of record r (not nil), as an index lists it, with
// r itself as its StoredAlert.
func EntryOf(r *feed.StoredAlert) Entry {
	e := Entry{StoredAlert: r, ID: r.Alert.ID, Status: r.Status, Level: r.Alert.Level, key: lifecycleKey(r.Alert.ID), at: r.FiredAt}
	if r.Status == model.AlertResolved {
		e.at = r.ResolvedAt
	}
	if n := len(r.Deliveries); n > 0 {
		e.Summary = r.Deliveries[n-1].Summary
	}
	return e
}

// Record is the entry's record, decoded (nil for none). Never write it.
func (e *Entry) Record() *feed.StoredAlert {
	if e.StoredAlert != nil {
		return e.StoredAlert
	}
	return e.rec.Decode()
}

// Delivery sums up an entry's newest delivery: sinks sent to, retrying, failed,
// and the last error; Waiting is true while no instance with sinks took it.
func (e *Entry) Delivery() (sent, retrying, failed int, lastErr string, waiting bool) {
	r := e.Record()
	if r == nil || len(r.Deliveries) == 0 {
		return
	}
	d := r.Deliveries[len(r.Deliveries)-1]
	for _, r := range d.Sinks {
		switch r.Result {
		case feed.ResultSent:
			sent++
		case feed.ResultRetrying:
			retrying++
			lastErr = r.Err
		case feed.ResultFailed:
			failed++
			lastErr = r.Err
		}
	}
	if n := len(r.Deliveries); n > 1 && !d.Done {
		// A resolution waits for each sink its firing is not done for (a
		// receiver refusing it): that sink has neither yet, so it is counted
		// retrying, not left out ("✓ sent 1 sink" read as delivered).
		prev := &r.Deliveries[n-2]
		for _, s := range slices.Sorted(maps.Keys(prev.Sinks)) {
			if _, ok := d.Sinks[s]; !ok && !prev.DoneFor(s) {
				retrying++
				lastErr = "its firing first: " + prev.Sinks[s].Err
			}
		}
	}
	waiting = !d.Done && len(d.Sinks) == 0 && d.Owner == ""
	return
}

// DeliveryText says how the newest transition was delivered, for the alerts
// pane and `mavtop alerts`: "✓ sent 2 sinks", "↻ retrying: 503 Service
// Unavailable", "✗ failed: 404 Not Found", "waiting: no mavtop runs with
// --notify" (a word, not "…", which reads as cut text; it is sent when one
// does), or "" when there is nothing to say.
//
// With several sinks, a retry or a failure says how many of them it is ("✗
// failed 1 of 2: 400 Bad Request"): a bare "failed" read as if no sink had it
// while the other had.
func (e *Entry) DeliveryText() string {
	sent, retrying, failed, lastErr, waiting := e.Delivery()
	of := func(n int) string {
		if all := sent + retrying + failed; all > 1 {
			return fmt.Sprintf(" %d of %d", n, all)
		}
		return ""
	}
	switch {
	case retrying > 0:
		return "↻ retrying" + of(retrying) + ": " + model.Sanitize(lastErr)
	case failed > 0:
		return "✗ failed" + of(failed) + ": " + model.Sanitize(lastErr)
	case sent > 0:
		return "✓ sent " + model.CountOf(sent, "sink")
	case waiting:
		return model.DeliveryWaiting
	}
	return ""
}

// Watcher evaluates the alert lifecycle from a hub, claims each transition in
// the store and hands its delivery to the notifier. Every mavtop process runs
// one; the store makes them agree.
type Watcher struct {
	opt   WatcherOptions
	sinks []string

	// mirror is this instance's copy of the stored lifecycle, read by what
	// changed; reload makes the next cycle read it in full (a reconnect,
	// Redis back older). Only the cycle's goroutine (Run) uses them.
	mirror *feed.AlertMirror
	reload bool
	// The judge's input is known's lifecycles (judged, decoded from the
	// packed records on demand; never copied whole each cycle), and own,
	// the records of this instance's claims (ownClaim) until the store is
	// read again, which stand for known's; a pointer here is never written
	// through. maxFired is at least the
	// newest stream id a record was decided at (decidedAt: FiredStream of a
	// firing one, ResolvedStream of a resolved one; rolledBack scans them
	// only when the stream's end is behind it). changed holds the ids whose record
	// changed in the last cycle's load (the store's changes, and those whose
	// decided-at id rolledBack cleared or gave back): an incremental judge
	// compares only those. cleared are the ids rolledBack cleared. Only the
	// cycle's goroutine writes them.
	own      map[string]*model.AlertRecord
	maxFired string
	changed  []string
	cleared  map[string]bool
	claimed  []string // ids of this instance's claims since the last cycle's judgement
	back     bool     // the last cycle's ledger had read further than the stream goes
	// lost is the ledger rolledBack last found to have read further than
	// the stream goes: it holds counters Redis lost, and judges nothing but
	// the feed's own alert until the feed replaces it (the re-read of the
	// reset), even once the stream's end passes it again (a producer's write
	// after the restart, before the re-read: judged again, the lost ledger
	// fired its 50 % a second time against a store that lost the firing)
	lost *model.Ledger

	mu sync.Mutex
	// known are the records of this period and the last, by id: the
	// mirror's own, packed (feed.PackedAlert, decoded on demand: ~0.3 KB a
	// record where a decoded one held ~1.1 KB, of ~170k records at 100k
	// workspaces), shared and never written (a change is a new record)
	known map[string]feed.PackedAlert
	// pending are the ids of known with a delivery not done (takeOver looks
	// at them alone), kept with sinks only: without, nothing is taken over
	// (at 100k workspaces a dashboard's ~170k records are all waiting).
	pending map[string]bool
	local   map[string]bool // firings announced while Redis was away
	// localLeft holds, by transition key, the sinks still working on a
	// firing announced while Redis was away.
	localLeft map[string]map[string]bool
	inflight  map[string]*inflight // by transition key
	// life keeps the period's entries, their firing count and the scores as
	// the records change (setKnown, dropKnown, refresh); snap is the last
	// snapshot of it handed out, of generation gen (Lifecycle).
	life   lifeIndex
	snap   *Lifecycle
	gen    uint64
	counts map[[2]string]int64 // sink, outcome → count
	// droppedOnce holds the deliveries (key, sink) a full queue dropped and
	// that no sink outcome has finished since: taken up again and dropped
	// again, a delivery counts as dropped once.
	droppedOnce map[[2]string]bool
	// period is the billing period of the last cycle: at its rollover the
	// memories of deliveries that cannot come back are pruned.
	period   string
	storeErr error
	// rulesWhy says how this instance's alert rules disagree with the
	// store's ("" while they agree; checkRules); rulesNote names the rules
	// stored that cannot be read. rules are those it judges by now, written
	// by the cycle alone (under mu), rulesSettle when the hold after
	// adopting them ends.
	rulesWhy, rulesNote string
	rules               feed.AlertRules
	rulesSettle         time.Time
	// source is where the hub's counters come from, as the ledger judged
	// says (feed.LedgerState.Source: its snapshot's, or the hub's copy's;
	// Run's, read by checkRules and rolledBack on the same goroutine; ""
	// before one)
	source feed.SourceKind
	scores []model.ForecastScore // newest first, from the stored lifecycle
	runOut map[string]time.Time  // workspace → projected run-out
	// eval judges the alerts cycle after cycle (only cycle uses it, and
	// runOuts, the run-outs it reported this cycle)
	eval    *model.AlertEvaluator
	runOuts []runOutAt
	stopped chan struct{}
	// cycles counts evaluations done, and judged the stream id the ledger of
	// the last one had read to (tests wait on them).
	cycles atomic.Int64
	judged atomic.Pointer[string]
}

// inflight is a delivery this instance holds. Its results are kept until
// the store has them: a sink that was sent to and is not yet recorded as sent
// must never be sent to again, by this instance or by the one that takes over.
type inflight struct {
	period, id string
	idx        int
	left       map[string]bool // sinks still working on it
	dropped    bool
	// results are the sinks' outcomes the store does not have yet; until is
	// the lease last written; lost is set once the store says another
	// instance holds the delivery.
	results map[string]feed.SinkResult
	until   time.Time
	lost    bool
	// waiting are the sinks a resolution is not yet sent to: its firing is
	// not done for them (another instance still retries it there); payload
	// is what they get once it is (releaseWaiting).
	waiting map[string]bool
	payload Payload
	// fenced are sinks whose firing this instance queued before this
	// resolution but handed over unsent (its lease ran out): the resolution
	// waits in the queue until the store says the firing is done there.
	fenced map[string]bool
	// rec serialises the writes of this delivery, so the newest results and
	// the "done" of the last sink are what the store keeps.
	rec sync.Mutex
}

// NewWatcher returns a watcher; Run starts it.
func NewWatcher(opt WatcherOptions) *Watcher {
	if opt.Every <= 0 {
		opt.Every = DefaultEvery
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Instance == "" {
		opt.Instance = instanceName()
	}
	w := &Watcher{opt: opt, rules: opt.Rules, known: map[string]feed.PackedAlert{}, own: map[string]*model.AlertRecord{}, pending: map[string]bool{},
		mirror: feed.NewAlertMirror(opt.Store, opt.Now), local: map[string]bool{}, localLeft: map[string]map[string]bool{},
		inflight: map[string]*inflight{}, counts: map[[2]string]int64{}, droppedOnce: map[[2]string]bool{}, runOut: map[string]time.Time{}, stopped: make(chan struct{})}
	if opt.Notifier != nil {
		w.sinks = opt.Notifier.Sinks()
		opt.Notifier.opt.OnResult = w.onResult
		opt.Notifier.opt.Hold = w.hold
		w.opt.Notifier = opt.Notifier
	}
	return w
}

func instanceName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Sinks returns the names of this instance's sinks.
func (w *Watcher) Sinks() []string { return w.sinks }

// Entries returns this period's alerts, newest transition first (a copy of
// every entry: Lifecycle hands out a snapshot in O(1)).
func (w *Watcher) Entries() []Entry {
	return w.Lifecycle(0).Entries()
}

// Lifecycle is this period's alerts for a poll: when nothing changed since
// the snapshot numbered gen it returns nil, without taking a new one;
// otherwise the snapshot of now, shared by every poll of its generation and
// never written (O(1): the index's trees cloned, copy on write). gen 0
// always gets one.
func (w *Watcher) Lifecycle(gen uint64) *Lifecycle {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.snap
	w.snap = w.life.take(w.snap, &w.gen)
	if w.snap != prev {
		// the pane's title says it (a snapshot made now is this call's own)
		switch {
		case w.rulesWhy != "":
			w.snap.Delivery = "held: " + w.rulesWhy
		case w.rulesNote != "":
			w.snap.Delivery = w.rulesNote
		}
	}
	if gen != 0 && gen == w.gen {
		return nil
	}
	return w.snap
}

// EntriesSince is Entries and Scores for a poll: when nothing changed since
// the snapshot numbered gen it returns nil, nil and gen again, without
// copying anything; otherwise this period's entries (newest transition
// first, a copy of every entry), the scores, and the number to pass next
// time. gen 0 always gets them. Lifecycle is its O(1) form.
func (w *Watcher) EntriesSince(gen uint64) (entries []Entry, scores []model.ForecastScore, now uint64) {
	l := w.Lifecycle(gen)
	if l == nil {
		return nil, nil, gen
	}
	return l.Entries(), slices.Clone(l.Scores), l.Gen
}

// Firing returns how many alerts of this period are firing.
func (w *Watcher) Firing() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.life.firing
}

// Notifications returns delivery outcomes counted by sink and outcome.
func (w *Watcher) Notifications() map[[2]string]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[[2]string]int64, len(w.counts))
	for k, v := range w.counts {
		out[k] = v
	}
	return out
}

// Scores returns the latest forecast scores (this period's and the last's,
// MaxScores at most), newest first. They come from the stored lifecycle, so
// every instance shows the same ones, whichever claimed the 402.
func (w *Watcher) Scores() []model.ForecastScore {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.life.scores()
}

// StoreErr is the last error reading or writing the store (nil when the last
// call worked).
func (w *Watcher) StoreErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.storeErr
}

// Stopped is closed once Run has returned: every attempt under way when its
// context ended has finished and been recorded.
func (w *Watcher) Stopped() <-chan struct{} { return w.stopped }

// Run follows the hub and evaluates every Every until ctx is done; with a
// notifier it also runs the deliveries, and returns once their attempts under
// way are finished and recorded (so a clean stop never sends twice).
func (w *Watcher) Run(ctx context.Context) error {
	defer close(w.stopped)
	v := w.opt.Hub.JoinUnordered(feed.Helper) // it judges workspaces, it never lists them in order
	defer v.Close()
	if n := w.opt.Notifier; n != nil {
		delivering := make(chan struct{})
		go func() { defer close(delivering); n.Run(ctx) }()
		defer func() {
			<-delivering
			w.renew() // what the last attempts reported
		}()
	}
	if hold := w.opt.StartHold; hold != nil {
		// joined: what the hub sends meanwhile waits in v's queue
		t := time.NewTimer(MaxStartHold)
		seeded := w.opt.Hub.Seeded()
	held:
		for {
			select {
			case <-seeded:
				// the first frame is due now: MaxStartHold from here
				seeded = nil
				t.Reset(MaxStartHold)
			case <-hold:
				break held
			case <-t.C:
				break held
			case <-ctx.Done():
				break held
			}
		}
		t.Stop()
	}
	msgs := make(chan []feed.Msg, 1)
	go func() {
		for {
			m, err := v.Next(ctx)
			if err != nil {
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	var st feed.LedgerState
	var h model.FeedHealth
	var connSince time.Time // when the connection known began: the first one is no reconnect
	t := time.NewTicker(w.opt.Every)
	defer t.Stop()
	lastRenew := w.opt.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-msgs:
			for _, m := range batch {
				switch m := m.(type) {
				case *feed.ConnMsg:
					// back after a break (a connection that began at
					// another time than the one known, whether or not the
					// break itself came through): Redis may have lost or
					// restored what its versions say, so the lifecycle is
					// read whole
					if m.State == feed.Connected {
						w.reload = w.reload || !connSince.IsZero() && !m.Since.Equal(connSince)
						connSince = m.Since
					}
					h.Connected, h.Since = m.State == feed.Connected, m.Since
					h.Unreadable = ""
					if se := (*feed.StreamError)(nil); errors.As(m.Err, &se) {
						h.Unreadable = se.Why // Redis answers: the stream is what cannot be read
					}
				case *feed.StatsMsg:
					h.Lag = m.Lag
				case *feed.SnapshotMsg:
					// a re-read that replaced what was shown because Redis
					// changed under it: its alert (model.AlertResync)
					h.Resyncs = noteResync(h.Resyncs, m, w.opt.Now())
					st.Apply(m)
				default:
					st.Apply(m)
				}
			}
			if st.Ledger != nil {
				// the source of the ledger judged, whichever message
				// brought it: a SnapshotMsg, or a LedgerMsg, the hub's copy
				// a watcher gets when it joins after the hub's first
				// reading (or falls behind), with no snapshot of its own.
				// Taken by the snapshot alone, a watcher that joined late
				// on the counters judged as one on the stream (rolledBack):
				// the records' positions, Redis's clock, were ahead of the
				// stream's end and cleared, and it resolved at once what
				// another instance had fired on a reading newer than any of
				// its own ("its line was removed from the settings", "back
				// under 50 %"; cmd's TestInstancesThatDifferInSourceDoNotFight
				// flaked so under load)
				w.source = feed.SourceStream
				if st.Source == feed.CounterLabel {
					w.source = feed.SourceCounters
				}
			}
		case <-t.C:
			if st.Ledger == nil {
				// No counters read yet (Redis down since the start): only the
				// feed's own alert can be judged, on an empty ledger of the
				// default billing period.
				w.cycle(ctx, model.NewLedger(model.MonthlyUTC, w.opt.Now()), h, true)
				continue
			}
			w.cycle(ctx, st.Ledger, h, false)
			if now := w.opt.Now(); now.Sub(lastRenew) >= w.opt.Lease/3 {
				w.renew()
				lastRenew = now
			}
		}
	}
}

// cycle is one evaluation: read the shared lifecycle, judge, claim, deliver.
// With onlyStale (no counters read yet) only the feed's own alert is judged:
// an empty ledger must not resolve what others fired.
func (w *Watcher) cycle(ctx context.Context, l *model.Ledger, h model.FeedHealth, onlyStale bool) {
	now := w.opt.Now()
	p := l.Period()
	prev := l.Rule().At(p.Start.Add(-time.Millisecond)).Key
	if w.reload {
		w.mirror.Reset()
		w.reload = false
	}
	changed, storeErr := w.mirror.Sync(ctx, prev, p.Key)
	recs := w.mirror.Records()
	w.mu.Lock()
	for _, id := range changed {
		switch r, ok := recs[id]; {
		case ok:
			w.setPacked(id, r)
		case !w.local[id]: // what only this instance knows (announced while Redis was away) stays
			w.dropKnown(id)
		}
	}
	w.storeErr = storeErr
	w.mu.Unlock()
	var known model.RecordLookup = judged{w: w}
	if storeErr == nil {
		var back bool
		known, back = w.rolledBack(ctx, l, &changed)
		onlyStale = back || onlyStale
		if w.period != p.Key {
			w.pruneDropped()
			w.period = p.Key
		}
	}
	w.changed = changed

	if storeErr == nil {
		w.checkRules(ctx, now) // before judging: a new stale limit makes a new evaluator
	}
	// Judged by other rules than the shared ones (or than another instance
	// may still judge by): whatever this instance would fire or resolve,
	// another judges otherwise, so nothing is judged, and the evaluator,
	// which judges only what changed since its last call, starts afresh
	// once the hold ends (what changed meanwhile is judged then).
	held := w.rulesHeld(l, now) != ""
	if held {
		w.eval = nil
	}
	w.runOuts = w.runOuts[:0]
	changed = append(changed, w.claimed...)
	w.claimed = w.claimed[:0]
	var trs []model.AlertTransition
	if !held {
		// What changed since the last cycle is judged, not every alert: at
		// 100k workspaces EvaluateAlerts took most of each second.
		if w.eval == nil {
			w.eval = model.NewAlertEvaluator(w.opt.Alert)
		}
		lifecycle := model.AlertRecords{Lookup: known, Tracked: true, Changed: changed}
		trs = w.eval.Transitions(l, now, h, lifecycle, func(ws string, in time.Duration) {
			w.runOuts = append(w.runOuts, runOutAt{ws, in})
		})
	}
	w.track(now)
	stale := model.AlertID(p.Key, "", "", model.AlertStale, "")
	if onlyStale {
		trs = slices.DeleteFunc(trs, func(tr model.AlertTransition) bool {
			base, _ := model.SplitEpisode(tr.Alert.ID)                 // any episode of it
			return base != stale && tr.Alert.Kind != model.AlertResync // the feed's own
		})
	}
	for i := range trs {
		if tr := &trs[i]; tr.Removed && tr.Why == "" {
			tr.Why = l.RemovedWhy(&tr.Alert) // which thresholds judge it now
		}
	}
	w.transitions(ctx, trs, p, now, storeErr != nil)
	if storeErr == nil {
		w.syncLocal(ctx, p)
		w.takeOver(ctx, now)
		if len(w.sinks) > 0 {
			w.releaseWaiting()
		}
	}
	w.refresh(p.Key)
	id := l.StreamID()
	w.judged.Store(&id)
	w.cycles.Add(1)
}

// noteResync keeps in rs the latest re-read of each reason raised as an
// alert (model.ResyncReasons), from the snapshot m taken in at (this
// watcher's clock); other reasons (the start,
// a rollover, a period change, a resync asked for) change nothing.
func noteResync(rs []model.Resync, m *feed.SnapshotMsg, at time.Time) []model.Resync {
	for _, r := range model.ResyncReasons {
		if r.Reason != string(m.Reason) {
			continue
		}
		rs = slices.DeleteFunc(slices.Clone(rs), func(x model.Resync) bool { return x.Reason == r.Reason })
		return append(rs, model.Resync{Reason: r.Reason, Note: model.Sanitize(m.Note()), At: at})
	}
	return rs
}

// rolledBack compares what the ledger and the lifecycle have read with the
// end of the stream Redis holds now. Redis may come back older than it was (a
// restart that lost its data, a restore, a failover to a replica that
// lagged): a ledger that has read further than the stream now goes holds
// counters Redis no longer has, and is judged on only for the feed's own
// alert until it is read again (else it fires again what the lost lifecycle
// had fired); an alert fired at an id the stream no longer reaches may resolve
// at once, against the counters read again, instead of when a new event's id
// passes the lost one (feed_stale stayed firing after such a restart). A
// stream's end that cannot be read holds the ledger the same way, for that
// cycle: nothing tells it is not one Redis lost.
func (w *Watcher) rolledBack(ctx context.Context, l *model.Ledger, changed *[]string) (model.RecordLookup, bool) {
	known := judged{w: w}
	if w.source != feed.SourceStream {
		// Read from the Pattern 1 counters, the records' positions are
		// Redis's clock (model.ReadPosition), not stream ids, and no stream
		// holds the history: a counter that went down is read again
		// (ReasonReset) and judged against as it stands. Before the first
		// reading ("") what the positions are is not known either: a
		// server time ahead of the stream's end is no sign of a Redis come
		// back older, and clearing it would let this instance resolve what
		// another fired on a reading newer than any of its own
		for id := range w.cleared {
			*changed = append(*changed, id)
		}
		w.cleared, w.back, w.lost = nil, false, nil
		return known, false
	}
	end, err := w.opt.Store.StreamEnd(ctx)
	if err != nil && !feed.Retryable(err) {
		// Redis answered, with an error that is no "not now" (a user the ACL
		// denies XINFO, a proxy without it): the next cycle gets the same
		// answer, so a hold would hold for good (no threshold, OUT or
		// run-out alert fired for such a user; hostile18 E). Judged whole,
		// as before the hold, unless a cycle has already found this ledger
		// ahead of the stream: that stays held until the feed replaces it
		// (judged whole at one such reply, it fired its lost 50 % again;
		// hostile19)
		w.setErr(err)
		return known, l == w.lost
	}
	if err != nil {
		// The lifecycle was read but the stream's end was not (a restarted
		// server's first dials refused while another connection already
		// answered): whether this ledger holds counters Redis lost cannot be
		// told, so only the feed's own alert is judged this cycle, the rest
		// next (the evaluator keeps what was due). Judged whole, a ledger
		// read before a restart that lost the data fired its 50 % again
		// against the lifecycle the restart had emptied.
		w.setErr(err)
		return known, true
	}
	cleared := map[string]bool{}
	if w.maxFired != "" && model.CompareStreamIDs(w.maxFired, end) > 0 {
		// Some record may be ahead of the stream: look at them all (rare:
		// Redis came back older), on copies, the records kept as stored. A
		// firing one may resolve at once, against the counters read again;
		// a resolved one no longer holds its alert's next episode back until
		// a new event's id passes the lost resolution (the re-fire rule's
		// "read as far as the one that resolved it": that history is gone).
		w.maxFired = ""
		known.cleared = map[string]*model.AlertRecord{}
		for id := range known.IDs() {
			r, _ := known.Get(id)
			at := decidedAt(r)
			if model.CompareStreamIDs(at, end) > 0 {
				cleared[id] = true
				// decided on a history that is gone: a copy changed, the
				// stored record (shared) kept as it is
				if r.Status == model.AlertFiring {
					r.FiredStream = ""
				} else {
					r.ResolvedStream = ""
				}
				known.cleared[id] = &r
			}
			// the records' own maximum stays known for the next cycle
			if model.CompareStreamIDs(at, w.maxFired) > 0 {
				w.maxFired = at
			}
		}
	}
	for id := range cleared {
		if !w.cleared[id] {
			*changed = append(*changed, id)
		}
	}
	for id := range w.cleared {
		if !cleared[id] {
			*changed = append(*changed, id)
		}
	}
	back := model.CompareStreamIDs(l.StreamID(), end) > 0 || l == w.lost
	w.lost = nil
	if back {
		w.lost = l
	}
	// Redis holds less than was read (it came back older): what its
	// versions say of the lifecycle cannot be trusted either, so it is read
	// whole once, when that is first seen
	w.reload = w.reload || back && !w.back || len(cleared) > 0 && len(w.cleared) == 0
	w.cleared, w.back = cleared, back
	return known, back
}

// decidedAt is the stream id a record's last transition was decided at: the
// firing's for a firing record, the resolution's for a resolved one. A
// ledger must have read as far to make the next (see model's decide).
func decidedAt(r model.AlertRecord) string {
	if r.Status == model.AlertResolved {
		return r.ResolvedStream
	}
	return r.FiredStream
}

// setKnown keeps an alert's record (with w.mu held): r is packed, never
// written.
func (w *Watcher) setKnown(id string, r *feed.StoredAlert) {
	w.setPacked(id, feed.Pack(r))
}

// setPacked keeps an alert's record, packed (with w.mu held).
func (w *Watcher) setPacked(id string, p feed.PackedAlert) {
	r := p.Decode() // for what is kept of it: not kept itself
	w.known[id] = p
	delete(w.own, id) // the store's record stands for this instance's claim
	w.life.set(id, p, r)
	if at := decidedAt(r.AlertRecord); model.CompareStreamIDs(at, w.maxFired) > 0 {
		w.maxFired = at
	}
	delete(w.pending, id)
	if len(w.sinks) == 0 {
		return // nothing to take over (takeOver): not kept
	}
	for _, d := range r.Deliveries {
		if !d.Done {
			w.pending[id] = true
		}
	}
}

// dropKnown forgets an alert's record (with w.mu held).
func (w *Watcher) dropKnown(id string) {
	delete(w.known, id)
	delete(w.own, id)
	delete(w.pending, id)
	w.life.set(id, feed.PackedAlert{}, nil)
}

// knownRecord is id's record, decoded (false: none). Never write it.
func (w *Watcher) knownRecord(id string) (*feed.StoredAlert, bool) {
	r := w.known[id].Decode()
	return r, r != nil
}

// judged is the lifecycle the judge reads (model.RecordLookup): the
// records of this instance's claims (own) and those rolledBack changed
// (cleared) over the known ones, decoded on demand. Only the cycle's
// goroutine, the one writer of known and own, reads it.
type judged struct {
	w       *Watcher
	cleared map[string]*model.AlertRecord
}

func (j judged) Get(id string) (model.AlertRecord, bool) {
	if r := j.cleared[id]; r != nil {
		return *r, true
	}
	if r := j.w.own[id]; r != nil {
		return *r, true
	}
	return j.w.known[id].Record()
}

func (j judged) Has(id string) bool {
	if _, ok := j.w.known[id]; ok {
		return true
	}
	return j.w.own[id] != nil
}

func (j judged) Len() int {
	n := len(j.w.known)
	for id := range j.w.own {
		if _, ok := j.w.known[id]; !ok {
			n++
		}
	}
	return n
}

func (j judged) IDs() iter.Seq[string] {
	return func(yield func(string) bool) {
		for id := range j.w.known {
			if !yield(id) {
				return
			}
		}
		for id := range j.w.own {
			if _, ok := j.w.known[id]; !ok && !yield(id) {
				return
			}
		}
	}
}

// runOutAt is a workspace whose run-out alert holds, and how soon.
type runOutAt struct {
	ws string
	in time.Duration
}

// track keeps each workspace's projected run-out (those the cycle judged, in
// runOuts), to score the forecast against the first credits_exhausted 402.
// The evaluator judges a run-out again when the workspace changes (each
// charge) or when its run-out could change with time alone, not every cycle:
// the projection kept is the one made then.
func (w *Watcher) track(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.runOuts {
		w.runOut[r.ws] = now.Add(r.in)
	}
}

// transitions claims the transitions due (sorted by id) in the store, in
// batches (feed.AlertStore.ClaimAll: at 100k workspaces a first judgement
// fires ~44k alerts, one transaction each took minutes), and announces and
// delivers those this instance claimed. With Redis away only the feed's own
// alert is announced (announceLocal).
func (w *Watcher) transitions(ctx context.Context, trs []model.AlertTransition, p model.Period, now time.Time, redisDown bool) {
	if len(trs) == 0 {
		return
	}
	var expire time.Time
	deliver := len(w.sinks) > 0
	if redisDown {
		for _, tr := range trs {
			w.announceLocal(tr, tr.Summary(p.Key), deliver)
		}
		return
	}
	reqs := make([]feed.ClaimRequest, 0, len(trs))
	for _, tr := range trs {
		summary := tr.Summary(p.Key)
		if tr.Alert.Period == p.Key {
			expire = feed.ExpireAt(p)
		} else {
			expire = time.Time{}
		}
		if tr.Status == model.AlertFiring && tr.Alert.Kind == model.AlertRefusals && tr.Alert.Code == model.CodeCreditsExhausted {
			// the forecast it is set against, recorded with the claim
			w.mu.Lock()
			tr.Alert.ProjectedRunOut = w.runOut[tr.Alert.Workspace]
			w.mu.Unlock()
		}
		reqs = append(reqs, feed.ClaimRequest{Transition: tr, Summary: summary, Options: feed.ClaimOptions{Expire: expire}})
	}
	for chunk := range slices.Chunk(reqs, feed.ClaimBatch) {
		if deliver {
			// the lease runs from the claim, not from the start of a cycle
			// that may have been slow
			until := w.opt.Now().Add(w.opt.Lease)
			for i := range chunk {
				chunk[i].Options.Owner, chunk[i].Options.LeaseUntil = w.opt.Instance, until
			}
		}
		claimed, err := w.opt.Store.ClaimAll(ctx, chunk)
		if err != nil {
			w.setErr(err)
		}
		for i := range chunk {
			if claimed[i] { // else another instance made it first (or the store failed)
				w.claimedOne(ctx, &chunk[i], deliver)
			}
		}
	}
}

// claimedOne announces a transition this instance claimed and starts its
// delivery.
func (w *Watcher) claimedOne(ctx context.Context, r *feed.ClaimRequest, deliver bool) {
	tr := r.Transition
	w.ownClaim(&tr)
	w.log("alert "+string(tr.Status), tr, r.Summary)
	switch {
	case !deliver:
	case tr.Status == model.AlertFiring:
		w.start(tr.Alert.Period, tr.Alert.ID, 0, tr.Key(), NewPayload(&tr, r.Summary), nil, nil, r.Options.LeaseUntil)
	default:
		// Leased to this instance at once: each sink gets it as soon as its
		// firing is done there, whatever the other sinks do (take).
		w.take(ctx, tr.Alert.Period, tr.Alert.ID, 1, w.opt.Now())
	}
}

// announceLocal is a transition while Redis is away: nothing can be
// claimed. Only the feed's own alert cannot wait for it; each instance
// announces it (receivers drop duplicates by key) and records it once Redis
// is back.
func (w *Watcher) announceLocal(tr model.AlertTransition, summary string, deliver bool) {
	if tr.Alert.Kind != model.AlertStale || tr.Status != model.AlertFiring {
		return
	}
	rec := feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: tr.Alert, Status: model.AlertFiring, FiredAt: tr.At, FiredStream: tr.Stream},
		Deliveries: []feed.Delivery{{Transition: tr, Summary: summary, Done: true}}}
	w.mu.Lock()
	w.setKnown(tr.Alert.ID, &rec)
	w.local[tr.Alert.ID] = true
	w.claimed = append(w.claimed, tr.Alert.ID) // judged against it next cycle (its episode)
	if deliver {
		left := map[string]bool{}
		for _, s := range w.sinks {
			left[s] = true
		}
		w.localLeft[tr.Key()] = left
	}
	w.mu.Unlock()
	w.log("alert firing (Redis unreachable: not claimed)", tr, summary)
	if deliver {
		w.opt.Notifier.Enqueue(&Job{Key: tr.Key(), Payload: NewPayload(&tr, summary)})
	}
}

// ownClaim keeps the record a claim of this instance wrote as the judge's
// input at once, not only once the store is read again: Redis gone between
// the claim and that read left a resolved feed_stale firing here, and its
// next episode was never announced. The id is judged again next cycle.
func (w *Watcher) ownClaim(tr *model.AlertTransition) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := tr.Alert.ID
	r, _ := judged{w: w}.Get(id) // a copy: the stored record is shared
	r.Apply(tr)                  // as the store recorded it
	if model.CompareStreamIDs(tr.Stream, w.maxFired) > 0 {
		w.maxFired = tr.Stream
	}
	w.own[id] = &r
	w.claimed = append(w.claimed, id)
}

// syncLocal records in Redis what was announced while it was away.
func (w *Watcher) syncLocal(ctx context.Context, p model.Period) {
	w.mu.Lock()
	var pending []*feed.StoredAlert
	for id := range w.local {
		rec, _ := w.knownRecord(id)
		if rec == nil || len(rec.Deliveries) == 0 {
			// Redis holds a record of it with no delivery (a foreign
			// writer's), read over the announcement: the id is recorded
			// there already, as when another instance's claim came first
			delete(w.local, id)
			firing := model.AlertTransition{Alert: model.Alert{ID: id}, Status: model.AlertFiring}
			delete(w.localLeft, firing.Key())
			continue
		}
		pending = append(pending, rec)
	}
	w.mu.Unlock()
	for _, rec := range pending {
		tr := rec.Deliveries[0].Transition
		key := tr.Key()
		var expire time.Time
		if tr.Alert.Period == p.Key {
			expire = feed.ExpireAt(p)
		}
		// A firing some sink is still working on (a receiver that refuses
		// it) is recorded as this instance's delivery, under its lease, and
		// done only once those sinks are: its resolution waits for it.
		w.mu.Lock()
		working := len(w.localLeft[key]) > 0
		w.mu.Unlock()
		opt := feed.ClaimOptions{Delivered: !working, Expire: expire}
		if working {
			opt.Owner, opt.LeaseUntil = w.opt.Instance, w.opt.Now().Add(w.opt.Lease)
		}
		claimed, err := w.opt.Store.Claim(ctx, tr, rec.Deliveries[0].Summary, opt)
		if err != nil {
			return
		}
		w.mu.Lock()
		left := w.localLeft[key]
		delete(w.local, tr.Alert.ID)
		delete(w.localLeft, key)
		if working && claimed {
			// from now on its results are recorded like any delivery's
			w.inflight[key] = &inflight{period: tr.Alert.Period, id: tr.Alert.ID, left: left, results: map[string]feed.SinkResult{}, until: opt.LeaseUntil, waiting: map[string]bool{}}
		}
		// Not claimed: another instance recorded its own announcement first,
		// and the copies still queued here are dropped (hold: not held), so
		// none reaches a receiver after the resolution.
		w.mu.Unlock()
		if working && claimed {
			w.record(key)
		}
	}
}

// takeOver leases deliveries nobody holds (recorded by an instance without
// sinks, or by one that died mid-delivery) and starts them.
func (w *Watcher) takeOver(ctx context.Context, now time.Time) {
	if len(w.sinks) == 0 {
		return
	}
	type pending struct {
		r   *feed.StoredAlert
		idx int
	}
	w.mu.Lock()
	var cand []pending
	for id := range w.pending {
		r, _ := w.knownRecord(id)
		if r == nil {
			continue
		}
		// every delivery not done, the resolution too while another instance
		// still retries the firing: it goes to the sinks the firing is done for
		for i, d := range r.Deliveries {
			if d.Done {
				continue
			}
			if _, busy := w.inflight[d.Transition.Key()]; busy {
				continue
			}
			if d.Owner == "" || d.Owner == w.opt.Instance || !now.Before(d.LeaseUntil) {
				cand = append(cand, pending{r, i})
			}
		}
	}
	w.mu.Unlock()
	// Only as many as the sinks' queues have room for: one taken up into a
	// full queue is dropped again at once, and the store keeps it pending
	// anyway, so it waits there for room instead of being re-taken each cycle.
	room := make(map[string]int, len(w.sinks))
	for _, s := range w.sinks {
		room[s] = w.opt.Notifier.Room(s)
	}
	for _, c := range cand {
		r := c.r
		d := &r.Deliveries[c.idx]
		var need []string
		fits := true
		for _, s := range w.sinks {
			if res, ok := d.Sinks[s]; !ok || res.Result == feed.ResultRetrying {
				need = append(need, s)
				fits = fits && room[s] > 0
			}
		}
		if !fits {
			continue
		}
		for _, s := range need {
			room[s]--
		}
		if w.take(ctx, r.Alert.Period, r.Alert.ID, c.idx, now) != nil {
			return
		}
	}
}

// take leases an alert's delivery idx and starts it, unless this instance has
// it under way already. A resolution goes at once to the sinks its firing is
// done for, or queued here before it (a sink's queue keeps an alert's
// transitions in order); the others wait until the store says the firing is
// done for them (releaseWaiting), so one sink retrying the firing for an hour
// holds the resolution back from no other.
func (w *Watcher) take(ctx context.Context, period, id string, idx int, now time.Time) error {
	until := w.opt.Now().Add(w.opt.Lease)
	rec, idx, ok, err := w.opt.Store.TakeDelivery(ctx, period, id, idx, w.opt.Instance, now, until)
	if err != nil {
		w.setErr(err)
		return err
	}
	if !ok {
		return nil
	}
	d := rec.Deliveries[idx]
	w.mu.Lock()
	_, busy := w.inflight[d.Transition.Key()]
	w.mu.Unlock()
	if busy { // this instance's own, still under way: the lease was only extended
		return nil
	}
	left := []string{}
	for _, s := range w.sinks {
		if res, ok := d.Sinks[s]; !ok || res.Result == feed.ResultRetrying {
			left = append(left, s)
		}
	}
	var waiting []string
	if idx > 0 {
		prev := &rec.Deliveries[idx-1]
		w.mu.Lock()
		for _, s := range left {
			if !w.firingDone(prev, s) {
				waiting = append(waiting, s)
			}
		}
		w.mu.Unlock()
	}
	w.start(rec.Alert.Period, rec.Alert.ID, idx, d.Transition.Key(), NewPayload(&d.Transition, d.Summary), left, waiting, until)
	return nil
}

// firingDone reports (with w.mu held) whether a resolution may go to sink
// after the delivery prev: prev is done for sink, or queued for it here, where
// the sink's queue sends it first.
func (w *Watcher) firingDone(prev *feed.Delivery, sink string) bool {
	if prev.DoneFor(sink) {
		return true
	}
	in := w.inflight[prev.Transition.Key()]
	return in != nil && !in.lost && in.left[sink]
}

// start runs a delivery to sinks (nil: every sink), all but those waiting.
func (w *Watcher) start(period, id string, idx int, key string, p Payload, sinks, waiting []string, until time.Time) {
	if sinks == nil {
		sinks = w.sinks
	}
	in := &inflight{period: period, id: id, idx: idx, left: map[string]bool{}, results: map[string]feed.SinkResult{}, until: until,
		waiting: map[string]bool{}, payload: p}
	for _, s := range sinks {
		in.left[s] = true
	}
	var now []string
	for _, s := range sinks {
		if slices.Contains(waiting, s) {
			in.waiting[s] = true
		} else {
			now = append(now, s)
		}
	}
	w.mu.Lock()
	w.inflight[key] = in
	w.mu.Unlock()
	if len(sinks) == 0 { // every sink already had it: finish the record
		w.onResult(Result{Key: key, Final: true})
		return
	}
	if len(now) > 0 {
		w.opt.Notifier.Enqueue(&Job{Key: key, Payload: p, Sinks: now})
	}
}

// releaseWaiting sends each resolution held here to the sinks its firing is
// now done for, as the store read this cycle says (or queued here since).
func (w *Watcher) releaseWaiting() {
	var jobs []*Job
	w.mu.Lock()
	for key, in := range w.inflight {
		if len(in.waiting) == 0 || in.lost {
			continue
		}
		rec, ok := w.knownRecord(in.id)
		var ready []string
		for s := range in.waiting {
			if !ok || in.idx == 0 || in.idx > len(rec.Deliveries) || w.firingDone(&rec.Deliveries[in.idx-1], s) {
				ready = append(ready, s)
				delete(in.waiting, s)
			}
		}
		if len(ready) > 0 {
			slices.Sort(ready)
			jobs = append(jobs, &Job{Key: key, Payload: in.payload, Sinks: ready})
		}
	}
	w.mu.Unlock()
	for _, j := range jobs {
		w.opt.Notifier.Enqueue(j)
	}
}

// errFiringFirst holds a resolution's attempt back (as a retry) while its
// firing, handed over to another instance, is not done for the sink.
var errFiringFirst = errors.New("waiting for its firing to be delivered first")

// hold is the notifier's fence before every attempt (Options.Hold): it
// extends this instance's lease on the delivery, and bounds the attempt to
// three quarters of it, so no other instance can take the delivery over while
// a send is under way or not yet recorded. Only an instance that stalls for
// the last quarter of a lease between a send and its record (or dies there)
// lets the next one send again: the at-least-once window the idempotency key
// covers.
func (w *Watcher) hold(ctx context.Context, key, sink string) (time.Duration, error) {
	w.mu.Lock()
	in := w.inflight[key]
	w.mu.Unlock()
	if in == nil {
		w.mu.Lock()
		_, local := w.localLeft[key]
		w.mu.Unlock()
		if local {
			return 0, nil // announced while Redis is away: no lease to keep
		}
		// an announcement made while Redis was away, which another
		// instance's record replaced once it was back
		return 0, ErrNotHeld
	}
	in.rec.Lock()
	defer in.rec.Unlock()
	margin := w.opt.Lease / 4
	w.mu.Lock()
	lost := in.lost
	if in.fenced[sink] {
		if rec, ok := w.knownRecord(in.id); ok && in.idx > 0 && in.idx <= len(rec.Deliveries) && !rec.Deliveries[in.idx-1].DoneFor(sink) {
			w.mu.Unlock()
			return 0, errFiringFirst
		}
		delete(in.fenced, sink)
	}
	w.mu.Unlock()
	if lost {
		return 0, ErrNotHeld
	}
	now := w.opt.Now()
	until := now.Add(w.opt.Lease)
	ok, err := w.opt.Store.Report(ctx, in.period, in.id, in.idx, w.opt.Instance, nil, false, until)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		// The store cannot say. Nobody can take the delivery over without it
		// either, so the lease last written still holds: send on what is left
		// of it.
		if left := in.until.Sub(now) - margin; left > 0 {
			return left, nil
		}
		return 0, fmt.Errorf("alert store: %w", err)
	case !ok:
		in.lost = true
		return 0, ErrNotHeld
	}
	in.until = until
	return w.opt.Lease - margin, nil
}

// pruneDropped forgets, at a billing period's rollover, the deliveries a full
// queue dropped that can no longer be taken up again: their alert is gone from
// the store read this cycle (an older period's, expired) or their delivery is
// done there (finished by another instance). Without it the memory grew by
// every such delivery for the life of the process. The ones still pending
// are kept: dropped again, they still count once.
func (w *Watcher) pruneDropped() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ks := range w.droppedOnce {
		key := ks[0]
		i := strings.LastIndexByte(key, '#')
		pending := false
		if rec, ok := w.knownRecord(key[:max(i, 0)]); ok && i > 0 {
			for _, d := range rec.Deliveries {
				pending = pending || (d.Transition.Key() == key && !d.Done)
			}
		}
		if !pending {
			delete(w.droppedOnce, ks)
		}
	}
}

// onResult takes a sink's outcome (from the sink's goroutine) and records it.
func (w *Watcher) onResult(r Result) {
	now := w.opt.Now()
	w.logResult(r)
	w.mu.Lock()
	if r.Sink != "" {
		ks := [2]string{r.Key, r.Sink}
		switch {
		case r.Outcome == OutcomeDropped && w.droppedOnce[ks]:
		case r.Outcome == OutcomeDropped:
			w.droppedOnce[ks] = true
			w.counts[[2]string{r.Sink, r.Outcome}]++
		default:
			if r.Final {
				delete(w.droppedOnce, ks)
			}
			w.counts[[2]string{r.Sink, r.Outcome}]++
		}
	}
	if r.Outcome == OutcomeHandedOver && strings.HasSuffix(r.Key, "#"+string(model.AlertFiring)) {
		// a resolution queued here behind this firing must not overtake it
		// now that another instance sends the firing
		id := strings.TrimSuffix(r.Key, "#"+string(model.AlertFiring))
		if res := w.inflight[id+"#"+string(model.AlertResolved)]; res != nil {
			if res.fenced == nil {
				res.fenced = map[string]bool{}
			}
			res.fenced[r.Sink] = true
		}
	}
	in := w.inflight[r.Key]
	if in == nil {
		if left := w.localLeft[r.Key]; left != nil && r.Final {
			delete(left, r.Sink) // announced while Redis is away: nothing to record yet
		}
		w.mu.Unlock()
		return
	}
	if r.Final {
		delete(in.left, r.Sink)
		in.dropped = in.dropped || r.Outcome == OutcomeDropped
	}
	// A dropped one stays pending in the store (taken up again later); a
	// handed-over one is the new holder's to record.
	if r.Sink != "" && r.Outcome != OutcomeDropped && r.Outcome != OutcomeHandedOver {
		in.results[r.Sink] = feed.SinkResult{Result: r.Outcome, Attempts: r.Attempts, Err: r.Err, At: now}
	}
	w.mu.Unlock()
	w.record(r.Key)
}

// record writes a delivery's results the store does not have yet, marks it
// done once every sink is finished with it, and extends the lease. When the
// store cannot be written the results stay here (and the delivery in flight,
// so takeOver does not start it again) until a later renew writes them.
func (w *Watcher) record(key string) {
	w.mu.Lock()
	in := w.inflight[key]
	w.mu.Unlock()
	if in == nil {
		return
	}
	in.rec.Lock()
	defer in.rec.Unlock()
	now := w.opt.Now()
	w.mu.Lock()
	results := maps.Clone(in.results)
	done := len(in.left) == 0 && !in.dropped
	lost := in.lost
	w.mu.Unlock()
	ok := false
	if !lost {
		// A fresh context: the result of a send must be recorded even while
		// the process is asked to stop, or the next instance sends it again.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var err error
		ok, err = w.opt.Store.Report(ctx, in.period, in.id, in.idx, w.opt.Instance, results, done, now.Add(w.opt.Lease))
		cancel()
		if err != nil {
			w.setErr(err)
			return
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for s, r := range results {
		if cur, ok := in.results[s]; ok && cur == r {
			delete(in.results, s)
		}
	}
	if ok {
		in.until = now.Add(w.opt.Lease)
	} else { // another instance holds it (or it is done): its results are its own
		in.lost = true
		clear(in.results)
	}
	if len(in.left) == 0 && len(in.results) == 0 && w.inflight[key] == in {
		// Only now, with the store saying done, may takeOver look at it again.
		delete(w.inflight, key)
	}
}

// renew writes what is not yet recorded and extends the leases of the
// deliveries under way.
func (w *Watcher) renew() {
	w.mu.Lock()
	keys := slices.Collect(maps.Keys(w.inflight))
	w.mu.Unlock()
	for _, k := range keys {
		w.record(k)
	}
}

// refresh keeps the entries listed for period: the index follows each
// record as it changes (setKnown, dropKnown); a new period (the first cycle,
// a rollover) lists every record again, once.
func (w *Watcher) refresh(period string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.life.byTime != nil && w.life.period == period {
		return
	}
	w.life.reset(period)
	for id, p := range w.known {
		w.life.set(id, p, p.Decode())
	}
}

// scoreOf is the forecast score a stored alert carries: the first
// credits_exhausted 402 of a workspace's period set against the run-out the
// claiming instance had projected, as recorded with the firing (a resolution
// replaces the record's alert, never its firing delivery).
func scoreOf(r *feed.StoredAlert) (model.ForecastScore, bool) {
	if len(r.Deliveries) == 0 || r.Deliveries[0].Transition.Status != model.AlertFiring {
		return model.ForecastScore{}, false
	}
	tr := &r.Deliveries[0].Transition
	a := &tr.Alert
	if a.Kind != model.AlertRefusals || a.Code != model.CodeCreditsExhausted || a.ProjectedRunOut.IsZero() || tr.At.IsZero() {
		return model.ForecastScore{}, false
	}
	for _, d := range r.Deliveries[1:] {
		if d.Transition.Status == model.AlertResolved && d.Transition.Removed && d.Transition.Alert.Period == a.Period {
			// the counters hold no such 402 (re-read, they show none this
			// period): the refusal it was scored by never happened as far
			// as they say, and they are the truth — no score
			return model.ForecastScore{}, false
		}
	}
	return model.ForecastScore{Workspace: a.Workspace, Projected: a.ProjectedRunOut, Refused: tr.At}, true
}

// At is when the entry's newest transition was decided.
func (e *Entry) At() time.Time {
	if e.StoredAlert != nil && e.at.IsZero() {
		// an entry made of a record (EntryOf), not by an index
		if e.StoredAlert.Status == model.AlertResolved {
			return e.ResolvedAt
		}
		return e.FiredAt
	}
	return e.at
}

func (w *Watcher) setErr(err error) {
	w.mu.Lock()
	w.storeErr = err
	w.mu.Unlock()
	if w.opt.Logger != nil {
		w.opt.Logger.Warn("alert store", "err", err)
	}
}

// logResult logs a delivery that did not go through at once, at the default
// level: each failed attempt (retried or given up, with the error as stored:
// URLs cut to their scheme, sanitised, at most 200 bytes), a delivery sent
// after failed attempts, and one dropped from a full queue; a delivery sent at
// its first attempt at INFO.
func (w *Watcher) logResult(r Result) {
	l := w.opt.Logger
	if l == nil {
		return
	}
	id, status := r.Key, ""
	if i := strings.LastIndexByte(r.Key, '#'); i >= 0 {
		id, status = r.Key[:i], r.Key[i+1:]
	}
	attrs := []any{"id", id, "status", status, "sink", r.Sink, "attempt", r.Attempts}
	switch r.Outcome {
	case OutcomeRetrying:
		l.Warn("alert delivery failed, retrying", append(attrs, "err", r.Err)...)
	case OutcomeFailed:
		l.Error("alert delivery failed, given up", append(attrs, "err", r.Err)...)
	case OutcomeSent:
		if r.Attempts > 1 {
			l.Info("alert delivered after failed attempts", attrs...)
		} else {
			// the transition's line ("alert firing") is the claiming
			// instance's, which may be one without sinks: the instance
			// that delivered said nothing of it
			l.Info("alert delivered", attrs...)
		}
	case OutcomeDropped:
		l.Warn("alert delivery dropped: the sink's queue is full (taken up again from Redis)", attrs...)
	}
}

func (w *Watcher) log(msg string, tr model.AlertTransition, summary string) {
	if w.opt.Logger != nil {
		w.opt.Logger.Info(msg, "id", tr.Alert.ID, "summary", summary)
	}
}
