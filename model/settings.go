package model

import (
	"errors"
	"fmt"
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
}

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
}

// Settings returns the budget as workspace settings, so that a project is
// judged by Assess like a workspace: its limit is the cap, its budget alert a
// notification line.
func (b *ProjectBudget) Settings() Settings {
	return Settings{UsageLimit: b.Limit, BudgetAlert: b.Alert}
}

// Validate says what is wrong with the budget.
func (b *ProjectBudget) Validate() error {
	switch {
	case b.Alert < 0 || b.Limit < 0:
		return errors.New("project budget alert and limit must not be negative")
	case b.Limit > MaxCredits || b.Alert > MaxCredits:
		return fmt.Errorf("project budget larger than %d credits", int64(MaxCredits))
	case b.Limit > 0 && b.Alert > b.Limit:
		return fmt.Errorf("project budget alert %d is above its limit %d", b.Alert, b.Limit)
	}
	return nil
}
