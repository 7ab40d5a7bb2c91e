package feed

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// BenchmarkAudit measures one audit at 10k and 100k workspaces: the MULTI that
// reads the digest (the audit on the cadence while producers keep it), or the
// period hashes (quick: the gauges' hashes; full: every hash and the
// settings; scan: the full read done piecewise, as every 60th audit on the
// cadence does it first, see scanAgrees), and the comparison with what was
// delivered. The digest audit
// also reads the next DefaultAuditSlice slots of the used, recharged and
// settings hashes (HSCAN), going on from where the last one stopped, as the
// subscriber does. redis-ms/audit is the time Redis spent on the
// audit's commands (INFO commandstats), the figure the README quotes; ns/op
// adds the network and the client's parsing.
//
//	go test -run '^$' -bench BenchmarkAudit -benchtime 20x ./feed/
func BenchmarkAudit(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("workspaces=%d", n), func(b *testing.B) {
			srv := feedtest.Start(b)
			// The snapshot's read timeout, as the subscriber's: a full read at
			// 100k on a loaded machine takes longer than go-redis's 3 s.
			c := longReads(srv.Client(), bulkReadTimeout)
			ctx := context.Background()
			now := time.Now()
			keys := Keys{}
			p := model.MonthlyUTC.At(now).Key
			fillWorkspaces(b, c, keys, p, n)
			seed := maphash.MakeSeed()
			res, err := ReadSnapshot(ctx, c, keys, now, model.MonthlyUTC)
			if err != nil {
				b.Fatal(err)
			}
			shown := tallyOf(seed, res.Snap, res.rawSettings)
			if !shown.digestAgrees(res.digest) {
				b.Fatal("the filled digest does not sum the counters")
			}
			for _, kind := range []string{"digest", "quick", "full", "scan"} {
				b.Run(kind, func(b *testing.B) {
					var cursor [3]uint64
					before := commandUsec(b, c)
					b.ResetTimer()
					for range b.N {
						if kind == "digest" {
							res, err := readDigest(ctx, c, keys, res.Snap.Period, cursor, DefaultAuditSlice)
							if err != nil {
								b.Fatal(err)
							}
							cursor = res.slices.cursor
							if !shown.digestAgrees(res.digest) || !shown.agreesWith(res.slices) {
								b.Fatal("the digest or a slice differs in an unchanged Redis")
							}
							continue
						}
						if kind == "scan" {
							agree, err := scanAgrees(ctx, c, keys, res.Snap.Period, "", shown, res.Snap.StreamID, nil)
							if err != nil {
								b.Fatal(err)
							}
							if !agree {
								b.Fatal("the piecewise read differs in an unchanged Redis")
							}
							continue
						}
						if kind == "quick" {
							res, err := readCounters(ctx, c, keys, res.Snap.Period)
							if err != nil {
								b.Fatal(err)
							}
							if !shown.sameCounters(tallyOf(seed, res.Snap, nil)) {
								b.Fatal("counters differ in an unchanged Redis")
							}
							continue
						}
						res, err := ReadSnapshot(ctx, c, keys, now, model.MonthlyUTC)
						if err != nil {
							b.Fatal(err)
						}
						if _, changed, _ := shown.diff(tallyOf(seed, res.Snap, res.rawSettings)); changed != 0 {
							b.Fatalf("%d workspaces differ in an unchanged Redis", changed)
						}
					}
					b.StopTimer()
					if srv.Real {
						b.ReportMetric(float64(commandUsec(b, c)-before)/1000/float64(b.N), "redis-ms/audit")
					}
				})
			}
		})
	}
}

