package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// Detail is one workspace up close: settings, forecast, projects with their
// budgets, endpoints, and its recent 402s.
type Detail struct {
	common
	ws       string
	sum      model.Summary
	known    bool
	fc       model.Forecast
	projects []model.ProjectSummary
	verdict  model.Verdict // the workspace with its projects' usage limits
	// vfc is the forecast of the budget that sets verdict's level
	// (model.Ledger.VerdictForecast): the row's; fc is the workspace's own.
	vfc model.Forecast
	eps []model.EndpointTotal
	// usedByPending: the start's used_by read is not in yet, so projects
	// and endpoints say so instead of showing zeros
	usedByPending bool
	refusals      []model.Refusal
	// scores are the latest forecast scores of every workspace, newest first
	scores []model.ForecastScore
	lines  []string
	top    int // first line on screen
	width  int
	height int
}

// NewDetail returns an empty detail view.
func NewDetail(c common) Detail { return Detail{common: c} }

// Open points the view at a workspace.
func (d *Detail) Open(ws string) {
	d.ws = ws
	d.top = 0
}

// Workspace is the workspace shown.
func (d Detail) Workspace() string { return d.ws }

// SetSize sets the content size.
func (d *Detail) SetSize(w, h int) {
	if w != d.width && d.ws != "" {
		d.width = w
		d.lines = d.layout() // the first lines wrap to the width
	}
	d.width, d.height = w, h
	d.top = min(d.top, d.maxTop())
}

// maxTop is the first line on screen when the last line is at the bottom: the
// view scrolls its content like a pager and never past the end.
func (d Detail) maxTop() int { return max(len(d.lines)-d.height, 0) }

// Update scrolls: a line, a page, to either end.
func (d Detail) Update(msg tea.Msg) (Detail, tea.Cmd) {
	c := d.pager()
	if c.handle(msg, d.km) {
		d.top = c.pos
	}
	return d, nil
}

// Refresh reads the workspace from the ledger and lays out its lines.
func (d *Detail) Refresh(l *model.Ledger) {
	d.sum, d.known = l.Summary(d.ws)
	d.verdict, d.vfc, _ = l.VerdictForecast(d.ws, d.now())
	d.fc = l.Forecast(d.ws, d.now())
	d.projects = l.Projects(d.ws)
	d.eps = l.Endpoints(d.ws)
	d.usedByPending = l.UsedByPending()
	d.refusals = d.refusals[:0]
	for _, r := range l.Refusals(nil, model.DefaultRefusalLog) {
		if r.Event.Workspace == d.ws && len(d.refusals) < 20 {
			d.refusals = append(d.refusals, r)
		}
	}
	d.lines = d.layout()
	d.top = min(d.top, d.maxTop())
}

// SetScores takes the latest forecast scores (every workspace's, newest
// first); the view shows its workspace's.
func (d *Detail) SetScores(s []model.ForecastScore) {
	d.scores = s
	if d.ws != "" {
		d.lines = d.layout()
		d.top = min(d.top, d.maxTop())
	}
}

// MaxDetailScores is how many forecast scores of a workspace the detail view
// lists.
const MaxDetailScores = 3

// Title names the workspace, whole when the pane has room, else shortened
// in the one short form every pane draws it in at this size (nameFor), so
// "esc back" stays.
func (d Detail) Title() string {
	const around = len("Workspace  · esc back") + 6 // the pane's border and title marks
	return "Workspace " + nameFor(d.ws, d.width-around, nameWidth(d.width+2)) + " · esc back"
}

