package feed

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// Alerts is the hash of one period's alert lifecycle: alert id → StoredAlert
// (JSON): "<prefix>:alerts:<period>".
func (k Keys) Alerts(period string) string { return k.p() + ":alerts:" + period }

// MaxStoredErr bounds the error text kept per sink.
const MaxStoredErr = 200

// SinkResult is how delivering one transition to one sink went.
type SinkResult struct {
	// Result is "sent", "retrying" or "failed" (gave up).
	Result string `json:"result"`
	// Attempts counts tries so far.
	Attempts int `json:"attempts"`
	// Err is the last error, sanitised and bounded ("" once sent).
	Err string    `json:"err,omitempty"`
	At  time.Time `json:"at"`
}

// Results of a delivery to a sink.
const (
	ResultSent     = "sent"
	ResultRetrying = "retrying"
	ResultFailed   = "failed"
)

// Delivery is the announcement of one transition: what was decided, and how
// its delivery goes. Exactly one instance holds its lease at a time.
type Delivery struct {
	Transition model.AlertTransition `json:"transition"`
	// Summary is the transition's sentence, fixed when it was decided.
	Summary string `json:"summary"`
	// Done is true once every sink was sent to or given up on.
	Done bool `json:"done,omitempty"`
	// Owner is the instance delivering it; LeaseUntil is when another may take over.
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// Sinks are the results by sink name.
	Sinks map[string]SinkResult `json:"sinks,omitempty"`
}

// StoredAlert is one alert's lifecycle and deliveries, shared by every mavtop.
type StoredAlert struct {
	model.AlertRecord
	// Deliveries are the transitions in order: firing, then resolved.
	Deliveries []Delivery `json:"deliveries"`
}

// DoneFor reports whether sink is finished with the delivery: sent, given up,
// or the whole delivery done. A resolution goes to a sink once its firing is
// done for that sink, whatever the other sinks do.
func (d *Delivery) DoneFor(sink string) bool {
	if d.Done {
		return true
	}
	r := d.Sinks[sink].Result
	return r == ResultSent || r == ResultFailed
}

// Pending returns the index of the oldest delivery not done, or -1.
func (s *StoredAlert) Pending() int {
	for i := range s.Deliveries {
		if !s.Deliveries[i].Done {
			return i
		}
	}
	return -1
}

// AlertStore keeps the alert lifecycle in Redis, one hash per billing period
// expiring with the period's other hashes, so that every instance — mavtop,
// serve, watch, in any mix — decides each transition once: a transition is
// claimed atomically (WATCH/MULTI on the period's hash) and only the claimer's
// record stands. Delivery is leased the same way: one instance delivers, and
// another takes over when the lease runs out (a crash mid-delivery), which makes
// delivery at-least-once with the transition's idempotency key. Safe for
// concurrent use.
type AlertStore struct {
	c    redis.UniversalClient
	keys Keys
}

// NewAlertStore returns a store on c under prefix ("" for DefaultPrefix).
func NewAlertStore(c redis.UniversalClient, prefix string) *AlertStore {
	return &AlertStore{c: c, keys: Keys{Prefix: prefix}}
}

// Fields of an alert hash that are not alerts: "#" never occurs in an alert
// id (a workspace id cannot hold it). Every write through the store sets
// alertVersionField to the hash's previous version + 1 (under the WATCH that
// guards the write) and adds the alert id to the period's AlertChanges with
// that version as its score, in the same MULTI; alertEpochField is set when
// the hash is made, so that a hash deleted and made again is told apart from
// the one a reader knew, whatever its version.
const (
	alertVersionField = "#version"
	alertEpochField   = "#epoch"
)

// AlertChanges is the sorted set of a period's alert ids, each scored with
// the version of the hash its latest write through the store made:
// "<prefix>:alert_changes:<period>". It holds one member per alert, so it
// stays as small as the hash it describes and is never trimmed; it expires
// with the hash.
func (k Keys) AlertChanges(period string) string { return k.p() + ":alert_changes:" + period }

// isAlertField reports whether a field of the alert hash holds an alert
// (not the version or the epoch).
func isAlertField(f string) bool { return !strings.HasPrefix(f, "#") }

// decodeAlert decodes one field of the alert hash; false for a value a
// foreign writer left (it does not decode, names another id, or holds more
// deliveries than an alert has).
func decodeAlert(id, v string) (StoredAlert, bool) {
	var rec StoredAlert
	if json.Unmarshal([]byte(v), &rec) != nil || rec.Alert.ID != id || len(rec.Deliveries) > 2 {
		return StoredAlert{}, false
	}
	return rec, true
}

