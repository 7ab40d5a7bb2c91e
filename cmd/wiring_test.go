package cmd

import (
	"errors"
	"testing"

	"mavtop/client"
	"mavtop/tui"
)

// TestDriftShowsExactReadingsOnly: a reading taken while the client's own jobs
// were in flight does not replace an exact one; it is shown when nothing
// exact is there yet (or the last reading failed), and errors always are.
func TestDriftShowsExactReadingsOnly(t *testing.T) {
	exact := &tui.Drift{APIUsed: 10, Tracked: 10}
	failed := &tui.Drift{Err: errors.New("GET /usage: 503")}
	for _, c := range []struct {
		prev *tui.Drift
		rec  client.Reconciliation
		want bool
	}{
		{nil, client.Reconciliation{}, true},
		{exact, client.Reconciliation{Quiet: true}, true},
		{exact, client.Reconciliation{}, false},
		{exact, client.Reconciliation{Err: errors.New("timeout")}, true},
		{failed, client.Reconciliation{}, true},
	} {
		if got := replaces(c.prev, c.rec); got != c.want {
			t.Errorf("replaces(%+v, quiet %v err %v) = %v, want %v", c.prev, c.rec.Quiet, c.rec.Err, got, c.want)
		}
	}
}
