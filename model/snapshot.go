package model

import (
	"errors"
	"strconv"
	"strings"
)

// Snapshot is the state of one billing period as Redis holds it, read in one
// MULTI/EXEC together with the id of the stream's newest entry. A Ledger seeded
// from it and then fed the entries after StreamID counts every event exactly once.
type Snapshot struct {
	// Period is the billing period the counters belong to.
	Period Period
	// StreamID is the newest stream entry the counters include ("0-0" for none).
	StreamID string
	// Read is, for a read of the Pattern 1 counters (which have no stream
	// id), the server's time before and after it (ReadPosition); zero for
	// the stream contract's.
	Read ReadPosition
	// Used maps workspace → credits used (hash used:<period>).
	Used map[string]int64
	// UsedBy maps UsedByField(ws, project, endpoint) → credits (hash used_by:<period>).
	UsedBy map[string]int64
	// UsedByLater is true when used_by was left out of this read (UsedBy is
	// empty) so the first frame need not wait for the largest hash — one field
	// per workspace, project and endpoint, 1.2M at 100k workspaces: the
	// ledger's project and endpoint credits come with Ledger.SeedUsedBy.
	UsedByLater bool
	// HistoryLater is true when the last hour of the stream is read back
	// after this read (Ledger.Backfill, then Ledger.EndHistory): until then
	// the ledger judges nothing that depends on history (Ledger.HistoryPending).
	HistoryLater bool
	// Drift is true when the counters were re-read because an audit found
	// them apart from a stream followed without a gap (feed's ReasonDrift):
	// the credits they hold beyond what was shown were written without a
	// stream entry, or beside one that said less, at times nothing tells. A
	// Seed counts them as used but leaves them out of the burn (README,
	// "Forecasts": "Drift"): spread over the seconds since the last event
	// read they were a spike that fired run_out, and no gap of the stream
	// held them to spread them over.
	Drift bool
	// Unapplied holds, when UnappliedKnown, every stream entry after the
	// last one its reader delivered up to StreamID, read with a re-read of
	// the counters (feed's deliveredUpTo): a ledger fed what was delivered
	// never applies them, it follows on from StreamID, yet the counters
	// hold them. A Seed that heals applies the recharges and
	// credits_exhausted 402s among them, in order, to the OUT rule
	// (OutByRefusal), so a credit the counters show with no recharge entry
	// among them is undated, as a start reading them back would find it.
	// Not known (too many, or not read): the credit is taken as one of them
	// (healOut).
	Unapplied      []Event
	UnappliedKnown bool
	// Refused maps RefusedField(ws, project, code) → number of 402s (hash refused:<period>).
	Refused map[string]int64
	// Recharged maps workspace → credits added this period (hash recharged:<period>).
	Recharged map[string]int64
	// Settings maps workspace → its settings (hash settings).
	Settings map[string]Settings
	// Budgets maps ProjectKey(ws, project) → the project's budget (hash settings).
	Budgets map[string]ProjectBudget
	// Unreadable maps a workspace whose used counter holds no integer ≥ 0
	// (text, an empty string, a number beyond int64, a negative number: a
	// counter only grows) to why, in words. The workspace exists — something
	// counts for it — but its usage, and so its level, are unknown
	// (LevelUnknown) until a read finds a good value. Used holds no entry for
	// such a counter.
	Unreadable map[string]string
	// RechargedUnreadable maps a workspace whose recharged counter alone
	// cannot be read (a field holding no integer ≥ 0, or the recharged key
	// another type or forbidden by the ACL) to why, naming the field or key.
	// Its credits used are known; what the recharges decide (the
	// allocation's cap, what is measured against it) is not, and what they
	// cannot change stays known (Usage.RechargedUnreadable): used at or over
	// a usage limit below the allocation is exhausted whatever they hold.
	// Recharged holds no entry for such a counter.
	RechargedUnreadable map[string]string
	// RefusedUnreadable maps a workspace whose 402 count cannot be read (a
	// refused field holding no integer ≥ 0, or the refused key holding
	// another type) to why, naming the field or key. Only whether the API
	// refuses it is unknown (RefusalUndecided: the history decides it); its
	// usage and level are judged by its own counters, so a known 95 % is
	// critical whatever its 402 count.
	RefusedUnreadable map[string]string
	// UsedByUnreadable maps every project ("ws/project", ProjectKey) a
	// used_by field of which holds no integer ≥ 0 to why, naming the field
	// (the least reason of several): with a usage limit or not. Its credits
	// are unknown, so the project is listed (Ledger.Projects) with
	// ProjectBudget.UsageUnreadable set, never dropped because its one field
	// was skipped; only a project whose budget is judged
	// (ProjectBudget.Judged) has its level unknown too (its Budgets entry
	// says so), an unlimited one's level is what it was.
	UsedByUnreadable map[string]string
}

// MarkRefusedUnreadable records that workspace ws's 402 count cannot be read,
// and why (see Snapshot.RefusedUnreadable); the least reason of several.
func (s *Snapshot) MarkRefusedUnreadable(ws, msg string) {
	if s.RefusedUnreadable == nil {
		s.RefusedUnreadable = map[string]string{}
	}
	if prev, ok := s.RefusedUnreadable[ws]; !ok || msg < prev {
		s.RefusedUnreadable[ws] = msg
	}
}

