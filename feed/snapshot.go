package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// SnapshotResult is one consistent read of a billing period: the snapshot, the
// period rule it was cut with, and the settings fields that could not be used.
type SnapshotResult struct {
	// Snap is the snapshot of the period holding the time asked for.
	Snap *model.Snapshot
	// Rule is the billing-period rule stored in Redis (calendar months in UTC by default).
	Rule model.PeriodRule
	// PeriodConfig is the config as stored ("" when none: calendar months in UTC).
	PeriodConfig string
	// PeriodUnreadable says why PeriodConfig cannot be read
	// (model.ParsePeriodConfig's reason, sanitised): Rule is then
	// model.PeriodFallback. "" when it can (or is absent).
	PeriodUnreadable string
	// BadSettings maps a settings hash field to why it was skipped.
	BadSettings map[string]error
	// BadCounters maps a counter hash field ("used:<field>", sanitised) that was
	// skipped to why: a name that is no workspace id, a value that is no
	// integer. At most maxBadFields are named; BadCounterCount counts them all.
	BadCounters     map[string]error
	BadCounterCount int
	// BadKeys maps a hash key the read needs that holds another type (a
	// string, a list…; sanitised) to why, in words that name the key. None of
	// its fields can be read, so every workspace the read found is judged
	// unknown (model.Snapshot.Unreadable) and the key is named in BadCounters
	// (BadSettings for the settings key) too; the other hashes are read as
	// usual, so what can be read still converges. Nil when every key is a
	// hash or absent.
	BadKeys map[string]string
	// RunID is the server's run id (INFO server), read in the same MULTI: it
	// changes when the server restarts. "" when the server does not say.
	RunID string
	// rawSettings is the settings hash as stored, for the audit's checksums;
	// firstID is the stream's oldest entry ("" when empty, or not told);
	// removed is every entry ever trimmed or deleted (entries-added minus
	// length, Redis ≥ 7; -1 when not told), see Subscriber.removedRead.
	rawSettings map[string]string
	firstID     string
	removed     int64
	// stream is what XINFO STREAM said with the counters (nil: no stream),
	// for the removals a re-read is the first to see (Subscriber.begin).
	stream *redis.XInfoStream
	// lastEntry is the stream's newest entry with its fields, as XINFO
	// STREAM gave it with the counters (ID "": none), where a start or a
	// re-read begins its search for the producer's newest entry
	// (readNewestProducer).
	lastEntry redis.XMessage
	// digest is the period's digest hash as stored, read in the same MULTI
	// (hasDigest: it was asked for; see Keys.Digest).
	digest    map[string]string
	hasDigest bool
	// slices is what an audit by the digest read of the counters and the
	// settings (nil for any other read).
	slices *auditSlices
	// streamErr: the stream key could not be read (another type; see
	// StreamError) while the hashes could: the subscriber's reads go on
	// with the counters (StreamID is then "0-0"); the workspace read fails.
	streamErr *StreamError
	// periodAsked: a quick read (readCounters, readDigest) asked the
	// settings hash's period field too (PeriodConfig holds it), so every
	// audit compares the billing period rule, not only the full reads.
	periodAsked bool
}

// StreamUnreadable says why the usage stream could not be read (another
// type, the ACL), naming the key; "" when it could or does not exist. The
// stream decides no level: what it gives (each workspace's last event, the
// lag, --stale) is unknown, the counters are judged all the same.
func (r *SnapshotResult) StreamUnreadable() string {
	if r.streamErr == nil {
		return ""
	}
	return r.streamErr.Why
}

// settingsKeyUnreadable begins the reason of settings that cannot be read
// because their key cannot be (wrongKeys' words for a key), not their field.
const settingsKeyUnreadable = "key "

// maxBadFields bounds how many skipped fields a snapshot names, so that a hash
// full of junk cannot grow a report without limit.
const maxBadFields = 32

// ReadSnapshot reads, in one MULTI/EXEC, the counters of the period holding now
// (used, used_by, refused, recharged), every setting and the stream's last
// generated id. A Ledger seeded from it and fed the entries after Snap.StreamID
// counts every event exactly once. It never scans the stream: O(workspaces).
//
// The period hashes to read depend on the period config, which lives in the
// settings hash read by the same MULTI; hint is the rule to try first, and when
// the stored config says otherwise the read is repeated with the right period.
func ReadSnapshot(ctx context.Context, c redis.UniversalClient, keys Keys, now time.Time, hint model.PeriodRule) (*SnapshotResult, error) {
	return readSnapshot(ctx, c, keys, now, hint, true, true)
}

