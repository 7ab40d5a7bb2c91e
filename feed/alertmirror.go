package feed

import (
	"context"
	"fmt"
	"hash/maphash"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
	"unique"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// Bounds of an AlertMirror's full read, the safety net for what bypasses the
// store's version (a hand HSET or HDEL with redis-cli).
const (
	// MinFullReadEvery is the shortest time between two full reads of a
	// period that was read incrementally meanwhile.
	MinFullReadEvery = time.Minute
	// FullReadShare bounds the share of time full reads take: the next one
	// comes no sooner than FullReadShare times the last one's duration after
	// it (100: ≤ 1 % of the watcher's time, whatever the number of records).
	FullReadShare = 100
	// changedChunk is how many changed alerts one HMGET reads.
	changedChunk = 1000
)

// AlertMirror is one instance's copy of the alert lifecycle of a few billing
// periods, kept by reading only what changed: each Sync reads the period's
// version (one round trip, O(1)) and, when it moved, the ids written since
// (AlertChanges) and those records alone. Records are the shared truth, so it
// reads a period in full (HGETALL), decoding only the values whose bytes
// changed, whenever the version cannot be trusted to say what changed:
//   - on the first Sync of a period, after any error or Reset (the watcher
//     resets it when Redis comes back older than its ledger), and after the
//     client dialled a new connection (a reconnect: to a restarted Redis, or
//     another after a failover);
//   - when the hash is not the one read last (another epoch: deleted and made
//     again) or its version went back (a restore, a failover);
//   - when AlertChanges does not account for the version (its newest member
//     is not at the version, or it holds fewer members than the hash has
//     alerts: deleted or trimmed by hand);
//   - every max(MinFullReadEvery, FullReadShare × the last full read's
//     duration), for edits that bypass the store (redis-cli HSET, HDEL): those
//     are seen within that bound.
//
// Not safe for concurrent use: one goroutine (the watcher's cycle) syncs it.
type AlertMirror struct {
	s    *AlertStore
	now  func() time.Time
	seed maphash.Seed
	// recs are the records of every period synced, by alert id (ids carry
	// their period, so periods never share one), packed (PackedAlert: ~0.3
	// KB a record where decoded ones held ~1.1 KB, of ~170k records at 100k
	// workspaces) and decoded on demand. A record is never written once
	// here: a changed one is a new record, so the watcher shares them
	// instead of copying each.
	recs    map[string]PackedAlert
	periods map[string]*mirrored
	// fullReads counts full reads of any period (FullReads).
	fullReads atomic.Int64
	// dials counts the connections the client made (a reconnect among
	// them); dialsSeen is the count at the last Sync.
	dials     *atomic.Int64
	dialsSeen int64
}

// dialCounter counts a client's new connections.
type dialCounter struct{ n *atomic.Int64 }

func (h dialCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		h.n.Add(1)
		return next(ctx, network, addr)
	}
}
func (h dialCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h dialCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// countDials makes n count every connection c dials, on each node of a
// cluster.
func countDials(c redis.UniversalClient, n *atomic.Int64) {
	if cc, ok := c.(*redis.ClusterClient); ok {
		cc.OnNewNode(func(node *redis.Client) { node.AddHook(dialCounter{n}) })
		return
	}
	c.AddHook(dialCounter{n})
}

// mirrored is what a mirror knows of one period's hash.
type mirrored struct {
	// fresh is false until a full read (and after an error or a reset).
	fresh    bool
	epoch    string
	version  int64
	lastFull time.Time
	fullTook time.Duration
	sums     map[string]uint64 // every alert field read → hash of its value
	// heads is how many fields of the hash are not alerts (the version, the
	// epoch, any other "#" field a hand wrote), as the last full read found
	heads          int64
	bad            map[string]bool // fields that did not decode
	full, partials int             // reads made, for tests and benchmarks
}

// NewAlertMirror returns an empty mirror of s; now is the clock (time.Now
// when nil) that paces its full reads.
func NewAlertMirror(s *AlertStore, now func() time.Time) *AlertMirror {
	if now == nil {
		now = time.Now
	}
	m := &AlertMirror{s: s, now: now, seed: maphash.MakeSeed(), recs: map[string]PackedAlert{}, periods: map[string]*mirrored{}, dials: new(atomic.Int64)}
	countDials(s.c, m.dials)
	return m
}

// Records returns the records of the periods last synced, by alert id,
// packed (PackedAlert.Decode gives each back). The map is the mirror's own:
// read it only, and only until the next Sync. The records it holds are
// never written again (a change is a new record): they may be kept and
// shared.
func (m *AlertMirror) Records() map[string]PackedAlert { return m.recs }

// Bad returns how many fields of the periods synced did not decode.
func (m *AlertMirror) Bad() int {
	n := 0
	for _, p := range m.periods {
		n += len(p.bad)
	}
	return n
}

// Reads returns how many full and incremental reads of period were made.
func (m *AlertMirror) Reads(period string) (full, incremental int) {
	if p := m.periods[period]; p != nil {
		return p.full, p.partials
	}
	return 0, 0
}

// FullReads returns how many full reads were made, of any period. Unlike
// the rest of the mirror, safe to call while another goroutine syncs it.
func (m *AlertMirror) FullReads() int64 { return m.fullReads.Load() }

// Reset makes the next Sync read every period in full.
func (m *AlertMirror) Reset() {
	for _, p := range m.periods {
		p.fresh = false
	}
}

// Sync brings the mirror up to date with the given periods (any other period
// synced before is dropped, its records removed) and returns the ids whose
// record was added, changed or removed since the last Sync, sorted. On an
// error the changes read before it are applied and returned with it, and the
// period that failed is read in full by the next Sync.
func (m *AlertMirror) Sync(ctx context.Context, periods ...string) (changed []string, err error) {
	if d := m.dials.Load(); d != m.dialsSeen {
		// A new connection: perhaps to a Redis restarted (without its
		// data, or older), or another one after a failover.
		m.dialsSeen = d
		m.Reset()
	}
	for key, p := range m.periods {
		if slices.Contains(periods, key) {
			continue
		}
		for id := range p.sums {
			if _, ok := m.recs[id]; ok {
				delete(m.recs, id)
				changed = append(changed, id)
			}
		}
		delete(m.periods, key)
	}
	fulls := m.fullReads.Load()
	for _, key := range periods {
		p := m.periods[key]
		if p == nil {
			p = &mirrored{sums: map[string]uint64{}, bad: map[string]bool{}}
			m.periods[key] = p
		}
		if changed, err = m.sync(ctx, key, p, changed); err != nil {
			p.fresh = false
			break
		}
	}
	if err == nil && m.fullReads.Load()-fulls == int64(len(periods)) {
		// every period was just read in full, on the connections dialled
		// meanwhile (the first ones among them)
		m.dialsSeen = m.dials.Load()
	}
	slices.Sort(changed)
	return slices.Compact(changed), err
}

// due reports whether p needs a full read now.
func (m *AlertMirror) due(p *mirrored) bool {
	return !p.fresh || m.now().Sub(p.lastFull) >= max(MinFullReadEvery, FullReadShare*p.fullTook)
}

func (m *AlertMirror) sync(ctx context.Context, period string, p *mirrored, changed []string) ([]string, error) {
	if m.due(p) {
		return m.readFull(ctx, period, p, changed)
	}
	key, log := m.s.keys.Alerts(period), m.s.keys.AlertChanges(period)
	var head *redis.SliceCmd
	var since *redis.ZSliceCmd
	var members, fields *redis.IntCmd
	// one snapshot: the version, and every id written after the one known
	if _, err := m.s.c.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		head = pp.HMGet(ctx, key, alertVersionField, alertEpochField)
		since = pp.ZRangeByScoreWithScores(ctx, log, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(p.version, 10), Max: "+inf"})
		members = pp.ZCard(ctx, log)
		fields = pp.HLen(ctx, key)
		return nil
	}); err != nil {
		return changed, fmt.Errorf("read alert changes of %s: %w", period, err)
	}
	version, epoch := parseHead(head.Val())
	ids := since.Val()
	switch {
	case epoch != p.epoch || version < p.version:
		return m.readFull(ctx, period, p, changed)
	case version == p.version:
		p.partials++
		return changed, nil
	case len(ids) == 0 || int64(ids[len(ids)-1].Score) != version || members.Val() < fields.Val()-p.heads:
		// the changes do not account for the version: lost or trimmed
		return m.readFull(ctx, period, p, changed)
	}
	p.partials++
	names := make([]string, len(ids))
	for i, z := range ids {
		names[i], _ = z.Member.(string)
	}
	for chunk := range slices.Chunk(names, changedChunk) {
		vals, err := m.s.c.HMGet(ctx, key, chunk...).Result()
		if err != nil {
			return changed, fmt.Errorf("read changed alerts of %s: %w", period, err)
		}
		for i, id := range chunk {
			v, ok := vals[i].(string)
			if m.put(p, id, v, ok) {
				changed = append(changed, id)
			}
		}
	}
	// A value read here may be newer than version: it is read again when
	// its own version is, which changes nothing.
	p.version = version
	return changed, nil
}

