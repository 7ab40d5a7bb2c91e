package model

// RefusalClass splits 402s by the API's error code.
type RefusalClass uint8

const (
	// RefusedCredits is 402 credits_exhausted: the account has no credits left.
	RefusedCredits RefusalClass = iota
	// RefusedBudget is 402 budget_exceeded: a workspace or project usage limit.
	RefusedBudget
	// RefusedOther is any other 402 (a lapsed subscription, an unknown code).
	RefusedOther
	refusalClasses
)

// ClassOf maps a 402's error code to its class.
func ClassOf(code string) RefusalClass {
	switch code {
	case CodeCreditsExhausted:
		return RefusedCredits
	case CodeBudgetExceeded:
		return RefusedBudget
	}
	return RefusedOther
}

// Refusals counts 402s by class.
type Refusals [refusalClasses]int64

// Total is the number of 402s of every class, saturated (AddCredits): the
// counts come from Redis, and two near 2^63 summed to -2 on check's row, its
// JSON and the detail pane while each code's own figure did not wrap.
func (r Refusals) Total() int64 {
	return AddCredits(AddCredits(r[RefusedCredits], r[RefusedBudget]), r[RefusedOther])
}

// Budget names which budget refused a request.
type Budget uint8

const (
	// BudgetUnknown: a 402 we cannot attribute (an unknown code).
	BudgetUnknown Budget = iota
	// BudgetAccount: the account's credits are used up (credits_exhausted).
	BudgetAccount
	// BudgetWorkspace: the workspace's usage limit.
	BudgetWorkspace
	// BudgetProject: the project's usage limit.
	BudgetProject
	// BudgetWorkspaceOrProject: budget_exceeded while mavtop knows no usage
	// limit of the workspace or the project: the API's limit is one mavtop
	// was not told of, and nothing more is known (see Refusal.Why).
	BudgetWorkspaceOrProject
	// BudgetBoth: budget_exceeded when the workspace's and the project's usage
	// limits are both reached (or have as few credits left): either refuses it.
	BudgetBoth
)

// String names the budget for the 402 log's "refused by" column. It says
// only what is known: a budget_exceeded with no usage limit set in mavtop is
// "no limit set", not a guessed "workspace/project budget".
func (b Budget) String() string {
	switch b {
	case BudgetAccount:
		return "account credits"
	case BudgetWorkspace:
		return "workspace limit"
	case BudgetProject:
		return "project limit"
	case BudgetWorkspaceOrProject:
		return "no limit set"
	case BudgetBoth:
		return "both limits"
	}
	return "unknown"
}

// Refusal is one 402 in the log, with the budget that refused it as judged when it arrived.
type Refusal struct {
	Event Event
	Class RefusalClass
	By    Budget
}

// At is when the 402 happened as far as mavtop can tell (unix ms): its
// event's trusted time (Event.At: its ts, unless that is later than its
// stream id's time or more than MaxClockBehind before it, then the id's
// time, Redis's clock). The 402 log's and the detail pane's time column show
// it, so a producer whose clock is hours off (or a hostile ts) cannot put a
// 402 that just happened hours in the past or in the future. Which period the
// 402 counts in is still its ts's.
func (r *Refusal) At() int64 { return r.Event.At() }

// Why says in one sentence who refused the call and why, as far as mavtop
// knows: "project training refused: budget exceeded; no usage limit is set
// for it in mavtop" — never a cause it cannot know. The 402 log's selected
// row and the detail pane say it.
func (r *Refusal) Why() string {
	e := &r.Event
	who := "workspace " + e.Workspace
	if e.Project != "" {
		who = "project " + e.Project
	}
	switch r.By {
	case BudgetAccount:
		return who + " refused: the account is out of credits (credits_exhausted)"
	case BudgetWorkspace:
		return who + " refused: workspace " + e.Workspace + " reached its usage limit (budget_exceeded)"
	case BudgetProject:
		return who + " refused: project " + e.Project + " reached its usage limit (budget_exceeded)"
	case BudgetBoth:
		return who + " refused: the workspace's and the project's usage limits are both reached (budget_exceeded)"
	case BudgetWorkspaceOrProject:
		return who + " refused: budget exceeded; no usage limit is set for it in mavtop"
	}
	code := e.Code
	if code == "" {
		code = "with no code"
	}
	return who + " refused: 402 " + code
}

// refusalRing keeps the last len(buf) refusals; memory is fixed.
type refusalRing struct {
	buf  []Refusal
	next int
	n    int
}

func newRefusalRing(size int) refusalRing { return refusalRing{buf: make([]Refusal, size)} }

func (r *refusalRing) push(x Refusal) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.next] = x
	r.next = (r.next + 1) % len(r.buf)
	if r.n < len(r.buf) {
		r.n++
	}
}

// newest returns up to max refusals, newest first, appended to dst.
func (r *refusalRing) newest(dst []Refusal, max int) []Refusal {
	for i := 0; i < r.n && i < max; i++ {
		j := (r.next - 1 - i + 2*len(r.buf)) % len(r.buf)
		dst = append(dst, r.buf[j])
	}
	return dst
}

func (r *refusalRing) clone() refusalRing {
	c := *r
	c.buf = append([]Refusal(nil), r.buf...)
	return c
}