// ReadWorkspaceSnapshot is ReadSnapshot without the used_by hash (Snap.UsedBy
// is empty): everything a workspace's level and totals need, for readers that
// report per workspace only (mavtop check). used_by holds one field per
// workspace, project and endpoint, the largest hash by far. Nor does it read
// what only the audit uses (RunID is "", the digest is not read): one round
// trip, the MULTI.
func ReadWorkspaceSnapshot(ctx context.Context, c redis.UniversalClient, keys Keys, now time.Time, hint model.PeriodRule) (*SnapshotResult, error) {
	return readSnapshot(ctx, c, keys, now, hint, false, false)
}

// readSnapshot is ReadSnapshot; withUsedBy false leaves used_by out, withRunID
// false the run id (see readSnapshotOnce).
func readSnapshot(ctx context.Context, c redis.UniversalClient, keys Keys, now time.Time, hint model.PeriodRule, withUsedBy, withRunID bool) (*SnapshotResult, error) {
	return readInPeriod(now, hint, func(p model.Period) (*SnapshotResult, string, error) {
		return readSnapshotOnce(ctx, c, keys, p, false, withUsedBy, withRunID)
	})
}

// readInPeriod reads with once in the billing period the hint's rule puts now
// in (calendar months in UTC without one), and again in the period the
// stored rule read with it puts now in, until the two agree (three reads at
// most: else the rule kept changing). once returns the read and the stored
// period config (the settings hash's PeriodSettingsField). A config that
// cannot be parsed is said in BadSettings and PeriodUnreadable and counts by
// model.PeriodFallback (calendar months in UTC), as producers write then.
func readInPeriod(now time.Time, hint model.PeriodRule, once func(model.Period) (*SnapshotResult, string, error)) (*SnapshotResult, error) {
	if hint.Location == nil {
		hint = model.MonthlyUTC
	}
	rule := hint
	for range 3 {
		res, stored, err := once(rule.At(now))
		if err != nil {
			return nil, err
		}
		// A broken period config must not blind the dashboard: said (BadSettings,
		// PeriodUnreadable), counted by model.PeriodFallback as producers write.
		got, perr := model.ParsePeriodConfig(stored)
		if perr != nil {
			res.BadSettings[PeriodSettingsField] = perr
		}
		if samePeriod(got.At(now), rule.At(now)) {
			res.Rule, res.PeriodConfig, res.PeriodUnreadable = got, stored, ""
			if perr != nil {
				res.PeriodUnreadable = perr.Error()
			}
			return res, nil
		}
		rule = got
	}
	return nil, errors.New("read snapshot: the billing period config kept changing")
}

// readCounters is the audit's quick probe: like ReadSnapshot for period p but
// only the hashes a gauge shows (used, recharged, refused), the stream's last
// id and the run id, leaving out the biggest hashes (used_by, settings).
func readCounters(ctx context.Context, c redis.UniversalClient, keys Keys, p model.Period) (*SnapshotResult, error) {
	res, _, err := readSnapshotOnce(ctx, c, keys, p, true, false, true)
	return res, err
}