// Load returns a period's lifecycle by alert id, read in full (HGETALL). A
// field that does not decode (a foreign writer) is skipped and counted in
// bad. A watcher reads what changed instead (AlertMirror).
func (s *AlertStore) Load(ctx context.Context, period string) (recs map[string]StoredAlert, bad int, err error) {
	raw, err := s.c.HGetAll(ctx, s.keys.Alerts(period)).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("read alerts of %s: %w", period, namedKeyError(ctx, s.c, s.keys.Alerts(period), err))
	}
	recs = make(map[string]StoredAlert, len(raw))
	for id, v := range raw {
		if !isAlertField(id) {
			continue
		}
		rec, ok := decodeAlert(id, v)
		if !ok {
			bad++
			continue
		}
		recs[id] = rec
	}
	return recs, bad, nil
}

// newEpoch names a new alert hash: 16 random hex digits.
func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// update reads one alert field, lets fn change it, and writes it back only if
// nobody wrote the hash meanwhile (else it retries). fn returns false to write
// nothing. expire, when set, is the hash's expiry. The write bumps the hash's
// version and records the id in the period's AlertChanges with it, in the
// same MULTI, so a reader that knows version V finds every id written since.
func (s *AlertStore) update(ctx context.Context, period, id string, expire time.Time, fn func(rec *StoredAlert, ok bool) bool) (bool, error) {
	wrote, err := s.updateMany(ctx, period, []string{id}, expire, func(_ int, rec *StoredAlert, ok bool) bool { return fn(rec, ok) })
	return len(wrote) == 1 && wrote[0], err
}

// updateMany is update of several alert fields of one period in one
// transaction: one WATCH on the hash, one pipelined read of every field, one
// MULTI writing those fn changed (fn is called with the index of each id, in
// order; an id listed twice sees what the earlier call made of it). Each
// write takes the next version (the hash's version moves by the number of
// writes, each id scored in AlertChanges with its own), as that many update
// calls would; a write by anyone else between the read and the MULTI makes
// the whole batch read and judge again, so every fn decides on the record as
// it stands when the batch is written. wrote[i] says whether ids[i]'s change
// was written.
func (s *AlertStore) updateMany(ctx context.Context, period string, ids []string, expire time.Time, fn func(i int, rec *StoredAlert, ok bool) bool) (wrote []bool, err error) {
	key, changes := s.keys.Alerts(period), s.keys.AlertChanges(period)
	wrote = make([]bool, len(ids))
	what := "alert " + ids[0]
	if len(ids) > 1 {
		what = fmt.Sprintf("%d alerts (%s…)", len(ids), ids[0])
	}
	fields := make([]string, 0, len(ids)+2)
	fields = append(fields, ids...)
	fields = append(fields, alertVersionField, alertEpochField)
	for range 50 {
		err := s.c.Watch(ctx, func(tx *redis.Tx) error {
			clear(wrote)
			var hm *redis.SliceCmd
			var ttl *redis.DurationCmd
			var top *redis.ZSliceCmd
			if _, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
				hm = p.HMGet(ctx, key, fields...)
				ttl = p.PTTL(ctx, key)
				top = p.ZRangeWithScores(ctx, changes, -1, -1)
				return nil
			}); err != nil {
				return err
			}
			vals := hm.Val()
			if len(vals) != len(fields) {
				return fmt.Errorf("HMGET gave %d values for %d fields", len(vals), len(fields))
			}
			type state struct {
				rec StoredAlert
				ok  bool
			}
			var seen map[string]*state // only when an id is listed twice
			if len(ids) > 1 {
				seen = make(map[string]*state, len(ids))
			}
			vals2 := make([]string, len(ids)) // each written id's value ("": unchanged)
			n := 0
			for i, id := range ids {
				st := seen[id]
				if st == nil {
					st = &state{}
					raw, ok := vals[i].(string)
					st.ok = ok
					if ok && json.Unmarshal([]byte(raw), &st.rec) != nil {
						st.rec, st.ok = StoredAlert{}, false // a foreign value: replaced
					}
					if seen != nil {
						seen[id] = st
					}
				}
				if !fn(i, &st.rec, st.ok) {
					continue
				}
				val, err := json.Marshal(&st.rec)
				if err != nil {
					return err
				}
				st.ok = true
				vals2[i] = string(val)
				wrote[i] = true
				n++
			}
			if n == 0 {
				return nil
			}
			version, _ := vals[len(ids)].(string)
			v, _ := strconv.ParseInt(version, 10, 64)
			v = max(v, 0)
			epoch, _ := vals[len(ids)+1].(string)
			if t := top.Val(); len(t) > 0 && t[0].Score >= float64(v+1) {
				// the version went back by hand (redis-cli HDEL or HSET of
				// it): the changes set is ahead of the writes to come and
				// would make every reader read in full at each of them
				epoch = ""
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				hset := make([]any, 0, 2*n+4)
				zs := make([]redis.Z, 0, n)
				for i, id := range ids {
					if !wrote[i] {
						continue
					}
					v++
					hset = append(hset, id, vals2[i])
					zs = append(zs, redis.Z{Score: float64(v), Member: id})
				}
				hset = append(hset, alertVersionField, v)
				if epoch == "" {
					// a new hash (or one written before versions, or whose
					// version went back): a changes set left from an older
					// one says nothing of it
					p.Del(ctx, changes)
					hset = append(hset, alertEpochField, newEpoch())
				}
				p.HSet(ctx, key, hset...)
				p.ZAdd(ctx, changes, zs...)
				switch {
				case !expire.IsZero():
					p.ExpireAt(ctx, key, expire)
					p.ExpireAt(ctx, changes, expire)
				case ttl.Val() > 0:
					p.PExpire(ctx, changes, ttl.Val())
				}
				return nil
			})
			if err != nil {
				clear(wrote)
			}
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return make([]bool, len(ids)), fmt.Errorf("write %s: %w", what, err)
		}
		return wrote, nil
	}
	return make([]bool, len(ids)), fmt.Errorf("write %s: too many concurrent changes", what)
}

