package feed

import (
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"mavtop/model"
)

// PeriodLog says in a producer's log when the stored billing-period config
// it cuts periods by cannot be read, and when it can again: a producer that
// writes counters into model.PeriodFallback's periods without a word puts
// them under period keys the operator did not configure. It speaks once per
// change of the stored value, never per event: a WARN when the value read
// is unreadable (and again when it changes to another unreadable value), an
// INFO "period config readable again" when a value read after one is
// readable or absent. A value first read readable says nothing. The words
// are model.PeriodUnreadableWords' (the reason sanitised and bounded by
// model.ParsePeriodConfig), as watch logs them; the attributes name the
// field, the period an event stamped now lands in, and the fix. The config
// is re-read at most once a refresh (a minute), so a value changing faster
// is said at most that often.
//
// One PeriodLog may be shared by several readers of one process (the
// proxy's publisher and its pre-flight balances): the first to read a new
// value says it, the others do not. It is safe for concurrent use.
type PeriodLog struct {
	log  *slog.Logger
	what string

	mu      sync.Mutex
	seen    bool   // a value was judged
	sum     uint64 // FNV-64a of the value judged last (a value may be megabytes: not kept)
	size    int    // its length
	wasBad  bool   // it was unreadable
	lastBad string // and why, as said
}

// NewPeriodLog returns a PeriodLog writing to log; what says what this
// producer does in the fallback's period meanwhile ("usage events are
// recorded in period <key>"), the WARN's attribute "meanwhile" ("" none).
// A nil log says nothing (Unreadable still tells).
func NewPeriodLog(log *slog.Logger, what string) *PeriodLog {
	return &PeriodLog{log: log, what: what}
}

// Unreadable is why the value judged last cannot be read ("" when it can,
// is absent, or none was judged yet).
func (pl *PeriodLog) Unreadable() string {
	if pl == nil {
		return ""
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.lastBad
}

// judged takes a value read from the settings hash ("" absent), the rule it
// gave and why it cannot be read (nil: it can), at now; it logs when the
// value differs from the one judged before (see PeriodLog).
func (pl *PeriodLog) judged(raw string, rule model.PeriodRule, bad error, now time.Time) {
	if pl == nil {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(raw))
	sum := h.Sum64()
	pl.mu.Lock()
	same := pl.seen && pl.sum == sum && pl.size == len(raw)
	wasBad := pl.wasBad
	if !same {
		pl.seen, pl.sum, pl.size, pl.wasBad, pl.lastBad = true, sum, len(raw), bad != nil, ""
		if bad != nil {
			pl.lastBad = bad.Error()
		}
	}
	pl.mu.Unlock()
	if same || pl.log == nil {
		return
	}
	period := rule.At(now).Key
	switch {
	case bad != nil:
		attrs := []any{"field", PeriodSettingsField, "period", period}
		if pl.what != "" {
			attrs = append(attrs, "meanwhile", pl.what)
		}
		pl.log.Warn(model.PeriodUnreadableWords(bad.Error()), append(attrs, "fix", "mavtop budget period --start-day N [--tz ZONE]")...)
	case wasBad:
		pl.log.Info("period config readable again", "field", PeriodSettingsField, "period", period)
	}
}