// readSnapshotOnce reads period p; quick leaves out used_by and the settings,
// withUsedBy false (the workspace read, the subscriber's start) used_by;
// withRunID false (the workspace read) the digest and the run id. withRunID
// asks the run id before the MULTI and again after it (sameServer): a read
// the server restarted during fails, to be made again; every read the
// subscriber makes asks it (a start that did not left the run id unknown,
// and every later comparison was skipped: a restart during the start's
// used_by read, or any time later until a full audit, went unnamed).
func readSnapshotOnce(ctx context.Context, c redis.UniversalClient, keys Keys, p model.Period, quick, withUsedBy, withRunID bool) (*SnapshotResult, string, error) {
	var used, usedBy, refused, recharged, settings, dg hashRead
	var info *redis.XInfoStreamCmd
	var usedByType *redis.StatusCmd
	var periodCmd *redis.StringCmd
	// the workspace read (check) has no audit, every read of the subscriber
	// has: a start that leaves used_by for later reads the digest too (at
	// O(shards)), or its first audit could not go by the digest and read
	// every hash in one MULTI, used_by with them (an HGETALL of 1.2M fields
	// at 100k workspaces, seconds during which a shared Redis answered no
	// one), a few seconds after every start
	audit := quick || withRunID
	// the workspace read on a RESP2 connection (mavtop check's) takes each
	// hash as the flat list of fields and values Redis sends: at 100k
	// workspaces go-redis spent as long building maps of them as Redis did
	// sending them, and check keeps no map of the strings
	flat := !audit && !quick && isRESP2(c)
	runID := ""
	if withRunID {
		id, err := serverRunID(ctx, c)
		if err != nil {
			return nil, "", fmt.Errorf("read snapshot: %w", err)
		}
		runID = id
	}
	// A user the ACL forbids one of the MULTI's commands (NOPERM: an HGETALL
	// of one key, XINFO) has the whole EXEC aborted: the read is made again
	// without what it may not run, which is then named as a figure that
	// cannot be read (a hash as a key of another type is, the stream as a
	// StreamError), never the whole read lost for it.
	denied := map[string]error{} // label → the NOPERM answer
	var err error
	for range 4 {
		used, usedBy, refused, recharged, settings, dg = hashRead{}, hashRead{}, hashRead{}, hashRead{}, hashRead{}, hashRead{}
		info, usedByType, periodCmd = nil, nil, nil
		_, err = c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			hash := func(label, key string) hashRead {
				if denied[label] != nil {
					return hashRead{}
				}
				return readHash(ctx, pipe, key, flat)
			}
			used = hash("used", keys.Used(p.Key))
			refused = hash("refused", keys.Refused(p.Key))
			recharged = hash("recharged", keys.Recharged(p.Key))
			if !quick && withUsedBy {
				usedBy = hash("used_by", keys.UsedBy(p.Key))
			} else if !quick && denied["type"] == nil {
				// check reads no used_by (only limited projects' fields, after):
				// its TYPE is asked, so a key of another type is named as the
				// dashboard names it, not passed over as OK
				usedByType = pipe.Type(ctx, keys.UsedBy(p.Key))
			}
			if !quick {
				settings = hash("settings", keys.Settings())
			} else if denied["period"] == nil {
				periodCmd = pipe.HGet(ctx, keys.Settings(), PeriodSettingsField)
			}
			if !quick && audit {
				dg = hash("digest", keys.Digest(p.Key))
			}
			if denied["stream"] == nil {
				info = pipe.XInfoStream(ctx, keys.Stream())
			}
			return nil
		})
		if !isExecAbort(err) {
			break
		}
		cmds := map[string]redis.Cmder{"used": used.cmd(), "refused": refused.cmd(), "recharged": recharged.cmd(),
			"used_by": usedBy.cmd(), "settings": settings.cmd(), "digest": dg.cmd()}
		if info != nil {
			cmds["stream"] = info
		}
		if usedByType != nil {
			cmds["type"] = usedByType
		}
		if periodCmd != nil {
			cmds["period"] = periodCmd
		}
		more := false
		for label, cmd := range cmds {
			if cmd != nil && isNoPerm(cmd.Err()) {
				denied[label], more = cmd.Err(), true
			}
		}
		if !more {
			break
		}
	}
	if isExecAbort(err) {
		return nil, "", fmt.Errorf("read snapshot: %w", err)
	}
	if denied["stream"] != nil {
		info = redis.NewXInfoStreamCmd(ctx, keys.Stream())
		info.SetErr(denied["stream"])
	}
	// XINFO on a stream that does not exist yet is an error inside the MULTI;
	// a hash key holding another type (WRONGTYPE) is the data's fault, not
	// the connection's: it is named and its workspaces judged unknown below,
	// the rest read as usual (retrying the read, as a connection error is,
	// never converged and said "connected" between the attempts). Everything
	// else must have worked.
	var wrong []keyRefusal // the keys of another type, or the user may not read
	for _, h := range []struct {
		label, key string
		r          *hashRead
	}{{"used", keys.Used(p.Key), &used}, {"used_by", keys.UsedBy(p.Key), &usedBy}, {"refused", keys.Refused(p.Key), &refused},
		{"recharged", keys.Recharged(p.Key), &recharged}, {"settings", keys.Settings(), &settings}, {"digest", keys.Digest(p.Key), &dg}} {
		if why := denied[h.label]; why != nil {
			if h.r != &dg {
				wrong = append(wrong, keyRefusal{h.key, why})
			}
			continue
		}
		if err := h.r.err(); err != nil {
			if !isKeyRefusal(err) {
				return nil, "", fmt.Errorf("read snapshot: %w", err)
			}
			if h.r != &dg { // a digest of another type is no digest: the counters are read
				wrong = append(wrong, keyRefusal{h.key, err})
			}
			*h.r = hashRead{}
		}
	}
	if usedByType != nil && usedByType.Err() == nil {
		if t := usedByType.Val(); t != "hash" && t != "none" {
			wrong = append(wrong, keyRefusal{keys.UsedBy(p.Key), nil})
		}
	}
	// (the period field a quick read asks is redis.Nil when absent)
	if err != nil && !isKeyRefusal(err) && !errors.Is(err, redis.Nil) && (info == nil || info.Err() == nil || !isNoSuchKey(info.Err()) && !isStreamRefusal(info.Err())) {
		return nil, "", fmt.Errorf("read snapshot: %w", err)
	}
	// a stream key mavtop cannot read is named (check's UNKNOWN says which
	// key and why); the subscriber's reads go on without it, so the counters
	// still converge while nothing can be read of the stream
	var streamErr *StreamError
	if info.Err() != nil && !isNoSuchKey(info.Err()) {
		streamErr = streamRefusal(ctx, c, keys.Stream(), info.Err())
		if streamErr == nil {
			return nil, "", fmt.Errorf("read snapshot: %w", info.Err())
		}
		// the workspace read (check, budget show) goes on too: the stream
		// decides no level (only each row's last event and --stale), so the
		// counters are judged and the stream named beside them
	}
	if withRunID {
		if err := sameServer(ctx, c, runID); err != nil {
			return nil, "", fmt.Errorf("read snapshot: %w", err)
		}
	}
	streamID, firstID, removed := "0-0", "", int64(-1)
	if info.Err() == nil && info.Val().LastGeneratedID != "" {
		streamID, firstID = info.Val().LastGeneratedID, info.Val().FirstEntry.ID
		if in := info.Val(); in.EntriesAdded > 0 {
			removed = in.EntriesAdded - in.Length
		}
	}
	var stream *redis.XInfoStream
	var lastEntry redis.XMessage
	if info.Err() == nil {
		lastEntry = info.Val().LastEntry
		in := *info.Val()
		in.FirstEntry, in.LastEntry = redis.XMessage{}, redis.XMessage{} // their ids are kept apart: not their fields
		stream = &in
	}
	res := &SnapshotResult{
		Snap:        &model.Snapshot{Period: p, StreamID: streamID},
		BadSettings: map[string]error{},
		BadCounters: map[string]error{},
		rawSettings: settings.asMap(),
		firstID:     firstID,
		removed:     removed,
		stream:      stream,
		lastEntry:   lastEntry,
		digest:      dg.asMap(),
		hasDigest:   dg.read(),
		streamErr:   streamErr,
	}
	res.PeriodConfig, res.periodAsked = periodAnswer(periodCmd)
	res.RunID = runID
	s := res.Snap
	// the settings are parsed on another core while the counters are: at 100k
	// workspaces each took about as long as go-redis took to read them
	var stored string
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		s.Settings, s.Budgets, stored = parseSettings(settings, res.BadSettings)
	}()
	s.Used, _ = res.parseHash("used", used, model.CleanWorkspaceField)
	var badUsedBy map[string]string
	s.UsedBy, badUsedBy = res.parseHash("used_by", usedBy, model.CleanUsedByField)
	s.Refused, _ = res.parseHash("refused", refused, model.CleanRefusedField)
	s.Recharged, _ = res.parseHash("recharged", recharged, model.CleanWorkspaceField)
	<-parsed
	for key, why := range unreadableProjects(badUsedBy) {
		s.MarkProjectUnreadable(key, why)
	}
	if len(wrong) > 0 {
		res.wrongKeys(ctx, c, keys, wrong)
	}
	return res, stored, nil
}

