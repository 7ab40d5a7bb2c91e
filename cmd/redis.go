package cmd

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/model"
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
	fl.DurationVar(&f.timeout, "redis-timeout", 5*time.Second, "how long to wait for Redis to answer (positive)")
	nonEmpty(fl, "redis", "redis-sentinel-master", "key-prefix")
	atLeast(fl, "positive", "redis-timeout")
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
	return f.connectWith(ctx, feed.ConnectOptions{})
}

// connectWith is connect with the options of o the flags do not set
// (Protocol, OneShot; see feed.ConnectOptions).
func (f *redisFlags) connectWith(ctx context.Context, o feed.ConnectOptions) (redis.UniversalClient, error) {
	url := f.redisURL()
	if url == "" {
		return nil, errNoRedis
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	o.URL, o.SentinelMaster = url, f.sentinelMaster
	o.DialTimeout, o.ReadTimeout, o.MaxRetries = min(f.timeout, 2*time.Second), f.timeout, -1
	return feed.Connect(ctx, o)
}

// sourceFlags say where usage is read from: the stream contract, the seed's
// Pattern 1 counters, or whichever this Redis has.
type sourceFlags struct {
	kind    string
	pattern string
	every   time.Duration
}

// addFlags registers --source, --counter-pattern and --counter-poll on cmd.
func (f *sourceFlags) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "source", string(feed.SourceAuto), "where usage comes from: stream (the wire contract), counters (the seed's Pattern 1 INCRBY keys), or auto (the stream when this period's counters exist, else the Pattern 1 keys)")
	fl.StringVar(&f.pattern, "counter-pattern", feed.DefaultCounterPattern, "Pattern 1 counter keys: a literal prefix and *, the rest of the key is the workspace")
	fl.DurationVar(&f.every, "counter-poll", 5*time.Second, "how often Pattern 1 counters are read (SCAN + MGET; at most 1 % of the time; keyspace notifications, when on, add every change within 250 ms; positive)")
	nonEmpty(fl, "source", "counter-pattern")
	atLeast(fl, "positive", "counter-poll")
}

// parse checks the flags.
func (f *sourceFlags) parse() (feed.SourceKind, error) {
	kind, err := feed.ParseSourceKind(f.kind)
	if err != nil {
		return "", err
	}
	if _, err := feed.CounterPrefix(f.pattern); err != nil {
		return "", err
	}
	return kind, nil
}

// source builds the source the flags choose, reading keys under prefix; a
// stream source audits itself against the counters every auditEvery.
func (f *sourceFlags) source(c redis.UniversalClient, prefix string, auditEvery time.Duration) (feed.Source, error) {
	kind, err := f.parse()
	if err != nil {
		return nil, err
	}
	return feed.NewSource(c, kind, feed.SubscriberOptions{Prefix: prefix, AuditEvery: auditEvery}, feed.CounterOptions{Pattern: f.pattern, Every: f.every})
}

// readUsage reads this period's workspace snapshot from the source the flags
// choose (auto resolved against this Redis) and says which it was. From the
// stream's counters it leaves out used_by (per project and endpoint, the
// largest hash): its readers report workspaces only.
func readUsage(ctx context.Context, c redis.UniversalClient, keys feed.Keys, sf *sourceFlags, now time.Time) (*feed.SnapshotResult, feed.SourceKind, error) {
	kind, err := sf.parse()
	if err != nil {
		return nil, "", err
	}
	// under auto the snapshot read to find the source is the one reported:
	// check read every hash twice
	kind, res, err := feed.DetectSourceRead(ctx, c, keys, kind, sf.pattern, now)
	if err != nil {
		return nil, "", err
	}
	if res != nil {
		return res, kind, nil
	}
	if kind == feed.SourceCounters {
		res, _, _, err := feed.ReadCounterSnapshot(ctx, c, keys, sf.pattern, 0, 0, now, model.MonthlyUTC)
		return res, kind, err
	}
	res, err = feed.ReadWorkspaceSnapshot(ctx, c, keys, now, model.MonthlyUTC)
	return res, kind, err
}

// sourceNote says what a source cannot show ("" for the stream).
func sourceNote(kind feed.SourceKind) string {
	if kind == feed.SourceCounters {
		return feed.CounterNote
	}
	return ""
}
