package cmd

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/feed"
	"mavtop/internal/memlimit"
	"mavtop/model"
)

// Monitoring-plugin exit codes.
const (
	checkOK       = model.CheckOK
	checkWarning  = model.CheckWarning
	checkCritical = model.CheckCritical
	checkUnknown  = model.CheckUnknown
)

var checkNames = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// checkWords are checkNames as a row's "check" says them: lowered once, not
// once a row (100k allocations at 100k workspaces).
var checkWords = [...]string{"ok", "warning", "critical", "unknown"}

// wsRow is one workspace as check and budget show report it: a model.Summary
// from a ledger seeded with the snapshot, so its level is the dashboard's.
type wsRow struct {
	Workspace  string  `json:"workspace"`
	Used       int64   `json:"used"`
	Allocation int64   `json:"allocation"`
	Recharged  int64   `json:"recharged"`
	UsageLimit int64   `json:"usage_limit"`
	Cap        int64   `json:"cap"`
	CapKind    string  `json:"cap_kind"`
	Percent    float64 `json:"percent"`
	// LimitPercent is used as a percentage of the usage limit (0 without one).
	LimitPercent float64 `json:"limit_percent"`
	Thresholds   []int   `json:"thresholds"`
	// Level is the workspace's level, the verdict (Verdict says the same
	// word): the worse of its own cap's and its limited projects', as the
	// dashboard's row and /metrics' workspace_level give it; Percent and
	// Cap are its own cap's figures.
	Level       string         `json:"level"`
	Remaining   *int64         `json:"remaining"`
	Refused     int64          `json:"refused_402"`
	HasSettings bool           `json:"has_settings"`
	Settings    model.Settings `json:"settings"`
	Check       string         `json:"check,omitempty"`
	// LastEventAt is the time of the workspace's newest event of this
	// billing period (its ts in the period: its credits in these counters)
	// among the stream entries check read, nil when none of them is; Stale
	// is true when --stale is given and no event of it, of any period, is
	// that recent.
	LastEventAt *time.Time `json:"last_event_at"`
	// LastEventBefore, when LastEventAt is nil and the workspace has credits
	// used, 402s or recharges this period, is the time in the id of the
	// oldest entry read: its newest event is older (LAST EVENT "> 3 h", not
	// "—"; model.Summary.LastBefore on the dashboard).
	LastEventBefore *time.Time `json:"last_event_before,omitempty"`
	Stale           bool       `json:"stale,omitempty"`
	// Unreadable names a counter of the workspace that holds no integer
	// (see feed.SnapshotResult.BadCounters): its usage, and so its percent and
	// level, are unknown, so Level, Check and Verdict say "unknown" and Used
	// (0) is no reading; the perfdata writes it U.
	Unreadable string `json:"unreadable,omitempty"`
	// RefusedUnreadable names the workspace's 402 count that cannot be read
	// (model.Snapshot.RefusedUnreadable): only Refused is unknown (null in
	// --json); its usage and level are judged by its own counters.
	RefusedUnreadable string `json:"refused_unreadable,omitempty"`
	// Verdict is the workspace judged with its projects' usage limits
	// (model.Ledger.Verdict): the most severe level of its budgets, and the
	// project whose limit sets it ("" for the workspace's own cap).
	Verdict        string `json:"verdict"`
	VerdictProject string `json:"verdict_project,omitempty"`
	// LimitReached is the verdict's (model.Verdict.LimitReached): a usage
	// limit is reached — VerdictProject's, or the workspace's own when it is
	// "" — by the counters or by a budget_exceeded 402 that stands; the
	// workspace is critical, not OUT.
	LimitReached bool `json:"limit_reached,omitempty"`
	// Projects are the workspace's projects (see workspaceRows, attachProjects): in budget
	// show every named one, in check those with a usage limit.
	Projects []projectRow `json:"projects"`
	level    model.Level
	verdict  model.Level
	// freshAt is the workspace's newest event among the entries read,
	// whatever period its ts chose (feed.Newest.At): --stale's time
	freshAt time.Time
	// pattern1 is true for a row read from the Pattern 1 counters, which
	// count credits by workspace only: its 402s and its projects' usage are
	// not measured (the perfdata writes them U)
	pattern1  bool
	ownCode   int // the workspace's own cap's status, without its projects
	checkCode int
	// critPercent is the percent --crit reads (model.Status.CriticalPercent):
	// Percent, or LimitPercent when auto-recharge tops the cap up
	critPercent float64
	// topsUp: auto-recharge tops up the cap that binds (model.Status.TopsUp),
	// so critical is by the usage limit, not the cap
	topsUp bool
	// limitHeld: a budget_exceeded 402 that stands holds the workspace's own
	// usage limit reached (model.Status.LimitHeld)
	limitHeld bool
	// lastEventUnknown: the stream cannot be read (its key another type, the
	// ACL), so LastEventAt is unknown, not "no event" (--json's top-level
	// "stream_unreadable" says why)
	lastEventUnknown bool
	// unknown: the figures the model could not know (model.Status.Unknown;
	// Unreadable says why): each is shown unknown, the others as read
	unknown model.Figures
}

// judgedLedger seeds a ledger with the snapshot, as the dashboard's is, under
// the default thresholds the dashboard is given. When the snapshot came from
// the stream (stream true) the refusals the counters cannot order are ordered
// by the history (orderRefusalsOf, every workspace seeded), so OUT is the
// same verdict on every surface.
// The error is Redis's.
func judgedLedger(ctx context.Context, c redis.UniversalClient, keys feed.Keys, res *feed.SnapshotResult, defaults []int, now time.Time, stream bool) (*model.Ledger, error) {
	l := model.NewLedger(res.Rule, now).WithDefaultAlerts(defaults)
	l.Seed(res.Snap, now)
	if !stream {
		return l, nil
	}
	undecided := model.RefusalUndecided(res.Snap)
	if len(undecided) == 0 {
		return l, nil
	}
	_, err := orderRefusalsOf(ctx, c, keys, res.Snap, now, l, undecided, nil, nil)
	return l, err
}

// decideRefusal asks whether ws's refusal is decided (Ledger.RefusalDecided)
// and takes it off undecided when it is; one left waiting for older ids
// (Ledger.RefusalAwaitsOlderIDs: its raise, or a recharge that may end its
// 402) is noted in waiting, made when needed, which it returns.
func decideRefusal(l *model.Ledger, ws string, undecided map[string]int64, waiting map[string]bool) map[string]bool {
	switch {
	case l.RefusalDecided(ws):
		delete(undecided, ws)
		delete(waiting, ws)
	case l.RefusalAwaitsOlderIDs(ws):
		if waiting == nil {
			waiting = map[string]bool{}
		}
		waiting[ws] = true
	}
	return waiting
}

// reaskWaiting asks again, after a page of the history, for the workspaces
// waiting for older ids: another workspace's entries may have taken the
// read there (Ledger.RefusalAwaitsOlderIDs).
func reaskWaiting(l *model.Ledger, undecided map[string]int64, waiting map[string]bool) {
	for ws := range waiting {
		if l.RefusalDecided(ws) {
			delete(undecided, ws)
			delete(waiting, ws)
		}
	}
}

// judgeWorkspaces calls start with the number of workspaces of the snapshot,
// then visit with each judged as judgedLedger's ledger judges it, and its
// index in name order, from several goroutines at once
// (model.JudgeSnapshotEach: the ledger's judgement without the ledger, which
// check never reads again).
// When some refusals need the history to be ordered (model.RefusalUndecided),
// a ledger is seeded with the part of the snapshot about the workspaces
// whose refusal state the history may set (historySeeds; model.Snapshot.Only)
// and given the history of them alone (orderRefusalsOf), as judgedLedger's
// is given the whole: a workspace's refusal state is folded from its own
// entries only (model.Ledger.Backfill), so the others' entries are not even
// decoded, and every other workspace is judged by its counters, as a ledger
// seeded with them holds it. Entries the counters do not hold (a recharge of
// a workspace they hold OUT, never recharged) put their workspace among the
// seeded, and the history is read once more (rare: before, the history was
// read twice whenever it named any workspace not undecided, and the second
// read seeded them all). The error is Redis's.
func judgeWorkspaces(ctx context.Context, c redis.UniversalClient, keys feed.Keys, res *feed.SnapshotResult, defaults []int, now time.Time, stream bool, start func(n int), visit func(i int, j *model.Judged)) error {
	var refusing map[string]model.RefusalState
	var undecided map[string]int64
	if stream {
		undecided = model.RefusalUndecided(res.Snap)
	}
	if len(undecided) > 0 {
		seeded, credits := historySeeds(res.Snap, undecided)
		var l *model.Ledger
		for {
			l = model.NewLedger(res.Rule, now).WithDefaultAlerts(defaults)
			l.Seed(res.Snap.Only(seeded), now)
			late, err := orderRefusalsOf(ctx, c, keys, res.Snap, now, l, maps.Clone(undecided), seeded, credits)
			if err != nil {
				return err
			}
			if len(late) == 0 {
				break
			}
			maps.Copy(seeded, late)
		}
		refusing = make(map[string]model.RefusalState, len(seeded))
		for ws := range seeded {
			if r, ok := l.RefusalState(ws); ok {
				refusing[ws] = r
			}
		}
	}
	// on every core (model.JudgeSnapshotEach): judging 100k workspaces took
	// as long as reading them
	model.JudgeSnapshotEach(res.Snap, defaults, refusing, runtime.GOMAXPROCS(0), start, visit)
	return nil
}

