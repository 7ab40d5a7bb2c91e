package tui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"mavtop/estimator"
	"mavtop/model"
)

// Job is what the estimator pane asks to launch.
type Job struct {
	Op        estimator.Operation
	Params    estimator.Params
	Workspace string
	Quote     estimator.Quote
}

// LaunchRequested is the estimator's intent: the user confirmed a job.
type LaunchRequested struct{ Job Job }

// QueueRequested is the estimator's intent to queue a job the API refused with
// 402; Refusal is the launch's error.
type QueueRequested struct {
	Job     Job
	Refusal error
}

// estPhase is where the pane is in a job's life.
type estPhase uint8

const (
	phaseEdit estPhase = iota
	phaseConfirm
	phaseRunning
	phaseDone
	phaseRefused
	phaseFailed
	phaseDisabled // this viewer may not launch: readOnly says why
)

// launchable are the operations the pane offers (listing personas costs nothing).
var launchable = []estimator.Operation{
	estimator.FocusGroup, estimator.Video, estimator.MaveSimple, estimator.MaveModerate,
	estimator.MaveComplex, estimator.Chat, estimator.Persona, estimator.BrandVoice,
}

// Estimator is the pane that prices a job against a workspace's live remaining
// credits, warns what it does to the period, and launches it after confirmation.
type Estimator struct {
	common
	op        int
	workspace string
	names     []string // workspaces, by name
	field     int      // 0 operation, 1 workspace, 2+ parameters
	inputs    map[estimator.Param]*textinput.Model

	// Computed on Refresh from the ledger.
	quote    estimator.Quote
	quoteErr error
	summary  model.Summary
	known    bool
	forecast model.Forecast

	phase    estPhase
	job      Job
	status   string
	started  time.Time
	result   LaunchResultMsg
	readOnly string // why launching is off for this viewer ("" = allowed)
	spin     spinner.Model
	width    int
	height   int
}

// NewEstimator returns the pane; readOnly, when set, says why launches are off.
func NewEstimator(c common, readOnly string) Estimator {
	e := Estimator{common: c, readOnly: readOnly, inputs: map[estimator.Param]*textinput.Model{}}
	defaults := map[estimator.Param]string{estimator.ParamSampleSize: "25", estimator.ParamQuestions: "5", estimator.ParamSeconds: "60"}
	for _, p := range []estimator.Param{estimator.ParamSampleSize, estimator.ParamQuestions, estimator.ParamSeconds} {
		ti := textinput.New()
		ti.Prompt = ""
		ti.CharLimit = 6
		ti.Width = 7
		ti.SetValue(defaults[p])
		e.inputs[p] = &ti
	}
	e.spin = spinner.New(spinner.WithSpinner(spinner.Dot))
	return e
}

func digitsOnly(s string) error {
	for _, r := range s {
		if r < '0' || r > '9' {
			return errors.New("digits only")
		}
	}
	return nil
}

// SetSize sets the content size.
func (e *Estimator) SetSize(w, h int) { e.width, e.height = w, h }

// Op returns the selected operation.
func (e Estimator) Op() estimator.Operation { return launchable[e.op] }

// Busy reports whether a job is running or waiting for confirmation, when the
// pane keeps the keyboard.
func (e Estimator) Busy() bool { return e.phase == phaseConfirm }

// Typing reports whether keys are input here (a number field has the cursor,
// or the launch question waits for y/n): q and ? are then not commands.
func (e Estimator) Typing() bool { return e.phase == phaseConfirm || e.field >= 2 }

// Running reports whether a launched job has not finished yet.
func (e Estimator) Running() bool { return e.phase == phaseRunning }

// JobName names the job launched last: "focus_group in acme".
func (e Estimator) JobName() string { return fmt.Sprintf("%s in %s", e.job.Op, e.job.Workspace) }

// canQueue reports whether r would queue the job the API just refused.
func (e Estimator) canQueue() bool { return e.phase == phaseRefused && e.result.Queueable }

// Focus points the pane at a workspace (the one selected in the gauges).
func (e *Estimator) Focus(ws string) {
	if e.phase != phaseRunning && ws != "" {
		e.workspace = ws
	}
}

