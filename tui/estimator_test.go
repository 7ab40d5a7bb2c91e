package tui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
)

// newPane returns an estimator on focus-group for workspace ws of testLedger.
func newPane(t *testing.T, ws string, readOnly string) (Estimator, *model.Ledger) {
	l := testLedger(t)
	e := NewEstimator(testCommon(), readOnly, nil)
	e.SetSize(100, 14)
	e.Focus(ws)
	e.Refresh(l)
	if e.Op() != estimator.FocusGroup {
		t.Fatalf("default op %s", e.Op())
	}
	return e, l
}

// typeInto replaces the focused input's text.
func typeInto(e Estimator, s string) Estimator {
	for range 8 {
		e, _ = e.Update(press("backspace"))
	}
	for _, r := range s {
		e, _ = e.Update(press(string(r)))
	}
	return e
}

func intent(cmd tea.Cmd) tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			if m := intent(c); m != nil {
				if _, isLaunch := m.(LaunchRequested); isLaunch {
					return m
				}
			}
		}
		return nil
	}
	return msg
}

func TestEstimatorPricesAsYouType(t *testing.T) {
	e, l := newPane(t, "a", "") // a: 900 remaining
	e, _ = e.Update(press("down"))
	e, _ = e.Update(press("down")) // sample size
	e = typeInto(e, "40")
	e, _ = e.Update(press("down")) // questions
	e = typeInto(e, "6")
	e.Refresh(l)
	if q := e.quote; q.Estimate != 137 || q.Buffer != 27 || q.Required != 164 {
		t.Fatalf("quote %+v", q)
	}
	view := ansi.Strip(e.View())
	for _, want := range []string{"upper bound 137", "20 % buffer 27 = 164 required", "remaining in a: 900", "✓ affordable"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	e = typeInto(e, "0")
	e.Refresh(l)
	if e.quoteErr == nil || !strings.Contains(ansi.Strip(e.View()), "✖") {
		t.Fatalf("zero questions accepted: %v", e.quoteErr)
	}
	e = typeInto(e, "x") // not a digit: the input refuses it
	if e.inputs[estimator.ParamQuestions].Value() != "" {
		t.Fatalf("input took a letter: %q", e.inputs[estimator.ParamQuestions].Value())
	}
}

func TestEstimatorConfirmsThenLaunches(t *testing.T) {
	e, _ := newPane(t, "a", "")
	e, cmd := e.Update(press("enter"))
	if cmd != nil || e.phase != phaseConfirm {
		t.Fatalf("enter should ask first: phase %d", e.phase)
	}
	if !strings.Contains(ansi.Strip(e.View()), "y to launch") {
		t.Fatalf("no confirmation shown:\n%s", ansi.Strip(e.View()))
	}
	e, cmd = e.Update(press("y"))
	msg, ok := intent(cmd).(LaunchRequested)
	if !ok || msg.Job.Workspace != "a" || msg.Job.Op != estimator.FocusGroup || msg.Job.Quote.Estimate != 75+10 {
		t.Fatalf("intent %#v", intent(cmd))
	}
	if e.phase != phaseRunning {
		t.Fatalf("phase %d", e.phase)
	}
	e, _ = e.Update(JobProgressMsg{Status: "generating"})
	e, _ = e.Update(LaunchResultMsg{LaunchResult: LaunchResult{Actual: 120, JobID: "fg_1"}})
	view := ansi.Strip(e.View())
	if e.phase != phaseDone || !strings.Contains(view, "actual 120 credits vs estimate 85 (141 % of estimate)") {
		t.Fatalf("result not shown:\n%s", view)
	}
}

func TestEstimatorRefusesWhatItCannotAfford(t *testing.T) {
	e, _ := newPane(t, "d", "") // d: 50 remaining, a focus group of 25 needs 102
	e, cmd := e.Update(press("enter"))
	if e.phase != phaseRefused {
		t.Fatalf("launched anyway: phase %d", e.phase)
	}
	// no launch: the refusal itself, for the dashboard's log
	var ie *estimator.InsufficientCreditsError
	if r, ok := intent(cmd).(PreflightRefused); !ok || r.Job.Workspace != "d" || r.Job.Quote.Required != 102 ||
		!errors.As(r.Err, &ie) || ie.Remaining != 50 || ie.Workspace != "d" {
		t.Fatalf("refusal intent %#v", intent(cmd))
	}
	view := ansi.Strip(e.View())
	if !strings.Contains(view, "only 50 remaining in d") || !strings.Contains(view, "reduce sample size / questions") {
		t.Fatalf("refusal message:\n%s", view)
	}
	// said once: the live verdict above the refusal repeated its sentence
	if n := strings.Count(strings.Join(strings.Fields(view), " "), "Please add credits"); n != 1 || strings.Contains(view, "not affordable") {
		t.Fatalf("the refusal's sentence shown %d times:\n%s", n, view)
	}
	// refused for want of credits, by the pane's own check: r queues it, with
	// the refusal (how much was left) for the launcher to build the retry job
	if !strings.Contains(view, "press r to queue it: it is retried once d has 102 left") {
		t.Fatalf("no queue offer:\n%s", view)
	}
	_, cmd = e.Update(press("r"))
	msg, ok := intent(cmd).(QueueRequested)
	if !ok || msg.Job.Workspace != "d" || msg.Job.Quote.Required != 102 || !errors.As(msg.Refusal, &ie) || ie.Remaining != 50 {
		t.Fatalf("queue intent %#v", intent(cmd))
	}
	// a read-only viewer is refused the same way, but may not queue
	ro, _ := newPane(t, "d", "this SSH key may not launch jobs")
	ro, _ = ro.Update(press("enter"))
	if _, cmd = ro.Update(press("r")); cmd != nil || strings.Contains(ansi.Strip(ro.View()), "press r") {
		t.Fatalf("a read-only viewer may queue:\n%s", ansi.Strip(ro.View()))
	}
}

func TestEstimatorOffersQueueAfterAPIRefusal(t *testing.T) {
	e, _ := newPane(t, "a", "")
	e, _ = e.Update(press("enter"))
	e, _ = e.Update(press("y"))
	// as the launcher classifies an API 402 (cmd's clientLauncher, tested there)
	advice := model.RefusalAdvice(model.CodeCreditsExhausted)
	e, _ = e.Update(LaunchResultMsg{LaunchResult: LaunchResult{Refused: true, Queueable: true, Message: advice.Message, ActionURL: advice.ActionURL},
		Err: errors.New("402 credits_exhausted")})
	if e.phase != phaseRefused || !strings.Contains(ansi.Strip(e.View()), "press r to queue") {
		t.Fatalf("phase %d:\n%s", e.phase, ansi.Strip(e.View()))
	}
	_, cmd := e.Update(press("r"))
	if msg, ok := intent(cmd).(QueueRequested); !ok || msg.Job.Workspace != "a" {
		t.Fatalf("queue intent %#v", intent(cmd))
	}
}

func TestEstimatorReadOnly(t *testing.T) {
	e, _ := newPane(t, "a", "this SSH key may not launch jobs")
	e, cmd := e.Update(press("enter"))
	if cmd != nil {
		t.Fatal("read-only viewer got a launch intent")
	}
	if !strings.Contains(ansi.Strip(e.View()), "launch disabled: this SSH key may not launch jobs") {
		t.Fatalf("no reason shown:\n%s", ansi.Strip(e.View()))
	}
}

func TestEstimatorCyclesOperationsAndWorkspaces(t *testing.T) {
	e, l := newPane(t, "a", "")
	e, _ = e.Update(press("right"))
	if e.Op() != estimator.Video {
		t.Fatalf("op %s", e.Op())
	}
	e, _ = e.Update(press("down"))
	e, _ = e.Update(press("right"))
	e.Refresh(l)
	if e.workspace != "b" {
		t.Fatalf("workspace %s", e.workspace)
	}
	if e.quote.Op != estimator.Video || e.quote.Estimate != 400 { // 60 s: the 60–179 s band
		t.Fatalf("video quote %+v (%v)", e.quote, e.quoteErr)
	}
}

// TestEstimatorRetryQueue: the queue is listed with what each job waits for
// (from the ledger's live remaining), the selection stays on its job when
// others arrive or leave, x asks and y cancels the selected one, and the
// help lists the queue keys only when they do something.
func TestEstimatorRetryQueue(t *testing.T) {
	l := &queueLauncher{}
	m := busyApp(t, 100, 30, Options{Launcher: l})
	helpKeys := func(m Model) string {
		var s []string
		for _, b := range m.est.ShortHelp() {
			if b.Enabled() {
				s = append(s, b.Help().Key)
			}
		}
		return strings.Join(s, " ")
	}
	m = update(t, m, press("e"))
	if strings.Contains(helpKeys(m), "x") {
		t.Fatalf("x offered with an empty queue: %s", helpKeys(m))
	}
	q := testQueue()
	m = update(t, m, QueueListMsg{Jobs: q[:1]})
	m = update(t, m, press("]")) // one job: stays on it
	if m.est.queueSel != "rj_1" {
		t.Fatalf("selected %q", m.est.queueSel)
	}
	// one job: its title offers x, not [ ] (they would move nowhere)
	m.render()
	if s := view(m); !strings.Contains(s, "Retry queue · 1 waiting · x cancel") || strings.Contains(s, "[ ] select") {
		t.Fatalf("one queued job: the title must offer x cancel and not [ ] select:\n%s", s)
	}
	// a job queued before it (another mavtop's, listed first): still rj_1
	m = update(t, m, QueueListMsg{Jobs: []QueuedJob{{ID: "rj_0", Op: estimator.Chat, Workspace: "ok-ws", Wait: estimator.Waiting{Required: 6}}, q[0], q[1]}})
	if m.est.queueSel != "rj_1" {
		t.Fatalf("selection moved to %q when a job arrived", m.est.queueSel)
	}
	m = update(t, m, press("]"))
	m.render()
	s := view(m)
	for _, want := range []string{"Retry queue · 3 waiting", "waiting: needs 102, 0 left", "▸ focus-group   crit-ws", "waiting: needs 16,581, 70 left", "due: 8,800 left covers 6"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(helpKeys(m), "x") {
		t.Errorf("x not offered: %s", helpKeys(m))
	}
	// the selected job leaves (retried elsewhere): the one now at its place
	m = update(t, m, QueueListMsg{Jobs: q[:1]})
	if m.est.queueSel != "rj_1" {
		t.Fatalf("selected %q after rj_2 left", m.est.queueSel)
	}
	m = update(t, m, QueueListMsg{Jobs: q})
	m = update(t, m, press("]"), press("x"))
	if s := view(m); !strings.Contains(s, "Cancel the queued focus-group in crit-ws? y to cancel it") {
		t.Fatalf("no question:\n%s", s)
	}
	// q while asking is not quit; n keeps the job
	tm, cmd := m.Update(press("q"))
	m = tm.(Model)
	if cmd != nil {
		t.Fatal("q while asking did something")
	}
	m = update(t, m, press("x"))
	tm, cmd = m.Update(press("y"))
	m = tm.(Model)
	msg := cmd()
	if c, ok := msg.(CancelRequested); !ok || c.Job.ID != "rj_2" {
		t.Fatalf("intent %#v", msg)
	}
	tm, cmd = m.Update(msg)
	m = update(t, tm.(Model), cmd())
	if len(l.cancelled) != 1 || l.cancelled[0] != "rj_2" {
		t.Fatalf("cancelled %v", l.cancelled)
	}
	if !strings.Contains(m.notice, "cancelled the queued focus-group in crit-ws") {
		t.Errorf("notice %q", m.notice)
	}
	// gone from the list in the frame that says so, before the queue is
	// read again (the frame said "cancelled" above "1 waiting" until then)
	for _, j := range m.est.queue {
		if j.ID == "rj_2" {
			t.Errorf("the cancelled job is still listed: %+v", m.est.queue)
		}
	}
}

// TestEstimatorJobsFromLiveAndReadBackEntries: launches read back after the
// start (history pages, newest first, arriving after live ones) join the
// recent jobs and the calibration once each, in time order.
func TestEstimatorJobsFromLiveAndReadBackEntries(t *testing.T) {
	m, hub := newApp(t, 200, 50, Options{})
	evs := jobEvents() // 10-0 … 13-0, oldest first
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs[2:]})
	hub.Handle(&feed.HistoryMsg{Gen: 1, Events: []model.Event{evs[1], evs[0]}, From: testNow.Add(-time.Hour)})
	hub.Handle(&feed.HistoryMsg{Gen: 1, Events: []model.Event{evs[0]}, From: testNow.Add(-time.Hour), Done: true})
	m = pump(t, m)
	m = update(t, m, press("e"))
	s := view(m)
	for _, want := range []string{
		"11:55:00 focus-group", "11:50:00 chat", "11:40:00 focus-group   ok-ws", "11:30:00 focus-group",
		// ratios said as ratios, and what a recent job's percent is of
		"focus-group      2       170       178  1.05× 1.14×      50 %", "actual ÷ estimate",
		"est 5      actual 4 (80 % of est)", "actual 81 (95.2 % of est)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if i, j := strings.Index(s, "11:55:00"), strings.Index(s, "11:30:00"); i > j {
		t.Errorf("recent jobs not newest first:\n%s", s)
	}
}

