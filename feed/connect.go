package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ConnectOptions say which Redis to use.
type ConnectOptions struct {
	// URL is redis://[user:pass@]host:port[/db] or rediss:// for TLS. Several
	// addresses separated by commas (URLs or host:port; credentials and TLS come
	// from the first) mean a Redis Cluster, or the Sentinels when SentinelMaster
	// is set.
	URL string
	// SentinelMaster is the master name to ask the Sentinels at URL for.
	SentinelMaster string
	// DialTimeout bounds connecting (5 s).
	DialTimeout time.Duration
	// MaxRetries is go-redis's per-command retry count (0: its default, -1: none,
	// and then one dial attempt per command: for callers with their own backoff).
	MaxRetries int
}

// NewClient builds a go-redis UniversalClient for opt without contacting Redis:
// a plain client for one address, a Cluster client for several, a failover
// client when SentinelMaster is set.
func NewClient(opt ConnectOptions) (redis.UniversalClient, error) {
	parts := strings.Split(opt.URL, ",")
	var uo redis.UniversalOptions
	for i, raw := range parts {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return nil, fmt.Errorf("redis address list %q has an empty entry", opt.URL)
		}
		if !strings.Contains(raw, "://") {
			if !strings.Contains(raw, ":") {
				return nil, fmt.Errorf("redis address %q: want redis://host:port or host:port", raw)
			}
			uo.Addrs = append(uo.Addrs, raw)
			continue
		}
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redis URL %s: %w", RedactURL(raw), err)
		}
		uo.Addrs = append(uo.Addrs, o.Addr)
		if i == 0 {
			uo.Username, uo.Password, uo.DB, uo.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
		}
	}
	if len(uo.Addrs) > 1 && uo.TLSConfig != nil {
		// Each node is verified against its own host name.
		uo.TLSConfig = uo.TLSConfig.Clone()
		uo.TLSConfig.ServerName = ""
	}
	if opt.SentinelMaster != "" {
		uo.MasterName = opt.SentinelMaster
		uo.SentinelUsername, uo.SentinelPassword = uo.Username, uo.Password
	} else if len(uo.Addrs) > 1 && uo.DB != 0 {
		return nil, errors.New("redis cluster has only database 0; drop the /db from the URL")
	}
	uo.DialTimeout = opt.DialTimeout
	if uo.DialTimeout <= 0 {
		uo.DialTimeout = 5 * time.Second
	}
	uo.MaxRetries = opt.MaxRetries
	if opt.MaxRetries < 0 {
		uo.DialerRetries = 1 // fail fast means the dial too: the caller retries
	}
	uo.ContextTimeoutEnabled = true
	return redis.NewUniversalClient(&uo), nil
}

// Connect is NewClient followed by a PING, so a wrong address or password shows
// at once. The caller closes the client.
func Connect(ctx context.Context, opt ConnectOptions) (redis.UniversalClient, error) {
	c, err := NewClient(opt)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("connect to redis %s: %w", RedactURL(opt.URL), err)
	}
	return c, nil
}

// RedactURL hides the password of a Redis URL, or of each of a comma-separated
// list: redis://user:xxxxx@host:6379/0. The last "@" ends the credentials, so a
// password holding an unescaped "@" is still hidden.
func RedactURL(url string) string {
	parts := strings.Split(url, ",")
	for i, p := range parts {
		scheme, rest, ok := strings.Cut(p, "://")
		if !ok {
			continue
		}
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			continue
		}
		cred, host := rest[:at], rest[at+1:]
		if user, _, ok := strings.Cut(cred, ":"); ok {
			cred = user + ":xxxxx"
		} else {
			cred = "xxxxx"
		}
		parts[i] = scheme + "://" + cred + "@" + host
	}
	return strings.Join(parts, ",")
}
