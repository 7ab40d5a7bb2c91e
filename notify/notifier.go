package notify

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"mavtop/internal/backoff"
	"mavtop/model"
)

// Defaults of Options.
const (
	// DefaultQueue is how many deliveries a sink holds at once, waiting,
	// retrying or under way; beyond it the oldest waiting one is dropped (and
	// counted): the store still holds it, so it is taken up again once its
	// lease ends.
	DefaultQueue = 1024
	// DefaultConcurrency is how many attempts run at once per sink, so that a
	// delivery the receiver holds up (a hanging request, one retried for
	// hours) never keeps the others waiting.
	DefaultConcurrency = 4
	// DefaultRetryFor is how long a delivery is retried before it is given up.
	DefaultRetryFor = 2 * time.Hour
	// DefaultRetryMin and DefaultRetryMax bound the waits between attempts.
	DefaultRetryMin = 2 * time.Second
	DefaultRetryMax = 5 * time.Minute
)

// Job is one transition to deliver to some sinks.
type Job struct {
	// Key is the transition's idempotency key (alert id and status).
	Key     string
	Payload Payload
	// Sinks are the names of the sinks still to send to (nil: every sink).
	Sinks []string
}

// Result reports one sink's outcome for a job; Final is true when that sink is
// finished with it (sent, given up, or dropped from a full queue).
type Result struct {
	Key, Sink string
	// Outcome is "sent", "retrying", "failed" or "dropped".
	Outcome  string
	Attempts int
	Err      string
	Final    bool
}

// Outcomes of Result.
const (
	OutcomeSent     = "sent"
	OutcomeRetrying = "retrying"
	OutcomeFailed   = "failed"
	OutcomeDropped  = "dropped"
	// OutcomeHandedOver: another instance holds the delivery now (this one's
	// lease ran out while the job waited); it is left to that one, unsent here.
	OutcomeHandedOver = "handed_over"
)

// ErrNotHeld is what Options.Hold returns when this instance no longer holds a
// delivery: another took it over, or it is done.
var ErrNotHeld = errors.New("delivery held by another instance")

// Options configure a Notifier.
type Options struct {
	// Queue bounds the deliveries a sink holds, waiting, retrying or under
	// way (DefaultQueue).
	Queue int
	// Concurrency bounds the attempts under way at once per sink
	// (DefaultConcurrency).
	Concurrency int
	// RetryFor is how long a delivery is retried (DefaultRetryFor).
	RetryFor time.Duration
	// Backoff spaces each delivery's retries (2 s doubling to 5 min, with
	// jitter); every delivery has its own schedule.
	Backoff *backoff.Backoff
	// Now is the clock deadlines are read from (time.Now); After returns a
	// channel that receives once d of that clock has passed (time.After).
	// Tests compress time with both.
	Now   func() time.Time
	After func(d time.Duration) <-chan time.Time
	// Instance names this process in every payload (Payload.Instance), so a
	// receiver can tell which mavtop delivered; "" leaves payloads as given.
	Instance string
	// OnResult is called (from the goroutine of the attempt) after every
	// attempt, before a later transition of the same alert is tried.
	OnResult func(Result)
	// Hold, when set, is asked before every attempt whether this instance
	// still holds the job's delivery to sink, and makes sure it keeps holding
	// it for the attempt: it returns how long the attempt may take (the send is
	// cut off after that, and finishes even when Run's context ends: a send
	// that reached the receiver must be recorded, not sent again by the next
	// instance), 0 for no limit of its own, ErrNotHeld when another instance
	// holds it (the job leaves this sink, OutcomeHandedOver), or another error
	// when it cannot tell (the attempt is skipped and counts as a retry).
	Hold func(ctx context.Context, key, sink string) (time.Duration, error)
}

// Notifier delivers jobs to its sinks. Each sink has its own bounded queue, so
// a sink that is down delays only itself, and within a sink every delivery has
// its own retry schedule and up to Concurrency attempts run at once, so one
// transition the receiver refuses or holds up delays no other. The
// transitions of one alert are delivered to a sink in the order they were
// queued (a firing before its resolution); Enqueue never blocks.
//
// Memory is bounded per sink: Queue deliveries (each one payload and its
// retry state) and Concurrency goroutines with a request each.
type Notifier struct {
	opt   Options
	lanes []*lane
}

