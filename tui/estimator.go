package tui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"weak"

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

// PreflightRefused is the pane's own pre-flight refusing a job (the workspace's
// live remaining credits are short of its required credits): no launcher ever
// sees it, so the dashboard records it in Options.Log itself. Err is the
// *estimator.InsufficientCreditsError, with the workspace set.
type PreflightRefused struct {
	Job Job
	Err error
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

// recentJobs is how many past launches the pane keeps for its list.
const recentJobs = 50

// Estimator is the pane that prices a job against a workspace's live remaining
// credits, warns what it does to the period, and launches it after confirmation.
type Estimator struct {
	common
	op        int
	workspace string
	names     []string // workspaces, by name
	// namesOf is the ledger names was listed from, at its Members and Len:
	// the names are listed and sorted again only when those change, not
	// at every frame (at 100k workspaces a sort of all names took 23-32
	// CPU-ms a frame while the pane was open).
	namesOf      weak.Pointer[model.Ledger]
	namesMembers uint64
	namesLen     int
	field        int // 0 operation, 1 workspace, 2+ parameters
	inputs       map[estimator.Param]*textinput.Model
	// nameW is the cells a workspace name gets in the queue and recent
	// jobs: the layout's one width for names in every pane (nameWidth).
	nameW int

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

	// The retry queue as last read, what each job waits for (from the
	// ledger's live remaining credits), and the one selected by id, so that
	// jobs arriving or leaving do not move the selection.
	queue      []QueuedJob
	queueErr   error
	queueState []estimator.RetryState
	queueSel   string
	askCancel  bool // x was pressed: the pane asks before cancelling

	// jobs is the launches the stream recorded (shared with the root, which
	// feeds it); recent and calib are read from it on Refresh.
	jobs   *estimator.JobLog
	recent []estimator.JobRecord
	calib  []estimator.CalibrationRow
}

// NewEstimator returns the pane; readOnly, when set, says why launches are off.
func NewEstimator(c common, readOnly string, jobs *estimator.JobLog) Estimator {
	if jobs == nil {
		jobs = estimator.NewJobLog(recentJobs)
	}
	e := Estimator{common: c, readOnly: readOnly, inputs: map[estimator.Param]*textinput.Model{}, jobs: jobs}
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

// Busy reports whether the pane asks a question (launch, or cancel a queued
// job) and so keeps the keyboard, esc included.
func (e Estimator) Busy() bool { return e.phase == phaseConfirm || e.askCancel }

// Typing reports whether keys are input here (a number field has the cursor,
// or a question waits for y/n): q and ? are then not commands.
func (e Estimator) Typing() bool { return e.Busy() || e.field >= 2 }

// Running reports whether a launched job has not finished yet.
func (e Estimator) Running() bool { return e.phase == phaseRunning }

// JobName names the job launched last: "focus_group in acme".
func (e Estimator) JobName() string { return fmt.Sprintf("%s in %s", e.job.Op, e.job.Workspace) }

// canQueue reports whether r would queue the job just refused.
func (e Estimator) canQueue() bool { return e.phase == phaseRefused && e.result.Queueable }

// Title is the pane's title; it counts the retry queue, so a low pane that
// has no room for the list still says jobs wait.
func (e Estimator) Title() string {
	if n := len(e.queue); n > 0 {
		return fmt.Sprintf("Estimator · %d queued · price a job, pre-flight it, launch it", n)
	}
	return "Estimator · price a job, pre-flight it, launch it"
}

// mayCancel reports whether x would offer to cancel the selected queued job.
func (e Estimator) mayCancel() bool { return len(e.queue) > 0 && e.readOnly == "" }

// selected returns the index of the selected queued job (-1: none).
func (e Estimator) selected() int {
	for i, j := range e.queue {
		if j.ID == e.queueSel {
			return i
		}
	}
	return -1
}

// SetQueue takes the retry queue as read. The selection stays on its job;
// when that job left, it moves to the one now at its place.
func (e *Estimator) SetQueue(jobs []QueuedJob, err error) {
	if err != nil {
		e.queueErr = err // keep the last list: a failed read empties nothing
		return
	}
	at := max(e.selected(), 0)
	e.queue, e.queueErr = jobs, nil
	if e.selected() < 0 {
		e.queueSel = ""
		if len(jobs) > 0 {
			e.queueSel = jobs[min(at, len(jobs)-1)].ID
		}
	}
	if e.askCancel && e.selected() < 0 {
		e.askCancel = false
	}
}

// DropQueued removes the job with this id from the retry queue's list, as a
// read of the queue after its removal from Redis would (the selection moves
// as SetQueue moves it).
func (e *Estimator) DropQueued(id string) {
	if !slices.ContainsFunc(e.queue, func(j QueuedJob) bool { return j.ID == id }) {
		return
	}
	e.SetQueue(slices.DeleteFunc(slices.Clone(e.queue), func(j QueuedJob) bool { return j.ID == id }), nil)
}

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
	if of := weak.Make(l); of != e.namesOf || l.Members() != e.namesMembers || l.Len() != e.namesLen {
		e.names = l.Names(e.names[:0])
		slices.Sort(e.names)
		e.namesOf, e.namesMembers, e.namesLen = of, l.Members(), l.Len()
	}
	if e.workspace == "" && len(e.names) > 0 {
		e.workspace = e.names[0]
	}
	e.summary, e.known = l.Summary(e.workspace)
	e.forecast = l.Forecast(e.workspace, e.now())
	e.queueState = e.queueState[:0]
	for _, j := range e.queue {
		s, ok := l.Summary(j.Workspace)
		rem, known := s.Spendable()
		e.queueState = append(e.queueState, j.Wait.State(rem, ok && known, e.now()))
	}
	e.recent = e.jobs.Recent(e.recent[:0])
	e.calib = e.jobs.Calibration()
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

// remaining returns the workspace's spendable credits and whether any budget
// is set (model.Summary.Spendable: none while the API refuses it).
func (e *Estimator) remaining() (int64, bool) {
	rem, known := e.summary.Spendable()
	return rem, e.known && known
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
	if e.askCancel {
		e.askCancel = false
		if i := e.selected(); i >= 0 && key.Matches(k, km.Confirm) {
			job := e.queue[i]
			return e, func() tea.Msg { return CancelRequested{Job: job} }
		}
		return e, nil // any other key: keep the job
	}
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
	case key.Matches(k, km.CancelQueued) && e.mayCancel():
		if e.selected() >= 0 {
			e.askCancel = true
		}
		return e, nil
	case key.Matches(k, km.QueueNext), key.Matches(k, km.QueuePrev):
		if n := len(e.queue); n > 0 {
			d := 1
			if key.Matches(k, km.QueuePrev) {
				d = -1
			}
			e.queueSel = e.queue[(max(e.selected(), 0)+d+n)%n].ID
		}
		return e, nil
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
			// queueable: r puts it in the retry queue, tried once credits return
			e.result = LaunchResultMsg{LaunchResult: LaunchResult{Refused: true, Queueable: e.readOnly == "",
				Message: err.Error(), ActionURL: model.BillingURL}, Err: err}
			job := e.job
			return e, func() tea.Msg { return PreflightRefused{Job: job, Err: err} }
		}
	}
	if e.readOnly != "" {
		e.phase = phaseDisabled
		return e, nil
	}
	e.phase = phaseConfirm
	return e, nil
}

