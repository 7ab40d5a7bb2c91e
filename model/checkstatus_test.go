package model

import "testing"

// TestWorseCheckRanksLikeThePluginConvention: CRITICAL > WARNING > UNKNOWN >
// OK, whatever the order of the two; out of range counts as UNKNOWN.
func TestWorseCheckRanksLikeThePluginConvention(t *testing.T) {
	order := []int{CheckOK, CheckUnknown, CheckWarning, CheckCritical}
	for i, a := range order {
		for j, b := range order {
			want := order[max(i, j)]
			if got := WorseCheck(a, b); got != want {
				t.Errorf("WorseCheck(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
	if got := WorseCheck(CheckOK, 7); got != CheckUnknown {
		t.Errorf("WorseCheck(0, 7) = %d, want 3", got)
	}
	if got := WorseCheck(-1, CheckWarning); got != CheckWarning {
		t.Errorf("WorseCheck(-1, 1) = %d, want 1", got)
	}
}
