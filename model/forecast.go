package model

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Burn-rate windows.
const (
	// BurnWindow is the window the burn rate, and so every forecast, is
	// measured over: recent enough to follow a change within minutes, long
	// enough to hold many charges of a busy workspace.
	BurnWindow = 15 * time.Minute
	// TrendWindow is the longest window Burn is asked for (the hour of history).
	TrendWindow = time.Hour
	// MinSpan is the shortest time a rate is measured over: a burst in the first
	// seconds after a start is not a burn rate.
	MinSpan = 5 * time.Minute
)

// The evidence rule (README, "Forecasts": "Evidence"): a burn rate is
// projected — a run-out, a top-up, the run_out alert — only when the window's
// rated credits (steps left out) rest on enough spending: at least
// MinRateCharges charges, or rated credits at least MinRateSpan apart (two
// charges five minutes apart, credits spread over a gap). One charge of 1
// after a step is no rate: over the 5-minute minimum span it read 12/h and,
// with little left after the step, fired run_out.
const (
	// MinRateCharges is the fewest charges in the window that are a rate.
	MinRateCharges = 3
	// MinRateSpan is the shortest time between the window's first and last
	// rated credits (at bucket resolution) that is a rate, whatever their number.
	MinRateSpan = 5 * time.Minute
)

// FewChargesWords says why f projects nothing (f.FewCharges): "too few
// charges to forecast (1 in 15 min; 3, or 5 min of spending, needed)".
func FewChargesWords(f Forecast) string {
	n := "1 charge"
	switch {
	case f.Charges == 0 && f.Step > 0:
		n = "only a step of " + FormatCredits(f.Step) + " credits"
	case f.Charges != 1:
		n = strconv.Itoa(f.Charges) + " charges"
	}
	return fmt.Sprintf("too few charges to forecast (%s in %s; %d, or %s of spending, needed)",
		n, HumanizeDuration(f.Window), MinRateCharges, HumanizeDuration(MinRateSpan))
}

// EnoughEvidence reports whether charges charges in the window, their rated
// credits span apart, are enough spending to project a rate from.
func EnoughEvidence(charges int, span time.Duration) bool {
	return charges >= MinRateCharges || span >= MinRateSpan
}

func (l *Ledger) ring(ws string) *burnRing {
	if ws == "" {
		return l.all // nil in a ledger that only judges a snapshot
	}
	if w := l.ws[ws]; w != nil {
		return w.burn // nil: nothing spent
	}
	return nil
}

// Burn returns credits per hour spent by ws ("" for all workspaces) over the
// window ending at now, steps left out (see StepFactor). The window is clipped
// to History and to the time the ledger has been observing, so a fresh start
// is not diluted by an empty past, but never below MinSpan (or the window, if
// shorter), so a burst in the first seconds is not extrapolated to an hour.
func (l *Ledger) Burn(ws string, window time.Duration, now time.Time) float64 {
	perHour, _, _ := l.burn(l.ring(ws), window, now)
	return perHour
}

// burn is Burn of ring r, with the span it was measured over and what was
// judged of its buckets (nil: r is nil) — the newest step left out of it.
func (l *Ledger) burn(r *burnRing, window time.Duration, now time.Time) (float64, time.Duration, *ringJudged) {
	nowMs := now.UnixMilli()
	window = min(window, History)
	from := max(nowMs-window.Milliseconds(), l.observedFrom)
	last := nowMs / bucketMs
	first := max(from/bucketMs, last-HistoryBuckets+1)
	span := max(nowMs-first*bucketMs, min(window, MinSpan).Milliseconds(), bucketMs)
	spanD := min(time.Duration(span)*time.Millisecond, window)
	if r == nil {
		return 0, spanD, nil
	}
	j := r.judgedAt(first*bucketMs, nowMs)
	return float64(j.rated) * float64(time.Hour/time.Millisecond) / float64(span), spanD, j
}

