package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestWatchSaysWhenItFindsNoWorkspace: mavtop watch under a mistyped
// --key-prefix (or the wrong db) followed nothing and said nothing, for
// ever: silence read as "nothing fired". It warns that it found no
// workspace, where it looked, and says so when one appears; on a db that
// holds one it says how many it found, and no warning.
func TestWatchSaysWhenItFindsNoWorkspace(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	if err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	stderr, stop := startWatch(t, "--redis", srv.URL, "--key-prefix", "{maverra}")
	defer stop()
	waitUntil(t, 60*time.Second, "the warning", func() bool { return strings.Contains(stderr.String(), "no workspaces found") })
	if log := stderr.String(); !strings.Contains(log, "key_prefix={maverra}") || !strings.Contains(log, "redis="+srv.URL) || !strings.Contains(log, "level=WARN") {
		t.Errorf("the warning does not say where it looked:\n%s", log)
	}
	if err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{Prefix: "{maverra}"}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, "the workspace found", func() bool { return strings.Contains(stderr.String(), `msg="workspaces found" workspaces=1`) })

	stderr2, stop2 := startWatch(t, "--redis", srv.URL)
	defer stop2()
	waitUntil(t, 60*time.Second, "the workspace found", func() bool { return strings.Contains(stderr2.String(), `msg="workspaces found" workspaces=1`) })
	if strings.Contains(stderr2.String(), "no workspaces found") {
		t.Errorf("a db holding acme warned:\n%s", stderr2.String())
	}
}
