package scaleharness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model/modeltest"
)

// TestStartBlocksRedis: how long a dashboard's start holds a shared Redis.
// n workspaces seeded (MAVTOP_SCALE_WORKSPACES, 100k by default: 1.2M
// used_by fields); while the child starts and reads its history back
// (MAVTOP_SCALE_EXIT=history), a producer writes one event every 2 ms
// (feed.Publisher: the counters and the stream entry in one MULTI) and notes
// how long each took; SLOWLOG (threshold 10 ms) names the commands
// that held the server. Logs the producer's worst and 99th percentile
// latency and the slowest commands, a start at a time (MAVTOP_SCALE_RUNS).
//
//	MAVTOP_SCALE=1 go test ./internal/scaleharness -run StartBlocksRedis -v -timeout 30m
func TestStartBlocksRedis(t *testing.T) {
	needScale(t)
	n := envInt("MAVTOP_SCALE_WORKSPACES", 100_000)
	rdb, addr := startRedis(t)
	ctx := context.Background()
	now := time.Now()
	seedCounters(t, rdb, n, now)
	for k, v := range map[string]string{"slowlog-log-slower-than": "10000", "slowlog-max-len": "100000"} {
		if err := rdb.ConfigSet(ctx, k, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for run := 1; run <= envInt("MAVTOP_SCALE_RUNS", 1); run++ {
		if err := rdb.SlowLogReset(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the producer
			defer wg.Done()
			p := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: time.Minute})
			defer p.Close()
			pub := feed.NewPublisher(p, feed.PublisherOptions{})
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				t0 := time.Now()
				err := pub.Track(ctx, modeltest.Event(i, n, time.Now().UnixMilli()))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
		begin := time.Now()
		cmd, lines := child(t, addr, "MAVTOP_SCALE_EXIT=history", "MAVTOP_SCALE_WATCHER=0")
		first := expect(t, lines, "first-frame", 5*time.Minute)
		hist := expect(t, lines, "history", 10*time.Minute)
		_ = cmd.Wait()
		took := time.Since(begin)
		time.Sleep(200 * time.Millisecond)
		close(stop)
		wg.Wait()
		mu.Lock()
		slices.Sort(lat)
		worst, p99 := lat[len(lat)-1], lat[len(lat)*99/100]
		count := len(lat)
		mu.Unlock()
		slow, err := rdb.SlowLogGet(ctx, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		// by command and key: how many over 10 ms, the longest, the sum
		type agg struct {
			n          int
			max, total time.Duration
		}
		by := map[string]*agg{}
		for _, s := range slow {
			name := strings.Join(s.Args[:min(2, len(s.Args))], " ")
			a := by[name]
			if a == nil {
				a = &agg{}
				by[name] = a
			}
			a.n++
			a.max = max(a.max, s.Duration)
			a.total += s.Duration
		}
		var names []string
		for name, a := range by {
			names = append(names, fmt.Sprintf("%s: %d, longest %v, %v in all", name, a.n,
				a.max.Round(time.Millisecond), a.total.Round(time.Millisecond)))
		}
		slices.Sort(names)
		t.Logf("run %d (%v, load %s): %s; %s; producer: %d events, worst %v, p99 %v; SLOWLOG (> 10 ms, %d): %s",
			run, took.Round(time.Millisecond), loadavg(), first, hist, count, worst.Round(time.Millisecond),
			p99.Round(100*time.Microsecond), len(slow), strings.Join(names, "; "))
	}
}
