package model

import (
	"strings"
	"testing"
	"time"
)

// TestEnoughEvidenceIsTheRule: the evidence rule's table (README,
// "Forecasts": "Evidence").
func TestEnoughEvidenceIsTheRule(t *testing.T) {
	for _, tc := range []struct {
		charges int
		span    time.Duration
		want    bool
	}{
		{0, 0, false},
		{1, 0, false},
		{2, 10 * time.Second, false},
		{2, MinRateSpan - BucketWidth, false},
		{2, MinRateSpan, true},
		{MinRateCharges, 0, true},
		{0, 15 * time.Minute, true}, // credits spread over a gap
	} {
		if got := EnoughEvidence(tc.charges, tc.span); got != tc.want {
			t.Errorf("EnoughEvidence(%d, %v) = %v, want %v", tc.charges, tc.span, got, tc.want)
		}
	}
}

// TestOneChargeAfterAStepForecastsNothing: a workspace's one large charge
// is a step (a charge alone in the hour); one charge of 1 after it is no
// rate: before, over the 5-minute minimum span it read 12/h, "out in 45 min"
// with 9 credits left, and fired run_out. The row, the detail's words and
// the alert follow the one rule; three charges, or two 5 minutes apart, are
// a rate again.
func TestOneChargeAfterAStepForecastsNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		charges []time.Duration // charges of 1 after the step, at these times
		few     bool
	}{
		{"one charge", []time.Duration{20 * time.Minute}, true},
		{"two charges 10 s apart", []time.Duration{20 * time.Minute, 20*time.Minute + 10*time.Second}, true},
		{"three charges", []time.Duration{20 * time.Minute, 20*time.Minute + 10*time.Second, 20*time.Minute + 20*time.Second}, false},
		{"two charges 5 min apart", []time.Duration{16 * time.Minute, 21 * time.Minute}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger(MonthlyUTC, t0)
			l.SetSettings("acme", Settings{Allocation: 10_000}, ms(0))
			step := use("acme", "", "/focus-groups", 9_980, 15*time.Minute)
			l.Apply(&step)
			for _, at := range tc.charges {
				e := use("acme", "", "/responses", 1, at)
				l.Apply(&e)
			}
			now := t0.Add(21*time.Minute + 30*time.Second)
			f := l.Forecast("acme", now)
			var runOut []Alert
			for _, a := range EvaluateAlerts(l, now, FeedHealth{Connected: true, Since: t0}, AlertOptions{}, nil) {
				if a.Kind == AlertRunOut && a.Condition == ConditionHolds {
					runOut = append(runOut, a)
				}
			}
			if f.Step != 9_980 || f.BurnPerHour <= 0 || f.FewCharges != tc.few || f.RunsOut == tc.few || (len(runOut) > 0) == tc.few {
				t.Fatalf("step %d, burn %v/h, few charges %v (%d in %v), runs out %v in %v, run_out holding %d; want few charges %v",
					f.Step, f.BurnPerHour, f.FewCharges, f.Charges, f.Span, f.RunsOut, f.RunsOutIn, len(runOut), tc.few)
			}
			if w := FewChargesWords(f); tc.few && !strings.HasPrefix(w, "too few charges to forecast (") {
				t.Fatalf("words %q", w)
			}
		})
	}
}

// TestAStepAloneIsFewCharges: one charge of 495 against a usage limit of
// 500 is a step (left out of the burn) with no rate beside it: before, its
// burn of 0 read "lasts period" with 5 credits left (rev, finding 3). It is
// as little evidence as one small charge: few charges, nothing projected,
// and the words say it was a step.
func TestAStepAloneIsFewCharges(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("w2", Settings{UsageLimit: 500}, ms(0))
	step := use("w2", "", "/focus-groups", 495, 15*time.Minute)
	l.Apply(&step)
	now := t0.Add(15*time.Minute + 30*time.Second)
	f := l.Forecast("w2", now)
	if f.Step != 495 || f.BurnPerHour != 0 || f.Idle || !f.FewCharges || f.RunsOut {
		t.Fatalf("step %d, burn %v/h, idle %v, few charges %v (%d charges), runs out %v; want a step alone: few charges",
			f.Step, f.BurnPerHour, f.Idle, f.FewCharges, f.Charges, f.RunsOut)
	}
	if w := FewChargesWords(f); !strings.Contains(w, "only a step of 495 credits") {
		t.Fatalf("words %q", w)
	}
}