// fillWorkspaces writes n workspaces the way producers and budget set leave
// them: used, one used_by field each, settings for all, a 402 and a recharge
// for one in ten, and the digest of it all.
func fillWorkspaces(b *testing.B, c redis.UniversalClient, keys Keys, period string, n int) {
	ctx := context.Background()
	const chunk = 1000
	var dg digest
	for start := 0; start < n; start += chunk {
		_, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			var used, usedBy, settings, refused, recharged []any
			for i := start; i < min(start+chunk, n); i++ {
				ws := "ws-" + strconv.Itoa(i)
				used = append(used, ws, i%5000)
				usedBy = append(usedBy, model.UsedByField(ws, "app", "/responses"), i%5000)
				settings = append(settings, ws, `{"allocation":10000,"usage_limit":12000,"alerts":[50,75,90]}`)
				dg.used[DigestShard(ws)] += int64(i % 5000)
				if i%10 == 0 {
					refused = append(refused, model.RefusedField(ws, "app", model.CodeCreditsExhausted), 1)
					recharged = append(recharged, ws, 500)
					dg.refused[DigestShard(ws)]++
					dg.recharged[DigestShard(ws)] += 500
				}
			}
			pipe.HSet(ctx, keys.Used(period), used...)
			pipe.HSet(ctx, keys.UsedBy(period), usedBy...)
			pipe.HSet(ctx, keys.Settings(), settings...)
			pipe.HSet(ctx, keys.Refused(period), refused...)
			pipe.HSet(ctx, keys.Recharged(period), recharged...)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var fields []any
	for i := range DigestShards {
		n := strconv.Itoa(i)
		fields = append(fields, digestUsed+n, dg.used[i], digestRecharged+n, dg.recharged[i], digestRefused+n, dg.refused[i])
	}
	if err := c.HSet(ctx, keys.Digest(period), fields...).Err(); err != nil {
		b.Fatal(err)
	}
}

// commandUsec sums the microseconds Redis spent on the audit's commands.
func commandUsec(b *testing.B, c redis.UniversalClient) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return 0
	}
	var total int64
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch name {
		case "cmdstat_hgetall", "cmdstat_hscan", "cmdstat_xinfo|stream", "cmdstat_info", "cmdstat_xinfo", "cmdstat_xrange":
		default:
			continue
		}
		for kv := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				total += n
			}
		}
	}
	return total
}

// BenchmarkAuditReadShapes measures, at 100k workspaces, what the quick
// audit's read costs Redis and what the same fields cost read another way, to
// say where a cheaper audit can come from: the quick audit's MULTI (HGETALL of
// used, refused, recharged), HGETALL of used alone, used by 5,000-field HMGETs
// (the ledger's field list, in batches) and used by HSCAN COUNT 5000.
// redis-ms/pass is Redis's own time (INFO commandstats, reset before each).
//
//	go test ./feed -run '^$' -bench AuditReadShapes -benchtime 5x
func BenchmarkAuditReadShapes(b *testing.B) {
	srv := feedtest.StartReal(b, "needs a real redis-server for INFO commandstats")
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	p := model.MonthlyUTC.At(time.Now())
	const n, batch = 100_000, 5000
	fillWorkspaces(b, c, keys, p.Key, n)
	fields := make([]string, n)
	for i := range fields {
		fields[i] = "ws-" + strconv.Itoa(i)
	}
	shapes := []struct {
		name string
		read func() error
	}{
		{"quick-multi", func() error { _, err := readCounters(ctx, c, keys, p); return err }},
		{"hgetall-used", func() error { return c.HGetAll(ctx, keys.Used(p.Key)).Err() }},
		{"hmget-used-5000", func() error {
			for s := 0; s < n; s += batch {
				if err := c.HMGet(ctx, keys.Used(p.Key), fields[s:s+batch]...).Err(); err != nil {
					return err
				}
			}
			return nil
		}},
		{"digest", func() error { return c.HGetAll(ctx, keys.Digest(p.Key)).Err() }},
		{"hscan-one-slice-used-5000", func() error { return c.HScan(ctx, keys.Used(p.Key), 0, "", batch).Err() }},
		{"hscan-one-slice-settings-5000", func() error { return c.HScan(ctx, keys.Settings(), 0, "", batch).Err() }},
		{"hscan-one-slice-recharged-5000", func() error { return c.HScan(ctx, keys.Recharged(p.Key), 0, "", batch).Err() }},
		{"hscan-used-5000", func() error {
			var cur uint64
			for {
				_, next, err := c.HScan(ctx, keys.Used(p.Key), cur, "", batch).Result()
				if err != nil || next == 0 {
					return err
				}
				cur = next
			}
		}},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if err := sh.read(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(allCommandUsec(b, c))/1000/float64(b.N), "redis-ms/pass")
		})
	}
}

// allCommandUsec sums the microseconds Redis spent on every command since the
// last CONFIG RESETSTAT, less INFO and CONFIG themselves.
func allCommandUsec(b *testing.B, c redis.UniversalClient) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") || name == "cmdstat_info" || strings.HasPrefix(name, "cmdstat_config") {
			continue
		}
		for kv := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				total += n
			}
		}
	}
	return total
}
