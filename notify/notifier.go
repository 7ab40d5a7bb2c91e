package notify

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"mavtop/internal/backoff"
	"mavtop/model"
)

// Defaults of Options.
const (
	// DefaultQueue is how many deliveries wait per sink; beyond it the oldest
	// is dropped (and counted): the store still holds it, so it is taken up
	// again once its lease ends.
	DefaultQueue = 1024
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
	// Queue bounds the deliveries waiting per sink (DefaultQueue).
	Queue int
	// RetryFor is how long a delivery is retried (DefaultRetryFor).
	RetryFor time.Duration
	// Backoff spaces retries (2 s doubling to 5 min, with jitter).
	Backoff *backoff.Backoff
	// Now is the clock deadlines are read from (time.Now); Sleep waits between
	// attempts (backoff.Sleep). Tests compress time with both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnResult is called (from the sink's goroutine) after every attempt.
	OnResult func(Result)
	// Hold, when set, is asked before every attempt whether this instance
	// still holds the job's delivery to sink, and makes sure it keeps holding
	// it for the attempt: it returns how long the attempt may take (the send is
	// cut off after that, and finishes even when Run's context ends: a send
	// that reached the receiver must be recorded, not sent again by the next
	// instance), 0 for no limit of its own, ErrNotHeld when another instance
	// holds it (the job leaves this lane, OutcomeHandedOver), or another error
	// when it cannot tell (the attempt is skipped and counts as a retry).
	Hold func(ctx context.Context, key, sink string) (time.Duration, error)
}

// Notifier delivers jobs to its sinks. Each sink has its own bounded queue and
// goroutine, so a sink that is down delays only itself, deliveries to one sink
// keep their order (a firing before its resolution), and Enqueue never blocks.
type Notifier struct {
	opt   Options
	lanes []*lane
}

type lane struct {
	sink    Sink
	opt     *Options
	mu      sync.Mutex
	queue   []queued
	wake    chan struct{}
	dropped atomic.Int64
}

type queued struct {
	job   *Job
	since time.Time
}

// New returns a notifier over sinks; Run delivers.
func New(sinks []Sink, opt Options) *Notifier {
	if opt.Queue <= 0 {
		opt.Queue = DefaultQueue
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
	if opt.Sleep == nil {
		opt.Sleep = backoff.Sleep
	}
	if opt.OnResult == nil {
		opt.OnResult = func(Result) {}
	}
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

// Enqueue queues a job for its sinks without blocking.
func (n *Notifier) Enqueue(j *Job) {
	now := n.opt.Now()
	for _, l := range n.lanes {
		if j.Sinks != nil && !contains(j.Sinks, l.sink.Name()) {
			continue
		}
		l.push(queued{job: j, since: now})
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

func (l *lane) push(q queued) {
	l.mu.Lock()
	var dropped *queued
	if len(l.queue) >= l.opt.Queue {
		d := l.queue[0]
		dropped = &d
		l.queue = append(l.queue[:0], l.queue[1:]...)
		l.dropped.Add(1)
	}
	l.queue = append(l.queue, q)
	l.mu.Unlock()
	if dropped != nil {
		l.opt.OnResult(Result{Key: dropped.job.Key, Sink: l.sink.Name(), Outcome: OutcomeDropped, Final: true})
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) pop(ctx context.Context) (queued, bool) {
	for {
		l.mu.Lock()
		if len(l.queue) > 0 {
			q := l.queue[0]
			l.queue[0] = queued{}
			l.queue = l.queue[1:]
			l.mu.Unlock()
			return q, true
		}
		l.mu.Unlock()
		select {
		case <-l.wake:
		case <-ctx.Done():
			return queued{}, false
		}
	}
}

// Run delivers until ctx is done, and returns once every lane stopped. An
// attempt under way when ctx ends is finished under a Hold (and reported);
// without one it is cut off. Either way the rest is left to the store's
// lease, which hands it to the next instance.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, l := range n.lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				q, ok := l.pop(ctx)
				if !ok {
					return
				}
				l.deliver(ctx, q)
			}
		}()
	}
	wg.Wait()
}

// deliver sends one job to the lane's sink, retrying until it is sent, a
// permanent error answers, another instance holds it, or RetryFor has passed
// since it was queued.
func (l *lane) deliver(ctx context.Context, q queued) {
	name := l.sink.Name()
	for attempt := 1; ; attempt++ {
		err := l.attempt(ctx, q.job)
		if errors.Is(err, ErrNotHeld) {
			l.opt.OnResult(Result{Key: q.job.Key, Sink: name, Outcome: OutcomeHandedOver, Attempts: attempt - 1, Final: true})
			return
		}
		if err != nil && ctx.Err() != nil && (l.opt.Hold == nil || errors.Is(err, ctx.Err())) {
			return // stopping, nothing sent: left to the next instance by the store's lease
		}
		r := Result{Key: q.job.Key, Sink: name, Attempts: attempt}
		var perm *PermanentError
		switch {
		case err == nil:
			r.Outcome, r.Final = OutcomeSent, true
		case errors.As(err, &perm) || l.opt.Now().Sub(q.since) >= l.opt.RetryFor:
			r.Outcome, r.Final, r.Err = OutcomeFailed, true, errText(err)
		default:
			r.Outcome, r.Err = OutcomeRetrying, errText(err)
		}
		l.opt.OnResult(r)
		if r.Final || ctx.Err() != nil {
			return
		}
		if l.opt.Sleep(ctx, l.opt.Backoff.Delay(attempt)) != nil {
			return
		}
	}
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