func (d *Detail) layout() []string {
	st, s := d.st, d.sum
	if !d.known {
		return []string{st.Dim.Render("No data for this workspace this period.")}
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	look := st.Level(s.Level)
	if s.Unreadable != "" && !s.Unknown.Has(model.FigUsed) {
		// the credits used are known; what the unreadable figure can change is not
		add("%s %s  %s credits used · %s unknown: %s", look.Style.Render(look.Symbol), look.Style.Render(look.Word),
			credits(s.Used), model.UnknownWords(s.Unknown, s.UnreadableSettings), model.Sanitize(s.Unreadable))
	} else if s.Unreadable != "" {
		add("%s %s  usage unknown: %s · Redis holds no integer ≥ 0 there, so no percent or level is judged until it does", look.Style.Render(look.Symbol), look.Style.Render(look.Word),
			model.Sanitize(s.Unreadable))
	} else if s.HasCap() && d.verdict.Project != "" {
		// a project's usage limit sets the workspace's level: the verdict's
		// line below gives it, as the row, check, budget show and /metrics
		// do; this line gives the own cap's figures without a level of its
		// own (it read "✓ ok" above "▲ crit verdict: limit reached")
		add("workspace: %s used · %s of %s credits (%s) · %s remaining",
			percent(s.Percent), credits(s.Used), credits(s.Cap), capName(s.CapKind), credits(s.Remaining))
	} else if s.HasCap() {
		add("%s %s  %s used · %s of %s credits (%s) · %s remaining", look.Style.Render(look.Symbol), look.Style.Render(look.Word),
			percent(s.Percent), credits(s.Used), credits(s.Cap), capName(s.CapKind), credits(s.Remaining))
	} else {
		add("%s  %s credits used · no allocation set (mavtop budget set %s --allocation N)", look.Style.Render(look.Word), credits(s.Used), d.ws)
	}
	if w := model.TopUpLevelWords(&s.Status, s.Settings.UsageLimit); w != "" && s.Unreadable == "" {
		// why a cap auto-recharge tops up is high past its last threshold,
		// or critical (model.Status.TopsUp)
		add("%s", look.Style.Render(w))
	}
	if v := d.verdict; v.Project != "" {
		// what check, budget show, /metrics and the gauge's level say of the workspace
		vl := st.Level(v.Level)
		var used, limit int64
		for _, p := range d.projects {
			if p.Name == v.Project {
				used, limit = p.Used, p.Budget.Limit
			}
		}
		switch {
		case v.Level == model.LevelUnknown && v.Status.UnreadableSettings:
			// its budget cannot be read: no limit, so no percent of it
			// ("0 % of its usage limit (95 of 0 credits)" read as a reading)
			add("%s %s  verdict: project %s's budget cannot be read: level unknown (%s credits used) · %s", vl.Style.Render(vl.Symbol), vl.Style.Render(vl.Word),
				model.Sanitize(v.Project), credits(used), model.Sanitize(v.Status.Unreadable))
		case v.Level == model.LevelUnknown && v.Status.Unknown.Has(model.FigUsed):
			add("%s %s  verdict: project %s's credits cannot be read: level unknown against its usage limit of %s credits · %s", vl.Style.Render(vl.Symbol), vl.Style.Render(vl.Word),
				model.Sanitize(v.Project), credits(limit), model.Sanitize(v.Status.Unreadable))
		case v.Level == model.LevelUnknown:
			add("%s %s  verdict: project %s's level unknown · %s", vl.Style.Render(vl.Symbol), vl.Style.Render(vl.Word),
				model.Sanitize(v.Project), model.Sanitize(v.Status.Unreadable))
		case v.Status.LimitHeld && v.Status.Cap > 0:
			// the API refuses it whatever the counters leave: both said, whose is whose
			add("%s %s  verdict: %s · the API refuses its calls (402 budget_exceeded); by the counters %s of its usage limit (%s of %s credits)",
				vl.Style.Render(vl.Symbol), vl.Style.Render(vl.Word), model.LimitReachedWords(v.Project), percent(v.Status.Percent), credits(used), credits(v.Status.Cap))
		case v.Status.LimitHeld:
			add("%s %s  verdict: %s · the API refuses its calls (402 budget_exceeded) by a usage limit mavtop was not told of (%s credits used)",
				vl.Style.Render(vl.Symbol), vl.Style.Render(vl.Word), model.LimitReachedWords(v.Project), credits(used))
		default:
			add("%s %s  verdict: project %s at %s of its usage limit (%s of %s credits)", vl.Style.Render(vl.Symbol), vl.Style.Render(vl.Word),
				model.Sanitize(v.Project), percent(v.Status.Percent), credits(used), credits(v.Status.Cap))
		}
	}
	set := s.Settings
	var conf []string
	if s.HasAllocation {
		conf = append(conf, fmt.Sprintf("allocation %s", credits(set.Allocation)))
	}
	if s.HasCap() {
		th := make([]string, 0, 3)
		for _, t := range s.Thresholds {
			th = append(th, fmt.Sprintf("%d", t))
		}
		conf = append(conf, "alerts at "+strings.Join(th, "/")+" %")
	}
	if s.Recharged > 0 {
		conf = append(conf, "recharged +"+credits(s.Recharged))
	}
	if set.UsageLimit > 0 {
		conf = append(conf, "usage limit "+credits(set.UsageLimit))
	}
	if set.BudgetAlert > 0 {
		conf = append(conf, "budget alert "+credits(set.BudgetAlert))
	}
	if set.RechargeAmount > 0 {
		conf = append(conf, fmt.Sprintf("auto-recharge +%s below %s", credits(set.RechargeAmount), credits(set.RechargeBelow)))
	}
	if len(conf) > 0 {
		add("%s", st.Dim.Render(strings.Join(conf, " · ")))
	}
	if v := d.verdict; v.Project != "" && v.Level == model.LevelUnknown {
		// no forecast against a limit, or of credits, that cannot be read
		what := "usage limit cannot be read: no forecast against it"
		if !v.Status.UnreadableSettings && v.Status.Unknown.Has(model.FigUsed) {
			what = "credits cannot be read: no forecast against its usage limit"
		}
		add("%s", "project "+model.Sanitize(v.Project)+"'s "+what)
		add("%s", "workspace's own "+capName(s.CapKind)+": "+d.forecastLine(d.fc, false))
	} else if v.Project != "" {
		// the binding one first, as the row shows it; each says whose it is
		add("%s", "project "+model.Sanitize(v.Project)+"'s usage limit (sets the level): "+d.forecastLine(d.vfc, true))
		add("%s", "workspace's own "+capName(s.CapKind)+": "+d.forecastLine(d.fc, false))
	} else {
		add("%s", d.forecastLine(d.fc, false))
	}
	last := age(d.now(), s.LastTS)
	if s.LastTS == 0 && s.LastBefore > 0 {
		last = "over " + age(d.now(), s.LastBefore) + " (before what was read back)"
	}
	add("last event %s · 402s: %d credits_exhausted, %d budget_exceeded, %d other",
		last, s.Refused[model.RefusedCredits], s.Refused[model.RefusedBudget], s.Refused[model.RefusedOther])
	shown := 0
	for _, sc := range d.scores {
		if sc.Workspace != d.ws || shown == MaxDetailScores {
			continue
		}
		shown++
		// how far the run-out forecast can be trusted: it against the first
		// credits_exhausted 402 of a period
		add("forecast scored: %s", strings.TrimPrefix(model.Sanitize(sc.String(time.Local)), model.Sanitize(d.ws)+": "))
	}
	// the sentences above end in what an operator acts on (what remains,
	// "runs out in …", who refuses): wrapped, never cut
	if d.width > 0 {
		var head []string
		for _, l := range out {
			head = append(head, wrapLines(l, d.width, 2)...)
		}
		out = head
	}
	add("")
	if d.usedByPending {
		// credits by project and endpoint are still being read: zeros here
		// would be a wrong number, not a missing one
		add("%s", st.PaneTitle.Render("Projects"))
		add("%s", st.Dim.Render("  loading…"))
		add("")
		add("%s", st.PaneTitle.Render("Endpoints"))
		add("%s", st.Dim.Render("  loading…"))
	} else {
		d.layoutProjects(add)
	}
	add("")
	add("%s", st.PaneTitle.Render(fmt.Sprintf("Recent 402s (%d this period)", s.Refused.Total())))
	if len(d.refusals) == 0 {
		add("%s", st.Dim.Render("  none"))
	}
	for _, r := range d.refusals {
		// what support asks for first (code, request id), whole; the
		// message beside them when it fits, else wrapped on lines of its own
		ev := &r.Event
		line := fmt.Sprintf("  %s  %-17s %-20s %-10s %-15s", refusalTime(&r), model.Sanitize(orDash(ev.Code)),
			model.Sanitize(orDash(ev.Req)), shortName(orDash(ev.Project), 10), model.Sanitize(ev.Endpoint))
		msg := quoted(ev.Msg)
		if by := r.By.String(); d.width <= 0 || cellWidth(line)+1+cellWidth(by) <= d.width {
			line += " " + by
		} else { // who refused leads the message's lines rather than be cut at the edge
			msg = by + " · " + msg
		}
		if cellWidth(line)+2+cellWidth(msg) <= d.width {
			add("%s  %s", line, msg)
			continue
		}
		add("%s", line)
		for _, l := range strings.Split(ansi.Wrap(msg, max(d.width-12, 20), " -/"), "\n") {
			add("            %s", strings.TrimRight(l, " "))
		}
	}
	return out
}

func creditsOrDash(n int64) string {
	if n == 0 {
		return "—"
	}
	return credits(n)
}

// View draws the visible lines.
func (d Detail) View() string {
	if d.width <= 0 || d.height <= 0 {
		return ""
	}
	// scrolling moves the window, not a highlighted line
	from := min(d.top, len(d.lines))
	to := min(from+d.height, len(d.lines))
	lines := make([]string, 0, to-from)
	for _, l := range d.lines[from:to] {
		lines = append(lines, fit(l, d.width))
	}
	return strings.Join(lines, "\n")
}

// capName says which line the percent is of.
func capName(k model.CapKind) string {
	if k == model.CapLimit {
		return "usage limit"
	}
	return "allocation"
}

// forecastLine says the forecast in words, by the rules of README's
// "Forecasts": the burn and its window, idle, a step left out, auto-recharge.
// f is the workspace's own forecast, or (project) its binding project's.
func (d *Detail) forecastLine(f model.Forecast, project bool) string {
	st, s := d.st, d.sum
	if f.Loading && !(f.RemainingKnown && f.RunsOut && f.RunsOutIn == 0) {
		// judged on part of the hour, it could say idle where an instance
		// that watched all along says "runs out in 3 min"
		return st.Dim.Render("burn and forecast: loading… (the last hour is read back)")
	}
	fr := "burn " + compact(f.BurnPerHour) + "/h (" + humanize(f.Window) + ")"
	if f.Idle {
		fr = "idle"
		if !f.LastCharge.IsZero() {
			fr += ": nothing spent for " + humanize(d.now().Sub(f.LastCharge))
		}
		fr += " · burn 0/h"
	}
	if f.Step > 0 {
		fr += fmt.Sprintf(" · step +%s at %s left out of the burn", credits(f.Step), f.StepAt.Local().Format("15:04"))
	}
	if !f.RemainingKnown {
		if f.LimitHeld { // by a usage limit mavtop was not told of: no figure of it
			fr += " · " + st.Bad.Render(model.OutShort(model.CapLimit)+": 402 budget_exceeded newer than its last success")
		}
		return fr
	}
	fr += fmt.Sprintf(" · sustainable pace %s/h for the %s left", compact(f.PacePerHour), humanize(f.Left))
	switch {
	case s.Blocked && !project:
		fr += " · " + st.Bad.Render("refused: credits_exhausted (OUT until credits are added)")
	case f.LimitHeld:
		// the API refuses its calls (a budget_exceeded newer than the last
		// success, its limit not raised since): reached whatever the
		// counters leave, and "left cannot cover one typical charge" said
		// 27,000 could not cover 25
		held := model.OutShort(model.CapLimit) + ": 402 budget_exceeded newer than its last success"
		if f.Remaining > 0 {
			held += " (" + credits(f.Remaining) + " left by the counters)"
		}
		fr += " · " + st.Bad.Render(held)
	case f.Reached && f.Remaining > 0 && float64(f.Remaining) < f.TypicalCharge:
		fr += " · " + st.Bad.Render(fmt.Sprintf("reached: %s left cannot cover one typical charge (%s)", credits(f.Remaining), credits(model.RoundCredits(f.TypicalCharge))))
	case f.RunsOut && f.AfterRecharges:
		fr += " · " + st.Bad.Render(model.RechargeWords(f))
	case f.RunsOut && f.RunsOutIn == 0 && project:
		// the workspace has credits; the API refuses this project's calls
		// (budget_exceeded), as the row's "limit reached" says
		fr += " · " + st.Bad.Render(model.OutShort(model.CapLimit))
	case f.RunsOut && f.RunsOutIn == 0:
		// the row's words: a workspace at its own usage limit has not run
		// out of credits
		fr += " · " + st.Bad.Render(model.OutShort(s.Status.CapKind))
	case f.RunsOut:
		fr += " · " + st.Bad.Render("runs out in "+humanize(f.RunsOutIn))
	case f.RechargeDue:
		fr += " · " + model.RechargeWords(f)
	case f.FewCharges:
		fr += " · " + model.FewChargesWords(f)
	case f.Recharges && !f.Idle && f.BurnPerHour > 0:
		fr += fmt.Sprintf(" · no top-up needed this period (auto-recharge at %s left)", credits(f.RechargeBelow))
	case f.Idle:
	default:
		fr += " · lasts the period at this rate"
	}
	return fr
}

// projectCols is the cells a project row takes before its top endpoint, and
// topEndpointW what that endpoint and its credits need ("/video-analyses
// 15,724"): narrower than both, the top endpoint goes on a line of its own
// under its project, whole, rather than cut at the pane's edge.
const (
	projectCols  = 67
	topEndpointW = 24
)

// layoutProjects adds the projects' and endpoints' lines.
func (d Detail) layoutProjects(add func(string, ...any)) {
	st := d.st
	beside := d.width <= 0 || d.width >= projectCols+topEndpointW
	add("%s", st.PaneTitle.Render(fmt.Sprintf("Projects (%d)", len(d.projects))))
	if beside {
		add("%s", st.Dim.Render(fmt.Sprintf("  %-20s %12s %22s %6s  %s", "project", "used", "budget (alert/limit)", "402s", "top endpoint")))
	} else {
		add("%s", st.Dim.Render(fmt.Sprintf("  %-20s %12s %22s %6s", "project", "used", "budget (alert/limit)", "402s")))
	}
	for _, p := range d.projects {
		name := p.Name
		if name == "" {
			name = "(no project)"
		}
		budget, used := "—", credits(p.Used)
		switch {
		case p.Budget.Unreadable != "": // present, not none: "— / —" said none
			budget = "unreadable"
		case p.HasBudget:
			budget = creditsOrDash(p.Budget.Alert) + " / " + creditsOrDash(p.Budget.Limit)
			if p.Budget.Limit > 0 && p.Budget.UsageUnreadable == "" {
				budget += " (" + percent(p.Status.Percent) + ")"
			}
		}
		if p.Budget.UsageUnreadable != "" { // its credits cannot be read: no 0
			used = "unreadable"
		}
		top := "—"
		if len(p.Endpoints) > 0 {
			top = fmt.Sprintf("%s %s", p.Endpoints[0].Endpoint, credits(p.Endpoints[0].Credits))
		}
		if beside {
			add("  %-20s %12s %22s %6d  %s", truncate(name, 20), used, budget, p.Refused.Total(), top)
			continue
		}
		add("  %-20s %12s %22s %6d", truncate(name, 20), used, budget, p.Refused.Total())
		if len(p.Endpoints) > 0 {
			add("%s", st.Dim.Render(fmt.Sprintf("    top endpoint %s", top)))
		}
	}
	add("")
	add("%s", st.PaneTitle.Render("Endpoints"))
	for _, e := range d.eps {
		add("  %-20s %12s", truncate(e.Endpoint, 20), credits(e.Credits))
	}
	// a project whose credits cannot be read is in none of the lines above:
	// they add up to less than the workspace used, and say so
	var unread []string
	for _, p := range d.projects {
		if p.Budget.UsageUnreadable != "" {
			name := p.Name
			if name == "" {
				name = "(no project)"
			}
			unread = append(unread, name)
		}
	}
	if len(unread) > 0 {
		slices.Sort(unread)
		words := fmt.Sprintf("  incomplete: project %s's credits cannot be read", truncate(unread[0], 20))
		if len(unread) > 1 {
			words = fmt.Sprintf("  incomplete: the credits of %d projects cannot be read (%s)", len(unread), truncate(strings.Join(unread, ", "), 40))
		}
		add("%s", st.Warn.Render(words))
	}
}
