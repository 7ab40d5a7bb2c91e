package scaleharness

import (
	"context"
	"io"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/redis/go-redis/v9"

	"mavtop/cmd"
	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/tui"
)

// dashboard is the dashboard every figure of the harness measures, as
// mavtop's dashboard command runs it (cmd/dashboard.go open, startHub and
// startAlerts without sinks) but drawing into a headless terminal: the hub
// following src, the alert watcher every mavtop process runs (its store in
// rdb) and a tea.Program drawing 200×50 frames at its own pace into out. The
// harness's child (TestChild, which BenchmarkFirstFrame starts once a start)
// and BenchmarkSteadySecond run this one, so what they measure cannot drift
// apart.
type dashboard struct {
	hub *feed.Hub
	wg  sync.WaitGroup
}

// dashboardOptions says what startDashboard runs.
type dashboardOptions struct {
	// Hub is the hub to run the dashboard over (nil: a new one). A caller
	// that hands the hub its messages itself (BenchmarkSteadySecond, no
	// stream read) seeds it before the viewers join, as a start would.
	Hub *feed.Hub
	// Source feeds the hub (the stream's Subscriber); nil: the caller does.
	Source feed.Source
	// NoWatcher leaves out the alert watcher (MAVTOP_SCALE_WATCHER=0).
	NoWatcher bool
	// Out is the headless terminal the frames are written to.
	Out io.Writer
}

// startDashboard starts the dashboard of opt until ctx ends; wait waits for
// it to end.
func startDashboard(ctx context.Context, rdb *redis.Client, opt dashboardOptions) *dashboard {
	d := &dashboard{hub: opt.Hub}
	if d.hub == nil {
		d.hub = feed.NewHub()
	}
	if opt.Source != nil {
		d.wg.Add(1)
		go func() { defer d.wg.Done(); _ = d.hub.Run(ctx, opt.Source) }()
	}
	var lifecycle func() tui.Lifecycle
	var firstGauges func()
	if !opt.NoWatcher {
		// the alert lifecycle every mavtop process runs (cmd/notifyflags.go:
		// startAlerts, without sinks), which the dashboard polls every second
		// for its alerts pane (cmd/dashboard.go hands lifecycleOf to the tui)
		// (cmd/dashboard.go: its start held until the first frame)
		first := make(chan struct{})
		firstGauges = func() { close(first) }
		w := notify.NewWatcher(notify.WatcherOptions{Hub: d.hub, Store: feed.NewAlertStore(rdb, ""),
			Alert: model.AlertOptions{Stale: model.DefaultStale}, StartHold: first})
		d.wg.Add(1)
		go func() { defer d.wg.Done(); _ = w.Run(ctx) }()
		lifecycle = cmd.LifecycleOf(w)
	}
	m := tui.New(tui.Options{Source: d.hub.Join(), Renderer: lipgloss.NewRenderer(opt.Out), Lifecycle: lifecycle,
		FirstGauges: firstGauges})
	p := tea.NewProgram(m, tea.WithOutput(opt.Out), tea.WithInput(nil), tea.WithoutSignals(), tea.WithContext(ctx))
	d.wg.Add(1)
	go func() { defer d.wg.Done(); _, _ = p.Run() }()
	p.Send(tea.WindowSizeMsg{Width: 200, Height: 50})
	return d
}

// wait waits for everything startDashboard started to end (after ctx).
func (d *dashboard) wait() { d.wg.Wait() }
