package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mavtop/internal/memlimit"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkCheckRead compares the whole of `mavtop check --json` (connect,
// read the counters and settings, judge, encode JSON to io.Discard, as the
// binary runs it; its rows counted in a run before those measured) with a
// bare read of the same hashes (connect, a MULTI of their HGETALLs, close),
// at 10k and 100k workspaces (3 projects × 4 endpoints each in used_by, which check does
// not read). Target: check ≤ 2× bare. redis-cmds/op counts the commands each
// run sends (INFO commandstats, the benchmark's own INFO left out).
// check-limited-100k is check with a usage limit on one workspace's project
// in a hundred: their usage is in used_by. check-text is check without
// --json (the status line with its perfdata, the table). Each run of bare
// and check starts on a collected heap (cpuMeter.freshHeap), as a process
// does. proc-bare and proc-check are the two as a monitor runs them, a
// process each run: redis-cli, and mavtop itself, built once from this
// module (mavtopBinary; its packages' start-up included).
func BenchmarkCheckRead(b *testing.B) {
	// the collector set as the binary sets it (main: memlimit.Apply), not
	// the test binary's GOGC=100, which collected check's heap several
	// times a run
	defer debug.SetGCPercent(debug.SetGCPercent(memlimit.GCPercent))
	mavtop := mavtopCommand(b.TempDir())
	for _, n := range benchSizes() {
		srv := feedtest.Start(b)
		c := srv.Client()
		keys := feed.Keys{}
		// only the period's key is kept: the snapshot written, kept live,
		// made every collection's goal larger than a new process's (GOGC
		// times the live heap)
		pk := fillScale(b, c, keys, n).Period.Key
		b.Run(fmt.Sprintf("bare-%dk", n/1000), func(b *testing.B) {
			m := meterCPU(b, c)
			defer m.report()
			for i := 0; i < b.N; i++ {
				m.freshHeap()
				// connected each run, as check (and redis-cli) must be
				bc, err := feed.Connect(ctx0, feed.ConnectOptions{URL: srv.URL})
				if err != nil {
					b.Fatal(err)
				}
				pipe := bc.TxPipeline()
				for _, k := range []string{keys.Used(pk), keys.Refused(pk), keys.Recharged(pk), keys.Settings()} {
					pipe.HGetAll(ctx0, k)
				}
				if _, err := pipe.Exec(ctx0); err != nil {
					b.Fatal(err)
				}
				bc.Close()
			}
		})
		runCheck := func(b *testing.B, rows int, text bool) {
			args := []string{"check", "--redis-timeout=1m", "--redis=" + srv.URL}
			if !text {
				args = append(args, "--json")
			}
			check := func(out io.Writer) int {
				root := newRootCmd()
				root.SetOut(out)
				root.SetErr(io.Discard)
				// a loaded machine must not turn the figure into a timeout
				return run(root, args, io.Discard)
			}
			// the output is counted once, before the runs measured:
			// counting its rows (3.5 MB at 10k) is the benchmark's work,
			// not check's, which a user writing it to a pipe does not pay
			var out countingWriter
			code, got := check(&out), out.rows
			if text {
				got = out.lines - 3 // the status line, the header, the rule
			}
			if code == checkUnknown || got != rows {
				b.Fatalf("exit %d, %d rows, want %d: %s", code, got, rows, out.head)
			}
			b.ResetTimer()
			m := meterCPU(b, c)
			defer m.report()
			for i := 0; i < b.N; i++ {
				m.freshHeap()
				if code := check(io.Discard); code == checkUnknown {
					b.Fatalf("exit %d", code)
				}
			}
		}
		// as a monitor runs them: one process each run. proc-bare is
		// redis-cli sending the bare read's MULTI (its replies printed to
		// /dev/null), proc-check mavtop (mavtopBinary) with check --json;
		// child-cpu-ms/op is the child's CPU
		if cli, err := exec.LookPath("redis-cli"); err == nil {
			var multi strings.Builder
			multi.WriteString("MULTI\n")
			for _, k := range []string{keys.Used(pk), keys.Refused(pk), keys.Recharged(pk), keys.Settings()} {
				fmt.Fprintf(&multi, "HGETALL %s\n", k)
			}
			multi.WriteString("EXEC\n")
			b.Run(fmt.Sprintf("proc-bare-%dk", n/1000), func(b *testing.B) {
				runProc(b, func() *exec.Cmd {
					cmd := exec.Command(cli, "-u", srv.URL)
					cmd.Stdin = strings.NewReader(multi.String())
					return cmd
				})
			})
		}
		b.Run(fmt.Sprintf("proc-check-%dk", n/1000), func(b *testing.B) {
			mavtop(b) // built outside the runs measured
			b.ResetTimer()
			runProc(b, func() *exec.Cmd {
				return mavtop(b, "check", "--json", "--redis-timeout=1m", "--redis="+srv.URL)
			})
		})
		b.Run(fmt.Sprintf("check-%dk", n/1000), func(b *testing.B) { runCheck(b, n, false) })
		b.Run(fmt.Sprintf("check-text-%dk", n/1000), func(b *testing.B) { runCheck(b, n, true) })
		if n == 100_000 {
			budgets := map[string]any{}
			for i := 0; i < n; i += 100 {
				budgets[model.ProjectKey(modeltest.Workspace(i), "p1")] = `{"usage_limit":1000000}`
			}
			if err := c.HSet(ctx0, keys.Settings(), budgets).Err(); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("check-limited-%dk", n/1000), func(b *testing.B) { runCheck(b, n, false) })
		}
	}
}

