package teatest

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/cmd"
	"mavtop/demo"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// TestEstimatorLaunchAt80x24: on the smallest usual terminal, the launch's
// question, its progress and its result (actual vs estimate) are all drawn.
func TestEstimatorLaunchAt80x24(t *testing.T) {
	srv := feedtest.Start(t)
	scaled := client.NewScaledClock(now, 20)
	d, err := demo.Start(context.Background(), demo.Options{Redis: srv.Client(), NoTraffic: true, Seed: 7, Clock: scaled})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	r := &rig{t: t, srv: srv, rdb: srv.Client()}
	r.start(80, 24, func(o *tui.Options) {
		o.Launcher = &cmd.ClientLauncher{Client: d.Client, Retries: d.Retries, Poll: 50 * time.Millisecond}
		o.ReadOnly = ""
	})
	r.waitFor("acme-prod")
	r.send(keys("e")...)
	r.waitFor("remaining in acme-prod: 12,000,000 credits")
	r.send(keys("enter")...)
	r.waitFor("Launch focus-group in acme-prod, up to 85 credits", "y confirm")
	r.send(keys("y")...)
	r.waitFor("focus-group in acme-prod: ") // the running line: spinner, status, time
	r.waitFor("focus-group in acme-prod done: actual")
	s := r.screen()
	if !regexp.MustCompile(`done: actual \d+ credits vs estimate 85`).MatchString(s) {
		t.Fatalf("no actual vs estimate at 80x24:\n%s", s)
	}
	lines := strings.Split(s, "\n")
	if len(lines) != 24 || !strings.Contains(lines[23], "? help") || !strings.Contains(lines[23], "q quit") {
		t.Fatalf("footer or height wrong at 80x24:\n%s", s)
	}
}

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

// TestEstimatorQueuesAndCancelsAt80x24: a job refused for want of credits is
// queued with r, listed with what it waits for (the numbers Redis holds), and
// cancelled with x then y; Redis holds the job, then nothing.
func TestEstimatorQueuesAndCancelsAt80x24(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Redis: srv.Client(), NoTraffic: true, Seed: 7, Clock: client.NewScaledClock(now, 20)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{Now: clock}).SetWorkspace(ctx, "tight", model.Settings{Allocation: 50}); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, srv: srv, rdb: srv.Client()}
	r.start(80, 24, func(o *tui.Options) {
		o.Launcher = &cmd.ClientLauncher{Client: d.Client, Retries: d.Retries, Poll: 50 * time.Millisecond}
		o.ReadOnly = ""
	})
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
	if n := srv.Client().HLen(ctx, d.Retries.Key()).Val(); n != 0 {
		t.Fatalf("Redis still holds %d queued jobs", n)
	}
	s := r.screen()
	if strings.Contains(s, "Retry queue") {
		t.Fatalf("the cancelled job is still listed:\n%s", s)
	}
}
