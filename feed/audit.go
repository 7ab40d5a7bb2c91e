package feed

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// DefaultAuditEvery is how often a connected subscriber compares what it has
// delivered with the counters (SubscriberOptions.AuditEvery).
const DefaultAuditEvery = 5 * time.Second

// RefusalAuditWithin bounds how long a 402 read from the stream waits for
// the audit that confirms the counters hold it (AuditMsg), whatever
// AuditEvery: a ledger judges a workspace's refusals alert unknown until then
// (model.Ledger.CountersHeld), and with --audit 60s a counted 402 alerted up
// to a minute late. While a 402 waits, an audit runs once this long has
// passed since the last (at once when it has already): at most one audit
// every 5 s beyond the cadence, and only while 402s come.
const RefusalAuditWithin = 5 * time.Second

// tally is the subscriber's account of what it has delivered in the current
// generation, per workspace, in the shape of the period hashes: what a ledger
// fed the same messages shows. The audit compares it with the counters. It is
// O(workspaces): used_by, refused and settings are kept as order-free checksums
// (the sum of hash(field)·value), so a difference in any field shows without
// keeping the fields.
type tally struct {
	seed maphash.Seed
	h    maphash.Hash
	ws   map[string]*wsTally
	// settings maps a settings hash field to the checksum of its value, so a
	// new value replaces the old one in its workspace's checksum.
	settings map[string]uint64
	// sums is what the digest hash holds when every producer keeps it: the
	// per-shard sums of used, recharged and 402s (see DigestShard).
	sums digest
	// usedByAt is the stream id a used_by read after the snapshot included
	// (see UsedByMsg): entries up to it are in the usedBy checksums already.
	usedByAt string
	// usedByPending: the snapshot left used_by out and its read has not come
	// yet; usedByLog holds the usedBy checksums of the entries delivered
	// meanwhile, added by addUsedBy when newer than the read's id.
	usedByPending bool
	usedByLog     []loggedSum
}

// loggedSum is one delivered entry's usedBy checksum, kept while used_by is
// read (see tally.usedByLog).
type loggedSum struct {
	id  string
	w   *wsTally
	sum uint64
}

// kindDropped marks a settings entry whose field the hash no longer holds.
const kindDropped model.Kind = 255

type wsTally struct {
	used, recharged          int64
	usedBy, refused, setting uint64
	// unreadable: its used, recharged or refused counter holds no integer
	// ≥ 0 (model.Snapshot.Unreadable, RechargedUnreadable,
	// RefusedUnreadable), so a counter healed, or broken,
	// differs even when the number read stays 0; unreadableUsedBy: only a
	// used_by field of a project with a usage limit does (not read by a
	// quick audit, so kept apart; see sameAs)
	unreadable, unreadableUsedBy bool
	// settingsKey: the settings key itself cannot be read (another type,
	// NOPERM: SnapshotResult.wrongKeys gives each workspace settings that
	// cannot be read, naming the key), which every read, quick or full,
	// sees (a quick read asks the key's period field): a key fixed or
	// broken differs
	settingsKey bool
}

// sameAs compares two workspaces' tallies; noUsedBy leaves used_by out (one
// of them has not read it yet). Unreadable is unreadable, whichever counter
// says so first.
func (w wsTally) sameAs(o wsTally, noUsedBy bool) bool {
	w.unreadableUsedBy = w.unreadableUsedBy && !w.unreadable
	o.unreadableUsedBy = o.unreadableUsedBy && !o.unreadable
	if noUsedBy {
		w.usedBy, o.usedBy, w.unreadableUsedBy, o.unreadableUsedBy = 0, 0, false, false
	}
	return w == o
}

// markUnreadable records a workspace of Snapshot.Unreadable (why: its
// reason): only a limited project's used_by field (the greatest name of
// the four hashes, so the reason MarkUnreadable keeps names it only when
// no other counter is unreadable) is unreadableUsedBy.
func (t *tally) markUnreadable(ws, why string) {
	if strings.HasPrefix(why, `counter "used_by:`) {
		t.get(ws).unreadableUsedBy = true
		return
	}
	t.get(ws).unreadable = true
}

