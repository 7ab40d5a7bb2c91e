package tui

import (
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"mavtop/estimator"
	"mavtop/model"
)

// newPane returns an estimator on focus-group for workspace ws of testLedger.
func newPane(t *testing.T, ws string, readOnly string) (Estimator, *model.Ledger) {
	l := testLedger(t)
	e := NewEstimator(testCommon(), readOnly)
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
	e, _ := newPane(t, "d", "") // d: 50 remaining, focus group needs 162
	e, cmd := e.Update(press("enter"))
	if cmd != nil || e.phase != phaseRefused {
		t.Fatalf("launched anyway: phase %d", e.phase)
	}
	view := ansi.Strip(e.View())
	if !strings.Contains(view, "only 50 remaining in d") || !strings.Contains(view, "reduce sample size / questions") {
		t.Fatalf("refusal message:\n%s", view)
	}
	// the pane's own check is not an API 402: nothing to queue
	if _, cmd = e.Update(press("r")); cmd != nil {
		t.Fatal("queued a job the API never refused")
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
