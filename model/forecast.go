package model

import (
	"math"
	"time"
)

// Burn-rate windows.
const (
	// RecentWindow is the short window: what is happening now.
	RecentWindow = 5 * time.Minute
	// TrendWindow is the long window the forecast is made from.
	TrendWindow = time.Hour
	// MinSpan is the shortest time a rate is measured over: a burst in the first
	// seconds after a start is not a burn rate.
	MinSpan = 5 * time.Minute
)

func (l *Ledger) ring(ws string) *burnRing {
	if ws == "" {
		return &l.all
	}
	if w := l.ws[ws]; w != nil {
		return w.burn // nil: nothing spent
	}
	return nil
}

// Burn returns credits per hour spent by ws ("" for all workspaces) over the
// window ending at now. The window is clipped to History and to the time the
// ledger has been observing, so a fresh start is not diluted by an empty past,
// but never below MinSpan (or the window, if shorter), so a burst in the first
// seconds is not extrapolated to an hour.
func (l *Ledger) Burn(ws string, window time.Duration, now time.Time) float64 {
	r := l.ring(ws)
	if r == nil {
		return 0
	}
	nowMs := now.UnixMilli()
	window = min(window, History)
	from := max(nowMs-window.Milliseconds(), l.observedFrom)
	last := nowMs / bucketMs
	first := max(from/bucketMs, last-HistoryBuckets+1)
	span := max(nowMs-first*bucketMs, min(window, MinSpan).Milliseconds(), bucketMs)
	return float64(r.sumRange(first, last)) * float64(time.Hour/time.Millisecond) / float64(span)
}

// Forecast says how long a workspace's credits last at its current burn.
type Forecast struct {
	// BurnPerHour is the burn over TrendWindow; RecentPerHour over RecentWindow.
	BurnPerHour, RecentPerHour float64
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
	// RunsOutIn is then how soon (0 when already out).
	RunsOut   bool
	RunsOutIn time.Duration
}

// Forecast returns the burn, pace and run-out forecast of a workspace at now.
func (l *Ledger) Forecast(ws string, now time.Time) Forecast {
	f := Forecast{
		BurnPerHour:   l.Burn(ws, TrendWindow, now),
		RecentPerHour: l.Burn(ws, RecentWindow, now),
		Left:          l.period.Left(now),
	}
	w := l.ws[ws]
	if w == nil {
		return f
	}
	st := w.status(l.defaults)
	f.Remaining, f.RemainingKnown = st.Remaining, st.RemainingKnown
	if !f.RemainingKnown {
		return f
	}
	return f.project()
}

// project fills pace and run-out from burn, remaining and time left.
func (f Forecast) project() Forecast {
	hoursLeft := f.Left.Hours()
	if hoursLeft > 0 {
		f.PacePerHour = float64(f.Remaining) / hoursLeft
	}
	switch {
	case f.BurnPerHour <= 0:
		f.PaceMultiple = 0
	case f.PacePerHour <= 0:
		f.PaceMultiple = math.Inf(1)
	default:
		f.PaceMultiple = f.BurnPerHour / f.PacePerHour
	}
	if f.Remaining <= 0 {
		f.RunsOut, f.RunsOutIn = true, 0
		return f
	}
	if f.BurnPerHour > 0 {
		hours := float64(f.Remaining) / f.BurnPerHour
		if hours < hoursLeft {
			f.RunsOut = true
			f.RunsOutIn = time.Duration(hours * float64(time.Hour))
		}
	}
	return f
}

// Series appends to dst the credits spent by ws ("" for all) in each of n steps
// ending at now, oldest first. step is rounded to whole BucketWidths.
func (l *Ledger) Series(ws string, now time.Time, step time.Duration, n int, dst []float64) []float64 {
	r := l.ring(ws)
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
