package tui

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/model"
)

// Alert is one thing an operator should know: a threshold crossed, a limit hit,
// a workspace refused with 402.
type Alert struct {
	At    time.Time
	Level model.Level
	Text  string
	// Workspace is the workspace the alert is about ("" for none): where it
	// is drawn in Text, it is shortened as every pane shortens names.
	Workspace string
	// key is the lifecycle alert this is the moment of, its id without the
	// period ("acme/-/threshold/75@1000"; "" for a notice): while the shared
	// lifecycle lists that alert (firing or resolved), it says this, and
	// this is not listed a second time (see sortRows).
	key string
	// seq numbers alerts in the order raised: the selection follows it, not
	// the row, as newer alerts push older ones down.
	seq uint64
}

const (
	maxAlerts    = 200
	bannerFor    = 6 * time.Second
	refusalQuiet = time.Minute // one 402 alert per workspace and code per minute
)

// LifecycleEntry is one alert of the shared lifecycle (firing → resolved,
// once each per period) and how its notifications went.
type LifecycleEntry struct {
	ID      string
	Status  model.AlertStatus
	Level   model.Level
	At      time.Time
	Summary string
	// Delivery says how the newest transition was delivered ("✓ sent 2
	// sinks", "↻ retrying: 503 Service Unavailable"; "" for nothing).
	Delivery string
	// FiresAgainAt is, for a resolved alert that is its alert's latest
	// episode, the earliest time it may fire again (model.Episodes, as
	// `mavtop alerts`' FIRES AGAIN column says it); zero for none.
	FiresAgainAt time.Time
}

// firesAgain is what the pane says of when entry e may fire again, in the
// words of `mavtop alerts`' FIRES AGAIN column (model.FiresAgainText): "fires
// again after 14:52:05", "fires again if it holds"; "" for none.
func (a *Alerts) firesAgain(e *LifecycleEntry) string {
	if e.FiresAgainAt.IsZero() {
		return ""
	}
	return "fires again " + model.FiresAgainText(e.FiresAgainAt, a.now())
}

// Lifecycle is the alert lifecycle as this instance sees it.
type Lifecycle struct {
	// Entries are the lifecycle's alerts in any order (the pane sorts them,
	// newest first, stable): what a small lifecycle (a test) hands over.
	// Ignored when Rows is set.
	Entries []LifecycleEntry
	// Rows are the entries as a poll hands them over at scale: sorted,
	// counted and shared, never copied whole (the pane walks only the rows
	// it shows).
	Rows LifecycleRows
	// Scores are the latest forecast scores, newest first: each workspace's
	// first credits_exhausted 402 set against the run-out mavtop had
	// projected ("acme: projected 14:05, refused 13:52: 13 min early").
	Scores []model.ForecastScore
	// Version names this content: a poll answering the Version the pane
	// already shows changed nothing, and the pane skips it (no re-sort, no
	// redraw). 0 is no version: always taken.
	Version uint64
}

// LifecycleRows are a lifecycle's entries, immutable and shared by every
// copy of the pane (and every viewer of one poll): at 100k workspaces ~44k
// of them, so what the pane asks of them all (the firing count, the delivery
// they share, whether one is listed) is kept by their maker as they change,
// never recounted, and only the rows on screen are walked.
type LifecycleRows interface {
	// Len is the number of entries.
	Len() int
	// Each calls fn with the entries newest first (At, latest first; ties
	// in a fixed order) until it returns false.
	Each(fn func(e LifecycleEntry) bool)
	// EachFrom is Each from the entry at position i on (0: the newest):
	// O(log n) to reach it, not the i entries above it.
	EachFrom(i int, fn func(e LifecycleEntry) bool)
	// Position is the position of alert id's entry and its time (false:
	// not listed), without walking the entries above it.
	Position(id string) (pos int, at time.Time, ok bool)
	// AtOrAfter counts the entries at t or later: they come first.
	AtOrAfter(t time.Time) int
	// Lists reports whether an entry's lifecycleKey is key.
	Lists(key string) bool
	// Firing counts the entries firing (Lifecycle.Firing).
	Firing() model.FiringCount
	// Delivery is the delivery every entry has alike when there are two or
	// more, "" otherwise (Alerts.commonDelivery).
	Delivery() string
}

