package feed

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// usedByPage is HSCAN's COUNT in the start's used_by read (scanUsedBy), and
// the most entries one XRANGE of it reads and the most fields one HMGET of
// its fix-up asks: each command a fraction of a millisecond of the server's
// time, so a shared Redis (the producers' XADD and HINCRBY, other
// dashboards) never waits long behind a start. A variable for the tests.
var usedByPage int64 = 1000

// usedByMaxGap is the most entries written between the scan's end and one
// fix-up read (usedByFold.reread) that the read takes; more make the read
// fail, to be made again (the generation restarts, as for any failed read).
const usedByMaxGap = 100_000

// errUsedByUnsure: scanUsedBy cannot tell which entries were written while
// it scanned (entries removed meanwhile, or a Redis < 7, which does not
// count what it added); the caller reads the hash whole instead.
var errUsedByUnsure = errors.New("the entries written during the used_by scan cannot all be read")

// streamTip is what XINFO STREAM says of the stream's end: its last id
// ("0-0": no stream) and the entries ever added (0 when not told: Redis < 7,
// or no stream).
type streamTip struct {
	last  string
	added int64
}

func tipOf(cmd *redis.XInfoStreamCmd) (streamTip, error) {
	if err := cmd.Err(); err != nil {
		if isNoSuchKey(err) {
			return streamTip{last: "0-0"}, nil
		}
		return streamTip{}, err
	}
	in := cmd.Val()
	t := streamTip{last: in.LastGeneratedID, added: in.EntriesAdded}
	if t.last == "" {
		t.last = "0-0"
	}
	return t, nil
}

