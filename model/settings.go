package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// builtinThresholds are the seed's alert thresholds (Pattern 4: "alerts at 50%,
// 75%, and 90% of monthly credits"), in percent of the cap. The only place they live.
var builtinThresholds = [...]int{50, 75, 90}

// DefaultThresholds returns a copy of the built-in alert thresholds, 50/75/90 %.
func DefaultThresholds() []int { return append([]int(nil), builtinThresholds[:]...) }

// Settings is a workspace's budget as stored (JSON) in the settings hash.
type Settings struct {
	// Allocation is the monthly credits the workspace may use; 0 means none set.
	Allocation int64 `json:"allocation"`
	// UsageLimit is a hard cap (402 budget_exceeded when reached); 0 means none.
	UsageLimit int64 `json:"usage_limit,omitempty"`
	// BudgetAlert is a credit amount at which to notify (the API's budget_alert); 0 means none.
	BudgetAlert int64 `json:"budget_alert,omitempty"`
	// Alerts are ascending percents of the cap, 1 to 3 of them; nil means the
	// configured defaults (alerts.thresholds), else 50, 75, 90.
	Alerts []int `json:"alerts,omitempty"`
	// RechargeBelow and RechargeAmount describe auto-recharge (Pattern 5): when
	// remaining credits fall below RechargeBelow, RechargeAmount are added. 0 means off.
	RechargeBelow  int64 `json:"recharge_below,omitempty"`
	RechargeAmount int64 `json:"recharge_amount,omitempty"`
	// RaisedAt is when the allocation was last raised (unix ms; 0 never):
	// credits added, which end a credits_exhausted OUT like a recharge. The
	// settings store stamps it on every raise, so a mavtop started after one
	// orders it against the 402s it reads back (a settings entry in the stream
	// carries the new allocation only, not the one it replaced).
	RaisedAt int64 `json:"raised_at,omitempty"`
	// LimitRaisedAt is when the usage limit was last raised or removed (unix
	// ms; 0 never): a budget_exceeded 402 dated before it (Event.At) no
	// longer refuses, as a credits_exhausted older than RaisedAt does not;
	// one dated at or after it does, wherever the raise's settings entry
	// stands in the stream. The settings store stamps it (LimitRaised), so
	// every path orders the raise against the 402s alike; a raise with no
	// newer stamp dates nothing and ends no 402 (projState.limitStands).
	LimitRaisedAt int64 `json:"limit_raised_at,omitempty"`
	// LimitRaisedFrom is the usage limit the last raise replaced (credits;
	// 0: not known, a raise the settings store did not stamp). A
	// budget_exceeded 402 dated before LimitRaisedAt was given under it:
	// which limit refused that call, the workspace's or its project's own,
	// is judged with the limits then (limitRaisedStamp), not the raised ones
	// (judged with those, a workspace raised from 500 to 10,000 made a
	// project at 100 of its own 1,000 "nearer" its limit, and its 402
	// stood: hostile24 A).
	LimitRaisedFrom int64 `json:"limit_raised_from,omitempty"`
	// Unreadable says why the value stored for the workspace could not be
	// read (UnreadableSettings: it names the field, sanitised); "" when it
	// could. A value present but unreadable is not "unset": every other field
	// is zero and Assess judges LevelUnknown, as for a counter that cannot be
	// read. Never stored (a decoded value never sets it).
	Unreadable string `json:"-"`
}

// AutoRecharges reports whether auto-recharge is on: both its threshold and
// its amount set (Pattern 5).
func (s *Settings) AutoRecharges() bool { return s.RechargeBelow > 0 && s.RechargeAmount > 0 }

// Thresholds returns the alert thresholds in force: the settings' own, else
// defaults, else the built-in 50/75/90 %. The slice is shared: do not modify it.
func (s *Settings) Thresholds(defaults []int) []int {
	switch {
	case len(s.Alerts) > 0:
		return s.Alerts
	case len(defaults) > 0:
		return defaults
	}
	return builtinThresholds[:]
}

// MaxThresholdsText is the longest list of thresholds ParseThresholds reads,
// in bytes: three percents need at most 8 ("99,99,99"); a longer one (a
// hand's thousands of numbers in the stored rules) is refused before it is
// split.
const MaxThresholdsText = 64

