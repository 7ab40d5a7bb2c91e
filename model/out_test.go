package model

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// TestOutByRefusal: the OUT rule's refusal half over every case it is asked
// about, on the facts alone (README "Forecasts", OUT).
func TestOutByRefusal(t *testing.T) {
	at := ms(10 * time.Minute) // the newest 402's trusted time
	for _, tc := range []struct {
		name string
		f    OutFacts
		want bool
	}{
		{"402 with no credit this period, by the counters alone",
			OutFacts{Refused: 1, Held: true}, true},
		{"402 and a credit this period, no entry read yet: not held OUT",
			OutFacts{Refused: 1, Held: true, Credited: true}, false},
		{"402 then a recharge entry dated after it",
			OutFacts{Refused: 1, Held: true, Credited: true, Last: OutCredited}, false},
		{"402 after the last recharge entry",
			OutFacts{Refused: 2, Held: true, Credited: true, Last: OutRefused, RefusedAt: at}, true},
		{"402 then a recharge with no entry (a raw HINCRBY: undated)",
			OutFacts{Refused: 1, Held: true, Credited: true, Last: OutRefused, RefusedAt: at}, true},
		{"402 then a raise stamped raised_at after it",
			OutFacts{Refused: 1, Held: true, Credited: true, Last: OutRefused, RefusedAt: at, RaisedAt: at + 1}, false},
		{"402 in the same millisecond as the raise: the raise is not after it",
			OutFacts{Refused: 1, Held: true, Credited: true, Last: OutRefused, RefusedAt: at, RaisedAt: at}, true},
		{"402 newer than the raise (older than the last credit: none after it)",
			OutFacts{Refused: 1, Held: true, Credited: true, Last: OutRefused, RefusedAt: at, RaisedAt: at - 1}, true},
		{"a raise with no raised_at: no date, no credit",
			OutFacts{Refused: 1, Held: true, Last: OutRefused, RefusedAt: at}, true},
		{"read back: an entry older than the raise is the newest known",
			OutFacts{Refused: 1, Held: true, Credited: true, Last: OutCredited, RaisedAt: at}, false},
		{"a budget_exceeded 402 alone (a usage limit's): no credits_exhausted counted",
			OutFacts{Refused: 0, Held: true}, false},
		{"an entry the counters hold no 402 of (they are the truth)",
			OutFacts{Refused: 0, Held: true, Last: OutRefused, RefusedAt: at}, false},
		{"a 402 count that cannot be read: the entry decides",
			OutFacts{Held: false, CountUnknown: true, Last: OutRefused, RefusedAt: at}, true},
		{"a 402 count that cannot be read, no entry: not held OUT",
			OutFacts{Held: false, CountUnknown: true}, false},
		{"the used counter unreadable, the 402 count read: the counters decide",
			OutFacts{Refused: 1, Held: false}, true},
		{"no 402 at all (remaining ≤ 0 is Assess's, not a refusal)",
			OutFacts{Held: true, Credited: true}, false},
	} {
		if got := OutByRefusal(tc.f); got != tc.want {
			t.Errorf("%s: OutByRefusal(%+v) = %v, want %v", tc.name, tc.f, got, tc.want)
		}
	}
	for _, tc := range []struct {
		f    OutFacts
		want bool
	}{
		{OutFacts{Refused: 1, Held: true}, false},
		{OutFacts{Refused: 1, Held: true, Credited: true}, true},
		{OutFacts{Refused: 1, Held: true, Credited: true, Last: OutCredited}, false},
		{OutFacts{Refused: 0, Held: true, Credited: true}, false},
		{OutFacts{CountUnknown: true}, true},
		{OutFacts{CountUnknown: true, Last: OutRefused}, false},
	} {
		if got := tc.f.Undecided(); got != tc.want {
			t.Errorf("Undecided(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

// outRedis is a billing period of Redis as producers and operators write
// it: the stream's entries and the counters and settings hash beside them.
type outRedis struct {
	entries []Event
	snap    Snapshot
	nextMs  int64
	// refusedUnreadable, when set, is a workspace whose 402 count a read
	// cannot give (its refused counters hold a string): read drops them
	refusedUnreadable string
}

func newOutRedis() *outRedis {
	return &outRedis{snap: Snapshot{Period: MonthlyUTC.At(t0), StreamID: "0-0",
		Used: map[string]int64{}, UsedBy: map[string]int64{}, Refused: map[string]int64{},
		Recharged: map[string]int64{}, Settings: map[string]Settings{}, Budgets: map[string]ProjectBudget{}}}
}

// writeRaw appends e to the stream alone (a raw XADD: no counter holds it),
// its id at at or after the stream's last, and returns the entry.
func (r *outRedis) writeRaw(e Event, at int64) *Event {
	e.TS = at
	at = max(at, r.nextMs)
	r.nextMs = at + 1
	e.ID = fmt.Sprintf("%d-0", at)
	r.entries = append(r.entries, e)
	r.snap.StreamID = e.ID
	return &r.entries[len(r.entries)-1]
}

// seeded is a watching ledger started at t0 over workspace ws, its
// allocation set an hour before.
func (r *outRedis) seeded(ws string, allocation int64) *Ledger {
	start := ms(-time.Hour)
	r.write(settingsEntry(ws, Settings{Allocation: allocation}, start), start)
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(r.read(), t0)
	return l
}

// read is a copy of the counters and settings as they stand (a read).
func (r *outRedis) read() *Snapshot {
	s := r.snap
	s.Used, s.UsedBy, s.Refused = cloneMap(s.Used), cloneMap(s.UsedBy), cloneMap(s.Refused)
	s.Recharged, s.Settings, s.Budgets = cloneMap(s.Recharged), cloneMap(s.Settings), cloneMap(s.Budgets)
	if ws := r.refusedUnreadable; ws != "" {
		for f := range s.Refused {
			if w, _, _, ok := SplitRefusedField(f); ok && w == ws {
				delete(s.Refused, f)
			}
		}
		s.MarkRefusedUnreadable(ws, `counter "refused:x" holds a string`)
	}
	return &s
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// write is an entry and its counters in one MULTI, its id Redis's clock at
// idAt (unix ms), never before the last.
func (r *outRedis) write(e Event, idAt int64) {
	idAt = max(idAt, r.nextMs)
	r.nextMs = idAt + 1
	e.ID = fmt.Sprintf("%d-0", idAt)
	switch e.Kind {
	case KindRecharge:
		r.snap.Recharged[e.Workspace] += e.Credits
	case KindSettings:
		if e.Project != "" { // a project's budget
			var b ProjectBudget
			if err := json.Unmarshal([]byte(e.Msg), &b); err != nil {
				panic(err)
			}
			r.snap.Budgets[ProjectKey(e.Workspace, e.Project)] = b
			break
		}
		var s Settings
		if err := json.Unmarshal([]byte(e.Msg), &s); err != nil {
			panic(err)
		}
		r.snap.Settings[e.Workspace] = s
	default:
		r.snap.Used[e.Workspace] += e.Credits
		r.snap.UsedBy[UsedByField(e.Workspace, e.Project, e.Endpoint)] += e.Credits
		if e.Status == 402 {
			r.snap.Refused[RefusedField(e.Workspace, e.Project, e.Code)]++
		}
	}
	r.entries = append(r.entries, e)
	r.snap.StreamID = e.ID
}

// settingsEntry is what the settings store writes: the hash field and its
// entry, the JSON the same.
func settingsEntry(ws string, s Settings, ts int64) Event {
	js, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return Event{TS: ts, Workspace: ws, Kind: KindSettings, Msg: string(js)}
}

// TestOutIsOneVerdictOnEveryPath: for each case of the OUT rule, the same
// Redis judged by every path that decides it gives one verdict, the
// README's: a ledger that watched every entry (Apply, SetSettings) and then
// re-read what was written behind the stream; a ledger that watched part of
// the stream and re-read the counters with the rest unapplied
// (Snapshot.Unapplied); a start (Seed, Backfill of the history newest
// first); and check (RefusalUndecided, the history read until
// RefusalDecided, JudgeSnapshot with the ledger's RefusalState). Before
// (issue 11) the watching ledger judged a raise by a settings entry with no
// raised_at, and a 402 given before a stamped raise but written after it,
// otherwise than a start and check.
func TestOutIsOneVerdictOnEveryPath(t *testing.T) {
	const ws = "w"
	type step func(r *outRedis, at int64)
	entry := func(e Event) step {
		return func(r *outRedis, at int64) { e.TS = at; r.write(e, at) }
	}
	charge := func(credits int64) step {
		return entry(Event{Workspace: ws, Endpoint: "/responses", Credits: credits, Status: 200})
	}
	refused := func(code string) step {
		return entry(Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: code})
	}
	recharge := func(credits int64) step { return entry(Event{Workspace: ws, Credits: credits, Kind: KindRecharge}) }
	settings := func(s Settings, stamped bool) step { // the settings store's write (stamped raise), or a producer's
		return func(r *outRedis, at int64) {
			if stamped {
				s.RaisedAt = at
			}
			r.write(settingsEntry(ws, s, at), at)
		}
	}
	limitRaised := func(s Settings) step {
		return func(r *outRedis, at int64) { s.LimitRaisedAt = at; r.write(settingsEntry(ws, s, at), at) }
	}
	// an entry whose counter was never written (a raw XADD)
	uncounted := func(code string) step {
		return func(r *outRedis, at int64) {
			r.writeRaw(Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: code}, at)
		}
	}
	uncountedRecharge := func(credits int64) step {
		return func(r *outRedis, at int64) {
			r.writeRaw(Event{Workspace: ws, Credits: credits, Kind: KindRecharge}, at)
		}
	}
	// behind the stream: counters or settings with no entry
	rechargeBehind := func(credits int64) step {
		return func(r *outRedis, _ int64) { r.snap.Recharged[ws] += credits }
	}
	settingsBehind := func(s Settings) step {
		return func(r *outRedis, _ int64) { r.snap.Settings[ws] = s }
	}
	// a 402 the API gave before the raise (its ts), written after it
	lateRefusal := func(before time.Duration) step {
		return func(r *outRedis, at int64) {
			raised := r.snap.Settings[ws].RaisedAt
			r.write(Event{TS: raised - before.Milliseconds(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, at)
		}
	}
	// a 402 the API gave before the last recharge (its ts), written after it
	lateAfterRecharge := func(before time.Duration) step {
		return func(r *outRedis, at int64) {
			var rechargedAt int64
			for _, e := range r.entries {
				if e.Kind == KindRecharge {
					rechargedAt = e.TS
				}
			}
			r.write(Event{TS: rechargedAt - before.Milliseconds(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, at)
		}
	}
	// a raw XADD 402 dated d before the last credit (a recharge entry's
	// ts, else the raise's stamp), written now (hostile18)
	uncountedLate := func(d time.Duration) step {
		return func(r *outRedis, at int64) {
			credit := r.snap.Settings[ws].RaisedAt
			for _, e := range r.entries {
				if e.Kind == KindRecharge {
					credit = e.TS
				}
			}
			e := Event{TS: credit - d.Milliseconds(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}
			at = max(at, r.nextMs)
			r.nextMs = at + 1
			e.ID = fmt.Sprintf("%d-0", at)
			r.entries = append(r.entries, e)
			r.snap.StreamID = e.ID
		}
	}
	// the 402 count unreadable from here on (hostile19)
	countUnreadable := func(r *outRedis, _ int64) { r.refusedUnreadable = ws }
	// a stamped raise whose stamp falls in the next period (the operator's
	// clock ahead across the month's end)
	raisedNextPeriod := func(s Settings) step {
		return func(r *outRedis, at int64) {
			s.RaisedAt = MonthlyUTC.At(t0).End.UnixMilli() + time.Minute.Milliseconds()
			r.write(settingsEntry(ws, s, at), at)
		}
	}
	// a real 402 its producer wrote d late
	refusedLate := func(d time.Duration) step {
		return func(r *outRedis, at int64) {
			r.write(Event{TS: at - d.Milliseconds(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, at)
		}
	}
	// a recharge whose producer's ts is beyond the trusted minute (dated by
	// its id at Event.At), and a 402 after it whose ts is within it
	oldRecharge := func(r *outRedis, at int64) {
		r.write(Event{TS: at - 2*time.Minute.Milliseconds(), Workspace: ws, Credits: 50, Kind: KindRecharge}, at)
	}
	refusedAgo := func(ago time.Duration) step {
		return func(r *outRedis, at int64) {
			r.write(Event{TS: at - ago.Milliseconds(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, at)
		}
	}
	// a stamped raise whose stamp was taken d before its settings entry
	// was written (the operator's clock behind Redis's, or the race of the
	// write)
	limitSetBack := func(n int64) step { // the hash as it stands, its limit set to n (the store keeps its stamps)
		return func(r *outRedis, at int64) {
			s := r.snap.Settings[ws]
			s.UsageLimit = n
			r.write(settingsEntry(ws, s, at), at)
		}
	}
	settingsStampedAgo := func(s Settings, d time.Duration) step {
		return func(r *outRedis, at int64) {
			s.RaisedAt = at - d.Milliseconds()
			r.write(settingsEntry(ws, s, at), at)
		}
	}
	// a usage limit's raise whose stamp (limit_raised_at) was taken d before
	// its settings entry was written (hostile22 L2: the race of the write)
	limitRaisedAgo := func(s Settings, d time.Duration) step {
		return func(r *outRedis, at int64) {
			s.LimitRaisedAt = at - d.Milliseconds()
			r.write(settingsEntry(ws, s, at), at)
		}
	}
	// project pj's calls, and its budget as the settings store writes it
	// (its raise stamped raised_at d before the entry; d < 0: unstamped)
	const pj = "pj"
	projCharge := func(credits int64) step {
		return entry(Event{Workspace: ws, Project: pj, Endpoint: "/responses", Credits: credits, Status: 200})
	}
	projRefused := entry(Event{Workspace: ws, Project: pj, Endpoint: "/responses", Status: 402, Code: CodeBudgetExceeded})
	budgetAgo := func(b ProjectBudget, d time.Duration) step {
		return func(r *outRedis, at int64) {
			if d >= 0 {
				b.RaisedAt = at - d.Milliseconds()
			}
			js, err := json.Marshal(b)
			if err != nil {
				panic(err)
			}
			r.write(Event{TS: at, Workspace: ws, Project: pj, Kind: KindSettings, Msg: string(js)}, at)
		}
	}
	// a budget_exceeded 402 the API gave d before it was written (a late producer)
	limitRefusedLate := func(d time.Duration) step {
		return func(r *outRedis, at int64) {
			r.write(Event{TS: at - d.Milliseconds(), Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeBudgetExceeded}, at)
		}
	}
	alloc := Settings{Allocation: 100}
	limited := Settings{Allocation: 1000, UsageLimit: 50}
	for _, tc := range []struct {
		name    string
		steps   []step
		want    Level
		blocked bool
	}{
		{"402 then a recharge entry", []step{charge(30), refused(CodeCreditsExhausted), recharge(50)}, LevelOK, false},
		{"402 then a recharge behind the stream (undated)", []step{charge(30), refused(CodeCreditsExhausted), rechargeBehind(50)}, LevelExhausted, true},
		{"402 then a raise stamped raised_at", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true)}, LevelOK, false},
		{"402 then a raise by a settings entry with no raised_at", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, false)}, LevelExhausted, true},
		{"402 then a raise in the hash alone, no raised_at", []step{charge(30), refused(CodeCreditsExhausted), settingsBehind(Settings{Allocation: 1000})}, LevelExhausted, true},
		{"a 402 the API gave before a stamped raise, written after it", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true), lateRefusal(5 * time.Second)}, LevelOK, false},
		{"a 402 after the recharge", []step{charge(30), recharge(50), refused(CodeCreditsExhausted)}, LevelExhausted, true},
		{"a 402 older than the last credit", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), charge(1), refused(CodeCreditsExhausted), recharge(50)}, LevelOK, false},
		{"a success between two 402s adds no credit", []step{charge(30), refused(CodeCreditsExhausted), charge(1), refused(CodeCreditsExhausted), charge(1)}, LevelExhausted, true},
		{"a limit's 402 is not OUT", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded)}, LevelCritical, false},
		{"a limit's 402, then the limit raised", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), limitRaised(Settings{Allocation: 1000, UsageLimit: 500})}, LevelOK, false},
		{"credits_exhausted, then the usage limit raised: no credit added", []step{settings(limited, false), charge(30), refused(CodeCreditsExhausted), limitRaised(Settings{Allocation: 1000, UsageLimit: 500})}, LevelExhausted, true},
		// hostile15 #1: a 402 with no counter after a counted one a raise ended
		// read OUT at a start and in check, warn on the watching dashboard
		{"402, a stamped raise, then a 402 with no counter (raw XADD)", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true), uncounted(CodeCreditsExhausted)}, LevelOK, false},
		{"402, a recharge, then a 402 with no counter", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), uncounted(CodeCreditsExhausted)}, LevelOK, false},
		// two 402s after the raise, one more than the counters hold: one of
		// them is real whichever is not (hostile16 #1)
		{"402, a raise, a 402 with no counter, a real 402", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true), uncounted(CodeCreditsExhausted), refused(CodeCreditsExhausted)}, LevelExhausted, true},
		{"a recharge, a real 402, then a 402 with no counter", []step{charge(30), recharge(50), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted)}, LevelExhausted, true},
		// the rule's cost: the one 402 after the recharge is real, but the
		// hour holds one more than the counters and cannot say which: a
		// start and check say not OUT until the next 402 (a dashboard that
		// audited between them knows; the watching ledger here heals once,
		// at the end, as a start reads them)
		{"a real 402, one with no counter, a recharge, a real 402", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted), recharge(50), refused(CodeCreditsExhausted)}, LevelOK, false},
		{"... and the next 402 tells every surface", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted), recharge(50), refused(CodeCreditsExhausted), refused(CodeCreditsExhausted)}, LevelExhausted, true},
		// a recharge entry the counters do not hold added no credit (hostile16 #4)
		{"a 402, then a recharge entry with no counter", []step{charge(30), refused(CodeCreditsExhausted), uncountedRecharge(50)}, LevelExhausted, true},
		{"402 with no counter, then a raise", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true)}, LevelOK, false},
		{"402 and one with no counter, no credit: OUT by the counters", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted)}, LevelExhausted, true},
		{"a recharge newer than a 402 with no counter", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted), recharge(50)}, LevelOK, false},
		{"a 402 the API gave before a recharge, written after it", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), lateAfterRecharge(5 * time.Second)}, LevelOK, false},
		{"a late 402 after a recharge, then a real one", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), lateAfterRecharge(5 * time.Second), refused(CodeCreditsExhausted)}, LevelExhausted, true},
		// of the two 402s after the recharge entry, the late one was given
		// before the credit and the raw one is none: nothing says the API
		// refused after it (before, a start and check counted the late one
		// as after the credit, OUT, where the watching dashboard said ok)
		{"a late 402 after a recharge, then a 402 with no counter", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), lateAfterRecharge(5 * time.Second), uncounted(CodeCreditsExhausted)}, LevelOK, false},
		{"... and a real one after both", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), lateAfterRecharge(5 * time.Second), uncounted(CodeCreditsExhausted), refused(CodeCreditsExhausted)}, LevelExhausted, true},
		// a real 402 after the credit, then one the API gave before it
		// written late: the real one still refuses after the credit
		// (before, the newest entry's date decided: ok on every surface)
		{"a real 402 after a recharge, then a late one", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), refused(CodeCreditsExhausted), lateAfterRecharge(5 * time.Second)}, LevelExhausted, true},
		{"a real 402 after a stamped raise, then a late one", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true), refused(CodeCreditsExhausted), lateRefusal(5 * time.Second)}, LevelExhausted, true},
		// the late one counts after the credit by its own date, not the real
		// one's: with a raw late one beside it, one real 402 after the
		// credit against a surplus of 1 is not OUT (the watching ledger
		// counted 2 and said OUT; hostile18 A)
		// with the 402 count unreadable check read back only to the newest
		// 402, which an older recharge dated after it ends: it said OUT
		// where every other path said ok (hostile19)
		{"count unreadable: a 402 the API gave before a recharge, written after it", []step{countUnreadable, charge(30), refused(CodeCreditsExhausted), recharge(50), lateAfterRecharge(5 * time.Second)}, LevelOK, false},
		{"count unreadable: a raise, a recharge, a real 402 written 15 s late, a late one", []step{countUnreadable, charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true), recharge(50), refusedLate(15 * time.Second), lateRefusal(5 * time.Second)}, LevelOK, false},
		// a raise stamped in the next period dates no credit of this one on
		// any path (the watching ledger counted no later 402 after the
		// recharge: ok where a start and check said OUT; hostile19)
		{"a recharge, a raise stamped next period, a real 402, a raw one", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), raisedNextPeriod(Settings{Allocation: 1000}), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted)}, LevelExhausted, true},
		{"a recharge, a real 402, a late one, a raw late one", []step{charge(30), refused(CodeCreditsExhausted), recharge(50), refused(CodeCreditsExhausted), lateAfterRecharge(5 * time.Second), uncountedLate(5 * time.Second)}, LevelOK, false},
		{"a stamped raise, a real 402, a late one, a raw late one", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true), refused(CodeCreditsExhausted), lateRefusal(5 * time.Second), uncountedLate(5 * time.Second)}, LevelOK, false},
		// a usage limit's budget_exceeded 402 no counter holds holds no limit
		// reached, by the same rule (hostile16 #5: "limit reached" and a
		// refusals alert on every surface)
		{"a limit's 402, a success, then a limit 402 with no counter", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), charge(1), uncounted(CodeBudgetExceeded)}, LevelWarn, false},
		{"a limit's 402, its limit raised, then one with no counter", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), limitRaised(Settings{Allocation: 1000, UsageLimit: 500}), uncounted(CodeBudgetExceeded)}, LevelOK, false},
		{"a success, a real limit 402, then one with no counter", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), charge(1), refused(CodeBudgetExceeded), uncounted(CodeBudgetExceeded)}, LevelCritical, false},
		{"a limit 402 with no counter, then a real one", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), charge(1), uncounted(CodeBudgetExceeded), refused(CodeBudgetExceeded)}, LevelCritical, false},
		// the rule's cost, as OUT's: the surplus could be the one after the success
		{"a real limit 402, one with no counter, a success, a real one", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), uncounted(CodeBudgetExceeded), charge(1), refused(CodeBudgetExceeded)}, LevelWarn, false},
		// the producer says the credit came 2 min ago, the 402 49 s ago: after
		// it (before, the recharge dated by its id made the 402 "before" it)
		{"a recharge dated beyond the trusted minute, then a 402", []step{charge(30), refused(CodeCreditsExhausted), oldRecharge, refusedAgo(59 * time.Second)}, LevelExhausted, true},
		// hostile17 #4: after a stamped raise the watching ledger took a
		// recharge entry no counter holds as credit, and its audit kept it
		{"a raise, a 402, then a recharge entry with no counter", []step{charge(30), settings(Settings{Allocation: 1000}, true), charge(500), refused(CodeCreditsExhausted), uncountedRecharge(50)}, LevelExhausted, true},
		// a late 402 after a recharge entry with no counter: the raw
		// recharge is undone under it on the watching ledger too (hostile18 C)
		{"a raise, a 402, a recharge entry with no counter, a late 402", []step{charge(30), refused(CodeCreditsExhausted), settings(Settings{Allocation: 1000}, true), refused(CodeCreditsExhausted), uncountedRecharge(50), lateRefusal(5 * time.Second)}, LevelExhausted, true},
		{"a 402, a recharge entry with no counter, a real 402 after it", []step{charge(30), settings(Settings{Allocation: 1000}, true), charge(500), refused(CodeCreditsExhausted), uncountedRecharge(50), refused(CodeCreditsExhausted)}, LevelExhausted, true},
		// a raise stamped before a 402 written before the raise's settings
		// entry: the 402 is after the raise by the trusted time; with a raw
		// 402 after them, the watching ledger said ok, a start and check
		// OUT (hostile18 B)
		{"a 402, then a raise stamped before it", []step{charge(30), refused(CodeCreditsExhausted), settingsStampedAgo(Settings{Allocation: 1000}, 15*time.Second)}, LevelExhausted, true},
		{"a 402, a raise stamped before it, a raw 402", []step{charge(30), refused(CodeCreditsExhausted), settingsStampedAgo(Settings{Allocation: 1000}, 15*time.Second), uncounted(CodeCreditsExhausted)}, LevelExhausted, true},
		// the raw one is the later dated: of the two, one is after the raise,
		// and it could be the raw one
		{"a 402, a raw 402, a raise stamped between them", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted), settingsStampedAgo(Settings{Allocation: 1000}, 15*time.Second)}, LevelOK, false},
		{"... and a real 402 after the raise", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted), settingsStampedAgo(Settings{Allocation: 1000}, 15*time.Second), refused(CodeCreditsExhausted)}, LevelExhausted, true},
		// the raw recharge undone at the audit, the raw 402 before it is
		// taken off too: the one left is before the raise
		{"a 402, a raw 402, a raw recharge, a raise stamped between the 402s", []step{charge(30), refused(CodeCreditsExhausted), uncounted(CodeCreditsExhausted), uncountedRecharge(50), settingsStampedAgo(Settings{Allocation: 1000}, 25*time.Second)}, LevelOK, false},
		// a counted recharge, a counted 402, then a recharge entry no counter
		// holds (hostile17 #1): ok on every path, though no reading can tell
		// it from a raw recharge, the 402, then the counted one (the same
		// entries, the same counters), where ok is right
		{"a recharge, a 402, a recharge entry with no counter", []step{charge(30), recharge(50), refused(CodeCreditsExhausted), uncountedRecharge(50)}, LevelOK, false},
		// hostile21 A: 33 402s (a client retrying while refused), a stamped
		// raise, one raw 402: the raw one is the only 402 after the raise
		// (the watching ledger and its re-reads said OUT: their dated list
		// kept the first 32 dates, the 33rd went to a bucket dated after the raise)
		// hostile22 L1: the limit raised (stamped) after its 402, then set back
		// to what it was: a re-read whose gap held both saw the same limit
		// and held the 402 standing (critical); the stamp says it was raised
		{"hostile22 L1: a limit's 402, the limit raised, then lowered back", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), limitRaised(Settings{Allocation: 1000, UsageLimit: 500}), limitSetBack(50)}, LevelWarn, false},
		// hostile22 L2: a usage limit's raise stamped before a
		// budget_exceeded 402 whose entry was written before the raise's
		// settings entry: the 402 is after the raise by the stamp, on every
		// path (the watching ledger ended it by stream position: warn/ok,
		// where a start and check said critical)
		{"hostile22 L2: a limit's 402, then a raise stamped before it", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), limitRaisedAgo(Settings{Allocation: 1000, UsageLimit: 500}, 15*time.Second)}, LevelCritical, false},
		{"hostile22 L2: a project limit's 402, then a raise stamped before it", []step{budgetAgo(ProjectBudget{Limit: 50}, -1), projCharge(30), projRefused, budgetAgo(ProjectBudget{Limit: 500}, 15*time.Second)}, LevelCritical, false},
		{"hostile22 L2: a project limit's 402, then a raise stamped after it", []step{budgetAgo(ProjectBudget{Limit: 50}, -1), projCharge(30), projRefused, budgetAgo(ProjectBudget{Limit: 500}, 0)}, LevelOK, false},
		// of two 402s straddling the stamp the later stands
		{"hostile22 L2: two limit 402s, a raise stamped between them", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), refused(CodeBudgetExceeded), limitRaisedAgo(Settings{Allocation: 1000, UsageLimit: 500}, 15*time.Second)}, LevelCritical, false},
		// ... and with a raw one after them: two after the stamp, one of them real
		{"hostile22 L2: two limit 402s, a raw one, a raise stamped between the real ones", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), refused(CodeBudgetExceeded), uncounted(CodeBudgetExceeded), limitRaisedAgo(Settings{Allocation: 1000, UsageLimit: 500}, 25*time.Second)}, LevelCritical, false},
		// one after the stamp, and the surplus could be it
		{"hostile22 L2: two limit 402s, a raw one, a raise stamped before the raw one", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), refused(CodeBudgetExceeded), uncounted(CodeBudgetExceeded), limitRaisedAgo(Settings{Allocation: 1000, UsageLimit: 500}, 15*time.Second)}, LevelOK, false},
		{"a project limit's 402", []step{budgetAgo(ProjectBudget{Limit: 50}, -1), projCharge(30), projRefused}, LevelCritical, false},
		// a real 402 after the stamp, then one the API gave before it written
		// late: the real one stands (check reads past the late one, whose
		// date is before the stamp, until the ids are older than the stamp)
		{"hostile22 L2: a limit 402 after the stamp, a late one before it, then the raise", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), limitRefusedLate(20 * time.Second), limitRaisedAgo(Settings{Allocation: 1000, UsageLimit: 500}, 25*time.Second)}, LevelCritical, false},
		// a raise with no newer stamp dates nothing: it ends no
		// budget_exceeded 402, as an unstamped allocation raise ends no OUT
		// (the watching ledger and its re-read ended it by value: ok, where a
		// start and check said critical)
		{"hostile22 L2: a limit's 402, then a raise by a settings entry with no limit_raised_at", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), settings(Settings{Allocation: 1000, UsageLimit: 500}, false)}, LevelCritical, false},
		{"hostile22 L2: a limit's 402, then a raise in the hash alone, no stamp", []step{settings(limited, false), charge(30), refused(CodeBudgetExceeded), settingsBehind(Settings{Allocation: 1000, UsageLimit: 500})}, LevelCritical, false},
		{"hostile22 L2: a project limit's 402, then an unstamped raise", []step{budgetAgo(ProjectBudget{Limit: 50}, -1), projCharge(30), projRefused, budgetAgo(ProjectBudget{Limit: 500}, -1)}, LevelCritical, false},
		{"... and a success of the project ends it", []step{budgetAgo(ProjectBudget{Limit: 50}, -1), projCharge(30), projRefused, budgetAgo(ProjectBudget{Limit: 500}, -1), projCharge(1)}, LevelOK, false},
		{"hostile21 A: 33 402s, a stamped raise, a raw 402", append(append([]step{charge(30)}, slices.Repeat([]step{refused(CodeCreditsExhausted)}, 33)...), settings(Settings{Allocation: 1000}, true), uncounted(CodeCreditsExhausted)), LevelOK, false},
		// hostile21 B: neither raw recharge added credit and the 402 is
		// after the raise's stamp (the watching ledger said ok: the second
		// raw recharge dropped the 402 between them, and its audit's undo
		// restored only what the first found)
		{"hostile21 B: a raw recharge, a 402, a raise stamped before it, a raw recharge", []step{charge(30), uncountedRecharge(50), refused(CodeCreditsExhausted), settingsStampedAgo(Settings{Allocation: 1000}, 25*time.Second), uncountedRecharge(50)}, LevelExhausted, true},
		{"remaining ≤ 0 without a 402", []step{charge(100)}, LevelExhausted, false},
		{"no 402, a recharge", []step{charge(30), recharge(50)}, LevelOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newOutRedis()
			start := ms(-time.Hour)
			r.write(settingsEntry(ws, alloc, start), start) // allocated before, not a raise
			base := r.read()
			base.StreamID = r.entries[0].ID
			var upto []int // the entries written after each step
			for i, s := range tc.steps {
				at := ms(time.Duration(i+1) * 10 * time.Second)
				s(r, at)
				upto = append(upto, len(r.entries))
			}
			final := r.read()
			now := t0.Add(time.Minute)
			judge := func(path string, l *Ledger) {
				t.Helper()
				s, _ := l.Summary(ws)
				v, _ := l.Verdict(ws) // the row's: a project's limit reached is critical
				if v.Level != tc.want || s.Blocked != tc.blocked {
					t.Errorf("%s: %v (blocked %v), want %v (blocked %v)", path, v.Level, s.Blocked, tc.want, tc.blocked)
				}
			}
			// watching every entry, then the re-read of what was written behind it
			live := NewLedger(MonthlyUTC, t0)
			live.Seed(base, t0)
			for i := 1; i < len(r.entries); i++ {
				e := r.entries[i]
				live.Apply(&e)
			}
			heal := *final
			heal.UnappliedKnown = true
			live.Seed(&heal, now)
			judge("the watching ledger", live)
			// watching part of the stream, the rest unapplied at a re-read
			for k, n := range upto[:len(upto)-1] {
				l := NewLedger(MonthlyUTC, t0)
				l.Seed(base, t0)
				for i := 1; i < n; i++ {
					e := r.entries[i]
					l.Apply(&e)
				}
				reread := *final
				reread.Unapplied, reread.UnappliedKnown = slices.Clone(r.entries[n:]), true
				l.Seed(&reread, now)
				judge(fmt.Sprintf("a ledger that applied %d steps, the rest unapplied at a re-read", k+1), l)
			}
			fresh, j := startAndCheck(r, final, ws, now)
			judge("a start", fresh)
			if j != nil && (j.Verdict.Level != tc.want || j.Blocked != tc.blocked) {
				t.Errorf("check: %v (blocked %v), want %v (blocked %v)", j.Verdict.Level, j.Blocked, tc.want, tc.blocked)
			}
		})
	}
}

