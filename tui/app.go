package tui

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
)

// DefaultFPS caps how often the screen is redrawn, whatever the event rate.
const DefaultFPS = 20

// MaxFPS is the most redraws per second an FPS option gets (Bubble Tea's
// renderer flushes no more often): a frame tick of time.Second/FPS at --fps
// 1000 rendered 1,000 frames a second, and above 10⁹ the tick was 0, a loop
// taking a whole core.
const MaxFPS = 120

// Options wire the dashboard to the world. Only Source is required.
type Options struct {
	// Source is this dashboard's viewer of the feed hub.
	Source *feed.Viewer
	// Launcher launches estimator jobs; nil turns launching off.
	Launcher Launcher
	// ReadOnly, when set, says why this viewer may not launch jobs.
	ReadOnly string
	// APIStatus is polled once a second for the header (rate limit, drift); may be nil.
	APIStatus func() APIStatus
	// Lifecycle is polled once a second for the alerts pane (the shared alert
	// lifecycle and its deliveries); may be nil.
	Lifecycle func() Lifecycle
	// Renderer builds the styles (lipgloss.DefaultRenderer() locally; per session over SSH).
	Renderer *lipgloss.Renderer
	// Now is the clock (time.Now).
	Now func() time.Time
	// Demo marks demo mode in the header; DemoHint says how to leave it.
	Demo     bool
	DemoHint string
	// Bell rings the terminal bell on new alerts (a BEL in the next frame).
	Bell bool
	// Log records what the dashboard decides itself and no Launcher sees: the
	// estimator's own pre-flight refusals (nil: not recorded). Launches,
	// refusals after them, queued and cancelled jobs are the Launcher's to record.
	Log *slog.Logger
	// FPS caps redraws per second (DefaultFPS).
	FPS int
	// ClockStep is how far the screen's clock moves at a time (0: every
	// second): ages, countdowns and forecasts driven by time alone change once
	// a step, so an idle screen over a slow link stays still between steps.
	// Event times and alert stamps keep the clock's own precision.
	ClockStep time.Duration
	// ChartRedraw is the least time between chart redraws for new data
	// (DefaultChartRedraw; negative: every frame, for tests).
	ChartRedraw time.Duration
	// FirstGauges, when set, is called once, on the Update goroutine, when
	// the first frame showing the gauges (a ledger) has been composed: the
	// dashboard releases the alert watcher's start with it
	// (notify.WatcherOptions.StartHold). It must not block.
	FirstGauges func()
}

// mode is what the body of the screen shows.
type mode uint8

const (
	modeDashboard mode = iota
	modeDetail
	modeEstimator
	modeHelp
)

// focus is which list takes the arrow keys on the dashboard.
type focus uint8

const (
	focusGauges focus = iota
	focusLog
	focusAlerts
	focusCount
)

// Model is the root of the dashboard, the only tea.Model.
type Model struct {
	opt    Options
	ctx    context.Context
	cancel context.CancelFunc
	st     *Styles
	km     *KeyMap
	c      common
	feed   feed.LedgerState

	mode   mode
	focus  focus
	header Header
	gauges Gauges
	charts Charts
	log    RefusalLog
	alerts Alerts
	est    Estimator
	detail Detail
	help   help.Model
	// jobs is the launches the stream recorded, for the estimator's recent
	// jobs and calibration.
	jobs *estimator.JobLog
	// rewound is the generation of the last re-read that started a fresh
	// ledger (feed.SnapshotMsg.Fresh): history of an older one may hold lost
	// jobs, or the jobs this generation's read-back lists again.
	rewound uint64
	// unreadable is the counters and settings a re-read could not use that a
	// notice names now, by what it is about (a settings field, a counter, a
	// reason workspaces share) → the notice's text: each said once, not at
	// every re-read, and resolved when a re-read can use it again.
	unreadable map[string]string
	// unconfirmed are the 402s read from the stream that wait for the
	// counters to be seen holding them (model.Ledger.RefusalWaits), oldest
	// first: their banner, bell and alerts-pane line wait with them, as the
	// refusals alert does (README, "402 refusals"); a 402 the counters never
	// hold (a raw XADD, a repeated status field) raises none. A new slice at
	// each change: copies of the model share the old.
	unconfirmed []model.Event

	width, height int
	laidOut       layoutKey
	dirty         bool
	renderedAt    time.Time // wall clock of the last frame, for the frame rate
	ring          bool      // put a BEL in the next frame
	frame         string
	notice        string
	noticeUntil   time.Time
	askQuit       bool // q was pressed with a job running: the footer asks
	helpTop       int  // first line of the ? screen on display
	helpFor       mode // the mode ? was pressed in: its keys are listed first
}