func (e *Estimator) params() []estimator.Param { return e.Op().Params() }

func (e *Estimator) fields() int { return 2 + len(e.params()) }

// Refresh re-prices the job and reads the workspace's live budget from the ledger.
func (e *Estimator) Refresh(l *model.Ledger) {
	e.names = l.Names(e.names[:0])
	slices.Sort(e.names)
	if e.workspace == "" && len(e.names) > 0 {
		e.workspace = e.names[0]
	}
	e.summary, e.known = l.Summary(e.workspace)
	e.forecast = l.Forecast(e.workspace, e.now())
	var p estimator.Params
	e.quoteErr = nil
	for _, param := range e.params() {
		n, err := strconv.Atoi(e.inputs[param].Value())
		if err != nil {
			e.quoteErr = fmt.Errorf("%s: enter a whole number", param)
			break
		}
		switch param {
		case estimator.ParamSampleSize:
			p.SampleSize = n
		case estimator.ParamQuestions:
			p.Questions = n
		case estimator.ParamSeconds:
			p.Seconds = n
		}
	}
	if e.quoteErr == nil {
		e.quote, e.quoteErr = estimator.Estimate(e.Op(), p)
	}
}

// remaining returns the workspace's spendable credits and whether any budget is set.
func (e *Estimator) remaining() (int64, bool) {
	return e.summary.Remaining, e.known && e.summary.RemainingKnown
}

// Update handles the pane's keys and the job's messages.
func (e Estimator) Update(msg tea.Msg) (Estimator, tea.Cmd) {
	switch msg := msg.(type) {
	case JobProgressMsg:
		e.status = msg.Status
		return e, nil
	case LaunchResultMsg:
		e.result = msg
		switch {
		case msg.Err == nil:
			e.phase = phaseDone
		case msg.Refused:
			e.phase = phaseRefused
		default:
			e.phase = phaseFailed
		}
		return e, nil
	case spinner.TickMsg:
		if e.phase != phaseRunning {
			return e, nil
		}
		var cmd tea.Cmd
		e.spin, cmd = e.spin.Update(msg)
		return e, cmd
	case tea.KeyMsg:
		return e.handleKey(msg)
	}
	return e, nil
}

func (e Estimator) handleKey(k tea.KeyMsg) (Estimator, tea.Cmd) {
	km := e.km
	if e.phase == phaseConfirm {
		switch {
		case key.Matches(k, km.Confirm):
			e.phase, e.status, e.started = phaseRunning, "pre-flight check", e.now()
			job := e.job
			return e, tea.Batch(e.spin.Tick, func() tea.Msg { return LaunchRequested{Job: job} })
		case key.Matches(k, km.Cancel):
			e.phase = phaseEdit
		}
		return e, nil
	}
	if e.phase == phaseRefused && key.Matches(k, km.Queue) && e.result.Queueable {
		job, refusal := e.job, e.result.Err
		e.phase, e.status = phaseEdit, ""
		return e, func() tea.Msg { return QueueRequested{Job: job, Refusal: refusal} }
	}
	switch {
	case key.Matches(k, km.NextField):
		e.setField(e.field + 1)
	case key.Matches(k, km.PrevField):
		e.setField(e.field - 1)
	case key.Matches(k, km.NextOption), key.Matches(k, km.PrevOption):
		d := 1
		if key.Matches(k, km.PrevOption) {
			d = -1
		}
		switch e.field {
		case 0:
			e.op = (e.op + d + len(launchable)) % len(launchable)
			e.phase = phaseEdit
		case 1:
			e.workspace = cycle(e.names, e.workspace, d)
			e.phase = phaseEdit
		default:
			return e.updateInput(k)
		}
	case key.Matches(k, km.Launch):
		return e.requestLaunch()
	default:
		if e.field >= 2 {
			return e.updateInput(k)
		}
	}
	return e, nil
}

func (e *Estimator) setField(f int) {
	n := e.fields()
	e.field = (f + n) % n
	for _, ti := range e.inputs {
		ti.Blur()
	}
	if e.field >= 2 {
		e.inputs[e.params()[e.field-2]].Focus()
	}
}

