package feed

import (
	"fmt"
	"math"
	"time"

	"mavtop/estimator"
	"mavtop/model"
)

// Msg is what a Subscriber hands its caller: *SnapshotMsg, *UsedByMsg,
// *BatchMsg, *ConnMsg, *MalformedMsg or *StatsMsg. Messages arrive in stream order on one goroutine.
type Msg interface{ feedMsg() }

// Reason says why a snapshot was (re)read.
type Reason string

const (
	// ReasonStart is the first snapshot of a subscription.
	ReasonStart Reason = "start"
	// ReasonGap: the stream was trimmed past the id the subscriber had read to,
	// so entries it never saw may be gone; the counters are read afresh.
	ReasonGap Reason = "gap"
	// ReasonRollover: the billing period ended; counters start afresh.
	ReasonRollover Reason = "rollover"
	// ReasonPeriod: the billing-period config changed.
	ReasonPeriod Reason = "period"
	// ReasonReset: the stream is behind the subscriber (deleted, or a server
	// restarted without its data), or the server was flushed (fewer credits
	// and none of the stream read left, however much was written since), so
	// nothing read before can be trusted.
	ReasonReset Reason = "reset"
	// ReasonResync: the caller asked for it (Subscriber.Resync).
	ReasonResync Reason = "resync"
	// ReasonFailover: after a reconnect another server answers (a Sentinel
	// failover, a DNS or proxy switch); it may lack writes the old one had.
	ReasonFailover Reason = "failover"
	// ReasonRestart: the server restarted (its run id changed) and kept data;
	// the counters it holds now replace what was shown. An audit found it.
	ReasonRestart Reason = "restart"
	// ReasonDrift: an audit found the counters and what the stream said apart
	// (a disagreeing entry, a counter written without its entry, a settings
	// entry without its hash write); the counters replace what was shown.
	ReasonDrift Reason = "drift"
	// ReasonTrim: entries mavtop had read from the last hour were removed by
	// another tool (XTRIM, XDEL, a producer's short MAXLEN) while the counters
	// stayed. The counters are re-read and what was derived from the entries
	// (ages, burn, OUT, the 402 log) is derived again from what the stream
	// still holds, as a mavtop started now would (SnapshotMsg.Rewound).
	ReasonTrim Reason = "trim"
)

