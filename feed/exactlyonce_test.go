package feed

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

func TestPublisherRetryAfterLostReplyIsExactlyOnce(t *testing.T) {
	srv := feedtest.Start(t)
	direct := srv.Client()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mode feedtest.CutMode
	}{{"cut before EXEC", feedtest.CutBeforeExec}, {"reply lost after EXEC", feedtest.CutAfterExec}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := direct.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			proxy := feedtest.StartExecCut(t, srv.Addr, false)
			proxy.Arm(feedtest.PassThrough)
			c := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: 3})
			defer c.Close()
			pub := NewPublisher(c, PublisherOptions{Backoff: &Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
			if err := pub.Track(ctx, usage("acme", "", "/responses", 5)); err != nil {
				t.Fatal(err)
			}
			proxy.Arm(tc.mode)
			if err := pub.Track(ctx, usage("acme", "", "/responses", 7)); err != nil {
				t.Fatalf("Track after a cut: %v", err)
			}
			if err := pub.TrackBatch(ctx, []model.Event{usage("acme", "", "/responses", 1), usage("acme", "", "/responses", 2)}); err != nil {
				t.Fatal(err)
			}
			if proxy.Cuts() != 1 {
				t.Fatalf("the proxy cut %d connections, want 1", proxy.Cuts())
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
