package feed_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
)

// TestRedissToAPlainServerSaysSo: rediss:// against a redis-server without TLS
// failed with only "context deadline exceeded", a net.Error, which emit
// retried for its whole 10 s as if the server were down. The error says the
// TLS handshake did not complete and the server answers plain Redis, and is no
// network error.
func TestRedissToAPlainServerSaysSo(t *testing.T) {
	srv := feedtest.Start(t)
	url := "rediss://" + strings.TrimPrefix(srv.URL, "redis://")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := feed.Connect(ctx, feed.ConnectOptions{URL: url, DialTimeout: time.Second, MaxRetries: -1})
	if err == nil {
		c.Close()
		t.Fatal("rediss:// to a plain server connected")
	}
	var ne net.Error
	if !strings.Contains(err.Error(), "the TLS handshake did not complete") || !strings.Contains(err.Error(), "answers plain Redis") || errors.As(err, &ne) {
		t.Fatalf("error %q (a net.Error: %v)", err, errors.As(err, &ne))
	}
}
