package feed

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// Newest is what the newest entries of the stream say about each workspace.
type Newest struct {
	// At maps a workspace to its newest event's time (unix ms, never later
	// than the time asked at) among the entries read.
	At map[string]int64
	// Entries is how many entries were read; Complete is true when they
	// reach back before the time asked for (or to the stream's first entry),
	// false when the limit stopped the read first.
	Entries  int
	Complete bool
	// Whole is true when the entries read are the whole stream (Complete
	// by its first entry, not by the time asked for): a stream trimmed to
	// a few settings entries then says nothing of when the producer wrote.
	Whole bool
	// PeriodSet is true when the entries read hold a billing-period change
	// (budget period's entry); AfterPeriodSet then names the workspaces with
	// a usage event whose entry is newer than the newest such change. Events
	// before it went to the period hashes of the rule before, so they say
	// nothing of what the new period's counters should hold.
	PeriodSet      bool
	AfterPeriodSet map[string]bool
	// Stamped maps a workspace to its newest event's time by the producer's
	// clock (ts, never later than its id's time nor than now) among the
	// entries read, when that differs from At's (see Period): the billing
	// period its counters went to, as the producer chose their key by ts.
	// At dates freshness instead, by the id's time when ts lies more than
	// model.MaxClockBehind before it: an event written now with a ts in the
	// period before (a slow clock at a period's start, a replayed event) is
	// fresh, yet counted in that period, not this one. Only the workspaces
	// dated apart are held (none, with producers' clocks right).
	Stamped map[string]int64
	// InPeriod maps a workspace to its newest event of the billing period
	// ReadNewestIn was given — its ts (Period's time) within the period, so
	// its credits are in the counters of that period — dated as At dates it;
	// nil from ReadNewest. An event written now with a ts in the period
	// before is not the newest event of this period's row: check's LAST
	// EVENT read "now" for it while the row's counters held none of it and
	// the dashboard's row age said "—".
	InPeriod map[string]int64
	// Before is the time in the id of the oldest entry read (unix ms, never
	// later than now; 0 when none was read or its id carries no time): a
	// workspace none of them names spent before it, if at all — its row's
	// last event is older than Before (a row with credits used this period
	// reads "> 3 h", not "—", none).
	Before int64
}

// Period is ws's newest event's time by the producer's clock (Stamped, else
// At), unix ms: what decides the billing period its counters went to.
func (n Newest) Period(ws string) (int64, bool) {
	if ms, ok := n.Stamped[ws]; ok {
		return ms, true
	}
	ms, ok := n.At[ws]
	return ms, ok
}

// idFloorMs: ids whose time is below it (hand-made ids, "1-0") carry no
// wall-clock time (model's idTimeFloor).
const idFloorMs = 1_000_000_000_000

// RowAgeEntries is how many of the stream's newest entries date a row's
// last event beyond what else is read: `check` and `budget show` read them
// for LAST EVENT, a start for the rows its hour leaves undated
// (HistoryMsg.Ages). One number, so the surfaces give one age.
const RowAgeEntries = 1_000

// newestPage is how many entries one XREVRANGE of ReadNewest asks for.
const newestPage = 1000

// ReadNewest reads the stream backwards from its newest entry, in pages of
// 1,000, until it has read atLeast entries and reached entries added before
// since (by entry id), or read limit entries, and returns each workspace's
// newest event time: for "when did this workspace last spend" without a
// counter for it. It is bounded by the window and the limit, never a scan of
// the whole stream. Malformed and settings entries are skipped; an event time
// ahead of its entry's id or of now counts as the earlier (model.EventTime).
// The error is Redis's, a *StreamError when the server will not let the
// stream be read (WRONGTYPE, NOPERM): the caller names it and goes on.
func ReadNewest(ctx context.Context, c redis.UniversalClient, keys Keys, since, now time.Time, atLeast, limit int) (Newest, error) {
	return ReadNewestIn(ctx, c, keys, model.Period{}, since, now, atLeast, limit)
}

