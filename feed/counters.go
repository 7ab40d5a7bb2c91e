package feed

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/internal/backoff"
	"mavtop/model"
)

// DefaultCounterPattern matches the seed's Pattern 1 counters: one string key
// per workspace, INCRBY on every call, EXPIRE 35 days, never reset at a
// period's start.
const DefaultCounterPattern = "mavera:credits_used:current_period:*"

// CounterLabel names the Pattern 1 source in SnapshotMsg.Source and on screen.
const CounterLabel = "Pattern 1 counters"

// CounterNote says, for a screen or a report, what a Pattern 1 source cannot
// show and what "used" means there.
const CounterNote = "source: Pattern 1 counters (no endpoints, no 402s; used = since each key appeared, it never resets at a period's start); the stream contract (README) is period-aware"

// SourceKind names where usage is read from.
type SourceKind string

const (
	// SourceAuto picks the stream when this period's counters of the stream
	// contract exist, else the Pattern 1 counters when any key matches, else
	// the stream (waiting for its first producer).
	SourceAuto SourceKind = "auto"
	// SourceStream follows the usage stream (the wire contract).
	SourceStream SourceKind = "stream"
	// SourceCounters follows the seed's Pattern 1 counters.
	SourceCounters SourceKind = "counters"
)

// ParseSourceKind checks a --source value.
func ParseSourceKind(s string) (SourceKind, error) {
	switch k := SourceKind(s); k {
	case SourceAuto, SourceStream, SourceCounters:
		return k, nil
	}
	return "", fmt.Errorf("source %q: want auto, stream or counters", s)
}

// Source is what a Hub runs: the stream Subscriber or a CounterSource. Run
// calls handle with messages on one goroutine until ctx is done.
type Source interface {
	Run(ctx context.Context, handle func(Msg)) error
}

// CounterPrefix returns the part of a counter pattern before its one "*", the
// prefix every counter key starts with, or an error for a pattern that is not
// "<literal>*" (SCAN MATCH would read ?, [ ] and \ as wildcards too).
func CounterPrefix(pattern string) (string, error) {
	prefix, ok := strings.CutSuffix(pattern, "*")
	if !ok || prefix == "" || strings.ContainsAny(prefix, "*?[]\\") {
		return "", fmt.Errorf("counter pattern %q: want a literal prefix followed by one *, like %s", pattern, DefaultCounterPattern)
	}
	return prefix, nil
}

// CounterRead is one pass over the Pattern 1 counters.
type CounterRead struct {
	// Used maps workspace → the counter's value.
	Used map[string]int64
	// Skipped counts keys that matched but were not counted: a name after the
	// prefix that is no workspace id, a value that is no integer ≥ 0, or keys
	// beyond the limit.
	Skipped int
	// Bad maps a counter key whose value is no integer ≥ 0 to why (at most
	// maxBadFields of them), so a command can name it: the workspace it counts
	// for is not missing, its usage is unreadable. BadCount counts them all.
	Bad      map[string]error
	BadCount int
	// Unreadable maps the workspace of every such key to why, all of them
	// (model.Snapshot.Unreadable): its level is unknown, not 0 % used.
	Unreadable map[string]string
	// Took is how long the pass took (its round trips included).
	Took time.Duration
}

