package model

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Level is how close a workspace (or a project) is to its cap, by its alert
// thresholds. It is computed in one place, Assess, and every surface — gauges,
// alerts, check, budget show, metrics — shows that result.
type Level uint8

const (
	// LevelNone: neither an allocation nor a usage limit is set, so there is no
	// percentage to judge. Its word is Unset on every surface.
	LevelNone Level = iota
	// LevelOK: below the first alert threshold.
	LevelOK
	// LevelWarn: past the first of three thresholds (50 % by default).
	LevelWarn
	// LevelHigh: past the second-to-last threshold (75 % by default).
	LevelHigh
	// LevelCritical: past the last threshold (90 % by default).
	LevelCritical
	// LevelExhausted: the cap is used up, or the API is refusing with 402.
	LevelExhausted
	// LevelUnknown: a counter the level depends on (used, recharged) cannot
	// be read — it holds no integer ≥ 0 — so neither can the percent or the
	// level; Status.Unreadable says why. It is last so that records written
	// before it read the same; a verdict ranks it above the levels known to
	// be fine (ok, warn) and below those known not to be (high, critical,
	// exhausted), as check's statuses rank UNKNOWN.
	LevelUnknown
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
	case LevelUnknown:
		return "unknown"
	default:
		return Unset
	}
}

// CapKind says which line bounds a workspace's spending.
type CapKind uint8

const (
	// CapNone: neither an allocation nor a usage limit is set.
	CapNone CapKind = iota
	// CapAllocation: the allocation plus this period's recharges binds.
	CapAllocation
	// CapLimit: the usage limit binds (it is below the allocation plus recharges,
	// or there is no allocation).
	CapLimit
)

// String is the cap's name as the screen says it ("of allocation", "of limit").
func (k CapKind) String() string {
	switch k {
	case CapAllocation:
		return "allocation"
	case CapLimit:
		return "limit"
	}
	return "none"
}

// Usage is what a workspace (or a project) has done this billing period: the
// counters of Redis and what the stream told of refusals.
type Usage struct {
	// Used is credits used this period (the used hash).
	Used int64
	// Recharged is credits added by recharges this period (the recharged hash).
	Recharged int64
	// Refusing is true while the API refuses the workspace with a
	// credits_exhausted 402 and no credit has been added since: OUT.
	Refusing bool
	// LimitRefusing is true while the API refuses the budget with a
	// budget_exceeded 402 that still stands (newer than the refused
	// project's last success, its limit not raised since, this period): the
	// API's word that this budget's usage limit is reached, whatever the
	// counters leave (Status.LimitHeld).
	LimitRefusing bool
	// Unreadable says why Used or Recharged could not be read from Redis
	// ("" when they could): Assess then judges LevelUnknown.
	Unreadable string
}

// Status is a budget judged against its settings: the one judgement of mavtop.
type Status struct {
	// Cap is the effective cap in credits: the smaller of the allocation plus
	// this period's recharges and the usage limit (whichever are set); 0 without
	// either. CapKind says which one binds.
	Cap     int64
	CapKind CapKind
	// HasAllocation is true when an allocation is set.
	HasAllocation bool
	// Used is the credits judged: Usage.Used.
	Used int64
	// Percent is credits used as a percentage of Cap (0 without a cap).
	Percent float64
	// Remaining is Cap minus used, never negative. Valid when RemainingKnown
	// (that is, when there is a cap).
	Remaining      int64
	RemainingKnown bool
	// OverLimit is true when the usage limit is reached.
	OverLimit bool
	// LimitPercent is credits used as a percentage of the usage limit, binding
	// or not (0 without one).
	LimitPercent float64
	// Thresholds are the alert thresholds in force, in percent of Cap: the
	// settings' own, else the defaults handed to Assess. Shared: do not modify.
	Thresholds []int
	// Passed is how many of Thresholds the usage has reached.
	Passed int
	// Level sums it up.
	Level Level
	// Unreadable says why the usage could not be read (Usage.Unreadable):
	// Level is LevelUnknown — or LevelExhausted while the API refuses — and
	// Used, Percent, LimitPercent, Remaining and Passed mean nothing (zero).
	Unreadable string
	// UnreadableSettings is true when Unreadable is the settings' (the
	// stored value cannot be read: Settings.Unreadable), not a counter's:
	// the counters are sound, the cap they are judged against is not known.
	UnreadableSettings bool
	// LimitHeld is true while a budget_exceeded 402 holds this budget at its
	// usage limit (Usage.LimitRefusing): "limit reached" on every surface,
	// Level at least LevelCritical — never LevelExhausted by it alone: OUT
	// is remaining ≤ 0 or a credits_exhausted 402. The figures stay the
	// counters'.
	LimitHeld bool
}

