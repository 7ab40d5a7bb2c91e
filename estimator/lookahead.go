package estimator

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"mavtop/model"
)

// Budget is what LookAhead needs to know about the workspace a job would run in.
type Budget struct {
	// Workspace names the workspace in messages ("" reads "the workspace").
	Workspace string
	// Used is the credits used so far this billing period.
	Used int64
	// Allocation is the credits the workspace may use this period; 0 means none set,
	// and then there is nothing to look ahead to.
	Allocation int64
	// CapName is what Allocation is in the messages: "" reads "allocation";
	// "usage limit" when the usage limit is the cap that binds (mavtop's
	// model.CapLimit), where "used its allocation (500 of 400)" named the
	// wrong figure.
	CapName string
	// Thresholds are the alert thresholds in force, ascending percents of
	// Allocation between 1 and 100 (model.Status.Thresholds: the workspace's own,
	// else the configured defaults); none means no threshold look-ahead.
	Thresholds []int
	// BurnPerHour is the current burn rate in credits per hour (0 when idle).
	BurnPerHour float64
	// PeriodLeft is the time until the billing period ends and usage resets.
	PeriodLeft time.Duration
}

// Outlook is LookAhead's answer: a warning to show beside the pre-flight verdict.
// It never blocks a job; only Preflight does.
type Outlook struct {
	// UsedAfter is Budget.Used plus the job's estimate.
	UsedAfter int64
	// Threshold is the alert threshold (percent) the job crosses, or the next one the
	// workspace reaches at the current burn before the period ends; 0 for none.
	Threshold int
	// CrossesNow is true when the job itself takes the workspace past Threshold.
	CrossesNow bool
	// CrossesIn is how long after the job, at the current burn, the workspace reaches
	// Threshold (when Threshold > 0 and not CrossesNow).
	CrossesIn time.Duration
	// RunsOut is true when the allocation is used up before the period ends.
	RunsOut bool
	// RunsOutNow is true when the job itself (or earlier use) uses up the allocation.
	RunsOutNow bool
	// RunsOutIn is how long after the job, at the current burn, the allocation lasts
	// (when RunsOut and not RunsOutNow).
	RunsOutIn time.Duration
	// Message says the above in one line, "" when there is nothing to warn about.
	Message string
}

// maxBudgetCredits bounds Used, Allocation and the estimate so that percent
// arithmetic cannot overflow; it is far above any real allocation.
const maxBudgetCredits = 1 << 50

// LookAhead says what running a job of estimate credits would do to workspace b:
// whether it takes the workspace past its next alert threshold now or, at today's
// burn, before the period ends, and whether the allocation would run out before the
// period ends. It is a warning, not a verdict: see Preflight for that. It returns an
// error for negative or oversized credits, a negative or non-finite burn rate, a
// negative time left, or thresholds that are not ascending percents in 1–100.
func LookAhead(b Budget, estimate int64) (Outlook, error) {
	if err := b.validate(estimate); err != nil {
		return Outlook{}, err
	}
	out := Outlook{UsedAfter: b.Used + estimate}
	if b.Allocation == 0 {
		return out, nil
	}
	thresholds := b.Thresholds
	// at is the first amount of credits used that counts as having reached t %.
	at := func(t int) int64 { return (int64(t)*b.Allocation + 99) / 100 }

	for _, t := range thresholds {
		switch {
		case b.Used >= at(t): // already passed before this job
		case out.UsedAfter >= at(t):
			out.Threshold, out.CrossesNow = t, true // keep the highest the job passes
		case out.Threshold == 0:
			if d, ok := b.within(at(t) - out.UsedAfter); ok {
				out.Threshold, out.CrossesIn = t, d
			}
		}
		if out.Threshold != 0 && !out.CrossesNow {
			break
		}
	}

	if out.UsedAfter >= b.Allocation {
		out.RunsOut, out.RunsOutNow = true, true
	} else if d, ok := b.within(b.Allocation - out.UsedAfter); ok {
		out.RunsOut, out.RunsOutIn = true, d
	}
	out.Message = b.message(out)
	return out, nil
}

// within returns how long the current burn takes to use credits, and whether that
// is before the period ends.
func (b Budget) within(credits int64) (time.Duration, bool) {
	if b.BurnPerHour <= 0 {
		return 0, false
	}
	seconds := float64(credits) / b.BurnPerHour * 3600
	if seconds >= b.PeriodLeft.Seconds() {
		return 0, false
	}
	return time.Duration(seconds * float64(time.Second)), true
}

func (b Budget) validate(estimate int64) error {
	var problems []string
	for _, v := range []struct {
		name  string
		value int64
	}{{"used", b.Used}, {"allocation", b.Allocation}, {"estimate", estimate}} {
		if v.value < 0 || v.value > maxBudgetCredits {
			problems = append(problems, fmt.Sprintf("%s %d must be between 0 and %d credits", v.name, v.value, int64(maxBudgetCredits)))
		}
	}
	if b.BurnPerHour < 0 || math.IsNaN(b.BurnPerHour) || math.IsInf(b.BurnPerHour, 0) {
		problems = append(problems, fmt.Sprintf("burn rate %v credits/hour must be a finite number ≥ 0", b.BurnPerHour))
	}
	if b.PeriodLeft < 0 {
		problems = append(problems, fmt.Sprintf("time left in the period %v must not be negative", b.PeriodLeft))
	}
	for i, t := range b.Thresholds {
		if t < 1 || t > 100 {
			problems = append(problems, fmt.Sprintf("alert threshold %d %% must be between 1 and 100", t))
		} else if i > 0 && t <= b.Thresholds[i-1] {
			problems = append(problems, fmt.Sprintf("alert thresholds must ascend: %d %% after %d %%", t, b.Thresholds[i-1]))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("look-ahead: " + strings.Join(problems, "; "))
}

// message words an outlook for the estimator pane and the command line.
func (b Budget) message(o Outlook) string {
	ws := b.Workspace
	if ws == "" {
		ws = "the workspace"
	}
	capName := b.CapName
	if capName == "" {
		capName = "allocation"
	}
	switch {
	case b.Used >= b.Allocation:
		return fmt.Sprintf("%s has already used its %s (%s of %s credits)", ws, capName, FormatCredits(b.Used), FormatCredits(b.Allocation))
	case o.RunsOutNow:
		return fmt.Sprintf("this job uses up %s's %s (%s of %s credits after it)", ws, capName, FormatCredits(o.UsedAfter), FormatCredits(b.Allocation))
	}
	var s string
	switch {
	case o.CrossesNow:
		s = fmt.Sprintf("this job takes %s past %d %% (%s after it)", ws, o.Threshold, model.FormatPercent(float64(o.UsedAfter)*100/float64(b.Allocation)))
	case o.Threshold != 0:
		s = fmt.Sprintf("after this job, at today's burn, %s crosses %d %% in %s", ws, o.Threshold, Humanize(o.CrossesIn))
	}
	if !o.RunsOut {
		return s
	}
	runsOut := fmt.Sprintf("runs out before the period ends (in %s)", Humanize(o.RunsOutIn))
	switch {
	case s == "":
		return fmt.Sprintf("after this job, at today's burn, %s %s", ws, runsOut)
	case o.CrossesNow:
		return s + "; at today's burn it " + runsOut
	}
	return s + " and " + runsOut
}
