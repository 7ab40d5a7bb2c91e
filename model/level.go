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
	// LevelCritical: past the last threshold (90 % by default) — of the usage
	// limit only, when auto-recharge tops the cap up (Status.TopsUp).
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
	// project's last success, dated at or after its limit's last raise, this period): the
	// API's word that this budget's usage limit is reached, whatever the
	// counters leave (Status.LimitHeld).
	LimitRefusing bool
	// Unreadable says why Used (or Used or Recharged, not told apart) could
	// not be read from Redis ("" when it could): Assess judges what the
	// rest decide (certain).
	Unreadable string
	// RechargedUnreadable says why Recharged alone could not be read: Used
	// is known, the allocation's cap is not (it is at least the allocation).
	RechargedUnreadable string
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
	// Unreadable says why a figure the judgement needs could not be read
	// (Usage.Unreadable, Usage.RechargedUnreadable, Settings.Unreadable;
	// "" when all could). Unknown says which of the figures that makes
	// unknown (zero); the others are known whatever it holds.
	Unreadable string
	// Unknown is the set of figures not known (empty when Unreadable is "").
	Unknown Figures
	// UnreadableSettings is true when Unreadable is the settings' (the
	// stored value cannot be read: Settings.Unreadable), not a counter's:
	// the counters are sound (Used is known), the cap they are judged
	// against is not.
	UnreadableSettings bool
	// LimitHeld is true while a budget_exceeded 402 holds this budget at its
	// usage limit (Usage.LimitRefusing): "limit reached" on every surface,
	// Level at least LevelCritical — never LevelExhausted by it alone: OUT
	// is remaining ≤ 0 or a credits_exhausted 402. The figures stay the
	// counters'.
	LimitHeld bool
	// TopsUp is true when auto-recharge tops up the cap that binds
	// (Settings.AutoRecharges, CapKind CapAllocation): running low refills
	// it, so its thresholds take the level at most to LevelHigh ("living on
	// top-ups": TopUpsWords) — LevelCritical is the last threshold of the
	// usage limit, the line that will refuse it (see Assess).
	TopsUp bool
}

// HasCap reports whether there is a cap to judge against.
func (st *Status) HasCap() bool { return st.CapKind != CapNone }

// CriticalPercent is the percent the last threshold — critical — is judged
// on: used of the cap (Percent), or of the usage limit when auto-recharge
// tops the cap up (TopsUp: LimitPercent, 0 without a limit, so spending
// alone is never critical). A fixed critical percent in place of the
// thresholds (check --crit) reads it, so it judges by Assess's rule.
func (st *Status) CriticalPercent() float64 {
	if st.TopsUp {
		return st.LimitPercent
	}
	return st.Percent
}

// Figures is a set of a budget's figures, for what Assess could not know.
// The zero value is the empty set: every figure known.
type Figures uint8

const (
	// FigUsed: the credits used (Status.Used) — the used counter.
	FigUsed Figures = 1 << iota
	// FigRecharged: the credits recharged this period (Summary.Recharged).
	FigRecharged
	// FigCap: the effective cap (Status.Cap, CapKind, HasAllocation).
	FigCap
	// FigPercent: what is measured against the cap (Status.Percent,
	// Remaining, Passed): unknown with the cap or with the credits used.
	FigPercent
	// FigLimit: the usage limit and what is measured against it
	// (Status.OverLimit, LimitPercent).
	FigLimit
	// FigLevel: the level (Status.Level is then LevelUnknown).
	FigLevel
)

// Has reports whether every figure of f is in the set.
func (s Figures) Has(f Figures) bool { return s&f == f }

