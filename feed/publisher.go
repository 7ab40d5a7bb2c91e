package feed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/internal/backoff"
	"mavtop/model"
)

// ErrOutcomeUnknown is wrapped by a WriteError when a write was sent but its reply
// never came and Redis could not be asked in time whether it was applied.
var ErrOutcomeUnknown = errors.New("outcome unknown: the events may or may not have been recorded")

// errLaneLost: a lane counter went back, so Redis lost writes it acknowledged.
var errLaneLost = errors.New("the server lost acknowledged writes")

// WriteError says how far Track, TrackBatch or Record got when they failed, or
// which parts of a recorded write Redis refused.
type WriteError struct {
	// Written is how many events (a prefix of the batch) are recorded for sure.
	Written int
	// Unknown is how many events after them may or may not be recorded.
	Unknown int
	// Partial lists the commands Redis refused inside MULTIs it executed (a
	// key holding another type: WRONGTYPE). The others ran, so the events of
	// those MULTIs are recorded (they count in Written) without these writes;
	// sending them again would count them twice.
	Partial []CommandError
	// Err is why the events after Written+Unknown were not recorded; nil when
	// every event is recorded and only Partial went wrong.
	Err error
}

// Error says how many events were recorded, which of their writes Redis
// refused, and why the rest were not recorded.
func (e *WriteError) Error() string {
	var msg string
	switch {
	case e.Err == nil:
		msg = fmt.Sprintf("record events: %d recorded", e.Written)
	case e.Unknown > 0:
		msg = fmt.Sprintf("record events: %d recorded, %d unknown: %v", e.Written, e.Unknown, e.Err)
	case e.Written > 0:
		msg = fmt.Sprintf("record events: only the first %d recorded: %v", e.Written, e.Err)
	default:
		msg = fmt.Sprintf("record events: %v", e.Err)
	}
	if len(e.Partial) > 0 {
		parts := make([]string, len(e.Partial))
		for i, c := range e.Partial {
			parts[i] = c.Error()
		}
		msg += "; Redis refused part of the recorded writes: " + strings.Join(parts, "; ")
	}
	return msg
}

// Recorded reports whether every event was recorded (Written of them), only
// some of their writes refused (Partial): the caller must not send them again.
func (e *WriteError) Recorded() bool { return e.Err == nil && e.Unknown == 0 }

// CommandError is one command Redis refused inside a MULTI/EXEC it executed.
type CommandError struct {
	// Command is the command's name, upper case ("HINCRBY").
	Command string
	// Key is the key the command wrote.
	Key string
	// Part says what the key holds for mavtop ("the used counter", "the stream
	// entry"), so the message says what the event lacks.
	Part string
	// Holds is the key's type ("string") when Redis refused the command because
	// the key holds another type, "" when not known.
	Holds string
	// Err is Redis's reply.
	Err error
}

// Error names the command, the key, what is missing and why.
func (c CommandError) Error() string {
	why := c.Err.Error()
	if c.Holds != "" {
		why = fmt.Sprintf("the key holds a %s, not a %s (%v)", c.Holds, wantType(c.Command), c.Err)
	}
	return fmt.Sprintf("%s %s (%s) not written: %s", c.Command, c.Key, c.Part, why)
}

// wantType is the type of key a publisher's command writes.
func wantType(cmd string) string {
	if cmd == "XADD" {
		return "stream"
	}
	return "hash"
}

// Unwrap returns Redis's reply.
func (c CommandError) Unwrap() error { return c.Err }

// Unwrap returns the cause.
func (e *WriteError) Unwrap() error { return e.Err }

// AckTTL is how long a publisher's acks hash outlives its last write. A lost
// reply is resolved within the retry time, so an hour is plenty, and the hashes
// of short-lived publishers (one per `mavtop emit`) go away by themselves.
const AckTTL = time.Hour

