package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// Settings entries for the billing-period config carry these values: the entry
// needs a workspace id to be a valid event, and op tells it apart from a real
// workspace's settings. The Subscriber never hands such an entry to its caller:
// it re-reads the snapshot under the new rule instead (reason ReasonPeriod).
const (
	PeriodEntryWorkspace = "_period"
	PeriodEntryOp        = "period"
)

// InvalidError is a change refused before anything was written: the value does
// not validate. Commands turn it into exit code 2.
type InvalidError struct {
	// What names the value refused ("settings of acme").
	What string
	// Err says why.
	Err error
}

// Error says what was refused and why.
func (e *InvalidError) Error() string { return e.What + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *InvalidError) Unwrap() error { return e.Err }

// StoreOptions configure a SettingsStore or Balances.
type StoreOptions struct {
	// Prefix is the key prefix (DefaultPrefix).
	Prefix string
	// Now stamps settings entries and picks the current period (time.Now).
	Now func() time.Time
	// MaxLen trims the stream like the publisher does (DefaultMaxLen); < 0 never.
	MaxLen int64
	// IDs, when set, writes the settings entries' stream ids from Now
	// (ClockIDs, shared with the publishers of the same stream); nil: Redis's
	// clock.
	IDs *ClockIDs
	// PeriodLog, for Balances: when set, says in the producer's log when the
	// stored billing-period config cannot be read (the counters of
	// model.PeriodFallback's period are then the ones read) and when it can
	// again, once per change of the stored value. The other stores ignore it.
	PeriodLog *PeriodLog
}

func (o *StoreOptions) fill() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxLen == 0 {
		o.MaxLen = DefaultMaxLen
	}
}

// SettingsStore reads and writes workspace settings, project budgets and the
// billing-period config in the settings hash. Every change is also written to
// the stream as a kind=settings entry, in the same MULTI/EXEC, so every running
// mavtop updates live. It is safe for concurrent use.
type SettingsStore struct {
	c    redis.UniversalClient
	keys Keys
	opt  StoreOptions
}

// NewSettingsStore returns a settings store on c.
func NewSettingsStore(c redis.UniversalClient, opt StoreOptions) *SettingsStore {
	opt.fill()
	return &SettingsStore{c: c, keys: Keys{Prefix: opt.Prefix}, opt: opt}
}

// Workspace returns a workspace's settings; ok is false when none are stored.
func (s *SettingsStore) Workspace(ctx context.Context, ws string) (set model.Settings, ok bool, err error) {
	raw, err := s.c.HGet(ctx, s.keys.Settings(), ws).Result()
	if errors.Is(err, redis.Nil) {
		return model.Settings{}, false, nil
	}
	if err != nil {
		return model.Settings{}, false, fmt.Errorf("read settings of %s: %w", ws, err)
	}
	set, err = decodeSettings(raw)
	if err != nil {
		return model.Settings{}, false, fmt.Errorf("settings of %s: %w", ws, err)
	}
	return set, true, nil
}

// Project returns a project's budget; ok is false when none is stored.
func (s *SettingsStore) Project(ctx context.Context, ws, project string) (b model.ProjectBudget, ok bool, err error) {
	key := model.ProjectKey(ws, project)
	raw, err := s.c.HGet(ctx, s.keys.Settings(), key).Result()
	if errors.Is(err, redis.Nil) {
		return model.ProjectBudget{}, false, nil
	}
	if err != nil {
		return model.ProjectBudget{}, false, fmt.Errorf("read budget of %s: %w", key, err)
	}
	b, err = decodeBudget(raw)
	if err != nil {
		return model.ProjectBudget{}, false, fmt.Errorf("budget of %s: %w", key, err)
	}
	return b, true, nil
}

// StoredPeriod is the billing-period config as the settings hash holds it.
type StoredPeriod struct {
	// Rule is what every surface cuts periods by: the stored rule, calendar
	// months in UTC when none is stored, model.PeriodFallback when
	// Unreadable.
	Rule model.PeriodRule
	// Raw is the value as stored ("" when absent), not sanitised.
	Raw string
	// Unreadable says why Raw cannot be read (*model.PeriodConfigError:
	// sanitised, bounded); nil when it can or is absent.
	Unreadable error
}

// Config is the config of the rule judged by (the fallback's when unreadable).
func (p StoredPeriod) Config() model.PeriodConfig { return p.Rule.Config() }

