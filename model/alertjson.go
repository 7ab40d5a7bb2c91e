package model

import (
	"encoding/json"
	"math"
	"time"
)

// alertFields is Alert without its methods: json.Marshal of it is the
// struct's own form, which alertJSON shadows where it differs.
type alertFields Alert

// alertJSON is how an Alert is stored and sent as JSON: every duration in
// seconds (run_out_in_seconds, spare_seconds, down_seconds), the one unit of
// every duration mavtop writes as JSON. The fields named like the Go
// durations' tags (run_out_in, spare, down: nanoseconds, as records written
// before this form hold them) are shallower, so they hide the durations: they
// are read, never written.
type alertJSON struct {
	alertFields
	RunOutInSeconds float64 `json:"run_out_in_seconds,omitempty"`
	SpareSeconds    float64 `json:"spare_seconds,omitempty"`
	DownSeconds     float64 `json:"down_seconds,omitempty"`
	OldRunOutIn     int64   `json:"run_out_in,omitempty"`
	OldSpare        int64   `json:"spare,omitempty"`
	OldDown         int64   `json:"down,omitempty"`
}

// MarshalJSON writes the alert with its durations in seconds.
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(alertJSON{alertFields: alertFields(a),
		RunOutInSeconds: a.RunOutIn.Seconds(), SpareSeconds: a.Spare.Seconds(), DownSeconds: a.Down.Seconds()})
}

// UnmarshalJSON reads an alert in either form: durations in seconds, or in
// nanoseconds as an earlier mavtop stored them (its records stay readable for
// the period they belong to).
func (a *Alert) UnmarshalJSON(b []byte) error {
	var j alertJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Alert(j.alertFields)
	a.RunOutIn = durationOf(j.RunOutInSeconds, j.OldRunOutIn)
	a.Spare = durationOf(j.SpareSeconds, j.OldSpare)
	a.Down = durationOf(j.DownSeconds, j.OldDown)
	return nil
}

// durationOf is a duration given in seconds, else in nanoseconds.
func durationOf(seconds float64, ns int64) time.Duration {
	if seconds != 0 {
		return time.Duration(math.Round(seconds * float64(time.Second)))
	}
	return time.Duration(ns)
}