// rows are the lifecycle's entries as LifecycleRows: Rows, or Entries sorted.
func (l Lifecycle) rows() LifecycleRows {
	if l.Rows != nil {
		return l.Rows
	}
	return newSliceRows(l.Entries)
}

// sliceRows are Lifecycle.Entries as LifecycleRows: sorted newest first
// (stable), counted once.
type sliceRows struct {
	es       []LifecycleEntry
	pos      map[string]int // id → its first entry
	listed   map[string]bool
	firing   model.FiringCount
	delivery string
}

func newSliceRows(entries []LifecycleEntry) *sliceRows {
	es := slices.Clone(entries)
	slices.SortStableFunc(es, func(x, y LifecycleEntry) int { return y.At.Compare(x.At) })
	r := &sliceRows{es: es, pos: make(map[string]int, len(es)), listed: make(map[string]bool, len(es)), delivery: Lifecycle{Entries: es}.commonDelivery()}
	for i := range es {
		if _, ok := r.pos[es[i].ID]; !ok {
			r.pos[es[i].ID] = i
		}
		r.listed[lifecycleKey(es[i].ID)] = true
		if e := &es[i]; e.Status == model.AlertFiring {
			r.firing.AddAlert(e.ID, e.Level, e.Summary)
		}
	}
	return r
}

func (r *sliceRows) Len() int                            { return len(r.es) }
func (r *sliceRows) Each(fn func(e LifecycleEntry) bool) { r.EachFrom(0, fn) }
func (r *sliceRows) EachFrom(i int, fn func(e LifecycleEntry) bool) {
	for _, e := range r.es[min(max(i, 0), len(r.es)):] {
		if !fn(e) {
			return
		}
	}
}
func (r *sliceRows) Position(id string) (int, time.Time, bool) {
	i, ok := r.pos[id]
	if !ok {
		return 0, time.Time{}, false
	}
	return i, r.es[i].At, true
}
func (r *sliceRows) AtOrAfter(t time.Time) int {
	return sort.Search(len(r.es), func(i int) bool { return r.es[i].At.Before(t) })
}
func (r *sliceRows) Lists(key string) bool     { return r.listed[key] }
func (r *sliceRows) Firing() model.FiringCount { return r.firing }
func (r *sliceRows) Delivery() string          { return r.delivery }

// Firing counts the shared lifecycle's alerts firing now (the records
// `mavtop alerts` lists as firing) as every surface counts them: the
// workspaces with one firing, the feed, and the worst level among them.
func (l Lifecycle) Firing() model.FiringCount {
	if l.Rows != nil {
		return l.Rows.Firing()
	}
	var c model.FiringCount
	for i := range l.Entries {
		if e := &l.Entries[i]; e.Status == model.AlertFiring {
			c.AddAlert(e.ID, e.Level, e.Summary)
		}
	}
	return c
}

// NewestFiring is the row of the newest alert firing now (rows are newest
// first), or -1 when none fires. The rows above it are walked, not made.
func (a *Alerts) NewestFiring() int {
	if a.firing.Alerts == 0 {
		return -1
	}
	found := -1
	a.mergedFrom(0, func(i int, r rowRef) bool {
		if r.src == srcLife && r.e.Status == model.AlertFiring {
			found = i
			return false
		}
		return true
	})
	return found
}

// ShowNewestFiring selects the newest alert firing now, as if the operator
// had chosen it (it stays selected as rows arrive); false when none fires.
func (a *Alerts) ShowNewestFiring() bool {
	i := a.NewestFiring()
	if i < 0 {
		return false
	}
	a.cur.pos, a.chosen = i, true
	a.cur.clamp()
	a.ensureShown()
	return true
}

// LifecycleMsg carries the lifecycle, polled once a second.
type LifecycleMsg struct{ Lifecycle Lifecycle }