// startAndCheck judges workspace ws of r, whose counters are final, as a
// start and as check do at now: start is a ledger seeded with the counters
// and given the hour read back newest first; check is ws as JudgeSnapshot
// judges it with the refusal state check's history read leaves (one page
// per entry, read until what the counters leave undecided is decided), nil
// when the snapshot does not hold ws.
func startAndCheck(r *outRedis, final *Snapshot, ws string, now time.Time) (start *Ledger, check *Judged) {
	var history []Event // the hour a start and check read back, newest first
	for _, e := range slices.Backward(r.entries) {
		if ms, _, _ := ParseStreamID(e.ID); int64(ms) >= now.Add(-History).UnixMilli() {
			history = append(history, e)
		}
	}
	start = NewLedger(MonthlyUTC, now)
	started := *final
	started.HistoryLater = true // as a subscriber's start: the hour follows
	start.Seed(&started, now)
	start.Backfill(history, now.Add(-History))
	start.EndHistory()
	cl := NewLedger(MonthlyUTC, now)
	cl.Seed(final, now)
	undecided := RefusalUndecided(final)
	for i := range history {
		if len(undecided) == 0 {
			break
		}
		// a page of one entry, complete back to its id (as check's
		// pager says of a page: how far back it has read)
		ms, _, _ := ParseStreamID(history[i].ID)
		cl.Backfill(history[i:i+1], time.UnixMilli(int64(ms)))
		if cl.RefusalDecided(history[i].Workspace) {
			delete(undecided, history[i].Workspace)
		}
	}
	refusing := map[string]RefusalState{} // for those the counters left undecided, as check's
	if _, ok := RefusalUndecided(final)[ws]; ok {
		rs, _ := cl.RefusalState(ws)
		refusing[ws] = rs
	}
	JudgeSnapshot(final, nil, refusing, func(j *Judged) {
		if j.Name == ws {
			c := *j
			check = &c
		}
	})
	return start, check
}