// New builds the dashboard.
func New(opt Options) Model {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Renderer == nil {
		opt.Renderer = lipgloss.DefaultRenderer()
	}
	if opt.FPS <= 0 {
		opt.FPS = DefaultFPS
	}
	opt.FPS = min(opt.FPS, MaxFPS)
	if opt.ChartRedraw == 0 {
		opt.ChartRedraw = DefaultChartRedraw
	}
	if opt.Launcher == nil && opt.ReadOnly == "" {
		opt.ReadOnly = "no API client configured"
	}
	if opt.FirstGauges != nil {
		opt.FirstGauges = sync.OnceFunc(opt.FirstGauges) // a Model is copied: render may run on several copies
	}
	st := DefaultStyles(opt.Renderer)
	km := DefaultKeyMap()
	c := common{st: &st, km: &km, now: steppedClock(opt.Now, opt.ClockStep), stamp: opt.Now}
	ctx, cancel := context.WithCancel(context.Background())
	h := help.New()
	h.Styles.ShortKey = st.Bold
	h.Styles.ShortDesc = st.Help
	h.Styles.ShortSeparator = st.Help
	h.Styles.FullKey = st.Bold
	h.Styles.FullDesc = st.Help
	h.Styles.FullSeparator = st.Help
	h.Styles.Ellipsis = st.Help
	jobs := estimator.NewJobLog(recentJobs)
	return Model{
		opt: opt, ctx: ctx, cancel: cancel, st: &st, km: &km, c: c, jobs: jobs,
		header: NewHeader(c, opt.Demo),
		gauges: NewGauges(c),
		charts: NewCharts(c, opt.ChartRedraw),
		log:    NewRefusalLog(c),
		alerts: NewAlerts(c),
		est:    NewEstimator(c, opt.ReadOnly, jobs),
		detail: NewDetail(c),
		help:   h,
		dirty:  true,
	}
}

// FeedMsg carries every feed message queued since the last one.
type FeedMsg struct{ Msgs []feed.Msg }

// frameMsg is the redraw tick.
type frameMsg struct{}

// secondMsg ticks once a second: ages and the period countdown move.
type secondMsg struct{}

// APIStatusMsg carries the header's API status.
type APIStatusMsg struct{ Status APIStatus }

// Init starts reading the feed and the clocks.
func (m Model) Init() tea.Cmd {
	return tea.Batch(waitFeedCmd(m.ctx, m.opt.Source), m.frameCmd(), secondCmd())
}

func waitFeedCmd(ctx context.Context, v *feed.Viewer) tea.Cmd {
	return func() tea.Msg {
		msgs, err := v.Next(ctx)
		if err != nil {
			return nil // shutting down
		}
		return FeedMsg{Msgs: msgs}
	}
}

func (m Model) frameCmd() tea.Cmd {
	return tea.Tick(time.Second/time.Duration(m.opt.FPS), func(time.Time) tea.Msg { return frameMsg{} })
}

func secondCmd() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return secondMsg{} })
}

func (m Model) lifecycleCmd() tea.Cmd {
	f := m.opt.Lifecycle
	if f == nil {
		return nil
	}
	return func() tea.Msg { return LifecycleMsg{Lifecycle: f()} }
}

func (m Model) apiStatusCmd() tea.Cmd {
	f := m.opt.APIStatus
	if f == nil {
		return nil
	}
	return func() tea.Msg { return APIStatusMsg{Status: f()} }
}