// PublisherOptions configure a Publisher. Zero values mean the defaults.
type PublisherOptions struct {
	// Prefix is the key prefix (DefaultPrefix).
	Prefix string
	// MaxLen trims the stream to about this many entries (DefaultMaxLen); < 0 never trims.
	MaxLen int64
	// Now is the clock that stamps events without a ts (time.Now).
	Now func() time.Time
	// Rand draws the publisher's id and the retry jitter of the default Backoff
	// (a random source); a Backoff given here draws from its own Rand.
	Rand *rand.Rand
	// ID names the publisher in the acks hash; "" draws a random one.
	ID string
	// Lanes is how many writes may be in flight at once (8).
	Lanes int
	// RetryFor is how long a write keeps retrying while Redis is unreachable
	// (10 s); < 0 means no retry.
	RetryFor time.Duration
	// Backoff spaces the retries (100 ms doubling to 2 s, with jitter).
	Backoff *Backoff
	// PeriodRefresh is how often the billing-period config is re-read (1 min).
	PeriodRefresh time.Duration
	// PeriodLog, when set, says in the producer's log when the stored
	// billing-period config cannot be read (events then land in
	// model.PeriodFallback's periods) and when it can again, once per change
	// of the stored value; nil says nothing (PeriodUnreadable still tells).
	PeriodLog *PeriodLog
	// ChunkSize is how many events of a batch share one MULTI/EXEC (256).
	ChunkSize int
	// IDs, when set, writes each entry's stream id from its ts (ClockIDs: the
	// demo and tests whose clock is not Redis's); nil: Redis's clock ("*").
	IDs *ClockIDs
}

// Publisher records usage events: for each event, in one MULTI/EXEC, the period
// counters (HINCRBY), the digest of its shard (Keys.Digest), their expiry
// (EXPIREAT) and the stream entry (XADD with approximate MAXLEN). It is safe
// for concurrent use.
//
// Exactly once: every MULTI also adds the number of its events to this
// publisher's lane counter in the acks hash (Keys.Acks), and each lane has at most
// one write in flight. When a reply is lost (Redis killed, connection reset) the
// publisher reads the lane counter: it tells whether the MULTI was applied, so a
// retry never records an event twice. One case stays out of reach: after a read
// timeout on a live server an EXEC still queued there could land after that
// check; the next reply of the lane shows it, and Duplicates counts it.
type Publisher struct {
	c       redis.UniversalClient
	keys    Keys
	maxLen  int64
	now     func() time.Time
	id      string
	retry   time.Duration
	backoff *Backoff
	chunk   int
	periods *periodCache
	ids     *ClockIDs
	lanes   chan *lane
	laneGen atomic.Int64

	dups    atomic.Int64
	retries atomic.Int64
	lost    atomic.Int64
	written atomic.Int64
}

// lane is one sequence of writes; count is the acks counter as last acknowledged.
type lane struct {
	field string
	count int64
	// wrote is when the lane last wrote: a lane idle for half of AckTTL is
	// retired, so its counter can never have expired under it.
	wrote time.Time
}

// NewPublisher returns a publisher writing through c.
func NewPublisher(c redis.UniversalClient, opt PublisherOptions) *Publisher {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if opt.ID == "" {
		opt.ID = strconv.FormatUint(opt.Rand.Uint64(), 36)
	}
	if opt.MaxLen == 0 {
		opt.MaxLen = DefaultMaxLen
	}
	if opt.Lanes <= 0 {
		opt.Lanes = 8
	}
	if opt.RetryFor == 0 {
		opt.RetryFor = 10 * time.Second
	}
	if opt.Backoff == nil {
		opt.Backoff = &Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second, Rand: opt.Rand}
	}
	if opt.PeriodRefresh <= 0 {
		opt.PeriodRefresh = time.Minute
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = 256
	}
	keys := Keys{Prefix: opt.Prefix}
	p := &Publisher{
		c: c, keys: keys, maxLen: opt.MaxLen, now: opt.Now, id: opt.ID,
		retry: opt.RetryFor, backoff: opt.Backoff, chunk: opt.ChunkSize,
		periods: &periodCache{c: c, keys: keys, refresh: opt.PeriodRefresh, now: opt.Now, said: opt.PeriodLog},
		ids:     opt.IDs,
		lanes:   make(chan *lane, opt.Lanes),
	}
	for range opt.Lanes {
		p.lanes <- p.newLane()
	}
	return p
}

func (p *Publisher) newLane() *lane {
	return &lane{field: strconv.FormatInt(p.laneGen.Add(1), 10)}
}

// PeriodUnreadable says why the billing-period config the publisher last
// read cannot be read (a *model.PeriodConfigError, sanitised); nil when it
// can or is absent. Events are written all the same, into the period
// model.PeriodFallback gives (calendar months in UTC), the period every
// mavtop judges by meanwhile: no event is lost to a broken config.
func (p *Publisher) PeriodUnreadable() error { return p.periods.unreadable() }

// ID returns the publisher's name in the acks hash.
func (p *Publisher) ID() string { return p.id }