// MarkRechargedUnreadable records that workspace ws's recharged counter
// cannot be read, and why (see Snapshot.RechargedUnreadable); the least
// reason of several.
func (s *Snapshot) MarkRechargedUnreadable(ws, msg string) {
	if s.RechargedUnreadable == nil {
		s.RechargedUnreadable = map[string]string{}
	}
	if prev, ok := s.RechargedUnreadable[ws]; !ok || msg < prev {
		s.RechargedUnreadable[ws] = msg
	}
}

// MarkProjectUnreadable records that the credits of project key
// ("ws/project") cannot be read, and why (UsedByUnreadable), whatever its
// budget; when its budget is judged (a usage limit, or a budget that cannot
// be read: ProjectBudget.Judged) its Budgets entry says so too
// (ProjectBudget.UsageUnreadable): that project's level is unknown, its
// workspace's own judged by its own counters. The least reason of several.
func (s *Snapshot) MarkProjectUnreadable(key, msg string) {
	if s.UsedByUnreadable == nil {
		s.UsedByUnreadable = map[string]string{}
	}
	if prev, ok := s.UsedByUnreadable[key]; !ok || msg < prev {
		s.UsedByUnreadable[key] = msg
	}
	b, ok := s.Budgets[key]
	if !ok || !b.Judged() {
		return
	}
	if b.UsageUnreadable == "" || msg < b.UsageUnreadable {
		b.UsageUnreadable = msg
		s.Budgets[key] = b
	}
}

// MarkUnreadable records that a counter of workspace ws (used, or one that
// cannot be told apart) could not be read, and why, in words that name the counter (see
// Snapshot.Unreadable). Of several, the least in byte order is kept, so a
// report reads the same on every run.
func (s *Snapshot) MarkUnreadable(ws, msg string) {
	if s.Unreadable == nil {
		s.Unreadable = map[string]string{}
	}
	if prev, ok := s.Unreadable[ws]; !ok || msg < prev {
		s.Unreadable[ws] = msg
	}
}

// UsedByField is the used_by hash field for credits of one workspace, project and
// endpoint: "ws/project/endpoint". Ids cannot hold "/", so it splits back uniquely.
func UsedByField(ws, project, endpoint string) string {
	return ws + "/" + project + "/" + endpoint
}

// SplitUsedByField undoes UsedByField.
func SplitUsedByField(f string) (ws, project, endpoint string, ok bool) {
	ws, rest, ok1 := strings.Cut(f, "/")
	project, endpoint, ok2 := strings.Cut(rest, "/")
	return ws, project, endpoint, ok1 && ok2 && ws != ""
}

// RefusedField is the refused hash field counting 402s: "ws/project/code".
func RefusedField(ws, project, code string) string {
	return ws + "/" + project + "/" + code
}

// SplitRefusedField undoes RefusedField.
func SplitRefusedField(f string) (ws, project, code string, ok bool) {
	return SplitUsedByField(f)
}

// ProjectKey is the settings hash field of a project's budget: "ws/project".
func ProjectKey(ws, project string) string { return ws + "/" + project }

// SplitProjectKey undoes ProjectKey; ok is false for a plain workspace field.
func SplitProjectKey(f string) (ws, project string, ok bool) {
	ws, project, ok = strings.Cut(f, "/")
	return ws, project, ok && ws != "" && project != ""
}

// CleanWorkspaceField checks a used or recharged hash field: ok is false when
// it is no workspace id (such a field was not written by a producer and names
// nothing mavtop can show).
func CleanWorkspaceField(f string) (string, bool) { return f, IsID(f) }

// CleanUsedByField returns a used_by hash field under the name DecodeEvent gives
// the same event: project "" when it is no id, the endpoint as CleanEndpoint
// keeps it. ok is false when the field names no workspace.
func CleanUsedByField(f string) (string, bool) {
	ws, project, endpoint, ok := SplitUsedByField(f)
	if !ok || !IsID(ws) {
		return "", false
	}
	if !IsID(project) {
		project = ""
	}
	return UsedByField(ws, project, CleanEndpoint(endpoint)), true
}

// CleanRefusedField is CleanUsedByField for the refused hash: the code is kept
// as CleanCode does.
func CleanRefusedField(f string) (string, bool) {
	ws, project, code, ok := SplitRefusedField(f)
	if !ok || !IsID(ws) {
		return "", false
	}
	if !IsID(project) {
		project = ""
	}
	return RefusedField(ws, project, CleanCode(code)), true
}

// errNotRedisInteger is ParseCounter's error for a value Redis would not
// increment.
var errNotRedisInteger = errors.New("not an integer as Redis writes one")

// ParseCounter reads a counter hash's value (credits, or a count of 402s) as
// Redis reads an integer for HINCRBY: decimal digits with an optional '-',
// no '+', no leading zero, no "-0", within int64. strconv.ParseInt alone
// takes "+5" and "05" as 5, a value on which every producer's HINCRBY fails
// ("hash value is not an integer"): the counter can no longer grow, so
// reading it as 5 would show a frozen number as good. Its error is
// strconv's for text and overflow, errNotRedisInteger for the rest.
//
// It allocates nothing: the form is checked on s itself (comparing s with
// strconv.FormatInt of the number made a string per value, 1.3M at a start
// of 100k workspaces).
func ParseCounter(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	// ParseInt in base 10 took s as an optional sign and digits: Redis's form
	// is those digits with no '+', no leading zero and no "-0"
	digits := s
	switch s[0] {
	case '+':
		return 0, errNotRedisInteger
	case '-':
		digits = s[1:]
	}
	if digits[0] == '0' && (len(digits) > 1 || len(s) > 1) {
		return 0, errNotRedisInteger
	}
	return n, nil
}