// ReadCounters reads every key matching pattern (SCAN MATCH with COUNT, then
// MGET per page; pipelined GETs per node on a cluster, whose MGET cannot span
// slots), at most maxKeys of them. It is not one atomic read: each counter is
// exact at the moment it was read.
func ReadCounters(ctx context.Context, c redis.UniversalClient, pattern string, count int64, maxKeys int) (*CounterRead, error) {
	prefix, err := CounterPrefix(pattern)
	if err != nil {
		return nil, err
	}
	if count <= 0 {
		count = 1000
	}
	if maxKeys <= 0 {
		maxKeys = DefaultCounterMaxKeys
	}
	start := time.Now()
	r := &CounterRead{Used: map[string]int64{}, Bad: map[string]error{}}
	var mu sync.Mutex
	node := func(ctx context.Context, n redis.Cmdable, cluster bool) error {
		var cursor uint64
		for {
			keys, next, err := n.Scan(ctx, cursor, pattern, count).Result()
			if err != nil {
				return fmt.Errorf("scan %s: %w", pattern, err)
			}
			if len(keys) > 0 {
				vals, err := getAll(ctx, n, keys, cluster)
				if err != nil {
					return err
				}
				mu.Lock()
				for i, k := range keys {
					ws := strings.TrimPrefix(k, prefix)
					v, ok := vals[i].(string)
					n, perr := model.ParseCounter(v)
					switch {
					case vals[i] == nil:
						// expired between SCAN and GET: nothing to count
					case !ok || perr != nil || n < 0 || !model.IsID(ws) || len(r.Used) >= maxKeys:
						r.Skipped++
						if model.IsID(ws) && (perr != nil || n < 0) {
							r.bad(k, ws, v, n, perr)
						}
					default:
						r.Used[ws] = model.AddCredits(r.Used[ws], n)
					}
				}
				mu.Unlock()
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return node(ctx, m, true) })
	} else {
		err = node(ctx, c, false)
	}
	if err != nil {
		return nil, err
	}
	r.Took = time.Since(start)
	return r, nil
}

// bad records a counter key whose value v (n parsed, or err) is no integer ≥ 0.
func (r *CounterRead) bad(key, ws, v string, n int64, err error) {
	r.BadCount++
	why := fmt.Errorf("%q is not an integer", model.Truncate(model.Sanitize(v), 40))
	if err == nil {
		why = fmt.Errorf("%d is negative", n)
	}
	if r.Unreadable == nil {
		r.Unreadable = map[string]string{}
	}
	name := model.Truncate(model.Sanitize(key), 80)
	r.Unreadable[ws] = fmt.Sprintf("counter %q cannot be read (%v)", name, why)
	if len(r.Bad) >= maxBadFields {
		return
	}
	r.Bad[name] = why
}

// getAll returns the values of keys, in order (nil for a missing key).
func getAll(ctx context.Context, n redis.Cmdable, keys []string, cluster bool) ([]any, error) {
	if !cluster {
		vals, err := n.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("read counters: %w", err)
		}
		return vals, nil
	}
	cmds, err := n.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	vals := make([]any, len(cmds))
	for i, cmd := range cmds {
		if v, err := cmd.(*redis.StringCmd).Result(); err == nil {
			vals[i] = v
		}
	}
	return vals, nil
}

// DefaultCounterMaxKeys bounds how many counters a source keeps.
const DefaultCounterMaxKeys = 100_000

// DetectSource resolves SourceAuto: the stream when this or the last period's
// used hash of the stream contract exists (or the stream holds entries and no
// settings were ever written), else the counters when any key matches pattern,
// else the stream. Other kinds are returned as they are.
func DetectSource(ctx context.Context, c redis.UniversalClient, keys Keys, kind SourceKind, pattern string, now time.Time) (SourceKind, error) {
	kind, _, err := DetectSourceRead(ctx, c, keys, kind, pattern, now)
	return kind, err
}

// DetectSourceRead is DetectSource that also returns what it read to decide
// (nil when it read none: kind was not auto): for the stream contract the
// ReadWorkspaceSnapshot, for the counters that snapshot with the counters it
// read, as ReadCounterSnapshot gives them. A reader of the workspaces (mavtop
// check) uses it instead of reading the same keys a second time.
func DetectSourceRead(ctx context.Context, c redis.UniversalClient, keys Keys, kind SourceKind, pattern string, now time.Time) (SourceKind, *SnapshotResult, error) {
	kind, res, _, err := detectSource(ctx, c, keys, kind, pattern, now)
	return kind, res, err
}

