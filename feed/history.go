package feed

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	from := now.Add(-span)
	if upto == "" || upto == "0-0" || limit <= 0 {
		page(nil, from, 0, true)
		return nil
	}
	// Entry ids are Redis's clock, ts the producers': read by id with some slack
	// for producers that write late, keep by ts.
	start := strconv.FormatInt(idTime(upto).Add(-span-historySlack).UnixMilli(), 10)
	end := upto
	var read int64
	for {
		n := min(historyPage, int64(limit)-read)
		msgs, err := c.XRevRangeN(ctx, k.Stream(), end, start, n).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read history: %w", err)
		}
		read += int64(len(msgs))
		evs := make([]model.Event, 0, len(msgs))
		for _, m := range msgs {
			e, err := model.DecodeEvent(m.ID, m.Values)
			if err == nil && (e.Kind == model.KindUsage || e.Kind == model.KindRecharge) && e.TS >= from.UnixMilli() {
				evs = append(evs, e)
			}
		}
		complete := int64(len(msgs)) < n
		if complete {
			page(evs, from, read, true)
			return nil
		}
		end = "(" + msgs[len(msgs)-1].ID
		// Complete back to the oldest id read (ts follows ids but for late writers).
		reached := idTime(msgs[len(msgs)-1].ID)
		if reached.Before(from) {
			reached = from
		}
		done := read >= int64(limit)
		if !page(evs, reached, read, done) || done {
			return nil
		}
	}
}