var ctx0 = context.Background()

// mavtopCommand returns a maker of commands that run mavtop as a user runs
// it: the binary `go build` makes of this module, built at the first call
// into dir (tb's, once). The test binary run as mavtop (TestMain's
// MAVTOP_AS_MAIN), which proc-check ran before and runs when go cannot
// build, starts ~20 ms slower (its own packages' init): a fifth of check's
// CPU at 10k workspaces, none of which a monitor pays.
func mavtopCommand(dir string) func(tb testing.TB, args ...string) *exec.Cmd {
	var once sync.Once
	var bin string
	return func(tb testing.TB, args ...string) *exec.Cmd {
		once.Do(func() {
			path := filepath.Join(dir, "mavtop")
			if out, err := exec.Command("go", "build", "-o", path, "mavtop").CombinedOutput(); err != nil {
				tb.Logf("go build of mavtop failed, the test binary runs as mavtop: %v: %s", err, out)
				return
			}
			bin = path
		})
		if bin != "" {
			return exec.Command(bin, args...)
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "MAVTOP_AS_MAIN=1", "MAVTOP_ARGS="+strings.Join(args, " "))
		return cmd
	}
}

// runProc runs the command newCmd makes b.N times, its stdout to /dev/null,
// and reports the child's CPU time per run (child-cpu-ms/op). A run that
// fails (check's UNKNOWN, exit 3) fails the benchmark; check's other codes
// are verdicts.
func runProc(b *testing.B, newCmd func() *exec.Cmd) {
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		cmd := newCmd()
		cmd.Stdout = io.Discard
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && (!errors.As(err, &exit) || exit.ExitCode() == checkUnknown) {
			b.Fatalf("%v: %v %s", cmd.Args, err, stderr.Bytes())
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "child-cpu-ms/op")
}

// fillScale writes modeltest.Snapshot(n) into Redis as a producer would:
// used, used_by, refused and settings (json.Marshal's form), 5,000 fields
// an HSET.
func fillScale(tb testing.TB, c redis.UniversalClient, keys feed.Keys, n int) *model.Snapshot {
	snap := modeltest.Snapshot(n, time.Now())
	pk := snap.Period.Key
	fill := func(key string, fields map[string]any) {
		batch := map[string]any{}
		flush := func() {
			if len(batch) > 0 {
				if err := c.HSet(ctx0, key, batch).Err(); err != nil {
					tb.Fatal(err)
				}
				batch = map[string]any{}
			}
		}
		for f, v := range fields {
			batch[f] = v
			if len(batch) == 5000 {
				flush()
			}
		}
		flush()
	}
	used, usedBy, refused, settings := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	for k, v := range snap.Used {
		used[k] = v
	}
	for k, v := range snap.UsedBy {
		usedBy[k] = v
	}
	for k, v := range snap.Refused {
		refused[k] = v
	}
	for k, v := range snap.Settings {
		js, _ := json.Marshal(v)
		settings[k] = string(js)
	}
	fill(keys.Used(pk), used)
	fill(keys.UsedBy(pk), usedBy)
	fill(keys.Refused(pk), refused)
	fill(keys.Settings(), settings)
	return snap
}