// Forecast says how long a workspace's credits last at its current burn.
type Forecast struct {
	// BurnPerHour is the burn rate the forecast is made from: credits per hour
	// over Window (BurnWindow, shorter in the first minutes of observing),
	// steps left out; 0 when Idle.
	BurnPerHour float64
	Window      time.Duration
	// Idle is true when the workspace has spent nothing for IdleAfter (see
	// IdleFactor): its burn is then 0 and no run-out is projected. LastCharge
	// is its newest charge (zero: none within the hour).
	Idle       bool
	IdleAfter  time.Duration
	LastCharge time.Time
	// FewCharges is true when the window's rated credits are too little
	// spending to project (EnoughEvidence false; Charges of them in the
	// window, Span between the first and the last), a Step alone included
	// (no rated charge: a burn of 0 that is no rate): BurnPerHour still says
	// what was spent, but no run-out, top-up or pace is made of it.
	FewCharges bool
	Charges    int
	Span       time.Duration
	// Step is the credits of the newest step within Window left out of the
	// burn (0: none): the large charges of one BucketWidth taken together,
	// less the refunds of that BucketWidth. StepAt is the start of its
	// BucketWidth (the step rule judges buckets, not single events).
	Step   int64
	StepAt time.Time
	// Left is the time until the billing period ends.
	Left time.Duration
	// Remaining is as in Status; without it (no allocation or limit) there is no forecast.
	Remaining      int64
	RemainingKnown bool
	// PacePerHour is the burn that would last exactly to the end of the period.
	PacePerHour float64
	// PaceMultiple is BurnPerHour over PacePerHour (+Inf when nothing remains but
	// credits are still being spent, 0 when nothing is spent).
	PaceMultiple float64
	// RunsOut is true when, at BurnPerHour, credits end before the period does;
	// RunsOutIn is then how soon (0 when already out). With auto-recharge it is
	// true only when the usage limit stops the top-ups (AfterRecharges).
	RunsOut   bool
	RunsOutIn time.Duration
	// Recharges is true when auto-recharge tops the allocation up: the
	// workspace runs out only at a usage limit. RechargeBelow and
	// RechargeAmount are its settings; NextRechargeIn is when remaining credits
	// fall below RechargeBelow at BurnPerHour (0: due now), when that is
	// before the period ends (RechargeDue); RechargesLeft is how many top-ups
	// the burn takes before the period ends, or before the usage limit when
	// AfterRecharges.
	Recharges                     bool
	RechargeBelow, RechargeAmount int64
	RechargeDue                   bool
	NextRechargeIn                time.Duration
	RechargesLeft                 int64
	AfterRecharges                bool
	// Reached is true when the cap is used up for this forecast's spender:
	// nothing remains, or what remains cannot cover one TypicalCharge (the
	// mean charge of the hour, every step's charges left out). RunsOut is then true with RunsOutIn 0 and
	// there is no pace (PaceMultiple 0 while credits remain): a project held
	// at its usage limit is refused its calls and barely spends, so its burn
	// over the window would otherwise say "out in 16 s" for as long as the
	// window still holds the spending that brought it there.
	Reached       bool
	TypicalCharge float64
	// LimitHeld is true when a budget_exceeded 402 that stands holds the
	// forecast's budget at its usage limit (Status.LimitHeld): Reached, and
	// its words are "limit reached" whatever cap binds by the counters.
	LimitHeld bool
	// Loading is true while the ledger's last hour is read back
	// (Ledger.HistoryPending): burn, idle and run-out are made on part of the
	// hour, and nothing may be judged from them yet.
	Loading bool
	// usageLimit and used feed the recharge accounting.
	usageLimit, used int64
}

// Forecast returns the burn, pace and run-out forecast of a workspace at now
// by the rules of README's "Forecasts": the burn over BurnWindow with steps
// left out, 0 once the workspace is idle, auto-recharge accounted for.
func (l *Ledger) Forecast(ws string, now time.Time) Forecast {
	w := l.ws[ws] // once: at 100k workspaces a lookup by name is a third of a forecast
	if w == nil {
		return l.burnForecast(l.ring(ws), now)
	}
	return l.forecast(w, now)
}

