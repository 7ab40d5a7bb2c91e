package feed

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/internal/memlimit"
	"mavtop/model"
)

const ingestEntries = 500_000

// prefill writes n entries shaped like real events, pipelined 5,000 at a time.
func prefill(b *testing.B, c redis.UniversalClient, n int) {
	b.Helper()
	ctx := context.Background()
	stream := Keys{}.Stream()
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	wss := []string{"acme", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
	eps := []string{"/responses", "/mave/chat", "/focus-groups", "/video-analyses"}
	start := time.Now()
	for i := 0; i < n; {
		pipe := c.Pipeline()
		for j := 0; j < 5000 && i < n; j, i = j+1, i+1 {
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{
				"v", "1", "ts", ts, "ws", wss[i%len(wss)], "project", "p" + strconv.Itoa(i%5),
				"endpoint", eps[i%len(eps)], "credits", strconv.Itoa(i%50 + 1), "status", "200",
			}})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatalf("prefill: %v", err)
		}
	}
	b.Logf("prefilled %d entries in %v", n, time.Since(start).Round(time.Millisecond))
}

// BenchmarkIngest compares (a) a bare go-redis XREAD COUNT 1000 loop with (b)
// the subscriber decoding every entry into model.Event and applying each batch
// to a model.Ledger, over one pre-filled stream of 500,000 entries on a real
// redis-server. Each iteration reads the whole stream once each way, the two
// back to back so that load from other processes hits both alike; the metrics
// are medians over the iterations, the ratio the median of each pair's ratio
// (only the ratio within one run means anything).
//
//	go test ./feed -run '^$' -bench Ingest -benchtime 9x
//
// BenchmarkIngestWithNotifier (feed_test, notify_bench_test.go) is the same
// with a hub and an alert watcher delivering to a receiver that answers 503.
func BenchmarkIngest(b *testing.B) {
	BenchIngest(b, "subscriber+ledger", func(b *testing.B, c redis.UniversalClient) IngestConsumer {
		ledger := model.NewLedger(model.MonthlyUTC, time.Now())
		return IngestConsumer{Reuse: true, Handle: func(m Msg) {
			if bm, ok := m.(*BatchMsg); ok {
				ledger.ApplyBatch(bm.Events)
			}
		}, Applied: func() int64 { return ledger.Counts().Applied }}
	})
}

// IngestConsumer is what takes the subscriber's messages in one pass of
// BenchIngest: Handle gets each (from the subscriber's goroutine), Applied
// says how many events ended in its ledger once the pass is over, and Stop
// (optional) ends what it started. Reuse lets the subscriber reuse its event
// slices (a consumer that keeps no batch).
type IngestConsumer struct {
	Handle  func(Msg)
	Applied func() int64
	Stop    func()
	Reuse   bool
}

// BenchIngest runs BenchmarkIngest's interleaved passes with the consumer
// each pass of the subscriber gets from consumer, named name in the figures.
func BenchIngest(b *testing.B, name string, consumer func(b *testing.B, c redis.UniversalClient) IngestConsumer) {
	// Measure what ships: main.go's memory policy (GOGC=400 and a soft limit
	// following the live heap, unless GOGC / GOMEMLIMIT are set). Both loops
	// run under it.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer memlimit.Apply(os.Getenv).Stop()
	srv := feedtest.Start(b)
	if !srv.Real {
		b.Log("embedded server: the figures do not say anything about redis-server")
	}
	c := srv.Client()
	prefill(b, c, ingestEntries)
	stream := Keys{}.Stream()
	ctx := context.Background()

	bare := func() {
		id, n := "0-0", 0
		for n < ingestEntries {
			res, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{stream, id}, Count: 1000, Block: -1}).Result()
			if err != nil {
				b.Fatal(err)
			}
			msgs := res[0].Messages
			n += len(msgs)
			id = msgs[len(msgs)-1].ID
		}
	}
	subscriber := func() {
		cons := consumer(b, c)
		if cons.Stop != nil {
			defer cons.Stop()
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		n := 0
		// No audit: in replay its period is not the clock's, and a pass longer than the
		// cadence (a loaded machine) would re-read the counters and follow from the end.
		s := NewSubscriber(c, SubscriberOptions{from: "0-0", Count: 1000, StatsEvery: time.Hour, ReuseEvents: cons.Reuse, AuditEvery: -1})
		err := s.Run(ctx, func(m Msg) {
			cons.Handle(m)
			switch m := m.(type) {
			case *BatchMsg:
				n += len(m.Events)
				if n >= ingestEntries {
					cancel()
				}
			case *MalformedMsg:
				b.Fatalf("malformed entry %s: %v", m.ID, m.Err)
			}
		})
		if err != context.Canceled || n != ingestEntries || cons.Applied() != ingestEntries {
			b.Fatalf("subscriber read %d entries, ledger applied %d, ended with %v", n, cons.Applied(), err)
		}
	}
	rate := func(f func()) float64 {
		var r0, r1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		start := time.Now()
		f()
		el := time.Since(start)
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := time.Duration(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano()) * time.Nanosecond
		b.Logf("  %v wall, %v CPU in this process", el.Round(time.Millisecond), cpu.Round(time.Millisecond))
		return ingestEntries / el.Seconds()
	}

	var bares, subs, ratios []float64
	b.ResetTimer()
	for i := range b.N {
		var rb, rs float64
		if i%2 == 0 {
			rb, rs = rate(bare), rate(subscriber)
		} else {
			rs, rb = rate(subscriber), rate(bare)
		}
		bares, subs, ratios = append(bares, rb), append(subs, rs), append(ratios, rs/rb)
		b.Logf("pass %d: bare %.0f entries/s, %s %.0f entries/s, ratio %.2f", i+1, rb, name, rs, rs/rb)
	}
	b.ReportMetric(median(bares), "bare-entries/s")
	b.ReportMetric(median(subs), "subscriber-entries/s")
	b.ReportMetric(median(ratios), "ratio")
	if b.N > 1 {
		fmt.Printf("%s: median of %d interleaved passes: bare XREAD %.0f entries/s, %s %.0f entries/s, ratio b/a = %.2f\n",
			b.Name(), b.N, median(bares), name, median(subs), median(ratios))
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
