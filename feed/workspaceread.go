package feed

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// scanStep is the COUNT of each HSCAN step of ReadOneWorkspace: Redis walks
// about this many buckets per call, so a hash of a million fields is read
// in ~100 short steps, never one long reply.
const scanStep = 10_000

// ReadOneWorkspace is ReadSnapshot for workspace ws alone (mavtop budget show
// WS): its used and recharged fields, its fields of used_by and refused and
// its settings and project budgets ("<ws>" and "<ws>/<project>"), the period
// config and the stream's last id, and nothing of any other workspace. The
// hashes keyed "<ws>/…" are searched with HSCAN MATCH in steps (O(hash) in
// Redis, but in short calls, and only ws's fields cross the wire), then every
// value is read in one MULTI/EXEC, so the numbers are one instant's. A field
// created between the search and the MULTI (a first call to a new endpoint)
// is left out. Unreadable fields and keys of another type are judged as
// ReadSnapshot judges them. The snapshot holds nothing when ws is nowhere.
func ReadOneWorkspace(ctx context.Context, c redis.UniversalClient, keys Keys, ws string, now time.Time, hint model.PeriodRule) (*SnapshotResult, error) {
	return readInPeriod(now, hint, func(p model.Period) (*SnapshotResult, string, error) {
		return readOneWorkspaceOnce(ctx, c, keys, ws, p)
	})
}