// readFull reads period's hash in full and decodes the values whose bytes
// changed since they were last read.
func (m *AlertMirror) readFull(ctx context.Context, period string, p *mirrored, changed []string) ([]string, error) {
	began := m.now()
	start := time.Now()
	key, log := m.s.keys.Alerts(period), m.s.keys.AlertChanges(period)
	var all *redis.MapStringStringCmd
	var members *redis.IntCmd
	if _, err := m.s.c.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		all = pp.HGetAll(ctx, key)
		members = pp.ZCard(ctx, log)
		return nil
	}); err != nil {
		return changed, fmt.Errorf("read alerts of %s: %w", period, err)
	}
	raw := all.Val()
	p.full++
	m.fullReads.Add(1)
	var alerts int64
	for id := range raw {
		if isAlertField(id) {
			alerts++
		}
	}
	p.heads = int64(len(raw)) - alerts
	if members.Val() < alerts {
		// Changes lost members (deleted or trimmed by hand): each alert
		// missing is added at version 0, so that the next write is read
		// by what changed again, not in full for the rest of the period.
		// NX: a write meanwhile keeps the version it gave.
		if err := m.repair(ctx, key, log, raw); err != nil {
			return changed, err
		}
	}
	for id := range p.sums {
		if _, ok := raw[id]; !ok && m.put(p, id, "", false) {
			changed = append(changed, id)
		}
	}
	for id, v := range raw {
		if isAlertField(id) && m.put(p, id, v, true) {
			changed = append(changed, id)
		}
	}
	version, epoch := parseHead([]any{raw[alertVersionField], raw[alertEpochField]})
	p.fresh, p.epoch, p.version, p.lastFull, p.fullTook = true, epoch, version, began, time.Since(start)
	return changed, nil
}