// Period reads the stored billing-period config (model.ParsePeriodConfig). A
// value that cannot be read is no error: its rule is model.PeriodFallback and
// Unreadable says why. The error is Redis's only.
func (s *SettingsStore) Period(ctx context.Context) (StoredPeriod, error) {
	raw, err := s.c.HGet(ctx, s.keys.Settings(), PeriodSettingsField).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return StoredPeriod{}, fmt.Errorf("read billing period config: %w", err)
	}
	rule, bad := model.ParsePeriodConfig(raw)
	return StoredPeriod{Rule: rule, Raw: raw, Unreadable: bad}, nil
}

// SetWorkspace replaces a workspace's settings after validating them.
func (s *SettingsStore) SetWorkspace(ctx context.Context, ws string, set model.Settings) error {
	_, err := s.UpdateWorkspace(ctx, ws, func(cur *model.Settings) error { *cur = set; return nil })
	return err
}

// UpdateWorkspace changes a workspace's settings with edit, which gets the
// stored settings (zero when none). The read and the write are one optimistic
// transaction (WATCH), so concurrent edits of other fields are not lost.
func (s *SettingsStore) UpdateWorkspace(ctx context.Context, ws string, edit func(*model.Settings) error) (model.Settings, error) {
	if !model.IsID(ws) {
		return model.Settings{}, &InvalidError{What: "workspace", Err: fmt.Errorf("%q is not 1–%d of [A-Za-z0-9._:-]", ws, model.MaxIDLen)}
	}
	var out model.Settings
	err := s.update(ctx, ws, func(raw string, found bool) (string, model.Event, error) {
		var cur model.Settings
		broken := false
		if found {
			var err error
			if cur, err = decodeSettings(raw); err != nil {
				cur, broken = model.Settings{}, true // overwrite a broken value
				// keeping the allocation's stamp if it can still be read,
				// by its exact key as every reader reads it (encoding/json
				// matches keys in any case: a "RAISED_AT" every reader
				// refused was kept, an hour ahead, and hid the 402s after
				// the repair; hostile25 4): a repair that drops it revives
				// an OUT its raise ended
				var fields map[string]json.RawMessage
				if json.Unmarshal([]byte(raw), &fields) == nil {
					if at, err := strconv.ParseInt(string(fields["raised_at"]), 10, 64); err == nil && at > 0 {
						cur.RaisedAt = at
					}
				}
			}
		}
		prev := cur
		if err := edit(&cur); err != nil {
			return "", model.Event{}, err
		}
		// a raise adds credits (it ends a credits_exhausted OUT): stamped in
		// the hash, the truth a mavtop started later reads; setting one for
		// the first time configures mavtop and adds none
		cur.RaisedAt, cur.LimitRaisedAt, cur.LimitRaisedFrom = prev.RaisedAt, prev.LimitRaisedAt, prev.LimitRaisedFrom
		if prev.Allocation > 0 && cur.Allocation > prev.Allocation {
			cur.RaisedAt = time.Now().UnixMilli()
		}
		// a usage limit raised or removed ends the 402 budget_exceeded it
		// gave (model.LimitRaised): stamped likewise, with the limit it
		// replaced (which limit refused a 402 before it is judged with that)
		switch {
		case model.LimitRaised(prev.UsageLimit, cur.UsageLimit):
			cur.LimitRaisedAt, cur.LimitRaisedFrom = time.Now().UnixMilli(), prev.UsageLimit
		case broken:
			// the limit a broken value held, and its stamp, are unknown: the
			// repair dates a change of it, so a 402 given before it ends (a
			// raise's stamp lost with the value revived the 402 it ended,
			// check CRITICAL after the settings were repaired as they were:
			// hostile24 E); one given after it refuses again
			cur.LimitRaisedAt, cur.LimitRaisedFrom = time.Now().UnixMilli(), 0
		}
		if err := cur.Validate(); err != nil {
			return "", model.Event{}, &InvalidError{What: "settings of " + ws, Err: err}
		}
		js, err := json.Marshal(cur)
		if err != nil {
			return "", model.Event{}, err
		}
		out = cur
		return string(js), model.Event{Workspace: ws, Msg: string(js)}, nil
	})
	return out, err
}

// SetProject replaces a project's budget after validating it.
func (s *SettingsStore) SetProject(ctx context.Context, ws, project string, b model.ProjectBudget) error {
	_, err := s.UpdateProject(ctx, ws, project, func(cur *model.ProjectBudget) error { *cur = b; return nil })
	return err
}