// DetectSourceFound is DetectSource for SourceAuto that also says whether
// it found either source in use (false: neither the stream contract nor a
// Pattern 1 key, the stream chosen only to wait for a first producer).
func DetectSourceFound(ctx context.Context, c redis.UniversalClient, keys Keys, pattern string, now time.Time) (SourceKind, bool, error) {
	kind, _, found, err := detectSource(ctx, c, keys, SourceAuto, pattern, now)
	return kind, found, err
}

func detectSource(ctx context.Context, c redis.UniversalClient, keys Keys, kind SourceKind, pattern string, now time.Time) (SourceKind, *SnapshotResult, bool, error) {
	if kind != SourceAuto {
		return kind, nil, true, nil
	}
	res, err := ReadWorkspaceSnapshot(ctx, c, keys, now, model.MonthlyUTC) // used_by says nothing more here
	if err != nil {
		return "", nil, false, err
	}
	if len(res.Snap.Used) > 0 || res.Snap.StreamID != "" && res.Snap.StreamID != "0-0" && len(res.Snap.Settings) == 0 {
		return SourceStream, res, true, nil
	}
	if len(res.BadKeys) > 0 || res.streamErr != nil {
		// a key of the stream contract is there, of another type or one the
		// user may not read: the contract is in use, its figures named
		return SourceStream, res, true, nil
	}
	// Early in a period nobody may have written yet: the last period's counters
	// say the stream contract is in use all the same.
	prev := res.Rule.At(res.Snap.Period.Start.Add(-time.Millisecond))
	if n, err := c.Exists(ctx, keys.Used(prev.Key)).Result(); isNoPerm(err) {
		return SourceStream, res, true, nil // the used counters are there, not for this user
	} else if err != nil {
		return "", nil, false, fmt.Errorf("look for the last period's counters: %w", err)
	} else if n > 0 {
		return SourceStream, res, true, nil
	}
	read, err := ReadCounters(ctx, c, pattern, 1000, DefaultCounterMaxKeys)
	if err != nil {
		return "", nil, false, err
	}
	if len(read.Used) > 0 {
		// the counters just read are the ones reported: check read them,
		// the settings and every hash (used_by too) a second time
		return SourceCounters, counterSnapshot(res, read), true, nil
	}
	return SourceStream, res, false, nil
}

// CounterOptions configure a CounterSource. Zero values mean the defaults.
type CounterOptions struct {
	// Prefix is mavtop's key prefix, for the settings and the period config.
	Prefix string
	// Pattern matches the counters (DefaultCounterPattern).
	Pattern string
	// Every is the poll cadence (5 s).
	Every time.Duration
	// ScanCount is SCAN's COUNT hint and so the keys per MGET (1000).
	ScanCount int64
	// MaxKeys bounds the counters kept (DefaultCounterMaxKeys).
	MaxKeys int
	// Share is the most of the wall time polls may take (0.01): after a poll
	// that took d, the next waits at least d/Share, however short Every is.
	Share float64
	// Now is the clock (time.Now).
	Now func() time.Time
	// Backoff spaces retries after an error (100 ms doubling to 5 s).
	Backoff *Backoff
}

// CounterSource follows the seed's Pattern 1 counters for a Hub: a snapshot of
// every counter, then each increase as a usage event of that workspace (no
// endpoint, no project, status 200), stamped when it was seen, so burn rates and
// forecasts work from the deltas. A counter that went down or vanished (expired,
// reset) starts a new snapshot (ReasonReset). It polls every Every; when the
// server publishes keyspace notifications for strings (notify-keyspace-events
// with K and $ or A) it also reads the keys named there within 250 ms. Settings
// come from mavtop's settings hash, re-read on each poll.
type CounterSource struct {
	c      redis.UniversalClient
	keys   Keys
	opt    CounterOptions
	prefix string

	gen      uint64
	rule     model.PeriodRule
	period   model.Period
	last     map[string]int64
	settings map[string]string
	// unreadable is the last snapshot's CounterRead.Unreadable: a poll that finds
	// another set reads a new snapshot, so a counter healed (or broken) is judged anew.
	unreadable map[string]string
	conn       ConnState
	attempt    int
	since      time.Time
	stats      StatsMsg
	handle     func(Msg)
}