func (e Estimator) updateInput(k tea.KeyMsg) (Estimator, tea.Cmd) {
	if k.Type == tea.KeyRunes && digitsOnly(string(k.Runes)) != nil {
		return e, nil // numbers only; a letter would be a silent zero later
	}
	ti := e.inputs[e.params()[e.field-2]]
	var cmd tea.Cmd
	*ti, cmd = ti.Update(k)
	e.phase = phaseEdit
	return e, cmd
}

// requestLaunch checks what the pane knows and either asks for confirmation, or
// shows why the job cannot go (bad input, read-only, not affordable).
func (e Estimator) requestLaunch() (Estimator, tea.Cmd) {
	if e.phase == phaseRunning || e.quoteErr != nil || e.workspace == "" {
		return e, nil
	}
	e.job = Job{Op: e.Op(), Params: e.quote.Params, Workspace: e.workspace, Quote: e.quote}
	if rem, ok := e.remaining(); ok {
		if err := estimator.Preflight(e.quote, rem); err != nil {
			var ie *estimator.InsufficientCreditsError
			if errors.As(err, &ie) {
				ie.Workspace = e.workspace
			}
			e.phase = phaseRefused
			e.result = LaunchResultMsg{LaunchResult: LaunchResult{Refused: true, Message: err.Error(), ActionURL: model.BillingURL}, Err: err}
			return e, nil
		}
	}
	if e.readOnly != "" {
		e.phase = phaseDisabled
		return e, nil
	}
	e.phase = phaseConfirm
	return e, nil
}

// View draws the form, the price, the live verdict, the look-ahead and the job.
// When the pane is low, what explains (the price's basis, the look-ahead) goes
// before what the operator must see: the form, the price, the verdict and the
// job's question, progress and result.
func (e Estimator) View() string {
	if e.width <= 0 || e.height <= 0 {
		return ""
	}
	st := e.st
	type block struct {
		lines []string
		drop  int // 0: always shown; higher: dropped first when space is short
	}
	var blocks []block
	add := func(drop int, s string) { blocks = append(blocks, block{[]string{fit(s, e.width)}, drop}) }
	// long sentences (prices, verdicts, refusals) wrap rather than lose their advice
	wrap := func(drop int, s string) { blocks = append(blocks, block{wrapLines(s, e.width, 2), drop}) }
	label := func(i int, s string) string {
		if i == e.field {
			return st.Selected.Render("▸" + s)
		}
		return st.Dim.Render(" " + s)
	}
	ws := e.workspace
	if ws == "" {
		ws = "(no workspace yet)"
	}
	wrap(0, label(0, "operation")+" ◂ "+st.Bold.Render(pad(string(e.Op()), 13))+" ▸  "+label(1, "workspace")+" ◂ "+st.Bold.Render(shorten(model.Sanitize(ws), max(e.width-40, 12)))+" ▸")
	var inputs []string
	for i, p := range e.params() {
		inputs = append(inputs, label(2+i, string(p))+" ["+pad(e.inputs[p].View(), 7)+"]")
	}
	if len(inputs) == 0 {
		inputs = append(inputs, st.Dim.Render("fixed price: no parameters"))
	}
	wrap(0, strings.Join(inputs, "  "))
	if e.quoteErr != nil {
		wrap(0, st.InputError.Render("✖ "+e.quoteErr.Error()))
	} else {
		q := e.quote
		wrap(0, fmt.Sprintf("range %s–%s credits · upper bound %s + 20 %% buffer %s = %s required",
			credits(q.Low), credits(q.High), st.Bold.Render(credits(q.Estimate)), credits(q.Buffer), st.Bold.Render(credits(q.Required))))
		if q.Basis != "" {
			add(3, st.Dim.Render(q.Basis))
		}
	}
	rem, hasBudget := e.remaining()
	switch {
	case !e.known:
		add(1, st.Dim.Render("no usage or settings seen for this workspace yet"))
	case !hasBudget:
		wrap(1, st.Warn.Render("no allocation or usage limit set for "+e.workspace+": nothing to check the job against"))
	default:
		add(1, fmt.Sprintf("remaining in %s: %s credits (live) · %s used", e.workspace, st.Bold.Render(credits(rem)), percentOrDash(e.summary)))
	}
	if e.quoteErr == nil && hasBudget {
		if ok, msg := estimator.Verdict(e.quote, rem); ok {
			wrap(2, st.Good.Render("✓ affordable: "+msg))
		} else {
			wrap(0, st.Bad.Render("✖ not affordable: "+msg))
		}
		if out := e.outlook(); out != "" {
			wrap(2, st.Warn.Render("⚠ "+out))
		}
	}
	var job []string // the question, progress or result: shown whatever the height
	for _, l := range e.jobLines() {
		job = append(job, wrapLines(l, e.width, 2)...)
	}
	if len(job) > 0 {
		add(4, "")
	}
	total := func() int {
		n := len(job)
		for _, b := range blocks {
			n += len(b.lines)
		}
		return n
	}
	for drop := 4; drop > 0 && total() > e.height; drop-- {
		for i := len(blocks) - 1; i >= 0 && total() > e.height; i-- {
			if blocks[i].drop == drop {
				blocks = append(blocks[:i], blocks[i+1:]...)
			}
		}
	}
	var lines []string
	for _, b := range blocks {
		lines = append(lines, b.lines...)
	}
	if len(job) >= e.height {
		job = job[:e.height]
	}
	lines = append(lines[:min(len(lines), e.height-len(job))], job...)
	return strings.Join(lines, "\n")
}

