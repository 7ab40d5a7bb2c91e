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

// DefaultHistoryLimit bounds how many entries a start reads back for burn history.
const DefaultHistoryLimit = 200_000

const (
	historyPage  = 10_000
	historySlack = 5 * time.Minute
)

// ReadHistory reads the usage events of the last span up to and including the
// entry upto, newest first, at most limit of them. They feed burn rates only: the
// snapshot's counters already hold them. from is how far back the history is
// complete (the time of the oldest entry read when the limit cut it short).
// Malformed entries are skipped: they were never counted either.
func ReadHistory(ctx context.Context, c redis.UniversalClient, k Keys, upto string, now time.Time, span time.Duration, limit int) (evs []model.Event, from time.Time, err error) {
	from = now.Add(-span)
	if upto == "" || upto == "0-0" || limit <= 0 {
		return nil, from, nil
	}
	// Entry ids are Redis's clock, ts the producers': read by id with some slack
	// for producers that write late, keep by ts.
	start := strconv.FormatInt(idTime(upto).Add(-span-historySlack).UnixMilli(), 10)
	end := upto
	oldest := now.UnixMilli()
	for len(evs) < limit {
		n := min(historyPage, limit-len(evs))
		msgs, err := c.XRevRangeN(ctx, k.Stream(), end, start, int64(n)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, from, fmt.Errorf("read history: %w", err)
		}
		for _, m := range msgs {
			if e, err := model.DecodeEvent(m.ID, m.Values); err == nil && e.Kind == model.KindUsage && e.TS >= from.UnixMilli() {
				evs = append(evs, e)
				oldest = min(oldest, e.TS)
			}
		}
		if len(msgs) < n {
			return evs, from, nil
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	// cut short: the history is complete back to the oldest event read
	if t := time.UnixMilli(oldest); t.After(from) {
		from = t
	}
	return evs, from, nil
}