// Uncounted returns how many of the 402 log's rows (refusals from the
// stream, as Refusals lists them) the counters do not hold: per workspace,
// project and code, the rows of this period beyond the refused hash's count.
// The counters are the truth: a 402 written to the stream without its
// counter (a raw XADD), once the counters are read again, is listed but not
// counted, and a surface that gives both a count and the list says how many
// of the list are not in it.
//
// The answer is kept as 402s arrive (refuse moves it by the one or two
// fields a 402 touches: its own, and the row it pushes out of the log), and
// counted afresh over the log only when first asked after a Seed, a
// Backfill or a Clone: recounting the 500 rows at every 402 cost each
// dashboard 0.35-2.6 ms per 402 at 100k workspaces (6 % of a loaded Steady
// profile).
func (l *Ledger) Uncounted() int {
	if !l.uncounted.ok {
		l.recountUncounted()
	}
	return l.uncounted.n
}

// refusalField names a refused counter: a workspace's project's code.
type refusalField struct{ ws, project, code string }

func fieldOf(e *Event) refusalField { return refusalField{e.Workspace, e.Project, e.Code} }

// uncountedLog is Uncounted's answer kept: listed counts the log's rows of
// this period by field, n is the sum over them of the rows beyond their
// counter. ok is false until counted (and after anything but a 402 moved
// the log or the counters: refusalsChanged).
type uncountedLog struct {
	ok     bool
	listed map[refusalField]int64
	n      int
}

// recountUncounted counts Uncounted's answer over the log's rows.
func (l *Ledger) recountUncounted() {
	listed := map[refusalField]int64{}
	r := &l.refusals
	for i := 0; i < r.n; i++ {
		e := &r.buf[(r.next-1-i+2*len(r.buf))%len(r.buf)].Event
		if l.period.Contains(e.TS) {
			listed[fieldOf(e)]++
		}
	}
	l.uncounted = uncountedLog{ok: true, listed: listed}
	for f := range listed {
		l.uncounted.n += l.beyondCounter(f)
	}
}

// counted is f's refused counter.
func (l *Ledger) counted(f refusalField) int64 {
	if w := l.ws[f.ws]; w != nil {
		if p := w.projects[f.project]; p != nil {
			return p.refused[f.code]
		}
	}
	return 0
}

// beyondCounter is how many of f's rows listed its counter does not hold.
func (l *Ledger) beyondCounter(f refusalField) int {
	return int(max(l.uncounted.listed[f]-l.counted(f), 0))
}

// uncountedStep is what a 402 moves in the kept answer: its own field
// (listed when in the period) and the row it pushes out of a full log
// (unlisted when it was listed).
type uncountedStep struct {
	f, out     refusalField
	in, pushed bool
	touched    [2]refusalField
	nTouched   int
}

// uncountedBefore takes away the part of the answer of the fields the 402 e
// touches, before it is counted and pushed into the log (refuse).
func (l *Ledger) uncountedBefore(e *Event) uncountedStep {
	t := uncountedStep{f: fieldOf(e), in: l.period.Contains(e.TS)}
	t.touched[0], t.nTouched = t.f, 1
	if r := &l.refusals; len(r.buf) > 0 && r.n == len(r.buf) {
		if old := &r.buf[r.next].Event; l.period.Contains(old.TS) {
			t.out, t.pushed = fieldOf(old), true
			if t.out != t.f {
				t.touched[1], t.nTouched = t.out, 2
			}
		}
	}
	for _, f := range t.touched[:t.nTouched] {
		l.uncounted.n -= l.beyondCounter(f)
	}
	return t
}

// uncountedAfter lists e's row and unlists the one pushed out, and adds the
// touched fields' part of the answer again: the answer holds again.
func (l *Ledger) uncountedAfter(t *uncountedStep) {
	u := &l.uncounted
	if t.in {
		u.listed[t.f]++
	}
	if t.pushed {
		if u.listed[t.out]--; u.listed[t.out] <= 0 {
			delete(u.listed, t.out)
		}
	}
	for _, f := range t.touched[:t.nTouched] {
		u.n += l.beyondCounter(f)
	}
	u.ok = true
}

// limitHeld says which usage limits a budget_exceeded 402 of project p of
// workspace w holds reached: the project's (project), the workspace's own
// (workspace), or both. It holds while it stands — limitStands: newer than
// p's last success and dated at or after its limit's last raise or removal
// (limitRaisedStamp), this period — and the refused hash counts it (the counters are the
// truth: a 402 in the stream alone holds nothing). Which limit refused is
// the 402 log's rule (refusedBy) on what the ledger holds now: the one of
// the two that is set, the nearer of both, either when they are as near.
// With neither known to mavtop the project's, or the workspace's for a
// call made without a project (only its limit can refuse that).
func (p *projState) limitHeld(w *wsState) (project, workspace bool) {
	if p.refused[CodeBudgetExceeded] <= 0 || !p.limitStands(w) {
		return false, false
	}
	switch refusedBy(w, p, RefusedBudget) {
	case BudgetProject:
		return true, false
	case BudgetWorkspace:
		return false, true
	case BudgetBoth:
		return true, true
	}
	return p.name != "", p.name == "" // BudgetWorkspaceOrProject
}

// limitHeld reports whether a budget_exceeded 402 holds the workspace's own
// usage limit reached (projState.limitHeld of any of its projects). It walks
// the projects only when the refused hash counts such a 402 this period.
func (w *wsState) limitHeld() bool {
	if w.refused[RefusedBudget] <= 0 {
		return false
	}
	for _, p := range w.projects {
		if _, ws := p.limitHeld(w); ws {
			return true
		}
	}
	return false
}