// SnapshotMsg starts a new generation: replace everything with Snap (seed a
// fresh ledger with Rule), then apply the batches of the same Gen.
type SnapshotMsg struct {
	// Gen is the subscription generation, one more at each snapshot; batches of
	// an older generation must be dropped.
	Gen uint64
	// Snap holds the period's counters, settings and the stream id they include.
	Snap *model.Snapshot
	// Rule cuts the billing periods (from the stored period config).
	Rule model.PeriodRule
	// Reason says why the snapshot was read.
	Reason Reason
	// BadSettings maps settings hash fields that could not be used to why.
	BadSettings map[string]error
	// PeriodUnreadable says why the stored billing-period config cannot be
	// read (sanitised; Rule is then model.PeriodFallback), "" when it can.
	PeriodUnreadable string
	// BadCounters maps a counter that holds no integer ≥ 0 (a Pattern 1 key,
	// or a stream hash's "used:<ws>" field) to why: its workspace is left out
	// of Snap, so a viewer says so rather than drop it without a word.
	BadCounters map[string]error
	// At is when the snapshot was read (subscriber clock).
	At time.Time
	// History is the last hour of usage events the snapshot's counters include
	// (start snapshots only), newest first, for burn rates; HistoryFrom is how
	// far back it is complete.
	History     []model.Event
	HistoryFrom time.Time
	// Source says what the counters come from when it is not the stream
	// ("" for the stream; CounterLabel for the Pattern 1 counters), for the screen.
	Source string
	// Audited says the subscriber audits the counters on a cadence and
	// sends an AuditMsg at each agreement: a 402 from the stream is judged
	// by the refusals alerts once the counters are seen to hold it
	// (model.Ledger.SetAudited).
	Audited bool
	// DefaultAlerts are the thresholds of workspaces without their own, as the
	// hub was configured (nil: 50, 75, 90); every viewer's ledger uses them.
	DefaultAlerts []int
	// UsedDelta is the credits used the counters hold beyond what the previous
	// generation had delivered up to the stream id they were read at (entries
	// written after the delivered one are counted as delivered: negative is
	// fewer, e.g. what a restart lost, without what was written since), and
	// Changed the number of workspaces whose counters or settings differed.
	// Both are zero on a start, a rollover, or when nothing differed.
	// UsedDelta is exact however large the counters, clamped to ±MaxInt64
	// (never MinInt64).
	UsedDelta int64
	Changed   int
	// RechargedDelta is UsedDelta for the credits recharged: what the
	// counters hold beyond what was delivered (a recharge lost with a DEL of
	// the recharged hash is negative), compared and clamped alike. The 402s
	// are compared by a hash of each workspace's counts, not summed: a
	// refusal counter that differs shows in Changed only.
	RechargedDelta int64
	// Restarted is true when the server's run id changed since the last read.
	Restarted bool
	// Replaced, with ReasonReset: the server's whole dataset was replaced
	// under the same run id — the entry read last is gone from a stream that
	// was neither trimmed past it nor had it deleted, and holds entries
	// before and after it (an old master rejoining as a replica: REPLICAOF's
	// full sync; a restore by a tool). Nothing read before is of it: Rewound.
	Replaced bool
	// Rewound is true when the re-read went back in time (Reason is
	// ReasonReset or ReasonRestart, or a failover that changed counters), or
	// the stream lost entries of the last hour that were read (ReasonTrim): what
	// was shown came partly from events the server no longer holds, so the
	// ages, burn, forecasts and OUT derived from them are dropped with the
	// counters — a viewer starts a fresh ledger from Snap (LedgerState does)
	// and the hour before it is read back (HistoryMsg of this Gen), the way a
	// mavtop started now on the same Redis would show it.
	Rewound bool
	// NewPeriod is true when the re-read is of another billing period than
	// the generation it replaces (a rollover, another period rule): the new
	// period is judged from its own entries (Fresh).
	NewPeriod bool
	// ClockBack is true when that other period is an earlier one: the clock
	// stepped back across the boundary (NTP, a restored VM).
	ClockBack bool
	// Behind is true when the re-read's counters hold entries after the
	// last one delivered that it could not read (more than maxCatchUp, or
	// the read failed; model.Snapshot.UnappliedKnown false): a ledger cannot
	// apply them in order, so it is started afresh and the hour read back
	// (Fresh), as a start reads them. Before, such a re-read judged the OUT
	// rule from the counters alone: a recharge and a credits_exhausted 402
	// after it among 11,000 entries written before a resync read ok on the
	// dashboard that watched, OUT on a start and in check (hostile23 #1).
	Behind bool
	// Ledger, set by the hub for each viewer, is its own copy of the hub's
	// ledger already seeded from Snap (copy on write: the workspace states are
	// shared until one side changes them), so a viewer does not seed a ledger
	// of its own: at 100k workspaces that is seconds of CPU and hundreds of MB
	// per viewer. nil: seed one from Snap.
	Ledger *model.Ledger
	// copy is what Viewer.Next makes Ledger from, on the viewer's goroutine.
	copy *ledgerCopy
}

// Fresh reports whether every viewer starts a fresh ledger from m.Snap and
// the hour before it is read back for it (HistoryMsg of m.Gen), as at a
// start: when the re-read went back in time (Rewound), is of another
// billing period (NewPeriod), or could not read the entries it is ahead by
// (Behind). A new period is then judged from its own
// entries as a start reading them back judges them: before, a rollover's
// re-read judged it by its counters alone (a recharge and a
// credits_exhausted 402 after it, both in the stream before the re-read:
// ok on the dashboard that watched, OUT on a start and in check;
// hostile22 P). Fresh without Rewound loses nothing a start would show.
func (m *SnapshotMsg) Fresh() bool { return m.Rewound || m.NewPeriod || m.Behind }

// Note says in one line why the counters were re-read and what changed, for
// the screen and the log ("Redis restarted: counters re-read, −2,927 credits");
// "" for a start snapshot.
func (m *SnapshotMsg) Note() string {
	var s string
	switch m.Reason {
	case ReasonStart:
		return ""
	case ReasonGap:
		s = "the stream was trimmed past what mavtop had read: counters re-read"
	case ReasonReset:
		s = "Redis lost data mavtop had read (reset / data lost: flushed, deleted or restored): counters re-read"
		switch {
		case m.Restarted:
			s = "Redis restarted empty (reset / data lost): counters re-read"
		case m.Replaced:
			s = "Redis's data was replaced (reset: a replica's full sync from another master, or a restore): counters re-read"
		}
	case ReasonRestart:
		s = "Redis restarted: counters re-read"
	case ReasonFailover:
		s = "Redis failed over: counters re-read from the new master"
	case ReasonDrift:
		s = "the counters and the stream disagreed: counters re-read"
	case ReasonTrim:
		s = "entries mavtop had read were removed from the stream: ages, burn and OUT re-derived from what it holds"
	case ReasonRollover:
		s = "new billing period " + m.Snap.Period.Key + ": counters start afresh"
		if m.ClockBack {
			s = "the clock went back into billing period " + m.Snap.Period.Key + ": its counters re-read"
		}
	case ReasonPeriod:
		s = "the billing period config changed: counters re-read"
	default:
		s = "counters re-read (" + string(m.Reason) + ")"
	}
	return s + m.DeltaNote()
}

