package proxy

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// Sink records events; *feed.Publisher is one (exactly-once lanes).
type Sink interface {
	TrackBatch(ctx context.Context, evs []model.Event) error
}

// QueueOptions configure a Queue. Zero values mean the defaults.
type QueueOptions struct {
	// Capacity is how many events may wait while Redis is away (100,000); beyond
	// it new events are dropped, counted and logged.
	Capacity int
	// Workers is how many batches are written at once (4).
	Workers int
	// Batch is the most events written in one call (256).
	Batch int
	// RetryMin and RetryMax space the retries of a batch Redis did not take
	// (250 ms doubling to 5 s).
	RetryMin, RetryMax time.Duration
	// Log receives the queue's state changes (Redis away, back, events dropped).
	Log *slog.Logger
}

// Queue is the tracking side of the proxy: Add never blocks, workers write the
// events to the Sink in batches and keep retrying while Redis is away, so a request
// never waits for Redis and an event is lost only when the queue overflows (counted)
// or Redis cannot tell whether a write was applied (counted as unknown).
type Queue struct {
	sink Sink
	opt  QueueOptions
	ch   chan model.Event
	log  *slog.Logger

	// pending counts the events added and not yet written or given up, from
	// before they enter the channel to after their write: Backlog never reads 0
	// while an event is between the channel and Redis.
	pending   atomic.Int64
	published atomic.Int64
	dropped   atomic.Int64
	invalid   atomic.Int64
	unknown   atomic.Int64
	down      atomic.Bool

	mu       sync.Mutex
	lastDrop time.Time

	wg sync.WaitGroup
}

// NewQueue returns a queue writing to sink; call Run to start its workers.
func NewQueue(sink Sink, opt QueueOptions) *Queue {
	if opt.Capacity <= 0 {
		opt.Capacity = 100_000
	}
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	if opt.Batch <= 0 {
		opt.Batch = 256
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = 250 * time.Millisecond
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = 5 * time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Queue{sink: sink, opt: opt, ch: make(chan model.Event, opt.Capacity), log: opt.Log}
}

// Add queues e without waiting. It returns false when e is invalid or the queue is
// full; both are counted, and a full queue is logged (at most once a second).
func (q *Queue) Add(e model.Event) bool {
	if err := e.Validate(); err != nil {
		q.invalid.Add(1)
		q.log.Warn("tracking: event not recorded: invalid", "ws", e.Workspace, "endpoint", e.Endpoint, "err", err)
		return false
	}
	q.pending.Add(1)
	select {
	case q.ch <- e:
		return true
	default:
	}
	q.pending.Add(-1)
	q.dropped.Add(1)
	q.mu.Lock()
	now := time.Now()
	logIt := now.Sub(q.lastDrop) >= time.Second
	if logIt {
		q.lastDrop = now
	}
	q.mu.Unlock()
	if logIt {
		q.log.Error("tracking: queue full, events dropped (Redis away too long?)",
			"capacity", q.opt.Capacity, "dropped_total", q.dropped.Load())
	}
	return false
}

// Run starts the workers; they stop when ctx ends (see Drain for a clean stop).
func (q *Queue) Run(ctx context.Context) {
	for range q.opt.Workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			q.work(ctx)
		}()
	}
}

// Wait returns when the workers have stopped.
func (q *Queue) Wait() { q.wg.Wait() }

// Backlog returns how many events wait to be written, those being written included.
func (q *Queue) Backlog() int64 { return q.pending.Load() }

// QueueStats are the queue's counters.
type QueueStats struct {
	// Published is the events written; Dropped those refused by a full queue;
	// Invalid those that failed validation; Unknown those whose write Redis could
	// not confirm or deny.
	Published, Dropped, Invalid, Unknown int64
	// Backlog is what waits now; RedisDown is true while writes fail.
	Backlog   int64
	RedisDown bool
}

// Stats returns the counters.
func (q *Queue) Stats() QueueStats {
	return QueueStats{Published: q.published.Load(), Dropped: q.dropped.Load(), Invalid: q.invalid.Load(),
		Unknown: q.unknown.Load(), Backlog: q.Backlog(), RedisDown: q.down.Load()}
}

// work writes batches until ctx ends; once ctx ends it still writes what is
// queued, with a short deadline per batch, so a clean shutdown loses nothing.
func (q *Queue) work(ctx context.Context) {
	batch := make([]model.Event, 0, q.opt.Batch)
	for {
		var e model.Event
		select {
		case e = <-q.ch:
		case <-ctx.Done():
			return
		}
		batch = append(batch[:0], e)
	fill:
		for len(batch) < q.opt.Batch {
			select {
			case e := <-q.ch:
				batch = append(batch, e)
			default:
				break fill
			}
		}
		q.write(ctx, batch)
	}
}

// write records batch, retrying what Redis did not take until it does or ctx ends.
func (q *Queue) write(ctx context.Context, batch []model.Event) {
	delay := q.opt.RetryMin
	for len(batch) > 0 {
		err := q.sink.TrackBatch(ctx, batch)
		if err == nil {
			q.done(len(batch), 0)
			q.up()
			return
		}
		var we *feed.WriteError
		if errors.As(err, &we) {
			q.done(we.Written, 0)
			q.done(0, we.Unknown)
			if len(we.Partial) > 0 {
				q.log.Warn("tracking: events recorded, but Redis refused part of their writes; they are not sent again",
					"events", we.Written, "err", err)
			}
			if we.Unknown > 0 {
				q.log.Error("tracking: Redis could not say whether events were recorded; they are not sent again (counted once at most)",
					"events", we.Unknown, "err", err)
			}
			batch = batch[we.Written+we.Unknown:]
		}
		if len(batch) == 0 {
			q.up()
			return
		}
		if !q.down.Swap(true) {
			q.log.Error("tracking: Redis unreachable; events wait in memory (requests are not held)",
				"backlog", q.Backlog(), "capacity", q.opt.Capacity, "err", err)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			q.log.Error("tracking: stopped with events not recorded", "events", len(batch)+len(q.ch))
			q.pending.Add(-int64(len(batch)))
			return
		}
		delay = min(delay*2, q.opt.RetryMax)
	}
}

func (q *Queue) done(written, unknown int) {
	q.published.Add(int64(written))
	q.unknown.Add(int64(unknown))
	q.pending.Add(-int64(written + unknown))
}

func (q *Queue) up() {
	if q.down.Swap(false) {
		q.log.Info("tracking: Redis reachable again", "backlog", q.Backlog())
	}
}

// Drain waits until every queued event is written or ctx ends; it returns how many
// were left. Call it after the server stopped taking requests.
func (q *Queue) Drain(ctx context.Context) int64 {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for q.Backlog() > 0 {
		select {
		case <-ctx.Done():
			return q.Backlog()
		case <-t.C:
		}
	}
	return 0
}