// Alerts keeps the alert list and the banner showing the newest alert for a few
// seconds.
type Alerts struct {
	common
	life      Lifecycle
	firing    model.FiringCount // life.Firing(), counted once a lifecycle: the title is drawn every frame
	delivery  string            // commonDelivery's answer, found once a lifecycle: every row drawn asks it
	list      []Alert           // newest first
	bannerEnd time.Time
	last402   map[string]time.Time
	seq       uint64
	chosen    bool // the user moved the selection: it stays on its alert
	cur       listCursor
	width     int
	height    int
	focused   bool
	nameW     int // the cells a workspace name gets, the same in every pane
	// entries are life's entries (Lifecycle.rows); scores its scores and
	// local the local alerts it does not list (sortRows), each newest
	// first, as indices into life.Scores and list. order is the rows
	// orderFrom, orderFrom+1, … of all three merged, newest first: the
	// rows a frame shows and the selected one, with a margin (ensure), never
	// the rows above them. At 100k workspaces the lifecycle holds ~44k
	// entries, and a sort or a walk of them all at each change was a tenth
	// of the dashboard's CPU; the rows above a selection far down were made
	// again at each change too (87 ms and 26 MB a change with the selection
	// 99k rows down). Each is a new slice when made: copies of the pane
	// share the old ones.
	entries   LifecycleRows
	scores    []int
	local     []int
	order     []rowRef
	orderFrom int
	// others are the scores and the local alerts merged, newest first (a
	// tie: the score first), and otherAt their times: the few hundred rows
	// merged into the lifecycle's, whose positions are counted, not walked
	// (position, mergedFrom)
	others  []otherRef
	otherAt []time.Time
	// listed caches entries.Lists for the keys of the local alerts, made
	// anew with each lifecycle: a local alert arriving asked it again of
	// each of the 200 kept (3.4 % of the dashboard's CPU in the Steady
	// harness at 100k, loaded, 41fc7b3).
	listed map[string]bool
}

// rowRef is one row: a lifecycle entry (e), a score or a local alert (i).
type rowRef struct {
	src byte
	i   int
	e   LifecycleEntry
}

// otherRef is a score or a local alert's row (rowRef without an entry).
type otherRef struct {
	src byte
	i   int
}

func (o otherRef) row() rowRef { return rowRef{src: o.src, i: o.i} }

// Where a row comes from, in the order of rows of equal time.
const (
	srcLife byte = iota
	srcScore
	srcLocal
)

// NewAlerts returns an empty alert list.
func NewAlerts(c common) Alerts { return Alerts{common: c, last402: map[string]time.Time{}} }

// SetSize sets the content size.
func (a *Alerts) SetSize(w, h int) {
	a.width, a.height = w, h
	a.cur.setRows(h - a.wholeLines())
	a.ensureShown()
}

// wholeLines is how many lines the selected alert (the newest until one is
// chosen) gets under the list, its sentence whole and wrapped: the rows cut
// theirs at the pane's width. None below 12 lines, where every row counts.
func (a *Alerts) wholeLines() int {
	if a.height >= 12 {
		return 3
	}
	return 0
}

// sentence is row i's words in full: the workspace whole, the delivery after.
func (a *Alerts) sentence(i int) string {
	r := a.ref(i)
	switch r.src {
	case srcLife:
		e := &r.e
		s := "firing: " + model.Sanitize(e.Summary)
		if e.Status == model.AlertResolved {
			s = "resolved: " + model.Sanitize(e.Summary)
		}
		if e.Delivery != "" {
			s += " · " + model.Sanitize(e.Delivery)
		}
		if fa := a.firesAgain(e); fa != "" {
			s += " · " + fa
		}
		return s
	case srcScore:
		return "forecast " + model.Sanitize(a.life.Scores[r.i].String(time.Local))
	}
	return model.Sanitize(a.list[r.i].Text)
}

// Len is the number of alerts kept.
func (a Alerts) Len() int { return len(a.list) }

// Added counts the alerts ever added (never falls): what the bell rings on.
// Len is capped at maxAlerts, so a bell comparing it stayed silent for good
// once the pane held 200 lines (hostile14 #2).
func (a Alerts) Added() uint64 { return a.seq }

// AddCrossing turns a ledger crossing into an alert, at the level the crossing
// carries (the gauge's), in the words of its lifecycle alert's firing
// (model.Crossing.Sentence): the banner, the pane and the notification say
// one thing in one way.
func (a *Alerts) AddCrossing(c model.Crossing) {
	a.add(Alert{At: a.at(), Level: c.Level, Text: c.Sentence(), Workspace: c.Workspace, key: lifecycleKey(c.Alert().ID)})
}

// lifecycleKey is an alert id without its period and its episode: a
// crossing or a 402 and the lifecycle's alert of it (any episode) share it.
func lifecycleKey(id string) string {
	base, _ := model.SplitEpisode(id)
	_, rest, _ := strings.Cut(base, "/")
	return rest
}

