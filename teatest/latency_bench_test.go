package teatest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// frameLog is the program's output: it records when each write happened and
// calls match on it, so a benchmark can tell when a frame showed something.
type frameLog struct {
	mu    sync.Mutex
	match func(at time.Time, chunk string)
}

func (f *frameLog) Write(p []byte) (int, error) {
	at := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.match != nil {
		f.match(at, string(p))
	}
	return len(p), nil
}

// runProgram runs the dashboard in a real tea.Program writing to out.
func runProgram(b *testing.B, src *feed.Viewer, out io.Writer, w, h int) *tea.Program {
	m := tui.New(tui.Options{Source: src, Renderer: lipgloss.NewRenderer(out)})
	p := tea.NewProgram(m, tea.WithOutput(out), tea.WithInput(nil), tea.WithoutSignals())
	go func() { _, _ = p.Run() }()
	p.Send(tea.WindowSizeMsg{Width: w, Height: h})
	b.Cleanup(p.Kill)
	return p
}

func percentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(p(1), "max-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkXADDToFrame measures how long an event takes from XADD (the
// publisher's MULTI/EXEC) to the first frame that shows it, at 10,000 events/s,
// through a real redis-server, the subscriber, the hub and a tea.Program.
// Each op is one event: run with -benchtime=20000x for two seconds of traffic.
func BenchmarkXADDToFrame(b *testing.B) {
	const rate = 10_000
	srv := feedtest.Start(b)
	rdb := srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := feed.NewSettingsStore(rdb, feed.StoreOptions{}).SetWorkspace(ctx, "lat", model.Settings{Allocation: 1_000_000_000}); err != nil {
		b.Fatal(err)
	}
	hub := feed.NewHub()
	go func() { _ = hub.Run(ctx, feed.NewSubscriber(rdb, feed.SubscriberOptions{})) }()

	// The gauge row shows "<used> / 1,000,000,000": event i makes used = i+1.
	sent := make([]time.Time, b.N+1)
	seen := make([]time.Duration, 0, b.N)
	shown := 0
	var sentMu sync.Mutex
	row := regexp.MustCompile(`([\d,]+) / 1,000,000,000`)
	log := &frameLog{match: func(at time.Time, chunk string) {
		for _, m := range row.FindAllStringSubmatch(chunk, -1) {
			n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			sentMu.Lock()
			for ; shown < n && shown < b.N; shown++ {
				seen = append(seen, at.Sub(sent[shown]))
			}
			sentMu.Unlock()
		}
	}}
	runProgram(b, hub.Join(), log, 160, 40)
	pub := feed.NewPublisher(rdb, feed.PublisherOptions{})
	time.Sleep(300 * time.Millisecond) // the first snapshot
	b.ResetTimer()
	const batch = 50 // 50 events every 5 ms = 10,000/s
	tick := time.NewTicker(time.Second * batch / rate)
	defer tick.Stop()
	evs := make([]model.Event, 0, batch)
	for i := 0; i < b.N; i += batch {
		<-tick.C
		evs = evs[:0]
		for j := i; j < min(i+batch, b.N); j++ {
			evs = append(evs, model.Event{Workspace: "lat", Endpoint: "/responses", Credits: 1, Status: 200})
		}
		sentMu.Lock()
		at := time.Now()
		for j := i; j < i+len(evs); j++ {
			sent[j] = at
		}
		sentMu.Unlock()
		if err := pub.TrackBatch(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		sentMu.Lock()
		done := len(seen) >= b.N
		sentMu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	sentMu.Lock()
	defer sentMu.Unlock()
	if len(seen) < b.N {
		b.Fatalf("only %d of %d events reached the screen", len(seen), b.N)
	}
	percentiles(b, seen)
}

// BenchmarkKeyToFrame measures how long a keypress takes to show while the hub
// delivers 200,000 events/s (batches of 1,000 every 5 ms, straight into the hub:
// the load the dashboard sees, without a Redis able to carry it on the same two
// cores). Each op is one keypress (s: sort by name/use, which changes the title).
func BenchmarkKeyToFrame(b *testing.B) {
	hub := feed.NewHub()
	now := time.Now()
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Rule: model.MonthlyUTC, At: now,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(now), StreamID: "0-0"}})
	var mu sync.Mutex
	want, pressed := "", time.Time{}
	var lat []time.Duration
	got := make(chan struct{}, 1)
	log := &frameLog{match: func(at time.Time, chunk string) {
		mu.Lock()
		defer mu.Unlock()
		if want != "" && strings.Contains(chunk, want) {
			lat = append(lat, at.Sub(pressed))
			want = ""
			got <- struct{}{}
		}
	}}
	p := runProgram(b, hub.Join(), log, 160, 40)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // 200,000 events/s over 200 workspaces
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		seq := 0
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			evs := make([]model.Event, 1000)
			ts := time.Now().UnixMilli()
			for i := range evs {
				seq++
				evs[i] = model.Event{ID: fmt.Sprintf("%d-%d", ts, seq), TS: ts, Workspace: fmt.Sprintf("ws-%03d", seq%200),
					Endpoint: "/responses", Credits: 1, Status: 200}
			}
			hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs})
		}
	}()
	time.Sleep(500 * time.Millisecond)
	b.ResetTimer()
	titles := [2]string{"· by name", "· by use"}
	for i := 0; i < b.N; i++ {
		mu.Lock()
		want, pressed = titles[i%2], time.Now()
		mu.Unlock()
		p.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")})
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			b.Fatalf("keypress %d never reached the screen", i)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	percentiles(b, lat)
}