// lane is one sink's deliveries, in the order they were queued.
type lane struct {
	sink    Sink
	opt     *Options
	mu      sync.Mutex
	tasks   []*task
	busy    int // tasks with an attempt under way
	wake    chan struct{}
	dropped atomic.Int64
	workers sync.WaitGroup
}

// task is one job's delivery to one sink: its own retry schedule.
type task struct {
	job      *Job
	since    time.Time // queued at: RetryFor runs from here
	next     time.Time // no attempt before this
	attempts int
	busy     bool
}

// alert is the id whose transitions keep their order.
func (t *task) alert() string {
	if t.job.Payload.ID != "" {
		return t.job.Payload.ID
	}
	return t.job.Key
}

// New returns a notifier over sinks; Run delivers.
func New(sinks []Sink, opt Options) *Notifier {
	if opt.Queue <= 0 {
		opt.Queue = DefaultQueue
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	if opt.RetryFor <= 0 {
		opt.RetryFor = DefaultRetryFor
	}
	if opt.Backoff == nil {
		opt.Backoff = &backoff.Backoff{Min: DefaultRetryMin, Max: DefaultRetryMax}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.After == nil {
		opt.After = time.After
	}
	if opt.OnResult == nil {
		opt.OnResult = func(Result) {}
	}
	opt.Instance, _ = model.SanitizeMax(opt.Instance, MaxInstance)
	n := &Notifier{opt: opt}
	for _, s := range sinks {
		n.lanes = append(n.lanes, &lane{sink: s, opt: &n.opt, wake: make(chan struct{}, 1)})
	}
	return n
}

// Sinks returns the sink names, in the order given.
func (n *Notifier) Sinks() []string {
	names := make([]string, len(n.lanes))
	for i, l := range n.lanes {
		names[i] = l.sink.Name()
	}
	return names
}

// Dropped is how many deliveries full queues dropped, over every sink.
func (n *Notifier) Dropped() int64 {
	var d int64
	for _, l := range n.lanes {
		d += l.dropped.Load()
	}
	return d
}

// Room is how many more deliveries sink's queue takes before a push drops
// one (0 when full; 0 for a sink it does not have). A caller that can put a
// delivery off (the watcher's take-over: the store keeps it pending) asks
// first, so a full queue of a sink that hangs is not churned.
func (n *Notifier) Room(sink string) int {
	for _, l := range n.lanes {
		if l.sink.Name() == sink {
			l.mu.Lock()
			defer l.mu.Unlock()
			return max(l.opt.Queue-len(l.tasks), 0)
		}
	}
	return 0
}

// Enqueue queues a job for its sinks without blocking, with this instance's
// name in its payload.
func (n *Notifier) Enqueue(j *Job) {
	if n.opt.Instance != "" {
		j.Payload.Instance = n.opt.Instance
	}
	now := n.opt.Now()
	for _, l := range n.lanes {
		if j.Sinks != nil && !contains(j.Sinks, l.sink.Name()) {
			continue
		}
		l.push(&task{job: j, since: now})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// push queues t. A full lane drops its oldest delivery not under way, with
// the later transitions of the same alert (so none of them overtakes it: the
// store hands them out again, in order); when every one is under way, t
// itself is dropped.
func (l *lane) push(t *task) {
	var dropped []*task
	l.mu.Lock()
	if len(l.tasks) >= l.opt.Queue {
		victim := -1
		for i, q := range l.tasks {
			if !q.busy {
				victim = i
				break
			}
		}
		if victim < 0 {
			dropped = append(dropped, t)
		} else {
			id := l.tasks[victim].alert()
			kept := l.tasks[:victim]
			for _, q := range l.tasks[victim:] {
				if q.alert() == id {
					dropped = append(dropped, q)
				} else {
					kept = append(kept, q)
				}
			}
			clear(l.tasks[len(kept):])
			l.tasks = kept
			if t.alert() == id {
				dropped = append(dropped, t)
			}
		}
	}
	if len(dropped) == 0 || dropped[len(dropped)-1] != t {
		l.tasks = append(l.tasks, t)
	}
	l.dropped.Add(int64(len(dropped)))
	l.mu.Unlock()
	for _, d := range dropped {
		l.opt.OnResult(Result{Key: d.job.Key, Sink: l.sink.Name(), Outcome: OutcomeDropped, Attempts: d.attempts, Final: true})
	}
	l.poke()
}

func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, and returns once every sink stopped. An
// attempt under way when ctx ends is finished under a Hold (and reported);
// without one it is cut off. Either way the rest is left to the store's
// lease, which hands it to the next instance.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, l := range n.lanes {
		wg.Add(1)
		go func() { defer wg.Done(); l.run(ctx) }()
	}
	wg.Wait()
}

// run starts the attempts that are due, and sleeps until the next one is or
// something changes (a job queued, an attempt finished).
func (l *lane) run(ctx context.Context) {
	defer l.workers.Wait()
	for {
		wait, timed := l.dispatch(ctx)
		var due <-chan time.Time
		if timed {
			due = l.opt.After(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-due:
		}
	}
}

// dispatch starts, in the order queued, every task that is due, is not held
// back by an earlier transition of its alert, and fits under Concurrency. It
// returns how long until the next one is due (timed false: nothing to wait
// for but a change).
func (l *lane) dispatch(ctx context.Context) (wait time.Duration, timed bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opt.Now()
	var earliest time.Time
	seen := make(map[string]bool, len(l.tasks))
	for _, t := range l.tasks {
		id := t.alert()
		behind := seen[id]
		seen[id] = true
		if behind || t.busy {
			continue
		}
		if t.next.After(now) {
			if earliest.IsZero() || t.next.Before(earliest) {
				earliest = t.next
			}
			continue
		}
		if l.busy >= l.opt.Concurrency {
			return 0, false // a finishing attempt wakes the lane
		}
		t.busy = true
		l.busy++
		l.workers.Add(1)
		go l.work(ctx, t)
	}
	if earliest.IsZero() {
		return 0, false
	}
	return earliest.Sub(now), true
}

// work makes one attempt of t, reports it, and either finishes t or sets its
// next attempt by its own backoff.
func (l *lane) work(ctx context.Context, t *task) {
	defer l.workers.Done()
	defer l.poke()
	name := l.sink.Name()
	err := l.attempt(ctx, t.job)
	l.mu.Lock()
	t.attempts++
	attempt := t.attempts
	l.mu.Unlock()
	if errors.Is(err, ErrNotHeld) {
		l.opt.OnResult(Result{Key: t.job.Key, Sink: name, Outcome: OutcomeHandedOver, Attempts: attempt - 1, Final: true})
		l.finish(t)
		return
	}
	if err != nil && ctx.Err() != nil && (l.opt.Hold == nil || errors.Is(err, ctx.Err())) {
		l.release(t, time.Time{}) // stopping, nothing sent: left to the next instance by the store's lease
		return
	}
	r := Result{Key: t.job.Key, Sink: name, Attempts: attempt}
	var perm *PermanentError
	switch {
	case err == nil:
		r.Outcome, r.Final = OutcomeSent, true
	case errors.As(err, &perm) || l.opt.Now().Sub(t.since) >= l.opt.RetryFor:
		r.Outcome, r.Final, r.Err = OutcomeFailed, true, errText(err)
	default:
		r.Outcome, r.Err = OutcomeRetrying, errText(err)
	}
	l.opt.OnResult(r) // before the alert's next transition may start
	if r.Final {
		l.finish(t)
		return
	}
	l.release(t, l.opt.Now().Add(l.opt.Backoff.Delay(attempt)))
}

// finish takes t out of the lane.
func (l *lane) finish(t *task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.busy--
	for i, q := range l.tasks {
		if q == t {
			l.tasks = slices.Delete(l.tasks, i, i+1)
			break
		}
	}
}

// release puts t back to wait for its next attempt at next.
func (l *lane) release(t *task, next time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.busy--
	t.busy, t.next = false, next
}

// attempt sends once. Under a Hold the send is bounded by the hold and not
// by ctx: once a request may have reached the receiver, its outcome must be
// recorded, or another instance would send it again.
func (l *lane) attempt(ctx context.Context, j *Job) error {
	if l.opt.Hold == nil {
		return l.sink.Send(ctx, &j.Payload)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopping: do not start a new attempt
	}
	d, err := l.opt.Hold(ctx, j.Key, l.sink.Name())
	if err != nil {
		return err
	}
	if d <= 0 { // no lease to keep: stopping may cut it off
		return l.sink.Send(ctx, &j.Payload)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	return l.sink.Send(sctx, &j.Payload)
}

var urlInText = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*)://[^\s"']+`)

// errText is an error as stored and shown: URLs (which may hold tokens) cut to
// their scheme, sanitised, bounded.
func errText(err error) string {
	s := urlInText.ReplaceAllString(err.Error(), "$1://…")
	s, _ = model.SanitizeMax(s, 200)
	return s
}
