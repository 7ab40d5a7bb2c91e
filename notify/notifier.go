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
)

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
		opt.Backoff = &backoff.Backoff{Min: 2 * time.Second, Max: 5 * time.Minute}
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

// Run delivers until ctx is done. A delivery under way when ctx ends is left
// unfinished: the store's lease hands it to the next instance.
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
// permanent error answers, or RetryFor has passed since it was queued.
func (l *lane) deliver(ctx context.Context, q queued) {
	name := l.sink.Name()
	for attempt := 1; ; attempt++ {
		err := l.sink.Send(ctx, &q.job.Payload)
		if err != nil && ctx.Err() != nil {
			return // stopping: left to the next instance by the store's lease
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
		if r.Final {
			return
		}
		if l.opt.Sleep(ctx, l.opt.Backoff.Delay(attempt)) != nil {
			return
		}
	}
}

var urlInText = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*)://[^\s"']+`)

// errText is an error as stored and shown: URLs (which may hold tokens) cut to
// their scheme, sanitised, bounded.
func errText(err error) string {
	s := urlInText.ReplaceAllString(err.Error(), "$1://…")
	s, _ = model.SanitizeMax(s, 200)
	return s
}
