package metrics

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// scaleHub is a hub holding modeltest's n workspaces (allocations, usage
// from 0 to 110 %, a 402 count on every tenth) in the period holding now.
func scaleHub(n int, now time.Time) *feed.Hub {
	h := feed.NewHub()
	h.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(n, now), Rule: model.MonthlyUTC, At: now})
	return h
}

func gather(t testing.TB, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// perWorkspace returns the workspaces that have any series of their own.
func perWorkspace(fams map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for _, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "workspace" {
					out[l.GetValue()] = true
				}
			}
		}
	}
	return out
}

// levelOf is a workspace's level as workspace_level shows it, and its rank
// for the bound (the worse of its own level and its verdict's).
func judged(t *testing.T, h *feed.Hub) (own map[string]model.Level, sev map[string]int) {
	own, sev = map[string]model.Level{}, map[string]int{}
	h.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		for _, s := range l.Summaries(nil) {
			own[s.Name] = s.Level
			sev[s.Name] = max(severity(s.Level), severity(s.Verdict.Level))
		}
	})
	return own, sev
}

// TestMetricsBoundTheWorkspaces: with more workspaces than
// --metrics-max-workspaces, only that many have series of their own, and they
// are the most severe (an exhausted or critical workspace is never left out
// for one merely ok); every workspace is counted by level, so "any workspace
// critical" still reads true, and workspaces_omitted says how many were left
// out. The series follow the ledger's changes (a scrape between changes is
// answered from the last read): a workspace made exhausted by a 402 gets its
// series at the next scrape, and a new charge shows at once.
func TestMetricsBoundTheWorkspaces(t *testing.T) {
	now := time.Now()
	const n, keep = 200, 25
	h := scaleHub(n, now)
	col := New(h, Options{MaxWorkspaces: keep})
	reg, err := NewRegistry(col)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string) map[string]*dto.MetricFamily {
		t.Helper()
		fams := gather(t, reg)
		kept := perWorkspace(fams)
		if len(kept) != keep {
			t.Fatalf("%s: %d workspaces with series of their own, want %d", what, len(kept), keep)
		}
		own, sev := judged(t, h)
		worstOmitted, bestKeptMin := -1, 99
		for ws, s := range sev {
			if kept[ws] {
				bestKeptMin = min(bestKeptMin, s)
			} else {
				worstOmitted = max(worstOmitted, s)
			}
		}
		if worstOmitted > bestKeptMin {
			t.Errorf("%s: a workspace of severity %d left out while one of %d has series", what, worstOmitted, bestKeptMin)
		}
		want := map[string]float64{}
		for _, lv := range levels {
			want["level="+lv.name] = 0
		}
		for _, l := range own {
			for _, lv := range levels {
				if lv.level == l {
					want["level="+lv.name]++
				}
			}
		}
		sameSeries(t, what+": mavtop_workspaces_by_level", series(t, fams, "mavtop_workspaces_by_level", dto.MetricType_GAUGE), want)
		sameSeries(t, what+": mavtop_workspaces_omitted", series(t, fams, "mavtop_workspaces_omitted", dto.MetricType_GAUGE), map[string]float64{"": n - keep})
		if want["level=critical"]+want["level=exhausted"] == 0 {
			t.Fatalf("%s: the test's workspaces hold none critical or exhausted: it tests nothing", what)
		}
		return fams
	}
	check("at the start")

	// The last workspace by name, one ok or less, refused with credits_exhausted: OUT.
	own, _ := judged(t, h)
	var target string
	for i := n - 1; i >= 0; i-- {
		if ws := modeltest.Workspace(i); own[ws] <= model.LevelOK && i%10 != 0 {
			target = ws
			break
		}
	}
	fams := check("before")
	if perWorkspace(fams)[target] {
		t.Fatalf("%s (level %s) has series before it is refused: pick another", target, own[target])
	}
	h.Handle(&feed.BatchMsg{Gen: 1, LastID: "9999999999999-1", Events: []model.Event{{ID: "9999999999999-1", TS: now.UnixMilli(),
		Workspace: target, Project: "p1", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted}}})
	fams = check("after a 402")
	if !perWorkspace(fams)[target] {
		t.Fatalf("%s is OUT and has no series of its own", target)
	}
	sameSeries(t, "exhausted", pick(series(t, fams, "mavtop_workspace_exhausted", dto.MetricType_GAUGE), target), map[string]float64{"workspace=" + target: 1})
	before := pick(series(t, fams, "mavtop_credits_used_total", dto.MetricType_COUNTER), target)
	h.Handle(&feed.BatchMsg{Gen: 1, LastID: "9999999999999-2", Events: []model.Event{{ID: "9999999999999-2", TS: now.UnixMilli(),
		Workspace: target, Project: "p1", Endpoint: "/responses", Credits: 7, Status: 200}}})
	after := pick(series(t, gather(t, reg), "mavtop_credits_used_total", dto.MetricType_COUNTER), target)
	k := "endpoint=/responses,project=p1,workspace=" + target
	if after[k] != before[k]+7 {
		t.Errorf("credits of %s after a charge of 7: %v, before %v", k, after[k], before[k])
	}
}