func newTally(seed maphash.Seed) *tally {
	t := &tally{seed: seed, ws: map[string]*wsTally{}, settings: map[string]uint64{}}
	t.h.SetSeed(seed)
	return t
}

func (t *tally) get(ws string) *wsTally {
	if w := t.ws[ws]; w != nil {
		return w
	}
	w := &wsTally{}
	t.ws[strings.Clone(ws)] = w
	return w
}

// sum hashes the parts as one string (maphash hashes a sequence of writes like
// their concatenation, so no field string is built per event).
func (t *tally) sum(parts ...string) uint64 {
	t.h.Reset()
	for i, p := range parts {
		if i > 0 {
			_ = t.h.WriteByte('/')
		}
		_, _ = t.h.WriteString(p)
	}
	return t.h.Sum64()
}

// tallyOf is the tally of a snapshot read; raw holds the settings hash as stored.
func tallyOf(seed maphash.Seed, s *model.Snapshot, raw map[string]string) *tally {
	t := newTally(seed)
	// sized for what they will hold: grown from empty, the maps of 100k
	// workspaces and settings were rehashed over and over
	t.ws = make(map[string]*wsTally, max(len(s.Used), len(s.Settings)))
	t.settings = make(map[string]uint64, len(raw))
	t.usedByPending = s.UsedByLater
	for ws, n := range s.Used {
		t.get(ws).used += n
		t.sums.used[DigestShard(ws)] += n
	}
	for ws, n := range s.Recharged {
		t.get(ws).recharged += n
		t.sums.recharged[DigestShard(ws)] += n
	}
	for ws, why := range s.Unreadable {
		t.markUnreadable(ws, why)
	}
	for ws, why := range s.RefusedUnreadable {
		t.markUnreadable(ws, why)
	}
	for ws, why := range s.RechargedUnreadable {
		t.markUnreadable(ws, why)
	}
	for ws, set := range s.Settings {
		if strings.HasPrefix(set.Unreadable, settingsKeyUnreadable) {
			t.get(ws).settingsKey = true
		}
	}
	for key, b := range s.Budgets { // a limited project's credits unreadable
		if ws, _, ok := model.SplitProjectKey(key); ok && b.UsageUnreadable != "" {
			t.get(ws).unreadableUsedBy = true
		}
	}
	for f, n := range s.UsedBy {
		if ws, _, _, ok := model.SplitUsedByField(f); ok {
			t.get(ws).usedBy += t.sum(f) * uint64(n)
		}
	}
	for f, n := range s.Refused {
		if ws, _, _, ok := model.SplitRefusedField(f); ok {
			t.get(ws).refused += t.sum(f) * uint64(n)
			t.sums.refused[DigestShard(ws)] += n
		}
	}
	for f, v := range raw {
		t.setting(f, v)
	}
	return t
}

// addUsedBy adds a used_by hash read at stream id at, after the snapshot the
// tally was made of (which left it out), and the entries delivered since the
// snapshot that are newer than at (the hash holds the others); unreadable
// is the read's UsedByMsg.Unreadable.
func (t *tally) addUsedBy(usedBy map[string]int64, unreadable map[string]string, at string) {
	for key := range unreadable { // project keys (limitedUnreadable)
		if ws, _, ok := model.SplitProjectKey(key); ok {
			t.get(ws).unreadableUsedBy = true
		}
	}
	for f, n := range usedBy {
		if ws, _, _, ok := model.SplitUsedByField(f); ok {
			t.get(ws).usedBy += t.sum(f) * uint64(n)
		}
	}
	for _, l := range t.usedByLog {
		if l.id == "" || model.CompareStreamIDs(l.id, at) > 0 {
			l.w.usedBy += l.sum
		}
	}
	t.usedByAt, t.usedByPending, t.usedByLog = at, false, nil
}