// repair adds every alert of raw (the hash key's fields) missing from the
// changes set log, at version 0.
func (m *AlertMirror) repair(ctx context.Context, key, log string, raw map[string]string) error {
	zs := make([]redis.Z, 0, changedChunk)
	flush := func() error {
		if len(zs) == 0 {
			return nil
		}
		err := m.s.c.ZAddNX(ctx, log, zs...).Err()
		zs = zs[:0]
		return err
	}
	for id := range raw {
		if !isAlertField(id) {
			continue
		}
		if zs = append(zs, redis.Z{Score: 0, Member: id}); len(zs) == changedChunk {
			if err := flush(); err != nil {
				return fmt.Errorf("repair alert changes: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("repair alert changes: %w", err)
	}
	// a set made again expires with the hash
	if ttl, err := m.s.c.PTTL(ctx, key).Result(); err == nil && ttl > 0 {
		_ = m.s.c.PExpire(ctx, log, ttl).Err()
	}
	return nil
}

// put records the value of one alert field (present false: absent) and
// reports whether the record the mirror holds changed.
func (m *AlertMirror) put(p *mirrored, id, v string, present bool) bool {
	if !isAlertField(id) {
		return false
	}
	if !present {
		delete(p.sums, id)
		delete(p.bad, id)
		_, had := m.recs[id]
		delete(m.recs, id)
		return had
	}
	sum := maphash.String(m.seed, v)
	if old, ok := p.sums[id]; ok && old == sum {
		return false
	}
	p.sums[id] = sum
	rec, ok := decodeAlert(id, v)
	if !ok {
		p.bad[id] = true
		_, had := m.recs[id]
		delete(m.recs, id)
		return had
	}
	delete(p.bad, id)
	rec.Alert.ID = id // the field name's bytes
	packed := Pack(&rec)
	if packed.full != nil {
		compact(packed.full, id) // kept decoded: its strings shared at least
	}
	m.recs[id] = packed
	return true
}

// compact makes the strings of a decoded record share their bytes where
// they repeat: JSON decoding gives each its own, and a delivery's alert
// repeats the record's (id, period, workspace, …). The words of a few
// values (kinds, statuses, sinks, results) and the periods are interned.
// At 100k workspaces the mirror holds ~130k records (1,229 B each before,
// measured by TestMirrorRecordBytes); what it cannot share is the delivery's
// own copy of the alert's fields (AlertTransition by value, the stored JSON's
// shape). id is the record's field name (the alert's id, checked by
// decodeAlert).
func compact(rec *StoredAlert, id string) {
	a := &rec.Alert
	a.ID = id
	a.Kind = model.AlertKind(intern(string(a.Kind)))
	a.Period = intern(a.Period)
	rec.Status = model.AlertStatus(intern(string(rec.Status)))
	for i := range rec.Deliveries {
		d := &rec.Deliveries[i]
		t := &d.Transition
		ta := &t.Alert
		same(&ta.ID, a.ID)
		same(&ta.Period, a.Period)
		same(&ta.Workspace, a.Workspace)
		same(&ta.Project, a.Project)
		same(&ta.Code, a.Code)
		same(&ta.Unreadable, a.Unreadable)
		ta.Kind = model.AlertKind(intern(string(ta.Kind)))
		t.Status = model.AlertStatus(intern(string(t.Status)))
		same(&t.Stream, rec.FiredStream)
		same(&t.Stream, rec.ResolvedStream)
		if i > 0 {
			same(&d.Owner, rec.Deliveries[0].Owner)
		}
		d.Owner = intern(d.Owner) // one per instance
		if len(d.Sinks) > 0 {
			sinks := make(map[string]SinkResult, len(d.Sinks))
			for name, r := range d.Sinks {
				r.Result = intern(r.Result)
				sinks[intern(name)] = r
			}
			d.Sinks = sinks
		}
	}
}

// same makes *s share v's bytes when they are equal.
func same(s *string, v string) {
	if *s == v {
		*s = v
	}
}

// intern returns s's canonical copy (unique): for the few values many
// records repeat.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// parseHead reads the version and the epoch of an alert hash (HMGET's
// values: a string or nil); a version that is not a count reads as 0.
func parseHead(vals []any) (version int64, epoch string) {
	if s, ok := vals[0].(string); ok {
		version, _ = strconv.ParseInt(s, 10, 64)
	}
	epoch, _ = vals[1].(string)
	return max(version, 0), epoch
}
