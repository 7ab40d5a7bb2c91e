package model

import "time"

// MaxClockSkew is how far ahead of this clock a stream entry's time may be
// before it is from the future: within it the clocks merely disagree (and the
// entry counts as written now), beyond it a producer's or the server's clock
// runs fast, or the id was given explicitly.
const MaxClockSkew = time.Second

// Freshness is the one judgement of how recent a feed's newest entry is, for
// the dashboard's header (lag, idle, ids ahead of clock), check --stale and
// /metrics. An entry from the future cannot pass for a fresh feed: its time
// says nothing of when it was written, so the feed's age is then unknown.
type Freshness struct {
	// Ahead is how far the newest entry's time is ahead of now, when more
	// than MaxClockSkew; 0 otherwise. While it is above 0 the age is unknown.
	Ahead time.Duration
	// Age is now minus the newest entry's time, never below 0; 0 while Ahead
	// is above 0 or when there is no entry (Known false).
	Age time.Duration
	// Known is true when there is an entry and its time is not ahead of the
	// clock: Age is then how long ago it was written.
	Known bool
}

// JudgeFreshness judges a feed whose newest entry's time is newest (the
// time in its stream id; zero: no entry) at now.
func JudgeFreshness(newest, now time.Time) Freshness {
	if newest.IsZero() {
		return Freshness{}
	}
	if ahead := newest.Sub(now); ahead > MaxClockSkew {
		return Freshness{Ahead: ahead}
	}
	return Freshness{Age: max(now.Sub(newest), 0), Known: true}
}

// Stale reports whether the feed has had no entry for longer than limit, or
// cannot tell (ids ahead of the clock, no entry at all), with the words a
// status line says it in: "no event for 20 min", "ids 10 min ahead of clock:
// freshness unknown", "no event". A limit of 0 or less judges nothing.
func (f Freshness) Stale(limit time.Duration) (bool, string) {
	switch {
	case limit <= 0:
		return false, ""
	case f.Ahead > 0:
		return true, AheadWords(f.Ahead) + ": freshness unknown"
	case !f.Known:
		return true, "no event"
	case f.Age > limit:
		return true, "no event for " + HumanizeDuration(f.Age)
	}
	return false, ""
}

// AheadWords says how far ids are ahead of the clock: "ids 59 min ahead of
// clock" (the header's words and check's).
func AheadWords(d time.Duration) string {
	return "ids " + HumanizeDuration(d) + " ahead of clock"
}

// EventTime is when an entry's event happened as far as freshness can tell:
// its ts field, but never later than the time in its stream id (a producer's
// clock running fast cannot date an event after the server took it) nor
// than now. idTime zero: ts alone.
func EventTime(ts int64, idTime, now time.Time) int64 {
	if !idTime.IsZero() {
		ts = min(ts, idTime.UnixMilli())
	}
	return min(ts, now.UnixMilli())
}
