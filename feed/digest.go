package feed

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// DigestShards is how many shards the digest splits the workspaces into: the
// audit reads 3 fields per shard that has any count (at most 3,072 fields,
// under a millisecond of Redis time) whatever the number of workspaces.
const DigestShards = 1024

// DigestShard is the digest shard of workspace ws: CRC-32 (IEEE, as Python's
// zlib.crc32) of its bytes, modulo DigestShards. Every producer must compute it
// the same way, so it is part of the wire contract.
func DigestShard(ws string) int {
	return int(crc32.ChecksumIEEE([]byte(ws)) % DigestShards)
}

// The digest hash's fields, one per shard and counter: "u:<shard>" sums the
// credits used, "r:<shard>" the credits recharged and "x:<shard>" the HTTP
// 402s of the shard's workspaces in the period.
const (
	digestUsed      = "u:"
	digestRecharged = "r:"
	digestRefused   = "x:"
)

// DigestUsedField, DigestRechargedField and DigestRefusedField name the digest
// hash field a producer adds an event's credits (used, recharged) or its 402
// (refused, by 1) to, in the same MULTI as the counters.
func DigestUsedField(ws string) string { return digestUsed + strconv.Itoa(DigestShard(ws)) }

// DigestRechargedField: see DigestUsedField.
func DigestRechargedField(ws string) string {
	return digestRecharged + strconv.Itoa(DigestShard(ws))
}

// DigestRefusedField: see DigestUsedField.
func DigestRefusedField(ws string) string { return digestRefused + strconv.Itoa(DigestShard(ws)) }

// digest is the per-shard sums of a period's counters: what producers keep in
// the digest hash, and what the audit's tally keeps of what was delivered.
type digest struct {
	used, recharged, refused [DigestShards]int64
}

// parseDigest reads a digest hash as stored. ok is false when a field is not
// one a producer writes or its value is no integer: the hash is then not a
// digest the audit can trust (nothing from outside is), and the audit reads
// the counters instead.
func parseDigest(m map[string]string) (d digest, ok bool) {
	for f, v := range m {
		kind, num, found := strings.Cut(f, ":")
		shard, err := strconv.Atoi(num)
		// the shard as a producer writes it (strconv.Itoa): "u:01" or "u:+1"
		// would read as shard 1 beside "u:1", the one kept chosen at random
		if !found || err != nil || shard < 0 || shard >= DigestShards || strconv.Itoa(shard) != num {
			return digest{}, false
		}
		n, err := model.ParseCounter(v)
		if err != nil {
			return digest{}, false
		}
		switch kind + ":" {
		case digestUsed:
			d.used[shard] = n
		case digestRecharged:
			d.recharged[shard] = n
		case digestRefused:
			d.refused[shard] = n
		default:
			return digest{}, false
		}
	}
	return d, true
}

// mismatched counts the shards in which d and o differ in any counter.
func (d *digest) mismatched(o *digest) int {
	n := 0
	for i := range DigestShards {
		if d.used[i] != o.used[i] || d.recharged[i] != o.recharged[i] || d.refused[i] != o.refused[i] {
			n++
		}
	}
	return n
}

// DefaultAuditSlice is how many hash slots one audit's HSCAN of the used,
// recharged and settings hashes visits (SubscriberOptions.AuditSlice): about
// that many workspaces. A hash of up to a few thousand workspaces is read back
// whole by every audit; at 100,000 workspaces (131,072 slots) a round takes
// 131 audits, and the full read every fullAuditEveryDigest audits comes first.
// Measured: a slice of 5,000 slots of the settings hash cost Redis about as
// much as the rest of the audit together, so the slice is kept small.
const DefaultAuditSlice = 1000

// auditSlices are the parts of the used, recharged and settings hashes (in that
// order) one audit reads with HSCAN, and the cursors to go on from.
type auditSlices struct {
	kv     [3][]string
	cursor [3]uint64
	// fields is HLEN of the used and recharged hashes, read in the same
	// MULTI. A slice never holds a deleted field, so a DEL of
	// the used hash or an HDEL of a workspace's field is found by counting:
	// every workspace shown with credits used (recharged) needs its field.
	fields [2]int64
}

