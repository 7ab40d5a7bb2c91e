package feed

import (
	"time"

	"mavtop/model"
)

// compareIDs orders two stream ids; an unparsable id sorts first.
func compareIDs(a, b string) int { return model.CompareStreamIDs(a, b) }

// idTime returns the time in a stream id (when Redis added the entry).
func idTime(id string) time.Time {
	ms, _, ok := model.ParseStreamID(id)
	if !ok {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}
