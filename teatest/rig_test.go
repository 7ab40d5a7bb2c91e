// Package teatest holds end-to-end tests of the whole dashboard: the real feed
// (subscriber, hub) on a real or embedded Redis, the real TUI driven through
// charmbracelet/x/exp/teatest, and for launches the API sandbox through the real
// client. Screens are compared with golden files (-update rewrites them).
package teatest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"github.com/redis/go-redis/v9"

	"mavtop/client"
	"mavtop/cmd"
	"mavtop/demo"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// now is the clock of every screen: ages, periods and charts are then the same
// on every run.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func TestMain(m *testing.M) {
	time.Local = time.UTC
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// rig is one dashboard on one Redis.
type rig struct {
	t        *testing.T
	srv      *feedtest.Server
	rdb      redis.UniversalClient
	pub      *feed.Publisher
	ids      *feed.ClockIDs // shared by every writer of the stream (feed.ClockIDs)
	settings *feed.SettingsStore
	hub      *feed.Hub
	tm       *teatest.TestModel
	cancel   context.CancelFunc
	seen     []byte // all output so far (teatest hands each byte over once)
}

type rigOption func(*tui.Options)

func newRig(t *testing.T, w, h int, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, srv: feedtest.Start(t)}
	r.rdb = r.srv.Client()
	// every entry's id by the screens' clock, as a producer on time writes
	// it: the burn and the age are dated by the ids (model.Event.At)
	r.ids = new(feed.ClockIDs)
	r.pub = feed.NewPublisher(r.rdb, feed.PublisherOptions{Now: clock, IDs: r.ids})
	r.settings = feed.NewSettingsStore(r.rdb, feed.StoreOptions{Now: clock, IDs: r.ids})
	r.start(w, h, opts...)
	// what a test publishes from here on arrives live, after the start snapshot
	r.waitFor("● connected")
	return r
}

// start runs the subscriber, the hub and the dashboard.
func (r *rig) start(w, h int, opts ...rigOption) *rig {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.hub = feed.NewHub()
	// No audits on a cadence: the screens' clock stands still, so none
	// would ever fall due, and a 402 from the stream would wait for its
	// confirmation forever (the dashboard alerts on a 402 once an audit has
	// seen the counters hold it, tui.Model.addRefusal); unaudited, it is
	// judged at once, as a real run's audit confirms a counted one within
	// feed.RefusalAuditWithin (cmd TestDashboardRingsOnlyForA402TheCountersHold).
	sub := feed.NewSubscriber(r.rdb, feed.SubscriberOptions{Now: clock, Block: 100 * time.Millisecond, AuditEvery: -1,
		Backoff: &feed.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	go func() { _ = r.hub.Run(ctx, sub) }()
	o := tui.Options{Source: r.hub.Join(), Now: clock, Renderer: lipgloss.DefaultRenderer(), ChartRedraw: -1}
	for _, f := range opts {
		f(&o)
	}
	r.tm = teatest.NewTestModel(r.t, tui.New(o), teatest.WithInitialTermSize(w, h))
	r.t.Cleanup(func() {
		_ = r.tm.Quit()
		cancel()
	})
	return r
}

// newLaunchRig is a dashboard of w×h on a real Redis that launches through
// the real client into the demo's API sandbox (its workspaces and settings, no
// traffic; a 20× clock, so sandbox jobs of 6–9 s finish in a fraction of a
// second), with the demo's retry queue.
func newLaunchRig(t *testing.T, w, h int) (*rig, *demo.Demo) {
	t.Helper()
	srv := feedtest.Start(t)
	d, err := demo.Start(context.Background(), demo.Options{Redis: srv.Client(), NoTraffic: true, Seed: 7, Clock: client.NewScaledClock(now, 20)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	r := &rig{t: t, srv: srv, rdb: srv.Client()}
	r.start(w, h, func(o *tui.Options) {
		o.Launcher = &cmd.ClientLauncher{Client: d.Client, Retries: d.Retries, Poll: 50 * time.Millisecond}
		o.ReadOnly = ""
	})
	return r, d
}

func (r *rig) setWorkspace(ws string, s model.Settings) {
	r.t.Helper()
	if err := r.settings.SetWorkspace(context.Background(), ws, s); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) track(evs ...model.Event) {
	r.t.Helper()
	for _, e := range evs {
		if e.TS == 0 {
			e.TS = now.Add(-time.Minute).UnixMilli()
		}
		if e.Status == 0 {
			e.Status = 200
		}
		if err := r.pub.Track(context.Background(), e); err != nil {
			r.t.Fatal(err)
		}
	}
}

// waitFor waits until the output so far shows every one of texts.
func (r *rig) waitFor(texts ...string) {
	r.t.Helper()
	// b is everything this call has read so far; r.seen what earlier calls read.
	teatest.WaitFor(r.t, r.tm.Output(), func(b []byte) bool {
		screen := ansi.Strip(string(r.seen) + string(b))
		for _, s := range texts {
			if !strings.Contains(screen, s) {
				return false
			}
		}
		r.seen = append(r.seen, b...)
		return true
	}, teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// screen quits and returns the final frame, without styles.
func (r *rig) screen() string {
	r.t.Helper()
	if err := r.tm.Quit(); err != nil {
		r.t.Fatal(err)
	}
	fm := r.tm.FinalModel(r.t, teatest.WithFinalTimeout(5*time.Second))
	return ansi.Strip(fm.View())
}

// requireGolden compares the final screen with testdata/<test>.golden.
func (r *rig) requireGolden() string {
	r.t.Helper()
	s := r.screen()
	golden.RequireEqual(r.t, []byte(s))
	return s
}

func (r *rig) send(msgs ...tea.Msg) {
	for _, m := range msgs {
		r.tm.Send(m)
	}
}

func keys(s string) []tea.Msg {
	var out []tea.Msg
	for _, k := range strings.Split(s, " ") {
		switch k {
		case "enter":
			out = append(out, tea.KeyMsg{Type: tea.KeyEnter})
		case "down":
			out = append(out, tea.KeyMsg{Type: tea.KeyDown})
		case "up":
			out = append(out, tea.KeyMsg{Type: tea.KeyUp})
		case "right":
			out = append(out, tea.KeyMsg{Type: tea.KeyRight})
		case "esc":
			out = append(out, tea.KeyMsg{Type: tea.KeyEsc})
		case "bs":
			out = append(out, tea.KeyMsg{Type: tea.KeyBackspace})
		default:
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
	return out
}
