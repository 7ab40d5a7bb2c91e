package notify

import (
	"cmp"
	"strings"
	"time"
	"unique"

	"github.com/tidwall/btree"

	"mavtop/feed"
	"mavtop/model"
)

// lifeIndex keeps the period's entries as the records change, so that one
// changed record costs O(log n), not a rebuild and sort of every record: at
// 100k workspaces the lifecycle holds ~44k-110k records and one changes
// nearly every second, and rebuilding them all at each change was a fifth of
// the dashboard's CPU and most of its garbage (issue 16).
//
// The entries are kept in two B-trees of *Entry (tidwall/btree's BTreeG,
// whose nodes count the items under them: an entry's position and the entry
// at a position are O(log n) questions, which the alerts pane asks to keep a
// selection far down on its alert at each change without walking the rows
// above it): newest transition first (the order every surface lists them
// in), and by lifecycle key (Lists). An entry is never written once in a tree: a changed
// record gets a new *Entry, removed at its old place and inserted at its new
// one. A snapshot clones both trees, O(1) (copy on write: the trees and their
// clones share nodes until either is written, and may then be used from other
// goroutines), so a reader holds an immutable lifecycle while the watcher
// keeps changing its own; the nodes a change copies are the O(log n) on its
// path. A snapshot rather than per-generation deltas: a poll that missed
// generations (a viewer that fell behind, a pane closed for an hour) needs
// no log kept for it, and each reader walks only the rows it shows.
//
// The firing count, the deliveries said and the forecast scores are counted
// as the entries change, never recounted. Only the watcher's goroutines use
// it, with w.mu held.
type lifeIndex struct {
	period string // the billing period listed ("": none yet)
	byTime *btree.BTreeG[*Entry]
	byKey  *btree.BTreeG[*Entry]
	in     map[string]*Entry // id → its entry in the trees
	// firing counts the entries firing: in all, per workspace (one of them
	// firing counts the workspace), the feed's, and by level (the worst)
	firing   int
	wsFiring map[string]int
	feed     map[string]string // feed alert firing (id) → what it says
	levels   map[model.Level]int
	// deliveries counts the entries by what their delivery says (Entry's
	// Delivery): the one every entry shares is said once (Lifecycle's
	// Delivery)
	deliveries map[string]int
	// scored are the forecast scores of every record known (any period),
	// newest 402 first; scoreOf the one each record carries
	scored  *btree.BTreeG[scoredItem]
	scoreOf map[string]scoredItem
	// rev numbers the entries made (Entry.Rev); changed says the trees or
	// the scores changed since the last snapshot, scoresChanged the scores
	rev           uint64
	changed       bool
	scoresChanged bool
}

type scoredItem struct {
	id string
	s  model.ForecastScore
}

// degree of the trees: nodes of up to 63 pointers, a few hundred bytes
// copied by a change after a snapshot.
const lifeDegree = 32

// newTree is a tree of lifeDegree without locks: the watcher writes its own
// trees with w.mu held, and a snapshot's copies are only read (reads write
// nothing: the nodes a copy shares are copied by the writer, never by it).
func newTree[T any](less func(a, b T) bool) *btree.BTreeG[T] {
	return btree.NewBTreeGOptions(less, btree.Options{Degree: lifeDegree, NoLocks: true})
}

func entryNewerFirst(a, b *Entry) bool {
	if c := b.At().Compare(a.At()); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

func entryByKey(a, b *Entry) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.ID < b.ID
}

func scoreNewerFirst(a, b scoredItem) bool {
	if c := b.s.Refused.Compare(a.s.Refused); c != 0 {
		return c < 0
	}
	if a.s.Workspace != b.s.Workspace {
		return a.s.Workspace < b.s.Workspace
	}
	return a.id < b.id
}

// reset empties the index for period.
func (x *lifeIndex) reset(period string) {
	*x = lifeIndex{period: period, rev: x.rev, changed: true, scoresChanged: true,
		byTime: newTree(entryNewerFirst), byKey: newTree(entryByKey), in: map[string]*Entry{},
		wsFiring: map[string]int{}, feed: map[string]string{}, levels: map[model.Level]int{}, deliveries: map[string]int{},
		scored: newTree(scoreNewerFirst), scoreOf: map[string]scoredItem{}}
}

