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