// Update routes messages; the work is in the handle* helpers and the children.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.render()
		return m, nil
	case FeedMsg:
		empty := m.feed.Ledger == nil
		cmd := m.handleFeed(msg.Msgs)
		m.dirty = true
		if m.frameDue() || empty && m.feed.Ledger != nil {
			// the first news after a quiet spell shows at once, and so do
			// the first gauges (a viewer that joins sees them without
			// waiting out the frame it drew while connecting)
			m.render()
		}
		return m, tea.Batch(waitFeedCmd(m.ctx, m.opt.Source), cmd)
	case frameMsg:
		if m.dirty && m.frameDue() {
			m.render()
		}
		return m, m.frameCmd()
	case secondMsg:
		m.dirty = true
		return m, tea.Batch(secondCmd(), m.apiStatusCmd(), m.lifecycleCmd(), m.queueCmd())
	case LifecycleMsg:
		if v := msg.Lifecycle.Version; v != 0 && v == m.alerts.life.Version {
			return m, nil // the poll found nothing new: nothing to sort or draw
		}
		m.alerts.SetLifecycle(msg.Lifecycle)
		m.header.firing = m.alerts.Firing()
		m.detail.SetScores(msg.Lifecycle.Scores)
		m.dirty = true
		return m, nil
	case APIStatusMsg:
		m.header.api = msg.Status
		m.dirty = true
		return m, nil
	case tea.KeyMsg:
		if first, rest, ok := m.splitKeys(msg); ok {
			mm, cmd := m.Update(first)
			mm, cmd2 := mm.Update(rest) // as typed after it: text once first opened a field
			return mm, tea.Batch(cmd, cmd2)
		}
		mm, cmd := m.handleKey(msg)
		mm.render() // keys answer at once, not at the next frame
		return mm, cmd
	case tea.MouseMsg:
		var cmd tea.Cmd
		m, cmd = m.routeToFocus(msg)
		m.render()
		return m, cmd
	case OpenDetailMsg:
		m.mode = modeDetail
		m.detail.Open(msg.Workspace)
		m.render()
		return m, nil
	case LaunchRequested:
		return m.handleLaunch(msg)
	case JobProgressMsg:
		m.est, _ = m.est.Update(msg)
		m.dirty = true
		return m, waitJobCmd(msg.ch)
	case LaunchResultMsg:
		m.est, _ = m.est.Update(msg)
		m.dirty = true
		return m, nil
	case PreflightRefused:
		return m, logCmd(m.opt.Log, slog.LevelWarn, "launch refused", "workspace", msg.Job.Workspace,
			"operation", string(msg.Job.Op), "required", msg.Job.Quote.Required, "by", "the estimator's pre-flight", "err", msg.Err)
	case QueueRequested:
		if m.opt.Launcher == nil {
			return m, nil
		}
		return m, queueCmd(m.ctx, m.opt.Launcher, msg.Job, msg.Refusal)
	case QueuedMsg:
		if msg.Err != nil {
			m.setNotice("could not queue the job: " + msg.Err.Error())
		} else {
			m.setNotice(fmt.Sprintf("queued %s in %s: it is retried once credits rise above %s", msg.Job.Op, msg.Job.Workspace, credits(msg.Job.Quote.Required)))
		}
		m.dirty = true
		return m, m.queueCmd()
	case QueueListMsg:
		m.est.SetQueue(msg.Jobs, msg.Err)
		m.dirty = true
		return m, nil
	case CancelRequested:
		if m.opt.Launcher == nil {
			return m, nil
		}
		return m, cancelCmd(m.ctx, m.opt.Launcher, msg.Job)
	case CancelledMsg:
		what := fmt.Sprintf("%s in %s", msg.Job.Op, msg.Job.Workspace)
		switch {
		case msg.Err != nil:
			m.setNotice("could not cancel the queued " + what + ": " + msg.Err.Error())
		case !msg.Removed:
			m.setNotice("the queued " + what + " had already left the queue (retried or cancelled elsewhere)")
		default:
			m.setNotice("cancelled the queued " + what)
		}
		if msg.Err == nil {
			// gone from Redis (cancelled now or before): gone from the list
			// in the frame that says so, not at the re-read below
			m.est.DropQueued(msg.Job.ID)
		}
		m.dirty = true
		return m, m.queueCmd()
	}
	// anything else (spinner ticks, cursor blinks) goes to the active component
	var cmd tea.Cmd
	m.est, cmd = m.est.Update(msg)
	var cmd2 tea.Cmd
	m.gauges, cmd2 = m.gauges.Update(msg)
	m.dirty = true
	return m, tea.Batch(cmd, cmd2)
}

// frameDue reports whether a frame may be drawn now without exceeding FPS.
func (m *Model) frameDue() bool {
	return time.Since(m.renderedAt) >= time.Second/time.Duration(m.opt.FPS)
}

// View returns the last rendered frame; rendering happens at most FPS times a
// second (and at once after a key), never per event.
func (m Model) View() string { return m.frame }

