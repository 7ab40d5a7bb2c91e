package scaleharness

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/internal/memlimit"
	"mavtop/model"
	"mavtop/model/modeltest"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func needScale(t *testing.T) {
	if os.Getenv("MAVTOP_SCALE") == "" {
		t.Skip("the scale harness runs by hand: MAVTOP_SCALE=1 (see doc.go)")
	}
}

// startRedis runs a redis-server without persistence (the harness measures
// mavtop, not fsync) and returns a client and its address.
func startRedis(t testing.TB) (*redis.Client, string) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("the scale harness needs redis-server on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--protected-mode", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rdb := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: time.Minute})
	t.Cleanup(func() { rdb.Close() })
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 200 {
			t.Fatal("redis-server did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return rdb, addr
}

// seedCounters writes the counters and settings of n modeltest workspaces.
func seedCounters(t testing.TB, rdb *redis.Client, n int, now time.Time) {
	ctx := context.Background()
	k := feed.Keys{}
	s := modeltest.Snapshot(n, now)
	period := s.Period.Key
	write := func(key string, m map[string]int64) {
		pipe := rdb.Pipeline()
		args := make([]any, 0, 2000)
		for f, v := range m {
			args = append(args, f, v)
			if len(args) == cap(args) {
				pipe.HSet(ctx, key, args...)
				args = args[:0]
			}
		}
		if len(args) > 0 {
			pipe.HSet(ctx, key, args...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	write(k.Used(period), s.Used)
	write(k.UsedBy(period), s.UsedBy)
	write(k.Refused(period), s.Refused)
	// the digest producers keep beside the counters (as feed.Publisher does):
	// without it the audit cannot compare by digest and reads every counter
	// hash on its cadence (at 100k workspaces ~100 MB of garbage a read, most
	// of the dashboard's CPU and its collector's sawtooth)
	digest := map[string]int64{}
	for ws, v := range s.Used {
		digest[feed.DigestUsedField(ws)] += v
	}
	for ws, v := range s.Recharged {
		digest[feed.DigestRechargedField(ws)] += v
	}
	for f, v := range s.Refused {
		if ws, _, _, ok := model.SplitRefusedField(f); ok {
			digest[feed.DigestRefusedField(ws)] += v
		}
	}
	write(k.Digest(period), digest)
	pipe := rdb.Pipeline()
	for ws, st := range s.Settings {
		js, _ := json.Marshal(st)
		pipe.HSet(ctx, k.Settings(), ws, js)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// fillHour writes entries stream entries spread over the hour before now
// across n workspaces (explicit ids, pipelined): what a busy hour leaves.
func fillHour(t *testing.T, rdb *redis.Client, entries, n int, now time.Time) {
	ctx := context.Background()
	stream := feed.Keys{}.Stream()
	step := float64(time.Hour/time.Millisecond) / float64(entries)
	start := now.Add(-time.Hour).UnixMilli()
	const chunk = 10_000
	for i := 0; i < entries; i += chunk {
		pipe := rdb.Pipeline()
		for j := i; j < min(i+chunk, entries); j++ {
			ts := start + int64(float64(j)*step)
			e := modeltest.Event(j, n, ts)
			vals := []any{"v", "1", "ts", ts, "ws", e.Workspace, "project", e.Project, "endpoint", e.Endpoint,
				"credits", e.Credits, "status", e.Status}
			if e.Code != "" {
				vals = append(vals, "code", e.Code, "msg", e.Msg)
			}
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: fmt.Sprintf("%d-%d", ts, j), Values: vals})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// child runs the dashboard in a child process (this test binary, TestChild)
// and returns its process and its "SCALE ..." lines.
func child(t testing.TB, addr string, env ...string) (*exec.Cmd, <-chan string) {
	return childOf(t, os.Args[0], addr, env...)
}

// childOf is child run from the test binary bin (another build's, for
// BenchmarkFirstFrame's MAVTOP_SCALE_AB).
func childOf(t testing.TB, bin, addr string, env ...string) (*exec.Cmd, <-chan string) {
	cmd := exec.Command(bin, "-test.run=^TestChild$", "-test.v", "-test.timeout=0")
	cmd.Env = append(os.Environ(), append(env, "MAVTOP_SCALE_CHILD="+addr)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "SCALE "); ok {
				lines <- l
			}
		}
		close(lines)
	}()
	return cmd, lines
}

func expect(t testing.TB, lines <-chan string, prefix string, within time.Duration) string {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the child ended before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q within %v", prefix, within)
		}
	}
}

// procStat returns a process's CPU time (user+system) and its RSS and peak RSS.
func procStat(pid int) (cpu time.Duration, rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		cpu = time.Duration(ut+st) * 10 * time.Millisecond // CLK_TCK 100
	}
	b, _ = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		kb := func() int64 {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n << 10
		}
		switch {
		case strings.HasPrefix(l, "VmRSS:"):
			rss = kb()
		case strings.HasPrefix(l, "VmHWM:"):
			hwm = kb()
		}
	}
	return cpu, rss, hwm
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// TestStartup: a 1M-entry last hour; the child's time to its first frame,
// to the end of the history read back, and its peak RSS (VmHWM).
func TestStartup(t *testing.T) {
	needScale(t)
	entries := envInt("MAVTOP_SCALE_ENTRIES", 1_000_000)
	n := envInt("MAVTOP_SCALE_WORKSPACES", 1_000)
	rdb, addr := startRedis(t)
	now := time.Now()
	begin := time.Now()
	seedCounters(t, rdb, n, now)
	fillHour(t, rdb, entries, n, now)
	t.Logf("filled %d entries over the last hour, %d workspaces, in %v", entries, n, time.Since(begin).Round(time.Millisecond))
	for run := 1; run <= envInt("MAVTOP_SCALE_RUNS", 3); run++ {
		cmd, lines := child(t, addr, "MAVTOP_SCALE_EXIT=history")
		snap := expect(t, lines, "snapshot", time.Minute)
		first := expect(t, lines, "first-frame", time.Minute)
		hist := expect(t, lines, "history", 5*time.Minute)
		peak := expect(t, lines, "peak", time.Minute)
		_ = cmd.Wait()
		t.Logf("run %d: %s; %s; %s; %s; load average %s", run, snap, first, hist, peak, loadavg())
	}
}

// TestSteady: n workspaces, a steady rate of events; the child's CPU % of a
// core and RSS every 10 s for MAVTOP_SCALE_MINUTES.
func TestSteady(t *testing.T) {
	needScale(t)
	n := envInt("MAVTOP_SCALE_WORKSPACES", 100_000)
	rate := envInt("MAVTOP_SCALE_RATE", 1_000)
	minutes := envInt("MAVTOP_SCALE_MINUTES", 10)
	rdb, addr := startRedis(t)
	now := time.Now()
	begin := time.Now()
	seedCounters(t, rdb, n, now)
	t.Logf("seeded %d workspaces in %v; load average %s", n, time.Since(begin).Round(time.Millisecond), loadavg())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sent atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	produce(ctx, t, rdb, n, rate, &sent, &wg)
	cmd, lines := child(t, addr)
	started := time.Now()
	t.Logf("%s", expect(t, lines, "first-frame", 5*time.Minute))
	pid := cmd.Process.Pid
	cpu0, _, _ := procStat(pid)
	at0 := time.Now()
	t.Logf("%6s %8s %8s %8s %8s  %s", "t", "cpu %", "RSS MB", "peak MB", "events", "load")
	var rss []int64
	for i := 1; i <= minutes*6; i++ {
		time.Sleep(time.Until(at0.Add(time.Duration(i) * 10 * time.Second)))
		cpu, r, hwm := procStat(pid)
		rss = append(rss, r)
		t.Logf("%5ds %8.1f %8.1f %8.1f %8d  %s", int(time.Since(started).Seconds()),
			float64(cpu-cpu0)*100/float64(10*time.Second), float64(r)/1e6, float64(hwm)/1e6, sent.Load(), loadavg())
		cpu0 = cpu
	}
	if len(rss) > 6 {
		lo, hi := rss[6], rss[6]
		for _, r := range rss[6:] {
			lo, hi = min(lo, r), max(hi, r)
		}
		t.Logf("RSS after the first minute: %.1f–%.1f MB (±%.1f %% around the middle)", float64(lo)/1e6, float64(hi)/1e6,
			float64(hi-lo)*100/float64(hi+lo))
	}
}

// TestChild is the dashboard the harness measures (run by child).
func TestChild(t *testing.T) {
	addr := os.Getenv("MAVTOP_SCALE_CHILD")
	if addr == "" {
		t.Skip("run by the harness")
	}
	memlimit.Apply(os.Getenv) // what main.go does
	start := time.Now()
	if f := os.Getenv("MAVTOP_SCALE_CPU"); f != "" { // a CPU profile of the first seconds, or of a minute from MAVTOP_SCALE_CPU_FROM
		from, span := time.Duration(envInt("MAVTOP_SCALE_CPU_FROM", 0))*time.Second, 2*time.Second
		if from > 0 {
			span = time.Minute
		} else if os.Getenv("MAVTOP_SCALE_EXIT") == "first-frame" {
			span = time.Hour // to the first frame: the child ends there
		}
		time.AfterFunc(from, func() {
			out, err := os.Create(f)
			if err == nil && pprof.StartCPUProfile(out) == nil {
				time.AfterFunc(span, pprof.StopCPUProfile)
			}
		})
		defer pprof.StopCPUProfile()
	}
	if f := os.Getenv("MAVTOP_SCALE_TRACE"); f != "" { // an execution trace from the start to the first frame
		if out, err := os.Create(f); err == nil && trace.Start(out) == nil {
			defer trace.Stop()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	var opt feed.SubscriberOptions
	if d, err := time.ParseDuration(os.Getenv("MAVTOP_SCALE_AUDIT_EVERY")); err == nil && d > 0 {
		// audits more often than the default 5 s: the full read (every 60th
		// audit while the digest agrees) comes every minute at 1s
		opt.AuditEvery = d
	}
	hub := feed.NewHub()
	exit := os.Getenv("MAVTOP_SCALE_EXIT")
	done := make(chan struct{})
	v := hub.JoinEvents() // before the hub runs: its first messages are the start's
	go func() {           // the end of the history read back, from a viewer that keeps no ledger
		defer v.Close()
		for {
			msgs, err := v.Next(ctx)
			if err != nil {
				return
			}
			for _, m := range msgs {
				if _, ok := m.(*feed.SnapshotMsg); ok {
					fmt.Printf("SCALE snapshot %d ms\n", time.Since(start).Milliseconds())
				}
				if h, ok := m.(*feed.HistoryMsg); ok && h.Done {
					cpu, _, _ := procStat(os.Getpid())
					fmt.Printf("SCALE history read back: %d entries in %d ms, %d ms of CPU (err %v)\n", h.Read,
						time.Since(start).Milliseconds(), cpu.Milliseconds(), h.Err)
					close(done)
					return
				}
			}
		}
	}()
	out := &frames{start: start, first: make(chan struct{})}
	startDashboard(ctx, rdb, dashboardOptions{Hub: hub, Source: feed.NewSubscriber(rdb, opt),
		NoWatcher: os.Getenv("MAVTOP_SCALE_WATCHER") == "0", Out: out})
	if exit == "first-frame" {
		<-out.first
		return
	}
	if dir := os.Getenv("MAVTOP_SCALE_HEAP"); dir != "" {
		go func() {
			for i := 0; ; i++ {
				time.Sleep(time.Minute)
				if os.Getenv("MAVTOP_SCALE_HEAP_GC") != "" {
					// the profile as of a collection of its own: what is
					// live now, not what the last collection found (which
					// counts what was allocated while it marked: ~10 s of
					// marking at 25 MB/s on a loaded machine). Each forced
					// collection lowers the memory policy's floor, so RSS
					// figures of such a run are not the policy's.
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					fmt.Fprintf(os.Stderr, "SCALE heap %d: live %.1f MB after a collection, %d collections\n",
						i, float64(ms.HeapAlloc)/1e6, ms.NumGC)
				}
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%02d.pprof", i)))
				if err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}()
	}
	if exit == "history" {
		<-done
		if dir := os.Getenv("MAVTOP_SCALE_HEAP"); dir != "" {
			if f, err := os.Create(filepath.Join(dir, "heap-history.pprof")); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		_, _, hwm := procStat(os.Getpid())
		fmt.Printf("SCALE peak RSS %.1f MB, frames %d, %d bytes written\n", float64(hwm)/1e6, out.count.Load(), out.bytes.Load())
		return
	}
	<-ctx.Done()
}

// frames is the headless terminal: it notes the first frame showing a
// workspace row and counts what was written.
type frames struct {
	start time.Time
	first chan struct{} // closed at the first frame showing a row
	once  sync.Once
	count atomic.Int64
	bytes atomic.Int64
}

func (f *frames) Write(p []byte) (int, error) {
	if f.count.Add(1) == 1 && os.Getenv("MAVTOP_SCALE_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "first write %d ms: %q\n", time.Since(f.start).Milliseconds(), string(p[:min(len(p), 300)]))
	}
	f.bytes.Add(int64(len(p)))
	if strings.Contains(string(p), "ws-0") {
		f.once.Do(func() {
			cpu, _, _ := procStat(os.Getpid())
			fmt.Printf("SCALE first-frame %d ms, %d ms of CPU\n", time.Since(f.start).Milliseconds(), cpu.Milliseconds())
			trace.Stop()
			close(f.first)
		})
	}
	return len(p), nil
}

var _ io.Writer = (*frames)(nil)

// produce runs the producers until ctx ends: rate events/s over n
// workspaces in batches every 50 ms through feed.Publisher (counters,
// digest and stream, as mavtop's producers write them), counted in sent.
func produce(ctx context.Context, t testing.TB, rdb *redis.Client, n, rate int, sent *atomic.Int64, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() { // the producers: rate events/s in batches every 50 ms
		defer wg.Done()
		// MAVTOP_SCALE_MAXLEN: the producers' MAXLEN ~ (feed.DefaultMaxLen,
		// 1M entries: at 1,000 events/s less than an hour after ~17 minutes)
		pub := feed.NewPublisher(rdb, feed.PublisherOptions{MaxLen: int64(envInt("MAVTOP_SCALE_MAXLEN", 0))})
		per := max(rate/20, 1)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		evs := make([]model.Event, per)
		k := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			ts := time.Now().UnixMilli()
			for i := range evs {
				evs[i] = modeltest.Event(k, n, ts)
				evs[i].ID = ""
				k += 7919 // a prime stride: every workspace in turn, scattered
			}
			if err := pub.TrackBatch(ctx, evs); err != nil && ctx.Err() == nil {
				t.Errorf("publish: %v", err)
				return
			}
			sent.Add(int64(len(evs)))
		}
	}()
}