// NewCounterSource returns a source reading c; Run starts it. A pattern that
// is not "<literal>*" is an error.
func NewCounterSource(c redis.UniversalClient, opt CounterOptions) (*CounterSource, error) {
	if opt.Pattern == "" {
		opt.Pattern = DefaultCounterPattern
	}
	prefix, err := CounterPrefix(opt.Pattern)
	if err != nil {
		return nil, err
	}
	if opt.Every <= 0 {
		opt.Every = 5 * time.Second
	}
	if opt.ScanCount <= 0 {
		opt.ScanCount = 1000
	}
	if opt.MaxKeys <= 0 {
		opt.MaxKeys = DefaultCounterMaxKeys
	}
	if opt.Share <= 0 || opt.Share > 1 {
		opt.Share = 0.01
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Backoff == nil {
		opt.Backoff = &Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second, Rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	}
	return &CounterSource{c: c, keys: Keys{Prefix: opt.Prefix}, opt: opt, prefix: prefix}, nil
}

// Run follows the counters until ctx is done and returns ctx's error. Redis
// errors never end it: it reports them with a ConnMsg and retries with backoff.
func (s *CounterSource) Run(ctx context.Context, handle func(Msg)) error {
	s.handle = handle
	s.rule = model.MonthlyUTC
	s.conn, s.since = Connecting, s.opt.Now()
	handle(&ConnMsg{State: Connecting, Since: s.since})
	notes := s.notifications(ctx)
	dirty := map[string]bool{}
	reason := ReasonStart
	next := time.Time{}   // when the next poll is due
	var flushAt time.Time // when the keys notified so far are read
	for {
		for reason == "" && time.Now().Before(next) {
			var flush <-chan time.Time
			if len(dirty) > 0 {
				flush = time.After(time.Until(flushAt))
			}
			timer := time.NewTimer(time.Until(next))
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case <-timer.C:
			case ws := <-notes:
				if len(dirty) == 0 {
					flushAt = time.Now().Add(250 * time.Millisecond) // the first one sets the time
				}
				if len(dirty) < s.opt.MaxKeys {
					dirty[ws] = true
				}
			case <-flush:
				if err := s.readDirty(ctx, dirty); err != nil && s.failed(ctx, err) != nil {
					timer.Stop()
					return ctx.Err()
				}
				clear(dirty)
			}
			timer.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var took time.Duration
		var err error
		if reason != "" {
			took, err = s.snapshot(ctx, reason)
			if err == nil {
				reason = ""
			}
		} else {
			took, reason, err = s.poll(ctx)
		}
		if err != nil {
			if s.failed(ctx, err) != nil {
				return ctx.Err()
			}
			continue // the backoff waited: read again at once
		}
		s.ok()
		clear(dirty)
		next = time.Now().Add(pollPause(s.opt.Every, took, s.opt.Share))
	}
}

// pollPause is the wait after a poll that took took: every, or longer when the
// poll was slow, so that polls take at most share of the time.
func pollPause(every, took time.Duration, share float64) time.Duration {
	return max(every, time.Duration(float64(took)/share))
}

// notifications subscribes to keyspace notifications of the counters when the
// server publishes them (not on a cluster, whose notifications stay on each
// node), and returns the channel of workspaces touched (nil: poll only).
func (s *CounterSource) notifications(ctx context.Context) <-chan string {
	if _, cluster := s.c.(*redis.ClusterClient); cluster {
		return nil
	}
	cfg, err := s.c.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		return nil // CONFIG may be disabled (managed Redis): polling alone is exact too
	}
	flags := cfg["notify-keyspace-events"]
	if !strings.Contains(flags, "K") || !strings.ContainsAny(flags, "$A") {
		return nil
	}
	ps := s.c.PSubscribe(ctx, "__keyspace@*__:"+s.opt.Pattern)
	out := make(chan string, 1024)
	go func() {
		defer ps.Close()
		ch := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				_, key, _ := strings.Cut(m.Channel, "__:")
				if ws, ok := strings.CutPrefix(key, s.prefix); ok && model.IsID(ws) {
					select {
					case out <- ws:
					default: // full: the next poll reads it anyway
					}
				}
			}
		}
	}()
	return out
}

