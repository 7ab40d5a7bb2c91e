package estimator

import (
	"time"

	"mavtop/model"
)

// JobRecord is one launch as the launcher's tracker wrote it to the usage
// stream: its operation, its pre-flight estimate and what it cost.
type JobRecord struct {
	// ID is the stream entry's id.
	ID string
	// At is when the call ended as far as mavtop can tell: the event's
	// trusted time (model.Event.At: its producer's ts, or its stream id's
	// time, Redis's clock, when the ts is later than it or more than
	// model.MaxClockBehind before it).
	At time.Time
	// Workspace and Project say whose credits it used.
	Workspace, Project string
	// Op is the operation.
	Op Operation
	// Estimate is the pre-flight upper bound (0: launched without one).
	Estimate int64
	// Actual is the credits charged (0 for a refusal).
	Actual int64
	// Status is the HTTP status; Code the API's error code when it failed.
	Status int
	Code   string
	// Req is the request or job id.
	Req string
}

// Refused reports whether the API refused the job with 402.
func (r JobRecord) Refused() bool { return r.Status == 402 }

// Paid reports whether the job ran and was charged (2xx).
func (r JobRecord) Paid() bool { return r.Status >= 200 && r.Status <= 299 }

// JobFromEvent reads a launch from a usage event; ok is false for anything
// else (a call without a known operation, a recharge, settings).
func JobFromEvent(e *model.Event) (JobRecord, bool) {
	op := Operation(e.Op)
	if e.Kind != model.KindUsage || !op.Valid() {
		return JobRecord{}, false
	}
	return JobRecord{ID: e.ID, At: time.UnixMilli(e.At()), Workspace: e.Workspace, Project: e.Project, Op: op,
		Estimate: e.Est, Actual: e.Credits, Status: e.Status, Code: e.Code, Req: e.Req}, true
}

// RecordEvent adds e to the calibration when it is a paid launch with an
// estimate (a 402 costs nothing and would read as a perfect estimate; a call
// without an estimate has nothing to compare). It reports whether it counted.
func (c *Calibration) RecordEvent(e *model.Event) bool {
	r, ok := JobFromEvent(e)
	if !ok || !r.Paid() || r.Estimate <= 0 {
		return false
	}
	return c.Record(r.Op, r.Estimate, r.Actual) == nil
}

// JobLog is what the estimator pane shows of past launches: the calibration of
// every paid job seen (running sums) and the newest few jobs. Live entries come
// in stream order (Add); the last hour read back at start comes newest first,
// page by page, possibly after live ones (AddPast). An entry already taken is
// skipped, so nothing is counted twice. Memory is bounded by keep. Not safe for
// concurrent use (the dashboard's Update owns it).
type JobLog struct {
	cal    Calibration
	recent []JobRecord // newest first, at most keep
	keep   int
	seen   int64
	// lastID is the newest live entry taken; pastID the oldest read back.
	lastID, pastID string
}

// NewJobLog keeps the newest keep jobs (at least 1).
func NewJobLog(keep int) *JobLog {
	keep = max(keep, 1)
	return &JobLog{recent: make([]JobRecord, 0, keep), keep: keep}
}

// Add takes a live entry if it is a launch newer than the last one taken, and
// reports whether it did.
func (l *JobLog) Add(e *model.Event) bool {
	if e.ID != "" {
		if l.lastID != "" && model.CompareStreamIDs(e.ID, l.lastID) <= 0 {
			return false
		}
		if _, ok := JobFromEvent(e); ok {
			l.lastID = e.ID
		}
	}
	return l.take(e)
}

// AddPast takes an entry read back from before the live ones (history pages,
// newest first) if it is a launch older than every one read back so far.
func (l *JobLog) AddPast(e *model.Event) bool {
	if e.ID != "" {
		if l.pastID != "" && model.CompareStreamIDs(e.ID, l.pastID) >= 0 {
			return false
		}
		if _, ok := JobFromEvent(e); ok {
			l.pastID = e.ID
		}
	}
	return l.take(e)
}

func (l *JobLog) take(e *model.Event) bool {
	r, ok := JobFromEvent(e)
	if !ok {
		return false
	}
	l.cal.RecordEvent(e)
	l.seen++
	// keep the newest: insert in order, drop the oldest past keep
	i := len(l.recent)
	for i > 0 && newer(r, l.recent[i-1]) {
		i--
	}
	if i >= l.keep {
		return true
	}
	l.recent = append(l.recent, JobRecord{})
	copy(l.recent[i+1:], l.recent[i:])
	l.recent[i] = r
	if len(l.recent) > l.keep {
		l.recent = l.recent[:l.keep]
	}
	return true
}

// newer orders jobs by time, then by stream id.
func newer(a, b JobRecord) bool {
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	return model.CompareStreamIDs(a.ID, b.ID) > 0
}

// Reset forgets every job taken, and the calibration made of them: after Redis
// went back in time (feed.SnapshotMsg.Rewound) the jobs it lost are neither
// listed nor calibrated from, as on a fresh start; the history read back then
// fills the log again (AddPast). A rollover's re-read resets it too
// (feed.SnapshotMsg.Fresh): its hour, read back, is listed as a start lists it.
func (l *JobLog) Reset() {
	l.cal.mu.Lock()
	l.cal.stats = nil
	l.cal.mu.Unlock()
	l.recent = l.recent[:0]
	l.seen, l.lastID, l.pastID = 0, "", ""
}

// Seen is the number of jobs taken in total.
func (l *JobLog) Seen() int64 { return l.seen }

// Recent appends the jobs kept, newest first, to dst.
func (l *JobLog) Recent(dst []JobRecord) []JobRecord { return append(dst, l.recent...) }

// Calibration is the estimate-vs-actual report of the paid jobs taken, one row
// per operation (Calibration.Report).
func (l *JobLog) Calibration() []CalibrationRow { return l.cal.Report() }