// DeltaNote is what a re-read changed, as Note ends: ", −2,927 credits",
// ", −500 credits recharged", both (", +10 credits, −500 credits
// recharged"), else the workspaces that changed (", 2 workspace(s)
// changed"), or "" when nothing differed.
func (m *SnapshotMsg) DeltaNote() string {
	var s string
	if m.UsedDelta != 0 {
		s += ", " + signedCredits(m.UsedDelta) + " credits"
	}
	if m.RechargedDelta != 0 {
		s += ", " + signedCredits(m.RechargedDelta) + " credits recharged"
	}
	if s == "" && m.Changed > 0 {
		s = fmt.Sprintf(", %d workspace(s) changed", m.Changed)
	}
	return s
}

// AuditMsg says that an audit found the counters equal to what was delivered
// in generation Gen up to StreamID: every 402 of the stream up to it is
// counted (model.Ledger.CountersHeld). Sent only by a subscriber that audits
// on a cadence (SnapshotMsg.Audited).
type AuditMsg struct {
	Gen      uint64
	StreamID string
}

// UsedByMsg brings the project and endpoint credits (the used_by hash) of a
// start snapshot that left them out (Snap.UsedByLater), so the first frame is
// drawn from the workspace counters at once: model.Ledger.SeedUsedBy folds it.
// It is read in the background, so batches of its generation come before and
// after it; StreamID is the newest entry the hash included (at or after the
// snapshot's): the project credits of entries up to it are in the hash, those
// of newer ones are not (SeedUsedBy sorts the batches applied before it).
// The hub folds it once and hands its viewers a LedgerMsg instead.
type UsedByMsg struct {
	Gen    uint64
	UsedBy map[string]int64
	// Unreadable maps a project ("ws/project"), with a usage limit or not,
	// whose used_by field holds no integer ≥ 0 to why: it is listed with its
	// credits unknown, and a limited one's level is unknown
	// (model.Ledger.MarkProjectsUnreadable), as a full read's
	// Snapshot.UsedByUnreadable says.
	Unreadable map[string]string
	StreamID   string
}

func (*UsedByMsg) feedMsg() {}

// BatchMsg is the events of one XREAD reply, in stream order, after Gen's
// snapshot. Events is the caller's to keep. Malformed entries are left out (each
// was reported by a MalformedMsg before this batch).
type BatchMsg struct {
	// Gen is the generation of the snapshot these events follow.
	Gen uint64
	// Events are the decoded entries, in stream order.
	Events []model.Event
	// LastID is the id the subscriber resumes after (it may be a malformed entry's).
	LastID string
	// Read is, from the Pattern 1 counters, the reading these events came
	// from (model.Ledger.AdvanceRead; From empty for a read of a few keys a
	// notification named); a poll that found nothing new sends a batch
	// with no events and its Read. Zero from the stream.
	Read model.ReadPosition
}

// ConnState is the state of the subscriber's connection to Redis.
type ConnState uint8

const (
	// Connecting: no snapshot read yet.
	Connecting ConnState = iota
	// Connected: the last call to Redis worked.
	Connected
	// Reconnecting: Redis went away after working; retrying with backoff.
	Reconnecting
)

// String names the state for the status bar.
func (s ConnState) String() string {
	switch s {
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	default:
		return "connecting"
	}
}

// ConnMsg reports a change of connection state, and each failed attempt.
type ConnMsg struct {
	// State is the connection state now.
	State ConnState
	// Attempt counts failed attempts since the last success (0 when connected).
	Attempt int
	// Err is the last error (nil when connected).
	Err error
	// Since is when the current state began.
	Since time.Time
	// Retry is the wait before the next attempt (0 when connected).
	Retry time.Duration
	// Server is the address of the Redis server that last answered, as it
	// names itself ("" when it cannot say, and on a cluster).
	Server string
}