// Close stops the dashboard's background reads.
func (m Model) Close() {
	m.cancel()
	m.opt.Source.Close()
}

// handleFeed folds feed messages into the ledger and raises alerts.
func (m *Model) handleFeed(msgs []feed.Msg) tea.Cmd {
	alerts := m.alerts.Added()
	for _, fm := range msgs {
		switch fm := fm.(type) {
		case *feed.ConnMsg:
			m.header.conn = *fm
		case *feed.StatsMsg:
			m.header.noteStats(fm)
		case *feed.MalformedMsg:
			m.setNotice(fmt.Sprintf("skipped malformed entry %s: %v", fm.ID, fm.Err))
		case *feed.SnapshotMsg:
			newPeriod := m.feed.Ledger != nil && m.feed.Ledger.Period().Key != fm.Snap.Period.Key
			m.feed.Apply(fm)
			if fm.Fresh() {
				m.freshJobs(fm.Gen)
			}
			for i := range fm.History { // newest first, from before the live entries
				m.jobs.AddPast(&fm.History[i])
			}
			m.header.noteSnapshot(fm)
			m.noteUnreadable(fm)
			m.confirmRefusalsReRead(fm)
			switch {
			case newPeriod:
				m.enterPeriod(fm.Snap.Period.Key)
			case fm.Reason == feed.ReasonStart && fm.Source == feed.CounterLabel:
				m.alerts.AddNotice(model.LevelOK, feed.CounterNote)
			case m.opt.Lifecycle != nil && model.IsResyncReason(string(fm.Reason)):
				// raised as an alert of the shared lifecycle
				// (model.AlertResync): its row says it, in the same words
				// as mavtop alerts and the webhook, not a line of its own
			case fm.Reason == feed.ReasonFailover:
				m.alerts.AddNotice(model.LevelHigh, "Redis failed over to "+m.header.conn.Server+": counters re-read from the new master (writes the old one lost are gone)")
			case fm.Reason != feed.ReasonStart && fm.Reason != feed.ReasonResync:
				// a restart, a restore, a trim or a disagreement: say what changed
				m.alerts.AddNotice(model.LevelHigh, fm.Note())
			}
		case *feed.BatchMsg:
			m.feed.ApplyEach(fm, func(e *model.Event) {
				m.jobs.Add(e)
				m.takeCrossings()
				if e.Refused() {
					m.addRefusal(e)
				}
			})
		case *feed.AuditMsg:
			if m.feed.Apply(fm) { // the 402s up to its id are counted
				m.confirmRefusals(func(e *model.Event) (bool, bool) {
					held := model.CompareStreamIDs(e.ID, fm.StreamID) <= 0
					return held, held
				})
			}
		case *feed.HistoryMsg:
			m.feed.Apply(fm) // the last hour's burn and 402s, read back after the start
			for i := range fm.Events {
				if fm.Gen >= m.rewound { // not read back before Redis went back in time
					m.jobs.AddPast(&fm.Events[i])
				}
			}
		case *feed.LedgerMsg:
			old := m.feed.Ledger
			m.feed.Apply(fm)
			// a viewer that fell behind is handed the ledger in place of the
			// messages it missed: a re-read that started the hub's ledger
			// afresh, or a new period, among them is said here (before, it
			// listed the jobs of the rollover's read-back twice and never
			// said the new period: hostile23 #4)
			if fm.Fresh > m.rewound {
				m.freshJobs(fm.Fresh)
			}
			if l := m.feed.Ledger; old != nil && l != nil && l.Period().Key != old.Period().Key {
				m.enterPeriod(l.Period().Key)
			}
			if l := m.feed.Ledger; l != nil {
				// a copy of the hub's, which applied every 402 held here:
				// one of a workspace it no longer waits for was confirmed
				// (the audits this viewer missed, falling behind)
				m.confirmRefusals(func(e *model.Event) (bool, bool) {
					if l.RefusalWaiting(e.Workspace) {
						return false, false
					}
					return l.RefusalCounted(e), true
				})
			}
			m.header.source = fm.Source
			if p := m.feed.Ledger.Period(); p.Key != "" {
				m.header.period = p
			}
		}
	}
	m.takeCrossings() // from settings changes and snapshots
	if m.alerts.Added() > alerts && m.opt.Bell {
		m.ring = true
	}
	return nil
}