// historySeeds are the workspaces of s whose refusal state the history read
// back may set (seeded), and those whose counters hold them OUT (credits),
// whose state an entry the counters do not hold may still change:
//   - the undecided ones (model.RefusalUndecided);
//   - those with a counter that cannot be read (model.Snapshot.Unreadable,
//     RefusedUnreadable): the counters say nothing of their 402s, so every
//     402 read back refuses (the ledger's refusalsReadable);
//   - credits: those with a credits_exhausted 402 counted this period
//     (model.ClassOf's RefusedCredits), which a recharge, or an allocation
//     raised after an entry (Settings.RaisedAt), ends.
func historySeeds(s *model.Snapshot, undecided map[string]int64) (seeded map[string]int64, credits map[string]bool) {
	seeded = maps.Clone(undecided)
	for ws := range s.Unreadable {
		seeded[ws] = 0
	}
	for ws := range s.RefusedUnreadable {
		seeded[ws] = 0
	}
	credits = map[string]bool{}
	for f, n := range s.Refused {
		if ws, _, code, ok := model.SplitRefusedField(f); ok && n > 0 && model.ClassOf(code) == model.RefusedCredits {
			credits[ws] = true
		}
	}
	return seeded, credits
}

// orderRefusalsOf decides the workspaces of l both refused with
// credits_exhausted and given credit this period (undecided, from
// model.RefusalUndecided: the counters cannot say which came last) from the
// history the dashboard reads back at start (model.History, at most
// feed.DefaultHistoryLimit entries), read newest first from s's id and only
// until every one is decided; undecided is emptied as they are. l holds
// the workspaces seeded only (nil: every workspace of s): the history read
// back (feed.ReadHistoryOf) decodes only their entries, the recharges and
// the entries of the workspaces in credits with an allocation raise
// stamped. It returns the workspaces not seeded of credits that an entry
// read may take out of OUT (a recharge, or an entry older than the
// allocation's raise): their refusal state is the history's, not the
// counters', so they must be seeded too. The error is Redis's.
func orderRefusalsOf(ctx context.Context, c redis.UniversalClient, keys feed.Keys, s *model.Snapshot, now time.Time, l *model.Ledger, undecided, seeded map[string]int64, credits map[string]bool) (map[string]int64, error) {
	var late map[string]int64
	var waiting map[string]bool
	p := l.Period()
	isSeeded := func(ws string) bool {
		_, ok := seeded[ws]
		return ok || seeded == nil
	}
	want := func(ws string) bool { return isSeeded(ws) || credits[ws] && s.Settings[ws].RaisedAt > 0 }
	err := feed.ReadHistoryOf(ctx, c, keys, s.StreamID, now, model.History, feed.DefaultHistoryLimit, want,
		func(evs []model.Event, from time.Time, _ int64, _ bool) bool {
			l.Backfill(evs, from)
			for i := range evs {
				e := &evs[i]
				if !isSeeded(e.Workspace) {
					if credits[e.Workspace] && p.Contains(e.TS) && (e.Kind == model.KindRecharge || s.Settings[e.Workspace].RaisedAt > e.At()) {
						if late == nil {
							late = map[string]int64{}
						}
						late[e.Workspace] = 0
					}
					continue
				}
				if _, ok := undecided[e.Workspace]; ok && p.Contains(e.TS) {
					waiting = decideRefusal(l, e.Workspace, undecided, waiting)
				}
			}
			reaskWaiting(l, undecided, waiting)
			return len(undecided) > 0
		})
	return late, err
}

// checkRows lists every workspace of the snapshot, judged (judgeWorkspaces),
// as workspaceRows lists a ledger's. The error is Redis's.
func checkRows(ctx context.Context, c redis.UniversalClient, keys feed.Keys, res *feed.SnapshotResult, defaults []int, now time.Time, stream bool) ([]wsRow, error) {
	return checkRowsEach(ctx, c, keys, res, defaults, now, stream, nil)
}

// checkRowsEach is checkRows calling each (when not nil) with every row as
// soon as it is written, from the goroutines that judge the workspaces (a
// row each, written by that call alone): check's --warn/--crit judgement of
// a row there reads it while it is in the cache, on both cores, where a
// walk of the 44 MB of rows after (at 100k workspaces) missed the cache on
// each row.
func checkRowsEach(ctx context.Context, c redis.UniversalClient, keys feed.Keys, res *feed.SnapshotResult, defaults []int, now time.Time, stream bool, each func(r *wsRow)) ([]wsRow, error) {
	var rows []wsRow
	var remaining []int64 // each row's Remaining points here: one allocation, not one a row
	err := judgeWorkspaces(ctx, c, keys, res, defaults, now, stream,
		func(n int) {
			rows, remaining = make([]wsRow, n), make([]int64, n)
			// 440 bytes a row, written once: huge pages, not a fault
			// every 4 KiB in a fresh process (memlimit.AdviseHuge)
			memlimit.AdviseHuge(unsafe.Pointer(unsafe.SliceData(rows)), uintptr(n)*unsafe.Sizeof(wsRow{}))
		},
		func(i int, j *model.Judged) {
			judgeRowInto(&rows[i], j, &remaining[i])
			if each != nil {
				each(&rows[i])
			}
		})
	markRefusedUnreadable(rows, res.Snap)
	return rows, err
}

// markRefusedUnreadable says on each row whose 402 count cannot be read
// (model.Snapshot.RefusedUnreadable) which count and why; a row whose usage
// is unknown already says so.
func markRefusedUnreadable(rows []wsRow, s *model.Snapshot) {
	if len(s.RefusedUnreadable) == 0 {
		return
	}
	for i := range rows {
		if why, ok := s.RefusedUnreadable[rows[i].Workspace]; ok && rows[i].Unreadable == "" {
			rows[i].RefusedUnreadable = why
		}
	}
}

// workspaceRows lists every workspace of the ledger (seen in counters or
// settings) with its summary and verdict, sorted by name, and as its Projects
// those with a usage limit, the ones its verdict weighs (budget show replaces
// them with every named one: attachProjects).
func workspaceRows(l *model.Ledger) []wsRow {
	rows := make([]wsRow, 0, l.Len())
	// one walk of the ledger (model.Ledger.JudgeAll): a Summary and a Verdict
	// by name for each workspace cost more than judging it at 100k
	l.JudgeAll(func(j *model.Judged) { rows = append(rows, judgedRow(j)) })
	return rows
}

// limitSetsLevel reports whether r's usage limit sets its level while
// auto-recharge tops its cap up (model.Verdict.Status: critical by the
// limit's last threshold, the allocation plus recharges binding): its
// percent of the limit is then the figure behind the level, which check's
// row and budget show's PERCENT add to the cap's ("96.3 % (90.3 % of limit
// 1600)"), as the dashboard's "90.3 % lim" and check's status line say — the
// cap's percent alone read as what made it critical.
func (r *wsRow) limitSetsLevel() bool {
	return r.topsUp && r.verdict == model.LevelCritical && r.VerdictProject == "" && !r.limitHeld && !r.unknown.Has(model.FigLimit)
}

// judgedRow is one judged workspace as a row, with the projects its verdict weighs.
func judgedRow(j *model.Judged) wsRow {
	var r wsRow
	judgeRowInto(&r, j, nil)
	return r
}

