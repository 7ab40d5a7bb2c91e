package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestCheckJudgesALateEventInThePeriodItsTsChose: an event written now whose
// ts lies in the period before (a producer's clock minutes slow at a
// period's start, a replayed or reconciled event) went to that period's
// counters, as the producer chose them by its ts. This period's counters are
// empty and that is the truth: check said UNKNOWN ("the stream holds usage
// events of this period … usage is unknown") since freshness dates such an
// event by its id (model.TrustedTime), while the dashboard and budget show
// said 0 used, ok. The period an event belongs to is its ts's (README,
// "Whose clock dates an event"). Real redis-server.
func TestCheckJudgesALateEventInThePeriodItsTsChose(t *testing.T) {
	srv := feedtest.StartReal(t, "the stream contract as redis-server answers it")
	c := srv.Client()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	usage.Set("acme", model.Settings{Allocation: 1000})
	late := model.Event{TS: p.Start.Add(-time.Hour).UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 100, Status: 200}
	if err := feed.NewPublisher(c, feed.PublisherOptions{}).Track(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check"}, {"check", "--json"}, {"check", "acme", "--stale", "10m"}} {
		out, errOut, code := runMavtop(t, append(args, "--redis", srv.URL)...)
		if code != 0 || strings.Contains(out, "unknown") || strings.Contains(out, "UNKNOWN") {
			t.Errorf("%v: exit %d, want 0 (this period's counters are empty: 0 used, ok)\n%s%s", args, code, out, errOut)
		}
	}
}