// ReadNewestIn is ReadNewest that also sets Newest.InPeriod: each workspace's
// newest event among the entries read whose ts lies in period p (none when p
// is the zero Period).
func ReadNewestIn(ctx context.Context, c redis.UniversalClient, keys Keys, p model.Period, since, now time.Time, atLeast, limit int) (Newest, error) {
	out := Newest{At: map[string]int64{}}
	inPeriod := !p.Start.IsZero()
	if inPeriod {
		out.InPeriod = map[string]int64{}
	}
	start, end := p.Start.UnixMilli(), p.End.UnixMilli()
	sinceMs := since.UnixMilli()
	top := "+"
	for out.Entries < limit {
		n := min(newestPage, limit-out.Entries)
		msgs, err := c.XRevRangeN(ctx, keys.Stream(), top, "-", int64(n)).Result()
		if se := streamRefusal(ctx, c, keys.Stream(), err); se != nil {
			return out, se // the stream's figures unknown, named (a *StreamError)
		}
		if err != nil {
			return out, fmt.Errorf("read the newest entries: %w", err)
		}
		for i := range msgs {
			e, err := model.DecodeEvent(msgs[i].ID, msgs[i].Values)
			if err == nil && e.Kind == model.KindSettings && e.Op == PeriodEntryOp {
				out.PeriodSet = true // read newest first: the first is the newest
			}
			it := idTime(msgs[i].ID)
			ts, ok := model.ProducerTime(&e, err, it, now)
			if !ok {
				continue
			}
			prev, seen := out.At[e.Workspace]
			if ts > prev {
				out.At[e.Workspace] = ts
			}
			stamped := min(e.TS, now.UnixMilli())
			if !it.IsZero() {
				stamped = min(stamped, it.UnixMilli())
			}
			if inPeriod && stamped >= start && stamped < end && ts > out.InPeriod[e.Workspace] {
				out.InPeriod[e.Workspace] = ts
			}
			if was, ok := out.Stamped[e.Workspace]; ok {
				out.Stamped[e.Workspace] = max(was, stamped)
			} else if stamped != ts {
				// the first entry of the workspace dated apart from its
				// period's time: every one before was dated alike (At)
				if out.Stamped == nil {
					out.Stamped = map[string]int64{}
				}
				if seen {
					stamped = max(stamped, prev)
				}
				out.Stamped[e.Workspace] = stamped
			}
			if !out.PeriodSet {
				if out.AfterPeriodSet == nil {
					out.AfterPeriodSet = map[string]bool{}
				}
				out.AfterPeriodSet[e.Workspace] = true
			}
		}
		out.Entries += len(msgs)
		if len(msgs) > 0 {
			if it := idTime(msgs[len(msgs)-1].ID); !it.IsZero() && it.UnixMilli() >= idFloorMs {
				out.Before = min(it.UnixMilli(), now.UnixMilli())
			}
		}
		if len(msgs) < n {
			out.Complete, out.Whole = true, true // the whole stream
			return out, nil
		}
		last := msgs[len(msgs)-1].ID
		if ms, _, ok := model.ParseStreamID(last); ok && int64(ms) < sinceMs {
			out.Complete = true
			if out.Entries >= atLeast {
				return out, nil
			}
		}
		top = "(" + last
	}
	return out, nil
}

// The bounded read a start or a re-read makes for the producer's newest
// entry (readNewestProducer).
const (
	// FreshSeedEntries is how many of the stream's newest entries a start or
	// a re-read looks at, at most, for the producer's newest entry: beyond
	// it (as many settings entries written since, a `budget pull` of
	// hundreds of workspaces) the feed's age is said unknown, at least the
	// oldest of them (model.Freshness.Beyond), until a producer entry is
	// read.
	FreshSeedEntries = 256
	// freshSeedPage is how many entries one of its XREVRANGEs asks for.
	freshSeedPage = 64
)

// readNewestProducer finds the stream's newest producer entry
// (model.NewestProducer) as of last, the newest entry the snapshot's XINFO
// STREAM gave with its fields (ID "": the stream holds none): when that is a
// producer's, at no cost; else reading back from it in XREVRANGEs of 64
// entries, at most FreshSeedEntries in all (4 XREVRANGEs).
func readNewestProducer(ctx context.Context, c redis.UniversalClient, keys Keys, last redis.XMessage, now time.Time) (model.NewestProducer, error) {
	var n model.NewestProducer
	if last.ID == "" {
		n.Whole = true
		return n, nil
	}
	if n.See(last.ID, last.Values, now) {
		return n, nil
	}
	top := last.ID
	for n.Read < FreshSeedEntries {
		count := min(freshSeedPage, FreshSeedEntries-n.Read)
		msgs, err := c.XRevRangeN(ctx, keys.Stream(), "("+top, "-", int64(count)).Result()
		if err != nil {
			return n, fmt.Errorf("read the newest producer entry: %w", err)
		}
		for i := range msgs {
			if n.See(msgs[i].ID, msgs[i].Values, now) {
				return n, nil
			}
		}
		if len(msgs) < count {
			n.Whole = true
			return n, nil
		}
		top = msgs[len(msgs)-1].ID
	}
	return n, nil
}