// AddRefusal alerts on a 402, at most once a minute per workspace and code.
func (a *Alerts) AddRefusal(e *model.Event) {
	k := e.Workspace + "/" + e.Code
	now := a.at()
	if t, ok := a.last402[k]; ok && now.Sub(t) < refusalQuiet {
		return
	}
	a.last402[k] = now
	where := e.Workspace
	if e.Project != "" {
		where += "/" + e.Project
	}
	a.add(Alert{At: now, Level: model.LevelExhausted, Text: fmt.Sprintf("%s got 402 %s on %s", where, orDash(e.Code), e.Endpoint),
		Workspace: e.Workspace, key: lifecycleKey(model.AlertID("", e.Workspace, "", model.AlertRefusals, orDash(e.Code)))})
}

// AddNotice records an operational event (a gap, a resync) as an alert.
func (a *Alerts) AddNotice(lvl model.Level, text string) {
	a.add(Alert{At: a.at(), Level: lvl, Text: text})
}

// DropNotice removes the notices (AddNotice's) whose text is text, as a
// condition they named has ended (a config repaired); false when none is
// kept. The other alerts and the selection stay.
func (a *Alerts) DropNotice(text string) bool {
	text = model.Sanitize(text)
	if !slices.ContainsFunc(a.list, func(al Alert) bool { return al.key == "" && al.Text == text }) {
		return false
	}
	a.keepSelection(func() {
		kept := make([]Alert, 0, len(a.list)) // a new slice: copies of the pane share the old
		for _, al := range a.list {
			if al.key != "" || al.Text != text {
				kept = append(kept, al)
			}
		}
		a.list = kept
	})
	return true
}

func (a *Alerts) add(al Alert) {
	al.Text = model.Sanitize(al.Text) // names and codes come from the stream
	a.seq++
	al.seq = a.seq
	a.keepSelection(func() {
		a.list = append([]Alert{al}, a.list...)
		if len(a.list) > maxAlerts {
			a.list = a.list[:maxAlerts]
		}
	})
	a.bannerEnd = al.At.Add(bannerFor)
}

// keepSelection applies change to the rows and keeps the selected row's alert
// selected wherever it moved (a lifecycle entry by its ID, a score by its
// workspace and times, a local alert by its number), so rows arriving above it
// never move the selection. An untouched list in the background follows the
// newest instead.
func (a *Alerts) keepSelection(change func()) {
	keep := (a.focused || a.chosen) && a.cur.pos < a.rows()
	var sel rowID
	if keep {
		sel = a.rowKey(a.cur.pos)
	}
	change()
	a.sortRows()
	a.cur.setLen(a.rows())
	if keep {
		// found by its position, not by walking the rows above it: with the
		// selection 90k rows down that walk was 14-22 ms at each change
		if i, ok := a.position(sel); ok {
			a.cur.pos = i
			a.cur.clamp()
		}
	}
	a.ensureShown()
}

// position is the row showing what id names (false: none does): the
// lifecycle's position of its entry (or, for a score or a local alert, the
// entries at or after its time) and the others before it, each O(log n) or
// less; nothing above it is walked.
func (a *Alerts) position(id rowID) (int, bool) {
	if id.src == srcLife {
		if a.entries == nil {
			return 0, false
		}
		p, at, ok := a.entries.Position(id.id)
		if !ok {
			return 0, false
		}
		// the others newer than the entry come before it (a tie: after)
		return p + sort.Search(len(a.otherAt), func(q int) bool { return !a.otherAt[q].After(at) }), true
	}
	for q, r := range a.others {
		if a.keyOf(r.row()) == id {
			return a.otherPos(q), true
		}
	}
	return 0, false
}

// otherPos is the row of others[q]: after the q others before it and every
// lifecycle entry at its time or later.
func (a *Alerts) otherPos(q int) int {
	p := q
	if a.entries != nil {
		p += a.entries.AtOrAfter(a.otherAt[q])
	}
	return p
}

// rowID names what a row shows, the same wherever the row moves.
type rowID struct {
	src    byte
	id     string
	t1, t2 int64
	seq    uint64
}

// rowKey names what row i shows: a lifecycle entry by its ID, a score by its
// workspace and times, a local alert by its number.
func (a *Alerts) rowKey(i int) rowID { return a.keyOf(a.ref(i)) }

