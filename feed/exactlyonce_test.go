package feed

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// cutProxy forwards TCP to a Redis and, when armed, cuts the client's
// connection as soon as it sees EXEC: either before passing it on (the write
// never happened) or after the server answered (the write happened, the reply
// is lost). Either way the client cannot know which.
type cutProxy struct {
	*tcpProxy
	mode atomic.Int32 // passThrough, cutBeforeExec or cutAfterExec
	cuts atomic.Int32
}

const (
	passThrough = iota
	cutBeforeExec
	cutAfterExec
)

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{}
	p.tcpProxy = startProxy(t, target, p.forward)
	return p
}

// forward copies one connection both ways, cutting it at EXEC when armed.
func (p *cutProxy) forward(c, s net.Conn) {
	var swallow atomic.Bool
	go func() { // server → client, unless the reply is to be lost
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 && !swallow.Load() {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go p.upstream(c, s, &swallow)
}

// upstream copies client → server, watching for EXEC.
func (p *cutProxy) upstream(c, s net.Conn, swallow *atomic.Bool) {
	defer s.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			mode := p.mode.Load()
			if mode != passThrough && bytes.Contains(bytes.ToLower(chunk), []byte("exec")) {
				p.mode.Store(passThrough) // one cut per arming
				p.cuts.Add(1)
				if mode == cutBeforeExec {
					c.Close() // MULTI without EXEC is discarded when the connection goes
					return
				}
				// Let Redis run it, then cut the client off without its reply.
				swallow.Store(true)
				_, _ = s.Write(chunk)
				time.Sleep(50 * time.Millisecond)
				c.Close()
				return
			}
			if _, werr := s.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func TestPublisherRetryAfterLostReplyIsExactlyOnce(t *testing.T) {
	srv := feedtest.Start(t)
	direct := srv.Client()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mode int32
	}{{"cut before EXEC", cutBeforeExec}, {"reply lost after EXEC", cutAfterExec}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := direct.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			proxy := newCutProxy(t, srv.Addr)
			c := redis.NewClient(&redis.Options{Addr: proxy.addr(), MaxRetries: 3})
			defer c.Close()
			pub := NewPublisher(c, PublisherOptions{Backoff: &Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
			if err := pub.Track(ctx, usage("acme", "", "/responses", 5)); err != nil {
				t.Fatal(err)
			}
			proxy.mode.Store(tc.mode)
			if err := pub.Track(ctx, usage("acme", "", "/responses", 7)); err != nil {
				t.Fatalf("Track after a cut: %v", err)
			}
			if err := pub.TrackBatch(ctx, []model.Event{usage("acme", "", "/responses", 1), usage("acme", "", "/responses", 2)}); err != nil {
				t.Fatal(err)
			}
			if proxy.cuts.Load() != 1 {
				t.Fatalf("the proxy cut %d connections, want 1", proxy.cuts.Load())
			}
			got := redisCounters(t, direct, time.Now())
			n, _ := direct.XLen(ctx, Keys{}.Stream()).Result()
			st := pub.Stats()
			if got.Used["acme"] != 15 || n != 4 || st.LostReplies != 1 || st.Duplicates != 0 {
				t.Errorf("used %d (want 15), %d entries (want 4), stats %+v (want 1 lost reply, 0 duplicates)", got.Used["acme"], n, st)
			}
		})
	}
}
