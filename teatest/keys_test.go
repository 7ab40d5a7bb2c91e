package teatest

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/tui"
)

// TestQInsideANumberFieldDoesNotQuit: q typed into the estimator's sample
// size is ignored (digits only) and the dashboard keeps running.
func TestQInsideANumberFieldDoesNotQuit(t *testing.T) {
	r := newRig(t, 100, 30)
	r.setWorkspace("acme", model.Settings{Allocation: 10_000})
	r.track(model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 100})
	r.waitFor("1 % used")
	r.send(keys("e down down q bs bs 4 0")...)
	r.waitFor("medium focus group (26–50 respondents)") // the 40 arrived after the q
	s := r.screen()
	if !strings.Contains(s, "sample-size [40") {
		t.Fatalf("q reached the field or quit:\n%s", s)
	}
}

// TestSelectionStaysWhileRefusalsArrive: the selected 402 stays selected (▸,
// same request id) as newer ones arrive above it.
func TestSelectionStaysWhileRefusalsArrive(t *testing.T) {
	r := newRig(t, 120, 34)
	r.setWorkspace("acme", model.Settings{Allocation: 100})
	refuse := func(req string) model.Event {
		return model.Event{Workspace: "acme", Endpoint: "/focus-groups", Status: 402, Code: model.CodeCreditsExhausted, Msg: "out", Req: req}
	}
	r.track(refuse("req_first"), refuse("req_second"))
	r.waitFor("req_second")
	r.send(keys("l j")...) // focus the log, select the older one
	r.waitFor("▸ ")
	r.track(refuse("req_third"), refuse("req_fourth"))
	r.waitFor("req_fourth")
	s := r.screen()
	sel := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "│▸ ") || strings.Contains(l, "┃▸ ") {
			sel = l
		}
	}
	if !strings.Contains(sel, "req_first") {
		t.Fatalf("the selection moved off req_first: %q\n%s", sel, s)
	}
}

// TestFocusVisibleWithoutColour: with no colour at all (the rig's Ascii
// profile), the focused pane and the selected row are still marked.
func TestFocusVisibleWithoutColour(t *testing.T) {
	r := newRig(t, 100, 30)
	r.setWorkspace("acme", model.Settings{Allocation: 100})
	r.track(model.Event{Workspace: "acme", Endpoint: "/focus-groups", Status: 402, Code: model.CodeCreditsExhausted, Msg: "out", Req: "req_1"})
	r.waitFor("req_1")
	r.send(keys("l")...)
	r.waitFor("▶ 402 refusals")
	s := r.screen()
	if strings.Contains(s, "▶ Workspaces") || !strings.Contains(s, "┏━ ▶ 402 refusals") {
		t.Fatalf("focus not marked on the 402 log:\n%s", s)
	}
	if !regexp.MustCompile(`┃▸ \d\d:\d\d:\d\d acme`).MatchString(s) {
		t.Fatalf("selected 402 not marked:\n%s", s)
	}
}

// TestEstimatorFieldFocusVisibleWithoutColour: with no colour, the focused
// estimator field is marked (▸) and only it, as tab moves the focus.
func TestEstimatorFieldFocusVisibleWithoutColour(t *testing.T) {
	r := newRig(t, 100, 30)
	r.setWorkspace("acme", model.Settings{Allocation: 10_000})
	r.track(model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 100})
	r.waitFor("1 % used")
	r.send(keys("e")...)
	r.waitFor("▸operation ◂ focus-group")
	r.send(keys("down down")...)
	r.waitFor("▸sample-size [")
	s := r.screen()
	if n := strings.Count(s, "▸operation") + strings.Count(s, "▸workspace") + strings.Count(s, "▸sample-size") + strings.Count(s, "▸questions"); n != 1 ||
		!strings.Contains(s, "▸sample-size [25") {
		t.Fatalf("%d fields marked, sample-size should be the one:\n%s", n, s)
	}
}

// blockingLauncher's jobs run until the test ends.
type blockingLauncher struct {
	tui.Launcher
	started chan tui.Job
}

func (l *blockingLauncher) Launch(ctx context.Context, job tui.Job, progress func(string)) (tui.LaunchResult, error) {
	l.started <- job
	progress("waiting for the test")
	<-ctx.Done()
	return tui.LaunchResult{}, ctx.Err()
}

func (l *blockingLauncher) Queued(context.Context) ([]tui.QueuedJob, error) { return nil, nil }

// TestQuitAsksWhileAJobRuns: with a paid job running, q asks before
// abandoning it and any key but y keeps the dashboard; ctrl+c quits at once.
func TestQuitAsksWhileAJobRuns(t *testing.T) {
	for _, quit := range []string{"q y", "ctrl+c"} {
		t.Run(quit, func(t *testing.T) {
			l := &blockingLauncher{started: make(chan tui.Job, 1)}
			r := newRig(t, 80, 24, func(o *tui.Options) { o.Launcher, o.ReadOnly = l, "" })
			r.setWorkspace("acme", model.Settings{Allocation: 10_000})
			r.track(model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 100})
			r.waitFor("1 % used")
			r.send(keys("e enter y")...)
			if job := <-l.started; job.Workspace != "acme" || job.Quote.Required != 102 {
				t.Fatalf("launched %+v", job)
			}
			r.waitFor("waiting for the test")
			if quit == "ctrl+c" {
				r.send(tea.KeyMsg{Type: tea.KeyCtrlC})
				r.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
				return
			}
			r.send(keys("q")...)
			r.waitFor("Quit and abandon the running focus-group in acme?")
			r.send(keys("n")...) // anything but y: stay
			r.track(model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 100})
			r.waitFor("remaining in acme: 9,800 credits") // still running, still drawing
			r.send(keys("q y")...)
			r.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
			if v := ansi.Strip(r.tm.FinalModel(t).View()); !strings.Contains(v, "waiting for the test") {
				t.Fatalf("the job was not running when y quit:\n%s", v)
			}
		})
	}
}

// TestEstimatorQueuesAndCancelsAt80x24: a job refused for want of credits is
// queued with r, listed with what it waits for (the numbers Redis holds), and
// cancelled with x then y; Redis holds the job, then nothing.
func TestEstimatorQueuesAndCancelsAt80x24(t *testing.T) {
	r, d := newLaunchRig(t, 80, 24)
	ctx := context.Background()
	if err := feed.NewSettingsStore(r.rdb, feed.StoreOptions{Now: clock, IDs: d.IDs}).SetWorkspace(ctx, "tight", model.Settings{Allocation: 50}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("tight")
	r.send(keys("/ t i g h t enter e")...)
	r.waitFor("remaining in tight: 50 credits")
	r.send(keys("enter")...)
	r.waitFor("press r to queue it: it is retried once tight has 102 left")
	r.send(keys("r")...)
	r.waitFor("Retry queue · 1 waiting", "▸ focus-group   tight", "waiting: needs 102, 50 left")
	jobs, err := d.Retries.List(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].Workspace != "tight" || jobs[0].Required != 102 || jobs[0].LastTriedRemaining != 50 {
		t.Fatalf("Redis holds %+v, %v", jobs, err)
	}
	r.send(keys("x")...)
	r.waitFor("Cancel the queued focus-group in tight? y to cancel it")
	r.send(keys("y")...)
	r.waitFor("cancelled the queued focus-group in tight")
	if n := r.rdb.HLen(ctx, d.Retries.Key()).Val(); n != 0 {
		t.Fatalf("Redis still holds %d queued jobs", n)
	}
	s := r.screen()
	if strings.Contains(s, "Retry queue") {
		t.Fatalf("the cancelled job is still listed:\n%s", s)
	}
}
