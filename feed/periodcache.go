package feed

import (
	"context"
	"encoding/json"
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

	mu      sync.Mutex
	rule    model.PeriodRule
	have    bool
	fetched time.Time
}

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
	rule, err = parsePeriodConfig(raw)
	if err != nil {
		return model.PeriodRule{}, err
	}
	pc.mu.Lock()
	pc.rule, pc.have, pc.fetched = rule, true, now
	pc.mu.Unlock()
	return rule, nil
}

// parsePeriodConfig turns the stored JSON ("" when absent) into a rule.
func parsePeriodConfig(raw string) (model.PeriodRule, error) {
	if raw == "" {
		return model.MonthlyUTC, nil
	}
	var cfg model.PeriodConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return model.PeriodRule{}, fmt.Errorf("billing period config %q in the settings hash: %w", model.Truncate(model.Sanitize(raw), 80), model.KeyedJSONError(raw, err))
	}
	rule, err := cfg.Rule()
	if err != nil {
		return model.PeriodRule{}, fmt.Errorf("billing period config in the settings hash: %w", err)
	}
	return rule, nil
}