// Assess is the one judgement of a budget. It compares u.Used with the
// effective cap — the smaller of (allocation + recharges) and the usage limit —
// and places it against the thresholds in force (s.Alerts, else defaults, else
// the built-in 50/75/90 %): under the first is LevelOK; with three thresholds,
// the first reached is LevelWarn, the second LevelHigh, the third
// LevelCritical (with fewer, the last reached is always LevelCritical). A
// threshold t is reached when used ≥ t % of the cap, exactly (in integers).
// Used ≥ cap, or u.Refusing, is LevelExhausted; no cap at all is LevelNone.
//
// Auto-recharge (Status.TopsUp: set, and the allocation plus recharges
// binds) refills the cap each time it runs low, so used over it tends to
// 100 % and its last threshold says nothing an operator can act on: it
// takes the level to LevelHigh only (living on top-ups: upgrade the plan).
// LevelCritical is then the last threshold reached of the usage limit (the
// line the API refuses at, whatever the top-ups); a top-up that did not
// come is used ≥ cap or a credits_exhausted 402: LevelExhausted, as ever.
// A budget_exceeded 402 that stands (u.LimitRefusing) makes it at least
// LevelCritical, with LimitHeld ("limit reached"), whatever the counters or
// the settings say, cap or none, readable or not: the API is the authority
// on what it refused.
//
// A figure that cannot be read — the used counter (u.Unreadable), the
// recharged counter alone (u.RechargedUnreadable), the stored settings
// (s.Unreadable: present, so not "unset") — makes unknown only what it can
// change: Assess judges at every extreme the unknown figures may take (see
// certain) and keeps each result that is the same at all of them, marking
// the others in Status.Unknown. A figure that cannot change the verdict
// never makes it unknown: used ≥ the usage limit is exhausted whatever the
// recharges (allocation + recharges only grows), a credits_exhausted 402
// is OUT whatever the settings, and the credits used are known whatever
// the settings say.
//
// A project's budget is judged by the same rule: see ProjectBudget.Settings.
func Assess(s *Settings, u Usage, defaults []int) Status {
	if u.Unreadable == "" && u.RechargedUnreadable == "" && s.Unreadable == "" {
		return assess(s, u, defaults)
	}
	return certain(s, u, defaults)
}

// certain is Assess with figures that cannot be read: the one rule of what
// stays known. Each unknown figure takes its extremes — a counter 0 and
// without bound (a counter only grows from 0), settings none, the smallest
// and the largest allocation — and assess judges every combination; a result
// the same in all of them is known, whatever the figure holds. Otherwise it
// is zero and named in Status.Unknown. The level, when the extremes differ,
// is LevelUnknown — or LevelCritical when a budget_exceeded 402 holds the
// budget at its limit in all of them (LimitHeld: the API's word, at least
// critical).
func certain(s *Settings, u Usage, defaults []int) Status {
	const big = math.MaxInt64
	useds, recharges := []int64{u.Used}, []int64{u.Recharged}
	settings := []Settings{*s}
	var unknown Figures
	why := u.Unreadable
	if u.Unreadable != "" {
		// the used counter (or used and recharged, not told apart): the
		// recharges as read, the cap they make known; all measured against
		// it is not
		useds, unknown = []int64{0, big}, FigUsed|FigRecharged
	}
	if u.RechargedUnreadable != "" {
		recharges, unknown = []int64{0, big}, unknown|FigRecharged
		if why == "" || u.RechargedUnreadable < why {
			why = u.RechargedUnreadable
		}
	}
	byS := s.Unreadable != "" && u.Unreadable == ""
	if s.Unreadable != "" {
		// none stored, the least and the most one could hold (an allocation, a
		// limit: the cap spans them), by the thresholds in force
		settings = []Settings{{}, {Allocation: 1}, {UsageLimit: 1}, {Allocation: big}}
		if why == "" || byS && s.Unreadable < why {
			why = s.Unreadable
		}
	}
	var st Status
	for i, set := range settings {
		set.Alerts = s.Alerts
		for _, used := range useds {
			for _, r := range recharges {
				got := assess(&set, Usage{Used: used, Recharged: r, Refusing: u.Refusing, LimitRefusing: u.LimitRefusing}, defaults)
				if i == 0 && used == useds[0] && r == recharges[0] {
					st = got
					continue
				}
				if got.Used != st.Used {
					unknown |= FigUsed
				}
				if got.Cap != st.Cap || got.CapKind != st.CapKind || got.HasAllocation != st.HasAllocation || got.TopsUp != st.TopsUp {
					unknown |= FigCap
				}
				if got.Percent != st.Percent || got.Remaining != st.Remaining || got.RemainingKnown != st.RemainingKnown || got.Passed != st.Passed {
					unknown |= FigPercent
				}
				if got.OverLimit != st.OverLimit || got.LimitPercent != st.LimitPercent {
					unknown |= FigLimit
				}
				if got.Level != st.Level {
					unknown |= FigLevel
				}
				st.LimitHeld = st.LimitHeld && got.LimitHeld
			}
		}
	}
	if u.Unreadable != "" {
		// the used counter: nothing is measured against a cap, and the
		// level is the API's refusal's alone (the same at every extreme) —
		// no cap is not "unset" when nothing is known of the usage
		unknown |= FigPercent | FigLimit
		if st.Level != LevelExhausted {
			unknown |= FigLevel
		}
	}
	if unknown.Has(FigUsed) {
		st.Used = 0
	}
	if unknown.Has(FigCap) {
		st.Cap, st.CapKind, st.HasAllocation, st.TopsUp = 0, CapNone, false, false
		unknown |= FigPercent
	}
	if unknown.Has(FigPercent) {
		st.Percent, st.Remaining, st.RemainingKnown, st.Passed = 0, 0, false, 0
	}
	if unknown.Has(FigLimit) {
		st.OverLimit, st.LimitPercent = false, 0
	}
	if unknown.Has(FigLevel) {
		st.Level = LevelUnknown
		if st.LimitHeld {
			st.Level = LevelCritical
		}
	}
	st.Thresholds = s.Thresholds(defaults)
	st.Unknown, st.Unreadable, st.UnreadableSettings = unknown, why, why == s.Unreadable && s.Unreadable != ""
	return st
}