// forecast is Forecast of the workspace state w.
func (l *Ledger) forecast(w *wsState, now time.Time) Forecast {
	f := l.burnForecast(w.burn, now)
	st := w.status(l.defaults)
	f.Remaining, f.RemainingKnown = st.Remaining, st.RemainingKnown
	if !f.RemainingKnown {
		return f
	}
	if s := &w.settings; st.TopsUp && !st.LimitHeld && st.Level != LevelExhausted {
		// OUT (used ≥ allocation + recharges, or a credits_exhausted 402):
		// the top-up did not come, so none is projected — "out now", not
		// "top-up now, ~5,498 left" nor "runs out after recharges in 2 h"
		f.Recharges, f.RechargeBelow, f.RechargeAmount = true, s.RechargeBelow, s.RechargeAmount
		f.usageLimit, f.used = s.UsageLimit, w.used
	}
	return f.project().held(st.LimitHeld)
}

// held is f for a budget a budget_exceeded 402 holds at its usage limit
// (Status.LimitHeld, when on): reached, whatever the counters leave and the
// window still holds, as a credits_exhausted 402 makes a workspace OUT.
func (f Forecast) held(on bool) Forecast {
	if on {
		f.RunsOut, f.RunsOutIn, f.Reached, f.PaceMultiple, f.LimitHeld = true, 0, true, 0, true
		f.RechargeDue, f.AfterRecharges = false, false
	}
	return f
}

// burnForecast is the part of a Forecast that burn history r gives alone
// (nil: nothing spent): burn, window, idle, step, time left, loading.
func (l *Ledger) burnForecast(r *burnRing, now time.Time) Forecast {
	var f Forecast
	var j *ringJudged
	f.BurnPerHour, f.Window, j = l.burn(r, BurnWindow, now)
	if j != nil && j.newest.credits != 0 {
		f.Step, f.StepAt = j.newest.credits, time.UnixMilli(j.newest.ts)
	}
	if j != nil {
		f.TypicalCharge = j.charge
		f.Charges, f.Span = int(j.ev.charges), j.ev.span()
	}
	// a step alone in the window (one large charge, no rate beside it) is
	// as little evidence as one small charge: its burn is 0 for want of a
	// rate, not because spending stopped ("lasts period" with 5 credits left
	// after a charge of 495)
	f.FewCharges = (f.BurnPerHour > 0 || f.Step > 0) && !EnoughEvidence(f.Charges, f.Span)
	f.Left = l.period.Left(now)
	f.Loading = l.historyPending
	f.Idle, f.IdleAfter = true, MinIdle
	if r != nil && r.last > now.Add(-History).UnixMilli() { // a charge within the hour
		f.IdleAfter = idleAfter(j.typical)
		f.LastCharge = time.UnixMilli(r.last)
		f.Idle = now.Sub(f.LastCharge) > f.IdleAfter
	}
	if f.Idle {
		f.BurnPerHour, f.FewCharges = 0, false
	}
	return f
}

// project fills pace and run-out from burn, remaining and time left.
func (f Forecast) project() Forecast {
	hoursLeft := f.Left.Hours()
	if hoursLeft > 0 {
		f.PacePerHour = float64(f.Remaining) / hoursLeft
	}
	switch {
	case f.BurnPerHour <= 0 || f.FewCharges:
		f.PaceMultiple = 0
	case f.PacePerHour <= 0:
		f.PaceMultiple = math.Inf(1)
	default:
		f.PaceMultiple = f.BurnPerHour / f.PacePerHour
	}
	if f.Recharges {
		return f.recharge(hoursLeft)
	}
	if f.Remaining <= 0 {
		f.RunsOut, f.RunsOutIn, f.Reached = true, 0, true
		return f
	}
	if float64(f.Remaining) < f.TypicalCharge {
		// not one more typical charge fits: reached, however fast the
		// window says it was spending before it got here
		f.RunsOut, f.RunsOutIn, f.Reached, f.PaceMultiple = true, 0, true, 0
		return f
	}
	if f.BurnPerHour > 0 && !f.FewCharges {
		hours := float64(f.Remaining) / f.BurnPerHour
		if hours < hoursLeft {
			f.RunsOut = true
			f.RunsOutIn = time.Duration(hours * float64(time.Hour))
		}
	}
	return f
}

