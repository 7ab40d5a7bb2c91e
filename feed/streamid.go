package feed

import (
	"strconv"
	"strings"
	"time"
)

// streamID is a parsed stream entry id "ms-seq".
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, bool) {
	a, b, ok := strings.Cut(s, "-")
	ms, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return streamID{}, false
	}
	if !ok {
		return streamID{ms: ms}, true
	}
	seq, err := strconv.ParseUint(b, 10, 64)
	if err != nil {
		return streamID{}, false
	}
	return streamID{ms, seq}, true
}

// compareIDs orders two stream ids; an unparsable id sorts first.
func compareIDs(a, b string) int {
	x, _ := parseStreamID(a)
	y, _ := parseStreamID(b)
	switch {
	case x.ms != y.ms:
		if x.ms < y.ms {
			return -1
		}
		return 1
	case x.seq != y.seq:
		if x.seq < y.seq {
			return -1
		}
		return 1
	}
	return 0
}

// idTime returns the time in a stream id (when Redis added the entry).
func idTime(id string) time.Time {
	x, ok := parseStreamID(id)
	if !ok {
		return time.Time{}
	}
	return time.UnixMilli(int64(x.ms))
}