// maxUnconfirmed bounds the 402s held for their confirmation (the oldest
// give way): the alerts pane says one per workspace and code a minute.
const maxUnconfirmed = 256

// addRefusal alerts on a 402 read from the stream (Alerts.AddRefusal) once
// the counters are seen holding it: at once when nothing audits them (a
// counters-only source, a ledger never told), else when an audit confirms
// it, within feed.RefusalAuditWithin (confirmRefusals).
func (m *Model) addRefusal(e *model.Event) {
	if l := m.feed.Ledger; l == nil || !l.RefusalWaits(e) {
		m.alerts.AddRefusal(e)
		return
	}
	held := m.unconfirmed
	if len(held) >= maxUnconfirmed {
		held = held[len(held)-maxUnconfirmed+1:]
	}
	m.unconfirmed = append(slices.Clip(held), *e)
}

// confirmRefusals raises the alert of each 402 held that judge confirms
// (ok) and lets go of those it says no longer wait (done, not ok: the
// counters were read and do not hold them); the others wait on.
func (m *Model) confirmRefusals(judge func(e *model.Event) (ok, done bool)) {
	if len(m.unconfirmed) == 0 {
		return
	}
	var left []model.Event
	for i := range m.unconfirmed {
		e := &m.unconfirmed[i]
		ok, done := judge(e)
		switch {
		case ok:
			m.alerts.AddRefusal(e)
		case !done:
			left = append(left, *e)
		}
	}
	m.unconfirmed = left
}

// freshJobs empties the job log for generation gen, whose re-read started
// the ledger afresh (feed.SnapshotMsg.Fresh): Redis went back in time (the
// jobs it lost go with it), or a new period begins whose hour is read back
// as at a start. The hour read back for gen fills the log again, as it fills
// a mavtop started now; the jobs it lists again are not listed twice.
func (m *Model) freshJobs(gen uint64) {
	m.jobs.Reset()
	m.rewound = gen
}

// enterPeriod clears the alerts pane for the billing period key and says so.
func (m *Model) enterPeriod(key string) {
	m.alerts.Reset()
	m.alerts.AddNotice(model.LevelOK, "new billing period "+key+": counters start afresh")
}

// confirmRefusalsReRead judges the 402s held against a re-read of the
// counters: one up to the snapshot's id is alerted on when the counters
// hold it (model.Ledger.RefusalCounted) and dropped otherwise; a newer one
// waits on for the audits of the new generation. A re-read that went back
// in time drops them all: Redis may have lost them.
func (m *Model) confirmRefusalsReRead(fm *feed.SnapshotMsg) {
	l := m.feed.Ledger
	m.confirmRefusals(func(e *model.Event) (bool, bool) {
		if fm.Rewound || l == nil || fm.Snap == nil {
			return false, true
		}
		if fm.Snap.StreamID != "" && model.CompareStreamIDs(e.ID, fm.Snap.StreamID) > 0 {
			return false, false
		}
		return l.RefusalCounted(e), true
	})
}

