package model

import (
	"math"
	"time"
)

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
	// Beyond is set when a bounded read of the stream's newest entries
	// (NewestProducer) found no producer entry among them and the stream
	// holds older ones: Beyond is how many were read, the newest producer
	// entry is older than every one of them, and Over is how long ago the
	// oldest of them was written (0 when its id carries no time). The age is
	// then unknown, at least Over: neither fresh nor "no event".
	Beyond int
	Over   time.Duration
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
// cannot tell (ids ahead of the clock, no producer entry within a bounded
// read, no entry at all), with the words a status line says it in: "no
// event for 20 min", "ids 10 min ahead of clock: freshness unknown", "no
// event for over 2 h", "no event in the newest 256 entries: freshness
// unknown", "no event". A limit of 0 or less judges nothing.
func (f Freshness) Stale(limit time.Duration) (bool, string) {
	switch {
	case limit <= 0:
		return false, ""
	case f.Ahead > 0:
		return true, AheadWords(f.Ahead) + ": freshness unknown"
	case f.Beyond > 0 && f.Over > limit:
		return true, "no event for over " + HumanizeDuration(f.Over)
	case f.Beyond > 0:
		return true, BeyondWords(f.Beyond) + ": freshness unknown"
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

// BeyondWords says that no producer entry was among the newest n entries
// read: "no event in the newest 256 entries".
func BeyondWords(n int) string {
	return "no event in the newest " + FormatCredits(int64(n)) + " entries"
}

// MaxClockBehind is how far an event's ts may lie before the time in its
// stream id and still date the event. Beyond it the producer's clock is taken
// to be wrong and the id's time (Redis's clock, when the counters moved)
// dates the event instead: a producer whose clock runs 20 minutes slow would
// otherwise show a workspace burning thousands of credits a second as "idle,
// 0/h, last event 20 min ago" and make check --stale call a live feed stale
// (README, "Whose clock dates an event"). The burn, idle and the row's age
// take the same time (Event.At).
const MaxClockBehind = time.Minute

// idTimeFloor: stream ids whose milliseconds are below it (before 2001-09-09)
// carry no wall-clock time (hand-made ids such as "1-0"), so they date nothing.
const idTimeFloor = 1_000_000_000_000

// TrustedTime is when an event happened as far as mavtop can tell, in unix
// ms: what dates its freshness (check --stale, the newest entries read), its
// burn, idle and its workspace's age (Event.At). It is its ts, unless that
// is after idMs (a producer's clock running fast cannot date an event after
// the server took it) or more than MaxClockBehind before it (one running
// slow cannot date it long before); then idMs. idMs 0 or a hand-made id's
// time: ts alone.
func TrustedTime(ts, idMs int64) int64 {
	if idMs < idTimeFloor {
		return ts
	}
	if ts > idMs || ts < idMs-MaxClockBehind.Milliseconds() {
		return idMs
	}
	return ts
}

// TrustedTimeRead is TrustedTime for an entry read at readMs (unix ms, by the
// reader's clock; 0: not known, TrustedTime alone). An id time more than
// MaxClockSkew ahead of the read is no clock: Redis keeps ids increasing, so
// one entry XADDed with an id ahead (a hand-made id, a ClockIDs writer whose
// clock runs fast) puts every later "*" id as far ahead, until the clock
// passes it. The id then says only that the entry was written by readMs,
// and ts dates it, never later than readMs: a watching dashboard, a fresh
// start and check date it alike, and an event spent 3 minutes ago is not
// "now" because its id says 20 minutes from now (before, issue 11, such
// ids froze a stopped workspace's burn and age until the clock reached
// them). Otherwise TrustedTime of ts and the id, never later than readMs.
func TrustedTimeRead(ts, idMs, readMs int64) int64 {
	if readMs <= 0 {
		return TrustedTime(ts, idMs)
	}
	if idMs >= idTimeFloor && idMs > readMs+MaxClockSkew.Milliseconds() {
		return min(ts, readMs)
	}
	return min(TrustedTime(ts, idMs), readMs)
}

// At is when the event happened as far as mavtop can tell (TrustedTimeRead
// of its ts, the time in its stream id and when it was read), in unix ms: it
// dates the burn, idle, a row's age, freshness, the crossings the event
// fires (Crossing.TS, a settings or budget entry's too), the 402 log's row
// (Refusal.At) and a launch in the estimator's job log, and orders a 402
// read back against a raise of the allocation or a limit (Backfill). The
// billing period is still its TS's (the producer chose the counters' key by
// its own clock). An event without an id (not read from the stream): TS.
func (e *Event) At() int64 {
	ms, _, ok := ParseStreamID(e.ID)
	if !ok || ms > math.MaxInt64 {
		return e.TS
	}
	return TrustedTimeRead(e.TS, int64(ms), e.ReadAt)
}

// EventTime is when an entry's event happened as far as freshness can tell,
// read at now: TrustedTimeRead of its ts, its stream id's time and now, so
// never later than now and never dated by an id ahead of now. idTime zero:
// ts alone, never later than now.
func EventTime(ts int64, idTime, now time.Time) int64 {
	if idTime.IsZero() {
		return min(ts, now.UnixMilli())
	}
	return TrustedTimeRead(ts, idTime.UnixMilli(), now.UnixMilli())
}

// FeedsFreshness reports whether a stream entry of kind k says the producer
// is still sending, the question freshness answers ("is my producer still
// sending usage?"): a usage event, served or refused (a 402), or a recharge
// the billing side recorded. A settings entry — `budget set`, `budget pull`,
// a period change, a hand edit announced — is an operator's or a cron's, not
// the producer's: it moves neither the dashboard header's idle and rate, nor
// /metrics' feed_last_event_timestamp_seconds, nor check --stale (README,
// "Freshness"). Before (issue 11), the header and /metrics counted it, check
// did not: a cron running `budget pull` every minute hid a producer stopped
// for an hour from the README's `time() - last_event` alert. An entry that
// cannot be decoded says nothing of who wrote it, and does not count either.
func FeedsFreshness(k Kind) bool { return k != KindSettings }

// ProducerTime is when a stream entry says the producer last sent, in unix
// ms: its event's time (EventTime: its ts, dated by its id's time idTime
// when the producer's clock is wrong, never later than now) when it feeds
// freshness (FeedsFreshness; an entry that did not decode, err non-nil,
// says nothing of who wrote it); ok is false for any other entry. It is the
// one rule by which a start or a re-read of the dashboard, watch and serve
// (NewestProducer) and check (feed.ReadNewestIn) find the producer's newest
// entry; a subscriber following the stream counts the same entries
// (FeedsFreshness) and dates each by its own clock as it reads it.
func ProducerTime(e *Event, err error, idTime, now time.Time) (int64, bool) {
	if err != nil || !FeedsFreshness(e.Kind) {
		return 0, false
	}
	return EventTime(e.TS, idTime, now), true
}

// NewestProducer is what a bounded read of a stream's newest entries, newest
// first, found of its newest producer entry (ProducerTime): when it was
// written, or that it is older than every entry read (the bound came first:
// all of them settings entries or undecodable), or that the stream holds
// none. A start or a re-read seeds freshness from it, never from the
// stream's newest id: a `budget set` written after the producers died an
// hour ago made a fresh start read "idle 0 s" and /metrics' last event now,
// while a dashboard watching all along said an hour (issue 11).
type NewestProducer struct {
	// Found: a producer entry was among the entries read. At is its time
	// (unix ms, ProducerTime), 0 when its id is Ahead of the clock (more
	// than MaxClockSkew): its time then says nothing (JudgeFreshness).
	Found bool
	At    int64
	Ahead time.Duration
	// Read is how many entries were looked at, Oldest the time in the id of
	// the oldest of them (unix ms, never after now; 0 for an id without a
	// clock's time), Whole that they reach the stream's first entry.
	Read   int
	Oldest int64
	Whole  bool
}

// See takes the next entry read, older than every one before, and reports
// whether the newest producer entry is found (nothing more need be read).
// fields are the entry's as read (DecodeEvent's).
func (n *NewestProducer) See(id string, fields map[string]any, now time.Time) bool {
	if n.Found {
		return true
	}
	n.Read++
	ms, _, ok := ParseStreamID(id)
	var it time.Time
	if ok && ms <= math.MaxInt64 {
		it = time.UnixMilli(int64(ms))
	}
	n.Oldest = 0
	if !it.IsZero() && it.UnixMilli() >= idTimeFloor {
		n.Oldest = min(it.UnixMilli(), now.UnixMilli())
	}
	e, err := DecodeEvent(id, fields)
	at, ok := ProducerTime(&e, err, it, now)
	if !ok {
		return false
	}
	n.Found = true
	if ahead := JudgeFreshness(it, now).Ahead; ahead > 0 {
		n.Ahead = ahead
		return true
	}
	n.At = at
	return true
}

// Freshness judges what was found at now: JudgeFreshness of the producer
// entry's time, Beyond and Over when the bound came first, no entry when
// the stream holds none.
func (n NewestProducer) Freshness(now time.Time) Freshness {
	switch {
	case n.Found && n.Ahead > 0:
		return Freshness{Ahead: n.Ahead}
	case n.Found:
		return JudgeFreshness(time.UnixMilli(n.At), now)
	case n.Whole || n.Read == 0:
		return Freshness{}
	}
	f := Freshness{Beyond: n.Read}
	if n.Oldest > 0 {
		f.Over = max(now.Sub(time.UnixMilli(n.Oldest)), 0)
	}
	return f
}
