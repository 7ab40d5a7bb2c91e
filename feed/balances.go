package feed

import (
	"context"
	"errors"
	"fmt"
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
		periods: &periodCache{c: c, keys: keys, refresh: time.Minute, now: opt.Now, said: opt.PeriodLog}}
}

// PeriodUnreadable says why the billing-period config last read cannot be
// read (a *model.PeriodConfigError, sanitised); nil when it can or is
// absent. The counters read meanwhile are those of the period
// model.PeriodFallback gives (calendar months in UTC), where every producer
// writes then.
func (b *Balances) PeriodUnreadable() error { return b.periods.unreadable() }

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
	return model.ParseCounter(s)
}

// Budget is what a workspace and one of its projects may still spend, as read
// for a gateway's pre-flight check (mavtop proxy).
type Budget struct {
	// Settings are the workspace's settings (zero when none are stored).
	Settings model.Settings
	// Used and Recharged are the workspace's credits this billing period.
	Used, Recharged int64
	// Project is the project's budget (zero when none is stored or no project was asked).
	Project model.ProjectBudget
	// ProjectUsed is the project's credits this period; read only when the project
	// has a usage limit (0 otherwise).
	ProjectUsed int64
}

// Budget reads the workspace's counters and settings and the project's budget in
// one MULTI/EXEC, then, only when the project has a usage limit, what the project
// used (an HSCAN of the period's used_by hash for its fields).
func (b *Balances) Budget(ctx context.Context, ws, project string) (Budget, error) {
	rule, err := b.periods.get(ctx)
	if err != nil {
		return Budget{}, err
	}
	p := rule.At(b.now())
	var used, recharged, settings, budget *redis.StringCmd
	_, err = b.c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		used = pipe.HGet(ctx, b.keys.Used(p.Key), ws)
		recharged = pipe.HGet(ctx, b.keys.Recharged(p.Key), ws)
		settings = pipe.HGet(ctx, b.keys.Settings(), ws)
		if project != "" {
			budget = pipe.HGet(ctx, b.keys.Settings(), model.ProjectKey(ws, project))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Budget{}, fmt.Errorf("read budget of %s: %w", ws, err)
	}
	var out Budget
	if raw, err := settings.Result(); err == nil {
		if out.Settings, err = decodeSettings(raw); err != nil {
			return Budget{}, fmt.Errorf("settings of %s: %w", ws, err)
		}
	}
	if out.Used, err = intOrZero(used); err != nil {
		return Budget{}, fmt.Errorf("credits used by %s: %w", ws, err)
	}
	if out.Recharged, err = intOrZero(recharged); err != nil {
		return Budget{}, fmt.Errorf("credits recharged to %s: %w", ws, err)
	}
	if budget == nil {
		return out, nil
	}
	if raw, err := budget.Result(); err == nil {
		if out.Project, err = decodeBudget(raw); err != nil {
			return Budget{}, fmt.Errorf("budget of %s: %w", model.ProjectKey(ws, project), err)
		}
	}
	if out.Project.Limit <= 0 {
		return out, nil
	}
	// Ids are [A-Za-z0-9._:-], so the pattern holds no glob character but the last.
	match := model.ProjectKey(ws, project) + "/*"
	it := b.c.HScan(ctx, b.keys.UsedBy(p.Key), 0, match, 512).Iterator()
	for i := 0; it.Next(ctx); i++ {
		if i%2 == 0 {
			continue // the field; its value follows
		}
		n, err := model.ParseCounter(it.Val())
		if err != nil {
			return Budget{}, fmt.Errorf("credits used by %s: %w", model.ProjectKey(ws, project), err)
		}
		out.ProjectUsed = model.AddCredits(out.ProjectUsed, n)
	}
	if err := it.Err(); err != nil {
		return Budget{}, fmt.Errorf("credits used by %s: %w", model.ProjectKey(ws, project), err)
	}
	return out, nil
}