// set keeps id's record p (zero: removed) in the index; r is p decoded
// (nil for none), not kept.
func (x *lifeIndex) set(id string, p feed.PackedAlert, r *feed.StoredAlert) {
	if x.byTime == nil {
		x.reset(x.period)
	}
	if old, ok := x.in[id]; ok {
		x.byTime.Delete(old)
		x.byKey.Delete(old)
		delete(x.in, id)
		x.count(old, -1, "")
		x.changed = true
	}
	if s, ok := x.scoreOf[id]; ok {
		x.scored.Delete(s)
		delete(x.scoreOf, id)
		x.scoresChanged = true
	}
	if r == nil {
		return
	}
	if s, ok := scoreOf(r); ok {
		it := scoredItem{id, s}
		x.scored.Set(it)
		x.scoreOf[id] = it
		x.scoresChanged = true
	}
	if r.Alert.Period != x.period && r.Status != model.AlertFiring {
		return // another period's, resolved: not listed
	}
	x.rev++
	e := new(Entry)
	*e = EntryOf(r)
	// the few things deliveries say, said once for every entry
	e.Said = intern(e.DeliveryText())
	e.StoredAlert, e.rec, e.Rev = nil, p, x.rev // kept packed
	x.byTime.Set(e)
	x.byKey.Set(e)
	x.in[id] = e
	x.count(e, 1, r.Alert.Note)
	x.changed = true
}

// intern returns s's canonical copy.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// count adds (d 1) or takes away (d -1) e's part of the counts; note is
// the alert's note, when added.
func (x *lifeIndex) count(e *Entry, d int, note string) {
	if x.deliveries[e.Said] += d; x.deliveries[e.Said] == 0 {
		delete(x.deliveries, e.Said)
	}
	if e.Status != model.AlertFiring {
		return
	}
	x.firing += d
	if x.levels[e.Level] += d; x.levels[e.Level] == 0 {
		delete(x.levels, e.Level)
	}
	ws := idWorkspace(e.ID)
	if ws == "" {
		if d > 0 {
			x.feed[e.ID] = cmp.Or(e.Summary, note)
		} else {
			delete(x.feed, e.ID)
		}
		return
	}
	if x.wsFiring[ws] += d; x.wsFiring[ws] == 0 {
		delete(x.wsFiring, ws)
	}
}

// firingCount is the firing count the pane and the header say.
func (x *lifeIndex) firingCount() model.FiringCount {
	c := model.FiringCount{Alerts: x.firing, Workspaces: len(x.wsFiring)}
	for id, cause := range x.feed {
		c.NameFeed(model.FeedAlertName(id), cause)
	}
	for l := range x.levels {
		c.Worst = max(c.Worst, l)
	}
	return c
}

// delivery is what every entry's delivery says when two or more say the same
// ("" otherwise).
func (x *lifeIndex) delivery() string {
	if len(x.deliveries) != 1 || len(x.in) < 2 {
		return ""
	}
	for d := range x.deliveries {
		return d
	}
	return ""
}

// scores are the newest MaxScores scores.
func (x *lifeIndex) scores() []model.ForecastScore {
	var out []model.ForecastScore
	if x.scored == nil {
		return out
	}
	x.scored.Scan(func(it scoredItem) bool {
		out = append(out, it.s)
		return len(out) < MaxScores
	})
	return out
}

// lifecycleKey is an alert id without its period and its episode: an alert
// and its episodes, this period's and the last's, share it (the pane's local
// alerts are left out when the lifecycle lists their key).
func lifecycleKey(id string) string {
	base, _ := model.SplitEpisode(id)
	_, rest, _ := strings.Cut(base, "/")
	return rest
}

// idWorkspace is the workspace of an alert id ("<period>/<workspace>/…";
// "-" and none: "", the feed's), as the pane reads it.
func idWorkspace(id string) string {
	return model.IDWorkspace(id)
}

// Lifecycle is a snapshot of this period's alerts: immutable, shared by every
// reader of its generation, taken in O(1) (Watcher.Lifecycle).
type Lifecycle struct {
	// Gen numbers it: a poll naming it again gets nothing new.
	Gen uint64
	// Scores are the newest forecast scores, newest first.
	Scores []model.ForecastScore
	// Firing counts the entries firing; Delivery is what every entry's
	// delivery says alike when two or more do ("" otherwise).
	Firing   model.FiringCount
	Delivery string
	byTime   *btree.BTreeG[*Entry]
	byKey    *btree.BTreeG[*Entry]
}

// Len is the number of entries.
func (l *Lifecycle) Len() int {
	if l == nil || l.byTime == nil {
		return 0
	}
	return l.byTime.Len()
}

// Each calls fn with the entries newest transition first (then by id) until
// it returns false. The entries are shared: never write them.
func (l *Lifecycle) Each(fn func(e *Entry) bool) {
	if l.Len() == 0 {
		return
	}
	l.byTime.Scan(fn)
}

// EachFrom calls fn with the entries from the one at position i (0: the
// newest) on, newest first, until it returns false: O(log n) to the first.
func (l *Lifecycle) EachFrom(i int, fn func(e *Entry) bool) {
	first, ok := l.At(i)
	if !ok {
		return
	}
	l.byTime.Ascend(first, fn)
}

