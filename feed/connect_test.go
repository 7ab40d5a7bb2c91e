package feed

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
)

func TestNewClientPicksTheKindOfRedis(t *testing.T) {
	for _, tc := range []struct {
		url, master string
		want        string
	}{
		{"redis://localhost:6379/2", "", "*redis.Client"},
		{"rediss://user:secret@cache.example:6380/0", "", "*redis.Client"},
		{"redis://a:7000,redis://b:7001,c:7002", "", "*redis.ClusterClient"},
		{"redis://s1:26379,s2:26379", "mymaster", "*redis.Client"},
	} {
		c, err := NewClient(ConnectOptions{URL: tc.url, SentinelMaster: tc.master})
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got := typeName(c); got != tc.want {
			t.Errorf("%s (master %q): %s, want %s", tc.url, tc.master, got, tc.want)
		}
		_ = c.Close()
	}
	for _, bad := range []string{"", "localhost", "redis://a:1,,b:2", "redis://a:7000/3,b:7001", "http://x:1"} {
		if _, err := NewClient(ConnectOptions{URL: bad}); err == nil {
			t.Errorf("NewClient(%q) = nil error", bad)
		}
	}
}

func typeName(c redis.UniversalClient) string {
	switch c.(type) {
	case *redis.ClusterClient:
		return "*redis.ClusterClient"
	case *redis.Client:
		return "*redis.Client"
	}
	return "?"
}

func TestConnectPingsAndRedactsPasswords(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c, err := Connect(ctx, ConnectOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = Connect(ctx, ConnectOptions{URL: "redis://admin:hunter2@127.0.0.1:1/0", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "admin:xxxxx@") {
		t.Errorf("error %v: want a connection error without the password", err)
	}
}

func TestEmbeddedServesTheSameClientInterface(t *testing.T) {
	e, err := StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !strings.HasPrefix(e.URL(), "redis://127.0.0.1:") || e.Addr() == "" {
		t.Errorf("URL %s, Addr %s", e.URL(), e.Addr())
	}
	ctx := context.Background()
	if err := NewPublisher(e.Client(), PublisherOptions{}).Track(ctx, usage("acme", "", "/responses", 3)); err != nil {
		t.Fatal(err)
	}
	st, err := NewBalances(e.Client(), StoreOptions{}).Status(ctx, "acme")
	if err != nil || st.HasAllocation {
		t.Errorf("status %+v, %v", st, err)
	}
}