// wrongKeys records the hash keys that hold another type (see BadKeys): each
// is named, with the type it holds (one TYPE each, only when there are such
// keys), and every workspace the read found is judged unknown by it — but
// for used_by alone, only the workspaces with a limited project, and for
// refused, only their 402 counts (Snapshot.RefusedUnreadable).
func (r *SnapshotResult) wrongKeys(ctx context.Context, c redis.UniversalClient, keys Keys, wrong []keyRefusal) {
	if r.BadKeys == nil { // ReadLimitedProjects adds to the snapshot's
		r.BadKeys = map[string]string{}
	}
	var first string
	for _, w := range wrong {
		key := w.key
		name := model.Truncate(model.Sanitize(key), 120)
		var why string
		if isNoPerm(w.err) {
			// no ": " inside the server's words: a header keeps the last part
			said := strings.ReplaceAll(model.Truncate(model.Sanitize(strings.TrimSpace(w.err.Error())), 120), ": ", " - ")
			why = fmt.Sprintf("key %q cannot be read (%s): none of its fields can be read", name, said)
		} else {
			typ, err := c.Type(ctx, key).Result()
			if err != nil || !model.IsID(typ) {
				typ = "another type"
			} else {
				typ = "a " + typ
			}
			why = fmt.Sprintf("key %q holds %s, not a hash (WRONGTYPE): none of its fields can be read", name, typ)
		}
		r.BadKeys[name] = why
		if key == keys.Settings() {
			r.BadSettings[name] = errors.New(why)
		} else {
			r.BadCounters[name] = errors.New(why)
			r.BadCounterCount++
		}
		if first == "" || why < first {
			first = why
		}
	}
	s := r.Snap
	usage, refusedWhy, usedByWhy, settingsWhy, rechargedWhy := false, "", "", "", "" // which figures the wrong keys leave unknown
	for _, w := range wrong {
		why := r.BadKeys[model.Truncate(model.Sanitize(w.key), 120)]
		switch w.key {
		case keys.Refused(s.Period.Key):
			refusedWhy = why
		case keys.Recharged(s.Period.Key):
			rechargedWhy = why
		case keys.UsedBy(s.Period.Key):
			usedByWhy = why
		case keys.Settings():
			settingsWhy = why
		default:
			usage = true
		}
	}
	each := func(mark func(ws string)) {
		for ws := range s.Used {
			mark(ws)
		}
		for ws := range s.Recharged {
			mark(ws)
		}
		for ws := range s.Settings {
			mark(ws)
		}
		for f := range s.Refused {
			if ws, _, _, ok := model.SplitRefusedField(f); ok {
				mark(ws)
			}
		}
		for f := range s.UsedBy {
			if ws, _, _, ok := model.SplitUsedByField(f); ok {
				mark(ws)
			}
		}
	}
	if refusedWhy != "" {
		// the refused key: only the 402 counts are unknown (whether the API
		// refuses a workspace: the history decides, model.RefusalUndecided);
		// its usage is known by its own counters, and a known 95 % is
		// critical whatever its 402 count
		each(func(ws string) {
			if model.IsID(ws) {
				s.MarkRefusedUnreadable(ws, refusedWhy)
			}
		})
	}
	if rechargedWhy != "" {
		// the recharged key: only the recharges are unknown (what they
		// decide: the allocation's cap); the credits used are known, and a
		// usage limit that binds whatever they hold still judges
		each(func(ws string) {
			if model.IsID(ws) {
				s.MarkRechargedUnreadable(ws, rechargedWhy)
			}
		})
	}
	if settingsWhy != "" {
		// the settings: every workspace the read found has settings that
		// cannot be read (model.Settings.Unreadable, naming the key): its
		// cap, and so its level, unknown, its counters known
		var names []string
		each(func(ws string) {
			if model.IsID(ws) {
				names = append(names, ws)
			}
		})
		if s.Settings == nil {
			s.Settings = map[string]model.Settings{}
		}
		for _, ws := range names {
			s.Settings[ws] = model.Settings{Unreadable: settingsWhy} // settingsKeyUnreadable
		}
	}
	if usage {
		// used: every workspace the read found is unknown (the least reason
		// of all the wrong keys)
		each(func(ws string) {
			if model.IsID(ws) {
				s.MarkUnreadable(ws, first)
			}
		})
		return
	}
	if usedByWhy != "" {
		// used_by (credits per project and endpoint) judges only a project
		// with a usage limit, as an unreadable field of it does
		// (limitedUnreadable): those projects are unknown, every workspace
		// judged by its own counters — junk in used_by must not turn a
		// workspace known to be critical into unknown
		for key, b := range s.Budgets {
			if ws, _, ok := model.SplitProjectKey(key); ok && b.Judged() && model.IsID(ws) {
				s.MarkProjectUnreadable(key, usedByWhy)
			}
		}
	}
}