// noteUnreadable names, in the alerts pane, the counters and settings a
// re-read could not use: a workspace whose used or recharged counter holds
// no number is judged unknown (its row says why in short), any other bad
// counter is skipped, and bad settings are judged as none, which check
// reports as UNKNOWN and the dashboard did without a word. Every re-read is
// whole, so a notice it no longer finds the cause of is resolved: its row
// goes, and "resolved: <its words>" says so (a period config repaired, which
// the header stops naming too); one whose words changed is replaced.
func (m *Model) noteUnreadable(fm *feed.SnapshotMsg) {
	oneLine := func(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
	notes := map[string]string{} // what it is about → the notice
	// a workspace's used or recharged counter: its row says "? unkn" (the
	// model's LevelUnknown); any other field's credits are not counted
	shown := map[string]bool{}
	// one note per reason: a key of another type (feed.SnapshotResult.BadKeys)
	// makes every workspace unknown for the same reason, one note each was
	// 100k notes at 100k workspaces
	byWhy := map[string][]string{}
	if fm.Snap != nil {
		for ws, why := range fm.Snap.Unreadable {
			shown["used:"+ws], shown["recharged:"+ws] = true, true
			byWhy[why] = append(byWhy[why], ws)
		}
	}
	for why, wss := range byWhy {
		if len(wss) == 1 {
			notes["workspaces:"+why] = fmt.Sprintf("workspace %s: %s: its level is unknown until Redis holds a number", model.Sanitize(wss[0]), why)
			continue
		}
		slices.Sort(wss)
		notes["workspaces:"+why] = fmt.Sprintf("%d workspaces (%s…): %s: their levels are unknown until Redis holds a hash", len(wss), model.Sanitize(strings.Join(wss[:min(3, len(wss))], ", ")), why)
	}
	for name, why := range fm.BadCounters {
		if shown[name] || fm.Snap != nil && slices.ContainsFunc(slices.Collect(maps.Values(fm.Snap.Unreadable)), func(w string) bool { return strings.Contains(w, name) }) {
			continue
		}
		notes["counter:"+name] = fmt.Sprintf("counter %q cannot be read (%s): skipped, not counted", name, oneLine(why))
	}
	for field, why := range fm.BadSettings {
		// a workspace's or project's: judged unknown (model.Settings.Unreadable)
		if field == feed.PeriodSettingsField {
			notes["settings:"+field] = model.PeriodUnreadableWords(why.Error())
			continue
		}
		notes["settings:"+field] = model.UnreadableSettings(field, why) + ": its level is unknown until the value is fixed"
	}
	for _, about := range slices.Sorted(maps.Keys(m.unreadable)) {
		if _, still := notes[about]; !still {
			m.alerts.DropNotice(m.unreadable[about])
			m.alerts.AddNotice(model.LevelOK, "resolved: "+m.unreadable[about])
			delete(m.unreadable, about)
		}
	}
	abouts := slices.Collect(maps.Keys(notes))
	slices.SortFunc(abouts, func(x, y string) int { return strings.Compare(notes[x], notes[y]) })
	for _, about := range abouts {
		n := notes[about]
		old, said := m.unreadable[about]
		if said && old == n {
			continue
		}
		if said {
			m.alerts.DropNotice(old) // the same cause, said otherwise now
		}
		if m.unreadable == nil {
			m.unreadable = map[string]string{}
		}
		m.unreadable[about] = n
		m.alerts.AddNotice(model.LevelHigh, n)
	}
}

// takeCrossings turns the ledger's new crossings into alerts.
func (m *Model) takeCrossings() {
	if m.feed.Ledger == nil {
		return
	}
	for _, c := range m.feed.Ledger.TakeCrossings() {
		m.alerts.AddCrossing(c)
	}
}

func (m *Model) setNotice(s string) {
	m.notice, m.noticeUntil = model.Sanitize(s), m.opt.Now().Add(8*time.Second)
}

// logCmd writes one record to log off the update loop (a file write is IO);
// nil when there is no log.
func logCmd(log *slog.Logger, level slog.Level, msg string, args ...any) tea.Cmd {
	if log == nil {
		return nil
	}
	return func() tea.Msg {
		log.Log(context.Background(), level, msg, args...)
		return nil
	}
}

func (m Model) handleLaunch(msg LaunchRequested) (tea.Model, tea.Cmd) {
	if m.opt.Launcher == nil || m.opt.ReadOnly != "" {
		reason := m.opt.ReadOnly
		m.est, _ = m.est.Update(LaunchResultMsg{Err: fmt.Errorf("launching is off: %s", reason)})
		return m, nil
	}
	return m, launchCmd(m.ctx, m.opt.Launcher, msg.Job)
}

// typing reports whether a text or number field has the keyboard: then q,
// ? and the other letters are input, not commands.
func (m *Model) typing() bool {
	switch m.mode {
	case modeDashboard:
		return m.gauges.Editing()
	case modeEstimator:
		return m.est.Typing()
	}
	return false
}

// splitKeys parts printable keys that arrived as one message: Bubble Tea v1
// reads every printable key waiting on the terminal into one KeyRunes, so
// "/name" typed fast (or over a slow SSH link) came as "/name", no key at
// all, and the filter did not open. While no field has the keyboard the
// first rune is a key of its own and the rest follow it, as typed (text,
// when the first opened a field). A paste stays whole.
func (m *Model) splitKeys(k tea.KeyMsg) (first, rest tea.KeyMsg, ok bool) {
	if k.Type != tea.KeyRunes || k.Paste || len(k.Runes) < 2 || m.typing() {
		return k, k, false
	}
	first, rest = k, k
	first.Runes, rest.Runes = k.Runes[:1], k.Runes[1:]
	return first, rest, true
}

// quitQuestion asks before abandoning a job, naming it.
func (m *Model) quitQuestion() string {
	return "Quit and abandon the running " + m.est.JobName() + "?"
}

// handleKey: global keys first, then the mode's.
func (m Model) handleKey(k tea.KeyMsg) (Model, tea.Cmd) {
	km := m.km
	if key.Matches(k, km.ForceQuit) {
		m.Close()
		return m, tea.Quit
	}
	if m.askQuit {
		m.askQuit = false
		if key.Matches(k, km.QuitYes) {
			m.Close()
			return m, tea.Quit
		}
		return m, nil // any other key: stay
	}
	typing := m.typing()
	if !typing && key.Matches(k, km.Quit) {
		if m.est.Running() {
			m.askQuit = true
			return m, nil
		}
		m.Close()
		return m, tea.Quit
	}
	// a number field takes digits only, so ? still opens help there; a text
	// field (the filter) takes it as text
	if !(m.mode == modeDashboard && m.gauges.Editing()) && key.Matches(k, km.Help) {
		if m.mode == modeHelp {
			m.mode = m.helpFor
		} else {
			m.helpFor, m.mode, m.helpTop = m.mode, modeHelp, 0
		}
		m.layout()
		return m, nil
	}
	switch m.mode {
	case modeHelp:
		if key.Matches(k, km.Back) {
			m.mode = m.helpFor
			m.layout()
			return m, nil
		}
		c := m.helpPager()
		if c.handle(k, km) {
			m.helpTop = c.pos
		}
		return m, nil
	case modeEstimator:
		if key.Matches(k, km.Back) && !m.est.Busy() {
			m.mode = modeDashboard
			m.layout()
			return m, nil
		}
		var cmd tea.Cmd
		m.est, cmd = m.est.Update(k)
		return m, cmd
	case modeDetail:
		if key.Matches(k, km.Back) {
			m.mode = modeDashboard
			m.layout()
			return m, nil
		}
		if key.Matches(k, km.Estimator) {
			return m.openEstimator()
		}
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(k)
		return m, cmd
	}
	if m.gauges.Editing() {
		var cmd tea.Cmd
		m.gauges, cmd = m.gauges.Update(k)
		return m, cmd
	}
	switch {
	case key.Matches(k, km.Estimator):
		return m.openEstimator()
	case key.Matches(k, km.Focus):
		m.setFocus((m.focus + 1) % focusCount)
		return m, nil
	case key.Matches(k, km.Alerts) && m.focus == focusAlerts:
		m.setFocus(focusGauges)
		return m, nil
	case key.Matches(k, km.Alerts):
		m.setFocus(focusAlerts)
		m.alerts.ShowNewestFiring()
		return m, nil
	case key.Matches(k, km.ChartScope) && m.gauges.chartsShown:
		m.charts, _ = m.charts.Update(k)
		return m, nil
	case key.Matches(k, km.Back) && m.focus == focusLog && m.log.Opened():
		return m.routeToFocus(k) // back to the list first
	case key.Matches(k, km.Back) && m.focus != focusGauges:
		m.setFocus(focusGauges)
		return m, nil
	}
	return m.routeToFocus(k)
}

func (m Model) openEstimator() (Model, tea.Cmd) {
	m.mode = modeEstimator
	m.est.Focus(m.gauges.Selected())
	m.layout()
	return m, m.queueCmd()
}

// queueCmd reads the retry queue while the estimator, which lists it, is open.
func (m Model) queueCmd() tea.Cmd {
	if m.opt.Launcher == nil || m.mode != modeEstimator && !(m.mode == modeHelp && m.helpFor == modeEstimator) {
		return nil
	}
	return queueListCmd(m.ctx, m.opt.Launcher)
}

func (m *Model) setFocus(f focus) {
	m.focus = f
	m.gauges.focused = f == focusGauges
	m.log.focused = f == focusLog
	m.alerts.focused = f == focusAlerts
	m.layout()
}

func (m Model) routeToFocus(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch {
	case m.mode == modeDetail:
		m.detail, cmd = m.detail.Update(msg)
	case m.mode == modeEstimator:
		m.est, cmd = m.est.Update(msg)
	case m.focus == focusLog:
		m.log, cmd = m.log.Update(msg)
	case m.focus == focusAlerts:
		m.alerts, cmd = m.alerts.Update(msg)
	default:
		m.gauges, cmd = m.gauges.Update(msg)
	}
	return m, cmd
}
