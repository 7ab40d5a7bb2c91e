package metrics

import (
	"context"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestNothingFoundIsNotAllFine: a mavtop whose key prefix or db holds nothing
// (a typo in --key-prefix, the wrong db in --redis) served no workspace
// series at all, so every alert rule on them (credits low, exhausted,
// refusing) read "all fine" for ever. mavtop_workspaces says how many
// workspaces were found: 0 there (the README's MavtopNothingFound rule), 1
// once a workspace has settings, 2 once another writes usage.
func TestNothingFoundIsNotAllFine(t *testing.T) {
	srv := feedtest.Start(t)
	r := startRigOn(t, srv.Client(), func() {}, Options{})
	want := func(n float64) {
		t.Helper()
		sameSeries(t, "mavtop_workspaces", series(t, scrape(t, r.url), "mavtop_workspaces", dto.MetricType_GAUGE), map[string]float64{"": n})
	}
	want(0)
	if err := r.set.SetWorkspace(context.Background(), "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acme's settings", func() bool {
		return series(t, scrape(t, r.url), "mavtop_credits_allocation", dto.MetricType_GAUGE)["workspace=acme"] == 1000
	})
	want(1)
	r.publish(t, usage("globex", "", "/r", 5))
	want(2)
}