// ReadCounterSnapshot is ReadSnapshot for the Pattern 1 counters: the period,
// its rule and the settings from mavtop's keys, Used from the counters matching
// pattern (the stream contract's counters left out, so nothing counts twice
// while both are written), and the settings hash as stored. BadCounters names
// the counter keys whose value could not be read (CounterRead.Bad), not the
// stream contract's hash fields.
func ReadCounterSnapshot(ctx context.Context, c redis.UniversalClient, keys Keys, pattern string, scanCount int64, maxKeys int, now time.Time, hint model.PeriodRule) (*SnapshotResult, *CounterRead, map[string]string, error) {
	// the stream contract's hashes are all replaced below: used_by (the
	// largest), the run id and the digest are not read
	res, err := ReadWorkspaceSnapshot(ctx, c, keys, now, hint)
	if err != nil {
		return nil, nil, nil, err
	}
	read, err := ReadCounters(ctx, c, pattern, scanCount, maxKeys)
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := c.HGetAll(ctx, keys.Settings()).Result()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read settings: %w", err)
	}
	return counterSnapshot(res, read), read, raw, nil
}

// counterSnapshot is res with its usage replaced by the Pattern 1 counters
// read: the stream contract's counters left out, so nothing counts twice.
func counterSnapshot(res *SnapshotResult, read *CounterRead) *SnapshotResult {
	snap := *res.Snap
	snap.Used = maps.Clone(read.Used)
	snap.UsedBy, snap.Refused, snap.Recharged = map[string]int64{}, map[string]int64{}, map[string]int64{}
	snap.StreamID = ""
	snap.Unreadable = maps.Clone(read.Unreadable)
	res.Snap = &snap
	res.BadCounters, res.BadCounterCount = read.Bad, read.BadCount
	return res
}

// serverTime returns Redis's clock now (TIME) as a model.ServerTimeID,
// after (0) or plus one microsecond (1): "" when it cannot be read (a TIME
// refused: the reading then orders nothing, as before).
func serverTime(ctx context.Context, c redis.UniversalClient, plus int64) string {
	t, err := c.Time(ctx).Result()
	if err != nil {
		return ""
	}
	return model.ServerTimeID(t.Unix(), int64(t.Nanosecond()/1000)+plus)
}

// snapshot reads every counter and the settings and starts a generation.
// The snapshot's Read is the server's time before the reading and just
// after it (model.ReadPosition): To is one microsecond past the TIME read
// after the last read, so a later reading's From equal to it is later still.
func (s *CounterSource) snapshot(ctx context.Context, reason Reason) (time.Duration, error) {
	now := s.opt.Now()
	from := serverTime(ctx, s.c, 0)
	res, read, raw, err := ReadCounterSnapshot(ctx, s.c, s.keys, s.opt.Pattern, s.opt.ScanCount, s.opt.MaxKeys, now, s.rule)
	if err != nil {
		return 0, err
	}
	if to := serverTime(ctx, s.c, 1); from != "" && to != "" {
		res.Snap.Read = model.ReadPosition{From: from, To: to}
	}
	s.gen++
	s.rule, s.period, s.last, s.settings = res.Rule, res.Snap.Period, read.Used, raw
	s.unreadable = read.Unreadable
	s.stats.PeriodUnreadable = res.PeriodUnreadable
	s.stats.Snapshots++
	s.handle(&SnapshotMsg{Gen: s.gen, Snap: res.Snap, Rule: res.Rule, Reason: reason, BadSettings: res.BadSettings, BadCounters: res.BadCounters, At: now, Source: CounterLabel,
		PeriodUnreadable: res.PeriodUnreadable})
	return read.Took, nil
}