// add counts one event the way a ledger of period p does.
func (t *tally) add(e *model.Event, p model.Period) {
	if e.Kind == model.KindSettings || !p.Contains(e.TS) {
		return
	}
	w := t.get(e.Workspace)
	shard := DigestShard(e.Workspace)
	if e.Kind == model.KindRecharge {
		w.recharged = model.AddCredits(w.recharged, e.Credits) // saturated as the ledger counts
		t.sums.recharged[shard] += e.Credits
		return
	}
	w.used = model.AddCredits(w.used, e.Credits)
	t.sums.used[shard] += e.Credits
	switch {
	case t.usedByPending:
		t.usedByLog = append(t.usedByLog, loggedSum{id: e.ID, w: w, sum: t.sum(e.Workspace, e.Project, e.Endpoint) * uint64(e.Credits)})
	case t.usedByAt == "" || model.CompareStreamIDs(e.ID, t.usedByAt) > 0:
		t.usedByAt = ""
		w.usedBy += t.sum(e.Workspace, e.Project, e.Endpoint) * uint64(e.Credits)
	}
	if e.Refused() {
		w.refused += t.sum(e.Workspace, e.Project, e.Code)
		t.sums.refused[shard]++
	}
}

// setting records that the settings field holds raw now; the checksum is of
// field and value together.
func (t *tally) setting(field, raw string) {
	if field == PeriodSettingsField {
		return // read with every snapshot, not shown per workspace
	}
	ws := field
	if w, _, ok := model.SplitProjectKey(field); ok {
		ws = w
	}
	if !model.IsID(ws) {
		return
	}
	x := t.sum(field, raw)
	w := t.get(ws)
	w.setting += x - t.settings[field]
	t.settings[strings.Clone(field)] = x
}

// diff compares what was delivered (t) with the counters (c): the credits used
// the counters hold beyond what was shown (negative: fewer), how many
// workspaces differ in any counter or setting, and how many hold fewer credits
// used or recharged than were shown (a counter that went down: lost, not
// trimmed). It is compare's figures, for the callers that need no more.
func (t *tally) diff(c *tally) (usedDelta int64, changed, fell int) {
	d := t.compare(c)
	return d.used, d.changed, d.fell
}

// tallyDelta is what the counters (c) hold beyond what was delivered (t), as
// tally.compare finds it: the credits used and recharged beyond what was shown
// (negative: fewer), how many workspaces differ in any counter or setting, and
// how many hold fewer credits used or recharged than were shown.
//
// used and recharged are exact whatever the counters hold, clamped to
// ±MaxInt64: a counter is anything Redis will store, up to ±2^63, and one
// difference of two such (or a sum of them) wraps an int64 ("−2,927" shown as
// "+9,223,…").
type tallyDelta struct {
	used, recharged int64
	changed, fell   int
}

// compare is diff with the credits recharged compared alike
// (SnapshotMsg.RechargedDelta), in the same one pass over both tallies.
func (t *tally) compare(c *tally) tallyDelta {
	var used, recharged wideSum
	var d tallyDelta
	// a tally whose used_by is still being read has none to compare
	noUsedBy := t.usedByPending || c.usedByPending
	for ws, w := range t.ws {
		o := c.ws[ws]
		if o == nil {
			o = &wsTally{}
		}
		used.add(o.used)
		used.sub(w.used)
		recharged.add(o.recharged)
		recharged.sub(w.recharged)
		if !o.sameAs(*w, noUsedBy) {
			d.changed++
		}
		if o.used < w.used || o.recharged < w.recharged {
			d.fell++
		}
	}
	for ws, o := range c.ws {
		if t.ws[ws] == nil {
			used.add(o.used)
			recharged.add(o.recharged)
			if !o.sameAs(wsTally{}, noUsedBy) {
				d.changed++
			}
		}
	}
	d.used, d.recharged = used.clamp(), recharged.clamp()
	return d
}

// wideSum is a sum of credits in 128 bits (two's complement): enough for any
// number of int64 terms without wrapping.
type wideSum struct{ hi, lo uint64 }

// add adds n.
func (s *wideSum) add(n int64) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, uint64(n), 0)
	s.hi, _ = bits.Add64(s.hi, uint64(n>>63), carry) // n>>63: n's sign, extended
}