// periodAnswer is the period field a quick read asked (HGET): the config as
// stored ("" when absent) and whether it was read (a settings key of another
// type is left to the full read, which names it).
func periodAnswer(cmd *redis.StringCmd) (string, bool) {
	if cmd == nil {
		return "", false
	}
	if err := cmd.Err(); err != nil {
		return "", errors.Is(err, redis.Nil)
	}
	return cmd.Val(), true
}

// isNoPerm reports whether err is Redis's NOPERM: the ACL forbids the user
// the command or the key.
func isNoPerm(err error) bool {
	var re redis.Error
	return err != nil && errors.As(err, &re) && strings.HasPrefix(strings.TrimSpace(re.Error()), "NOPERM")
}

// isExecAbort reports whether err is Redis's EXECABORT: a command of the
// MULTI was refused when queued (NOPERM), and nothing of it ran.
func isExecAbort(err error) bool {
	return err != nil && strings.HasPrefix(strings.TrimSpace(err.Error()), "EXECABORT")
}

// isKeyRefusal reports whether err is the server's answer that one key
// cannot be read as mavtop asked (WRONGTYPE: another type; NOPERM: the ACL),
// the data's or the configuration's fault, not the connection's: that key's
// figures are unknown, the rest is read.
func isKeyRefusal(err error) bool { return isWrongType(err) || isNoPerm(err) }

