package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkAlertsScale runs `mavtop alerts` (text and --json) as a process
// each run, as an operator does, on a period holding 100k alert records (a
// threshold alert of each of 100k workspaces, fired and delivered to one
// sink, half of them resolved): child-cpu-ms/op is the child's CPU,
// maxrss-MB its peak RSS, hash-MB the records' size as stored.
func BenchmarkAlertsScale(b *testing.B) {
	const n = 100_000
	srv := feedtest.Start(b)
	c := srv.Client()
	keys := feed.Keys{}
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	fields := map[string]any{}
	size := 0
	flush := func() {
		if len(fields) == 0 {
			return
		}
		if err := c.HSet(ctx0, keys.Alerts(period), fields).Err(); err != nil {
			b.Fatal(err)
		}
		fields = map[string]any{}
	}
	for i := range n {
		ws := modeltest.Workspace(i)
		a := model.Alert{ID: fmt.Sprintf("%s/%s/-/threshold/75", period, ws), Period: period, Workspace: ws, Kind: model.AlertThreshold,
			Level: model.LevelHigh, Threshold: 75, Used: 7_600, Cap: 10_000, PercentUsed: 76}
		r := feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: now.Add(-time.Hour), FiredStream: "1700000000000-0"},
			Deliveries: []feed.Delivery{{Transition: model.AlertTransition{Alert: a, Status: model.AlertFiring, At: now.Add(-time.Hour)},
				Summary: ws + " crossed 75 % of its allocation (7,600 of 10,000)", Done: true,
				Sinks: map[string]feed.SinkResult{"https://hooks.example.com/mavtop": {Result: feed.ResultSent}}}}}
		if i%2 == 1 {
			r.Status, r.ResolvedAt = model.AlertResolved, now.Add(-30*time.Minute)
		}
		js, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		size += len(js)
		fields[a.ID] = js
		if len(fields) == 5000 {
			flush()
		}
	}
	flush()
	for _, arm := range []struct{ name, args string }{{"text", ""}, {"json", " --json"}} {
		b.Run(fmt.Sprintf("proc-%s-100k", arm.name), func(b *testing.B) {
			var cpu time.Duration
			var rss int64
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), "MAVTOP_AS_MAIN=1", "MAVTOP_ARGS=alerts --period "+period+arm.args+" --redis="+srv.URL)
				cmd.Stdout = io.Discard
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil {
					var exit *exec.ExitError
					if !errors.As(err, &exit) {
						b.Fatal(err)
					}
					b.Fatalf("%v: %s", err, stderr.Bytes())
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					rss = max(rss, ru.Maxrss) // kB
				}
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "child-cpu-ms/op")
			b.ReportMetric(float64(rss)/1024, "maxrss-MB")
			b.ReportMetric(float64(size)/1e6, "hash-MB")
		})
	}
}
