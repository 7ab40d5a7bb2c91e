package model

import "time"

// Burn history is kept in fixed buckets so memory is O(workspaces), never O(events).
const (
	// BucketWidth is the resolution of burn rates and charts.
	BucketWidth = 10 * time.Second
	bucketMs    = int64(BucketWidth / time.Millisecond)
	// HistoryBuckets is how many buckets each ring holds: one hour.
	HistoryBuckets = 360
	// History is the span a burn ring covers; longer windows are clipped to it.
	History = HistoryBuckets * BucketWidth
)

// burnRing holds credits per BucketWidth for the last History, by event time.
// Slot i holds absolute bucket idx[i]; a slot whose idx is stale is empty.
type burnRing struct {
	idx [HistoryBuckets]int64
	sum [HistoryBuckets]int64
}

func (r *burnRing) add(ts, credits int64) {
	b := ts / bucketMs
	s := b % HistoryBuckets
	if r.idx[s] != b {
		if r.idx[s] > b {
			return // older than the ring reaches: it no longer counts for burn
		}
		r.idx[s], r.sum[s] = b, 0
	}
	r.sum[s] += credits
}

// sum returns credits in buckets [from, to] (absolute indexes, at most one ring).
func (r *burnRing) sumRange(from, to int64) int64 {
	if to-from >= HistoryBuckets {
		from = to - HistoryBuckets + 1
	}
	var total int64
	for b := from; b <= to; b++ {
		s := b % HistoryBuckets
		if s < 0 {
			continue
		}
		if r.idx[s] == b {
			total += r.sum[s]
		}
	}
	return total
}
