package model

// Monitoring-plugin statuses, each its exit code (mavtop check).
const (
	CheckOK       = 0
	CheckWarning  = 1
	CheckCritical = 2
	CheckUnknown  = 3
)

// checkRank orders the statuses by how much an operator must act on them.
var checkRank = [...]int{CheckOK: 0, CheckUnknown: 1, CheckWarning: 2, CheckCritical: 3}

// WorseCheck returns the more severe of two monitoring-plugin statuses (the
// Check constants), ranked as the plugin convention ranks an overall state
// (monitoring-plugins' max_state_alt, Linuxfabrik's get_greater_state):
// CRITICAL > WARNING > UNKNOWN > OK. A workspace out of credits is CRITICAL
// beside one whose level cannot be read; that one's reason is still said.
// A value outside 0–3 counts as UNKNOWN. Every surface that sums statuses into
// one uses it, so none hides a CRITICAL behind an UNKNOWN.
func WorseCheck(a, b int) int {
	if a < 0 || a > CheckUnknown {
		a = CheckUnknown
	}
	if b < 0 || b > CheckUnknown {
		b = CheckUnknown
	}
	if checkRank[b] > checkRank[a] {
		return b
	}
	return a
}
