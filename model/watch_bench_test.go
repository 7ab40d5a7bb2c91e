package model_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkWatchSecond is one second of `mavtop watch` at 10k and 100k
// workspaces, each charged 36 times in the hour read back (the scale
// harness's 1,000 events/s at 100k): the second's 1,000 events applied, then
// (evaluate) every alert judged as the watcher judges it (EvaluateAlerts: a
// forecast per workspace with a cap), or (forecasts) only every workspace's
// Forecast, or (incremental) the watcher's steady second: AlertEvaluator
// judging what the second changed and every run-out. Its first full
// judgement, the claims of what that fired and the second that reads them
// back are made before the timer starts; the claims of a timed second, made
// with the timer stopped, are the next second's changed records, as the
// watcher's load hands them over. cpu-ns/op over 1e9 is the share of a core
// watching takes (the CPU time of the process, the collector's too: ns/op is
// the wall clock of a shared machine).
func BenchmarkWatchSecond(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		var l *model.Ledger
		var now time.Time
		k := 0
		second := func() {
			now = now.Add(time.Second)
			for range 1_000 {
				e := modeltest.Event(k, n, now.UnixMilli()-int64(k%1_000))
				l.Apply(&e)
				k++
			}
		}
		for _, what := range []string{"evaluate", "forecasts", "incremental"} {
			b.Run(fmt.Sprintf("%dk-%s", n/1_000, what), func(b *testing.B) {
				if l == nil {
					l, now = watchedLedger(n)
				}
				var dst []model.Alert
				names := make([]string, n)
				for i := range names {
					names[i] = modeltest.Workspace(i)
				}
				h := model.FeedHealth{Connected: true, Since: now.Add(-time.Hour)}
				var ev *model.AlertEvaluator
				known := map[string]model.AlertRecord{}
				var paused int64     // CPU time spent claiming, with the timer stopped
				var changed []string // the records claimed since the last second, as the watcher's load says
				claim := func(trs []model.AlertTransition) {
					for _, tr := range trs {
						changed = append(changed, tr.Alert.ID)
						rec := known[tr.Alert.ID]
						rec.Apply(&tr)
						known[tr.Alert.ID] = rec
					}
				}
				if what == "incremental" {
					ev = model.NewAlertEvaluator(model.AlertOptions{})
					claim(ev.Transitions(l, now, h, model.AlertRecords{Known: known, Tracked: true}, nil))
					b.Logf("%d records after the first judgement", len(known))
					// the next second judges again every record the first
					// claimed (the watcher's load hands them back): not steady
					second()
					claim(ev.Transitions(l, now, h, model.AlertRecords{Known: known, Tracked: true, Changed: changed}, nil))
					changed = changed[:0]
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for range b.N {
					second()
					if what == "incremental" {
						h.Since = now.Add(-time.Hour)
						trs := ev.Transitions(l, now, h, model.AlertRecords{Known: known, Tracked: true, Changed: changed}, nil)
						changed = changed[:0]
						if len(trs) > 0 {
							b.StopTimer()
							c := cpuTime()
							claim(trs)
							paused += cpuTime() - c
							b.StartTimer()
						}
						continue
					}
					if what == "forecasts" {
						for _, ws := range names {
							l.Forecast(ws, now)
						}
						continue
					}
					dst = model.EvaluateAlerts(l, now, model.FeedHealth{Connected: true, Since: now.Add(-time.Hour)}, model.AlertOptions{}, dst[:0])
					judged := 0
					for i := range dst {
						if dst[i].Kind == model.AlertRunOut && dst[i].Condition != model.ConditionUnknown {
							judged++
						}
					}
					if judged == 0 {
						b.Fatal("no run-out judged: the forecasts were not asked")
					}
				}
				// the machine is shared: CPU time, not the wall clock, is what watching costs
				b.ReportMetric(float64(cpuTime()-cpu0-paused)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// watchedLedger is a ledger of n scale workspaces that has read back an hour
// of 36 charges each (in pages, newest first, as a start does) and ended it.
func watchedLedger(n int) (*model.Ledger, time.Time) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	from := now.Add(-time.Hour)
	l := model.NewLedger(model.MonthlyUTC, from)
	l.Seed(modeltest.Snapshot(n, now), now)
	count := 36 * n
	step := int64(time.Hour/time.Millisecond) / int64(count)
	page := make([]model.Event, 0, 10_000)
	for i := 0; i < count; {
		page = page[:0]
		for ; i < count && len(page) < cap(page); i++ {
			page = append(page, modeltest.Event(i, n, now.UnixMilli()-int64(i)*step-1))
		}
		l.Backfill(page, from)
	}
	l.EndHistory()
	return l, now
}

// cpuTime is the CPU time (ns) the process has used, every thread (the
// garbage collector's too).
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