// TestARaisedRefusalIsDecidedByAPageOfOthers (hostile18 D): a workspace
// whose read-back stopped at a 402 dated before its stamped raise (a late
// producer's, newer in the stream) waits for ids older than the raise:
// one older in the stream may be dated after it. Check's pager hands over
// only the workspaces it needs; asked only at their own entries, one with
// no older entry kept check reading the whole hour past the raise. The
// page that reaches ids older than the raise, other workspaces' entries
// all, decides it (RefusalAwaitsOlderIDs, then RefusalDecided).
func TestARaisedRefusalIsDecidedByAPageOfOthers(t *testing.T) {
	const ws = "a"
	r := newOutRedis()
	at := t0.Add(-30 * time.Minute).UnixMilli()
	r.write(Event{TS: at, Workspace: ws, Endpoint: "/responses", Credits: 30, Status: 200}, at)
	r.write(Event{TS: at + 1000, Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, at+1000)
	raise := at + 60_000
	r.write(settingsEntry(ws, Settings{Allocation: 1000, RaisedAt: raise}, raise), raise)
	// given 5 s before the raise, written 10 s after it
	r.write(Event{TS: raise - 5000, Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, raise+10_000)
	snap := r.read()
	if _, ok := RefusalUndecided(snap)[ws]; !ok {
		t.Fatal("fixture: the counters decide it")
	}
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(snap, t0)
	late := r.entries[len(r.entries)-1]
	ms, _, _ := ParseStreamID(late.ID)
	l.Backfill([]Event{late}, time.UnixMilli(int64(ms)))
	if l.RefusalDecided(ws) || !l.RefusalAwaitsOlderIDs(ws) {
		t.Fatalf("after the late 402 alone: decided %v, awaits the raise %v; want false, true", l.RefusalDecided(ws), l.RefusalAwaitsOlderIDs(ws))
	}
	// a page of other workspaces' entries, none of a's, complete back to
	// a second after the raise: an older entry may still be dated after it
	l.Backfill(nil, time.UnixMilli(raise+1000))
	if l.RefusalDecided(ws) {
		t.Fatal("decided with ids newer than the raise still unread")
	}
	// and one complete back to before the raise
	l.Backfill(nil, time.UnixMilli(raise-1000))
	if !l.RefusalDecided(ws) {
		t.Fatal("not decided once the read is older than the raise")
	}
}

// TestDated402s: the 402s after the last recharge entry, by date, against a
// plain list: exact while they fit, and beyond maxExact402s exact for every
// credit dated at or before the earliest of the rest.
// TestDated402s: against a plain list of the same dates, added in any order
// (the watching ledger oldest first, a start's read-back newest first, a
// gap's 402s alike), with up to maxExact402s of the latest taken off (an
// audit's surplus), atLeast is exact for every credit dated after the
// bucket's latest date, and never below the list's count. hostile21 A: the
// first maxExact402s dates were kept, so the two paths' buckets held
// opposite ends, and a take left the bucket's latest date stale (595 of
// 2,000 random lists wrong).
func TestDated402s(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for it := range 2000 {
		var w wsState
		var all []int64
		n := 1 + rng.Intn(3*maxExact402s)
		for i := range n {
			all = append(all, int64(i*10+rng.Intn(15))) // roughly ascending, late ones among them
		}
		switch it % 3 {
		case 1:
			slices.Reverse(all)
		case 2:
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		}
		for i := 0; i < len(all); {
			k := 1 + rng.Intn(3)*(it%2) // sometimes several dated alike
			k = min(k, len(all)-i)
			add402(&w.after402, all[i], int64(k))
			for j := i + 1; j < i+k; j++ {
				all[j] = all[i]
			}
			i += k
		}
		took := rng.Intn(min(n, maxExact402s) + 1)
		w.after402.takeLatest(int64(took))
		slices.Sort(all)
		all = all[:len(all)-took]
		d := w.after402
		for x := int64(-5); x <= int64(n*10+20); x += 5 {
			var want int64
			for _, at := range all {
				if at >= x {
					want++
				}
			}
			got := d.atLeast(x)
			if got < want {
				t.Fatalf("list %d: %d 402s, %d taken: atLeast(%d) = %d, want at least %d", it, n, took, x, got, want)
			}
			if (d.more == 0 || x > d.moreMax) && got != want {
				t.Fatalf("list %d: %d 402s, %d taken: atLeast(%d) = %d, want %d (bucket %d up to %d)", it, n, took, x, got, want, d.more, d.moreMax)
			}
		}
		if len(all) > 0 && d.latest() != all[len(all)-1] {
			t.Fatalf("list %d: latest %d, want %d", it, d.latest(), all[len(all)-1])
		}
	}
	var w wsState
	add402(&w.after402, 5, 3)
	c := wsState{after402: w.after402.clone()}
	add402(&c.after402, 0, 1)
	if w.after402.atLeast(0) == c.after402.atLeast(0) {
		t.Error("a clone shares its dates")
	}
}

// TestASurplusAuditedBeforeARaise: the watching ledger's audit takes a raw
// 402 off before a raise stamped between it and a real one comes: the one
// left is the earlier dated, before the raise (as a start reads the two 402s
// and the raise: one after it, a surplus of one), not OUT.
func TestASurplusAuditedBeforeARaise(t *testing.T) {
	const ws = "w"
	r := newOutRedis()
	l := r.seeded(ws, 100)
	apply := func(e Event, at int64) {
		e.TS = at
		r.write(e, at)
		l.Apply(&r.entries[len(r.entries)-1])
	}
	apply(Event{Workspace: ws, Endpoint: "/responses", Credits: 30, Status: 200}, ms(10*time.Second))
	apply(Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(20*time.Second))
	l.Apply(r.writeRaw(Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(30*time.Second)))
	audit := r.read()
	audit.UnappliedKnown = true
	l.Seed(audit, t0.Add(35*time.Second))
	raised := Settings{Allocation: 1000, RaisedAt: ms(25 * time.Second)}
	e := settingsEntry(ws, raised, ms(40*time.Second))
	r.write(e, ms(40*time.Second))
	l.Apply(&r.entries[len(r.entries)-1])
	if s, _ := l.Summary(ws); s.Blocked || s.Level != LevelOK {
		t.Errorf("%v (blocked %v), want ok", s.Level, s.Blocked)
	}
}

// TestALiveRaiseDuringTheReadBack: a start applies a raise live while it
// reads the hour back, the raise stamped before a real 402 and a raw one
// that it reads back: both 402s are after the raise by their dates, one of
// them real whichever is not, OUT as the watching ledger and check judge
// them (before, the live raise ended every 402 read back: ok).
func TestALiveRaiseDuringTheReadBack(t *testing.T) {
	const ws = "w"
	r := newOutRedis()
	start := ms(-time.Hour)
	r.write(settingsEntry(ws, Settings{Allocation: 100}, start), start)
	write := func(e Event, at int64) { e.TS = at; r.write(e, at) }
	write(Event{Workspace: ws, Endpoint: "/responses", Credits: 30, Status: 200}, ms(10*time.Second))
	write(Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(20*time.Second))
	r.writeRaw(Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted}, ms(30*time.Second))
	now := t0.Add(35 * time.Second)
	snap := r.read()
	snap.HistoryLater = true
	l := NewLedger(MonthlyUTC, now)
	l.Seed(snap, now)
	history := slices.Clone(r.entries[1:])
	slices.Reverse(history)
	// the raise, stamped at 15 s, written live at 40 s, between two pages
	r.write(settingsEntry(ws, Settings{Allocation: 1000, RaisedAt: ms(15 * time.Second)}, ms(40*time.Second)), ms(40*time.Second))
	l.Backfill(history[:1], time.UnixMilli(ms(30*time.Second)))
	l.Apply(&r.entries[len(r.entries)-1])
	l.Backfill(history[1:], now.Add(-History))
	l.EndHistory()
	if s, _ := l.Summary(ws); !s.Blocked || s.Level != LevelExhausted {
		t.Errorf("%v (blocked %v), want exhausted", s.Level, s.Blocked)
	}
}