// keyOf names what the row r shows (rowKey).
func (a *Alerts) keyOf(r rowRef) rowID {
	switch r.src {
	case srcLife:
		return rowID{src: srcLife, id: r.e.ID}
	case srcScore:
		s := a.life.Scores[r.i]
		return rowID{src: srcScore, id: s.Workspace, t1: s.Projected.UnixNano(), t2: s.Refused.UnixNano()}
	}
	return rowID{src: srcLocal, seq: a.list[r.i].seq}
}

// SetLifecycle replaces the shared lifecycle shown above the local alerts.
func (a *Alerts) SetLifecycle(l Lifecycle) {
	a.keepSelection(func() {
		a.life, a.entries, a.listed = l, l.rows(), nil
		a.scores = make([]int, len(l.Scores))
		for i := range a.scores {
			a.scores[i] = i
		}
		slices.SortStableFunc(a.scores, func(x, y int) int { return l.Scores[y].Refused.Compare(l.Scores[x].Refused) })
	})
	a.firing = a.entries.Firing()
	a.delivery = a.entries.Delivery()
}

// Firing is the lifecycle's firing count (Lifecycle.Firing), as counted when
// it was set.
func (a *Alerts) Firing() model.FiringCount { return a.firing }

// sortRows orders the rows newest first, whatever their source: the shared
// lifecycle's entries (by when they fired or resolved), the forecast scores
// (by their 402) and this screen's own alerts are one list in time order, not
// three lists one after the other. Ties keep that order. A local alert of a
// lifecycle alert the lifecycle lists (a crossing, a 402 of a refusals
// alert) is left out: the lifecycle's row says it, firing or resolved, so no
// condition is listed twice and none stays marked firing after it resolved.
// Only the local alerts (200 at most) are sorted here; the rows are merged
// as far as they are shown (ensure).
func (a *Alerts) sortRows() {
	if a.entries == nil {
		a.entries, a.listed = a.life.rows(), nil
	}
	if a.listed == nil {
		a.listed = map[string]bool{} // copies of the pane share it: it says the same for the same entries
	}
	local := make([]int, 0, len(a.list))
	for i := range a.list {
		k := a.list[i].key
		if k == "" {
			local = append(local, i)
			continue
		}
		listed, ok := a.listed[k]
		if !ok {
			listed = a.entries.Lists(k)
			a.listed[k] = listed
		}
		if !listed {
			local = append(local, i)
		}
	}
	slices.SortStableFunc(local, func(x, y int) int { return a.list[y].At.Compare(a.list[x].At) })
	a.local, a.order, a.orderFrom = local, nil, 0
	// the scores and local alerts merged, a tie taking the score first
	n := len(a.scores) + len(local)
	others, at := make([]otherRef, 0, n), make([]time.Time, 0, n)
	for j, k := 0, 0; j < len(a.scores) || k < len(local); {
		if j < len(a.scores) {
			s := a.life.Scores[a.scores[j]].Refused
			if k == len(local) || !a.list[local[k]].At.After(s) {
				others, at = append(others, otherRef{srcScore, a.scores[j]}), append(at, s)
				j++
				continue
			}
		}
		others, at = append(others, otherRef{srcLocal, local[k]}), append(at, a.list[local[k]].At)
		k++
	}
	a.others, a.otherAt = others, at
}

// mergedFrom calls fn with each row and its index, from row p on, until fn
// returns false: the lifecycle's entries newest first, the scores and the
// local alerts merged into them, a tie taking the lifecycle's row first,
// then the score's, as one stable sort of every row did. Nothing is made,
// and the rows above p are not walked: the others before row p are found by
// their positions (otherPos), the lifecycle's entries from p less them on
// (EachFrom). It costs the rows walked, not the rows there are.
func (a *Alerts) mergedFrom(p int, fn func(i int, r rowRef) bool) {
	p = max(p, 0)
	if p >= a.rows() {
		return
	}
	k := sort.Search(len(a.others), func(q int) bool { return a.otherPos(q) >= p })
	i, stopped := p, false
	// others gives the others newer than t (all of them with all), newest
	// first; false once fn stopped
	others := func(t time.Time, all bool) bool {
		for ; k < len(a.others) && (all || a.otherAt[k].After(t)); k++ {
			if !fn(i, a.others[k].row()) {
				stopped = true
				return false
			}
			i++
		}
		return true
	}
	if a.entries != nil && p-k < a.entries.Len() {
		a.entries.EachFrom(p-k, func(e LifecycleEntry) bool {
			if !others(e.At, false) {
				return false
			}
			if !fn(i, rowRef{src: srcLife, e: e}) {
				stopped = true
				return false
			}
			i++
			return true
		})
	}
	if !stopped {
		others(time.Time{}, true)
	}
}