// HasWritten reports whether the acks hash of the publisher's ID holds an
// acknowledged write: one made by any publisher of that ID within AckTTL of its
// last write. For a publisher named after one event (`mavtop emit --event-id`)
// it says whether an earlier attempt recorded the event, so a retry after any
// outcome writes it once. An attempt still in flight is not seen: it is a check
// for retries, not a lock against two writers at once. The error is Redis's
// (unreachable, or the key holding another type, named).
func (p *Publisher) HasWritten(ctx context.Context) (bool, error) {
	key := p.keys.Acks(p.id)
	vals, err := p.c.HVals(ctx, key).Result()
	if err != nil {
		return false, fmt.Errorf("ask whether %s was written (HVALS %s): %w", p.id, key, err)
	}
	for _, v := range vals {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// PublisherStats are a publisher's counters since it was made.
type PublisherStats struct {
	// Written is the number of events recorded.
	Written int64
	// Retries is the number of writes sent again after a failure.
	Retries int64
	// Duplicates is the number of events found recorded twice (see Publisher).
	Duplicates int64
	// LostReplies is the number of writes whose reply was lost and whose fate
	// the lane counter told.
	LostReplies int64
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{Written: p.written.Load(), Retries: p.retries.Load(), Duplicates: p.dups.Load(), LostReplies: p.lost.Load()}
}

// Track records one event. It validates first (nothing is written for a bad
// event) and stamps a zero TS with the publisher's clock. A nil error means the
// event is recorded exactly once; a *WriteError says otherwise.
func (p *Publisher) Track(ctx context.Context, e model.Event) error {
	_, err := p.Record(ctx, e)
	return err
}

// Record is Track returning the event as written, with its TS and stream ID.
// When Redis recorded it but refused part of the write (a *WriteError whose
// Recorded is true) the event is returned too, its ID "" if the XADD was refused.
func (p *Publisher) Record(ctx context.Context, e model.Event) (model.Event, error) {
	evs := []model.Event{e}
	if err := p.write(ctx, evs); err != nil {
		var we *WriteError
		if errors.As(err, &we) && we.Recorded() {
			return evs[0], err
		}
		return model.Event{}, err
	}
	return evs[0], nil
}

// TrackBatch records events in order, pipelined: ChunkSize events per MULTI/EXEC,
// one round trip each. Every event is validated before anything is written.
func (p *Publisher) TrackBatch(ctx context.Context, evs []model.Event) error {
	cp := make([]model.Event, len(evs))
	copy(cp, evs)
	return p.write(ctx, cp)
}

// write validates and records evs in place (filling TS and ID).
func (p *Publisher) write(ctx context.Context, evs []model.Event) error {
	now := p.now().UnixMilli()
	for i := range evs {
		e := &evs[i]
		if e.TS == 0 {
			e.TS = now
		}
		e.ID = ""
		if e.Kind == model.KindSettings {
			return &WriteError{Err: fmt.Errorf("event %d: settings entries are written by the settings store, not tracked", i+1)}
		}
		// Normalize, not just Validate: the counters must use the names (folded
		// code, clean endpoint) that the stream's readers will decode.
		if err := e.Normalize(); err != nil {
			if len(evs) == 1 {
				return &WriteError{Err: fmt.Errorf("invalid event: %w", err)}
			}
			return &WriteError{Err: fmt.Errorf("invalid event %d of %d: %w", i+1, len(evs), err)}
		}
	}
	var ln *lane
	select {
	case ln = <-p.lanes:
	case <-ctx.Done():
		return &WriteError{Err: ctx.Err()}
	}
	defer func() { p.lanes <- ln }()
	if !ln.wrote.IsZero() && time.Since(ln.wrote) > AckTTL/2 {
		ln = p.newLane()
	}
	// A chunk recorded with some of its writes refused (Partial) is recorded:
	// the next chunks are written too, and the refusals reported at the end.
	var partial []CommandError
	for start := 0; start < len(evs); start += p.chunk {
		chunk := evs[start:min(start+p.chunk, len(evs))]
		err := p.writeChunk(ctx, &ln, chunk)
		var we *WriteError
		switch {
		case err == nil:
		case errors.As(err, &we) && we.Recorded():
			partial = append(partial, we.Partial...)
		case errors.As(err, &we):
			we.Written += start
			we.Partial = append(partial, we.Partial...)
			return we
		default:
			return &WriteError{Written: start, Partial: partial, Err: err}
		}
	}
	if len(partial) > 0 {
		return &WriteError{Written: len(evs), Partial: partial}
	}
	return nil
}

// writeChunk records one chunk in one MULTI/EXEC, retrying until it is known to
// be recorded, a permanent error occurs, or the retry time runs out.
func (p *Publisher) writeChunk(ctx context.Context, lnp **lane, evs []model.Event) error {
	ln := *lnp
	deadline := time.Now().Add(p.retry)
	k := int64(len(evs))
	for attempt := 1; ; attempt++ {
		applied, unknown, partial, err := p.send(ctx, ln, evs)
		if err == nil && partial == nil {
			return nil
		}
		if !unknown && applied {
			// Redis executed the MULTI but refused some of its commands: the
			// events are recorded; sending them again would count them twice.
			return &WriteError{Written: len(evs), Partial: partial}
		}
		if !unknown && !retryable(err) {
			return &WriteError{Err: err}
		}
		// The reply is lost or never came: ask the lane counter, retrying the
		// question until Redis answers.
		if unknown {
			var rerr error
			for {
				applied, rerr = p.resolve(ctx, ln, k)
				if rerr == nil || errors.Is(rerr, errLaneLost) || ctx.Err() != nil || time.Now().After(deadline) {
					break
				}
				attempt++
				if backoff.Sleep(ctx, p.backoff.Delay(attempt)) != nil {
					break
				}
			}
			if rerr != nil {
				// The lane's state is now unknown: retire it so a late EXEC can
				// never be mistaken for a later write's.
				*lnp = p.newLane()
				return &WriteError{Unknown: len(evs), Err: fmt.Errorf("%w (%v; then %v)", ErrOutcomeUnknown, err, rerr)}
			}
			p.lost.Add(1)
			if applied {
				p.written.Add(k)
				return nil
			}
		}
		if p.retry < 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return &WriteError{Err: fmt.Errorf("not recorded after %d attempts: %w%s", attempt, err, notNowWhy(err))}
		}
		if err := backoff.Sleep(ctx, p.backoff.Delay(attempt)); err != nil {
			return &WriteError{Err: fmt.Errorf("not recorded: %w", err)}
		}
		p.retries.Add(1)
	}
}

// Retryable reports whether a failed command may succeed if sent again: a
// connection's failure (a refused dial, a timeout, a reset) or a reply by
// which Redis says "not now" (NotNow), not any other reply from Redis
// itself (WRONGTYPE, NOPERM, OOM, an unknown command…), which would fail
// again. nil: false.
func Retryable(err error) bool { return err != nil && retryable(err) }

// retryable reports whether a failed write may be sent again: anything but a
// reply from Redis itself (WRONGTYPE, OOM, NOSCRIPT…), which would fail again.
func retryable(err error) bool {
	var re redis.Error
	if errors.As(err, &re) {
		return NotNow(err)
	}
	return true
}

// NotNow reports whether err is a reply by which Redis says "not now" rather
// than "never": LOADING (a restart still reading its data), READONLY and
// MASTERDOWN (a failover under way), TRYAGAIN and CLUSTERDOWN (a Cluster
// resharding or healing), BUSY (a script running past busy-reply-threshold,
// until it ends or SCRIPT KILL), "ERR max number of clients reached" (a
// connection the server let in only to refuse: others leave) and EXECABORT
// (a command refused while queued, LOADING among them, so the whole MULTI
// was discarded and nothing was written: sending it again is safe). False
// for any other error.
func NotNow(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	for _, pfx := range []string{"LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "BUSY", "EXECABORT", "ERR max number of clients reached"} {
		if len(msg) >= len(pfx) && msg[:len(pfx)] == pfx {
			return true
		}
	}
	return false
}

// queuedRefusal is err, Redis's refusal of a MULTI's EXEC, with the refusal
// that caused it in front: Redis refuses a command while it is queued
// (READONLY on a replica, OOM, NOPERM, a wrong number of arguments), then the
// EXEC with "EXECABORT Transaction discarded because of previous errors",
// which alone said nothing of why. go-redis keeps each queued command's own
// refusal in its Cmder; the first one leads, as a redis.Error (so NotNow
// judges it: a READONLY stays retryable, a failover can promote the
// server), with the command and the EXECABORT after it. Any other err is
// returned as it is.
func queuedRefusal(cmds []redis.Cmder, err error) error {
	if !isExecAbort(err) {
		return err
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && !isExecAbort(e) {
			return fmt.Errorf("%w (%s refused while queued; Redis then discarded the MULTI, EXECABORT: nothing was written)", e, strings.ToUpper(c.Name()))
		}
	}
	return err
}

// notNowWhy says why a write that Redis refused with "not now" was retried
// until it gave up, for the error that ends it ("" for any other error).
func notNowWhy(err error) string {
	switch {
	case !NotNow(err):
		return ""
	case strings.HasPrefix(err.Error(), "READONLY"):
		return " (the server is a read-only replica: retried as a failover may promote it; point --redis at the master)"
	}
	return " (Redis said not now: retried until --retry-for ran out)"
}

// notSent reports whether err shows the write never left this process: no
// connection could be made, so there is nothing to resolve.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// send writes one MULTI/EXEC. applied says whether it was executed (when known);
// unknown says the reply was lost, so only the lane counter can tell; partial
// lists the commands Redis refused inside an executed MULTI (applied is true,
// err nil: the others ran).
func (p *Publisher) send(ctx context.Context, ln *lane, evs []model.Event) (applied, unknown bool, partial []CommandError, err error) {
	rule, err := p.periods.get(ctx)
	if err != nil {
		return false, false, nil, err
	}
	k := int64(len(evs))
	var xadds []*redis.StringCmd
	var ack *redis.IntCmd
	p.ids.lock() // ids by the writers' clock increase only if written in turn
	defer p.ids.unlock()
	cmds, err := p.c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		var exp expiries
		xadds, exp = p.queue(ctx, pipe, rule, evs)
		ack = pipe.HIncrBy(ctx, p.keys.Acks(p.id), ln.field, k)
		exp.add(p.keys.Acks(p.id), "PEXPIRE", AckTTL.Milliseconds())
		exp.queue(ctx, pipe)
		return nil
	})
	if err != nil {
		var re redis.Error
		if !errors.As(err, &re) {
			if notSent(err) {
				return false, false, nil, err
			}
			return false, true, nil, err
		}
		// Redis answered. If it refused the MULTI (EXECABORT: a command refused
		// while queued) or every command in it, nothing was written: every
		// command carries an error. Otherwise it executed the MULTI and the
		// commands without an error ran, whichever key the others failed on
		// (the ack's own included): the events are recorded.
		ran := false
		for _, c := range cmds {
			if c.Err() == nil {
				ran = true
				break
			}
		}
		if !ran {
			return false, false, nil, queuedRefusal(cmds, err)
		}
		partial = p.refused(ctx, cmds)
	}
	if ack.Err() == nil {
		p.settle(ln, ack.Val(), k)
	}
	for i, x := range xadds {
		evs[i].ID = x.Val() // "" when Redis refused the XADD
	}
	p.written.Add(k)
	return true, false, partial, nil
}

