package teatest

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/cmd"
	"mavtop/demo"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// TestEstimatorLaunchesJob launches a focus group from the estimator pane against
// the API sandbox, through the real client (pre-flight, tracking): the pane shows
// actual vs estimate, and the gauge shows exactly what the sandbox charged.
func TestEstimatorLaunchesJob(t *testing.T) {
	srv := feedtest.Start(t)
	scaled := client.NewScaledClock(now, 20) // sandbox jobs of 6–9 s finish in a fraction of a second
	d, err := demo.Start(context.Background(), demo.Options{Redis: srv.Client(), NoTraffic: true, Seed: 7, Clock: scaled})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	r := &rig{t: t, srv: srv, rdb: srv.Client()}
	r.start(120, 34, func(o *tui.Options) {
		o.Launcher = &cmd.ClientLauncher{Client: d.Client, Retries: d.Retries, Poll: 50 * time.Millisecond}
		o.ReadOnly = ""
	})
	r.waitFor("acme-prod", "hooli-ml")
	r.send(keys("e")...)
	r.waitFor("remaining in acme-prod: 12,000,000 credits")
	r.send(keys("enter")...)
	r.waitFor("Launch focus-group in acme-prod, up to 85 credits (102 with buffer)?")
	r.send(keys("y")...)
	r.waitFor("focus-group in acme-prod done: actual")
	s := r.screen()
	m := regexp.MustCompile(`done: actual (\d+) credits vs estimate 85`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no actual vs estimate:\n%s", s)
	}
	actual, _ := strconv.ParseInt(m[1], 10, 64)
	ledger, _ := d.Sandbox.Ledger(d.Key)
	charged := ledger.Workspaces["acme-prod"].Used
	if actual != charged || actual <= 0 {
		t.Fatalf("pane says %d credits, the sandbox charged %d", actual, charged)
	}
	if want := fmt.Sprintf("%d / 12,000,000", actual); !strings.Contains(s, want) {
		t.Fatalf("gauge does not show %q:\n%s", want, s)
	}
}

// TestRedisGoesAwayAndComesBack kills redis-server under the dashboard: the
// header says reconnecting; after a restart, events written since show and the
// totals are exact.
func TestRedisGoesAwayAndComesBack(t *testing.T) {
	r := newRig(t, 100, 30)
	if !r.srv.Real {
		t.Skip("needs redis-server (Kill/Restart with data)")
	}
	r.setWorkspace("acme", model.Settings{Allocation: 10_000})
	for range 10 {
		r.track(model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 11})
	}
	r.waitFor("110 / 10,000")
	r.srv.Kill()
	r.waitFor("reconnecting")
	r.srv.Restart()
	pub := feed.NewPublisher(r.srv.Client(), feed.PublisherOptions{Now: clock})
	for range 5 {
		if err := pub.Track(context.Background(), model.Event{TS: now.Add(-time.Second).UnixMilli(), Workspace: "acme", Endpoint: "/mave/chat", Credits: 30, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	r.waitFor("● connected", "260 / 10,000")
	snap, err := feed.ReadSnapshot(context.Background(), r.srv.Client(), feed.Keys{}, now, model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Snap.Used["acme"]; got != 260 {
		t.Fatalf("redis holds %d, screen shows 260", got)
	}
	r.requireGolden()
}