// ClaimOptions say who delivers a claimed transition.
type ClaimOptions struct {
	// Owner, when set, leases the delivery to that instance until LeaseUntil;
	// else it waits for an instance with sinks (TakeDelivery).
	Owner      string
	LeaseUntil time.Time
	// Delivered records the transition as already delivered (an instance that
	// could not reach Redis announced it on its own and records it afterwards).
	Delivered bool
	// Expire is the period hash's expiry (zero: keep the one it has).
	Expire time.Time
}

// Claim records a transition unless another instance already made it: a
// firing claim needs the alert absent from the period, a resolved claim needs
// it firing. claimed is true when this call made it. opt.Owner gets the
// delivery's lease; for a resolution whose firing is still being delivered,
// the owner sends it to each sink only once the firing is done for that sink
// (Delivery.DoneFor), so each sink gets firing, then resolved.
func (s *AlertStore) Claim(ctx context.Context, tr model.AlertTransition, summary string, opt ClaimOptions) (claimed bool, err error) {
	return s.update(ctx, tr.Alert.Period, tr.Alert.ID, opt.Expire, func(rec *StoredAlert, ok bool) bool {
		return claimInto(rec, ok, &tr, summary, &opt)
	})
}

// claimInto is Claim's rule: it makes rec (ok: present) the record of the
// transition tr and reports true, or leaves it and reports false when the
// transition is not the alert's next (another instance made it).
func claimInto(rec *StoredAlert, ok bool, tr *model.AlertTransition, summary string, opt *ClaimOptions) bool {
	switch tr.Status {
	case model.AlertFiring:
		if ok {
			return false
		}
	case model.AlertResolved:
		if !ok || rec.Status != model.AlertFiring {
			return false
		}
	default:
		return false
	}
	rec.AlertRecord.Apply(tr) // the one rule of what a record keeps (the model's tests record by it too)
	d := Delivery{Transition: *tr, Summary: summary, Done: opt.Delivered}
	if opt.Owner != "" && !opt.Delivered {
		d.Owner, d.LeaseUntil = opt.Owner, opt.LeaseUntil
	}
	rec.Deliveries = append(rec.Deliveries, d)
	return true
}

// ClaimRequest is one transition for ClaimAll: what Claim takes.
type ClaimRequest struct {
	Transition model.AlertTransition
	Summary    string
	Options    ClaimOptions
}

// ClaimBatch is how many transitions ClaimAll claims in one transaction. At
// 100k workspaces a first judgement fires ~44k alerts: claimed one
// transaction each (five round trips) they took minutes of a watcher's
// cycles; in batches a few seconds. Bounded so that a batch that loses a
// race with another instance's write reads and judges again only this many.
const ClaimBatch = 256

