package model

import (
	"strings"
	"time"
)

// Episodes knows, of a lifecycle's alert ids (Add each), which is each
// alert's latest episode ("…/threshold/75~2" follows "…/threshold/75"), so
// FiresAgainAt says when a resolved one may fire again: the one rule `mavtop
// alerts`' FIRES AGAIN column and the dashboard's alerts pane both show.
// Only ids of a second episode or later are kept: the first episode of an
// alert that never fired again (nearly all of them) costs nothing.
type Episodes struct {
	latest map[string]int
}

// Add records id as one of its alert's episodes.
func (e *Episodes) Add(id string) {
	base, n := SplitEpisode(id)
	if n < 2 {
		return
	}
	if e.latest == nil {
		e.latest = map[string]int{}
	}
	e.latest[base] = max(e.latest[base], n)
}

// FiresAgainAt is the earliest time the alert of record id, resolved at
// resolvedAt (when resolved), may fire again as a new episode: its
// resolution plus DefaultReFireAfter (README, "Episodes"). Zero for an alert
// firing, or an episode a later one (Add) followed.
func (e *Episodes) FiresAgainAt(id string, resolved bool, resolvedAt time.Time) time.Time {
	base, n := SplitEpisode(id)
	return FiresAgainAt(id, resolved, e.latest[base] <= n, resolvedAt)
}

// FiresAgainAt is the earliest time an alert resolved at resolvedAt (when
// resolved) may fire again as a new episode: its resolution plus
// DefaultReFireAfter (README, "Episodes"), when it is its alert's latest
// episode (latest); zero otherwise, and for an alert firing. A
// counters_resync (id) waits for nothing: its next re-read is a new event
// (resyncStep), so it may fire again at once ("if it holds").
func FiresAgainAt(id string, resolved, latest bool, resolvedAt time.Time) time.Time {
	if !resolved || !latest || resolvedAt.IsZero() {
		return time.Time{}
	}
	if strings.Contains(id, "/"+string(AlertResync)+"/") {
		return resolvedAt
	}
	return resolvedAt.Add(DefaultReFireAfter)
}

// FiresAgainText says FiresAgainAt at now, as every surface words it:
// "after 14:52:05" (local time) while the hold-off lasts, "if it holds" once
// it is over (its condition fires it at the next evaluation), "—" for none.
func FiresAgainText(at, now time.Time) string {
	switch {
	case at.IsZero():
		return "—"
	case now.Before(at):
		return "after " + at.Local().Format("15:04:05")
	}
	return "if it holds"
}