// scanUsedBy reads the used_by hash of res's period without one command
// holding Redis for the whole hash (an HGETALL of 1.2M fields at 100k
// workspaces held a shared Redis for seconds): HSCAN, usedByPage fields a
// call, folded into credits as the pages come (no page is kept), and
// returns it as it stood at stream id at, as a MULTI of HGETALL and XINFO
// STREAM at that id reads it.
//
// The pages are read at different times, so a field written during the scan
// may be read before or after the write. The stream says which fields were
// written: A is its last id before the scan, B after it, and every entry in
// (A, B] is read as the scan goes (an XRANGE in the same round trip as each
// HSCAN, so a stream trimmed short still holds them) and counted against
// the entries Redis says it added. A field no entry in (A, B] touched held
// the same value all along: it is exact at B. The fields those entries
// touched are read again with HMGET, usedByPage a MULTI, with the entries
// written since B (XRANGE) and the stream's new end C; the credits of the
// entries in (B, C] on each such field are taken off, which gives its value
// at B. at is B. HSCAN may return a field twice (the hash rehashed during the
// scan): a field's value is replaced, never added, so it counts once.
//
// A field whose name is not as DecodeEvent names its event (a project that
// is no id, an endpoint cleaned) is kept under its own name until the end
// and parsed as the whole read parses it (parseCounts: bad values named,
// fields of one clean name added). errUsedByUnsure when the entries written
// during the scan cannot all be read back. hook, when set, is called with
// "page" after each page (tests).
func scanUsedBy(ctx context.Context, c redis.UniversalClient, keys Keys, res *SnapshotResult, hook func(string)) (map[string]int64, map[string]string, string, error) {
	key := keys.UsedBy(res.Snap.Period.Key)
	// the stream is read beside the hash: a stream the server will not let
	// be read is said as the stream's (StreamError, naming its key), not as
	// used_by's: the subscriber then audits the counters without it
	streamErr := func(err error) error {
		if se := streamRefusal(ctx, c, keys.Stream(), err); se != nil {
			return se
		}
		return err
	}
	a, err := tipOf(c.XInfoStream(ctx, keys.Stream()))
	if err != nil {
		return nil, nil, "", streamErr(err)
	}
	if a.added == 0 && a.last != "0-0" {
		return nil, nil, "", errUsedByUnsure // Redis < 7: it does not count what it added
	}
	f := usedByFold{direct: map[string]int64{}, rest: map[string]string{}}
	w := writtenSince{from: a.last, period: res.Snap.Period, touched: touched{}, atB: map[string]bool{}}
	var cursor uint64
	for {
		var scan *redis.ScanCmd
		var since *redis.XMessageSliceCmd
		_, _ = c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			scan = pipe.HScan(ctx, key, cursor, "", usedByPage)
			since = w.next(ctx, pipe, keys, "+")
			return nil
		})
		kv, next, err := scan.Result()
		if isWrongType(err) {
			// read as empty, as the whole read reads it: the audit's first
			// full read names the key (SnapshotResult.BadKeys)
			return map[string]int64{}, nil, a.last, nil
		}
		if err != nil {
			return nil, nil, "", err
		}
		if err := w.take(since); err != nil {
			return nil, nil, "", streamErr(err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f.set(kv[i], kv[i+1], true)
		}
		if hook != nil {
			hook("page")
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	b, err := tipOf(c.XInfoStream(ctx, keys.Stream()))
	if err != nil {
		return nil, nil, "", streamErr(err)
	}
	if compareIDs(b.last, a.last) < 0 {
		return nil, nil, "", errors.New("the stream went back while used_by was read")
	}
	for compareIDs(w.from, b.last) < 0 { // the rest of (A, B]
		since := w.next(ctx, c, keys, b.last)
		if err := w.take(since); err != nil {
			return nil, nil, "", streamErr(err)
		}
		if w.short {
			break
		}
	}
	if b.added-a.added != w.read {
		return nil, nil, "", errUsedByUnsure // removed meanwhile (a short MAXLEN, XDEL)
	}
	if len(w.touched) > 0 {
		f.atB = w.atB
		if err := f.reread(ctx, c, keys, key, res.Snap.Period, b, w.touched, hook); err != nil {
			if errors.Is(err, errWrongTypeMeanwhile) {
				return map[string]int64{}, nil, b.last, nil
			}
			return nil, nil, "", err
		}
	}
	m, bad := f.done(res)
	return m, unreadableProjects(bad), b.last, nil
}

// writtenSince reads the entries written during the scan, usedByPage at a
// time, from after id from: how many, and the used_by fields they touched.
type writtenSince struct {
	from    string
	period  model.Period
	read    int64
	short   bool // the last read returned less than a page: none left then
	touched touched
	// atB: the clean fields an entry of the period wrote (so they exist at B)
	atB map[string]bool
}

// next queues the XRANGE of the next page up to end on c (a pipeline or a
// client).
func (w *writtenSince) next(ctx context.Context, c redis.Cmdable, keys Keys, end string) *redis.XMessageSliceCmd {
	from := "(" + w.from
	if w.from == "0-0" {
		from = "-"
	}
	return c.XRangeN(ctx, keys.Stream(), from, end, usedByPage)
}

// take counts a page of entries read by next and notes what they touched.
// Entries of every period are noted: one of another period is read again
// for nothing, which costs one field.
func (w *writtenSince) take(cmd *redis.XMessageSliceCmd) error {
	msgs, err := cmd.Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	w.read += int64(len(msgs))
	w.short = int64(len(msgs)) < usedByPage
	if len(msgs) > 0 {
		w.from = msgs[len(msgs)-1].ID
	}
	for _, m := range msgs {
		e, err := model.DecodeEvent(m.ID, m.Values)
		if err != nil || e.Kind != model.KindUsage {
			continue // no used_by field
		}
		clean := model.UsedByField(e.Workspace, e.Project, e.Endpoint)
		w.touched.add(clean, clean)
		if w.period.Contains(e.TS) {
			w.atB[clean] = true
		}
		if raw := rawUsedByField(m, e); raw != clean {
			w.touched.add(clean, raw)
		}
	}
	return nil
}

// rawUsedByField is the used_by field a producer wrote for entry m (decoded
// as e): its project and endpoint as written, which the event cleans.
func rawUsedByField(m redis.XMessage, e model.Event) string {
	rp, _ := m.Values["project"].(string)
	re, _ := m.Values["endpoint"].(string)
	if rp == e.Project && re == e.Endpoint {
		return model.UsedByField(e.Workspace, e.Project, e.Endpoint)
	}
	return model.UsedByField(e.Workspace, rp, re)
}

// touched is what entries touched in used_by: by clean field (as the ledger
// counts it), the raw fields it may be stored under (the clean name, the
// entry's own when it differs, and any the scan found that cleans to it).
type touched map[string][]string

func (t touched) add(clean, raw string) {
	for _, r := range t[clean] {
		if r == raw {
			return
		}
	}
	t[clean] = append(t[clean], raw)
}

// usedByFold is the used_by hash folded as it is read: direct holds the
// fields already under their clean name with a good value (most of them),
// rest every other field with its value as stored (parsed at the end).
type usedByFold struct {
	direct map[string]int64
	rest   map[string]string
	// off holds, for a clean field read again (reread), the credits of the
	// entries after B it holds, taken off at the end; atB the clean fields
	// read again that existed at B: found by the scan, or written by an
	// entry up to B (a field is never removed but with its hash). One read
	// again that did not is one the entries after B made: not in the hash
	// at B, whatever they added to it (a 402 adds 0)
	off map[string]int64
	atB map[string]bool
}

// set records raw field k holding v, replacing what a page read before;
// present false: the field is not in the hash.
func (f *usedByFold) set(k, v string, present bool) {
	if !present {
		delete(f.direct, k)
		delete(f.rest, k)
		return
	}
	if cleanAsStored(k) {
		if n, err := model.ParseCounter(v); err == nil && n >= 0 {
			delete(f.rest, k)
			f.direct[k] = n
			return
		}
	}
	delete(f.direct, k)
	f.rest[k] = v
}

// has reports whether the fold holds raw field k.
func (f *usedByFold) has(k string) bool {
	if _, ok := f.direct[k]; ok {
		return true
	}
	_, ok := f.rest[k]
	return ok
}

// done parses what is left (parseCounts), takes off the credits written
// after B on the fields read again, and returns the credits by clean field
// with the limited fields that cannot be read.
func (f *usedByFold) done(res *SnapshotResult) (map[string]int64, map[string]string) {
	m := f.direct
	var bad map[string]string
	if len(f.rest) > 0 {
		var parsed map[string]int64
		parsed, bad = res.parseCounts("used_by", f.rest, model.CleanUsedByField)
		for k, n := range parsed {
			m[k] = model.AddCredits(m[k], n)
		}
	}
	for k, n := range f.off {
		v, ok := m[k]
		if !ok {
			continue // not readable, or gone: nothing to take off
		}
		if !f.atB[k] {
			delete(m, k) // made after B: no field at B
		} else {
			m[k] = v - n
		}
	}
	return m, bad
}

// cleanAsStored reports whether used_by field k is already under the name
// model.CleanUsedByField gives it, without making that name.
func cleanAsStored(k string) bool {
	ws, project, endpoint, ok := model.SplitUsedByField(k)
	return ok && model.IsID(ws) && (project == "" || model.IsID(project)) && model.CleanEndpoint(endpoint) == endpoint
}

// errWrongTypeMeanwhile: the used_by key came to hold another type during
// the read (read as empty, as the scan reads it).
var errWrongTypeMeanwhile = errors.New("used_by holds another type")

// reread reads again, with HMGET, the raw fields of the clean fields t holds
// as they stood at b: usedByPage raw fields a MULTI, with the entries written
// after b (XRANGE) and the stream's end (XINFO STREAM), whose credits on the
// batch's fields are taken off (f.off). The fields a clean one is read under
// are those the entries wrote (t) and those the scan found under a name that
// cleans to it.
func (f *usedByFold) reread(ctx context.Context, c redis.UniversalClient, keys Keys, key string, p model.Period, b streamTip, t touched, hook func(string)) error {
	for raw := range f.rest {
		if clean, ok := model.CleanUsedByField(raw); ok {
			if _, is := t[clean]; is {
				t.add(clean, raw)
			}
		}
	}
	f.off = map[string]int64{}
	if f.atB == nil {
		f.atB = map[string]bool{}
	}
	var batch []string          // raw fields
	cleans := map[string]bool{} // the clean fields of batch
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if hook != nil {
			hook("again")
		}
		var vals *redis.SliceCmd
		var since *redis.XMessageSliceCmd
		var info *redis.XInfoStreamCmd
		_, _ = c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			vals = pipe.HMGet(ctx, key, batch...)
			since = pipe.XRangeN(ctx, keys.Stream(), "("+b.last, "+", usedByMaxGap+1)
			info = pipe.XInfoStream(ctx, keys.Stream())
			return nil
		})
		if err := vals.Err(); isWrongType(err) {
			return errWrongTypeMeanwhile
		} else if err != nil {
			return fmt.Errorf("read used_by again: %w", err)
		}
		tip, err := tipOf(info)
		if err != nil {
			return fmt.Errorf("read used_by again: %w", err)
		}
		msgs, err := since.Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read used_by again: %w", err)
		}
		if len(msgs) > usedByMaxGap {
			return fmt.Errorf("read used_by again: more than %d entries written since its scan", usedByMaxGap)
		}
		if tip.added-b.added != int64(len(msgs)) {
			return errUsedByUnsure // entries after b removed before they were read
		}
		for _, raw := range batch {
			if clean, ok := model.CleanUsedByField(raw); ok && f.has(raw) {
				f.atB[clean] = true
			}
		}
		for i, v := range vals.Val() {
			s, present := v.(string)
			f.set(batch[i], s, present)
		}
		for _, m := range msgs {
			e, err := model.DecodeEvent(m.ID, m.Values)
			if err != nil || e.Kind != model.KindUsage || !p.Contains(e.TS) {
				continue // adds nothing to this period's used_by
			}
			if clean := model.UsedByField(e.Workspace, e.Project, e.Endpoint); cleans[clean] {
				f.off[clean] = model.AddCredits(f.off[clean], e.Credits)
			}
		}
		batch, cleans = batch[:0], map[string]bool{}
		return nil
	}
	for clean, raws := range t {
		if len(batch) > 0 && int64(len(batch)+len(raws)) > usedByPage {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, raws...)
		cleans[clean] = true
	}
	return flush()
}