// recharge projects a workspace whose allocation auto-recharge tops up: a
// top-up of RechargeAmount each time remaining credits fall below
// RechargeBelow, so it runs out only where the usage limit stops it. Top-up i
// (from 1) comes after Remaining − RechargeBelow + 1 + (i−1)·RechargeAmount
// more credits are spent: "below" is strict (the guide's Pattern 5, "when
// credits fall below 100"; the sandbox's remaining < threshold), so at
// remaining == RechargeBelow one more credit is still to be spent. Already
// below (a charge that overshot, the top-up not yet seen): due now.
func (f Forecast) recharge(hoursLeft float64) Forecast {
	if f.BurnPerHour <= 0 || f.FewCharges {
		return f
	}
	var toNext int64
	if f.Remaining >= f.RechargeBelow {
		toNext = AddCredits(f.Remaining-f.RechargeBelow, 1)
	}
	need := f.BurnPerHour * hoursLeft // credits the burn spends before the period ends
	if f.usageLimit > 0 && float64(f.usageLimit-f.used) < need {
		need = float64(max(f.usageLimit-f.used, 0))
		hours := need / f.BurnPerHour
		f.RunsOut, f.AfterRecharges = true, true
		f.RunsOutIn = time.Duration(hours * float64(time.Hour))
	}
	if float64(toNext) < need || toNext == 0 {
		f.RechargeDue = true
		f.NextRechargeIn = time.Duration(float64(toNext) / f.BurnPerHour * float64(time.Hour))
		// saturated: a burn of 10^18/h (a heal's spread of a counter near 2^63)
		// converted past int64 to "~-9,223,… top-ups"
		f.RechargesLeft = AddCredits(RoundCredits(math.Floor((need-float64(toNext))/float64(f.RechargeAmount))), 1)
	}
	return f
}

// Series appends to dst the credits spent by ws ("" for all) in each of n steps
// ending at now, oldest first. step is rounded to whole BucketWidths.
func (l *Ledger) Series(ws string, now time.Time, step time.Duration, n int, dst []float64) []float64 {
	return ringSeries(l.ring(ws), now, step, n, dst)
}

// ProjectSeries is Series of project of workspace ws: its own burn history,
// kept while it has a usage limit — what the forecast of a verdict set by
// its limit is made from (VerdictForecast), so a chart beside that verdict's
// figures is of the same budget. false when none is kept (dst unchanged).
func (l *Ledger) ProjectSeries(ws, project string, now time.Time, step time.Duration, n int, dst []float64) ([]float64, bool) {
	w := l.ws[ws]
	if w == nil {
		return dst, false
	}
	p := w.projects[project]
	if p == nil || p.burn == nil && !p.limited() {
		return dst, false
	}
	return ringSeries(p.burn, now, step, n, dst), true
}

// ringSeries is Series of burn history r (nil: nothing spent).
func ringSeries(r *burnRing, now time.Time, step time.Duration, n int, dst []float64) []float64 {
	per := max(int64(step/BucketWidth), 1)
	last := now.UnixMilli() / bucketMs
	for i := n - 1; i >= 0; i-- {
		to := last - int64(i)*per
		v := 0.0
		if r != nil {
			v = float64(r.sumRange(to-per+1, to))
		}
		dst = append(dst, v)
	}
	return dst
}