// ParseThresholds is the one reading of the default alert thresholds, the
// flag's (--default-alerts, mavtop.toml's alerts.thresholds) and the one
// stored in Redis for every instance (the default_alerts field of
// {prefix}:alert_rules, mavtop budget rules): three ascending whole percents
// between 1 and 99 separated by commas ("50,75,90"; spaces and surrounding
// brackets allowed), at most MaxThresholdsText bytes. The error says what is
// wrong in words a user can act on.
func ParseThresholds(s string) ([]int, error) {
	if len(s) > MaxThresholdsText {
		return nil, fmt.Errorf("want three thresholds (like 50,75,90), got %d bytes", len(s))
	}
	var th []int
	for p := range strings.SplitSeq(strings.Trim(strings.TrimSpace(s), "[]"), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", p)
		}
		th = append(th, n)
	}
	if len(th) != 3 {
		return nil, fmt.Errorf("want three thresholds (like 50,75,90), got %d", len(th))
	}
	if err := ValidateThresholds(th); err != nil {
		return nil, err
	}
	return th, nil
}

// ValidateThresholds says what is wrong with a list of alert thresholds: 1 to
// 3 ascending percents between 1 and 99.
func ValidateThresholds(th []int) error {
	var errs []error
	if len(th) > 3 {
		errs = append(errs, fmt.Errorf("at most 3 alert thresholds, got %d", len(th)))
	}
	ascend := true
	for i, a := range th {
		if a <= 0 || a >= 100 {
			errs = append(errs, fmt.Errorf("alert threshold %d%% must be between 1 and 99", a))
		} else if i > 0 && a <= th[i-1] {
			ascend = false
		}
	}
	if !ascend {
		// once for the list, not once per pair: 9,8,7 is one mistake
		s := make([]string, len(th))
		for i, a := range th {
			s[i] = strconv.Itoa(a)
		}
		errs = append(errs, fmt.Errorf("alert thresholds must ascend, got %s", strings.Join(s, ",")))
	}
	return errors.Join(errs...)
}

// Validate says what is wrong with the settings, in words a user can act on.
func (s *Settings) Validate() error {
	var errs []error
	if s.Allocation < 0 || s.Allocation > MaxCredits {
		errs = append(errs, fmt.Errorf("allocation %d must be between 0 and %d", s.Allocation, int64(MaxCredits)))
	}
	if s.UsageLimit < 0 || s.UsageLimit > MaxCredits {
		errs = append(errs, fmt.Errorf("usage limit %d must be between 0 (none) and %d", s.UsageLimit, int64(MaxCredits)))
	}
	if s.BudgetAlert < 0 {
		errs = append(errs, fmt.Errorf("budget alert %d must not be negative", s.BudgetAlert))
	}
	if err := ValidateThresholds(s.Alerts); err != nil {
		errs = append(errs, err)
	}
	if s.RaisedAt < 0 {
		errs = append(errs, fmt.Errorf("raised_at %d must not be negative", s.RaisedAt))
	}
	if s.LimitRaisedFrom < 0 {
		errs = append(errs, fmt.Errorf("limit_raised_from %d must not be negative", s.LimitRaisedFrom))
	}
	if s.LimitRaisedAt < 0 {
		errs = append(errs, fmt.Errorf("limit_raised_at %d must not be negative", s.LimitRaisedAt))
	}
	if s.RechargeBelow < 0 || s.RechargeAmount < 0 {
		errs = append(errs, errors.New("recharge threshold and amount must not be negative"))
	}
	if (s.RechargeBelow > 0) != (s.RechargeAmount > 0) {
		errs = append(errs, errors.New("auto-recharge needs both a threshold (--recharge-below) and an amount (--recharge-amount)"))
	}
	return errors.Join(errs...)
}

