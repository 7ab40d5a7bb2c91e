package feed_test

import (
	"context"
	"errors"
	"io"
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

// TestRedissToAPlainServerSaysSoOnTheDashboard: the other direction on the
// dashboard's and watch's feed. Connect said "answers plain Redis, use
// redis://", but the stream, auto and counters sources reported only "context
// deadline exceeded" in their ConnMsg, so the header read as a server that is
// down, for ever. Each now reports a *feed.PlainServerError.
func TestRedissToAPlainServerSaysSoOnTheDashboard(t *testing.T) {
	srv := feedtest.Start(t)
	url := "rediss://" + strings.TrimPrefix(srv.URL, "redis://")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := feed.NewClient(feed.ConnectOptions{URL: url, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	for _, kind := range []feed.SourceKind{feed.SourceStream, feed.SourceAuto, feed.SourceCounters} {
		src, err := feed.NewSource(rc, kind, feed.SubscriberOptions{}, feed.CounterOptions{Pattern: feed.DefaultCounterPattern})
		if err != nil {
			t.Fatal(err)
		}
		sctx, stop := context.WithCancel(ctx)
		got := make(chan error, 1)
		go func() {
			_ = src.Run(sctx, func(m feed.Msg) {
				if cm, ok := m.(*feed.ConnMsg); ok && cm.Err != nil {
					select {
					case got <- cm.Err:
					default:
					}
				}
			})
		}()
		var pe *feed.PlainServerError
		select {
		case err := <-got:
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "answers plain Redis") {
				t.Errorf("%s source: ConnMsg.Err %q", kind, err)
			}
		case <-ctx.Done():
			t.Errorf("%s source: no ConnMsg with an error", kind)
		}
		stop()
	}
}

// TestRedisToATLSServerSaysSo: redis:// against a redis-server that speaks
// only TLS (--port 0 --tls-port) failed with "EOF" or "connection reset by
// peer", network errors: emit retried them for its whole --retry-for and the
// dashboard reconnected for ever as if the server were down. Connect, and the
// subscriber's ConnMsg the dashboard's header shows, now say the server speaks
// TLS (use rediss://), in an error that is no network error; rediss:// to the
// same server works.
func TestRedisToATLSServerSaysSo(t *testing.T) {
	srv := feedtest.StartTLS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := feed.Connect(ctx, feed.ConnectOptions{URL: srv.PlainURL, DialTimeout: time.Second, MaxRetries: -1})
	if err == nil {
		c.Close()
		t.Fatal("redis:// to a TLS-only server connected")
	}
	var ne net.Error
	var tm *feed.TLSMismatchError
	if !strings.Contains(err.Error(), "this server speaks TLS: use rediss://") || !errors.As(err, &tm) || errors.As(err, &ne) || errors.Is(err, io.EOF) {
		t.Fatalf("error %q (a net.Error: %v)", err, errors.As(err, &ne))
	}
	if srv.Real {
		c, err := feed.Connect(ctx, feed.ConnectOptions{URL: srv.URL, DialTimeout: time.Second, MaxRetries: -1})
		if err != nil {
			t.Fatalf("rediss:// to the same server: %v", err)
		}
		c.Close()
	}
	// the dashboard's feed: its reconnect messages say it
	rc, err := feed.NewClient(feed.ConnectOptions{URL: srv.PlainURL, DialTimeout: time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	for _, kind := range []feed.SourceKind{feed.SourceStream, feed.SourceAuto, feed.SourceCounters} {
		src, err := feed.NewSource(rc, kind, feed.SubscriberOptions{}, feed.CounterOptions{Pattern: feed.DefaultCounterPattern})
		if err != nil {
			t.Fatal(err)
		}
		sctx, stop := context.WithCancel(ctx)
		got := make(chan error, 1)
		go func() {
			_ = src.Run(sctx, func(m feed.Msg) {
				if cm, ok := m.(*feed.ConnMsg); ok && cm.Err != nil {
					select {
					case got <- cm.Err:
					default:
					}
				}
			})
		}()
		select {
		case err := <-got:
			if !errors.As(err, &tm) || !strings.Contains(err.Error(), "this server speaks TLS: use rediss://") {
				t.Errorf("%s source: ConnMsg.Err %q", kind, err)
			}
		case <-ctx.Done():
			t.Errorf("%s source: no ConnMsg with an error", kind)
		}
		stop()
	}
}