// readDigest is the audit's read when producers keep the digest: in one MULTI
// the period's digest hash (at most 3 × DigestShards fields), the next slice
// of the used, recharged and settings hashes (HSCAN from cursor, count slots)
// and the stream's last id, with the run id asked just before. O(shards +
// count), not O(workspaces).
//
// The digest finds any write that kept it, in every workspace at once; the
// slices find, over a round of audits, a writer that changed a counter or a
// setting with neither its entry nor the digest.
func readDigest(ctx context.Context, c redis.UniversalClient, keys Keys, p model.Period, cursor [3]uint64, count int64) (*SnapshotResult, error) {
	runID, err := serverRunID(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("read digest: %w", err)
	}
	var dg *redis.MapStringStringCmd
	var scans [3]*redis.ScanCmd
	var lens [2]*redis.IntCmd
	var info *redis.XInfoStreamCmd
	var period *redis.StringCmd
	_, err = c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		dg = pipe.HGetAll(ctx, keys.Digest(p.Key))
		period = pipe.HGet(ctx, keys.Settings(), PeriodSettingsField)
		for i, key := range []string{keys.Used(p.Key), keys.Recharged(p.Key), keys.Settings()} {
			scans[i] = pipe.HScan(ctx, key, cursor[i], "", count)
		}
		lens[0], lens[1] = pipe.HLen(ctx, keys.Used(p.Key)), pipe.HLen(ctx, keys.Recharged(p.Key))
		info = pipe.XInfoStream(ctx, keys.Stream())
		return nil
	})
	if dg != nil && dg.Err() != nil {
		return nil, fmt.Errorf("read digest: %w", dg.Err())
	}
	var sl auditSlices
	for i, sc := range scans {
		if sc == nil || sc.Err() != nil {
			return nil, fmt.Errorf("read digest: %w", err)
		}
		sl.kv[i], sl.cursor[i] = sc.Val()
	}
	for i, l := range lens {
		if l == nil || l.Err() != nil {
			return nil, fmt.Errorf("read digest: %w", err)
		}
		sl.fields[i] = l.Val()
	}
	if err != nil && !errors.Is(err, redis.Nil) && (info == nil || info.Err() == nil || !isNoSuchKey(info.Err())) {
		return nil, fmt.Errorf("read digest: %w", err)
	}
	if info == nil || info.Err() != nil && !isNoSuchKey(info.Err()) {
		return nil, fmt.Errorf("read digest: %w", cmpErr(info))
	}
	if err := sameServer(ctx, c, runID); err != nil {
		return nil, fmt.Errorf("read digest: %w", err)
	}
	streamID := "0-0"
	if info.Err() == nil && info.Val().LastGeneratedID != "" {
		streamID = info.Val().LastGeneratedID
	}
	res := &SnapshotResult{Snap: &model.Snapshot{Period: p, StreamID: streamID}, RunID: runID, digest: dg.Val(), hasDigest: true, slices: &sl}
	res.PeriodConfig, res.periodAsked = periodAnswer(period)
	return res, nil
}

// agreesWith reports whether every field of the slices read equals what t
// holds: used and recharged per workspace, a setting's checksum per field.
// Fields a snapshot skips (no workspace id) are skipped here too; a field
// that holds no integer ≥ 0 agrees when t has its workspace unreadable.
func (t *tally) agreesWith(sl *auditSlices) bool {
	var used, recharged int64
	for _, w := range t.ws {
		if w.used != 0 {
			used++
		}
		if w.recharged != 0 {
			recharged++
		}
	}
	if used > sl.fields[0] || recharged > sl.fields[1] {
		return false // a field, or the whole hash, deleted behind the stream
	}
	for i, kv := range sl.kv {
		for j := 0; j+1 < len(kv); j += 2 {
			f, v := kv[j], kv[j+1]
			if i == 2 {
				if f == PeriodSettingsField {
					continue
				}
				ws := f
				if w, _, ok := model.SplitProjectKey(f); ok {
					ws = w
				}
				if !model.IsID(ws) {
					continue
				}
				if x, ok := t.settings[f]; !ok || x != t.sum(f, v) {
					return false
				}
				continue
			}
			n, err := model.ParseCounter(v)
			if !model.IsID(f) {
				continue
			}
			if err != nil || n < 0 { // unreadable (model.Snapshot.Unreadable): shown so?
				if w := t.ws[f]; w == nil || !w.unreadable {
					return false
				}
				continue
			}
			var have int64
			if w := t.ws[f]; w != nil {
				have = w.used
				if i == 1 {
					have = w.recharged
				}
			}
			if have != n {
				return false
			}
		}
	}
	return true
}