// ProjectBudget is a project's budget inside a workspace (Pattern 7).
type ProjectBudget struct {
	// Alert is a credit amount at which to notify; 0 means none.
	Alert int64 `json:"budget_alert,omitempty"`
	// Limit is a hard cap in credits (402 budget_exceeded when reached); 0 means none.
	Limit int64 `json:"usage_limit,omitempty"`
	// RaisedAt is when Limit was last raised or removed (unix ms; 0 never):
	// Settings.LimitRaisedAt for the project's limit.
	RaisedAt int64 `json:"raised_at,omitempty"`
	// RaisedFrom is the limit the last raise replaced (credits; 0: not
	// known): Settings.LimitRaisedFrom for the project's limit.
	RaisedFrom int64 `json:"raised_from,omitempty"`
	// Unreadable is Settings.Unreadable for the project's stored budget: the
	// project is judged LevelUnknown (it may have a limit, reached or not).
	Unreadable string `json:"-"`
	// UsageUnreadable says why the project's credits (its used_by fields)
	// cannot be read, naming the key or field: the project alone is judged
	// LevelUnknown (Usage.Unreadable), its workspace by its own counters —
	// the verdict ranks the unknown project as check ranks UNKNOWN, never
	// above a level known to be high, critical or OUT. Not stored: a read
	// of the counters sets it (Snapshot.MarkProjectUnreadable).
	UsageUnreadable string `json:"-"`
}

// LimitRaised reports whether a usage limit changed from old to now lets
// through calls old refused: raised, or removed (0: none). The settings store
// stamps such a change (Settings.LimitRaisedAt, ProjectBudget.RaisedAt), and
// a budget_exceeded 402 by the old limit dated before the stamp no longer
// refuses (README, "Forecasts": the refusal rules), as credit added ends a
// credits_exhausted one.
func LimitRaised(old, now int64) bool { return old > 0 && (now <= 0 || now > old) }

// Judged reports whether the budget is judged by Assess: it has a usage
// limit, or its stored value cannot be read (so it may have one).
func (b *ProjectBudget) Judged() bool { return b.Limit > 0 || b.Unreadable != "" }

// Settings returns the budget as workspace settings, so that a project is
// judged by Assess like a workspace: its limit is the cap, its budget alert a
// notification line.
func (b *ProjectBudget) Settings() Settings {
	return Settings{UsageLimit: b.Limit, BudgetAlert: b.Alert, Unreadable: b.Unreadable}
}

// Validate says what is wrong with the budget.
func (b *ProjectBudget) Validate() error {
	switch {
	case b.Alert < 0 || b.Limit < 0:
		return errors.New("project budget alert and limit must not be negative")
	case b.RaisedAt < 0:
		return fmt.Errorf("raised_at %d must not be negative", b.RaisedAt)
	case b.RaisedFrom < 0:
		return fmt.Errorf("raised_from %d must not be negative", b.RaisedFrom)
	case b.Limit > MaxCredits || b.Alert > MaxCredits:
		return fmt.Errorf("project budget larger than %d credits", int64(MaxCredits))
	case b.Limit > 0 && b.Alert > b.Limit:
		return fmt.Errorf("project budget alert %d is above its limit %d", b.Alert, b.Limit)
	}
	return nil
}

// UnreadableSettings is the reason a settings hash field's value cannot be
// used, as every surface says it: `settings "acme" cannot be read (why)`,
// the field sanitised and cut (it is anyone's text) and why on one line. A
// workspace (or project) with such a value is judged unknown, never unset.
func UnreadableSettings(field string, why error) string {
	var parts []string // a joined error (several bad fields): one line, "; " between
	for _, line := range strings.Split(why.Error(), "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			parts = append(parts, line)
		}
	}
	msg := strings.Join(parts, "; ")
	return fmt.Sprintf("settings %q cannot be read (%s)", Truncate(Sanitize(field), 80), Truncate(Sanitize(msg), 200))
}

// DecodeSettings reads and validates one workspace's settings as stored in
// the settings hash (JSON); the error says what is wrong, naming the key
// whose value cannot be read ("usage_limit: ..."). The feed reads the common
// form faster; what it accepts or refuses, and the error said, is this.
func DecodeSettings(raw string) (Settings, error) {
	var s Settings
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Settings{}, fmt.Errorf("settings JSON: %w", keyedJSONError(raw, err))
	}
	if err := exactKeys(raw, settingsKeys[:]); err != nil {
		return Settings{}, fmt.Errorf("settings JSON: %w", err)
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// DecodeBudget is DecodeSettings for a project's budget.
func DecodeBudget(raw string) (ProjectBudget, error) {
	var b ProjectBudget
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return ProjectBudget{}, fmt.Errorf("project budget JSON: %w", keyedJSONError(raw, err))
	}
	if err := exactKeys(raw, budgetKeys[:]); err != nil {
		return ProjectBudget{}, fmt.Errorf("project budget JSON: %w", err)
	}
	if err := b.Validate(); err != nil {
		return ProjectBudget{}, err
	}
	return b, nil
}