// TestEstimatorFormKeepsTheWorkspaceWhole: the workspace a job launches in
// shares the operation's line when both fit, else has a line of its own,
// whole; only a pane narrower than the name shortens it (in the middle).
func TestEstimatorFormKeepsTheWorkspaceWhole(t *testing.T) {
	const ws = "umbrella-research-team-alpha"
	for _, tt := range []struct {
		w         int
		lines     int // form lines before the sizes
		workspace string
	}{
		{100, 1, "workspace ◂ " + ws + " ▸"},
		{58, 2, "workspace ◂ " + ws + " ▸"},
		{30, 2, "workspace ◂ umbrell…m-alpha ▸"},
	} {
		e := NewEstimator(testCommon(), "", nil)
		e.SetSize(tt.w, 20)
		e.Focus(ws)
		lines := strings.Split(ansi.Strip(e.View()), "\n")
		sizes := -1
		for i, l := range lines {
			if strings.Contains(l, "sample-size [") {
				sizes = i
				break
			}
		}
		form := strings.Join(lines[:max(sizes, 0)], "\n")
		if sizes != tt.lines || !strings.Contains(form, "▸operation ◂ focus-group") || !strings.Contains(form, tt.workspace) {
			t.Errorf("width %d: want the workspace as %q in %d line(s):\n%s", tt.w, tt.workspace, tt.lines, strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if cellWidth(l) > tt.w {
				t.Errorf("width %d: a line of %d cells: %q", tt.w, cellWidth(l), l)
			}
		}
	}
}

// TestEstimatorNamesFollowTheLedger: the pane's workspaces are listed and
// sorted again only when the ledger's change (not at every frame), and a
// workspace that appears is offered, in name order.
func TestEstimatorNamesFollowTheLedger(t *testing.T) {
	e, l := newPane(t, "", "")
	before := slices.Clone(e.names)
	e.Refresh(l)
	if !slices.Equal(e.names, before) {
		t.Fatalf("names changed with the ledger unchanged: %v, then %v", before, e.names)
	}
	l.SetSettings("0new", model.Settings{Allocation: 100}, time.Now().UnixMilli())
	e.Refresh(l)
	if len(e.names) != len(before)+1 || e.names[0] != "0new" || !slices.IsSorted(e.names) {
		t.Errorf("after a new workspace: %v (before %v)", e.names, before)
	}
}

// TestEstimatorRefusesAWorkspaceTheAPIRefuses: a workspace OUT by a
// credits_exhausted 402 newer than its last credit (model.Summary.Blocked)
// has no credits to launch into, whatever its counters leave: the pane said
// "✓ affordable: … 900 remaining" and launched into a known 402.
func TestEstimatorRefusesAWorkspaceTheAPIRefuses(t *testing.T) {
	l := testLedger(t) // a: 100 used of 1,000
	l.Apply(&model.Event{TS: testNow.Add(-30 * time.Second).UnixMilli(), Workspace: "a", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	if s, _ := l.Summary("a"); !s.Blocked || s.Remaining != 900 {
		t.Fatalf("the ledger: blocked %v, remaining %d; want blocked with 900 left by the counters", s.Blocked, s.Remaining)
	}
	e := NewEstimator(testCommon(), "", nil)
	e.SetSize(100, 14)
	e.Focus("a")
	e.Refresh(l)
	view := ansi.Strip(e.View())
	if strings.Contains(view, "affordable: ") && !strings.Contains(view, "not affordable") || !strings.Contains(view, "402 credits_exhausted") {
		t.Fatalf("before launch:\n%s", view)
	}
	e, cmd := e.Update(press("enter"))
	var ie *estimator.InsufficientCreditsError
	if r, ok := intent(cmd).(PreflightRefused); e.phase != phaseRefused || !ok || !errors.As(r.Err, &ie) || ie.Remaining != 0 {
		t.Fatalf("launched into a 402: phase %d, intent %#v", e.phase, intent(cmd))
	}
}