// keyRefusal is a key a read could not read, and the server's answer (nil:
// it holds another type, found by TYPE).
type keyRefusal struct {
	key string
	err error
}

// isWrongType reports whether err is Redis's WRONGTYPE: the key holds another
// type than the command reads.
func isWrongType(err error) bool {
	return err != nil && strings.Contains(err.Error(), "WRONGTYPE")
}

// hashRead is one hash read in a MULTI: as a map (HGETALL into go-redis's
// map), or flat (the fields and values in Redis's order, on a RESP2
// connection, where HGETALL's reply is an array; see rawHash), or not read
// (both nil).
type hashRead struct {
	m    *redis.MapStringStringCmd
	flat *redis.RawCmd
}

// readHash queues HGETALL key on pipe, flat or as a map.
func readHash(ctx context.Context, pipe redis.Pipeliner, key string, flat bool) hashRead {
	if !flat {
		return hashRead{m: pipe.HGetAll(ctx, key)}
	}
	cmd := redis.NewRawCmd(ctx, "hgetall", key)
	_ = pipe.Process(ctx, cmd) // queued: its error comes with Exec
	return hashRead{flat: cmd}
}

func (h hashRead) read() bool { return h.m != nil || h.flat != nil }

// cmd is the command read, nil when none.
func (h hashRead) cmd() redis.Cmder {
	switch {
	case h.m != nil:
		return h.m
	case h.flat != nil:
		return h.flat
	}
	return nil
}

func (h hashRead) err() error {
	switch {
	case h.m != nil:
		return h.m.Err()
	case h.flat != nil:
		if err := h.flat.Err(); err != nil {
			return err
		}
		return rawHash(h.flat.Val()).err()
	}
	return nil
}

// len is how many fields the hash holds (0 when not read).
func (h hashRead) len() int {
	if h.m != nil {
		return len(h.m.Val())
	}
	if h.flat != nil {
		return rawHash(h.flat.Val()).pairs()
	}
	return 0
}

// all yields every field with its value, once each.
func (h hashRead) all(yield func(field, value string) bool) {
	if h.m != nil {
		for k, v := range h.m.Val() {
			if !yield(k, v) {
				return
			}
		}
		return
	}
	if h.flat != nil {
		rawHash(h.flat.Val()).all(yield)
	}
}

// asMap is the hash as a map: nil when not read or read flat (the flat read
// is the workspace read's, which keeps no raw settings or digest).
func (h hashRead) asMap() map[string]string {
	if h.m == nil {
		return nil
	}
	return h.m.Val()
}

// isRESP2 reports whether c speaks RESP2 (go-redis Options.Protocol 2), where
// a hash's HGETALL reply is a flat array (RESP3's is a map).
func isRESP2(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().Protocol == 2
	case *redis.ClusterClient:
		return c.Options().Protocol == 2
	}
	return false
}

