package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// StreamError is a usage stream the server answers for but will not let be
// read: the key holds another type (WRONGTYPE), the user may not read it
// (NOPERM), a group it names is gone (NOGROUP). It is the data's or the
// configuration's fault, not the connection's: the subscriber retries with its
// backoff (a reconnect did not help, and an answer is no reconnect), keeps
// auditing the counters meanwhile — the screen converges without the stream —
// and says which key and why.
type StreamError struct {
	// Key is the stream key, sanitised.
	Key string
	// Why says what is wrong, the key first (a header cut to a few cells
	// still names it), without ": ".
	Why string
	err error
}

func (e *StreamError) Error() string { return e.Why }
func (e *StreamError) Unwrap() error { return e.err }

// isStreamRefusal reports whether err is a server's answer that the stream
// cannot be read as one (see StreamError).
func isStreamRefusal(err error) bool {
	var re redis.Error
	if err == nil || !errors.As(err, &re) {
		return false
	}
	msg := strings.TrimSpace(re.Error())
	for _, p := range []string{"WRONGTYPE", "NOPERM", "NOGROUP"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// streamRefusal returns err as a *StreamError naming key when it is a stream
// refusal (asking the key's TYPE for a WRONGTYPE), else nil.
func streamRefusal(ctx context.Context, c redis.UniversalClient, key string, err error) *StreamError {
	if !isStreamRefusal(err) {
		return nil
	}
	var se *StreamError
	if errors.As(err, &se) {
		return se
	}
	name := model.Truncate(model.Sanitize(key), 120)
	if isWrongType(err) {
		typ, terr := c.Type(ctx, key).Result()
		if terr != nil || !model.IsID(typ) {
			typ = "another type"
		} else {
			typ = "a " + typ
		}
		return &StreamError{Key: name, err: err,
			Why: fmt.Sprintf("stream %q holds %s (WRONGTYPE)", name, typ)}
	}
	// no ": " in the words: the header keeps an error's last part after one
	why := strings.ReplaceAll(model.Truncate(model.Sanitize(err.Error()), 160), ": ", " - ")
	return &StreamError{Key: name, err: err, Why: fmt.Sprintf("stream %q cannot be read (%s)", name, why)}
}

// blindDue reports whether the audit without the stream (auditBlind) should
// run now: at once when the stream broke, then every AuditEvery.
func (s *Subscriber) blindDue() bool {
	if s.tally == nil || s.needSnap {
		return false
	}
	return s.blindNow || s.opt.AuditEvery > 0 && s.opt.Now().Sub(s.lastAudit) >= s.opt.AuditEvery
}

// auditBlind is the audit while the stream cannot be read (streamErr). The
// counters are compared with what was delivered as they stand: nothing can be
// delivered meanwhile, so whatever they hold beyond it was written without
// its entry (a producer's MULTI whose XADD failed still ran its HINCRBYs),
// and a difference heals at once (ReasonDrift, or a restart) from a full
// read. The resume point stays where the follow stopped; when the stream
// reads again the counters are read afresh with it (see follow). A quick
// probe (used, recharged, refused) comes between full reads, as on the
// cadence.
func (s *Subscriber) auditBlind(ctx context.Context) error {
	s.blindNow = false
	s.lastAudit = s.opt.Now()
	full := s.stats.Audits%fullAuditEvery == 0
	if !full {
		res, err := readCounters(ctx, s.bulk, s.keys, s.period)
		if err != nil {
			return err
		}
		if res.streamErr == nil {
			return nil // readable again: the follow reads it and re-reads
		}
		s.stats.Audits++
		if !s.restarted(res) && s.tally.sameCounters(tallyOf(s.seed, res.Snap, nil)) {
			return nil
		}
	}
	res, err := ReadSnapshot(ctx, s.bulk, s.keys, s.lastAudit, s.rule)
	if err != nil {
		return err
	}
	if res.streamErr == nil {
		return nil
	}
	if full {
		s.stats.Audits++
	}
	if !samePeriod(res.Snap.Period, s.period) {
		s.needSnap, s.snapReason = true, ReasonRollover
		if !sameRule(res.Rule, s.rule) {
			s.snapReason = ReasonPeriod
		}
		return nil
	}
	restarted := s.restarted(res)
	if restarted {
		s.stats.Restarts++
	}
	t := tallyOf(s.seed, res.Snap, res.rawSettings)
	if _, changed, _ := s.tally.diff(t); changed == 0 && !restarted {
		return nil
	}
	res.Snap.StreamID = s.lastID // nothing after it could be read
	s.handleBegun(s.begin(ctx, res, ReasonDrift, restarted, t))
	return nil
}

// cmpErr is the error of an XINFO that may not have been queued.
func cmpErr(info *redis.XInfoStreamCmd) error {
	if info == nil {
		return errors.New("stream info not read")
	}
	return info.Err()
}

// KeyError is a hash key the server answers for but will not let be read
// as one: it holds another type (WRONGTYPE) or the user may not read it
// (NOPERM). Its message names the key (sanitised) and Redis's answer, as
// the snapshot names such a key (SnapshotResult.BadKeys), so an operator
// knows which key to fix or grant.
type KeyError struct {
	// Key is the key, sanitised.
	Key string
	// Why says what is wrong, the key first.
	Why string
	err error
}

func (e *KeyError) Error() string { return e.Why }
func (e *KeyError) Unwrap() error { return e.err }

// namedKeyError returns err naming key when it is a key refusal (WRONGTYPE:
// the type it holds is asked; NOPERM), else err as it is.
func namedKeyError(ctx context.Context, c redis.UniversalClient, key string, err error) error {
	if !isKeyRefusal(err) {
		return err
	}
	name := model.Truncate(model.Sanitize(key), 120)
	if isNoPerm(err) {
		said := strings.ReplaceAll(model.Truncate(model.Sanitize(strings.TrimSpace(err.Error())), 120), ": ", " - ")
		return &KeyError{Key: name, Why: fmt.Sprintf("key %q cannot be read (%s)", name, said), err: err}
	}
	typ, terr := c.Type(ctx, key).Result()
	if terr != nil || !model.IsID(typ) {
		typ = "another type"
	} else {
		typ = "a " + typ
	}
	return &KeyError{Key: name, Why: fmt.Sprintf("key %q holds %s, not a hash (WRONGTYPE)", name, typ), err: err}
}