// sub subtracts n.
func (s *wideSum) sub(n int64) {
	var borrow uint64
	s.lo, borrow = bits.Sub64(s.lo, uint64(n), 0)
	s.hi, _ = bits.Sub64(s.hi, uint64(n>>63), borrow)
}

// clamp returns the sum, or ±MaxInt64 when it is beyond (never MinInt64, so
// it can be negated for display).
func (s wideSum) clamp() int64 {
	switch hi := int64(s.hi); {
	case hi > 0 || hi == 0 && s.lo > math.MaxInt64:
		return math.MaxInt64
	case hi < -1 || hi == -1 && s.lo <= 1<<63:
		return -math.MaxInt64
	}
	return int64(s.lo)
}

// digestAgrees reports whether the digest hash as stored (raw) holds exactly
// the per-shard sums of t: read with the counters in one MULTI, it says the
// producers keep the digest; compared with what was delivered, it stands in
// for every workspace's counters.
func (t *tally) digestAgrees(raw map[string]string) bool {
	d, ok := parseDigest(raw)
	return ok && t.sums.mismatched(&d) == 0
}

// sameCounters compares only what a quick audit reads (used, recharged,
// refused) of t with c.
func (t *tally) sameCounters(c *tally) bool {
	same := func(a, b *wsTally) bool {
		return a.used == b.used && a.recharged == b.recharged && a.refused == b.refused && a.unreadable == b.unreadable
	}
	var zero wsTally
	for ws, w := range t.ws {
		o := c.ws[ws]
		if o == nil {
			o = &zero
		}
		if !same(w, o) {
			return false
		}
	}
	for ws, o := range c.ws {
		if t.ws[ws] == nil && !same(&zero, o) {
			return false
		}
	}
	return true
}

// readSettingsFields reads the current value of settings hash fields (one
// HMGET): a settings entry in the stream only says a value changed, the hash
// says what it is. A field missing from the hash comes back as ok false.
func readSettingsFields(ctx context.Context, c redis.UniversalClient, keys Keys, fields []string) ([]string, []bool, error) {
	vals, err := c.HMGet(ctx, keys.Settings(), fields...).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("read settings: %w", err)
	}
	out := make([]string, len(fields))
	ok := make([]bool, len(fields))
	for i := range fields {
		if i < len(vals) {
			if s, isStr := vals[i].(string); isStr {
				out[i], ok[i] = s, true
			}
		}
	}
	return out, ok, nil
}

// runIDOf returns the run_id line of an INFO server reply ("" when absent).
func runIDOf(info string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return v
		}
	}
	return ""
}

// scanPage is how many hash slots one HSCAN of the piecewise full read
// (scanAgrees) visits: about that many fields a round trip.
const scanPage = 2000

// maxScanEntries bounds the entries written while a piecewise full read ran
// that it reads back to learn whose counters moved meanwhile: beyond it the
// read cannot tell, and the one-MULTI read decides.
const maxScanEntries = 20_000