// rowsMargin is how many rows ensure makes beyond those asked, either side,
// so that a selection moving row by row makes them again once in so many.
const rowsMargin = 64

// ensure makes rows from to to-1 (those there are), unless made: the rows
// above from are neither walked nor made (mergedFrom).
func (a *Alerts) ensure(from, to int) {
	to = min(to, a.rows())
	from = max(min(from, to), 0)
	if from >= a.orderFrom && to <= a.orderFrom+len(a.order) {
		return
	}
	from, to = max(from-rowsMargin, 0), min(to+rowsMargin, a.rows())
	order := make([]rowRef, 0, to-from) // a new slice: copies of the pane share the old
	a.mergedFrom(from, func(i int, r rowRef) bool {
		if i >= to {
			return false
		}
		order = append(order, r)
		return true
	})
	a.order, a.orderFrom = order, from
}

// ensureShown makes the rows on screen and the selected one.
func (a *Alerts) ensureShown() {
	from, to := a.cur.window()
	a.ensure(min(from, a.cur.pos), max(to, a.cur.pos+1))
}

// ref is row i (ensure makes it when a frame asks a row not made yet).
func (a *Alerts) ref(i int) rowRef {
	if i < a.orderFrom || i >= a.orderFrom+len(a.order) {
		a.ensure(i, i+1)
	}
	return a.order[i-a.orderFrom]
}

// rows is how many rows are listed (sortRows leaves out the local alerts
// the lifecycle says).
func (a Alerts) rows() int {
	n := len(a.scores) + len(a.local)
	if a.entries != nil {
		n += a.entries.Len()
	}
	return n
}

// Reset forgets the 402 rate limit (a new period) but keeps the list.
func (a *Alerts) Reset() { a.last402 = map[string]time.Time{} }

// Banner returns the newest alert while it is fresh, else "".
func (a Alerts) Banner() (Alert, bool) {
	if len(a.list) == 0 || !a.now().Before(a.bannerEnd) {
		return Alert{}, false
	}
	return a.list[0], true
}

// Update scrolls the list.
func (a Alerts) Update(msg tea.Msg) (Alerts, tea.Cmd) {
	if a.cur.handle(msg, a.km) {
		a.chosen = true
		a.ensureShown()
	}
	return a, nil
}

// Title counts the rows listed and, of them, the alerts firing now: "Alerts
// (22 listed, 17 alerts firing)" ("Alerts (5, 15 firing)" counted this
// screen's own alerts only, beside the shared ones firing, and said neither;
// "17 firing" beside the header's "5 ws firing" read as one count).
func (a Alerts) Title() string {
	t := fmt.Sprintf("Alerts (%d listed)", a.rows())
	if f := a.firing; f.Alerts > 0 {
		t = fmt.Sprintf("Alerts (%d listed, %s)", a.rows(), f.AlertsFiring())
	}
	if d := a.commonDelivery(); d != "" {
		full := t + " · " + model.Sanitize(d)
		// The frame draws the title in the pane's inner width less two
		// cells of edge, the focus mark and two spaces (pane): a title wider
		// than that was cut mid-word ("waiting: no mavtop runs with
		// --noti…" at 200×50).
		if a.width <= 0 || cellWidth(full) <= a.width-6 || d != model.DeliveryWaiting {
			return full
		}
		return t + " · " + model.DeliveryWaitingShort
	}
	return t
}

// commonDelivery is the delivery every shared entry has alike when there are
// two or more ("waiting: no mavtop runs with --notify" on a screen with no
// sink anywhere): the title says it once and the rows leave it out, so it
// does not take half of every row and cut each summary; "" when they differ.
func (a Alerts) commonDelivery() string { return a.delivery }

// commonDelivery finds the delivery every entry shares (Alerts.commonDelivery):
// a walk of every entry, so once a lifecycle (Rows count it as they change).
func (l Lifecycle) commonDelivery() string {
	es := l.Entries
	if len(es) < 2 || es[0].Delivery == "" {
		return ""
	}
	for _, e := range es[1:] {
		if e.Delivery != es[0].Delivery {
			return ""
		}
	}
	return es[0].Delivery
}

