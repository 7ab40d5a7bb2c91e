package feed

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// DefaultHistoryLimit bounds how many entries a start reads back for burn
// history: the README's MAXLEN ~ 1000000 keeps a whole hour within it, and a
// stream nobody trims cannot keep Redis busy for long.
const DefaultHistoryLimit = 2_000_000

// historyPage is how many entries one XREVRANGE reads: the most a start holds
// at once (about 1.5 KB each while decoded, a page being read and one being
// folded), whatever the hour holds. A variable so tests can page small.
var historyPage int64 = 2_000

const historySlack = 5 * time.Minute

// HistoryMsg is one page of the last hour read back after a start snapshot,
// for burn rates, the 402 log and who is being refused (model.Ledger.Backfill):
// the snapshot's counters already hold these events. Pages come newest first,
// each older than the one before, while the follow goes on, so the first frame
// never waits for the hour and memory holds one page, not the hour.
type HistoryMsg struct {
	// Gen is the generation of the start snapshot the history was read for.
	Gen uint64
	// Events are the page's usage and recharge events, newest first.
	Events []model.Event
	// From is how far back history is complete with this page.
	From time.Time
	// Read is how many entries were read back so far; Done marks the last page
	// (complete back to the hour, cut by the limit, or ended by an error: Err).
	Read int64
	Done bool
	Err  error
	// Ages, on the last page, maps each workspace to its newest event of the
	// snapshot's billing period among the stream's newest RowAgeEntries
	// entries (feed.Newest.InPeriod): the rows the hour leaves undated
	// (quiet for longer) are dated by them (model.Ledger.DateRows), as
	// `check` and `budget show` date theirs. nil when not read.
	Ages map[string]int64
	// AgesBefore, with Ages: a workspace neither they nor the hour date
	// spent before it, if at all (unix ms: the older of the hour's start and
	// Newest.Before; 0 unknown): model.Ledger.DateRows.
	AgesBefore int64
	// Folded says the hub has folded the page into its ledger, a copy of
	// which it hands its viewers after the last page (a LedgerMsg): a viewer
	// reads the events (the estimator's job log does) but does not fold them.
	Folded bool
	// serverChanged: the server's run id at the last page was not the
	// generation's (a restart while the hour was read, or it could not be
	// asked): the subscriber audits at once, which names and heals it.
	serverChanged bool
}

func (*HistoryMsg) feedMsg() {}

// ReadHistory reads the events of the last span up to and including the entry
// upto back, newest first, in pages of historyPage entries, at most limit
// entries, calling page with each page's usage and recharge events (newest
// first, page's to keep) and how far back history is complete
// with it; a page returning false stops the read. The events feed burn rates
// and the refusal state only: the snapshot's counters already hold them.
// Malformed entries are skipped: they were never counted either. The error is
// from Redis or ctx.
func ReadHistory(ctx context.Context, c redis.UniversalClient, k Keys, upto string, now time.Time, span time.Duration, limit int,
	page func(evs []model.Event, from time.Time, read int64, done bool) bool) error {
	return readHistory(ctx, c, k, upto, now, span, limit, historyPage, nil, page)
}