// serverRunID asks the server its run id (INFO server), before a read it goes
// with (INFO names no key, so it cannot join a MULTI on a cluster). "" with no
// error when the server does not say, the same every time: a cluster client
// (it would ask any node; there the audit's comparison of the counters finds
// what a restart lost, unnamed), the embedded server, or one that refuses
// INFO (ACLs, a renamed command). An error when it cannot be asked (the
// connection): the run id is then unknown, and the read that needs it is made
// again, never trusted as if the server had not changed.
func serverRunID(ctx context.Context, c redis.UniversalClient) (string, error) {
	if _, cluster := c.(*redis.ClusterClient); cluster {
		return "", nil
	}
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		var re redis.Error
		if errors.As(err, &re) {
			return "", nil // it answered: it will not say
		}
		return "", fmt.Errorf("ask the server's run id: %w", err)
	}
	return runIDOf(info), nil
}

// errRestartedDuringRead: the server's run id changed between the steps of
// one read, so its parts may come from two servers.
var errRestartedDuringRead = errors.New("the server restarted during the read (its run id changed)")

// sameServer asks the run id again at the end of a read of several steps
// that began when the server said want (serverRunID), and fails the read when
// it changed or cannot be asked. go-redis redials and retries a command whose
// connection broke, inside the command: a read whose steps all succeeded may
// still have been answered partly by the server before a restart and partly
// by the one after it, and only the run id tells.
func sameServer(ctx context.Context, c redis.UniversalClient, want string) error {
	id, err := serverRunID(ctx, c)
	if err != nil {
		return err
	}
	if id != want {
		return errRestartedDuringRead
	}
	return nil
}

// samePeriod compares periods by their bounds (time zones loaded twice are
// different pointers).
// leftPeriod reports whether now is outside p: past its end (the rollover) or
// before its start (the clock stepped back across the boundary, as NTP does
// to a clock that ran ahead, or a restored VM: a start and check at that
// clock read the earlier period, so a running mavtop re-reads it too;
// hostile23 #2). Either way the counters are re-read for the period now is in.
func leftPeriod(now time.Time, p model.Period) bool {
	return !now.Before(p.End) || now.Before(p.Start)
}

func samePeriod(a, b model.Period) bool {
	return a.Key == b.Key && a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

func isNoSuchKey(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "no such key")
}

// parseCounts reads one counter hash. A field is kept under the name the
// stream's decoder would give it (clean), so counters and events add up under
// one name; a field that names no workspace or holds no integer ≥ 0 is
// skipped and reported, never fatal: one bad field must not blind the
// dashboard. Every counter only grows from 0 (credits, 402s), so a negative
// one is as unreadable as text. A used, recharged or refused field that
// cannot be read makes its workspace unreadable (Snapshot.Unreadable: its
// level unknown, never a number read as 0 or −3; a recharged field only its
// recharges, Snapshot.RechargedUnreadable; a refused field only its 402
// count, Snapshot.RefusedUnreadable); a used_by field only when
// its project has a usage limit (its level is judged by it), which the
// caller knows once the settings are read: such fields are returned in bad,
// used_by clean field → why (unreadableProjects).
func (r *SnapshotResult) parseCounts(hash string, m map[string]string, clean func(string) (string, bool)) (out map[string]int64, bad map[string]string) {
	return r.parseHash(hash, hashRead{m: redis.NewMapStringStringResult(m, nil)}, clean)
}

// parseHash is parseCounts of a hash as read (flat or as a map).
func (r *SnapshotResult) parseHash(hash string, h hashRead, clean func(string) (string, bool)) (out map[string]int64, bad map[string]string) {
	out = make(map[string]int64, h.len())
	for k, v := range h.all {
		name, ok := clean(k)
		var why error
		n, err := model.ParseCounter(v)
		switch {
		case !ok:
			why = errors.New("names no workspace id")
		case err != nil:
			why = fmt.Errorf("%q is not an integer", model.Truncate(model.Sanitize(v), 40))
		case n < 0:
			why = fmt.Errorf("%d is negative", n) // a counter only grows from 0
		}
		if why != nil {
			r.BadCounterCount++
			field := model.Truncate(model.Sanitize(hash+":"+k), 80)
			if len(r.BadCounters) < maxBadFields {
				r.BadCounters[field] = why
			}
			if ok {
				msg := unreadableWhy(field, why)
				switch hash {
				case "used":
					r.Snap.MarkUnreadable(name, msg)
				case "recharged": // the recharges alone: the credits used are known
					r.Snap.MarkRechargedUnreadable(name, msg)
				case "refused": // the 402 count alone: the usage is known
					ws, _, _, _ := model.SplitRefusedField(name)
					r.Snap.MarkRefusedUnreadable(ws, msg)
				case "used_by":
					if bad == nil {
						bad = map[string]string{}
					}
					bad[name] = msg
				}
			}
			continue
		}
		out[name] = model.AddCredits(out[name], n) // fields folded under one clean name
	}
	return out, bad
}

