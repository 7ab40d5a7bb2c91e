package model

import (
	"math"
	"time"
)

// runOutDue returns the earliest instant (unix ns) at which the run-out
// condition of w, judged at now from its verdict v and forecast f
// (verdictForecast), can change while the ledger changes neither w (its
// change stamp) nor what every workspace shares (its epoch, period, pending
// states, observedFrom). Until then AlertEvaluator need not judge it again: at
// 100k workspaces judging every capped run-out each second was most of what
// watching cost. An instant too early costs a forecast; one too late would
// miss a transition (TestIncrementalAlertsMatchTheFullEvaluation).
//
// Without a new event the forecast's inputs move with time only so:
//
//   - what the buckets give (rated credits, the newest step, the typical
//     charge and interval: ringJudged) changes only when a bucket leaves the
//     hour or the BurnWindow, or one stamped ahead of now enters (ringDue);
//   - idle begins once LastCharge is IdleAfter old (and IdleAfter changes
//     only with the buckets): it stops a burn and ends the condition
//     (runOutCondition) — that instant is due, whatever the run-out was;
//   - in between, the time left only shrinks and the span the burn is
//     measured over only grows (the burn falls), but at each BucketWidth,
//     where the window's first bucket moves on, the span falls back by a
//     BucketWidth: a run-out that does not hold can begin to hold only
//     there, and only if it would at the shortest span the window can have
//     from now on; one that holds at a burn stops holding once the time left
//     is less than what the credits left last at the longest span (a
//     BurnWindow and a BucketWidth), or once it turns idle.
//
// Within BucketWidth of either line it is due at the next BucketWidth (does
// not hold) or at once (holds). How soon a run-out that holds comes moves
// with every instant; the caller is told it when it is judged.
func (l *Ledger) runOutDue(w *wsState, v Verdict, f *Forecast, now time.Time) int64 {
	nowNs := now.UnixNano()
	r := w.burn
	if v.Project != "" {
		r = nil
		if p := w.projects[v.Project]; p != nil {
			r = p.burn
		}
	}
	due := l.ringDue(r, now)
	if !f.LastCharge.IsZero() && !f.Idle {
		// idle ends it (runOutCondition), whether it ran out or not
		due = min(due, f.LastCharge.UnixNano()+int64(f.IdleAfter))
	}
	byRate := f.RunsOut && !f.Reached
	if !byRate && (f.RunsOut || f.BurnPerHour <= 0 || !f.RemainingKnown) {
		// reached (nothing left, less than a typical charge, refused), or
		// no burn: only what the buckets give can change that
		return due
	}
	// The credits left against the burn: the cap's, or with auto-recharge
	// those the usage limit leaves. The burn is rated/span, rated fixed until
	// due, span at now at most a BurnWindow and a BucketWidth and never below
	// spanLo from now on.
	left := float64(f.Remaining)
	if f.Recharges {
		if f.usageLimit <= 0 {
			return due // topped up for good: it never runs out
		}
		left = float64(f.usageLimit - f.used)
	}
	nowMs, win := now.UnixMilli(), BurnWindow.Milliseconds()
	spanLo := max(min(win, nowMs-l.observedFrom), MinSpan.Milliseconds(), bucketMs)
	stretch := float64(win+bucketMs) / float64(spanLo) // the most the burn (or how long credits last) can grow
	const margin = 1e-6                                // for the float rounding of Forecast
	if !byRate {
		if left > f.BurnPerHour*stretch*f.Left.Hours()*(1+margin) {
			return due
		}
		// close to running out: at the next BucketWidth the span falls back
		return min(due, (nowMs/bucketMs+1)*bucketMs*int64(time.Millisecond))
	}
	// It runs out at its burn: until idle stops it, or until the time left
	// is what the credits left last at the longest span.
	lasts := max(left, 0) / f.BurnPerHour * stretch * (1 + margin) // hours, at most
	until := nowNs + int64(f.Left) - int64(lasts*float64(time.Hour)) - int64(time.Millisecond)
	return max(min(due, until), nowNs)
}

// ringDue returns the earliest instant (unix ns) after now at which what
// Forecast takes from the buckets of r (nil: nothing spent) can change
// without a new charge (ringJudged: its three indexes): the hour's oldest
// bucket or the BurnWindow's leaves, or a bucket stamped ahead of now
// enters. math.MaxInt64: never.
func (l *Ledger) ringDue(r *burnRing, now time.Time) int64 {
	due := int64(math.MaxInt64)
	if r == nil {
		return due
	}
	ms := int64(time.Millisecond)
	at := func(t int64) { due = min(due, t*ms) }
	nowMs := now.UnixMilli()
	last := nowMs / bucketMs
	if lo := r.search(last - HistoryBuckets + 1); lo < len(r.buckets) {
		at((int64(r.buckets[lo].b) + HistoryBuckets) * bucketMs) // leaves the hour
	}
	if hi := r.search(last + 1); hi < len(r.buckets) {
		at(int64(r.buckets[hi].b) * bucketMs) // stamped ahead of now: enters
	}
	from := max(nowMs-BurnWindow.Milliseconds(), l.observedFrom)
	if fi := r.search(max(from/bucketMs, last-HistoryBuckets+1)); fi < len(r.buckets) {
		at((int64(r.buckets[fi].b)+1)*bucketMs + BurnWindow.Milliseconds()) // leaves the window
	}
	return due
}
