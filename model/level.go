package model

// Level is how close a workspace is to its allocation, by its alert thresholds.
type Level uint8

const (
	// LevelNone: no allocation set, so there is no percentage to judge.
	LevelNone Level = iota
	// LevelOK: below the first alert threshold.
	LevelOK
	// LevelWarn: past the first of three thresholds (50 % by default).
	LevelWarn
	// LevelHigh: past the second-to-last threshold (75 % by default).
	LevelHigh
	// LevelCritical: past the last threshold (90 % by default).
	LevelCritical
	// LevelExhausted: allocation or usage limit used up, or the API refusing with 402.
	LevelExhausted
)

// String names the level in words that need no colour to read.
func (l Level) String() string {
	switch l {
	case LevelOK:
		return "ok"
	case LevelWarn:
		return "warn"
	case LevelHigh:
		return "high"
	case LevelCritical:
		return "critical"
	case LevelExhausted:
		return "exhausted"
	default:
		return "no allocation"
	}
}

// Status is a workspace's budget judged against its settings.
type Status struct {
	// Cap is the allocation plus credits recharged this period (0 without an allocation).
	Cap int64
	// HasAllocation is false when no allocation is set; Percent is then 0.
	HasAllocation bool
	// Percent is credits used as a percentage of Cap.
	Percent float64
	// Remaining is what can still be spent before the allocation or the usage limit
	// stops it, whichever comes first; never negative. Valid when RemainingKnown.
	Remaining      int64
	RemainingKnown bool
	// OverLimit is true when the usage limit is reached.
	OverLimit bool
	// Passed is how many alert thresholds the usage has reached.
	Passed int
	// Level sums it up.
	Level Level
}

// Assess judges used credits (plus credits recharged this period) against settings.
func Assess(s *Settings, used, recharged int64) Status {
	var st Status
	if s.Allocation > 0 {
		st.HasAllocation = true
		st.Cap = s.Allocation + recharged
		st.Percent = float64(used) * 100 / float64(st.Cap)
		st.Remaining, st.RemainingKnown = max(st.Cap-used, 0), true
		th := s.Thresholds()
		for _, t := range th {
			if used*100 >= int64(t)*st.Cap {
				st.Passed++
			}
		}
		st.Level = LevelOK
		if st.Passed > 0 {
			st.Level = LevelOK + Level(st.Passed+3-len(th))
		}
		if used >= st.Cap {
			st.Level = LevelExhausted
		}
	}
	if s.UsageLimit > 0 {
		left := max(s.UsageLimit-used, 0)
		if !st.RemainingKnown || left < st.Remaining {
			st.Remaining = left
		}
		st.RemainingKnown = true
		if used >= s.UsageLimit {
			st.OverLimit = true
			st.Level = LevelExhausted
		}
	}
	return st
}