// MalformedMsg reports a stream entry that could not be decoded. It is skipped,
// counted, and the subscriber goes on with the entries behind it.
type MalformedMsg struct {
	// Gen is the generation the entry was read in.
	Gen uint64
	// ID is the entry's stream id.
	ID string
	// Err says which field is wrong (a *model.DecodeError).
	Err error
	// Total is the number of malformed entries seen by this subscriber.
	Total int64
}

// StatsMsg reports throughput and lag, every SubscriberOptions.StatsEvery.
type StatsMsg struct {
	// EventsPerSec is the rate of entries that feed freshness
	// (model.FeedsFreshness: usage events and recharges, no settings entry)
	// read over the last interval.
	EventsPerSec float64
	// Lag is how far behind the stream the last batch was: its delivery time
	// minus the time in its newest entry's id, never below zero (an id ahead of
	// the clock is reported in Ahead). Zero before the first batch. While
	// disconnected it is at least the time since the last read that worked.
	Lag time.Duration
	// LagKnown is false while disconnected: Lag is then a lower bound.
	LagKnown bool
	// Idle is how long ago the newest entry that feeds freshness
	// (model.FeedsFreshness) was read (this clock): a quiet producer, not a
	// lag. Zero before the first entry.
	Idle time.Duration
	// LastEntryAt is when the newest entry that feeds freshness
	// (model.FeedsFreshness: a settings entry does not) was read, by this
	// clock; at a start or a re-read, the time of the stream's newest such
	// entry when earlier (model.NewestProducer: never the newest id's when
	// that is a settings entry's). An id ahead of the clock cannot move it
	// into the future. Zero before the first entry, and while the stream
	// holds none.
	LastEntryAt time.Time
	// IdleAtLeast: no producer entry has been read and none is among the
	// stream's newest FreshSeedEntries entries (a start's bounded read):
	// LastEntryAt is the time of the oldest of them, which the producer's
	// newest entry is older than, and Idle the least it has been quiet.
	IdleAtLeast bool
	// Ahead is how far the newest entry's id is ahead of this clock (over 1 s),
	// FutureIDs how many batches ended on such an id.
	Ahead     time.Duration
	FutureIDs int64
	// Events, Malformed, Snapshots, Gaps, Reconnects and Audits count since
	// Run began.
	Events, Malformed, Snapshots, Gaps, Reconnects, Audits int64
	// ProducerEvents counts, of Events, the entries that feed freshness
	// (model.FeedsFreshness: no settings entry): what the header's slow rate
	// counts, as EventsPerSec does.
	ProducerEvents int64
	// Restarts counts the server restarts noticed (its run id changed),
	// whether or not they lost anything.
	Restarts int64
	// AuditByDigest says the audits on the cadence read the producers' digest
	// (O(shards)) because the last full read found it equal to the counters;
	// false: a producer does not keep it, and they read the counters (see
	// Keys.Digest). DigestAudits counts the audits answered by the digest,
	// DigestMisses those that found it different from what was delivered (each
	// followed at once by a full read).
	AuditByDigest              bool
	DigestAudits, DigestMisses int64
	// Resyncs counts the snapshots read after the start, by reason (the
	// caller's copy).
	Resyncs map[Reason]int64
	// BadKeys maps each key mavtop reads that holds another type than a hash
	// (sanitised) to why it cannot be read (SnapshotResult.BadKeys): the
	// workspaces are judged unknown while any is listed. Empty when every key
	// is a hash or absent.
	BadKeys map[string]string
	// PeriodUnreadable says why the stored billing-period config cannot be
	// read (model.ParsePeriodConfig, sanitised) as of the generation's read
	// or its last audit; "" when it can. /metrics' gauge and watch's log.
	PeriodUnreadable string
	// LastID is the id the subscriber resumes after.
	LastID string
	// Stream is the stream key read (Keys.Stream, as configured, not
	// sanitised): the header names where it looked when nothing was read
	// (a mistyped --key-prefix). Empty for a source without a stream.
	Stream string
	// At is when the stats were taken.
	At time.Time
}

func (*SnapshotMsg) feedMsg()  {}
func (*AuditMsg) feedMsg()     {}
func (*BatchMsg) feedMsg()     {}
func (*ConnMsg) feedMsg()      {}
func (*MalformedMsg) feedMsg() {}
func (*StatsMsg) feedMsg()     {}

// signedCredits writes a change of credits with its sign: "+495", "−2,927".
func signedCredits(n int64) string {
	n = max(n, -math.MaxInt64) // −MinInt64 is itself: shown one credit short rather than wrapped
	if n < 0 {
		return "−" + estimator.FormatCredits(-n)
	}
	return "+" + estimator.FormatCredits(n)
}