// HasCap reports whether there is a cap to judge against.
func (st *Status) HasCap() bool { return st.CapKind != CapNone }

// Assess is the one judgement of a budget. It compares u.Used with the
// effective cap — the smaller of (allocation + recharges) and the usage limit —
// and places it against the thresholds in force (s.Alerts, else defaults, else
// the built-in 50/75/90 %): under the first is LevelOK; with three thresholds,
// the first reached is LevelWarn, the second LevelHigh, the third
// LevelCritical (with fewer, the last reached is always LevelCritical). A
// threshold t is reached when used ≥ t % of the cap, exactly (in integers).
// Used ≥ cap, or u.Refusing, is LevelExhausted; no cap at all is LevelNone.
// A budget_exceeded 402 that stands (u.LimitRefusing) makes it at least
// LevelCritical, with LimitHeld ("limit reached"), whatever the counters or
// the settings say, cap or none, readable or not: the API is the authority
// on what it refused.
// A usage that could not be read (u.Unreadable), or settings stored but not
// readable (s.Unreadable: present, so not "unset"), is LevelUnknown whatever
// the cap, unless the API is refusing (u.Refusing: LevelExhausted, the API's
// word: a refusal outranks what cannot be read).
//
// A project's budget is judged by the same rule: see ProjectBudget.Settings.
func Assess(s *Settings, u Usage, defaults []int) Status {
	st := Status{Used: u.Used, Thresholds: s.Thresholds(defaults)}
	if s.Allocation > 0 {
		st.HasAllocation = true
		st.Cap, st.CapKind = s.Allocation+u.Recharged, CapAllocation
		if u.Recharged > math.MaxInt64-s.Allocation {
			st.Cap = math.MaxInt64 // a hostile recharged counter: no wrap to a negative cap
		}
	}
	if s.UsageLimit > 0 {
		if st.CapKind == CapNone || s.UsageLimit < st.Cap {
			st.Cap, st.CapKind = s.UsageLimit, CapLimit
		}
		st.OverLimit = u.Used >= s.UsageLimit
		st.LimitPercent = float64(u.Used) * 100 / float64(s.UsageLimit)
	}
	if s.Unreadable != "" && u.Unreadable == "" {
		// settings present but unreadable: no cap known, so no level — not
		// "unset", which is settings absent
		u.Unreadable, st.UnreadableSettings = s.Unreadable, true
	}
	if u.Unreadable != "" { // the cap the settings name, nothing judged against it
		st.Used, st.OverLimit, st.LimitPercent = 0, false, 0
		st.Unreadable, st.Level = u.Unreadable, LevelUnknown
		if u.LimitRefusing {
			st.Level, st.LimitHeld = LevelCritical, true
		}
		if u.Refusing {
			st.Level = LevelExhausted
		}
		return st
	}
	if st.CapKind == CapNone {
		if u.LimitRefusing {
			st.Level, st.LimitHeld = LevelCritical, true
		}
		if u.Refusing {
			st.Level = LevelExhausted
		}
		return st
	}
	st.Percent = float64(u.Used) * 100 / float64(st.Cap)
	st.Remaining, st.RemainingKnown = max(st.Cap-u.Used, 0), true
	for _, t := range st.Thresholds {
		if Reached(u.Used, st.Cap, t) {
			st.Passed++
		}
	}
	st.Level = thresholdLevel(st.Passed, len(st.Thresholds))
	if u.LimitRefusing {
		st.Level, st.LimitHeld = max(st.Level, LevelCritical), true
	}
	if u.Used >= st.Cap || u.Refusing {
		st.Level = LevelExhausted
	}
	return st
}