// View lists alerts, newest first.
func (a Alerts) View() string {
	if a.width <= 0 || a.height <= 0 {
		return ""
	}
	if a.rows() == 0 {
		return a.st.Dim.Render(fit("  No alerts yet: thresholds crossed and 402s show here.", a.width))
	}
	var lines []string
	from, to := a.cur.window()
	a.ensure(min(from, a.cur.pos), max(to, a.cur.pos+1)) // made already, unless this copy's rows changed since
	for i := from; i < to; i++ {
		marker := "  "
		if i == a.cur.pos && a.focused {
			marker = "▸ "
		}
		s := fit(marker+a.row(i), a.width)
		if i == a.cur.pos && a.focused {
			s = a.st.Selected.Render(pad(s, a.width))
		}
		lines = append(lines, s)
	}
	if n := a.wholeLines(); n > 0 && a.cur.pos < a.rows() {
		whole := clipLines(wrapLines("▸ "+a.sentence(a.cur.pos), a.width, 2), n, a.width)
		for len(lines) < a.height-len(whole) {
			lines = append(lines, "") // the selected one at the bottom of the pane
		}
		for _, l := range whole {
			lines = append(lines, a.st.Bold.Render(l))
		}
	}
	return strings.Join(lines, "\n")
}

// row draws row i: a shared lifecycle entry, a forecast score or this
// screen's own alert, newest first (sortRows).
func (a *Alerts) row(i int) string {
	r := a.ref(i)
	switch r.src {
	case srcLife:
		e := &r.e
		look, status := a.st.Level(e.Level), "firing"
		if e.Status == model.AlertResolved {
			look, status = a.st.Level(model.LevelOK), "resolved"
		}
		head := e.At.Local().Format("15:04:05") + " " + look.Style.Render(look.Symbol) + " " + status + ": "
		sum := shortNameIn(model.Sanitize(e.Summary), e.workspace(), a.names())
		fa := a.firesAgain(e)
		if (e.Delivery == "" || e.Delivery == a.commonDelivery()) && fa == "" {
			return head + bannerText(sum, e.workspace(), a.width-2-cellWidth(head), a.names())
		}
		// The delivery is what an operator scans this pane for, and it comes
		// last: the summary gives way to it (else a summary's usual 70–90 cells
		// cut every "✓ sent" off a pane narrower than 120), keeping at least
		// minSummary cells of what the alert says; a long delivery error is cut
		// in turn, after its symbol and first words.
		const minSummary = 24
		d := model.Sanitize(e.Delivery)
		if e.Delivery == a.commonDelivery() {
			d = "" // said once for every entry
		}
		if fa != "" { // when it may fire again, as FIRES AGAIN says it
			if d != "" {
				d += " · "
			}
			d += fa
		}
		if room := a.width - 2 - cellWidth(head) - 2; room > minSummary {
			d = truncate(d, max(room-minSummary, 1))
			sum = bannerText(sum, e.workspace(), room-cellWidth(d), a.names())
		}
		return head + sum + "  " + a.st.Dim.Render(d)
	case srcScore:
		const head = "         forecast "
		return head + truncateWords(model.Sanitize(a.life.Scores[r.i].String(time.Local)), a.width-2-len(head))
	}
	al := a.list[r.i]
	look := a.st.Level(al.Level)
	head := al.At.Local().Format("15:04:05") + " " + look.Style.Render(look.Symbol) + " "
	return head + bannerText(shortNameIn(al.Text, al.Workspace, a.names()), al.Workspace, a.width-2-cellWidth(head), a.names())
}

// names is the width a workspace name gets: the one every pane gives names.
func (a *Alerts) names() int {
	if a.nameW > 0 {
		return a.nameW
	}
	return nameWidth(a.width + 2)
}

// workspace is the entry's workspace, read from its id
// ("<period>/<workspace>/…"; names hold no "/"), "" for none.
func (e *LifecycleEntry) workspace() string {
	// the id's second part, cut without a slice of parts: the firing count
	// asks it of every record of a lifecycle (~44k at 100k workspaces)
	_, rest, ok := strings.Cut(e.ID, "/")
	if !ok {
		return ""
	}
	ws, _, ok := strings.Cut(rest, "/")
	if !ok || ws == "-" {
		return ""
	}
	return ws
}