// viewBlock is some lines of a pane that may be left out when space is short.
type viewBlock struct {
	lines []string
	drop  int // 0: always shown; higher: dropped first when space is short
}

// View draws the form, the price, the live verdict, the look-ahead and the
// job; then the retry queue, the recent jobs and the calibration of estimates
// (estimate vs actual per operation). When the pane is low, what explains (the
// price's basis, the look-ahead, the calibration, the recent jobs) goes before
// what the operator must see: the form, the price, the verdict, the job's
// question, progress and result, and the queued job selected. From
// sideBySide columns the queue, recent jobs and calibration get a column of
// their own, so a large terminal shows them all.
func (e Estimator) View() string {
	if e.width <= 0 || e.height <= 0 {
		return ""
	}
	if e.width >= sideBySide-2 {
		rw := min(e.width/2, 100)
		lw := e.width - rw - 3
		left := strings.Split(compose(lw, e.height, e.formBlocks(lw), e.jobView(lw), nil), "\n")
		right := strings.Split(strings.TrimPrefix(compose(rw, e.height, nil, nil, e.sideBlocks(rw, true)), "\n"), "\n")
		rule := e.st.Dim.Render(" │ ")
		out := make([]string, e.height)
		for i := range out {
			l, r := "", ""
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			out[i] = strings.TrimRight(pad(l, lw)+rule+r, " ")
		}
		return strings.Join(out, "\n")
	}
	return compose(e.width, e.height, e.formBlocks(e.width), e.jobView(e.width), e.sideBlocks(e.width, false))
}

