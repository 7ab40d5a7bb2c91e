package cmd

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/feed"
)

// errNoRedis is what commands that need Redis say when none is configured; they
// never fall back to an embedded server silently.
var errNoRedis = errors.New("no Redis configured: pass --redis redis://host:6379/0 or set REDIS_URL")

// redisFlags are the connection flags shared by every command that talks to Redis.
type redisFlags struct {
	url            string
	sentinelMaster string
	prefix         string
	timeout        time.Duration
	// getenv reads REDIS_URL (os.Getenv; tests replace it).
	getenv func(string) string
}

// addFlags registers the flags on cmd.
func (f *redisFlags) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.url, "redis", "", "Redis `URL`: redis://[user:pass@]host:6379/0, rediss:// for TLS, several comma-separated addresses for a Cluster (default $REDIS_URL)")
	fl.StringVar(&f.sentinelMaster, "redis-sentinel-master", "", "ask the Sentinels at --redis for this master `name`")
	fl.StringVar(&f.prefix, "key-prefix", feed.DefaultPrefix, "prefix of every Redis key (keep the {braces}: a Cluster hash tag)")
	fl.DurationVar(&f.timeout, "redis-timeout", 5*time.Second, "how long to wait for Redis to answer")
}

// redisURL returns the configured URL: the flag, else $REDIS_URL, else "".
func (f *redisFlags) redisURL() string {
	if f.url != "" {
		return f.url
	}
	getenv := f.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv("REDIS_URL")
}

// configured reports whether a Redis is configured at all.
func (f *redisFlags) configured() bool { return f.redisURL() != "" }

// keys returns the key names under the configured prefix.
func (f *redisFlags) keys() feed.Keys { return feed.Keys{Prefix: f.prefix} }

// connect connects and pings, failing fast (no retry storm): errNoRedis when
// nothing is configured, else the connection error.
func (f *redisFlags) connect(ctx context.Context) (redis.UniversalClient, error) {
	url := f.redisURL()
	if url == "" {
		return nil, errNoRedis
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	return feed.Connect(ctx, feed.ConnectOptions{
		URL: url, SentinelMaster: f.sentinelMaster,
		DialTimeout: min(f.timeout, 2*time.Second), MaxRetries: -1,
	})
}