// Reached reports whether used credits have reached threshold t (percent) of
// capCredits, exactly in integers (no float rounding at 90.0 %): the rule
// Assess counts thresholds by, and the gauge bars draw their ticks by. The
// products are 128-bit: counters come from Redis, and a hostile one near
// 2^63 wrapped them (10 credits of a cap of 2^62 read as past 90 %).
func Reached(used, capCredits int64, t int) bool {
	uh, ul := mul128(used, 100)
	ch, cl := mul128(int64(t), capCredits)
	return uh > ch || uh == ch && ul >= cl
}

// mul128 returns a·b as a signed 128-bit number, high and low halves.
func mul128(a, b int64) (hi int64, lo uint64) {
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = -ua
	}
	if b < 0 {
		ub = -ub
	}
	h, l := bits.Mul64(ua, ub)
	if (a < 0) != (b < 0) && (h|l) != 0 { // negate: invert and add one
		var c uint64
		l, c = bits.Add64(^l, 1, 0)
		h = ^h + c
	}
	return int64(h), l
}

// thresholdLevel is the level of having reached passed of n thresholds: the
// last threshold is always LevelCritical, the one before LevelHigh.
func thresholdLevel(passed, n int) Level {
	if passed == 0 {
		return LevelOK
	}
	return LevelOK + Level(passed+3-n)
}

// MarshalJSON writes the level as its word ("warn"), the word the webhook
// payload, `check --json` and `alerts --json` all use.
func (l Level) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(l.String())), nil }

// UnmarshalJSON reads a level's word, or the number records written before
// the words were used. An unknown word or number is an error.
func (l *Level) UnmarshalJSON(b []byte) error {
	v, err := enumJSON(b, "level", func(s string) (int, bool) {
		for x := LevelNone; x <= LevelUnknown; x++ {
			if x.String() == s {
				return int(x), true
			}
		}
		if s == "no allocation" { // LevelNone's word in records written before Unset
			return int(LevelNone), true
		}
		return 0, false
	}, int(LevelUnknown))
	*l = Level(v)
	return err
}

// MarshalJSON writes the cap kind as its word ("allocation", "limit",
// "none"), as the webhook payload does.
func (k CapKind) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(k.String())), nil }

// UnmarshalJSON reads a cap kind's word, or the number records written
// before the words were used. An unknown word or number is an error.
func (k *CapKind) UnmarshalJSON(b []byte) error {
	v, err := enumJSON(b, "cap kind", func(s string) (int, bool) {
		for x := CapNone; x <= CapLimit; x++ {
			if x.String() == s {
				return int(x), true
			}
		}
		return 0, false
	}, int(CapLimit))
	*k = CapKind(v)
	return err
}

// enumJSON decodes a JSON string through word, or a JSON number from 0 to
// most; null is the zero value.
func enumJSON(b []byte, what string, word func(string) (int, bool), most int) (int, error) {
	if string(b) == "null" {
		return 0, nil
	}
	if s, err := strconv.Unquote(string(b)); err == nil && len(b) > 0 && b[0] == '"' {
		if v, ok := word(s); ok {
			return v, nil
		}
		return 0, fmt.Errorf("unknown %s %q", what, s)
	}
	v, err := strconv.Atoi(string(b))
	if err != nil || v < 0 || v > most {
		return 0, fmt.Errorf("unknown %s %s", what, b)
	}
	return v, nil
}
