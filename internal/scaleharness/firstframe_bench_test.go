package scaleharness

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkFirstFrame is the dashboard's start at 100k workspaces: a fresh
// process (the harness's child, TestChild: memlimit.Apply as main.go calls
// it, then the subscriber, hub, alert watcher and a headless tea.Program at
// 200×50) from its exec to its first frame showing a workspace row, on a
// redis-server holding the counters and settings of MAVTOP_SCALE_WORKSPACES
// workspaces (100k by default). ns/op is that wall time; cpu-ms/op the
// process's CPU by then (the runtime's start included, and its collector's
// work on the other core), frame-ms/op and snapshot-ms/op when, from the
// child's own start (memlimit.Apply), it drew that frame and its hub had the
// start's snapshot. Every start finds Redis as the seed left it and idle:
// what a start wrote (the watcher's alerts) is deleted, and Redis has
// finished what the last start asked (its used_by read, one HGETALL of 1.2M
// fields that ran for 8–18 s in Redis at load 25) before the next start is
// timed.
//
// MAVTOP_SCALE_CPU=FILE writes a CPU profile of each start to its first
// frame in FILE.0, FILE.1, … (go tool pprof merges them),
// MAVTOP_SCALE_TRACE=FILE an execution trace of each start to its first frame
// (go tool trace FILE.0; -pprof=net shows what it waited for).
//
// Each start is a process of its own because the dashboard's is. Run in the
// benchmark's process (until 2026-12-01) a start measured no start mavtop
// makes: every start after the first found the heap the seed and the starts
// before it had left (120 MB growing to 518 MB at the first frame over five
// starts) under the memory limit memlimit held from them (262 growing to
// 766 MB), and collected 0–1 times against the first start's 3, so it spent
// less CPU than the dashboard's start; and it began at once after the last
// start's first frame, while Redis could still be running that start's
// used_by HGETALL (begun right after the snapshot and still running at the
// frame: 01:10:38–01:10:50 against a frame at 01:10:41.6, load 25). Redis
// runs one command at a time, so the next start's CLIENT INFO and snapshot
// MULTI waited behind it with the process idle: wall time without CPU. At
// load 27, 3 of 5 such starts found Redis silent for 5 s ("ask which server
// answers: i/o timeout") and retried.
//
// MAVTOP_SCALE_RATE=N has producers write N events/s (feed.Publisher, as
// the Steady harness's) from before the first start to after the last: the
// start the Steady harness measures, with a stream to follow and read back.
//
// MAVTOP_SCALE_AB=BIN pairs each start with one of BIN, another build's
// test binary of this package (go test -c at the other commit), started in
// alternating order on the same Redis: ab-cpu-ms/op is BIN's CPU to its
// first frame, to compare with cpu-ms/op on a machine whose load moves (its
// profiles and traces go to FILE.ab.0, …).
//
//	MAVTOP_SCALE=1 go test ./internal/scaleharness -run '^$' -bench FirstFrame -benchtime 5x
func BenchmarkFirstFrame(b *testing.B) {
	if os.Getenv("MAVTOP_SCALE") == "" {
		b.Skip("the scale harness runs by hand: MAVTOP_SCALE=1 (see doc.go)")
	}
	n := envInt("MAVTOP_SCALE_WORKSPACES", 100_000)
	rdb, addr := startRedis(b)
	seedCounters(b, rdb, n, time.Now())
	ctx := context.Background()
	seeded := map[string]bool{}
	for _, k := range rdb.Keys(ctx, "*").Val() {
		seeded[k] = true
	}
	// MAVTOP_SCALE_AB: each start of this build is paired with one of
	// another build's test binary, in alternating order, on the same Redis
	// in the same minutes (the machine's load moves too much between two
	// runs to compare their CPU).
	other := os.Getenv("MAVTOP_SCALE_AB")
	if rate := envInt("MAVTOP_SCALE_RATE", 0); rate > 0 {
		// the Steady harness's start: producers writing while it starts
		// (and so a stream for it to follow and read back)
		pctx, stop := context.WithCancel(ctx)
		var sent atomic.Int64
		var wg sync.WaitGroup
		produce(pctx, b, rdb, n, rate, &sent, &wg)
		defer wg.Wait()
		defer stop()
	}
	var cpu, snap, frame, cpuAB time.Duration
	start := func(i int, bin string) (s, f string, c time.Duration) {
		b.StopTimer()
		resetTo(b, rdb, seeded)
		var env []string
		for _, name := range []string{"MAVTOP_SCALE_CPU", "MAVTOP_SCALE_TRACE"} {
			if f := os.Getenv(name); f != "" {
				if bin != os.Args[0] {
					f += ".ab"
				}
				env = append(env, fmt.Sprintf("%s=%s.%d", name, f, i))
			}
		}
		b.StartTimer()
		cmd, lines := childOf(b, bin, addr, append(env, "MAVTOP_SCALE_EXIT=first-frame")...)
		s = expect(b, lines, "snapshot", 5*time.Minute)
		f = expect(b, lines, "first-frame", 5*time.Minute)
		b.StopTimer()
		_ = cmd.Wait()
		// "first-frame 796 ms, 1040 ms of CPU"
		if _, cs, ok := strings.Cut(f, ", "); ok {
			c = time.Duration(leadingInt(cs)) * time.Millisecond
		}
		b.StartTimer()
		return s, f, c
	}
	b.ResetTimer()
	for i := range b.N {
		if other != "" && i%2 == 1 { // the other build first every other start
			b.StopTimer()
			s, f, c := start(i, other)
			cpuAB += c
			b.Logf("start %d, %s: %s; %s; load average %s", i, other, s, f, loadavg())
			b.StartTimer()
		}
		s, f, c := start(i, os.Args[0])
		snap += time.Duration(leadingInt(s)) * time.Millisecond
		frame += time.Duration(leadingInt(f)) * time.Millisecond
		cpu += c
		b.Logf("start %d: %s; %s; load average %s", i, s, f, loadavg())
		if other != "" && i%2 == 0 {
			b.StopTimer()
			s, f, c := start(i, other)
			cpuAB += c
			b.Logf("start %d, %s: %s; %s; load average %s", i, other, s, f, loadavg())
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(frame.Milliseconds())/float64(b.N), "frame-ms/op")
	b.ReportMetric(float64(snap.Milliseconds())/float64(b.N), "snapshot-ms/op")
	if other != "" {
		b.ReportMetric(float64(cpuAB.Milliseconds())/float64(b.N), "ab-cpu-ms/op")
	}
}

// resetTo deletes every key not in seeded (what a start wrote: the
// watcher's alerts). Its KEYS also waits for Redis to be done with what the
// last start asked: Redis runs one command at a time, and a command the
// killed child had sent runs to its end.
func resetTo(b *testing.B, rdb *redis.Client, seeded map[string]bool) {
	ctx := context.Background()
	for _, k := range rdb.Keys(ctx, "*").Val() {
		if !seeded[k] {
			if err := rdb.Del(ctx, k).Err(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// leadingInt is the number s starts with, after any words ("snapshot 412 ms": 412).
func leadingInt(s string) int64 {
	for _, f := range strings.Fields(s) {
		if v, err := strconv.ParseInt(f, 10, 64); err == nil {
			return v
		}
	}
	return 0
}