// pick keeps the series of workspace ws.
func pick(s map[string]float64, ws string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range s {
		if strings.HasSuffix(k, "workspace="+ws) {
			out[k] = v
		}
	}
	return out
}

// cpuTime is the process's CPU time so far (user and system, GC included):
// on a loaded machine a benchmark's wall time says little, its CPU more.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScrapeScale measures one /metrics scrape (gather and text
// exposition) at 1k, 10k and 100k workspaces: "same" scrapes a ledger that
// did not change since the last scrape, "changed" applies one event first.
// It reports the series and bytes of one scrape and its CPU (cpu-ms/op, the
// process's, GC included), and the longest the feed waited meanwhile for the
// hub's lock (feed-wait-max-ms: a goroutine taking it again and again).
func BenchmarkScrapeScale(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		h := scaleHub(n, now)
		reg, err := NewRegistry(New(h, Options{}))
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"same", "changed"} {
			b.Run(fmt.Sprintf("%dk/%s", n/1000, mode), func(b *testing.B) {
				var buf bytes.Buffer
				series := 0
				// how long the feed waits for the hub's lock meanwhile: a
				// prober takes it again and again (as Hub.Handle does for
				// every batch) and keeps its longest wait
				stop := make(chan struct{})
				waited := make(chan time.Duration)
				go func() {
					var most time.Duration
					for {
						select {
						case <-stop:
							waited <- most
							return
						default:
						}
						t0 := time.Now()
						h.Viewers()
						most = max(most, time.Since(t0))
						time.Sleep(100 * time.Microsecond)
					}
				}()
				b.ReportAllocs()
				cpu0 := cpuTime()
				for i := 0; b.Loop(); i++ {
					if mode == "changed" {
						e := modeltest.Event(i, n, now.UnixMilli())
						h.Handle(&feed.BatchMsg{Gen: 1, LastID: e.ID, Events: []model.Event{e}})
					}
					fams, err := reg.Gather()
					if err != nil {
						b.Fatal(err)
					}
					buf.Reset()
					series = 0
					for _, f := range fams {
						if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
							b.Fatal(err)
						}
						series += len(f.Metric)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
				close(stop)
				b.ReportMetric(float64((<-waited).Microseconds())/1e3, "feed-wait-max-ms")
				b.ReportMetric(float64(series), "series")
				b.ReportMetric(float64(buf.Len()), "bytes")
			})
		}
	}
}

// TestWorkspacesByLevelCountsTheRowsLevel: a workspace whose own cap is ok but
// one of whose projects is at 95 % of its usage limit is critical on its row,
// in check (CHECK critical) and in the bound's rank, yet
// mavtop_workspaces_by_level counted it ok, so the README's "any workspace
// critical or out" rule, sum(...{level=~"critical|exhausted"}) > 0, stayed
// silent while its 402 budget_exceeded neared. It counts the row's level.
func TestWorkspacesByLevelCountsTheRowsLevel(t *testing.T) {
	now := time.Now()
	snap := &model.Snapshot{
		Period: model.MonthlyUTC.At(now), StreamID: "0-0",
		Used:    map[string]int64{"acme": 1_900, "plain": 100},
		UsedBy:  map[string]int64{model.UsedByField("acme", "research", "/responses"): 1_900, model.UsedByField("plain", "", "/responses"): 100},
		Refused: map[string]int64{}, Recharged: map[string]int64{},
		Settings: map[string]model.Settings{"acme": {Allocation: 10_000}, "plain": {Allocation: 1_000}},
		Budgets:  map[string]model.ProjectBudget{model.ProjectKey("acme", "research"): {Limit: 2_000}},
	}
	h := feed.NewHub()
	h.Handle(&feed.SnapshotMsg{Gen: 1, Snap: snap, Rule: model.MonthlyUTC, At: now})
	reg, err := NewRegistry(New(h, Options{MaxWorkspaces: 500}))
	if err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	want := map[string]float64{}
	for _, lv := range levels {
		want["level="+lv.name] = 0
	}
	want["level=critical"], want["level=ok"] = 1, 1
	sameSeries(t, "mavtop_workspaces_by_level", series(t, fams, "mavtop_workspaces_by_level", dto.MetricType_GAUGE), want)
}
