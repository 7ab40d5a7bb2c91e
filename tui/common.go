package tui

import "time"

// common is the small value every component embeds: the theme, the key map and
// the clock, shared by pointer so copying a component stays cheap.
type common struct {
	st *Styles
	km *KeyMap
	// now is the clock the screen shows: ages, countdowns, forecasts. With
	// Options.ClockStep it moves in steps, so text driven by time alone
	// changes once a step.
	now func() time.Time
	// stamp is the clock itself, for the times things happened (an alert, a
	// re-read); nil: now.
	stamp func() time.Time
}

// at is when something happens now, at the clock's full precision.
func (c common) at() time.Time {
	if c.stamp != nil {
		return c.stamp()
	}
	return c.now()
}

// steppedClock is now moving in whole steps (truncated), for the screen.
func steppedClock(now func() time.Time, step time.Duration) func() time.Time {
	if step <= time.Second {
		return now
	}
	return func() time.Time { return now().Truncate(step) }
}
