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

// Balances answers "how many credits may this workspace still spend?" for the
// client's pre-flight check, fresh from Redis (not from a possibly lagging
// ledger). It is safe for concurrent use.
type Balances struct {
	c       redis.UniversalClient
	keys    Keys
	now     func() time.Time
	periods *periodCache
}

// NewBalances returns balances read from c.
func NewBalances(c redis.UniversalClient, opt StoreOptions) *Balances {
	opt.fill()
	keys := Keys{Prefix: opt.Prefix}
	return &Balances{c: c, keys: keys, now: opt.Now,
		periods: &periodCache{c: c, keys: keys, refresh: time.Minute, now: opt.Now}}
}

// Remaining reads the workspace's credits used and recharged this period and its
// settings in one MULTI/EXEC and judges them with model.Assess. known is false
// when the workspace has neither an allocation nor a usage limit.
func (b *Balances) Remaining(ctx context.Context, ws string) (remaining int64, known bool, err error) {
	st, err := b.Status(ctx, ws)
	if err != nil {
		return 0, false, err
	}
	return st.Remaining, st.RemainingKnown, nil
}

// Status is Remaining with the whole assessment. Its level is by the
// workspace's own thresholds, else the built-in ones (Remaining does not
// depend on thresholds).
func (b *Balances) Status(ctx context.Context, ws string) (model.Status, error) {
	rule, err := b.periods.get(ctx)
	if err != nil {
		return model.Status{}, err
	}
	p := rule.At(b.now())
	var used, recharged, settings *redis.StringCmd
	_, err = b.c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		used = pipe.HGet(ctx, b.keys.Used(p.Key), ws)
		recharged = pipe.HGet(ctx, b.keys.Recharged(p.Key), ws)
		settings = pipe.HGet(ctx, b.keys.Settings(), ws)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return model.Status{}, fmt.Errorf("read balance of %s: %w", ws, err)
	}
	var set model.Settings
	if raw, err := settings.Result(); err == nil {
		if set, err = decodeSettings(raw); err != nil {
			return model.Status{}, fmt.Errorf("settings of %s: %w", ws, err)
		}
	}
	u, err := intOrZero(used)
	if err != nil {
		return model.Status{}, fmt.Errorf("credits used by %s: %w", ws, err)
	}
	r, err := intOrZero(recharged)
	if err != nil {
		return model.Status{}, fmt.Errorf("credits recharged to %s: %w", ws, err)
	}
	return model.Assess(&set, model.Usage{Used: u, Recharged: r}, nil), nil
}

func intOrZero(c *redis.StringCmd) (int64, error) {
	s, err := c.Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}