// assess is Assess of figures all known.
func assess(s *Settings, u Usage, defaults []int) Status {
	st := Status{Used: u.Used, Thresholds: s.Thresholds(defaults)}
	if s.Allocation > 0 {
		st.HasAllocation = true
		st.Cap, st.CapKind = s.Allocation+u.Recharged, CapAllocation
		if u.Recharged > math.MaxInt64-s.Allocation {
			st.Cap = math.MaxInt64 // a hostile recharged counter: no wrap to a negative cap
		}
	}
	if s.UsageLimit > 0 {
		// a limit equal to allocation + recharges binds when auto-recharge
		// is set: no top-up lifts the cap past it (so it is not TopsUp,
		// "living on top-ups", at a line the API refuses at)
		if st.CapKind == CapNone || s.UsageLimit < st.Cap || s.UsageLimit == st.Cap && s.AutoRecharges() {
			st.Cap, st.CapKind = s.UsageLimit, CapLimit
		}
		st.OverLimit = u.Used >= s.UsageLimit
		st.LimitPercent = float64(u.Used) * 100 / float64(s.UsageLimit)
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
	st.TopsUp = st.CapKind == CapAllocation && s.AutoRecharges()
	st.Level = LevelOK
	if st.Passed > 0 {
		st.Level = lineLevel(s, &st, st.Passed-1)
	}
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

// limitCritical reports whether used has reached the last of thresholds
// (percents) of the usage limit (0: none, never): what makes a cap
// auto-recharge tops up critical (Status.TopsUp).
func limitCritical(used, limit int64, thresholds []int) bool {
	return limit > 0 && len(thresholds) > 0 && Reached(used, limit, thresholds[len(thresholds)-1])
}

// lineLevel is the level that reaching threshold i (from 0) of st's
// Thresholds takes a budget with settings s to: thresholdLevel, but the last
// one of a cap auto-recharge tops up (st.TopsUp) is LevelCritical only once
// the usage limit's last is reached too (st.Used against s.UsageLimit), else
// LevelHigh. The one rule of Assess's level and of a threshold's crossing,
// so the banner says the level the gauge shows.
func lineLevel(s *Settings, st *Status, i int) Level {
	l := thresholdLevel(i+1, len(st.Thresholds))
	if st.TopsUp && l == LevelCritical && !limitCritical(st.Used, s.UsageLimit, st.Thresholds) {
		l = LevelHigh
	}
	return l
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
