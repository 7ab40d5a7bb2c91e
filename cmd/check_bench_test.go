package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkCheckRead compares what mavtop check does (read the workspace
// counters and settings, seed a ledger, judge, encode JSON) with a bare MULTI
// of HGETALLs of the same hashes, at 10k and 100k workspaces (3 projects × 4
// endpoints each in used_by, which check does not read). Target: check ≤ 2×
// bare.
func BenchmarkCheckRead(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		srv := feedtest.Start(b)
		c := srv.Client()
		ctx := context.Background()
		now := time.Now()
		snap := modeltest.Snapshot(n, now)
		keys := feed.Keys{}
		pk := snap.Period.Key
		fill := func(key string, fields map[string]any) {
			batch := map[string]any{}
			flush := func() {
				if len(batch) > 0 {
					if err := c.HSet(ctx, key, batch).Err(); err != nil {
						b.Fatal(err)
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
		b.Run(fmt.Sprintf("bare-%dk", n/1000), func(b *testing.B) {
			defer reportCPU(b, c)()
			for i := 0; i < b.N; i++ {
				pipe := c.TxPipeline()
				for _, k := range []string{keys.Used(pk), keys.Refused(pk), keys.Recharged(pk), keys.Settings()} {
					pipe.HGetAll(ctx, k)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("check-%dk", n/1000), func(b *testing.B) {
			defer reportCPU(b, c)()
			for i := 0; i < b.N; i++ {
				res, err := feed.ReadWorkspaceSnapshot(ctx, c, keys, now, model.MonthlyUTC)
				if err != nil {
					b.Fatal(err)
				}
				rows, err := checkRows(ctx, c, keys, res, nil, now, true)
				if err != nil {
					b.Fatal(err)
				}
				for j := range rows {
					rows[j].judge(false, 0, 0)
				}
				if len(rows) != n {
					b.Fatalf("%d rows, want %d", len(rows), n)
				}
				if err := writeCheckJSON(io.Discard, map[string]any{"status": "ok"}, rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportCPU reports, when the returned func is called, the CPU time per run
// of this process (cpu-ms/op) and of redis-server (redis-cpu-ms/op, from INFO
// cpu): on a machine other work keeps busy, wall time stretches CPU-bound
// work more than waiting, and these do not depend on the load.
func reportCPU(b *testing.B, c redis.UniversalClient) func() {
	redisCPU := func() float64 {
		info, err := c.Info(context.Background(), "cpu").Result()
		if err != nil {
			return 0
		}
		var total float64
		for _, line := range strings.Split(info, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
		return total
	}
	var r0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	s0 := redisCPU()
	return func() {
		var r1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		b.ReportMetric((redisCPU()-s0)*1000/float64(b.N), "redis-cpu-ms/op")
	}
}
