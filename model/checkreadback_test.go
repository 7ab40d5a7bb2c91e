package model

import (
	"fmt"
	"testing"
	"time"
)

// readBackStream is a stream as Redis holds it: entries oldest first, each with
// its id.
type readBackStream struct {
	entries []Event
	snap    *Snapshot
}

// checkReadBack reads s back newest first as feed.readHistory does for check
// (pages of pageSize entries, ReadAt = now, entries kept when At >= now-1h,
// a page's from the last id's time clamped to [now-1h, now]), folds each
// page into a ledger seeded with the snapshot, and stops once every
// workspace RefusalUndecided names is decided (asked at its own entries and
// again after every page: at least as eager as cmd's decideRefusal and
// reaskWaiting). It returns how many entries it read and the ledger.
func checkReadBack(t *testing.T, s *readBackStream, now time.Time, pageSize int) (int, *Ledger, map[string]int64) {
	l := NewLedger(MonthlyUTC, now)
	l.Seed(s.snap, now)
	undecided := RefusalUndecided(s.snap)
	from := now.Add(-History)
	top := now
	start := top.Add(-History - 5*time.Minute).UnixMilli()
	read := 0
	i := len(s.entries) - 1
	for len(undecided) > 0 {
		var evs []Event
		lastMs := int64(-1)
		n := 0
		for ; i >= 0 && n < pageSize; i-- {
			e := s.entries[i]
			ms, _, _ := ParseStreamID(e.ID)
			if int64(ms) < start {
				i = -1
				break
			}
			n++
			lastMs = int64(ms)
			e.ReadAt = now.UnixMilli()
			if e.At() >= from.UnixMilli() {
				evs = append(evs, e)
			}
		}
		read += n
		done := n < pageSize || i < 0
		reached := from
		if !done {
			reached = time.UnixMilli(lastMs)
			if reached.Before(from) {
				reached = from
			}
			if reached.After(now) {
				reached = now
			}
		}
		l.Backfill(evs, reached)
		for ws := range undecided {
			if l.RefusalDecided(ws) {
				delete(undecided, ws)
			}
		}
		if done {
			break
		}
	}
	return read, l, undecided
}

// aheadStream: a stream whose ids ran ahead of the clock 30 minutes ago
// (one entry XADDed with an id 2 h ahead: every later "*" id is that
// millisecond, its sequence counting up), 10 entries a second of workspace
// b since, 1 a second before. Workspace a has a credits_exhausted 402 two
// minutes ago (a real one, its producer's clock right) and its 402 count
// cannot be read (hostile19's case), or (held) a recharge 3 min ago and a
// late 402 dated 5 s before it written 2 min ago.
func aheadStream(now time.Time, held, ahead bool) *readBackStream {
	s := newOutRedis()
	s.snap.Period = MonthlyUTC.At(now)
	nowMs := now.UnixMilli()
	aheadMs := nowMs + 2*time.Hour.Milliseconds()
	blockFrom := nowMs - 30*time.Minute.Milliseconds()
	seq := 0
	var lastMs int64
	var entries []Event
	add := func(e Event) {
		ms := e.TS
		if ahead && ms >= blockFrom {
			e.ID = fmt.Sprintf("%d-%d", aheadMs, seq)
			seq++
		} else {
			lastMs = max(ms, lastMs+1)
			e.ID = fmt.Sprintf("%d-0", lastMs)
		}
		switch e.Kind {
		case KindRecharge:
			s.snap.Recharged[e.Workspace] += e.Credits
		default:
			s.snap.Used[e.Workspace] += e.Credits
			s.snap.UsedBy[UsedByField(e.Workspace, e.Project, e.Endpoint)] += e.Credits
			if e.Status == 402 {
				s.snap.Refused[RefusedField(e.Workspace, e.Project, e.Code)]++
			}
		}
		entries = append(entries, e)
	}
	a402 := nowMs - 150_000 // 2 min 30 s ago
	aRecharge := nowMs - 3*time.Minute.Milliseconds()
	for ms := nowMs - 90*time.Minute.Milliseconds(); ms < nowMs; {
		switch {
		case ms == nowMs-40*time.Minute.Milliseconds():
			add(Event{TS: ms, Workspace: "a", Endpoint: "/responses", Credits: 30, Status: 200})
			if held {
				add(Event{TS: ms + 1, Workspace: "a", Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted})
			}
		case held && ms == aRecharge:
			add(Event{TS: ms, Workspace: "a", Credits: 50, Kind: KindRecharge})
		case ms == a402:
			ts := ms
			if !ahead {
				ts = ms - 50_000 // a producer 50 s slow: dated by its ts, within the trusted minute
			}
			if held {
				ts = aRecharge - 5000 // given before the recharge, written after it
			}
			add(Event{TS: ts, Workspace: "a", Endpoint: "/responses", Status: 402, Code: CodeCreditsExhausted})
		}
		add(Event{TS: ms, Workspace: "b", Endpoint: "/responses", Credits: 1, Status: 200})
		if ms >= blockFrom {
			ms += 100
		} else {
			ms += 1000
		}
	}
	s.entries = entries
	s.snap.StreamID = entries[len(entries)-1].ID
	snap := s.read()
	if !held { // a's 402 count unreadable (its refused counter holds a string)
		for f := range snap.Refused {
			if w, _, _, ok := SplitRefusedField(f); ok && w == "a" {
				delete(snap.Refused, f)
			}
		}
		snap.MarkRefusedUnreadable("a", `counter "refused:x" holds a string`)
	}
	return &readBackStream{entries: entries, snap: snap}
}

// TestIdsAheadDoNotKeepCheckReading (regress20): with the stream's ids
// ahead of the clock (README: "an id more than 1 s ahead of that clock is
// no clock at all"), readHistory clamps each page's from to now and every id
// read is ahead of it, so Ledger.readBackMs stayed at now until the read
// passed the whole block of ids ahead; a 402 dated before now (any real
// one) was never decided by RefusalDecided's read-on past the 402's date,
// and check read every entry since the id went ahead (2M entries: the 5 s
// timeout, UNKNOWN, where it had said CRITICAL in 30 ms). The read-on now
// also ends MaxClockBehind before the 402's id. Check's verdict equals a
// read of the whole stream's in each case.
func TestIdsAheadDoNotKeepCheckReading(t *testing.T) {
	now := t0
	for _, c := range []struct{ held, ahead bool }{{false, true}, {true, true}, {false, false}, {true, false}} {
		held := c.held
		s := aheadStream(now, held, c.ahead)
		if _, ok := RefusalUndecided(s.snap)["a"]; !ok {
			t.Fatalf("held %v: fixture: a is not undecided", held)
		}
		read, l, left := checkReadBack(t, s, now, 500)
		r, _ := l.RefusalState("a")
		// the whole read, as a start reads it
		full, fl, _ := checkReadBack(t, &readBackStream{entries: s.entries, snap: s.snap}, now, 1<<30)
		fr, _ := fl.RefusalState("a")
		t.Logf("ahead %v held %v: %d entries in the stream, check read %d (left undecided %v), OUT %v; a read of all %d: OUT %v",
			c.ahead, held, len(s.entries), read, left, r.Blocked, full, fr.Blocked)
		if r.Blocked != fr.Blocked {
			t.Errorf("ahead %v held %v: check says OUT %v, a read of the whole stream %v", c.ahead, held, r.Blocked, fr.Blocked)
		}
		if read > 5000 {
			t.Errorf("ahead %v held %v: check read %d entries (the whole block of ids ahead) for one workspace whose newest decisive entry is in the first 2000 entries", c.ahead, held, read)
		}
	}
}