// poll reads every counter and the settings and hands over what changed; it
// returns the reason for a new snapshot instead when one is needed.
func (s *CounterSource) poll(ctx context.Context) (time.Duration, Reason, error) {
	now := s.opt.Now()
	if leftPeriod(now, s.period) {
		return 0, ReasonRollover, nil
	}
	from := serverTime(ctx, s.c, 0)
	read, err := ReadCounters(ctx, s.c, s.opt.Pattern, s.opt.ScanCount, s.opt.MaxKeys)
	if err != nil {
		return 0, "", err
	}
	raw, err := s.c.HGetAll(ctx, s.keys.Settings()).Result()
	if err != nil {
		return 0, "", fmt.Errorf("read settings: %w", err)
	}
	var pos model.ReadPosition
	if to := serverTime(ctx, s.c, 1); from != "" && to != "" {
		pos = model.ReadPosition{From: from, To: to}
	}
	for ws, old := range s.last {
		if read.Used[ws] < old {
			return read.Took, ReasonReset, nil // expired, deleted or reset: start over
		}
	}
	if raw[PeriodSettingsField] != s.settings[PeriodSettingsField] {
		return read.Took, ReasonPeriod, nil
	}
	if !maps.Equal(read.Unreadable, s.unreadable) {
		return read.Took, ReasonReset, nil // a counter turned unreadable, or readable again: judged anew
	}
	evs := s.settingsEvents(raw, now)
	for ws, v := range read.Used {
		if d := v - s.last[ws]; d > 0 {
			evs = append(evs, model.Event{TS: now.UnixMilli(), Workspace: ws, Credits: d, Status: 200})
		}
	}
	s.last, s.settings = read.Used, raw
	s.deliver(evs, now, pos)
	return read.Took, "", nil
}

// readDirty reads the counters named by keyspace notifications and hands over
// their increases; a decrease waits for the next poll's snapshot.
func (s *CounterSource) readDirty(ctx context.Context, dirty map[string]bool) error {
	if s.last == nil || len(dirty) == 0 {
		return nil
	}
	names := make([]string, 0, len(dirty))
	keys := make([]string, 0, len(dirty))
	for ws := range dirty {
		names = append(names, ws)
		keys = append(keys, s.prefix+ws)
	}
	var mget *redis.SliceCmd
	var at *redis.TimeCmd
	if _, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		mget = p.MGet(ctx, keys...)
		at = p.Time(ctx) // after the MGET: this reading's To
		return nil
	}); err != nil && mget.Err() != nil {
		return fmt.Errorf("read counters: %w", mget.Err())
	}
	vals := mget.Val()
	var pos model.ReadPosition
	if t, err := at.Result(); err == nil {
		pos.To = model.ServerTimeID(t.Unix(), int64(t.Nanosecond()/1000)+1)
	}
	now := s.opt.Now()
	var evs []model.Event
	for i, ws := range names {
		str, _ := vals[i].(string)
		v, err := model.ParseCounter(str)
		if err != nil || v < 0 {
			continue
		}
		if _, known := s.last[ws]; !known && len(s.last) >= s.opt.MaxKeys {
			continue
		}
		if d := v - s.last[ws]; d > 0 {
			evs = append(evs, model.Event{TS: now.UnixMilli(), Workspace: ws, Credits: d, Status: 200})
			s.last[ws] = v
		}
	}
	if len(evs) > 0 {
		s.deliver(evs, now, pos) // nothing new: no reading to order by
	}
	return nil
}