// judgeRowInto is judgedRow written into *r, with its Remaining (when known)
// in *rem (a new int64 when rem is nil).
func judgeRowInto(r *wsRow, j *model.Judged, rem *int64) {
	s := &j.Summary
	*r = wsRow{
		Workspace: s.Name, Used: s.Used, Allocation: s.Settings.Allocation, Recharged: s.Recharged,
		UsageLimit: s.Settings.UsageLimit, Cap: s.Cap, CapKind: s.CapKind.String(), Percent: s.Percent, LimitPercent: s.LimitPercent,
		// Level is the verdict, the row's level on every surface (the
		// dashboard's row, /metrics' workspace_level): a workspace whose
		// project is over its usage limit read "ok" here (its own cap)
		// beside the row's ▲ crit and this CHECK's critical
		Thresholds: s.Thresholds, Level: j.Verdict.Level.String(), Refused: s.Refused.Total(),
		HasSettings: s.HasSettings, Settings: s.Settings, level: s.Level,
		Verdict: j.Verdict.Level.String(), VerdictProject: j.Verdict.Project, verdict: j.Verdict.Level,
		LimitReached: j.Verdict.LimitReached, limitHeld: s.LimitHeld, critPercent: s.CriticalPercent(), topsUp: s.TopsUp,
	}
	if s.RemainingKnown {
		if rem == nil {
			rem = new(int64)
		}
		*rem = s.Remaining
		r.Remaining = rem
	}
	for _, p := range j.Limited {
		if p.Name != "" {
			r.Projects = append(r.Projects, projectOf(&p))
		}
	}
	if s.Unreadable != "" {
		// a figure the model could not read: what it leaves unknown
		// (model.Status.Unknown) is shown so, the rest as read — a level it
		// cannot change (used ≥ the usage limit whatever the recharges; the
		// API's credits_exhausted 402 whatever the settings) is judged
		r.unreadable(s.Unreadable, s.Unknown)
	}
}

// unreadable marks on a row the figures the model could not know (unknown,
// model.Status.Unknown; why says which key or field cannot be read). A level
// it judged unknown (model.LevelUnknown) has the check status that goes with
// it, UNKNOWN, whatever --warn and --crit say; a known level is judged as
// any (wsRow.judge).
func (r *wsRow) unreadable(why string, unknown model.Figures) {
	r.Unreadable, r.unknown = why, unknown
	if unknown.Has(model.FigUsed) {
		r.Used = 0
		for i := range r.Projects { // a project's credits are counted beside the workspace's
			r.Projects[i].Check, r.Projects[i].Level = "unknown", "unknown"
			r.Projects[i].checkCode = checkUnknown
		}
	}
	if unknown.Has(model.FigRecharged) {
		r.Recharged = 0
	}
	if unknown.Has(model.FigCap) {
		r.Cap = 0
	}
	if unknown.Has(model.FigPercent) {
		r.Percent, r.Remaining = 0, nil
	}
	if unknown.Has(model.FigLimit) {
		r.LimitPercent = 0
	}
	if r.level == model.LevelUnknown {
		r.Level, r.ownCode = "unknown", checkUnknown
		if r.verdict == model.LevelUnknown || unknown.Has(model.FigUsed) {
			// a project at its usage limit is refused whatever the
			// workspace's own settings say: that verdict stands
			r.Verdict, r.Check, r.checkCode = "unknown", "unknown", checkUnknown
		}
	}
}

// checkOf maps a level to a monitoring status: WARNING from the second
// threshold (high), CRITICAL from the third (critical) or when exhausted.
func checkOf(l model.Level) int {
	switch l {
	case model.LevelUnknown: // a project budget that cannot be read sets the verdict
		return checkUnknown
	case model.LevelExhausted, model.LevelCritical:
		return checkCritical
	case model.LevelHigh:
		return checkWarning
	}
	return checkOK
}

// judge sets the row's check status and its projects': by the workspace's
// verdict (model.Ledger.Verdict: its own level or a project's, the worse), or,
// when fixed is true (--warn/--crit given), by the percent of each budget's cap
// — the workspace's effective cap, each project's usage limit — against warn
// and crit, the worst of them.
func (r *wsRow) judge(fixed bool, warn, crit float64) {
	r.ownCode = budgetCheck(r.level, r.Cap > 0, r.Percent, r.critPercent, fixed, warn, crit)
	if fixed && r.unknown.Has(model.FigPercent) && r.level != model.LevelExhausted {
		r.ownCode = checkUnknown // a percent --warn/--crit cannot read
	}
	if r.limitHeld && r.level != model.LevelUnknown {
		// the API refuses it at its usage limit (a budget_exceeded 402 that
		// stands): critical whatever percent --warn/--crit read, as exhausted
		r.ownCode = checkCritical
	}
	r.checkCode = checkOf(r.verdict)
	if fixed {
		r.checkCode = r.ownCode
	}
	for i := range r.Projects {
		p := &r.Projects[i]
		p.checkCode = budgetCheck(p.level, p.Budget.Limit > 0, p.Percent, p.Percent, fixed, warn, crit)
		p.Check = checkWords[p.checkCode]
		if fixed {
			r.checkCode = model.WorseCheck(r.checkCode, p.checkCode)
		}
	}
	r.Check = checkWords[r.checkCode]
}

// budgetCheck is one budget's status: by its level, or with fixed by the
// percent of its cap against warn, and critPercent against crit (the
// percent the model judges critical by, model.Status.CriticalPercent: of the
// usage limit when auto-recharge tops the cap up); exhausted is critical
// either way.
func budgetCheck(level model.Level, hasCap bool, percent, critPercent float64, fixed bool, warn, crit float64) int {
	if !fixed || level == model.LevelUnknown {
		return checkOf(level)
	}
	switch {
	case level == model.LevelExhausted || hasCap && critPercent >= crit:
		return checkCritical
	case hasCap && percent >= warn:
		return checkWarning
	}
	return checkOK
}

// checkNewestEntries is how many of the newest stream entries check reads for
// each row's last event; with --stale it reads back that far too, at most
// checkStaleEntries.
const (
	checkNewestEntries = feed.RowAgeEntries // the dashboard dates the rows its hour leaves undated by as many
	checkStaleEntries  = 200_000
)

// stampLastEvents sets each row's LastEventAt from newest (feed.ReadNewestIn
// of the rows' billing period): the one source of a workspace's last event
// time for check and budget show, so the two never disagree (budget show
// --json said null where check gave a time). It is the row's newest event of
// that period (Newest.InPeriod), the ones its counters hold, as the
// dashboard's row age: an event written now with a ts in the period before
// read LAST EVENT "now" beside the row's "—".
// Its freshness (--stale WS) still counts every event of the workspace
// (Newest.At): one written now is a live producer, whatever period its ts
// chose.
func stampLastEvents(rows []wsRow, newest feed.Newest) {
	for i := range rows {
		if ms, ok := newest.InPeriod[rows[i].Workspace]; ok {
			t := time.UnixMilli(ms).UTC()
			rows[i].LastEventAt = &t
		} else if newest.Before > 0 && model.Active(rows[i].Used, rows[i].Refused, rows[i].Recharged) {
			t := time.UnixMilli(newest.Before).UTC()
			rows[i].LastEventBefore = &t
		}
		if ms, ok := newest.At[rows[i].Workspace]; ok {
			rows[i].freshAt = time.UnixMilli(ms)
		}
	}
}

