package teatest

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestEstimatorLaunchesJob launches a focus group from the estimator pane
// against the API sandbox, through the real client (pre-flight, tracking), on
// the smallest usual terminal and a larger one: the launch's question, its
// progress and its result (actual vs estimate) are all drawn, the actual is
// what the sandbox charged, and the pane's remaining credits drop by it once
// the stream has it; the footer keeps ? help and q quit.
func TestEstimatorLaunchesJob(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 34}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			r, d := newLaunchRig(t, w, h)
			r.waitFor("acme-prod")
			r.send(keys("e")...)
			r.waitFor("remaining in acme-prod: 12,000,000 credits")
			r.send(keys("enter")...)
			r.waitFor("Launch focus-group in acme-prod, up to 85 credits", "y confirm")
			r.send(keys("y")...)
			r.waitFor("focus-group in acme-prod: ") // the running line: spinner, status, time
			r.waitFor("focus-group in acme-prod done: actual")
			ledger, _ := d.Sandbox.Ledger(d.Key)
			charged := ledger.Workspaces["acme-prod"].Used
			r.waitFor(fmt.Sprintf("remaining in acme-prod: %s credits", humanize(12_000_000-charged)))
			s := r.screen()
			m := regexp.MustCompile(`done: actual (\d+) credits vs estimate 85`).FindStringSubmatch(s)
			if m == nil {
				t.Fatalf("no actual vs estimate at %dx%d:\n%s", w, h, s)
			}
			if actual, _ := strconv.ParseInt(m[1], 10, 64); actual != charged || actual <= 0 {
				t.Fatalf("pane says %d credits, the sandbox charged %d", actual, charged)
			}
			lines := strings.Split(s, "\n")
			if len(lines) != h || !strings.Contains(lines[h-1], "? help") || !strings.Contains(lines[h-1], "q quit") {
				t.Fatalf("footer or height wrong at %dx%d:\n%s", w, h, s)
			}
		})
	}
}

// humanize writes n with thousands separators, as the panes do.
func humanize(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
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
	r.waitFor("110/10.0k")
	r.srv.Kill()
	r.waitFor("reconnecting")
	r.srv.Restart()
	pub := feed.NewPublisher(r.srv.Client(), feed.PublisherOptions{Now: clock, IDs: r.ids})
	for range 5 {
		if err := pub.Track(context.Background(), model.Event{TS: now.Add(-time.Second).UnixMilli(), Workspace: "acme", Endpoint: "/mave/chat", Credits: 30, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	r.waitFor("● connected", "260/10.0k")
	snap, err := feed.ReadSnapshot(context.Background(), r.srv.Client(), feed.Keys{}, now, model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Snap.Used["acme"]; got != 260 {
		t.Fatalf("redis holds %d, screen shows 260", got)
	}
	r.requireGolden()
}