// settingsEvents turns changed settings fields into settings events, as the
// settings store writes them to the stream.
func (s *CounterSource) settingsEvents(raw map[string]string, now time.Time) []model.Event {
	var evs []model.Event
	for field, v := range raw {
		if field == PeriodSettingsField || s.settings[field] == v {
			continue
		}
		e := model.Event{TS: now.UnixMilli(), Kind: model.KindSettings, Msg: v}
		if ws, project, ok := model.SplitProjectKey(field); ok {
			e.Workspace, e.Project = ws, project
		} else {
			e.Workspace = field
		}
		if model.IsID(e.Workspace) && (e.Project == "" || model.IsID(e.Project)) {
			evs = append(evs, e)
		}
	}
	return evs
}

// deliver hands over the events of a reading at pos: a BatchMsg with none
// when pos is set (a poll that found nothing new still moves the ledger's
// ReadTo), nothing without either.
func (s *CounterSource) deliver(evs []model.Event, now time.Time, pos model.ReadPosition) {
	if len(evs) == 0 {
		if pos != (model.ReadPosition{}) {
			s.handle(&BatchMsg{Gen: s.gen, Read: pos})
		}
		return
	}
	s.stats.Events += int64(len(evs))
	s.handle(&BatchMsg{Gen: s.gen, Events: evs, Read: pos})
	st := s.stats
	st.At = now
	s.handle(&st)
}

func (s *CounterSource) ok() {
	if s.conn == Connected {
		return
	}
	s.conn, s.attempt, s.since = Connected, 0, s.opt.Now()
	s.handle(&ConnMsg{State: Connected, Since: s.since})
}

func (s *CounterSource) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if s.conn == Connected {
		s.conn, s.since = Reconnecting, s.opt.Now()
		s.stats.Reconnects++
	}
	s.attempt++
	err = ExplainConnError(s.c, err)
	d := s.opt.Backoff.Delay(s.attempt)
	s.handle(&ConnMsg{State: s.conn, Attempt: s.attempt, Err: err, Since: s.since, Retry: d})
	return backoff.Sleep(ctx, d)
}

// NewSource returns the source kind asks for: the stream's Subscriber, a
// CounterSource, or for SourceAuto one that decides when it runs (retrying
// with backoff while Redis cannot be asked, reported by ConnMsg) and then runs
// the source it chose.
func NewSource(c redis.UniversalClient, kind SourceKind, sub SubscriberOptions, cnt CounterOptions) (Source, error) {
	if cnt.Prefix == "" {
		cnt.Prefix = sub.Prefix
	}
	switch kind {
	case SourceStream:
		return NewSubscriber(c, sub), nil
	case SourceCounters:
		return NewCounterSource(c, cnt)
	case SourceAuto:
		if cnt.Pattern == "" {
			cnt.Pattern = DefaultCounterPattern
		}
		if _, err := CounterPrefix(cnt.Pattern); err != nil {
			return nil, err
		}
		return &autoSource{c: c, sub: sub, cnt: cnt}, nil
	}
	return nil, fmt.Errorf("source %q: want auto, stream or counters", kind)
}

type autoSource struct {
	c   redis.UniversalClient
	sub SubscriberOptions
	cnt CounterOptions
}

func (a *autoSource) Run(ctx context.Context, handle func(Msg)) error {
	now := a.sub.Now
	if now == nil {
		now = time.Now
	}
	bo := &Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second, Rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	since := now()
	handle(&ConnMsg{State: Connecting, Since: since})
	for attempt := 1; ; attempt++ {
		kind, err := DetectSource(ctx, a.c, Keys{Prefix: a.sub.Prefix}, SourceAuto, a.cnt.Pattern, now())
		if err == nil {
			src, err := NewSource(a.c, kind, a.sub, a.cnt)
			if err != nil {
				return err
			}
			return src.Run(ctx, handle)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d := bo.Delay(attempt)
		err = ExplainConnError(a.c, err)
		handle(&ConnMsg{State: Connecting, Attempt: attempt, Err: err, Since: since, Retry: d})
		if backoff.Sleep(ctx, d) != nil {
			return ctx.Err()
		}
	}
}