// compose lays out pre, the job's lines and post in h lines: blocks are
// dropped by level, highest first and from the bottom, until all fits; the
// job's lines always stay.
func compose(w, h int, pre []viewBlock, job []string, post []viewBlock) string {
	blocks := append(append([]viewBlock(nil), pre...), post...)
	split := len(pre) // blocks before it are above the job
	total := func() int {
		n := len(job)
		if len(job) > 0 {
			n++ // the blank line above the job
		}
		for _, b := range blocks {
			n += len(b.lines)
		}
		return n
	}
	for drop := 9; drop > 0 && total() > h; drop-- {
		for i := len(blocks) - 1; i >= 0 && total() > h; i-- {
			if blocks[i].drop == drop {
				blocks = append(blocks[:i], blocks[i+1:]...)
				if i < split {
					split--
				}
			}
		}
	}
	var above, below []string
	for i, b := range blocks {
		if i < split {
			above = append(above, b.lines...)
		} else {
			below = append(below, b.lines...)
		}
	}
	if len(job) > 0 {
		job = append([]string{""}, job...)
	}
	job = job[:min(len(job), h)]
	below = below[:min(len(below), max(h-len(above)-len(job), 0))]
	above = above[:min(len(above), h-len(job))]
	lines := append(append(above, job...), below...)
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// formBlocks are the form, the price, the live budget, the verdict and the
// look-ahead, at width w.
func (e Estimator) formBlocks(w int) []viewBlock {
	st := e.st
	var blocks []viewBlock
	add := func(drop int, s string) { blocks = append(blocks, viewBlock{[]string{fit(s, w)}, drop}) }
	// long sentences (prices, verdicts, refusals) wrap rather than lose their advice
	wrap := func(drop int, s string) { blocks = append(blocks, viewBlock{wrapLines(s, w, 2), drop}) }
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
	// operation and workspace on one line when both fit whole, else one line
	// each: the workspace a job launches in is never shortened where a whole
	// line can hold it
	op := label(0, "operation") + " ◂ " + st.Bold.Render(pad(string(e.Op()), 13)) + " ▸"
	wsLabel := label(1, "workspace") + " ◂ "
	if one := op + "  " + wsLabel + st.Bold.Render(model.Sanitize(ws)) + " ▸"; cellWidth(one) <= w {
		add(0, one)
	} else {
		blocks = append(blocks, viewBlock{[]string{fit(op, w), fit(wsLabel+st.Bold.Render(shorten(model.Sanitize(ws), w-cellWidth(wsLabel)-2))+" ▸", w)}, 0})
	}
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
	case e.summary.Blocked && (!e.summary.RemainingKnown || e.summary.Remaining > 0):
		// OUT by the API's word while the counters leave credits: say why 0
		wrap(1, fmt.Sprintf("remaining in %s: %s credits: the API refuses it with 402 credits_exhausted, no credit added since", e.workspace, st.Bold.Render("0")))
	default:
		add(1, fmt.Sprintf("remaining in %s: %s credits (live) · %s used", e.workspace, st.Bold.Render(credits(rem)), percentOrDash(e.summary)))
	}
	if e.quoteErr == nil && hasBudget {
		switch ok, msg := estimator.Verdict(e.quote, rem); {
		case ok:
			wrap(2, st.Good.Render("✓ affordable: "+msg))
		case e.refusedHere():
			// the refusal under it says the same sentence, with the workspace
		default:
			wrap(0, st.Bad.Render("✖ not affordable: "+msg))
		}
		if out := e.outlook(); out != "" {
			wrap(2, st.Warn.Render("⚠ "+out))
		}
	}
	return blocks
}

// refusedHere reports whether the job shown was refused by the pane's own
// pre-flight: its refusal is the verdict's sentence, so the verdict is not
// drawn a second time above it (two lines at 80×24).
func (e Estimator) refusedHere() bool {
	var ie *estimator.InsufficientCreditsError
	return e.phase == phaseRefused && errors.As(e.result.Err, &ie)
}

// jobView is the job's question, progress or result, wrapped to w: shown
// whatever the height.
func (e Estimator) jobView(w int) []string {
	var job []string
	for _, l := range e.jobLines() {
		job = append(job, wrapLines(l, w, 2)...)
	}
	return job
}

