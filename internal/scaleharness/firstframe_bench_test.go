package scaleharness

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/internal/memlimit"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/tui"
)

// BenchmarkFirstFrame is the start path of the dashboard in this process, as
// the harness's child runs it (subscriber, hub, the alert watcher, a
// headless tea.Program at 200×50): from Run to the first frame showing a
// workspace row, on a redis-server holding the counters and settings of
// MAVTOP_SCALE_WORKSPACES workspaces (100k by default). It reports the
// process's CPU per start (cpu-ms/op), which a loaded machine inflates far
// less than wall time; MAVTOP_SCALE_CPU=FILE profiles each start from Run to
// its first frame into FILE.0, FILE.1, … (nothing of the seeding, nor of what
// follows the frame; go tool pprof merges them). A hand-run benchmark like
// the harness:
//
//	go test ./internal/scaleharness -run '^$' -bench FirstFrame -benchtime 5x
func BenchmarkFirstFrame(b *testing.B) {
	n := envInt("MAVTOP_SCALE_WORKSPACES", 100_000)
	defer memlimit.Apply(os.Getenv).Stop() // what main.go does
	rdb, addr := startRedis(b)
	seedCounters(b, rdb, n, time.Now())
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var spent time.Duration
	profile := os.Getenv("MAVTOP_SCALE_CPU")
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		// what the last start left behind is not this start's
		ctx, cancel := context.WithCancel(context.Background())
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		b.StartTimer()
		var prof *os.File
		if profile != "" {
			var err error
			if prof, err = os.Create(fmt.Sprintf("%s.%d", profile, i)); err != nil {
				b.Fatal(err)
			}
		}
		c0 := cpu()
		if prof != nil {
			_ = pprof.StartCPUProfile(prof)
		}
		hub := feed.NewHub()
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); _ = hub.Run(ctx, feed.NewSubscriber(c, feed.SubscriberOptions{})) }()
		w := notify.NewWatcher(notify.WatcherOptions{Hub: hub, Store: feed.NewAlertStore(c, ""),
			Alert: model.AlertOptions{Stale: model.DefaultStale}})
		go func() { defer wg.Done(); _ = w.Run(ctx) }()
		out := &firstRow{seen: make(chan struct{})}
		m := tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.NewRenderer(out)})
		p := tea.NewProgram(m, tea.WithOutput(out), tea.WithInput(nil), tea.WithoutSignals(), tea.WithContext(ctx))
		go func() { defer wg.Done(); _, _ = p.Run() }()
		p.Send(tea.WindowSizeMsg{Width: 200, Height: 50})
		<-out.seen
		spent += cpu() - c0
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
		b.StopTimer()
		cancel()
		wg.Wait()
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(spent.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

// firstRow is a headless terminal that closes seen at the first write
// showing a workspace row.
type firstRow struct {
	once sync.Once
	seen chan struct{}
}

func (f *firstRow) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "ws-0") {
		f.once.Do(func() { close(f.seen) })
	}
	return len(p), nil
}
