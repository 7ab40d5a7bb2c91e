package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mavtop/internal/memlimit"
	"runtime/debug"
	"strconv"
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
// --json (the status line with its perfdata, the table).
func BenchmarkCheckRead(b *testing.B) {
	// the collector set as the binary sets it (main: memlimit.Apply), not
	// the test binary's GOGC=100, which collected check's heap several
	// times a run
	defer debug.SetGCPercent(debug.SetGCPercent(memlimit.GCPercent))
	for _, n := range []int{10_000, 100_000} {
		srv := feedtest.Start(b)
		c := srv.Client()
		keys := feed.Keys{}
		snap := fillScale(b, c, keys, n)
		pk := snap.Period.Key
		b.Run(fmt.Sprintf("bare-%dk", n/1000), func(b *testing.B) {
			defer reportCPU(b, c)()
			for i := 0; i < b.N; i++ {
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
			defer reportCPU(b, c)()
			for i := 0; i < b.N; i++ {
				if code := check(io.Discard); code == checkUnknown {
					b.Fatalf("exit %d", code)
				}
			}
		}
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

// reportCPU reports, when the returned func is called, the CPU time per run
// of this process (cpu-ms/op) and of redis-server (redis-cpu-ms/op, from INFO
// cpu), and the commands redis-server ran per run (redis-cmds/op, INFO stats;
// MULTI and EXEC count): on a machine other work keeps busy, wall time
// stretches CPU-bound work more than waiting, and these do not depend on the
// load.
func reportCPU(b *testing.B, c redis.UniversalClient) func() {
	redisInfo := func() (cpu float64, cmds int64) {
		info, err := c.Info(context.Background(), "cpu", "stats").Result()
		if err != nil {
			return 0, 0
		}
		f := infoFields(info)
		user, _ := strconv.ParseFloat(f["used_cpu_user"], 64)
		sys, _ := strconv.ParseFloat(f["used_cpu_sys"], 64)
		cmds, _ = strconv.ParseInt(f["total_commands_processed"], 10, 64)
		return user + sys, cmds
	}
	var r0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	s0, n0 := redisInfo()
	return func() {
		var r1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
		s1, n1 := redisInfo()
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		b.ReportMetric((s1-s0)*1000/float64(b.N), "redis-cpu-ms/op")
		b.ReportMetric(float64(n1-n0-1)/float64(b.N), "redis-cmds/op") // the first INFO is counted by the second
	}
}
