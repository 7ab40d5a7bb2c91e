package feed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// periodCache keeps the billing-period rule stored in the settings hash, re-read
// at most every refresh. Producers do not follow the stream, so a change of the
// period config reaches them within refresh (change it between periods).
type periodCache struct {
	c       redis.UniversalClient
	keys    Keys
	refresh time.Duration
	now     func() time.Time
	// said, when set, says in the producer's log when the stored value
	// becomes unreadable or readable again (once per change).
	said *PeriodLog

	mu      sync.Mutex
	rule    model.PeriodRule
	have    bool
	fetched time.Time
	bad     error // why the config last read fell back (*model.PeriodConfigError)
}

// get returns the rule to cut periods by: the stored one, or, when the stored
// config cannot be read (model.ParsePeriodConfig), model.PeriodFallback —
// the rule every reader judges by then, so what a producer writes lands in
// the period's keys the dashboard and check read (refusing to write lost the
// events). Unreadable says why the last read fell back. An error only when
// Redis cannot be asked and no rule was read before.
func (pc *periodCache) get(ctx context.Context) (model.PeriodRule, error) {
	pc.mu.Lock()
	rule, have, fetched := pc.rule, pc.have, pc.fetched
	pc.mu.Unlock()
	now := pc.now()
	if have && now.Sub(fetched) < pc.refresh && !now.Before(fetched) {
		return rule, nil
	}
	raw, err := pc.c.HGet(ctx, pc.keys.Settings(), PeriodSettingsField).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		if have {
			return rule, nil // a stale rule beats none while Redis is away
		}
		return model.PeriodRule{}, fmt.Errorf("read billing period config (HGET %s %s): %w", pc.keys.Settings(), PeriodSettingsField, err)
	}
	rule, bad := model.ParsePeriodConfig(raw) // model.PeriodFallback when bad
	pc.mu.Lock()
	pc.rule, pc.have, pc.fetched, pc.bad = rule, true, now, bad
	pc.mu.Unlock()
	pc.said.judged(raw, rule, bad, now)
	return rule, nil
}

// unreadable is why the config last read could not be (nil: it could).
func (pc *periodCache) unreadable() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.bad
}
