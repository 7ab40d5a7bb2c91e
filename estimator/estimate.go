package estimator

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Params are the inputs an operation's price depends on. A field an operation does
// not take must be zero (so a misplaced value is caught, not silently ignored).
type Params struct {
	// SampleSize is a focus group's number of respondents, 1 to MaxSampleSize.
	SampleSize int `json:"sample_size,omitempty"`
	// Questions is a focus group's number of questions, 1 to MaxQuestions.
	Questions int `json:"questions,omitempty"`
	// Seconds is a video's length in whole seconds (round up), 1 to MaxSeconds.
	Seconds int `json:"seconds,omitempty"`
}

// Quote is the price of one job: its range, the upper bound a pre-flight check uses,
// and the 20 % buffer on top of it.
type Quote struct {
	// Op is the operation priced.
	Op Operation `json:"operation"`
	// Params are the inputs the price was computed from.
	Params Params `json:"params,omitzero"`
	// Low and High are the expected cost range in credits.
	Low  int64 `json:"low"`
	High int64 `json:"high"`
	// Estimate is the conservative estimate a pre-flight check uses: the upper bound, High.
	Estimate int64 `json:"estimate"`
	// Buffer is floor(20 % of Estimate), the seed's safety margin.
	Buffer int64 `json:"buffer"`
	// Required is Estimate + Buffer: the credits that must remain for the job to go ahead.
	Required int64 `json:"required"`
	// Basis says in words how the price was derived ("medium focus group (26–50): 125 + 2 × 6 questions").
	Basis string `json:"basis"`
}

// Estimate prices op with p. It fails, never returning a silent zero, on an unknown
// operation, a missing or out-of-range parameter, or a parameter op does not take.
func Estimate(op Operation, p Params) (Quote, error) {
	if !op.Valid() {
		return Quote{}, fmt.Errorf("unknown operation %q (valid: %s)", string(op), OperationNames())
	}
	if err := checkParams(op, p); err != nil {
		return Quote{}, fmt.Errorf("%s: %w", op, err)
	}
	q := Quote{Op: op, Params: p}
	switch op {
	case FocusGroup:
		c := focusGroupCost(p.SampleSize)
		q.Low = c.Range.Low
		q.High = c.Base + PerQuestion*int64(p.Questions)
		q.Basis = fmt.Sprintf("%s focus group (%s respondents): %d + %d × %d questions",
			c.Name, sampleSizeSpan(c), c.Base, PerQuestion, p.Questions)
	case Video:
		b := videoBand(p.Seconds)
		q.Low, q.High = b.Range.Low, b.Range.High
		q.Basis = fmt.Sprintf("video of %d s: %s band (%s)", p.Seconds, b.Name, secondsSpan(b))
	default:
		r := fixedCosts[op]
		q.Low, q.High = r.Low, r.High
		q.Basis = "cost table for " + op.Endpoint()
	}
	q.Estimate = q.High
	q.Buffer = Buffer(q.Estimate)
	q.Required = Required(q.Estimate)
	return q, nil
}

// checkParams checks that p holds exactly what op needs, each within its limits.
func checkParams(op Operation, p Params) error {
	var problems []string
	check := func(param Param, v, max int, what string) {
		switch {
		case !op.Takes(param) && v != 0:
			problems = append(problems, fmt.Sprintf("takes no %s (got %d); only %s does", param, v, takers(param)))
		case !op.Takes(param):
		case v < 1:
			problems = append(problems, fmt.Sprintf("%s must be at least 1, got %d", what, v))
		case v > max:
			problems = append(problems, fmt.Sprintf("%s must be at most %d, got %d", what, max, v))
		}
	}
	check(ParamSampleSize, p.SampleSize, MaxSampleSize, "sample size")
	check(ParamQuestions, p.Questions, MaxQuestions, "questions")
	check(ParamSeconds, p.Seconds, MaxSeconds, "video length in seconds")
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// takers names the operations that take param.
func takers(param Param) string {
	for _, op := range operations {
		if op.Takes(param) {
			return string(op)
		}
	}
	return "none"
}

// sampleSizeSpan formats a size class's sample sizes ("26–50").
func sampleSizeSpan(c FocusGroupCost) string {
	if c.MaxSampleSize >= MaxSampleSize {
		return fmt.Sprintf("%d and more", c.MinSampleSize)
	}
	return fmt.Sprintf("%d–%d", c.MinSampleSize, c.MaxSampleSize)
}

// secondsSpan formats a video band's lengths ("60–179 s").
func secondsSpan(b VideoBand) string {
	if b.MaxSeconds > MaxSeconds {
		return fmt.Sprintf("%d s and longer", b.MinSeconds)
	}
	return fmt.Sprintf("%d–%d s", b.MinSeconds, b.MaxSeconds-1)
}

// Buffer returns the seed's safety margin for an estimate: floor(20 % of estimate),
// in integer arithmetic. For 0 ≤ estimate < 2^52 it equals Python's
// int(estimate * 0.2); it never overflows. A negative estimate has no buffer.
func Buffer(estimate int64) int64 {
	if estimate <= 0 {
		return 0
	}
	return estimate / 5
}

// Required returns estimate + Buffer(estimate), the credits that must remain for a
// job of that estimate to pass the pre-flight check (saturating at math.MaxInt64).
func Required(estimate int64) int64 {
	b := Buffer(estimate)
	if estimate > math.MaxInt64-b {
		return math.MaxInt64
	}
	return estimate + b
}

// CanAfford reports whether remaining credits cover estimate plus its 20 % buffer
// (the seed's can_afford). A negative estimate is a caller's bug and is never affordable.
func CanAfford(estimate, remaining int64) bool {
	if estimate < 0 {
		return false
	}
	return remaining >= Required(estimate)
}