func newCheckCmd() *cobra.Command {
	var rf redisFlags
	var sf sourceFlags
	var asJSON bool
	var warn, crit float64
	var stale time.Duration
	var defaults thresholdsFlag
	cmd := &cobra.Command{
		Use:   "check [WS...]",
		Short: "Check credit usage once, monitoring-plugin style (exit 0 ok, 1 warn, 2 crit, 3 unknown)",
		Long: `Read this period's counters once (O(workspaces); of the stream only its newest entries, for each row's last event,
with --stale D up to D back (at most 200,000 entries), and the last hour back, until each is decided, for a workspace refused with
credits_exhausted and given credit this period (a recharge or a raised allocation) or a project refused with
budget_exceeded) and
print per workspace the credits used, its cap, the percent used, the level, the
number of 402 refusals and the age of its newest event. The level is the
dashboard's: the percent is of the effective cap (the allocation plus this
period's recharges, or the usage limit when that is smaller), judged against the
workspace's own alert thresholds, else --default-alerts. Exit 0 (OK) below the
second threshold, 1 (WARNING) from the second (level high), 2 (CRITICAL) from the
third (level critical; with auto-recharge topping up the allocation, the third of
the usage limit) or when exhausted. --warn and --crit, when given (on the
command line, in the environment or in mavtop.toml), replace the thresholds with
fixed percents of the effective cap. --stale D: WARNING when the stream has had
no event for D (or, for workspaces named, when one of them has had none).

Exit 3 (UNKNOWN), with the reason, when a workspace named does not exist, when no
workspace is found at all (a wrong --key-prefix or db), when the settings of a
workspace judged or of the billing period cannot be read, on a usage error, and
when Redis cannot be read. The status line always goes to stdout; --json always
prints exactly one JSON object with "status" and "reason".`,
		Annotations: map[string]string{monitoringAnnotation: "check"},
		RunE: func(cmd *cobra.Command, args []string) error {
			fixed := given(cmd, "warn") || given(cmd, "crit")
			th, err := defaults.parse()
			if err != nil {
				return err
			}
			// One bound given alone wins over the other's default: --crit 60
			// alone means warn from 60 too, --warn 95 alone critical only when
			// exhausted, instead of a "warn > crit" refusal of a default the user
			// never wrote.
			switch {
			case given(cmd, "crit") && !given(cmd, "warn") && warn > crit:
				warn = crit
			case given(cmd, "warn") && !given(cmd, "crit") && crit < warn:
				crit = 100
			}
			// Written so that NaN fails too (every comparison with it is
			// false): --warn NaN judged nothing high and --json could not be
			// written. An infinite --crit would judge nothing critical.
			// Above 100 means nothing: at 100 % of its cap a budget is
			// exhausted, CRITICAL whatever --crit says (--crit 101 judged as
			// --crit 100, silently). --stale and --redis-timeout below 1 ns
			// are refused before (badDuration).
			if !(warn > 0 && crit > 0 && warn <= crit && crit <= 100) {
				return fmt.Errorf("--warn %g and --crit %g: want 0 < warn ≤ crit ≤ 100", warn, crit)
			}
			if _, err := sf.parse(); err != nil {
				return err // a usage error, named before Redis is asked anything
			}
			if err := checkWorkspaceArgs(args); err != nil {
				return err
			}
			// read, judge, print once and exit: the collector off while
			// it runs (memlimit.OneShot; GOGC and GOMEMLIMIT win)
			defer memlimit.OneShot(os.Getenv)()
			ctx, cancel := context.WithTimeout(cmd.Context(), rf.timeout)
			defer cancel()
			// RESP2: the counters and settings come as flat lists, read
			// without a map of each hash (feed.ReadWorkspaceSnapshot)
			c, err := rf.connectWith(ctx, feed.ConnectOptions{Protocol: 2, OneShot: true})
			if err != nil {
				if errors.Is(err, errNoRedis) {
					return err
				}
				return fmt.Errorf("Redis cannot be read: %w", err)
			}
			defer c.Close()
			th = sharedJudgement(ctx, c, rf.keys(), th, given(cmd, "default-alerts"), cmd.ErrOrStderr(), &sf, given(cmd, "counter-pattern"))
			now := time.Now()
			// check reports workspaces only: readUsage leaves out used_by (by
			// project and endpoint), the largest hash, which a level never needs
			res, kind, err := readUsage(ctx, c, rf.keys(), &sf, now)
			if err != nil {
				return fmt.Errorf("Redis cannot be read: %w", err)
			}
			for field, why := range res.BadSettings {
				if !reportsField(res, field, args) {
					continue // another workspace's: check WS reports on WS (issue 16)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "mavtop: settings field %q skipped: %s\n", field, oneLine(why))
			}
			if kind == feed.SourceStream {
				// the projects with a usage limit are judged too: their usage
				// is in used_by, which readUsage leaves out
				if err := feed.ReadLimitedProjects(ctx, c, rf.keys(), res); err != nil {
					return fmt.Errorf("Redis cannot be read: %w", err)
				}
			}
			// the stream's newest entries (each row's last event, --stale),
			// read before judging: when this period has no counter at all
			// they say whether anything was measured (nothingMeasured)
			var newest feed.Newest
			// a stream the server will not let be read (another type, the
			// ACL) decides no level: its figures (each row's last event,
			// --stale) are unknown and named, the counters judged
			streamWhy := res.StreamUnreadable()
			if kind == feed.SourceStream && streamWhy == "" {
				since, limit := now, checkNewestEntries
				if stale > 0 {
					since, limit = now.Add(-stale), checkStaleEntries
				}
				if newest, err = feed.ReadNewestIn(ctx, c, rf.keys(), res.Snap.Period, since, now, checkNewestEntries, limit); err != nil {
					var se *feed.StreamError
					if !errors.As(err, &se) {
						return fmt.Errorf("Redis cannot be read: %w", err)
					}
					streamWhy, newest = se.Why, feed.Newest{}
				}
			}
			nothing, err := nothingMeasured(ctx, c, rf.keys(), rf.prefix, res, kind, sf.pattern, newest)
			if err != nil {
				return fmt.Errorf("Redis cannot be read: %w", err)
			}
			if nothing != "" {
				// the model judges each workspace unknown (model.LevelUnknown):
				// its figures U in the perfdata, null in --json, never a 0
				// read as "nothing used"; the reason is said once
				for _, ws := range settingsWorkspaces(res.Snap) {
					res.Snap.MarkUnreadable(ws, nothing)
				}
			}
			// with the projects a verdict weighs; each row's check status
			// (--warn/--crit) set as it is made: the model's words alone
			// judge it (judgedRow), nothing read after changes them
			rows, err := checkRowsEach(ctx, c, rf.keys(), res, th, now, kind == feed.SourceStream, func(r *wsRow) {
				if r.Check == "unknown" && r.level == model.LevelUnknown {
					return // judged unknown (judgedRow); the status is UNKNOWN already (unreadable below)
				}
				r.judge(fixed, warn, crit)
			})
			if err != nil {
				return fmt.Errorf("Redis cannot be read: %w", err)
			}
			if kind == feed.SourceCounters {
				for i := range rows {
					rows[i].pattern1 = true
				}
			}
			var reasons []string
			unknown := false
			// A counter that cannot be read (no integer): the workspace it
			// counts for exists, its usage and so its level are unknown — the
			// model's judgement (model.LevelUnknown, Status.Unreadable), which
			// its row shows (judgedRow); the status line names every such
			// counter, and any other that was skipped.
			var unreadable []string
			// A field that names no workspace is junk beside the workspaces,
			// not one of them: named (sanitised) after the status, never
			// judged, so it makes no status UNKNOWN (a 10 kB settings field
			// hid an exhausted workspace behind UNKNOWN).
			var junk []string
			for name, why := range res.BadCounters {
				ws := counterWorkspace(name, kind, sf.pattern)
				if _, bad := res.BadKeys[name]; bad {
					// a key of another type (feed.SnapshotResult.BadKeys):
					// its why names it, and every workspace's row says it
					if len(args) == 0 && !slices.Contains(unreadable, why.Error()) {
						unreadable = append(unreadable, why.Error())
					}
					continue
				}
				if !model.IsID(ws) {
					junk = append(junk, fmt.Sprintf("%q", model.Sanitize(name)))
					continue
				}
				if len(args) == 0 || slices.Contains(args, ws) {
					unreadable = append(unreadable, fmt.Sprintf("counter %q cannot be read (%v)", name, why))
				}
			}
			if len(args) > 0 {
				var missing, projects []string
				for _, a := range args {
					if slices.ContainsFunc(rows, func(r wsRow) bool { return r.Workspace == a }) || slices.Contains(missing, a) || slices.Contains(projects, a) {
						continue
					}
					// WS/PROJECT, as the table's project rows read: check
					// judges a workspace with its projects, so name it
					if ws, _, ok := strings.Cut(a, "/"); ok && slices.ContainsFunc(rows, func(r wsRow) bool { return r.Workspace == ws }) {
						projects = append(projects, a)
						continue
					}
					missing = append(missing, a)
				}
				rows = slices.DeleteFunc(rows, func(r wsRow) bool { return !slices.Contains(args, r.Workspace) })
				for _, a := range projects {
					unknown = true
					ws, _, _ := strings.Cut(a, "/")
					reasons = append(reasons, fmt.Sprintf("%s is a project, not a workspace: check %s judges %s with its projects' usage limits (its CHECK)",
						model.Sanitize(a), model.Sanitize(ws), model.Sanitize(ws)))
				}
				if len(missing) > 0 {
					unknown = true
					where := fmt.Sprintf("none has counters this period or settings under key prefix %s", rf.prefix)
					if kind == feed.SourceCounters {
						where = fmt.Sprintf("no key matches --counter-pattern %s for it and it has no settings under key prefix %s; check --counter-pattern and --key-prefix", sf.pattern, rf.prefix)
					}
					reasons = append(reasons, fmt.Sprintf("no such workspace: %s (%s)", model.Sanitize(strings.Join(missing, ", ")), where))
				}
			} else if len(rows) == 0 && len(unreadable) == 0 {
				unknown = true
				reasons = append(reasons, noWorkspaceFound(kind, sf, rf.prefix, res.Snap.Period.Key))
			}
			// Settings a workspace judged has but that cannot be read (or the
			// billing period's): its allocation and limits are unknown, so is
			// its level; judged without them it read "no allocation", OK.
			for field, why := range res.BadSettings {
				ws, _, isProject := model.SplitProjectKey(field)
				if !isProject {
					ws = field
				}
				if _, bad := res.BadKeys[field]; bad { // the settings key of another type: its why names it
					if !slices.Contains(unreadable, why.Error()) {
						unreadable = append(unreadable, why.Error())
					}
					continue
				}
				if !model.IsID(ws) && field != feed.PeriodSettingsField {
					junk = append(junk, fmt.Sprintf("settings %q", model.Sanitize(field)))
					continue
				}
				if field == feed.PeriodSettingsField {
					// every workspace's period: UNKNOWN, or the WARNING or
					// CRITICAL the rows are judged (model.WorseCheck), with
					// the reason said (model.ParsePeriodConfig's)
					unreadable = append(unreadable, model.PeriodUnreadableWords(why.Error()))
					continue
				}
				if len(args) == 0 || slices.Contains(args, ws) {
					// oneLine: a joined error (several bad fields) would
					// break the status line, and its perfdata, over lines
					// the model's words, as the row's own reason says it
					unreadable = append(unreadable, model.UnreadableSettings(field, why))
				}
			}
			// the rows' worst check status, in the one walk of the rows
			// that names what cannot be read
			code := checkOK
			for i := range rows { // beyond the counters res.BadCounters names
				if r := &rows[i]; r.Check != "unknown" || r.level != model.LevelUnknown {
					code = model.WorseCheck(code, r.checkCode) // the row's status: r.judge, above
				}
				if why := rows[i].Unreadable; why != "" && !slices.Contains(unreadable, why) {
					unreadable = append(unreadable, why)
				}
				// a 402 count that cannot be read: named, but the row is
				// judged by what is known (a known 95 % is CRITICAL)
				if why := rows[i].RefusedUnreadable; why != "" && !slices.Contains(unreadable, why) {
					unreadable = append(unreadable, why)
				}
				// a limited project's credits that cannot be read: named,
				// the project unknown, the workspace judged by its own
				for _, p := range rows[i].Projects {
					if why := p.Budget.UsageUnreadable; why != "" && p.Budget.Judged() && !slices.Contains(unreadable, why) {
						unreadable = append(unreadable, why)
					}
				}
			}
			if kind == feed.SourceStream && streamWhy != "" {
				unreadable = append(unreadable, streamWhy+": each workspace's last event unknown")
				for i := range rows {
					rows[i].lastEventUnknown = true
				}
			}
			if len(unreadable) > 0 {
				slices.Sort(unreadable)
				unknown = true
				reasons = append(reasons, strings.Join(unreadable, "; "))
			}
			rowsCode, p := code, res.Snap.Period
			var feedAge *time.Duration
			var fresh model.Freshness // of the stream's newest entry: ids ahead of the clock?
			if kind == feed.SourceStream {
				var staleNamed []string
				stampLastEvents(rows, newest)
				for i := range rows {
					r := &rows[i]
					r.Stale = stale > 0 && newest.Complete && (r.freshAt.IsZero() || now.Sub(r.freshAt) > stale)
					if r.Stale && len(args) > 0 {
						staleNamed = append(staleNamed, r.Workspace)
					}
				}
				if ms, _, ok := model.ParseStreamID(res.Snap.StreamID); ok && ms > 0 {
					fresh = model.JudgeFreshness(time.UnixMilli(int64(ms)), now)
				}
				// No workspace to judge (none named exists, none at all: a
				// wrong prefix or db) or nothing measured is UNKNOWN; a stale
				// feed there is only the absence, and WARNING, worse by the
				// ranking, hid it. A stream that cannot be read says nothing
				// of staleness: named above (UNKNOWN beside the rows' levels).
				if stale > 0 && len(rows) > 0 && nothing == "" && streamWhy == "" {
					// the feed's newest producer entry (model.ProducerTime) in
					// the window read
					var lastMs int64
					for _, ms := range newest.At {
						lastMs = max(lastMs, ms)
					}
					last, ok := time.UnixMilli(lastMs), lastMs > 0
					switch {
					case fresh.Ahead > 0:
						// every time read is clamped to now: the entries' ages are unknown
						_, why := fresh.Stale(stale)
						reasons = append(reasons, fmt.Sprintf("%s (--stale %v)", why, stale))
						code = model.WorseCheck(code, checkWarning)
					case !ok && (!newest.Complete || newest.Whole):
						// none among the newest checkStaleEntries entries, all
						// written within --stale (settings entries), or none
						// in the whole stream (trimmed to settings entries:
						// the producer's may have gone a second ago): the
						// feed's age is unknown, never fresh, and no age is
						// claimed. Before (issue 11) the stream's newest id
						// of any kind dated it: OK; a whole stream read
						// "no event for over --stale" (hostile12 #5).
						_, why := model.Freshness{Beyond: newest.Entries}.Stale(stale)
						reasons = append(reasons, fmt.Sprintf("%s (--stale %v)", why, stale))
						code = model.WorseCheck(code, checkWarning)
					case !ok && newest.Complete:
						reasons = append(reasons, fmt.Sprintf("no event for over %v (--stale %v)", stale, stale))
						code = model.WorseCheck(code, checkWarning)
					case ok && now.Sub(last) > stale:
						_, why := model.JudgeFreshness(last, now).Stale(stale)
						reasons = append(reasons, fmt.Sprintf("%s (--stale %v)", why, stale))
						code = model.WorseCheck(code, checkWarning)
					case len(staleNamed) > 0:
						reasons = append(reasons, fmt.Sprintf("no event for over %v from %s", stale, strings.Join(staleNamed, ", ")))
						code = model.WorseCheck(code, checkWarning)
					}
					if ok && fresh.Ahead == 0 {
						d := now.Sub(last)
						feedAge = &d
					}
				}
			} else if stale > 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "mavtop: --stale needs the stream; the Pattern 1 counters carry no event times")
			}
			// the reason: the workspaces at the worst level, what is stale or missing
			reason := checkSummary(rows, rowsCode, p, now)
			if unknown {
				code = model.WorseCheck(code, checkUnknown)
			}
			switch {
			case len(reasons) == 0:
			case rowsCode == checkOK, rowsCode == checkUnknown:
				reason = strings.Join(reasons, "; ")
			case code == rowsCode:
				// the rows set the status (CRITICAL over an UNKNOWN): they
				// come first, the other reasons after
				reason = strings.Join(append([]string{reason}, reasons...), "; ")
			default:
				reason = strings.Join(append(reasons, reason), "; ")
			}
			if fresh.Ahead > 0 && stale <= 0 {
				// said whatever the status: the times of the entries are not
				// when they were written, and every age shown is a lower bound
				reason += "; " + model.AheadWords(fresh.Ahead)
			}
			if len(junk) > 0 && len(args) == 0 { // check WS... judges only those
				slices.Sort(junk)
				reason += "; " + junkNote(junk)
			}
			if asJSON {
				obj := map[string]any{
					"status": strings.ToLower(checkNames[code]), "code": code, "reason": reason,
					"period": p.Key, "period_start": p.Start, "period_end": p.End,
					"warn": warn, "crit": crit, "fixed_thresholds": fixed,
					"source": kind, "source_note": sourceNote(kind),
				}
				if stale > 0 {
					obj["stale_after_seconds"] = stale.Seconds()
				}
				if feedAge != nil {
					obj["feed_idle_seconds"] = feedAge.Seconds()
				}
				if fresh.Ahead > 0 {
					obj["ids_ahead_seconds"] = fresh.Ahead.Seconds()
				}
				if kind == feed.SourceStream && streamWhy != "" {
					obj["stream_unreadable"] = streamWhy
				}
				if res.PeriodUnreadable != "" {
					obj["period_config_unreadable"] = res.PeriodUnreadable
				}
				err = writeCheckJSON(cmd.OutOrStdout(), obj, rows)
			} else {
				err = printCheck(cmd.OutOrStdout(), rows, code, reason, now, fixed, warn, crit)
				if note := sourceNote(kind); err == nil && note != "" {
					_, err = fmt.Fprintln(cmd.OutOrStdout(), note)
				}
			}
			if err != nil {
				return exitf(checkUnknown, "write output: %v", err)
			}
			if code != checkOK {
				return &exitError{code: code, err: errSilent}
			}
			return nil
		},
	}
	rf.addFlags(cmd)
	sf.addFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of text (also on errors: status and reason)")
	cmd.Flags().Float64Var(&warn, "warn", 75, "when given: warning at this percent of the effective cap, instead of each workspace's second threshold (0 < warn ≤ crit ≤ 100)")
	cmd.Flags().Float64Var(&crit, "crit", 90, "when given: critical at this percent of the effective cap, instead of each workspace's third threshold (at most 100: a budget at its cap is exhausted, critical)")
	cmd.Flags().DurationVar(&stale, "stale", 0, "WARNING when the stream has had no event for this `duration` (workspaces named: when one of them has had none); rows older are flagged stale. Positive; not given: no such WARNING")
	atLeast(cmd.Flags(), "positive", "stale")
	defaults.add(cmd.Flags())
	return cmd
}

