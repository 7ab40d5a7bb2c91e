package feed

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// AlertRules returns the hash of the rules every mavtop sharing the prefix
// judges alerts by (AlertRules): "<prefix>:alert_rules".
func (k Keys) AlertRules() string { return k.p() + ":alert_rules" }

// The fields of the alert rules hash.
const (
	// RuleDefaultAlerts holds the thresholds (percent, "50,75,90") of the
	// workspaces whose settings have none of their own (--default-alerts).
	RuleDefaultAlerts = "default_alerts"
	// RuleStale holds the stale limit of the feed_stale alert ("5m0s", --stale).
	RuleStale = "stale"
)

// AlertRules are the rules an alert's judgement depends on beside the
// settings: the thresholds of workspaces without their own and the stale
// limit. Every instance that records alerts in one store must judge by the
// same ones, or each resolves what another fired (its thresholds are not
// this one's, its stale limit is not reached here): they are kept in Redis
// beside the alerts, seeded by the first instance, and a flag that disagrees
// with them is refused. A zero field is one not held.
type AlertRules struct {
	DefaultAlerts []int
	Stale         time.Duration
}

// IsZero says no rule is held.
func (r AlertRules) IsZero() bool { return r.DefaultAlerts == nil && r.Stale == 0 }

// AlertsText is DefaultAlerts as the flag takes them ("50,75,90").
func (r AlertRules) AlertsText() string {
	parts := make([]string, len(r.DefaultAlerts))
	for i, t := range r.DefaultAlerts {
		parts[i] = strconv.Itoa(t)
	}
	return strings.Join(parts, ",")
}

// String says the rules held: "default alerts 50,75,90, stale 5m0s".
func (r AlertRules) String() string {
	var parts []string
	if r.DefaultAlerts != nil {
		parts = append(parts, "default alerts "+r.AlertsText())
	}
	if r.Stale != 0 {
		parts = append(parts, "stale "+r.Stale.String())
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (r AlertRules) fields() map[string]any {
	f := map[string]any{}
	if r.DefaultAlerts != nil {
		f[RuleDefaultAlerts] = r.AlertsText()
	}
	if r.Stale != 0 {
		f[RuleStale] = r.Stale.String()
	}
	return f
}

// Disagree says how the rules held (r) differ from own, one instance's, for
// every rule both hold: "" when they agree. The words name the flag:
// "--default-alerts 10,20,30 (shared: 50,75,90)".
func (r AlertRules) Disagree(own AlertRules) string {
	var parts []string
	if r.DefaultAlerts != nil && own.DefaultAlerts != nil && !slices.Equal(r.DefaultAlerts, own.DefaultAlerts) {
		parts = append(parts, fmt.Sprintf("--default-alerts %s (shared: %s)", own.AlertsText(), r.AlertsText()))
	}
	if r.Stale != 0 && own.Stale != 0 && r.Stale != own.Stale {
		parts = append(parts, fmt.Sprintf("--stale %s (shared: %s)", own.Stale, r.Stale))
	}
	return strings.Join(parts, ", ")
}

// AlertRulesError says a rule held cannot be read: Redis answered.
type AlertRulesError struct{ msg string }

func (e *AlertRulesError) Error() string { return e.msg }

// parseAlertRules reads the hash's fields; a field that cannot be read is an
// error naming it (a hand's "fifty"), other fields are left alone.
func parseAlertRules(key string, h map[string]string) (AlertRules, error) {
	var r AlertRules
	if v, ok := h[RuleDefaultAlerts]; ok {
		for p := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n <= 0 || n > 100 || len(r.DefaultAlerts) > 0 && n <= r.DefaultAlerts[len(r.DefaultAlerts)-1] {
				return AlertRules{}, &AlertRulesError{fmt.Sprintf("%s field %s holds %q, not thresholds like 50,75,90", key, RuleDefaultAlerts, v)}
			}
			r.DefaultAlerts = append(r.DefaultAlerts, n)
		}
		if len(r.DefaultAlerts) != 3 {
			return AlertRules{}, &AlertRulesError{fmt.Sprintf("%s field %s holds %q, not three thresholds like 50,75,90", key, RuleDefaultAlerts, v)}
		}
	}
	if v, ok := h[RuleStale]; ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			return AlertRules{}, &AlertRulesError{fmt.Sprintf("%s field %s holds %q, not a positive duration like 5m", key, RuleStale, v)}
		}
		r.Stale = d
	}
	return r, nil
}

// ReadAlertRules returns the rules held under k (zero fields: not held).
func ReadAlertRules(ctx context.Context, c redis.UniversalClient, k Keys) (AlertRules, error) {
	// its two fields, not the whole hash (a hand may have added others)
	vals, err := c.HMGet(ctx, k.AlertRules(), RuleDefaultAlerts, RuleStale).Result()
	if err != nil {
		return AlertRules{}, fmt.Errorf("read the alert rules (%s): %w", k.AlertRules(), err)
	}
	h := map[string]string{}
	for i, f := range []string{RuleDefaultAlerts, RuleStale} {
		if v, ok := vals[i].(string); ok {
			h[f] = v
		}
	}
	return parseAlertRules(k.AlertRules(), h)
}

// SeedAlertRules stores each of own's rules that no instance stored yet
// (HSETNX: of two instances seeding at once, one wins) and returns the rules
// held then, in one round trip.
func SeedAlertRules(ctx context.Context, c redis.UniversalClient, k Keys, own AlertRules) (AlertRules, error) {
	key := k.AlertRules()
	var all *redis.MapStringStringCmd
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for f, v := range own.fields() {
			p.HSetNX(ctx, key, f, v)
		}
		all = p.HGetAll(ctx, key)
		return nil
	})
	if err != nil {
		return AlertRules{}, fmt.Errorf("seed the alert rules (%s): %w", key, err)
	}
	return parseAlertRules(key, all.Val())
}

// WriteAlertRules sets the rules r holds (its zero fields are left as they are).
func WriteAlertRules(ctx context.Context, c redis.UniversalClient, k Keys, r AlertRules) error {
	f := r.fields()
	if len(f) == 0 {
		return nil
	}
	if err := c.HSet(ctx, k.AlertRules(), f).Err(); err != nil {
		return fmt.Errorf("write the alert rules (%s): %w", k.AlertRules(), err)
	}
	return nil
}

// SeedRules is SeedAlertRules on the store's client and prefix.
func (s *AlertStore) SeedRules(ctx context.Context, own AlertRules) (AlertRules, error) {
	return SeedAlertRules(ctx, s.c, s.keys, own)
}