// unreadableWhy is the reason a workspace's usage is unknown, naming the
// counter field (sanitised: the field and value are anyone's text).
func unreadableWhy(field string, why error) string {
	return fmt.Sprintf("counter %q cannot be read (%v)", field, why)
}

// unreadableProjects is bad (used_by clean field → why, from parseCounts)
// by project key "ws/project" (the least reason of several): every project
// a used_by field of which cannot be read, with a usage limit or not
// (model.Snapshot.MarkProjectUnreadable). Each is listed with its credits
// unknown; only those with a judged budget (limitedUnreadable) have their
// level unknown, their workspaces' own levels judged by their own counters.
func unreadableProjects(bad map[string]string) map[string]string {
	var out map[string]string
	for f, why := range bad {
		ws, project, _, ok := model.SplitUsedByField(f)
		if !ok {
			continue
		}
		key := model.ProjectKey(ws, project)
		if out == nil {
			out = map[string]string{}
		}
		if prev, ok := out[key]; !ok || why < prev {
			out[key] = why
		}
	}
	return out
}

// limitedUnreadable keeps of unreadable (project key → why, from
// unreadableProjects) the projects with a usage limit in budgets, or a
// budget that cannot be read (model.ProjectBudget.Judged): those whose
// level, not only their credits, is unknown (ProjectBudget.UsageUnreadable),
// which the audit's tally weighs (wsTally.unreadableUsedBy).
func limitedUnreadable(unreadable map[string]string, budgets map[string]model.ProjectBudget) map[string]string {
	var out map[string]string
	for key, why := range unreadable {
		if b := budgets[key]; !b.Judged() {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[key] = why
	}
	return out
}

// parseSettings splits the settings hash into workspace settings, project
// budgets and the stored period config; unusable fields go to bad, and those
// of a workspace (or project) id are kept too, as settings that cannot be
// read (model.Settings.Unreadable): judged unknown, never unset.
func parseSettings(h hashRead, bad map[string]error) (map[string]model.Settings, map[string]model.ProjectBudget, string) {
	ws := make(map[string]model.Settings, h.len())
	budgets := make(map[string]model.ProjectBudget)
	var period string
	for field, raw := range h.all {
		if field == PeriodSettingsField {
			period = raw
			continue
		}
		if w, p, ok := model.SplitProjectKey(field); ok {
			b, err := decodeBudget(raw)
			if err == nil && (!model.IsID(w) || !model.IsID(p)) {
				err = errors.New("not a workspace/project id")
			}
			if err != nil {
				bad[model.Truncate(model.Sanitize(field), 80)] = err
				if model.IsID(w) && model.IsID(p) {
					// present but unreadable: the project is unknown, not unlimited
					budgets[field] = model.ProjectBudget{Unreadable: model.UnreadableSettings(field, err)}
				}
				continue
			}
			budgets[field] = b
			continue
		}
		s, err := decodeSettings(raw)
		if err == nil && !model.IsID(field) {
			err = errors.New("not a workspace id")
		}
		if err != nil {
			bad[model.Truncate(model.Sanitize(field), 80)] = err
			if model.IsID(field) {
				// present but unreadable: the workspace is unknown, not unset
				ws[field] = model.Settings{Unreadable: model.UnreadableSettings(field, err)}
			}
			continue
		}
		ws[field] = s
	}
	return ws, budgets, period
}

// decodeSettings reads and validates one workspace's settings: the form
// json.Marshal writes by scanSettings, any other by encoding/json (see
// settingsjson.go); the error says what is wrong.
func decodeSettings(raw string) (model.Settings, error) {
	s, ok := scanSettings(raw)
	if !ok {
		return model.DecodeSettings(raw) // the ledger's own decoding: the same error
	}
	if err := s.Validate(); err != nil {
		return model.Settings{}, err
	}
	return s, nil
}

// decodeBudget is decodeSettings for a project's budget.
func decodeBudget(raw string) (model.ProjectBudget, error) {
	b, ok := scanBudget(raw)
	if !ok {
		return model.DecodeBudget(raw)
	}
	if err := b.Validate(); err != nil {
		return model.ProjectBudget{}, err
	}
	return b, nil
}