// junkNote names the fields that name no workspace (sorted, sanitised), at
// most checkJunkNamed of them, and how many there are.
func junkNote(junk []string) string {
	named := junk[:min(len(junk), checkJunkNamed)]
	more := ""
	if len(junk) > len(named) {
		more = fmt.Sprintf(" and %d more", len(junk)-len(named))
	}
	return fmt.Sprintf("%s naming no workspace, not judged: %s%s", model.CountOf(len(junk), "field"), strings.Join(named, ", "), more)
}

// checkJunkNamed is how many fields naming no workspace check's reason names.
const checkJunkNamed = 3

// monitoringAnnotation marks a command that follows the monitoring-plugin
// conventions: any failure, a usage error included, is UNKNOWN (3), never the
// 2 that a monitor reads as CRITICAL, and its status line goes to stdout.
const monitoringAnnotation = "mavtop/monitoring"

// reportUnknown prints a monitoring command's UNKNOWN status for msg (one
// line, see oneLine) on w: the status line, or with asJSON one JSON object with
// status and reason.
func reportUnknown(w io.Writer, asJSON bool, msg string) {
	reason := model.Sanitize(msg)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // "0 < warn ≤ crit", not "\u003c"
		_ = enc.Encode(map[string]any{"status": "unknown", "code": checkUnknown, "reason": reason})
		return
	}
	fmt.Fprintf(w, "MAVTOP UNKNOWN - %s\n", reason)
}