// At is the entry at position i, newest first (false: none). O(log n).
func (l *Lifecycle) At(i int) (*Entry, bool) {
	if l.Len() == 0 {
		return nil, false
	}
	return l.byTime.GetAt(i)
}

// Find is the entry of alert id (false: none listed). O(log n).
func (l *Lifecycle) Find(id string) (*Entry, bool) {
	if l.Len() == 0 {
		return nil, false
	}
	var found *Entry
	l.byKey.Ascend(&Entry{ID: id, key: lifecycleKey(id)}, func(e *Entry) bool {
		if e.ID == id {
			found = e
		}
		return false
	})
	return found, found != nil
}

// Position is e's position, newest first: how many entries come before it
// (e need not be listed: where it would be). O(log² n): a binary search of
// positions, each O(log n).
func (l *Lifecycle) Position(e *Entry) int {
	return l.search(func(o *Entry) bool { return !entryNewerFirst(o, e) })
}

// AtOrAfter counts the entries whose transition is at t or later: they come
// first. O(log² n).
func (l *Lifecycle) AtOrAfter(t time.Time) int {
	return l.search(func(o *Entry) bool { return o.At().Before(t) })
}

// search is the first position whose entry holds for from (false before it,
// true from it on; Len when none holds).
func (l *Lifecycle) search(from func(o *Entry) bool) int {
	lo, hi := 0, l.Len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e, _ := l.byTime.GetAt(m); from(e) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// Lists reports whether an entry's id is key once its period and episode are
// cut ("acme/-/threshold/75").
func (l *Lifecycle) Lists(key string) bool {
	if l.Len() == 0 {
		return false
	}
	found := false
	l.byKey.Ascend(&Entry{key: key}, func(e *Entry) bool {
		found = e.key == key
		return false
	})
	return found
}

// Latest reports whether e is its alert's latest episode in the lifecycle:
// no entry of its key has a higher episode number ("…/75~2" follows
// "…/75"). O(log n) and the entries of its key (model.FiresAgainAt).
func (l *Lifecycle) Latest(e *Entry) bool {
	if l.Len() == 0 {
		return true
	}
	_, n := model.SplitEpisode(e.ID)
	latest := true
	l.byKey.Ascend(&Entry{key: e.key}, func(o *Entry) bool {
		if o.key != e.key {
			return false
		}
		if _, m := model.SplitEpisode(o.ID); m > n {
			latest = false
			return false
		}
		return true
	})
	return latest
}

// Entries are the entries as a slice (a copy: O(n), each record decoded),
// newest first.
func (l *Lifecycle) Entries() []Entry {
	out := make([]Entry, 0, l.Len())
	l.Each(func(e *Entry) bool {
		c := *e
		c.StoredAlert = e.Record()
		out = append(out, c)
		return true
	})
	return out
}

// snapshot is the index as a Lifecycle of generation gen: the trees cloned.
func (x *lifeIndex) snapshot(gen uint64, scores []model.ForecastScore) *Lifecycle {
	l := &Lifecycle{Gen: gen, Scores: scores, Firing: x.firingCount(), Delivery: x.delivery()}
	if x.byTime != nil {
		l.byTime, l.byKey = x.byTime.Copy(), x.byKey.Copy()
	}
	return l
}

// Index keeps a lifecycle's entries as records change, as the watcher keeps
// its own: for the readers' tests and benchmarks, which make a lifecycle
// without a store.
type Index struct {
	x    lifeIndex
	gen  uint64
	snap *Lifecycle
}

// NewIndex returns an empty index listing period's alerts (and the firing
// ones of other periods).
func NewIndex(period string) *Index {
	i := &Index{}
	i.x.reset(period)
	return i
}

// Set keeps id's record (packed); nil removes it.
func (i *Index) Set(id string, r *feed.StoredAlert) { i.x.set(id, feed.Pack(r), r) }

// Lifecycle is Watcher.Lifecycle: nil when nothing changed since the
// snapshot numbered gen, else the snapshot of now.
func (i *Index) Lifecycle(gen uint64) *Lifecycle {
	i.snap = i.x.take(i.snap, &i.gen)
	if gen != 0 && gen == i.gen {
		return nil
	}
	return i.snap
}

// take is the snapshot of the index: last again when nothing changed since
// it, else a new one numbered ++*gen.
func (x *lifeIndex) take(last *Lifecycle, gen *uint64) *Lifecycle {
	if last != nil && !x.changed && !x.scoresChanged {
		return last
	}
	scores := x.scores()
	if last != nil && !x.scoresChanged {
		scores = last.Scores // unchanged: shared
	}
	*gen++
	x.changed, x.scoresChanged = false, false
	return x.snapshot(*gen, scores)
}
