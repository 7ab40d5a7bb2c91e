package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Unset is the one word for a budget line that is not set — no allocation,
// no usage limit (LevelNone's word), no budget alert — on every surface: the
// dashboard's level cell, check's and budget show's columns, and --json's
// level. A value stored but unreadable is not unset: it is unknown
// (Settings.Unreadable).
const Unset = "unset"

// DeliveryWaiting is how an alert transition no mavtop has sent is said,
// because none runs with --notify (notify.Entry.DeliveryText; sent once one
// runs): in the alerts pane, `mavtop alerts` and its JSON. DeliveryWaitingShort
// is the same where the full form does not fit (the alerts pane's title).
const (
	DeliveryWaiting      = "waiting: no mavtop runs with --notify"
	DeliveryWaitingShort = "not sent: no --notify"
)

// CountOf says n of a thing with the noun agreeing with the number, as every
// surface writes counts: "1 workspace", "0 workspaces", "3 workspaces". noun
// is the singular; its plural adds "s" (the nouns counted are regular:
// workspace, sink, event).
func CountOf(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}

// FormatAge says how long ago something happened the one way every surface
// does (the dashboard's age column, check's LAST EVENT): "now" under a
// second, else HumanizeDuration ("4 s", "12 min", "5 h", "2 days"). A
// negative age (a clock ahead of this one) is "now".
func FormatAge(d time.Duration) string {
	if d < time.Second {
		return "now"
	}
	return HumanizeDuration(d)
}

// OutWords is the one phrase, in a sentence, for a budget whose binding line
// is used up: a usage limit reached ("reached its usage limit": the API
// refuses with 402 budget_exceeded, the account may have credits) is not
// credits run out ("has run out of credits": the allocation plus recharges
// used up). The run_out alert's summary says it; the row and the detail say
// OutShort of the same line.
func OutWords(k CapKind) string {
	if k == CapLimit {
		return "reached its usage limit"
	}
	return "has run out of credits"
}

// OutShort is OutWords as the row's "runs out" column and the detail pane
// say it: "limit reached" or "out now".
func OutShort(k CapKind) string {
	if k == CapLimit {
		return "limit reached"
	}
	return "out now"
}

// RunsOutWords is OutWords ahead of time, for a forecast: "reaches its
// usage limit" (in 20 min) when a usage limit binds, else "runs out of
// credits".
func RunsOutWords(k CapKind) string {
	if k == CapLimit {
		return "reaches its usage limit"
	}
	return "runs out of credits"
}

// LimitReachedWords is what a workspace's row says when one of its projects
// is at its usage limit (Verdict.LimitReached): "limit reached: training".
// Its level is critical, not OUT: the workspace has credits left.
func LimitReachedWords(project string) string {
	return "limit reached: " + Sanitize(project)
}

// TopUpsWords counts auto-recharge top-ups as every surface says them: "~2
// top-ups of 2,000", "~1 top-up of 2,000" (it said "~1 top-ups").
func TopUpsWords(n, amount int64) string {
	w := "top-ups"
	if n == 1 {
		w = "top-up"
	}
	return "~" + FormatCredits(n) + " " + w + " of " + FormatCredits(amount)
}

// RechargeWords is the forecast of a workspace the auto-recharge tops up, in
// the words the detail view and the run_out alert share (README,
// "Auto-recharge"), "" when f counts no top-up:
//
//	runs out after recharges in 55 min (~2 top-ups of 2,000, then the usage limit)
//	recharges at 500 left in 12 min, ~3 top-ups of 2,000 left this period
//	recharges at 500 left now, ~1 top-up of 2,000 left this period
func RechargeWords(f Forecast) string {
	switch {
	case f.RunsOut && f.AfterRecharges:
		return fmt.Sprintf("runs out after recharges in %s (%s, then the usage limit)", HumanizeDuration(f.RunsOutIn), TopUpsWords(f.RechargesLeft, f.RechargeAmount))
	case f.RechargeDue:
		return fmt.Sprintf("recharges at %s left %s, %s left this period", FormatCredits(f.RechargeBelow), TopUpIn(f.NextRechargeIn), TopUpsWords(f.RechargesLeft, f.RechargeAmount))
	}
	return ""
}

// TopUpIn is when the next top-up comes: "in 12 min", or "now" when
// remaining credits are below the threshold already (it read "in 0 s").
func TopUpIn(d time.Duration) string {
	if d < time.Second {
		return "now"
	}
	return "in " + HumanizeDuration(d)
}

// UnknownWords names, in an operator's terms, the figures of a budget that
// are unknown (Status.Unknown; settings: its stored settings cannot be
// read), with the verb: "allocation, usage limit and level are", "recharges
// are", "usage and level are". Every surface that says
// what a figure it cannot read leaves unknown says it so.
func UnknownWords(unknown Figures, settings bool) string {
	var w []string
	switch {
	case unknown.Has(FigUsed): // the used counter, or used and recharged not told apart
		w = append(w, "usage")
	case unknown.Has(FigRecharged):
		w = append(w, "recharges")
	}
	if settings {
		w = append(w, "allocation", "usage limit")
	} else if unknown.Has(FigCap) && !unknown.Has(FigUsed) {
		w = append(w, "effective cap")
	}
	if unknown.Has(FigLevel) {
		w = append(w, "level")
	}
	switch len(w) {
	case 0:
		return "figures are"
	case 1:
		if w[0] == "recharges" {
			return "recharges are"
		}
		return w[0] + " is"
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1] + " are"
}

// LivingOnTopUps is the level's reason for a workspace past the last
// threshold of a cap auto-recharge tops up (Status.TopsUp): high, not
// critical — the seed's Pattern 5, "use auto-recharge as a safety net, not
// as primary capacity planning … upgrade your plan".
const LivingOnTopUps = "living on top-ups"

// TopUpLevelWords says why a workspace auto-recharge tops up (Status.TopsUp)
// is at its level once past its cap's last threshold, in the words the
// detail view and check share; limit is its usage limit (0: none). "" when
// its cap's thresholds say it all (below the last, out, or a limit held by
// a 402):
//
//	living on top-ups: auto-recharge is a safety net, upgrade the plan (critical at 90 % of the 5,000-credit usage limit)
//	living on top-ups: auto-recharge is a safety net, upgrade the plan
//	critical at 92.0 % of its 5,000-credit usage limit: the top-ups stop there
func TopUpLevelWords(st *Status, limit int64) string {
	n := len(st.Thresholds)
	if !st.TopsUp || n == 0 || st.Passed < n || st.LimitHeld {
		return ""
	}
	last := st.Thresholds[n-1]
	switch st.Level {
	case LevelHigh:
		s := LivingOnTopUps + ": auto-recharge is a safety net, upgrade the plan"
		if limit > 0 {
			s += fmt.Sprintf(" (critical at %d %% of the %s-credit usage limit)", last, FormatCredits(limit))
		}
		return s
	case LevelCritical:
		return fmt.Sprintf("critical at %s of its %s-credit usage limit: the top-ups stop there", FormatPercent(st.LimitPercent), FormatCredits(limit))
	}
	return ""
}