func percentOrDash(s model.Summary) string {
	if !s.HasCap() {
		return credits(s.Used) + " credits"
	}
	return percent(s.Percent)
}

// outlook is the estimator's look-ahead for the current job, "" when nothing to warn.
func (e Estimator) outlook() string {
	s := e.summary
	if !s.HasCap() {
		return ""
	}
	o, err := estimator.LookAhead(estimator.Budget{
		Workspace: e.workspace, Used: s.Used, Allocation: s.Cap, Thresholds: s.Thresholds,
		BurnPerHour: e.forecast.BurnPerHour, PeriodLeft: e.forecast.Left,
	}, e.quote.Estimate)
	if err != nil {
		return ""
	}
	return o.Message
}

func (e Estimator) jobLines() []string {
	st := e.st
	j := e.job
	what := fmt.Sprintf("%s in %s", j.Op, j.Workspace)
	switch e.phase {
	case phaseConfirm:
		return []string{st.Warn.Render(fmt.Sprintf("Launch %s, up to %s credits (%s with buffer)? y to launch, n to cancel",
			what, credits(j.Quote.Estimate), credits(j.Quote.Required)))}
	case phaseRunning:
		return []string{fmt.Sprintf("%s %s: %s · %s", e.spin.View(), what, e.status, humanize(e.now().Sub(e.started)))}
	case phaseDone:
		r := e.result
		ratio := ""
		if j.Quote.Estimate > 0 {
			ratio = fmt.Sprintf(" (%.0f %% of estimate)", float64(r.Actual)*100/float64(j.Quote.Estimate))
		}
		return []string{st.Good.Render(fmt.Sprintf("✓ %s done: actual %s credits vs estimate %s%s", what, credits(r.Actual), credits(j.Quote.Estimate), ratio)),
			st.Dim.Render(orDash(r.JobID))}
	case phaseRefused:
		r := e.result
		out := []string{st.Bad.Render("✖ refused: " + r.Message)}
		if r.ActionURL != "" {
			out = append(out, st.Dim.Render("  "+r.ActionURL))
		}
		if r.Queueable {
			out = append(out, st.Warn.Render("  press r to queue it: it is retried once credits rise above its estimate"))
		}
		return out
	case phaseFailed:
		return []string{st.Bad.Render("✖ failed: " + e.result.Message)}
	case phaseDisabled:
		return []string{st.Warn.Render("launch disabled: " + e.readOnly)}
	}
	if e.readOnly != "" {
		return []string{st.Dim.Render("launch disabled: " + e.readOnly)}
	}
	return nil
}

// cycle returns the name d steps from cur in names, wrapping.
func cycle(names []string, cur string, d int) string {
	if len(names) == 0 {
		return cur
	}
	i := 0
	for j, n := range names {
		if n == cur {
			i = j
		}
	}
	return names[(i+d+len(names))%len(names)]
}