// countingWriter counts the rows of check's JSON (each has one "workspace"
// key) and the lines of its text without keeping the output.
type countingWriter struct {
	rows  int
	lines int    // of check's text
	head  []byte // the start of the output, to say what went wrong
	tail  []byte // the end of the last write, where a key may begin
}

func (w *countingWriter) Write(p []byte) (int, error) {
	key := []byte(`{"workspace":`)
	if len(w.head) < 300 {
		w.head = append(w.head, p[:min(len(p), 300)]...)
	}
	// a key split between two writes: the last write's end and this one's start
	edge := append(w.tail, p[:min(len(p), len(key)-1)]...)
	w.rows += bytes.Count(edge, key) + bytes.Count(p, key)
	w.lines += bytes.Count(p, []byte{'\n'})
	w.tail = append(w.tail[:0], p[max(0, len(p)-len(key)+1):]...)
	return len(p), nil
}

// cpuMeter reports (report) the CPU time per run of this process
// (cpu-ms/op) and of redis-server (redis-cpu-ms/op, from INFO cpu), and the
// commands redis-server ran per run (redis-cmds/op, INFO stats; MULTI and
// EXEC count): on a machine other work keeps busy, wall time stretches
// CPU-bound work more than waiting, and these do not depend on the load.
type cpuMeter struct {
	b        *testing.B
	c        redis.UniversalClient
	start    time.Duration // this process's CPU when metering began
	excluded time.Duration // of it, freshHeap's collections
	redis    float64
	cmds     int64
	gcs      uint32 // collections when metering began
}

func meterCPU(b *testing.B, c redis.UniversalClient) *cpuMeter {
	m := &cpuMeter{b: b, c: c, start: processCPU(), gcs: numGC()}
	m.redis, m.cmds = m.redisInfo()
	return m
}

// freshHeap collects the garbage of the runs before, outside the time and
// the CPU measured: each run starts on an empty heap, as the binary's one
// run a process does. Run after run in one process, check's 12 MB at 10k
// were collected every few runs, ~2 ms of CPU a run, which the binary never
// spends (GODEBUG=gctrace=1: no collection in a check at 10k).
func (m *cpuMeter) freshHeap() {
	m.b.StopTimer()
	t := processCPU()
	runtime.GC()
	m.excluded += processCPU() - t
	m.gcs++
	m.b.StartTimer()
}

func (m *cpuMeter) report() {
	cpu := processCPU() - m.start - m.excluded
	s1, n1 := m.redisInfo()
	m.b.ReportMetric(float64(cpu.Microseconds())/1000/float64(m.b.N), "cpu-ms/op")
	m.b.ReportMetric((s1-m.redis)*1000/float64(m.b.N), "redis-cpu-ms/op")
	m.b.ReportMetric(float64(n1-m.cmds-1)/float64(m.b.N), "redis-cmds/op") // the first INFO is counted by the second
	m.b.ReportMetric(float64(numGC()-m.gcs)/float64(m.b.N), "gcs/op")      // freshHeap's left out
}

// numGC is how many collections this process has completed.
func numGC() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

func (m *cpuMeter) redisInfo() (cpu float64, cmds int64) {
	info, err := m.c.Info(context.Background(), "cpu", "stats").Result()
	if err != nil {
		return 0, 0
	}
	f := infoFields(info)
	user, _ := strconv.ParseFloat(f["used_cpu_user"], 64)
	sys, _ := strconv.ParseFloat(f["used_cpu_sys"], 64)
	cmds, _ = strconv.ParseInt(f["total_commands_processed"], 10, 64)
	return user + sys, cmds
}

// processCPU is this process's CPU time so far (user and system).
func processCPU() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// benchSizes are the workspace counts BenchmarkCheckRead measures:
// MAVTOP_CHECK_SIZES=10000 (comma-separated) to profile one.
func benchSizes() []int {
	v := os.Getenv("MAVTOP_CHECK_SIZES")
	if v == "" {
		return []int{10_000, 100_000}
	}
	var out []int
	for _, s := range strings.Split(v, ",") {
		if n, err := strconv.Atoi(s); err == nil {
			out = append(out, n)
		}
	}
	return out
}
