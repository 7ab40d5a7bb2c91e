package estimator

import "fmt"

// InsufficientCreditsError is the pre-flight refusal (the seed's Pattern 3): the job
// was not started because the credits left do not cover its estimate plus the buffer.
type InsufficientCreditsError struct {
	// Op is the operation refused.
	Op Operation
	// Estimate is the job's upper-bound estimate in credits.
	Estimate int64
	// Buffer is floor(20 % of Estimate).
	Buffer int64
	// Required is Estimate + Buffer.
	Required int64
	// Remaining is the credits that were left.
	Remaining int64
	// Workspace, when the caller sets it, names the workspace that was short.
	Workspace string
}

// Error says the estimate, what remains and what to do, e.g. "Estimated 137 credits
// (164 with the 20 % buffer); only 150 remaining. Please add credits or reduce
// sample size / questions."
func (e *InsufficientCreditsError) Error() string {
	where := ""
	if e.Workspace != "" {
		where = " in " + e.Workspace
	}
	left := fmt.Sprintf("only %s remaining%s", FormatCredits(e.Remaining), where)
	if e.Remaining <= 0 {
		left = fmt.Sprintf("no credits remaining%s", where)
	}
	return fmt.Sprintf("Estimated %s credits (%s with the 20 %% buffer); %s. %s",
		FormatCredits(e.Estimate), FormatCredits(e.Required), left, Advice(e.Op))
}

// Shortfall returns how many more credits the job needs to pass the check.
func (e *InsufficientCreditsError) Shortfall() int64 { return e.Required - e.Remaining }

// Advice returns what to do when op cannot be afforded, as a sentence.
func Advice(op Operation) string {
	switch op {
	case FocusGroup:
		return "Please add credits or reduce sample size / questions."
	case Video:
		return "Please add credits or analyse a shorter video."
	}
	return "Please add credits or wait for the billing period to reset."
}

// Preflight checks q against the credits remaining: nil when CanAfford, else an
// *InsufficientCreditsError. Callers that know the workspace can set the error's
// Workspace field (find it with errors.As) before showing it.
func Preflight(q Quote, remaining int64) error {
	if CanAfford(q.Estimate, remaining) {
		return nil
	}
	return &InsufficientCreditsError{
		Op:        q.Op,
		Estimate:  q.Estimate,
		Buffer:    Buffer(q.Estimate),
		Required:  Required(q.Estimate),
		Remaining: remaining,
	}
}

// Verdict runs the pre-flight check and says its outcome in one sentence, for the
// command line and the estimator pane: the refusal's message when ok is false, else
// e.g. "Estimated 137 credits (164 with the 20 % buffer); 200 remaining, 36 to spare."
func Verdict(q Quote, remaining int64) (ok bool, message string) {
	err := Preflight(q, remaining)
	if err != nil {
		return false, err.Error()
	}
	return true, fmt.Sprintf("Estimated %s credits (%s with the 20 %% buffer); %s remaining, %s to spare.",
		FormatCredits(q.Estimate), FormatCredits(Required(q.Estimate)), FormatCredits(remaining), FormatCredits(remaining-Required(q.Estimate)))
}