// globEscape escapes the characters HSCAN MATCH reads as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// scanFields returns the fields of hash key matching match, each once.
func scanFields(ctx context.Context, c redis.UniversalClient, key, match string) ([]string, error) {
	var fields []string
	var cursor uint64
	for {
		kv, next, err := c.HScan(ctx, key, cursor, match, scanStep).Result()
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(kv); i += 2 {
			fields = append(fields, kv[i])
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	slices.Sort(fields) // a step may return a field again
	return slices.Compact(fields), nil
}

// hmgetMap is an HMGET's reply as a hash read of the fields that exist.
func hmgetMap(fields []string, cmd *redis.SliceCmd) hashRead {
	m := make(map[string]string, len(fields))
	if cmd != nil {
		for i, v := range cmd.Val() {
			if s, ok := v.(string); ok && i < len(fields) {
				m[fields[i]] = s
			}
		}
	}
	return hashRead{m: redis.NewMapStringStringResult(m, nil)}
}

func readOneWorkspaceOnce(ctx context.Context, c redis.UniversalClient, keys Keys, ws string, p model.Period) (*SnapshotResult, string, error) {
	match := globEscape(ws) + "/*"
	var wrong []keyRefusal
	scan := func(key string) ([]string, error) {
		f, err := scanFields(ctx, c, key, match)
		if isKeyRefusal(err) {
			wrong = append(wrong, keyRefusal{key, err})
			return nil, nil
		}
		return f, err
	}
	usedByF, err := scan(keys.UsedBy(p.Key))
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot: %w", err)
	}
	refusedF, err := scan(keys.Refused(p.Key))
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot: %w", err)
	}
	projectsF, err := scan(keys.Settings())
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot: %w", err)
	}
	settingsF := append([]string{ws, PeriodSettingsField}, projectsF...)
	var used, recharged, usedBy, refused, settings *redis.SliceCmd
	var info *redis.XInfoStreamCmd
	// a command the ACL forbids aborts the MULTI (see readSnapshotOnce): it
	// is left out and its figure named, the rest read again
	denied := map[string]error{}
	for range 4 {
		used, recharged, usedBy, refused, settings, info = nil, nil, nil, nil, nil, nil
		_, err = c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			if denied["used"] == nil {
				used = pipe.HMGet(ctx, keys.Used(p.Key), ws)
			}
			if denied["recharged"] == nil {
				recharged = pipe.HMGet(ctx, keys.Recharged(p.Key), ws)
			}
			if len(usedByF) > 0 && denied["used_by"] == nil {
				usedBy = pipe.HMGet(ctx, keys.UsedBy(p.Key), usedByF...)
			}
			if len(refusedF) > 0 && denied["refused"] == nil {
				refused = pipe.HMGet(ctx, keys.Refused(p.Key), refusedF...)
			}
			if denied["settings"] == nil {
				settings = pipe.HMGet(ctx, keys.Settings(), settingsF...)
			}
			if denied["stream"] == nil {
				info = pipe.XInfoStream(ctx, keys.Stream())
			}
			return nil
		})
		if !isExecAbort(err) {
			break
		}
		more := false
		for label, cmd := range map[string]*redis.SliceCmd{"used": used, "recharged": recharged, "used_by": usedBy, "refused": refused, "settings": settings} {
			if cmd != nil && isNoPerm(cmd.Err()) {
				denied[label], more = cmd.Err(), true
			}
		}
		if info != nil && isNoPerm(info.Err()) {
			denied["stream"], more = info.Err(), true
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
	reads := []struct {
		label, key string
		cmd        **redis.SliceCmd
		fields     *[]string
	}{
		{"used", keys.Used(p.Key), &used, nil}, {"recharged", keys.Recharged(p.Key), &recharged, nil},
		{"used_by", keys.UsedBy(p.Key), &usedBy, &usedByF}, {"refused", keys.Refused(p.Key), &refused, &refusedF},
		{"settings", keys.Settings(), &settings, &settingsF},
	}
	for _, r := range reads {
		why := denied[r.label]
		if why == nil && (*r.cmd == nil || (*r.cmd).Err() == nil) {
			continue
		}
		if why == nil {
			why = (*r.cmd).Err()
		}
		if !isKeyRefusal(why) {
			return nil, "", fmt.Errorf("read snapshot: %w", why)
		}
		if !slices.ContainsFunc(wrong, func(w keyRefusal) bool { return w.key == r.key }) {
			wrong = append(wrong, keyRefusal{r.key, why})
		}
		*r.cmd = nil
		if r.fields != nil {
			*r.fields = nil
		}
	}
	if err != nil && !isKeyRefusal(err) && (info == nil || info.Err() == nil || !isNoSuchKey(info.Err()) && !isStreamRefusal(info.Err())) {
		return nil, "", fmt.Errorf("read snapshot: %w", err)
	}
	// the stream decides no level: one that cannot be read is named
	// (SnapshotResult.StreamUnreadable), the counters read all the same
	var streamErr *StreamError
	if info.Err() != nil && !isNoSuchKey(info.Err()) {
		if streamErr = streamRefusal(ctx, c, keys.Stream(), info.Err()); streamErr == nil {
			return nil, "", fmt.Errorf("read snapshot: %w", info.Err())
		}
	}
	streamID := "0-0"
	if info.Err() == nil && info.Val().LastGeneratedID != "" {
		streamID = info.Val().LastGeneratedID
	}
	res := &SnapshotResult{
		Snap:        &model.Snapshot{Period: p, StreamID: streamID},
		BadSettings: map[string]error{},
		BadCounters: map[string]error{},
		removed:     -1,
		streamErr:   streamErr,
	}
	s := res.Snap
	var stored string
	s.Settings, s.Budgets, stored = parseSettings(hmgetMap(settingsF, settings), res.BadSettings)
	s.Used, _ = res.parseHash("used", hmgetMap([]string{ws}, used), model.CleanWorkspaceField)
	var badUsedBy map[string]string
	s.UsedBy, badUsedBy = res.parseHash("used_by", hmgetMap(usedByF, usedBy), model.CleanUsedByField)
	s.Refused, _ = res.parseHash("refused", hmgetMap(refusedF, refused), model.CleanRefusedField)
	s.Recharged, _ = res.parseHash("recharged", hmgetMap([]string{ws}, recharged), model.CleanWorkspaceField)
	for key, why := range unreadableProjects(badUsedBy) {
		s.MarkProjectUnreadable(key, why)
	}
	if len(wrong) > 0 {
		res.wrongKeys(ctx, c, keys, wrong)
	}
	return res, stored, nil
}

// AnyWorkspace reports whether period p's counters or the settings name any
// workspace (the settings hash holding the period config alone names none):
// what tells a workspace not found from a db or key prefix holding nothing.
// It reads the hashes' lengths, not their fields.
func AnyWorkspace(ctx context.Context, c redis.UniversalClient, keys Keys, p model.Period) (bool, error) {
	var lens []*redis.IntCmd
	var period *redis.BoolCmd
	_, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, k := range []string{keys.Used(p.Key), keys.Recharged(p.Key), keys.Refused(p.Key), keys.UsedBy(p.Key), keys.Settings()} {
			lens = append(lens, pipe.HLen(ctx, k))
		}
		period = pipe.HExists(ctx, keys.Settings(), PeriodSettingsField)
		return nil
	})
	if err != nil && !isKeyRefusal(err) {
		return false, fmt.Errorf("read snapshot: %w", err)
	}
	n := int64(0)
	for _, l := range lens {
		if l.Err() != nil {
			return true, nil // a key of another type: something is there
		}
		n += l.Val()
	}
	if period.Err() == nil && period.Val() {
		n--
	}
	return n > 0, nil
}
