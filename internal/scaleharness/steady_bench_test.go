package scaleharness

import (
	"context"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/internal/memlimit"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkSteadySecond is one second of the dashboard at steady state, in
// this process, without the stream's read: the hub handed 1,000 events/s in
// batches of 50 every 50 ms (what the subscriber delivers at that rate),
// over MAVTOP_SCALE_WORKSPACES workspaces (100k by default), with what the
// harness's child runs beside it: the alert watcher (its store on a real
// redis-server) and a headless tea.Program drawing 200×50 frames at its own
// pace. An op is a second of wall time; cpu-ns/op over 1e9 is the share of a
// core the process took (the collector's included), allocs/op and B/op what
// that second allocated. The first 20 s (the watcher's first judgement and
// its claims, the viewers' first fresh copies) are not timed. Run it with
// -benchtime 60x or more: at 100k the collector runs every ~10–30 s.
// MAVTOP_SCALE_CPU=FILE profiles the timed seconds alone (the last run's),
// MAVTOP_SCALE_ALLOCS=FILE writes the allocation profile before them
// (FILE.base) and after (FILE): go tool pprof -sample_index alloc_space
// -base FILE.base FILE. The subscriber's own cost per event is
// BenchmarkIngest's (feed), the frames' BenchmarkViewScale's (tui).
//
//	go test ./internal/scaleharness -run '^$' -bench SteadySecond -benchtime 60x -benchmem
func BenchmarkSteadySecond(b *testing.B) {
	n := envInt("MAVTOP_SCALE_WORKSPACES", 100_000)
	defer memlimit.Apply(os.Getenv).Stop() // what main.go does
	rdb, _ := startRedis(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now()
	hub := feed.NewHub()
	hub.Handle(&feed.ConnMsg{State: feed.Connected, Since: now})
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(n, now), Rule: model.MonthlyUTC, Reason: feed.ReasonStart,
		At: now, HistoryFrom: now.Add(-time.Hour)})
	out := &counted{}
	d := startDashboard(ctx, rdb, dashboardOptions{Hub: hub, Out: out})
	defer d.wait()
	defer cancel()

	// the producer: 50 events every 50 ms, workspaces in a scattered turn
	// (the harness's prime stride), stamped with the wall clock
	k := 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	second := func() {
		for range 20 {
			<-tick.C
			ts := time.Now().UnixMilli()
			evs := make([]model.Event, 50)
			for i := range evs {
				evs[i] = modeltest.Event(k, n, ts)
				evs[i].ID = "" // no stream: the watcher's end of the stream stays where the snapshot read it
				k += 7919
			}
			hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs})
		}
	}
	// warm: 20 s, and until the watcher has claimed what its first
	// judgement fired (at 100k ~44k alerts, one transaction each: a minute
	// or more) — the alerts' version moving by less than 100 in a second
	key := feed.Keys{}.Alerts(model.MonthlyUTC.At(now).Key)
	version := func() int64 { v, _ := rdb.HGet(ctx, key, "#version").Int64(); return v }
	for i, last, calm := 0, int64(0), 0; ; i++ {
		second()
		v := version()
		if v > 0 && v-last < 100 {
			calm++
		} else {
			calm = 0
		}
		if i%10 == 0 {
			b.Logf("warming %d s: alerts version %d", i, v)
		}
		if i >= 20 && calm >= 5 {
			break
		}
		if i > 900 {
			b.Fatalf("the watcher's claims did not settle: version %d", v)
		}
		last = v
	}
	v0 := version()
	defer func() { b.Logf("alerts claimed while timed: %d a second", (version()-v0)/int64(b.N)) }()
	frames0 := out.writes.Load()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	if f := os.Getenv("MAVTOP_SCALE_CPU"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	allocs := func(f string) { // MAVTOP_SCALE_ALLOCS=FILE: what the timed seconds allocated (FILE - FILE.base)
		if out, err := os.Create(f); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(out, 0)
			out.Close()
		}
	}
	if f := os.Getenv("MAVTOP_SCALE_ALLOCS"); f != "" {
		allocs(f + ".base")
		defer allocs(f)
	}
	for range b.N {
		second()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(out.writes.Load()-frames0)/float64(b.N), "writes/op")
	b.StopTimer()
}

// counted is a headless terminal that counts its writes.
type counted struct{ writes atomic.Int64 }

func (c *counted) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return len(p), nil
}

// cpuTime is the CPU time the process has used, every thread's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
