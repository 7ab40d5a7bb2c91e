package cmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkCheckLimitRefusals is `mavtop check --json` at 100k workspaces
// (BenchmarkCheckRead's) where 1 % of them were refused with budget_exceeded
// this period, so check reads the last hour back to learn whether each 402
// still stands (model.RefusalUndecided): half of them have their 402 in the
// hour, the other half's is older, so nothing in the hour decides them and
// the whole hour is read. The stream holds entries entries in the hour, the
// steady load's (modeltest.Event). read-entries/op is how many stream entries
// one check read back: xrevrange/op is how many pages of the stream one
// check read (INFO commandstats), redis-cmds/op the commands.
func BenchmarkCheckLimitRefusals(b *testing.B) {
	const n = 100_000
	for _, entries := range []int{100_000, 400_000} {
		b.Run(fmt.Sprintf("100k-%dk-entries", entries/1000), func(b *testing.B) {
			srv := feedtest.Start(b)
			c := srv.Client()
			keys := feed.Keys{}
			snap := fillScale(b, c, keys, n)
			fillLimitRefusals(b, c, keys, snap.Period.Key, n, entries, time.Now())
			args := []string{"check", "--json", "--redis-timeout=1m", "--redis=" + srv.URL}
			check := func(out io.Writer) int {
				root := newRootCmd()
				root.SetOut(out)
				root.SetErr(io.Discard)
				return run(root, args, io.Discard)
			}
			var out countingWriter
			if code := check(&out); code == checkUnknown || out.rows != n {
				b.Fatalf("exit %d, %d rows: %s", code, out.rows, out.head)
			}
			read0 := xrevranges(b, c)
			b.ResetTimer()
			m := meterCPU(b, c)
			defer m.report()
			for i := 0; i < b.N; i++ {
				m.freshHeap()
				if code := check(io.Discard); code == checkUnknown {
					b.Fatalf("exit %d", code)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(xrevranges(b, c)-read0)/float64(b.N), "xrevrange/op")
		})
	}
}

// fillLimitRefusals refuses every hundredth of n scale workspaces with
// budget_exceeded on project p1 this period (the refused counter) and writes
// entries stream entries spread over the hour before now, oldest first: the
// steady load's events, and for the even ones of the refused workspaces their
// 402 early in the hour (the odd ones' is older than the hour).
func fillLimitRefusals(tb testing.TB, c redis.UniversalClient, keys feed.Keys, period string, n, entries int, now time.Time) {
	refused := map[string]any{}
	for i := 0; i < n; i += 100 {
		refused[model.RefusedField(modeltest.Workspace(i), "p1", model.CodeBudgetExceeded)] = 1
	}
	if err := c.HSet(ctx0, keys.Refused(period), refused).Err(); err != nil {
		tb.Fatal(err)
	}
	start := now.Add(-50 * time.Minute).UnixMilli()
	step := (50 * time.Minute).Milliseconds() / int64(entries)
	pipe := c.Pipeline()
	add := func(id string, e *model.Event) {
		pipe.XAdd(ctx0, &redis.XAddArgs{Stream: keys.Stream(), ID: id, Values: e.Fields()})
		if pipe.Len() >= 5000 {
			if _, err := pipe.Exec(ctx0); err != nil {
				tb.Fatal(err)
			}
		}
	}
	k := 0
	for i := 0; i < n; i += 200 { // the even ones: their 402 in the hour
		e := model.Event{TS: start, Workspace: modeltest.Workspace(i), Project: "p1", Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded}
		add(fmt.Sprintf("%d-%d", start, k), &e)
		k++
	}
	for j := 0; j < entries; j++ {
		ts := start + 1 + int64(j)*step
		e := modeltest.Event(j, n, ts)
		if e.Status == 402 || e.Project == "p1" && (j%n)%100 == 0 {
			// no other 402, and no success of a refused project: each
			// 402 stands, the rest of the hour decides nothing
			e.Status, e.Code, e.Credits, e.Msg, e.Project = 200, "", 1, "", "p2"
		}
		add(fmt.Sprintf("%d-%d", ts, k), &e)
		k++
	}
	if _, err := pipe.Exec(ctx0); err != nil {
		tb.Fatal(err)
	}
}

// xrevranges is how many XREVRANGE commands the server ran so far.
func xrevranges(tb testing.TB, c redis.UniversalClient) int64 {
	info, err := c.Info(ctx0, "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_xrevrange:calls="); ok {
			calls, _, _ := strings.Cut(rest, ",")
			n, _ := strconv.ParseInt(calls, 10, 64)
			return n
		}
	}
	return 0
}