// ClaimAll is Claim of many transitions, in one transaction per ClaimBatch
// of them of one period and expiry (one WATCH of the period's hash, one
// read of every field, one MULTI): each is claimed or not exactly as Claim
// would, against the record as it stands when its batch is written, so of
// two instances claiming the same transitions each is claimed by one.
// claimed[i] reports reqs[i]. On an error the batches already written stay
// claimed (claimed says which) and the rest are not; the error is the first.
func (s *AlertStore) ClaimAll(ctx context.Context, reqs []ClaimRequest) (claimed []bool, err error) {
	claimed = make([]bool, len(reqs))
	type group struct {
		period string
		expire time.Time
	}
	var order []group
	by := map[group][]int{}
	for i := range reqs {
		g := group{reqs[i].Transition.Alert.Period, reqs[i].Options.Expire}
		if _, ok := by[g]; !ok {
			order = append(order, g)
		}
		by[g] = append(by[g], i)
	}
	for _, g := range order {
		for idx := range slices.Chunk(by[g], ClaimBatch) {
			ids := make([]string, len(idx))
			for j, i := range idx {
				ids[j] = reqs[i].Transition.Alert.ID
			}
			wrote, werr := s.updateMany(ctx, g.period, ids, g.expire, func(j int, rec *StoredAlert, ok bool) bool {
				r := &reqs[idx[j]]
				return claimInto(rec, ok, &r.Transition, r.Summary, &r.Options)
			})
			if werr != nil {
				err = cmp.Or(err, werr)
				continue
			}
			for j, i := range idx {
				claimed[i] = wrote[j]
			}
		}
	}
	return claimed, err
}

// TakeDelivery leases delivery idx of an alert (idx < 0: its oldest pending
// one) to owner until leaseUntil, when it is not done and has no owner, its
// lease ran out at now, or owner already holds it. It returns the delivery's
// index and the record as written. A resolution may be taken while its firing
// is still being delivered: the taker sends it to a sink only once the firing
// is done for that sink (Delivery.DoneFor).
func (s *AlertStore) TakeDelivery(ctx context.Context, period, id string, idx int, owner string, now, leaseUntil time.Time) (rec StoredAlert, taken int, ok bool, err error) {
	want := idx
	ok, err = s.update(ctx, period, id, time.Time{}, func(r *StoredAlert, found bool) bool {
		if !found {
			return false
		}
		i := want
		if i < 0 {
			i = r.Pending()
		}
		if i < 0 || i >= len(r.Deliveries) || r.Deliveries[i].Done {
			return false
		}
		d := &r.Deliveries[i]
		if d.Owner != "" && d.Owner != owner && now.Before(d.LeaseUntil) {
			return false
		}
		d.Owner, d.LeaseUntil = owner, leaseUntil
		rec, taken = *r, i
		return true
	})
	return rec, taken, ok, err
}

// Report records sinks' results (by sink name; none to only extend the
// lease) for delivery idx of an alert and extends owner's lease to leaseUntil;
// done marks the delivery finished. It writes nothing and returns false when
// owner no longer holds the lease (another instance took over) or the delivery
// is done: the owner must not send it again.
func (s *AlertStore) Report(ctx context.Context, period, id string, idx int, owner string, results map[string]SinkResult, done bool, leaseUntil time.Time) (bool, error) {
	return s.update(ctx, period, id, time.Time{}, func(r *StoredAlert, ok bool) bool {
		if !ok || idx >= len(r.Deliveries) {
			return false
		}
		d := &r.Deliveries[idx]
		if d.Owner != owner || d.Done {
			return false
		}
		for sink, res := range results {
			if d.Sinks == nil {
				d.Sinks = map[string]SinkResult{}
			}
			res.Err, _ = model.SanitizeMax(res.Err, MaxStoredErr)
			d.Sinks[sink] = res
		}
		d.Done, d.LeaseUntil = done, leaseUntil
		return true
	})
}

// StreamEnd returns the last id the usage stream has given out (its
// last-generated-id, which trimming keeps), "0-0" when the stream does not
// exist (a Redis that lost its data, or was flushed). An alert fired at a
// later id, or a ledger that has read further, holds a history this Redis no
// longer has: it came back older (a restart without its data, a restore, a
// failover to a replica that lagged). O(1).
func (s *AlertStore) StreamEnd(ctx context.Context) (string, error) {
	info, err := s.c.XInfoStream(ctx, s.keys.Stream()).Result()
	switch {
	case err != nil && strings.Contains(err.Error(), "no such key"):
		return "0-0", nil
	case err != nil:
		return "", fmt.Errorf("read the stream's end: %w", err)
	}
	return info.LastGeneratedID, nil
}
