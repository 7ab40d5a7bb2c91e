package feed

import (
	"strconv"
	"sync"
)

// ClockIDs has the stream's writers in one process (publishers, settings
// stores) write each entry's id from the entry's ts, by the writers' clock,
// instead of Redis's ("XADD key <ts>-*"). mavtop dates an event by its id's
// time when its ts lies more than model.MaxClockBehind before it or any time
// after it (model.TrustedTime: a producer's clock that is wrong), so writers
// whose clock runs apart from Redis's on purpose — the demo's history of the
// period so far, a scaled clock, tests' fixed clocks — must write ids by that
// clock for their events to be dated by it.
//
// An id is never before the last one it gave (ts going back gets the last
// id's millisecond), and the writers sharing it write one at a time (a MULTI
// holds it until EXEC), so the ids it gives always increase. Every writer of
// the stream must share it: an id Redis gave later than a ts ("*", another
// process) makes the next XADD of an earlier ts fail. For those setups only;
// producers leave ids to Redis. The zero value is ready; safe for concurrent
// use.
type ClockIDs struct {
	mu   sync.Mutex
	last int64 // unix ms of the last id given
}

// lock holds the ids for one write (until unlock); a nil ClockIDs holds nothing.
func (c *ClockIDs) lock() {
	if c != nil {
		c.mu.Lock()
	}
}

func (c *ClockIDs) unlock() {
	if c != nil {
		c.mu.Unlock()
	}
}

// id returns the XADD id of an entry whose ts (unix ms) is ts, under lock:
// "*" (Redis's clock) from a nil ClockIDs, else "<ms>-*" with ms the later of
// ts and the last id's, at least 1.
func (c *ClockIDs) id(ts int64) string {
	if c == nil {
		return "*"
	}
	c.last = max(c.last, ts, 1)
	return strconv.FormatInt(c.last, 10) + "-*"
}