// scanAgrees is the audit's full comparison read piecewise: every counter
// hash of period p and the settings, read with HSCAN a page at a time and
// folded as they come into one tally (O(workspaces), the same checksums as
// tallyOf), never holding a hash whole. The one-MULTI read it stands in for
// held every hash at once — at 100k workspaces ~270 MB of go-redis replies and
// parsed maps for a second or more — and a collection that caught it raised
// the memory limit, and the RSS, by twice that (see internal/memlimit).
//
// The pages are read at different stream ids, so each page is read in one
// MULTI with the entries written since the page before (from the delivered
// one, lastID, on): a page holds exactly what was delivered plus the entries
// up to the newest read with it. A workspace written after lastID is compared
// with what was delivered plus, field by field, its entries up to the id of
// the page that held the field — so a workspace charged during every scan is
// compared on every scan too (leaving it out, as before, let a write behind
// the stream's back to a workspace busier than the scan go unhealed for
// ever). Only its settings are left to the next scan when a settings entry
// of it came meanwhile (the hash, not the entry, says what they are).
//
// agree true: every workspace's counters and settings are what was
// delivered. false: a difference, or it cannot tell (a field read twice
// while the hash was resized, more than maxScanEntries entries, the delivered
// entry gone): the caller reads everything in one MULTI, which compares
// exactly and heals. between, when set, runs after each hash is read (tests:
// a producer writing while the scan runs).
func scanAgrees(ctx context.Context, c redis.UniversalClient, keys Keys, p model.Period, periodBad string, t *tally, lastID string, between func()) (agree bool, err error) {
	got := newTally(t.seed)
	periodRaw := "" // the billing period config as stored ("" when absent)
	// the entries after lastID read so far, the workspaces they name, and
	// the id of the newest (the stream as the last page saw it)
	var moved []model.Event
	movedWS := map[string]bool{}
	read, newest := 0, lastID
	from := "-"
	if lastID != "" && lastID != "0-0" {
		from = lastID
	}
	// seenAt[h][field]: the id of the page that held the field, for the
	// fields of workspaces moved by then (the others hold what was delivered)
	// badUsedBy: the project key (settings field) of each used_by field
	// that cannot be read → its workspaces
	badUsedBy := map[string][]string{}
	var seenAt [4]map[string]string
	for i := range seenAt {
		seenAt[i] = map[string]string{}
	}
	for hi, h := range []struct {
		key   string
		clean func(string) (string, bool)
		fold  func(f string, n int64)
	}{
		{keys.Used(p.Key), model.CleanWorkspaceField, func(ws string, n int64) { got.get(ws).used += n }},
		{keys.Recharged(p.Key), model.CleanWorkspaceField, func(ws string, n int64) { got.get(ws).recharged += n }},
		{keys.UsedBy(p.Key), model.CleanUsedByField, func(f string, n int64) {
			if ws, _, _, ok := model.SplitUsedByField(f); ok {
				got.get(ws).usedBy += got.sum(f) * uint64(n)
			}
		}},
		{keys.Refused(p.Key), model.CleanRefusedField, func(f string, n int64) {
			if ws, _, _, ok := model.SplitRefusedField(f); ok {
				got.get(ws).refused += got.sum(f) * uint64(n)
			}
		}},
		{keys.Settings(), nil, nil},
	} {
		for cursor := uint64(0); ; {
			var scan *redis.ScanCmd
			var xr *redis.XMessageSliceCmd
			_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				scan = pipe.HScan(ctx, h.key, cursor, "", scanPage)
				xr = pipe.XRangeN(ctx, keys.Stream(), from, "+", int64(maxScanEntries+2-read))
				return nil
			})
			if err != nil {
				return false, fmt.Errorf("audit scan: %w", err)
			}
			msgs := xr.Val()
			if from == lastID {
				// the delivered entry must still be there (else the stream
				// is another one, flushed, restored or trimmed past it, and
				// the counters are not the delivered ones plus what follows)
				if len(msgs) == 0 || msgs[0].ID != lastID {
					return false, nil
				}
				msgs = msgs[1:]
			}
			if read += len(msgs); read > maxScanEntries {
				return false, nil
			}
			for i := range msgs {
				e, err := model.DecodeEvent(msgs[i].ID, msgs[i].Values)
				if err != nil {
					continue // the follow counts nothing of it either
				}
				e.Workspace = strings.Clone(e.Workspace)
				moved = append(moved, e)
				movedWS[e.Workspace] = true
			}
			if n := len(msgs); n > 0 {
				newest = msgs[n-1].ID
			}
			if newest != "" && newest != "0-0" {
				from = "(" + newest
			}
			kv, next := scan.Val()
			for i := 0; i+1 < len(kv); i += 2 {
				if h.fold == nil {
					if kv[i] == PeriodSettingsField {
						periodRaw = kv[i+1]
					}
					if wss, ok := badUsedBy[kv[i]]; ok {
						// a limited project's, or one whose budget cannot be
						// read (model.ProjectBudget.Judged), as the snapshot
						if b, err := decodeBudget(kv[i+1]); err != nil || b.Limit > 0 {
							for _, ws := range wss {
								got.get(ws).unreadableUsedBy = true
							}
						}
					}
					got.setting(kv[i], kv[i+1])
					continue
				}
				// the snapshot's rules (parseCounts): a field under its
				// clean name, one that names no workspace or holds no
				// integer skipped; folded field by field, as the checksums
				// add up the same
				name, ok := h.clean(kv[i])
				n, err := model.ParseCounter(kv[i+1])
				if ok && (err != nil || n < 0) {
					// a counter holding no integer ≥ 0: its workspace is
					// unreadable (model.Snapshot.Unreadable); a used_by
					// field only when its project has a usage limit,
					// known once the settings are read (below)
					switch hi {
					case 0, 1:
						got.get(name).unreadable = true
					case 2:
						ws, project, _, _ := model.SplitUsedByField(name)
						badUsedBy[model.ProjectKey(ws, project)] = append(badUsedBy[model.ProjectKey(ws, project)], ws)
					case 3:
						ws, _, _, _ := model.SplitRefusedField(name)
						got.get(ws).unreadable = true
					}
					continue
				}
				if !ok || err != nil {
					continue
				}
				h.fold(name, n)
				ws := name
				if hi >= 2 {
					ws, _, _, _ = model.SplitUsedByField(name)
				}
				if movedWS[ws] {
					seenAt[hi][name] = newest
				}
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		if between != nil {
			between()
		}
	}
	// the period config changed behind the stream's back (a period entry
	// restarts the follow itself): the full read cuts the periods anew, as
	// the one-MULTI read on this cadence did (readSnapshot's rules: a config
	// that cannot be read counts calendar months in UTC)
	// and the judgement of it: a config broken or repaired into the same
	// rule is said by a re-read (periodBad: the generation's, "" readable)
	rule, bad := model.ParsePeriodConfig(periodRaw) // model.PeriodFallback when it cannot be read
	if !samePeriod(rule.At(p.Start), p) || (bad != nil) != (periodBad != "") || bad != nil && bad.Error() != periodBad {
		return false, nil
	}
	// what each moved workspace's fields should hold: what was delivered,
	// and each entry after it that came before the page holding its field
	// (as tally.add counts it)
	want := make(map[string]*wsTally, len(movedWS))
	settingMoved := map[string]bool{}
	usedByAt := t.usedByAt
	in := func(h int, f, id string) bool {
		at, ok := seenAt[h][f]
		return ok && model.CompareStreamIDs(id, at) <= 0
	}
	for i := range moved {
		e := &moved[i]
		w := want[e.Workspace]
		if w == nil {
			w = &wsTally{}
			if d := t.ws[e.Workspace]; d != nil {
				*w = *d
			}
			want[e.Workspace] = w
		}
		if e.Kind == model.KindSettings {
			settingMoved[e.Workspace] = true
			continue
		}
		if !p.Contains(e.TS) {
			continue
		}
		if e.Kind == model.KindRecharge {
			if in(1, e.Workspace, e.ID) {
				w.recharged = model.AddCredits(w.recharged, e.Credits)
			}
			continue
		}
		if in(0, e.Workspace, e.ID) {
			w.used = model.AddCredits(w.used, e.Credits)
		}
		if usedByAt == "" || model.CompareStreamIDs(e.ID, usedByAt) > 0 {
			usedByAt = ""
			if f := model.UsedByField(e.Workspace, e.Project, e.Endpoint); in(2, f, e.ID) {
				w.usedBy += got.sum(f) * uint64(e.Credits)
			}
		}
		if f := model.RefusedField(e.Workspace, e.Project, e.Code); e.Refused() && in(3, f, e.ID) {
			w.refused += got.sum(f)
		}
	}
	var zero wsTally
	for ws, w := range want {
		o := got.ws[ws]
		if o == nil {
			o = &zero
		}
		a, b := *o, *w
		if settingMoved[ws] {
			a.setting, b.setting = 0, 0
		}
		if a != b {
			return false, nil
		}
	}
	for ws, w := range t.ws {
		if o := got.ws[ws]; want[ws] == nil && (o == nil && *w != zero || o != nil && *o != *w) {
			return false, nil
		}
	}
	for ws, o := range got.ws {
		if t.ws[ws] == nil && want[ws] == nil && *o != zero {
			return false, nil
		}
	}
	return true, nil
}
