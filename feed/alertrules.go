package feed

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
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
	// RuleSource holds where usage is read from (--source; auto is resolved
	// before it is stored): "stream", or "counters" and the Pattern 1 keys
	// read (--counter-pattern) after one space,
	// "counters mavera:credits_used:current_period:*". One field, so that
	// of two instances seeding at once one wins both.
	RuleSource = "source"
)

// ruleNames are the fields of the alert rules hash mavtop reads.
var ruleNames = []string{RuleDefaultAlerts, RuleStale, RuleSource}

// AlertRules are the rules an alert's judgement depends on beside the
// settings: the thresholds of workspaces without their own, the stale limit
// and the usage source (the stream or the Pattern 1 counters, which may hold
// other figures for one workspace: hunt defect 11). Every instance that records alerts in one store must judge by the
// same ones, or each resolves what another fired (its thresholds are not
// this one's, its stale limit is not reached here): they are kept in Redis
// beside the alerts, seeded by the first instance, and a flag that disagrees
// with them is refused. A zero field is one not held.
type AlertRules struct {
	DefaultAlerts []int
	Stale         time.Duration
	// Source is SourceStream or SourceCounters ("": not held; never
	// SourceAuto); CounterPattern the counters' key pattern when Source is
	// SourceCounters ("" otherwise).
	Source         SourceKind
	CounterPattern string
}

// IsZero says no rule is held.
func (r AlertRules) IsZero() bool {
	return r.DefaultAlerts == nil && r.Stale == 0 && r.Source == "" && r.CounterPattern == ""
}

// SourceText says the source held: "stream", "counters" or
// "counters mavera:credits_used:current_period:*" ("" when none is).
func (r AlertRules) SourceText() string {
	if r.Source == SourceCounters && r.CounterPattern != "" {
		return string(r.Source) + " " + r.CounterPattern
	}
	return string(r.Source)
}

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
	if r.Source != "" {
		parts = append(parts, "source "+r.SourceText())
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
	if r.Source != "" {
		f[RuleSource] = r.SourceText()
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
	if r.Source != "" && own.Source != "" && r.Source != own.Source {
		parts = append(parts, fmt.Sprintf("--source %s (shared: %s)", own.Source, r.SourceText()))
	} else if r.Source == SourceCounters && own.Source == SourceCounters && r.CounterPattern != "" && own.CounterPattern != "" && r.CounterPattern != own.CounterPattern {
		parts = append(parts, fmt.Sprintf("--counter-pattern %s (shared: %s)", own.CounterPattern, r.CounterPattern))
	}
	return strings.Join(parts, ", ")
}

// AlertRulesError says which rules stored cannot be read (Redis answered: a
// hand's `hset {mavera}:alert_rules default_alerts 50,75,100`): each such
// field is judged by its built-in value (model.DefaultThresholds,
// model.DefaultStale) meanwhile, by every instance alike, and the error names
// the key, the field and what it holds.
type AlertRulesError struct {
	// Key is the hash; Fields the fields that cannot be read, in the order
	// RuleDefaultAlerts, RuleStale.
	Key    string
	Fields []string
	msg    string
}

func (e *AlertRulesError) Error() string { return e.msg }

// maxRuleShown is how much of a field that cannot be read its error quotes.
const maxRuleShown = 40

// parseAlertRules reads the hash's fields by the flags' validation
// (model.ParseThresholds, model.ValidateStale). A field that cannot be read is
// named in the error and held at its built-in value: instances that judge it
// alike, whenever each started, do not fight (the last good value would
// differ between one running before the mistake and one started after it).
func parseAlertRules(key string, h map[string]string) (AlertRules, error) {
	var r AlertRules
	var bad *AlertRulesError
	fail := func(field, v, why, held string) {
		if bad == nil {
			bad = &AlertRulesError{Key: key}
		} else {
			bad.msg += "; "
		}
		bad.Fields = append(bad.Fields, field)
		if len(v) > maxRuleShown {
			v = v[:maxRuleShown] + "…"
		}
		bad.msg += fmt.Sprintf("%s field %s holds %s (%s): judging by the built-in %s meanwhile",
			key, field, model.Sanitize(strconv.Quote(v)), why, held)
	}
	if v, ok := h[RuleDefaultAlerts]; ok {
		th, err := model.ParseThresholds(v)
		if err != nil {
			th = model.DefaultThresholds()
			fail(RuleDefaultAlerts, v, err.Error(), AlertRules{DefaultAlerts: th}.AlertsText())
		}
		r.DefaultAlerts = th
	}
	if v, ok := h[RuleStale]; ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err == nil {
			err = model.ValidateStale(d)
		}
		if err != nil {
			d = model.DefaultStale
			fail(RuleStale, v, strings.TrimPrefix(err.Error(), "time: "), d.String())
		}
		r.Stale = d
	}
	if v, ok := h[RuleSource]; ok {
		kind, pattern, _ := strings.Cut(strings.TrimSpace(v), " ")
		_, perr := CounterPrefix(pattern)
		switch k := SourceKind(kind); {
		case k == SourceStream && pattern == "", k == SourceCounters && (pattern == "" || perr == nil):
			r.Source, r.CounterPattern = k, pattern
		default:
			// not held: each instance reads its own source meanwhile
			fail(RuleSource, v, "not stream, or counters and a pattern like "+DefaultCounterPattern, "none (each instance's own --source)")
		}
	}
	if bad != nil {
		return r, bad
	}
	return r, nil
}

// ReadAlertRules returns the rules held under k (zero fields: not held). A
// field that cannot be read is returned at its built-in value with an
// *AlertRulesError naming it.
func ReadAlertRules(ctx context.Context, c redis.UniversalClient, k Keys) (AlertRules, error) {
	// its two fields, not the whole hash (a hand may have added others)
	vals, err := c.HMGet(ctx, k.AlertRules(), ruleNames...).Result()
	if err != nil {
		return AlertRules{}, fmt.Errorf("read the alert rules (%s): %w", k.AlertRules(), err)
	}
	return parseAlertRules(k.AlertRules(), ruleFields(vals))
}

// ruleFields maps an HMGET of RuleDefaultAlerts and RuleStale to the fields held.
func ruleFields(vals []any) map[string]string {
	h := map[string]string{}
	for i, f := range ruleNames {
		if i < len(vals) {
			if v, ok := vals[i].(string); ok {
				h[f] = v
			}
		}
	}
	return h
}

// SeedAlertRules stores each of own's rules that no instance stored yet
// (HSETNX: of two instances seeding at once, one wins) and returns the rules
// held then, in one round trip; a field held that cannot be read is returned
// as ReadAlertRules does.
func SeedAlertRules(ctx context.Context, c redis.UniversalClient, k Keys, own AlertRules) (AlertRules, error) {
	key := k.AlertRules()
	var all *redis.SliceCmd
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for f, v := range own.fields() {
			p.HSetNX(ctx, key, f, v)
		}
		all = p.HMGet(ctx, key, ruleNames...) // its fields, not what a hand added
		return nil
	})
	if err != nil {
		return AlertRules{}, fmt.Errorf("seed the alert rules (%s): %w", key, err)
	}
	return parseAlertRules(key, ruleFields(all.Val()))
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