// refused lists the commands of an executed MULTI that Redis refused, naming
// each key, what it holds for mavtop and, when it holds another type, which
// (one TYPE round trip, on this error path only).
func (p *Publisher) refused(ctx context.Context, cmds []redis.Cmder) []CommandError {
	var out []CommandError
	var types []*redis.StatusCmd
	pipe := p.c.Pipeline()
	for _, c := range cmds {
		if c.Err() == nil {
			continue
		}
		args := c.Args()
		key := ""
		switch {
		case c.Name() == "eval" && len(args) > 3: // EVAL script numkeys key…
			key = fmt.Sprint(args[3])
		case len(args) > 1:
			key = fmt.Sprint(args[1])
		}
		out = append(out, CommandError{Command: strings.ToUpper(c.Name()), Key: key, Part: p.keys.part(key), Err: c.Err()})
		if strings.HasPrefix(c.Err().Error(), "WRONGTYPE") {
			types = append(types, pipe.Type(ctx, key))
		} else {
			types = append(types, nil)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return out // the types are a courtesy; the refusals stand without them
	}
	for i, t := range types {
		if t != nil {
			out[i].Holds = t.Val()
		}
	}
	return out
}

// settle records the lane counter after an acknowledged write of k events.
func (p *Publisher) settle(ln *lane, val, k int64) {
	if want := ln.count + k; val > want {
		p.dups.Add(val - want) // an EXEC thought lost was applied after all
	}
	ln.count, ln.wrote = val, time.Now()
}

// resolve asks the lane counter whether the last write of k events was applied.
func (p *Publisher) resolve(ctx context.Context, ln *lane, k int64) (bool, error) {
	key := p.keys.Acks(p.id)
	v, err := p.c.HGet(ctx, key, ln.field).Int64()
	if errors.Is(err, redis.Nil) {
		v, err = 0, nil
	}
	if err != nil {
		return false, fmt.Errorf("ask whether the write was applied (HGET %s %s): %w", key, ln.field, err)
	}
	switch {
	case v >= ln.count+k:
		p.settle(ln, v, k)
		return true, nil
	case v == ln.count:
		return false, nil
	}
	// Below what Redis acknowledged before: the server lost data (a restart
	// without persistence). Nothing can be told; the caller retires the lane.
	return false, fmt.Errorf("%w: lane counter %d is neither %d nor %d", errLaneLost, v, ln.count, ln.count+k)
}

// queue adds one chunk's commands to a MULTI: the counters summed per field (the
// MULTI is atomic, so one HINCRBY per field is the same as one per event) and
// one XADD per event. It returns each touched key's expiry, once, for the
// caller to queue (expiries.queue) with its own.
func (p *Publisher) queue(ctx context.Context, pipe redis.Pipeliner, rule model.PeriodRule, evs []model.Event) ([]*redis.StringCmd, expiries) {
	type incr struct {
		key, field string
	}
	sums := make(map[incr]int64, 4)
	var order []incr
	expire := make(map[string]time.Time, 4)
	add := func(key, field string, n int64, exp time.Time) {
		k := incr{key, field}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += n
		expire[key] = exp
	}
	var cur model.Period
	for i := range evs {
		e := &evs[i]
		if !cur.Contains(e.TS) {
			cur = rule.AtMillis(e.TS)
		}
		exp := ExpireAt(cur)
		dg := p.keys.Digest(cur.Key)
		switch e.Kind {
		case model.KindRecharge:
			add(p.keys.Recharged(cur.Key), e.Workspace, e.Credits, exp)
			add(p.keys.Used(cur.Key), e.Workspace, 0, exp) // the workspace shows up
			add(dg, DigestRechargedField(e.Workspace), e.Credits, exp)
		default:
			add(p.keys.Used(cur.Key), e.Workspace, e.Credits, exp)
			add(p.keys.UsedBy(cur.Key), model.UsedByField(e.Workspace, e.Project, e.Endpoint), e.Credits, exp)
			add(dg, DigestUsedField(e.Workspace), e.Credits, exp)
			if e.Refused() {
				add(p.keys.Refused(cur.Key), model.RefusedField(e.Workspace, e.Project, e.Code), 1, exp)
				add(dg, DigestRefusedField(e.Workspace), 1, exp)
			}
		}
	}
	for _, k := range order {
		pipe.HIncrBy(ctx, k.key, k.field, sums[k])
	}
	var exp expiries
	for _, k := range order {
		if at, ok := expire[k.key]; ok {
			exp.add(k.key, "EXPIREAT", at.Unix())
			delete(expire, k.key)
		}
	}
	xadds := make([]*redis.StringCmd, len(evs))
	for i := range evs {
		a := &redis.XAddArgs{Stream: p.keys.Stream(), ID: p.ids.id(evs[i].TS), Values: evs[i].Fields()}
		if p.maxLen > 0 {
			a.MaxLen, a.Approx = p.maxLen, true
		}
		xadds[i] = pipe.XAdd(ctx, a)
	}
	return xadds, exp
}

// expiries are the expiry commands of one MULTI's keys: for each key, the
// command (EXPIREAT, PEXPIRE) and its argument.
type expiries struct {
	keys []string
	args []any
}

func (e *expiries) add(key, cmd string, arg int64) {
	e.keys = append(e.keys, key)
	e.args = append(e.args, cmd, arg)
}

// queue adds the expiries to the MULTI as one script that sets each key's
// expiry only while the key holds a hash. A key of another type at a
// counter's name (a string SET over it) is not the publisher's: its HINCRBY
// is refused and the event recorded without it (WriteError.Partial), and an
// EXPIREAT queued beside it still gave the key the period's TTL, so Redis
// deleted it then (TestEmitExitsZeroWhenTheEventIsRecorded).
func (e *expiries) queue(ctx context.Context, pipe redis.Pipeliner) {
	if len(e.keys) > 0 {
		pipe.Eval(ctx, expireHashes, e.keys, e.args...)
	}
}

// expireHashes runs ARGV[2i-1] (EXPIREAT, PEXPIRE) with ARGV[2i] on KEYS[i]
// when KEYS[i] holds a hash (TYPE in a script: Redis 6 and 7, miniredis).
const expireHashes = `for i, k in ipairs(KEYS) do
  if redis.call('TYPE', k)['ok'] == 'hash' then
    redis.call(ARGV[2*i-1], k, ARGV[2*i])
  end
end
return 0`