// wantsJSON reports whether the command line asks for --json, read from the
// raw arguments: a usage error stops flag parsing before --json may be seen.
// The last --json given wins, as it does for the flag (--json=false --json
// is JSON); an unparsable value is text.
func wantsJSON(args []string) bool {
	want := false
	for _, a := range args {
		switch {
		case a == "--":
			return want
		case a == "--json":
			want = true
		case strings.HasPrefix(a, "--json="):
			v, err := strconv.ParseBool(strings.TrimPrefix(a, "--json="))
			want = err == nil && v
		}
	}
	return want
}

// checkWorkspaceArgs refuses a WS argument that no workspace can be named
// (model.IsID: 1–model.MaxIDLen of [A-Za-z0-9._:-]), or WS/PROJECT with such
// a part: a usage error (UNKNOWN, exit 3, like every failure of a monitoring
// command), named before Redis is asked anything, instead of "no such
// workspace", which says the name was looked for.
func checkWorkspaceArgs(args []string) error {
	for _, a := range args {
		ws, project, isProject := strings.Cut(a, "/")
		if !model.IsID(ws) || isProject && !model.IsID(project) {
			return fmt.Errorf("%q is not a workspace id: want 1–%d of [A-Za-z0-9._:-] (or WORKSPACE/PROJECT, each such an id)", model.Truncate(a, 80), model.MaxIDLen)
		}
	}
	return nil
}

// errSilent carries an exit code without a message: the output said it all.
var errSilent = errors.New("")

// checkSummary is the status line's text: the budgets (workspaces, projects
// with a usage limit) at the worst status, or how many workspaces there are
// and the period.
func checkSummary(rows []wsRow, code int, p model.Period, now time.Time) string {
	var worst []string
	for i := range rows {
		r := &rows[i] // read only: a copy of each 440-byte row was most of this walk at 100k
		if r.checkCode != code || code == checkOK || code == checkUnknown {
			continue // what is unknown is named by the reasons (check's unreadable)
		}
		if r.unknown.Has(model.FigUsed) { // only the API's refusal is known of it (judgedRow)
			code := model.CodeCreditsExhausted
			if r.level != model.LevelExhausted {
				code = model.CodeBudgetExceeded // model.Status.LimitHeld
			}
			worst = append(worst, r.Workspace+" refused with 402 "+code+" (usage unreadable)")
			continue
		}
		if r.ownCode == code {
			of := "used"
			if r.CapKind == model.CapLimit.String() {
				of = "of its usage limit"
			}
			switch {
			case r.unknown.Has(model.FigPercent) && !r.unknown.Has(model.FigLimit) && r.UsageLimit > 0:
				// the cap is not known (the recharges, say) but the usage
				// limit it never exceeds is: judged by it
				worst = append(worst, r.Workspace+" "+model.FormatPercent(r.LimitPercent)+" of its usage limit")
			case r.unknown.Has(model.FigPercent):
				worst = append(worst, r.Workspace+" "+r.level.String()+" at "+strconv.FormatInt(r.Used, 10)+" used")
			case r.limitHeld && r.level != model.LevelExhausted && r.Cap == 0:
				// its own usage limit reached by the API's word, one mavtop
				// was not told of (model.Status.LimitHeld): critical, not OUT
				worst = append(worst, r.Workspace+" limit reached: refused with 402 budget_exceeded")
			case r.limitHeld && r.level != model.LevelExhausted:
				worst = append(worst, r.Workspace+" limit reached: refused with 402 budget_exceeded at "+model.FormatPercent(r.Percent)+" "+of)
			case r.level == model.LevelExhausted && r.Cap == 0:
				// OUT by a credits_exhausted 402 with no cap: "0 % used"
				// read as if nothing were wrong
				worst = append(worst, r.Workspace+" refused with 402 credits_exhausted")
			case r.level == model.LevelExhausted && r.Percent < 100:
				worst = append(worst, r.Workspace+" refused with 402 credits_exhausted at "+model.FormatPercent(r.Percent)+" "+of)
			case r.topsUp && r.level != model.LevelExhausted && code == checkCritical:
				// auto-recharge tops its cap up: the usage limit makes it
				// critical, not the cap's percent (model.Status.TopsUp)
				worst = append(worst, r.Workspace+" "+model.FormatPercent(r.LimitPercent)+" of its usage limit")
			case r.topsUp && r.level != model.LevelExhausted && len(r.Thresholds) > 0 && model.Reached(r.Used, r.Cap, r.Thresholds[len(r.Thresholds)-1]):
				worst = append(worst, r.Workspace+" "+model.FormatPercent(r.Percent)+" "+of+", "+model.LivingOnTopUps)
			default:
				worst = append(worst, r.Workspace+" "+model.FormatPercent(r.Percent)+" "+of)
			}
		}
		for _, pr := range r.Projects {
			switch {
			case pr.checkCode != code:
			case pr.level == model.LevelExhausted: // the verdict's words (Verdict.LimitReached)
				worst = append(worst, r.Workspace+" "+model.LimitReachedWords(pr.Project))
			default:
				worst = append(worst, r.Workspace+"/"+pr.Project+" "+model.FormatPercent(pr.Percent)+" of its usage limit")
			}
		}
	}
	if len(worst) > 0 {
		return strings.Join(worst, ", ")
	}
	return fmt.Sprintf("%s, period %s, %s left", model.CountOf(len(rows), "workspace"), p.Key, model.HumanizeDuration(p.Left(now)))
}

