package estimator_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"mavtop/estimator"
)

func TestBuffer(t *testing.T) {
	want := map[int64]int64{0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 2, 137: 27, 250: 50, -5: 0}
	for est, buf := range want {
		if got := estimator.Buffer(est); got != buf {
			t.Errorf("Buffer(%d) = %d, want %d", est, got, buf)
		}
	}
}

// TestBufferMatchesPython checks the seed's int(estimated_cost * 0.2), computed the
// way Python does (a float64 product, truncated), over every estimate up to a million
// and sampled estimates up to 2^52.
func TestBufferMatchesPython(t *testing.T) {
	check := func(est int64) {
		if py := int64(float64(est) * 0.2); estimator.Buffer(est) != py {
			t.Fatalf("Buffer(%d) = %d, Python's int(%d*0.2) = %d", est, estimator.Buffer(est), est, py)
		}
	}
	for est := int64(0); est <= 1_000_000; est++ {
		check(est)
	}
	for est := int64(1_000_001); est < 1<<52; est = est*3 + 7 {
		check(est)
		check(est - est%5)
	}
}

func TestCanAfford(t *testing.T) {
	tests := []struct {
		estimate, remaining int64
		want                bool
	}{
		{137, 164, true}, // exactly estimate + buffer
		{137, 163, false},
		{137, 1000, true},
		{5, 6, true}, // buffer 1
		{5, 5, false},
		{4, 4, true}, // buffer rounds down to 0
		{4, 3, false},
		{0, 0, true},
		{0, -1, false},
		{-1, 100, false},
		{math.MaxInt64, math.MaxInt64, true}, // Required saturates instead of overflowing
		{math.MaxInt64, math.MaxInt64 - 1, false},
	}
	for _, tt := range tests {
		if got := estimator.CanAfford(tt.estimate, tt.remaining); got != tt.want {
			t.Errorf("CanAfford(%d, %d) = %v, want %v", tt.estimate, tt.remaining, got, tt.want)
		}
	}
}

func mustEstimate(t *testing.T, op estimator.Operation, p estimator.Params) estimator.Quote {
	t.Helper()
	q, err := estimator.Estimate(op, p)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestPreflight(t *testing.T) {
	fg := mustEstimate(t, estimator.FocusGroup, estimator.Params{SampleSize: 40, Questions: 6})
	video := mustEstimate(t, estimator.Video, estimator.Params{Seconds: 90})
	persona := mustEstimate(t, estimator.Persona, estimator.Params{})
	tests := []struct {
		name      string
		q         estimator.Quote
		remaining int64
		want      string // "" means the job may go ahead
	}{
		{"exactly enough", fg, 164, ""},
		{"one short", fg, 163, "Estimated 137 credits (164 with the 20 % buffer); only 163 remaining. Please add credits or reduce sample size / questions."},
		{"issue example", fg, 150, "Estimated 137 credits (164 with the 20 % buffer); only 150 remaining. Please add credits or reduce sample size / questions."},
		{"nothing left", fg, 0, "Estimated 137 credits (164 with the 20 % buffer); no credits remaining. Please add credits or reduce sample size / questions."},
		{"overdrawn", fg, -20, "Estimated 137 credits (164 with the 20 % buffer); no credits remaining. Please add credits or reduce sample size / questions."},
		{"video", video, 479, "Estimated 400 credits (480 with the 20 % buffer); only 479 remaining. Please add credits or analyse a shorter video."},
		{"video enough", video, 480, ""},
		{"persona", persona, 300, "Estimated 300 credits (360 with the 20 % buffer); only 300 remaining. Please add credits or wait for the billing period to reset."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := estimator.Preflight(tt.q, tt.remaining)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ice *estimator.InsufficientCreditsError
			if !errors.As(fmt.Errorf("launch: %w", err), &ice) {
				t.Fatalf("error %v (%T) is not an *InsufficientCreditsError", err, err)
			}
			if ice.Op != tt.q.Op || ice.Estimate != tt.q.Estimate || ice.Buffer != tt.q.Buffer || ice.Required != tt.q.Required || ice.Remaining != tt.remaining {
				t.Errorf("fields %+v do not match quote %+v and remaining %d", ice, tt.q, tt.remaining)
			}
			if ice.Shortfall() != tt.q.Required-tt.remaining {
				t.Errorf("Shortfall() = %d, want %d", ice.Shortfall(), tt.q.Required-tt.remaining)
			}
			if err.Error() != tt.want {
				t.Errorf("message\n got %q\nwant %q", err, tt.want)
			}
		})
	}
}

func TestInsufficientCreditsErrorWorkspace(t *testing.T) {
	err := estimator.Preflight(mustEstimate(t, estimator.MaveComplex, estimator.Params{}), 59)
	var ice *estimator.InsufficientCreditsError
	if !errors.As(err, &ice) {
		t.Fatalf("got %v", err)
	}
	ice.Workspace = "acme"
	want := "Estimated 50 credits (60 with the 20 % buffer); only 59 remaining in acme. Please add credits or wait for the billing period to reset."
	if got := err.Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestVerdict(t *testing.T) {
	fg := mustEstimate(t, estimator.FocusGroup, estimator.Params{SampleSize: 40, Questions: 6})
	ok, msg := estimator.Verdict(fg, 200)
	if !ok || msg != "Estimated 137 credits (164 with the 20 % buffer); 200 remaining, 36 to spare." {
		t.Errorf("Verdict(200) = %v, %q", ok, msg)
	}
	ok, msg = estimator.Verdict(fg, 150)
	if ok || msg != "Estimated 137 credits (164 with the 20 % buffer); only 150 remaining. Please add credits or reduce sample size / questions." {
		t.Errorf("Verdict(150) = %v, %q", ok, msg)
	}
}
