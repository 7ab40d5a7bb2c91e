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

// historyOfPage is how many entries one XREVRANGE of ReadHistoryOf asks
// for: its replies are kept as flat lists, not decoded, so a page is a
// few MB at most, and a long hour takes few round trips.
var historyOfPage int64 = 10_000

// ReadHistoryOf is ReadHistory for a reader that needs the events of a few
// workspaces only (mavtop check ordering the 402s the counters cannot
// order): it reads the same entries, the same span and limit, newest first,
// but decodes only those whose "ws" field want accepts, and the recharges
// (kind "recharge") whatever their workspace; page gets those of them that
// are usage or recharge events of the span. Every other entry is passed over
// without being decoded: at 100k workspaces and 400k entries in the hour,
// decoding each into an event (and go-redis building a map of each entry's
// fields) was most of check's time. The error is from Redis or ctx.
func ReadHistoryOf(ctx context.Context, c redis.UniversalClient, k Keys, upto string, now time.Time, span time.Duration, limit int,
	want func(ws string) bool, page func(evs []model.Event, from time.Time, read int64, done bool) bool) error {
	return readHistory(ctx, c, k, upto, now, span, limit, historyOfPage, want, page)
}

// readHistory is ReadHistory and ReadHistoryOf: pageSize entries an
// XREVRANGE, kept as flat lists (no go-redis map an entry); want nil decodes
// every entry, else only those whose "ws" it accepts and the recharges.
func readHistory(ctx context.Context, c redis.UniversalClient, k Keys, upto string, now time.Time, span time.Duration, limit int,
	pageSize int64, want func(ws string) bool, page func(evs []model.Event, from time.Time, read int64, done bool) bool) error {
	from := now.Add(-span)
	if upto == "" || upto == "0-0" || limit <= 0 {
		page(nil, from, 0, true)
		return nil
	}
	// Entry ids are Redis's clock, ts the producers': read by id with some slack
	// for producers that write late, keep by the time that dates the burn
	// (model.Event.At: ts, or the id's time when ts is wrong).
	// An id ahead of now (one entry XADDed ahead puts every later "*" id
	// as far ahead) is no clock: the span ends at now, else the read
	// skipped the hour's first entries, and the events are dated by ts
	// (Event.ReadAt).
	top := idTime(upto)
	if top.After(now) {
		top = now
	}
	start := strconv.FormatInt(top.Add(-span-historySlack).UnixMilli(), 10)
	end := upto
	var read int64
	var fields map[string]any // reused: DecodeEvent keeps none of it
	for {
		n := min(pageSize, int64(limit)-read)
		cmd := redis.NewSliceCmd(ctx, "xrevrange", k.Stream(), end, start, "COUNT", n)
		if err := c.Process(ctx, cmd); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read history: %w", err)
		}
		msgs := cmd.Val()
		read += int64(len(msgs))
		var evs []model.Event
		lastID := ""
		for _, m := range msgs {
			entry, ok := m.([]any)
			if !ok || len(entry) != 2 {
				continue
			}
			id, _ := entry[0].(string)
			kv, _ := entry[1].([]any)
			if id == "" {
				continue
			}
			lastID = id
			if want != nil {
				ws, kind := "", ""
				for i := 0; i+1 < len(kv); i += 2 {
					switch key, _ := kv[i].(string); key {
					case "ws":
						ws, _ = kv[i+1].(string)
					case "kind":
						kind, _ = kv[i+1].(string)
					}
				}
				if kind != model.KindRecharge.String() && !want(ws) {
					continue
				}
			}
			if fields == nil {
				fields = make(map[string]any, len(kv)/2)
			}
			clear(fields)
			for i := 0; i+1 < len(kv); i += 2 {
				if key, ok := kv[i].(string); ok {
					fields[key] = kv[i+1]
				}
			}
			e, err := model.DecodeEvent(id, fields)
			e.ReadAt = now.UnixMilli() // read back at the snapshot: an id ahead of it dates nothing
			if err == nil && (e.Kind == model.KindUsage || e.Kind == model.KindRecharge) && e.At() >= from.UnixMilli() {
				evs = append(evs, e)
			}
		}
		if int64(len(msgs)) < n || lastID == "" {
			page(evs, from, read, true)
			return nil
		}
		end = "(" + lastID
		reached := idTime(lastID)
		if reached.Before(from) {
			reached = from
		}
		if reached.After(now) {
			reached = now // ids ahead of the clock: complete back to now at most
		}
		done := read >= int64(limit)
		if !page(evs, reached, read, done) || done {
			return nil
		}
	}
}
