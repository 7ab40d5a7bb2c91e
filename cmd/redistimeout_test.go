package cmd

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
)

// TestRedisTimeoutBoundsEachReply: every one-shot command connects through
// redisFlags.connectWith (budget, alerts, check, emit, proxy, sandbox),
// and --redis-timeout is the wait for each reply there, not go-redis's 5 s
// default: budget show at 100k workspaces failed with "i/o timeout" after
// ~5 s even with --redis-timeout 60s (hunt16), a reply that took longer.
func TestRedisTimeoutBoundsEachReply(t *testing.T) {
	srv := feedtest.Start(t)
	url := "redis://" + srv.Client().(*redis.Client).Options().Addr
	for _, timeout := range []time.Duration{300 * time.Millisecond, 60 * time.Second} {
		for _, protocol := range []int{0, 2} {
			rf := redisFlags{url: url, timeout: timeout}
			c, err := rf.connectWith(context.Background(), feed.ConnectOptions{Protocol: protocol})
			if err != nil {
				t.Fatal(err)
			}
			o := c.(*redis.Client).Options()
			if o.ReadTimeout != timeout || o.WriteTimeout != timeout {
				t.Errorf("--redis-timeout %s (RESP %d): the client waits %s for a reply, %s for a write", timeout, protocol, o.ReadTimeout, o.WriteTimeout)
			}
			c.Close()
		}
	}
}
