package model

import (
	"fmt"
	"time"
)

// ForecastScore sets a workspace's first credits_exhausted 402 of a period
// against the run-out time mavtop had projected for it, so an operator can
// see how far the forecast can be trusted.
type ForecastScore struct {
	Workspace string
	// Projected is when the forecast said credits would run out; Refused is
	// when the API first refused with credits_exhausted.
	Projected, Refused time.Time
}

// Error is Refused minus Projected: negative when the refusal came before the
// projection (the forecast was late), positive when after.
func (s ForecastScore) Error() time.Duration { return s.Refused.Sub(s.Projected) }

// String reads "projected 14:05, refused 13:52: 13 min early" (times in loc;
// each with its date, "projected 11-25 14:05, refused 11-22 13:56: 3 days
// early", when the two fall on different days).
func (s ForecastScore) String(loc *time.Location) string {
	e := s.Error()
	verdict := "on time"
	switch {
	case e <= -time.Minute:
		verdict = HumanizeDuration(-e) + " early"
	case e >= time.Minute:
		verdict = HumanizeDuration(e) + " late"
	}
	p, r := s.Projected.In(loc), s.Refused.In(loc)
	layout := "15:04"
	if p.Format("2006-01-02") != r.Format("2006-01-02") {
		layout = "01-02 15:04"
	}
	return fmt.Sprintf("%s: projected %s, refused %s: %s", s.Workspace,
		p.Format(layout), r.Format(layout), verdict)
}