// printCheck writes the status line with its perfdata, the table of rows and
// the rule, through one buffered writer (a pipe or a terminal took a write
// per cell), each figure appended to it (at 10k workspaces fmt and
// text/tabwriter were most of check's time).
func printCheck(w io.Writer, rows []wsRow, code int, summary string, now time.Time, fixed bool, warn, crit float64) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	b := make([]byte, 0, 64<<10)
	b = append(b, "MAVTOP "...)
	b = append(b, checkNames[code]...)
	b = append(b, " - "...)
	b = append(b, summary...)
	if len(rows) == 0 {
		// no workspace: no perfdata at all (a bare "| " is no valid
		// perfdata), and no table with a header over nothing
		bw.Write(append(b, '\n'))
		return bw.Flush()
	}
	b = append(b, " |"...)
	for i := range rows {
		r := &rows[i]
		unread := r.unknown.Has(model.FigUsed)
		b = append(b, " '"...)
		b = append(b, r.Workspace...)
		b = append(b, "_used'="...)
		if unread {
			// the plugin guidelines' "cannot be determined", not a reading
			// of 0: every figure read from the counters, as --json's null
			b = append(b, 'U')
		} else {
			b = strconv.AppendInt(b, r.Used, 10)
		}
		b = append(b, ";;;0;"...)
		if r.Cap > 0 {
			b = strconv.AppendInt(b, r.Cap, 10)
		}
		b = append(b, " '"...)
		b = append(b, r.Workspace...)
		b = append(b, "_402'="...)
		if unread || r.pattern1 || r.RefusedUnreadable != "" {
			b = append(b, 'U')
		} else {
			b = append(strconv.AppendInt(b, r.Refused, 10), 'c')
		}
		for j := range r.Projects {
			pr := &r.Projects[j]
			b = append(b, " '"...)
			b = append(b, r.Workspace...)
			b = append(b, '/')
			b = append(b, pr.Project...)
			b = append(b, "_used'="...)
			switch {
			case unread, r.pattern1, pr.Budget.UsageUnreadable != "":
				// its credits cannot be read (a budget that cannot be
				// leaves them as read: the table's USED, --json's used)
				b = append(b, 'U')
			default:
				b = strconv.AppendInt(b, pr.Used, 10)
			}
			b = append(b, ";;;0;"...)
			if pr.Budget.Unreadable == "" { // else its budget cannot be read: nothing judged
				b = strconv.AppendInt(b, pr.Budget.Limit, 10)
			}
		}
		if len(b) >= 48<<10 {
			bw.Write(b)
			b = b[:0]
		}
	}
	bw.Write(append(b, '\n'))
	t := newAlignedTable(8, len(rows))
	for _, h := range [...]string{"WORKSPACE", "USED", "ALLOCATION", "PERCENT", "LEVEL", "402s", "LAST EVENT", "CHECK"} {
		t.cell(h)
	}
	for i := range rows {
		r := &rows[i]
		unread := r.unknown.Has(model.FigUsed)
		t.cell(r.Workspace)
		if unread { // as --json's null: no figure read from the counters
			t.cell("unreadable")
		} else {
			t.int(r.Used)
		}
		switch {
		case r.Settings.Unreadable != "": // the settings are what cannot be read
			t.cell("-")
		case r.Allocation > 0:
			b := strconv.AppendInt(t.open(), r.Allocation, 10)
			if r.unknown.Has(model.FigRecharged) {
				if !unread {
					b = append(b, "+?"...) // recharges not known, the credits used are
				}
			} else if r.Recharged > 0 {
				b = strconv.AppendInt(append(b, '+'), r.Recharged, 10)
			}
			t.close(b)
		default:
			t.cell(model.Unset)
		}
		if unread || r.Settings.Unreadable != "" {
			t.cell("-")
		} else {
			b := t.open()
			if r.Cap > 0 {
				b = append(b, model.FormatPercent(r.Percent)...)
			} else {
				b = append(b, '-')
			}
			if r.UsageLimit > 0 {
				b = append(b, " ("...)
				if r.limitSetsLevel() {
					b = append(append(b, model.FormatPercent(r.LimitPercent)...), " of "...)
				}
				b = strconv.AppendInt(append(b, "limit "...), r.UsageLimit, 10)
				b = append(b, ')')
				if r.CapKind == model.CapLimit.String() {
					b = append(b, " binds"...)
				}
			}
			t.close(b)
		}
		t.cell(r.Level)
		switch {
		case unread:
			t.cell("-")
		case r.RefusedUnreadable != "":
			t.cell("unreadable")
		default:
			t.int(r.Refused)
		}
		switch {
		case r.LastEventAt != nil && r.Stale:
			t.close(append(append(t.open(), model.FormatAge(now.Sub(*r.LastEventAt))...), " stale"...))
		case r.LastEventAt != nil:
			t.cell(model.FormatAge(now.Sub(*r.LastEventAt)))
		case r.Stale:
			t.cell("stale")
		case r.lastEventUnknown:
			t.cell("unknown") // the stream cannot be read
		case r.LastEventBefore != nil: // older than every entry read
			t.close(append(append(t.open(), '>'), model.FormatAge(now.Sub(*r.LastEventBefore))...))
		default:
			t.cell("—")
		}
		t.cell(r.Check)
		for j := range r.Projects {
			pr := &r.Projects[j]
			t.close(append(append(append(t.open(), r.Workspace...), '/'), pr.Project...))
			if unread || pr.Budget.UsageUnreadable != "" { // its credits cannot be read
				t.cell("-")
			} else {
				t.int(pr.Used)
			}
			t.cell("-")
			b := t.open()
			switch {
			case unread, pr.Budget.Unreadable != "", pr.Budget.UsageUnreadable != "":
				b = append(b, '-')
			default:
				b = append(b, model.FormatPercent(pr.Percent)...)
			}
			b = append(b, " (limit "...)
			if pr.Budget.Unreadable != "" { // its budget cannot be read: no limit known
				b = append(b, '-')
			} else {
				b = strconv.AppendInt(b, pr.Budget.Limit, 10)
			}
			t.close(append(b, ')'))
			if unread {
				t.cell("unknown")
				t.cell("-")
			} else {
				t.cell(pr.Level)
				t.int(pr.Refused)
			}
			t.cell("")
			t.cell(pr.Check)
		}
	}
	if err := t.writeTo(bw); err != nil {
		return err
	}
	if fixed {
		fmt.Fprintf(bw, "fixed thresholds: warn %g%%, crit %g%%", warn, crit)
	} else {
		bw.WriteString("levels by each workspace's alert thresholds: warning from the second (high), critical from the third or when exhausted")
	}
	bw.WriteString("; percent of the effective cap (allocation plus recharges, or the usage limit when smaller), a project's of its usage limit; a workspace's CHECK is the worst of its own and its projects'\n")
	return bw.Flush()
}