// settingsKeys and budgetKeys are Settings' and ProjectBudget's JSON keys.
var (
	settingsKeys = [...]string{"allocation", "usage_limit", "budget_alert", "alerts", "recharge_below", "recharge_amount", "raised_at", "limit_raised_at", "limit_raised_from"}
	budgetKeys   = [...]string{"budget_alert", "usage_limit", "raised_at", "raised_from"}
)

// exactKeys refuses a stored value with a key that is one of known in
// another case ("ALLOCATION", "Usage_Limit", "raiſed_at"): encoding/json
// matches keys without regard to case and would read it as that field
// ({"allocation":1000,"Allocation":100} as 100), while Python's json, and
// any reader of the hash that looks keys up, reads it exactly or not at
// all. Refused, the workspace is judged unknown and the key named, on
// every surface, rather than two readers judging two allocations. Keys
// that are no one's are ignored, as by both. raw is already known to be a
// JSON object (it decoded).
func exactKeys(raw string, known []string) error {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &fields) != nil {
		return nil
	}
	var bad []string
	for k := range fields {
		if slices.Contains(known, k) {
			continue
		}
		for _, want := range known {
			if strings.EqualFold(k, want) {
				bad = append(bad, fmt.Sprintf("%s is not %q (keys are matched exactly)", strconv.Quote(Truncate(Sanitize(k), 40)), want))
				break
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return errors.New(strings.Join(bad, "; "))
}

// fieldWords are the operator's terms for the stored JSON's keys: what
// budget set's flags and budget show's columns call them, not the JSON's
// names ("usage limit", not usage_limit).
var fieldWords = map[string]string{
	"allocation": "allocation", "usage_limit": "usage limit", "budget_alert": "budget alert",
	"alerts": "alert thresholds", "recharge_below": "auto-recharge threshold",
	"recharge_amount": "auto-recharge amount", "raised_at": "allocation raise time",
	"limit_raised_at": "usage limit raise time", "limit_raised_from": "usage limit before its raise",
	"raised_from": "usage limit before its raise", "start_day": "billing period start day",
	"tz": "billing period time zone",
}

// FieldWords is a stored settings key in an operator's terms (fieldWords),
// or the key itself, sanitised, when it is none of mavtop's.
func FieldWords(key string) string {
	if w, ok := fieldWords[key]; ok {
		return w
	}
	return strconv.Quote(Truncate(Sanitize(key), 40))
}

// KeyedJSONError is keyedJSONError for any stored settings value (the
// billing period config too).
func KeyedJSONError(raw string, err error) error { return keyedJSONError(raw, err) }

// keyedJSONError names, in an operator's terms (FieldWords), the key whose
// value encoding/json refused: a value of the wrong type (a string "1000",
// an object, 1e300, a fraction) by its field, a value that is no JSON at all
// (NaN) by the last key before it.
func keyedJSONError(raw string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		want := "an integer in range"
		if te.Type != nil && te.Type.Kind() == reflect.String {
			want = "text"
		} else if te.Type != nil && te.Type.Kind() == reflect.Slice {
			want = "a list of integers"
		}
		return fmt.Errorf("%s holds %s, want %s", FieldWords(te.Field), te.Value, want)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && int(se.Offset) <= len(raw) {
		before := raw[:se.Offset]
		// only when the error is in the value right after a key: not in a
		// later key, or inside an array or object
		if i := strings.LastIndex(before, "\":"); i > 0 && !strings.ContainsAny(before[i+2:], ",\"{}[]") {
			if j := strings.LastIndex(before[:i], "\""); j >= 0 {
				return fmt.Errorf("%s holds no JSON value (%v)", FieldWords(before[j+1:i]), err)
			}
		}
	}
	return err
}
