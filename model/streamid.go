package model

import (
	"strconv"
	"strings"
)

// ParseStreamID splits a Redis stream entry id "ms-seq" (or "ms") into its
// parts; ok is false when it is not one.
func ParseStreamID(s string) (ms, seq uint64, ok bool) {
	a, b, hasSeq := strings.Cut(s, "-")
	ms, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if !hasSeq {
		return ms, 0, true
	}
	if seq, err = strconv.ParseUint(b, 10, 64); err != nil {
		return 0, 0, false
	}
	return ms, seq, true
}

// CompareStreamIDs orders two stream ids (-1, 0, +1); an unparsable or empty
// id sorts first.
func CompareStreamIDs(a, b string) int {
	am, as, _ := ParseStreamID(a)
	bm, bs, _ := ParseStreamID(b)
	switch {
	case am != bm:
		if am < bm {
			return -1
		}
		return 1
	case as != bs:
		if as < bs {
			return -1
		}
		return 1
	}
	return 0
}

// ReadPosition is how far a ledger fed by the Pattern 1 counters has read
// Redis, by the server's clock (TIME, written as ServerTimeID gives it, so
// that it orders as a stream id does and CompareStreamIDs orders it): From
// is the server's time before its last full reading began (every change
// Redis made before it is in the ledger), To a time after its newest
// reading ended (no change after it is). The counters have no stream id to
// order judgements by (issue 11: one instance that had not polled yet
// resolved what another fired); two readings are ordered by these instead.
// A ledger fed by the stream has none (zero): its stream id is both.
type ReadPosition struct {
	From, To string
}

// ServerTimeID writes a server time (Redis's TIME: seconds and
// microseconds) as a stream id "<unix ms>-<µs within the ms>", so that
// CompareStreamIDs orders two of them as the times are ordered, to the
// microsecond.
func ServerTimeID(sec, usec int64) string {
	us := sec*1_000_000 + usec
	return strconv.FormatInt(us/1000, 10) + "-" + strconv.FormatInt(us%1000, 10)
}
