package cmd

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// `mavtop watch` started while Redis is down says so on stderr at once, and
// once --stale has passed logs the feed_stale alert it announces without
// Redis (it was silent: no counters read, nothing judged, nothing logged).
func TestWatchWithRedisDownSaysSo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	root := newRootCmd()
	root.SetArgs([]string{"watch", "--redis", "redis://" + addr + "/0", "--stale", "500ms"})
	root.SetOut(io.Discard)
	root.SetErr(stderr)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	waitUntil(t, 30*time.Second, "the unreachable Redis logged", func() bool {
		return strings.Contains(stderr.String(), "level=WARN msg=redis") && strings.Contains(stderr.String(), "connection refused")
	})
	waitUntil(t, 30*time.Second, "the feed_stale firing logged", func() bool {
		return strings.Contains(stderr.String(), "feed_stale") && strings.Contains(stderr.String(), "mavtop cannot reach Redis")
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not stop")
	}
}