// writeCheckJSON writes obj with rows as its "workspaces", one row at a time
// (appendRowJSON) into the writer's buffer: at 100k workspaces the whole
// object in one json.Encode grew a 40 MB buffer by doubling, and encoding/json
// per row cost a sixth of check. The bytes are json.Encode's ("workspaces"
// sorts last of obj's keys).
func writeCheckJSON(w io.Writer, obj map[string]any, rows []wsRow) error {
	head, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:len(head)-1]) // without its closing brace
	if len(head) > 2 {
		bw.WriteByte(',')
	}
	bw.WriteString(`"workspaces":`)
	if rows == nil {
		bw.WriteString("null")
	} else {
		bw.WriteByte('[')
		// rows are encoded a block at a time, two blocks at once (the second
		// on another core): a sixth of check was this encoding, and two
		// blocks' buffers bound the memory, not one buffer for every row
		var bufs [2][]byte
		encode := func(k, lo, hi int) error {
			b := bufs[k][:0]
			if b == nil {
				// room for a block of the usual rows at once: grown by
				// append, a block's buffer was copied a dozen times
				b = make([]byte, 0, jsonBlock*jsonRowBytes)
			}
			var err error
			for i := lo; i < hi && err == nil; i++ {
				if i > 0 {
					b = append(b, ',')
				}
				b, err = appendRowJSON(b, &rows[i])
			}
			bufs[k] = b
			return err
		}
		for lo := 0; lo < len(rows); lo += 2 * jsonBlock {
			mid, hi := min(lo+jsonBlock, len(rows)), min(lo+2*jsonBlock, len(rows))
			var second error
			done := make(chan struct{})
			go func() {
				defer close(done)
				second = encode(1, mid, hi)
			}()
			first := encode(0, lo, mid)
			<-done
			if err := cmp.Or(first, second); err != nil {
				return err
			}
			bw.Write(bufs[0])
			bw.Write(bufs[1])
		}
		bw.WriteByte(']')
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// jsonBlock is how many rows writeCheckJSON encodes in one go on one core;
// jsonRowBytes is what a row usually takes (about 350 bytes without
// projects), what its buffers start with. Two buffers of 512 rows (256 kB
// each) are written from again and again: of 2,048 rows, their 2 MB were a
// sixth of what check allocated at 10k workspaces, cleared each run.
const (
	jsonBlock    = 512
	jsonRowBytes = 512
)

// counterWorkspace returns the workspace a counter check could not read counts
// for: name is a key of the Pattern 1 counters (source counters, keys matching
// pattern) or "<hash>:<field>" of the stream contract's counters; "" when it
// names none.
func counterWorkspace(name string, kind feed.SourceKind, pattern string) string {
	if kind == feed.SourceCounters {
		prefix, _ := feed.CounterPrefix(pattern)
		ws, _ := strings.CutPrefix(name, prefix)
		return ws
	}
	hash, field, _ := strings.Cut(name, ":")
	switch hash {
	case "used", "recharged":
		return field
	case "refused":
		ws, _, _, _ := model.SplitRefusedField(field)
		return ws
	case "used_by": // a judged project's (feed.ReadLimitedProjects): its workspace's
		ws, _, _, _ := model.SplitUsedByField(field)
		return ws
	}
	return ""
}

// noWorkspaceFound says where check looked when it found no workspace at all,
// and which flags choose that: --key-prefix for the stream's counters and the
// settings, --counter-pattern for the Pattern 1 counters, both under auto
// (which found neither).
func noWorkspaceFound(kind feed.SourceKind, sf sourceFlags, prefix, period string) string {
	switch {
	case sf.kind == string(feed.SourceAuto): // neither source had anything
		return fmt.Sprintf("no workspace found: neither this period's counters (%s) under key prefix %s nor any key matching --counter-pattern %s, and no settings, in this db; check --key-prefix, --counter-pattern and the db in --redis",
			period, prefix, sf.pattern)
	case kind == feed.SourceCounters:
		return fmt.Sprintf("no workspace found: no key matches --counter-pattern %s and the settings under key prefix %s are empty in this db; check --counter-pattern, --key-prefix and the db in --redis",
			sf.pattern, prefix)
	}
	return fmt.Sprintf("no workspace found: this period's counters (%s) and the settings are empty under key prefix %s in this db; check --key-prefix and the db in --redis",
		period, prefix)
}

// noCounterMatches says that no key matches the Pattern 1 counter pattern
// although n workspaces have settings: their usage is not measured, not 0.
func noCounterMatches(pattern string, n int) string {
	return fmt.Sprintf("no key matches --counter-pattern %s: usage of the %s with settings is unknown, not 0; check --counter-pattern and the db in --redis (Pattern 1 keys live 35 days after their last write)",
		pattern, model.CountOf(n, "workspace"))
}

// settingsWorkspaces are the workspaces the settings name, a workspace's own
// or one of its projects' budgets.
func settingsWorkspaces(s *model.Snapshot) []string {
	out := make([]string, 0, len(s.Settings))
	for ws := range s.Settings {
		if model.IsID(ws) {
			out = append(out, ws)
		}
	}
	var seen map[string]bool // those of budgets alone, once each
	for key := range s.Budgets {
		ws, _, ok := model.SplitProjectKey(key)
		if _, own := s.Settings[ws]; !ok || own || seen[ws] || !model.IsID(ws) {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[ws] = true
		out = append(out, ws)
	}
	return out
}

// nothingMeasured says why the usage of every workspace of res is unknown
// when the source measured nothing at all ("" when it measured something, or
// there is no workspace: noWorkspaceFound says that). Settings alone are no
// measure: judged on them every workspace read 0 used, OK, for ever, under a
// mistyped --counter-pattern, a db or key prefix no producer writes to, or a
// producer that writes the stream without its counters.
//   - counters: no key matches the pattern (Pattern 1 keys live 35 days past
//     their last INCRBY and never reset at a period's start: no key at all
//     is no quiet period).
//   - stream: this period has no counter of a workspace at all (used,
//     refused, recharged, used_by; a field naming no workspace is none), and either the newest entries read hold usage events of this
//     period (the counters are missing, not zero), or nothing says a producer
//     ever wrote here: no used counter of the last period and not one usage
//     event in the stream (settings entries, which `mavtop budget set`
//     writes, are no usage). A period's quiet start, after a producer wrote
//     in the last one or the stream holds its older events, is 0 used.
//
// newest is what check read of the stream's newest entries.
func nothingMeasured(ctx context.Context, c redis.UniversalClient, keys feed.Keys, prefix string, res *feed.SnapshotResult, kind feed.SourceKind, pattern string, newest feed.Newest) (string, error) {
	s := res.Snap
	if len(s.Used) > 0 {
		return "", nil
	}
	for name := range res.BadCounters {
		// a counter of a workspace that cannot be read (or a key of another
		// type) is named by its own reason; a field that names no workspace
		// (junk, said apart) measures none
		if _, bad := res.BadKeys[name]; bad || model.IsID(counterWorkspace(name, kind, pattern)) {
			return "", nil
		}
	}
	workspaces := len(settingsWorkspaces(s)) // only now: a walk of every one
	if workspaces == 0 {
		return "", nil
	}
	if kind == feed.SourceCounters {
		return noCounterMatches(pattern, workspaces), nil
	}
	if len(s.Refused) > 0 || len(s.Recharged) > 0 || len(s.UsedBy) > 0 {
		return "", nil
	}
	p := s.Period
	var now []string
	for ws := range newest.At {
		ms, _ := newest.Period(ws)
		// an event written before the billing period was changed (budget
		// period) went to the hashes of the rule before: the new period's
		// counters are the truth, empty or not (README, "Billing periods"),
		// as the dashboard and budget show read them. Its period is its
		// ts's (Newest.Period), not its freshness's (At): an event written
		// now with a ts in the period before went to that period's counters.
		if ms >= p.Start.UnixMilli() && (!newest.PeriodSet || newest.AfterPeriodSet[ws]) {
			now = append(now, ws)
		}
	}
	if len(now) > 0 && !newest.PeriodSet {
		// No billing-period entry among those read, yet the period rule
		// may have been changed behind the stream (the settings hash's
		// #period written alone): events written before it went to the
		// hashes of the rule before. The next period's counters, which
		// no writer under this rule has reached yet, holding a workspace
		// say its writer counted under another rule: its counters are
		// not missing, this period's are the truth (0), as the
		// dashboard's re-read takes them.
		next := res.Rule.At(p.End).Key
		pipe := c.Pipeline()
		held := make([]*redis.BoolCmd, len(now))
		for i, ws := range now {
			held[i] = pipe.HExists(ctx, keys.Used(next), ws)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return "", err
		}
		kept := now[:0]
		for i, ws := range now {
			if !held[i].Val() {
				kept = append(kept, ws)
			}
		}
		now = kept
	}
	if len(now) > 0 {
		slices.Sort(now)
		return fmt.Sprintf("this period's counters (%s) are empty under key prefix %s but the stream holds usage events of this period from %s (%s): usage is unknown, not 0; are the counters written with each entry (the stream contract's MULTI), or deleted?",
			p.Key, prefix, model.CountOf(len(now), "workspace"), model.Sanitize(strings.Join(now[:min(len(now), checkJunkNamed)], ", "))), nil
	}
	if len(newest.At) > 0 || !newest.Complete {
		return "", nil // a producer wrote here (or what is older is unread): a quiet period
	}
	prev := res.Rule.At(p.Start.Add(-time.Millisecond))
	n, err := c.Exists(ctx, keys.Used(prev.Key)).Result()
	if err != nil || n > 0 {
		return "", err
	}
	return fmt.Sprintf("nothing to judge: no usage recorded under key prefix %s (no counter of a workspace this period (%s) or last (%s), no usage event in the stream %s), only the settings of %s; is a producer writing here? check --key-prefix, --source and the db in --redis",
		prefix, p.Key, prev.Key, keys.Stream(), model.CountOf(workspaces, "workspace")), nil
}
