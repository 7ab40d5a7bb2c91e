package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestAFlushIsNamedWithItsCause: after a FLUSHALL (watch audits the counters,
// finds them gone and fires counters_resync/reset) `mavtop alerts` ended with
// "the feed firing (1 alert firing)." — no alert, no cause. It names the
// alert and what it says: "feed reset (Redis lost data …: counters re-read,
// −3,000 credits) firing". Real redis-server.
func TestAFlushIsNamedWithItsCause(t *testing.T) {
	srv := feedtest.StartReal(t, "a flush needs redis-server")
	c := srv.Client()
	usage := notifytest.NewUsage(t, c)
	usage.Set("acme", model.Settings{Allocation: 1_000_000})
	usage.Spend("acme", 3000)
	stderr, stop := startWatch(t, "--redis", srv.URL, "--audit", "200ms")
	defer stop()
	waitUntil(t, 60*time.Second, "watch to follow", func() bool { return strings.Contains(stderr.String(), "workspaces found") })
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	id := "/-/-/counters_resync/reset " // the calendar month's period: the flush took the test's period config with it
	var out string
	defer func() {
		if t.Failed() {
			t.Logf("alerts:\n%s\nwatch:\n%s", out, stderr.String())
		}
	}()
	waitUntil(t, 60*time.Second, "alerts to list "+id+" firing", func() bool {
		out, _, _ = runMavtop(t, "alerts", "--redis", srv.URL)
		return strings.Contains(out, id) && strings.Contains(out, "firing")
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	want := "feed reset (Redis lost data mavtop had read (reset / data lost: flushed, deleted or restored): counters re-read, −3,000 credits) firing (1 alert firing)."
	if last != want {
		t.Errorf("alerts' firing line %q, want %q\n%s", last, want, out)
	}
}