// sideBlocks are the retry queue, the recent jobs and the calibration, at
// width w. column says they have a column of their own (then the empty
// queue says so too).
func (e Estimator) sideBlocks(w int, column bool) []viewBlock {
	st := e.st
	var blocks []viewBlock
	add := func(drop int, lines ...string) {
		for i := range lines {
			lines[i] = fit(lines[i], w)
		}
		blocks = append(blocks, viewBlock{lines, drop})
	}
	sel := e.selected()
	switch {
	case len(e.queue) > 0:
		title := fmt.Sprintf("Retry queue · %d waiting", len(e.queue))
		if e.readOnly == "" {
			// [ and ] move between queued jobs: offered only when there is
			// another to move to, as the ? screen offers them
			if len(e.queue) > 1 {
				title += " · [ ] select"
			}
			title += " · x cancel"
		}
		add(1, "", st.PaneTitle.Render(title))
	case column:
		add(6, st.PaneTitle.Render("Retry queue")+st.Dim.Render(" · empty: a job refused for credits can be queued with r"))
	}
	if e.queueErr != nil {
		add(1, st.Warn.Render("⚠ could not read the queue: "+model.Sanitize(e.queueErr.Error())))
	}
	opW := 13
	wsW := e.nameW
	if wsW <= 0 {
		wsW = nameWidth(e.width + 2)
	}
	for i, j := range e.queue {
		mark, drop := "  ", 3
		if i == sel {
			mark, drop = "▸ ", 1
		}
		why := ""
		if i < len(e.queueState) {
			why = e.queueState[i].Reason
		}
		row := mark + pad(string(j.Op), opW) + " " + pad(shortName(j.Workspace, wsW), wsW) + " " +
			st.Dim.Render(humanize(e.now().Sub(j.EnqueuedAt))+" ago") + "  " + why
		if i == sel {
			row = st.Selected.Render(row)
		}
		add(drop, row)
		if i == sel && e.askCancel {
			add(0, st.Warn.Render(fmt.Sprintf("Cancel the queued %s in %s? y to cancel it, n to keep it", j.Op, model.Sanitize(j.Workspace))))
		}
	}
	// recent jobs: from the stream, so every launch by this or another mavtop
	recent := []string{"", st.PaneTitle.Render("Recent jobs") + st.Dim.Render(" · launches the stream recorded, newest first")}
	if len(e.recent) == 0 {
		recent = append(recent, st.Dim.Render("  none seen yet: launches tracked by mavtop's client or proxy show here"))
	}
	for _, r := range e.recent[:min(len(e.recent), max(e.height/4, 3))] {
		recent = append(recent, "  "+e.recentRow(r, wsW))
	}
	add(5, recent...)
	add(6, e.calibrationLines()...)
	return blocks
}

// recentRow is one past launch: when, what, where, estimate and outcome.
func (e Estimator) recentRow(r estimator.JobRecord, wsW int) string {
	st := e.st
	est := "est —"
	if r.Estimate > 0 {
		est = "est " + credits(r.Estimate)
	}
	out := ""
	switch {
	case r.Refused():
		out = st.Bad.Render("refused " + model.Sanitize(r.Code))
	case !r.Paid():
		out = st.Warn.Render(fmt.Sprintf("failed %d %s", r.Status, model.Sanitize(r.Code)))
	case r.Estimate > 0:
		// what the percent is of, floored as every percent on screen
		out = fmt.Sprintf("actual %s (%s of est)", credits(r.Actual), percent(float64(r.Actual)*100/float64(r.Estimate)))
	default:
		out = "actual " + credits(r.Actual)
	}
	return r.At.Local().Format("15:04:05") + " " + pad(string(r.Op), 13) + " " + pad(shortName(r.Workspace, wsW), wsW) +
		" " + pad(est, 10) + " " + out
}

// calibrationLines are the seed's estimated_vs_actual per operation: jobs,
// credits estimated and spent, the mean and largest actual/estimate, and the
// share of jobs that cost more than estimated.
func (e Estimator) calibrationLines() []string {
	st := e.st
	lines := []string{"", st.PaneTitle.Render("Calibration") + st.Dim.Render(" · actual ÷ estimate of every paid job seen (estimated_vs_actual)")}
	if len(e.calib) == 0 {
		return append(lines, st.Dim.Render("  no paid job with an estimate seen yet"))
	}
	lines = append(lines, st.Dim.Render(fmt.Sprintf("  %-13s %4s %9s %9s %6s %5s %9s", "operation", "jobs", "estimated", "actual", "mean", "max", "above est")))
	for _, r := range e.calib {
		mean, mx := "—", "—"
		if r.Rated > 0 {
			// ratios, not credits: "0.61×" (the title says of what)
			mean, mx = fmt.Sprintf("%.2f×", r.MeanRatio), fmt.Sprintf("%.2f×", r.MaxRatio)
		}
		above := percent(r.AboveShare * 100)
		if r.Above > 0 {
			above = st.Warn.Render(align(above, 9, true))
		} else {
			above = align(above, 9, true)
		}
		lines = append(lines, fmt.Sprintf("  %-13s %4d %9s %9s %s %s ", r.Op, r.Count, credits(r.Estimated), credits(r.Actual), align(mean, 6, true), align(mx, 5, true))+above)
	}
	return lines
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
	capName := ""
	if s.CapKind == model.CapLimit {
		capName = "usage limit"
	}
	o, err := estimator.LookAhead(estimator.Budget{
		Workspace: e.workspace, Used: s.Used, Allocation: s.Cap, CapName: capName, Thresholds: s.Thresholds,
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
			ratio = " (" + percent(float64(r.Actual)*100/float64(j.Quote.Estimate)) + " of estimate)"
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
			out = append(out, st.Warn.Render(fmt.Sprintf("  press r to queue it: it is retried once %s has %s left (estimate + buffer)",
				j.Workspace, credits(j.Quote.Required))))
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