// UpdateProject changes a project's budget with edit, like UpdateWorkspace.
func (s *SettingsStore) UpdateProject(ctx context.Context, ws, project string, edit func(*model.ProjectBudget) error) (model.ProjectBudget, error) {
	if !model.IsID(ws) || !model.IsID(project) {
		return model.ProjectBudget{}, &InvalidError{What: "project", Err: fmt.Errorf("%q is not WORKSPACE/PROJECT with ids of 1–%d of [A-Za-z0-9._:-]", ws+"/"+project, model.MaxIDLen)}
	}
	var out model.ProjectBudget
	err := s.update(ctx, model.ProjectKey(ws, project), func(raw string, found bool) (string, model.Event, error) {
		var cur model.ProjectBudget
		broken := false
		if found {
			var err error
			if cur, err = decodeBudget(raw); err != nil {
				cur, broken = model.ProjectBudget{}, true // overwrite a broken value
			}
		}
		prev := cur
		if err := edit(&cur); err != nil {
			return "", model.Event{}, err
		}
		cur.RaisedAt, cur.RaisedFrom = prev.RaisedAt, prev.RaisedFrom // the store's stamp, as UpdateWorkspace's
		switch {
		case model.LimitRaised(prev.Limit, cur.Limit):
			cur.RaisedAt, cur.RaisedFrom = time.Now().UnixMilli(), prev.Limit
		case broken: // as UpdateWorkspace's: the repair dates a change of the limit
			cur.RaisedAt, cur.RaisedFrom = time.Now().UnixMilli(), 0
		}
		if err := cur.Validate(); err != nil {
			return "", model.Event{}, &InvalidError{What: "budget of " + ws + "/" + project, Err: err}
		}
		js, err := json.Marshal(cur)
		if err != nil {
			return "", model.Event{}, err
		}
		out = cur
		return string(js), model.Event{Workspace: ws, Project: project, Msg: string(js)}, nil
	})
	return out, err
}

// SetPeriod stores the billing-period config. Every running mavtop re-reads its
// snapshot under the new rule; Go producers pick it up within a minute. Change it
// at the start of a billing period: counters already written stay where they are.
func (s *SettingsStore) SetPeriod(ctx context.Context, cfg model.PeriodConfig) error {
	rule, err := cfg.Rule()
	if err != nil {
		return &InvalidError{What: "billing period", Err: err}
	}
	cfg = rule.Config()
	return s.update(ctx, PeriodSettingsField, func(string, bool) (string, model.Event, error) {
		js, err := json.Marshal(cfg)
		if err != nil {
			return "", model.Event{}, err
		}
		return string(js), model.Event{Workspace: PeriodEntryWorkspace, Op: PeriodEntryOp, Msg: string(js)}, nil
	})
}

// update runs one WATCH/MULTI: read field, compute the new value and its stream
// entry, then HSET and XADD together. It retries when another writer got there
// first.
func (s *SettingsStore) update(ctx context.Context, field string, compute func(raw string, found bool) (string, model.Event, error)) error {
	key := s.keys.Settings()
	for range 10 {
		err := s.c.Watch(ctx, func(tx *redis.Tx) error {
			raw, err := tx.HGet(ctx, key, field).Result()
			found := err == nil
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("read settings: %w", err)
			}
			val, ev, err := compute(raw, found)
			if err != nil {
				return err
			}
			ev.Kind = model.KindSettings
			ev.TS = s.opt.Now().UnixMilli()
			if err := ev.Validate(); err != nil {
				return fmt.Errorf("settings entry: %w", err)
			}
			s.opt.IDs.lock()
			defer s.opt.IDs.unlock()
			cmds, err := tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.HSet(ctx, key, field, val)
				a := &redis.XAddArgs{Stream: s.keys.Stream(), ID: s.opt.IDs.id(ev.TS), Values: ev.Fields()}
				if s.opt.MaxLen > 0 {
					a.MaxLen, a.Approx = s.opt.MaxLen, true
				}
				pipe.XAdd(ctx, a)
				return nil
			})
			return queuedRefusal(cmds, err) // READONLY, not EXECABORT alone
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		var inv *InvalidError
		if errors.As(err, &inv) {
			return err
		}
		if err != nil {
			return fmt.Errorf("write settings %s: %w", field, err)
		}
		return nil
	}
	return fmt.Errorf("write settings %s: too many concurrent changes, try again", field)
}
