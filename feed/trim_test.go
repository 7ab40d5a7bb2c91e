package feed

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestATrimmedStreamShowsWhatAFreshStartShows is the convergence invariant for
// entries removed from the stream by another tool while the counters stay,
// when a fresh start would still need them (an XTRIM that empties the stream
// or leaves less than the burn window, an XDEL from the middle): the instance that read them
// and a mavtop started afresh on the same Redis show, per workspace, the same
// used, remaining, level, OUT, age of the newest event, burn and forecast,
// the same all-workspace burn and the same 402 log. Both judge from what Redis
// still holds (the counters and the stream's entries left): before this, after
// gamma's 402 (newer than its recharge) was trimmed, the long-running instance
// showed gamma OUT and every age it had read while a fresh one and check said
// ok with no age. Routine retention (the oldest entries only, what is left
// covering the burn window) is TestRoutineRetentionIsNoRederive.
func TestATrimmedStreamShowsWhatAFreshStartShows(t *testing.T) {
	for _, how := range []string{"XTRIM MAXLEN 0", "XTRIM MINID middle", "XDEL the 402"} {
		t.Run(how, func(t *testing.T) {
			srv := feedtest.Start(t)
			if !srv.Real {
				t.Skip("XTRIM MINID and XINFO's entries-added need redis-server (CI requires it)")
			}
			c := srv.Client()
			ctx := context.Background()
			// the events of the last ten minutes inside one period at any hour
			// (in a month's first ten minutes some were the previous period's)
			base := time.Now()
			ids, early := backdated(base.Add(-15 * time.Minute))
			midPeriodBy(t, c, early)
			at := func(ago time.Duration) int64 { return base.Add(-ago).UnixMilli() }
			allocateBy(t, c, early, map[string]int64{"acme": 10_000, "beta": 1_000, "gamma": 1_000})
			pub := NewPublisher(c, PublisherOptions{MaxLen: -1, IDs: ids})
			track := func(evs ...model.Event) {
				t.Helper()
				if err := pub.TrackBatch(ctx, inTimeOrder(evs)); err != nil {
					t.Fatal(err)
				}
			}
			// gamma spent, was recharged, then refused for want of credits: OUT
			// (the 402 is newer than the credit added); acme and beta spend.
			track(
				model.Event{TS: at(10 * time.Minute), Workspace: "gamma", Project: "web", Endpoint: "/responses", Credits: 30, Status: 200},
				model.Event{TS: at(9 * time.Minute), Workspace: "gamma", Kind: model.KindRecharge, Credits: 500},
				model.Event{TS: at(8 * time.Minute), Workspace: "gamma", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "gamma-402"},
				model.Event{TS: at(7 * time.Minute), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 40, Status: 200},
				model.Event{TS: at(6 * time.Minute), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 50, Status: 200},
			)
			long := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
			long.settled(srv, "the long-running instance at the start")
			track(
				model.Event{TS: at(3 * time.Minute), Workspace: "acme", Project: "batch", Endpoint: "/focus-groups", Credits: 900, Status: 200},
				model.Event{TS: at(2 * time.Minute), Workspace: "beta", Project: "web", Endpoint: "/responses", Credits: 50, Status: 200},
				model.Event{TS: at(1 * time.Minute), Workspace: "delta", Project: "web", Endpoint: "/responses", Credits: 300, Status: 200},
			)
			long.settled(srv, "the long-running instance before the trim")
			if before := long.screen(time.Now()); !before.Rows["gamma"].Out || before.Rows["acme"].LastTS != at(3*time.Minute) {
				t.Fatalf("before the trim the instance does not show gamma OUT and acme's newest event:\n%v", before)
			}
			stream := Keys{}.Stream()
			idOf := func(req string) string {
				t.Helper()
				msgs, err := c.XRange(ctx, stream, "-", "+").Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs {
					if m.Values["req"] == req {
						return m.ID
					}
				}
				t.Fatalf("no entry with req %s in %d entries", req, len(msgs))
				return ""
			}
			switch how {
			case "XTRIM MAXLEN 0":
				if err := c.XTrimMaxLen(ctx, stream, 0).Err(); err != nil {
					t.Fatal(err)
				}
			case "XTRIM MINID middle":
				// everything up to the 402 goes; acme's and beta's newest stay
				id := idOf("gamma-402")
				ms, seq, _ := strings.Cut(id, "-")
				n, _ := strconv.ParseUint(seq, 10, 64)
				if err := c.XTrimMinID(ctx, stream, fmt.Sprintf("%s-%d", ms, n+1)).Err(); err != nil {
					t.Fatal(err)
				}
			case "XDEL the 402":
				if err := c.XDel(ctx, stream, idOf("gamma-402")).Err(); err != nil {
					t.Fatal(err)
				}
			}
			long.settled(srv, "the long-running instance after the trim")
			fresh := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
			fresh.settled(srv, "a fresh instance")
			// The long-running instance may take up to an audit to notice
			// (the cadence bounds it): wait for agreement, then name the difference.
			var got, want screen
			deadline := time.Now().Add(20 * time.Second)
			for {
				now := time.Now()
				got, want = long.screen(now), fresh.screen(now)
				if got.String() == want.String() || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got.String() != want.String() {
				t.Fatalf("after %s the instance that read the entries shows\n%vwhere a fresh start shows\n%v", how, got, want)
			}
			// Named and counted as a trim (mavtop_feed_resyncs_total{reason="trim"}),
			// no credit lost (under load the re-read may hold entries the follow
			// had not read yet: more, never fewer).
			long.mu.Lock()
			var trims []SnapshotMsg
			for _, sm := range long.snaps {
				if sm.Reason == ReasonTrim {
					trims = append(trims, sm)
				}
			}
			long.mu.Unlock()
			if len(trims) == 0 || !trims[0].Rewound || trims[0].UsedDelta < 0 ||
				!strings.HasPrefix(trims[0].Note(), "entries mavtop had read were removed from the stream: ages, burn and OUT re-derived from what it holds") {
				long.mu.Lock()
				all := reasons(long.snaps)
				long.mu.Unlock()
				t.Errorf("re-reads after %s: %v (every snapshot: %v), want a trim, rewound, losing no credit", how, trims, all)
			}
			// The numbers themselves: the counters stay, the 402 is gone.
			if r := got.Rows["acme"]; r.Used != 940 {
				t.Errorf("acme after the trim: %+v, want 940 used (the counters)", r)
			}
			if r := got.Rows["gamma"]; r.Out || r.Used != 30 {
				t.Errorf("gamma after its 402 was removed: %+v, want 30 used and not OUT (recharged and refused this period, their order lost with the stream)", r)
			}
			switch how {
			case "XTRIM MAXLEN 0":
				if r := got.Rows["acme"]; r.LastTS != 0 || r.Burn != 0 {
					t.Errorf("acme after the stream was emptied: %+v, want no age and no burn (no entry left)", r)
				}
			case "XTRIM MINID middle", "XDEL the 402":
				if r := got.Rows["acme"]; r.LastTS != at(3*time.Minute) {
					t.Errorf("acme after %s: %+v, want its newest event (still in the stream) 3 min ago", how, r)
				}
			}
		})
	}
}

// TestAStreamCutShortIsNoQuietHour: a producer's short MAXLEN keeps minutes of
// a steady burn, not the hour. What was cut is gone, not absent: the burn read
// back is measured from the oldest entry left, and with less than MinSpan of
// it run_out is unknown, not ended. Before, the hour read back counted the cut
// minutes as no charge — 2,000 credits of the last 400 s made 8,000/h over the
// 15-minute window, where the burn is 18,000/h — so every trim re-derive of a
// long-running watcher resolved run_out while the burn never changed (a real
// watcher said "no longer runs out … at its burn of 8,722 credits/h" a second
// after the re-derive).
func TestAStreamCutShortIsNoQuietHour(t *testing.T) {
	srv := feedtest.StartReal(t, "XINFO's entries-added needs redis-server")
	c := srv.Client()
	ctx := context.Background()
	base := time.Now()
	ids, early := backdated(base.Add(-time.Hour))
	if err := NewSettingsStore(c, early).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	// 10 credits every 2 s for 20 minutes: 18,000 credits/h
	pub := NewPublisher(c, PublisherOptions{MaxLen: -1, IDs: ids})
	evs := make([]model.Event, 600)
	for i := range evs {
		evs[i] = model.Event{TS: base.Add(-time.Duration(600-i) * 2 * time.Second).UnixMilli(), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: 10, Status: 200}
	}
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	long := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
	long.settled(srv, "the long-running instance before the cut")
	burn := func(in *instance) (perHour float64, cond model.AlertCondition) {
		now := time.Now()
		in.hub.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) {
			perHour = l.Forecast("acme", now).BurnPerHour
			for _, a := range model.EvaluateAlerts(l, now, model.FeedHealth{Connected: true}, model.AlertOptions{}, nil) {
				if a.Kind == model.AlertRunOut {
					cond = a.Condition
				}
			}
		})
		return perHour, cond
	}
	if b, _ := burn(long); b < 17_000 || b > 19_000 {
		t.Fatalf("before the cut the burn is %.0f/h, want 18,000/h", b)
	}
	for _, keep := range []int64{200, 30} { // 400 s, then 60 s: less than MinSpan
		if err := c.XTrimMaxLen(ctx, Keys{}.Stream(), keep).Err(); err != nil {
			t.Fatal(err)
		}
		fresh := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
		fresh.settled(srv, "a fresh instance")
		for name, in := range map[string]*instance{"a fresh instance": fresh, "the long-running instance": long} {
			var b float64
			var cond model.AlertCondition
			deadline := time.Now().Add(30 * time.Second) // a trim re-derive comes within 12 audits
			for {
				b, cond = burn(in)
				ok := cond == model.ConditionUnknown
				if keep == 200 {
					ok = b >= 17_000 && b <= 19_000 && cond != model.ConditionUnknown
				}
				if ok || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			switch {
			case keep == 200 && (b < 17_000 || b > 19_000 || cond == model.ConditionUnknown):
				t.Errorf("%s, the stream cut to its last 400 s: burn %.0f/h, run_out %v, want 18,000/h judged (the cut minutes are not a quiet hour)", name, b, cond)
			case keep == 30 && cond != model.ConditionUnknown:
				t.Errorf("%s, the stream cut to its last 60 s: run_out %v at a burn of %.0f/h, want unknown (less than MinSpan to measure a burn on)", name, cond, b)
			}
		}
	}
}

// TestAnOldXDELMakesNoLaterTrimARederive: Redis keeps max-deleted-entry-id
// at the newest id XDEL ever removed, so once an entry of the last hour was
// deleted (and re-derived once), every later trim of entries older than the
// hour (a producer's MAXLEN ~ 1000000 trims with its writes) read as one of
// the hour: a 'trim' re-read, its alert and the hour read back every minute
// for an hour. Only a new deletion (the max moved, or entries went while the
// oldest stayed) is judged by it.
func TestAnOldXDELMakesNoLaterTrimARederive(t *testing.T) {
	now := time.Now()
	id := func(ago time.Duration) string { return fmt.Sprintf("%d-0", now.Add(-ago).UnixMilli()) }
	s := &Subscriber{opt: SubscriberOptions{Now: func() time.Time { return now }, AuditEvery: time.Second}}
	oldest := id(2 * time.Hour)
	for i, step := range []struct {
		what          string
		length, added int64
		first, maxDel string
		want          Reason
	}{
		{"first look", 100, 100, oldest, "", ""},
		{"XDEL of an entry 10 minutes old", 99, 100, oldest, id(10 * time.Minute), ReasonTrim},
		{"XTRIM MINID of entries 100 minutes old", 89, 100, id(100 * time.Minute), id(10 * time.Minute), ""},
		{"XDEL of an entry 5 minutes old", 88, 100, id(100 * time.Minute), id(5 * time.Minute), ReasonTrim},
		{"XDEL of an entry 20 minutes old (the max stays)", 87, 100, id(100 * time.Minute), id(5 * time.Minute), ReasonTrim},
		{"a MAXLEN ~ trim of entries 90 minutes old", 90, 110, id(90 * time.Minute), id(5 * time.Minute), ""},
		{"a MAXLEN ~ trim leaving 20 minutes (the burn window covered)", 90, 120, id(20 * time.Minute), id(5 * time.Minute), ""},
		{"a MAXLEN ~ trim leaving 10 minutes (less than the burn window)", 80, 130, id(10 * time.Minute), id(5 * time.Minute), ReasonTrim},
	} {
		now = now.Add(13 * time.Second) // past the once-a-minute cadence (12 audits of 1 s)
		in := &redis.XInfoStream{Length: step.length, EntriesAdded: step.added, MaxDeletedEntryID: step.maxDel, LastGeneratedID: id(time.Second)}
		if got := s.removedRead(in, step.first, nil); got != step.want {
			t.Errorf("%d %s: %q, want %q", i, step.what, got, step.want)
		}
		if step.want == ReasonTrim {
			// asked again before its re-read came (the reader's session
			// ended, its answer dropped): still due, never taken by asking
			if got := s.removedRead(in, step.first, nil); got != ReasonTrim {
				t.Errorf("%d %s, asked again before its re-read: %q, want trim", i, step.what, got)
			}
			s.trimMu.Lock()
			s.trimTaken(now, true) // the trim's re-read (begin)
			s.trimMu.Unlock()
		}
	}
}

// TestRoutineRetentionIsNoRederive: a producer's MAXLEN ~ that trims the
// oldest entries with its writes while what is left still reaches back over
// the burn window (model.BurnWindow) removes nothing a fresh start needs for
// the burn and forecast: no 'trim' re-read (before, one every minute, each a
// full counter read and the hour read back: DefaultMaxLen holds less than an
// hour above ~278 events/s). A MAXLEN ~ that keeps less than the burn window
// is re-derived, at most once per trimRederiveAudits audit cadences. The
// entries are written the way a producer does (counters and the stream entry
// in one MULTI, XADD with MAXLEN ~), with ids 4 s apart over the last hour.
func TestRoutineRetentionIsNoRederive(t *testing.T) {
	for _, tc := range []struct {
		what   string
		maxLen int64 // entries 4 s apart: 400 are 26 min, 100 are 6.7 min
		trim   bool
	}{
		{"MAXLEN ~ 400 keeps more than the burn window", 400, false},
		{"MAXLEN ~ 100 keeps less than the burn window", 100, true},
	} {
		t.Run(tc.what, func(t *testing.T) {
			srv := feedtest.StartReal(t, "XINFO's entries-added needs redis-server")
			c := srv.Client()
			ctx := context.Background()
			k := Keys{}
			base := time.Now()
			const n = 900 // one charge every 4 s for the last hour
			tsOf := func(i int) int64 { return base.Add(-time.Duration(n-i) * 4 * time.Second).UnixMilli() }
			produce := func(from, to int, maxLen int64) { produceCharges(t, c, tsOf, from, to, maxLen) }
			produce(0, 600, -1) // 60 to 20 minutes ago, untrimmed
			const every = 5 * time.Second
			long := startInstance(t, srv, SubscriberOptions{AuditEvery: every})
			start := time.Now()
			long.settled(srv, "the long-running instance before the producer trims")
			// The producer goes on, trimming with each write; batches of 50 are
			// followed before the next, so only entries mavtop read are removed
			// (a trim past what it read is a gap, another re-read).
			for i := 600; i < n; i += 50 {
				produce(i, i+50, tc.maxLen)
				tail := fmt.Sprintf("%d-0", tsOf(i+49))
				deadline := time.Now().Add(30 * time.Second)
				for !long.hub.Applied(tail) {
					if time.Now().After(deadline) {
						t.Fatalf("the instance did not follow to %s within 30 s (snapshots %v)", tail, reasons(long.snaps))
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			long.settled(srv, "the long-running instance after the producer trimmed")
			in, err := c.XInfoStream(ctx, k.Stream()).Result()
			if err != nil {
				t.Fatal(err)
			}
			oldest := idTime(in.FirstEntry.ID)
			covers := time.Since(oldest) > model.BurnWindow
			if in.EntriesAdded-in.Length < 300 || covers == tc.trim {
				t.Fatalf("the producer's MAXLEN ~ %d removed %d of %d entries, the oldest left %v old: not the case under test",
					tc.maxLen, in.EntriesAdded-in.Length, in.EntriesAdded, time.Since(oldest).Round(time.Second))
			}
			elapsed := time.Since(start)
			long.mu.Lock()
			var trims, others int
			for _, sm := range long.snaps {
				switch sm.Reason {
				case ReasonTrim:
					trims++
				case ReasonGap, ReasonReset:
					others++
				}
			}
			all := reasons(long.snaps)
			long.mu.Unlock()
			// the rate limit: one re-read, then one more per trimRederiveAudits cadences
			most := 1 + int(elapsed/(trimRederiveAudits*every))
			switch {
			case others > 0:
				t.Errorf("re-reads %v: a gap or reset where only entries read were removed", all)
			case !tc.trim && trims != 0:
				t.Errorf("%d entries removed, the oldest left %v old (the burn window covered): re-reads %v, want no trim re-derive",
					in.EntriesAdded-in.Length, time.Since(oldest).Round(time.Second), all)
			case tc.trim && (trims < 1 || trims > most):
				t.Errorf("the oldest left %v old (less than the burn window): re-reads %v over %v, want 1 to %d trim re-derives",
					time.Since(oldest).Round(time.Second), all, elapsed.Round(time.Second), most)
			}
		})
	}
}

// TestAnOlderXDELBesideATrimIsSeen: Redis keeps max-deleted-entry-id at the
// newest id XDEL ever removed, so an XDEL of an older entry of the last hour
// leaves it as it was; when a trim of the oldest entries comes in the same
// interval (a producer's MAXLEN ~ trims with its writes), the oldest entry
// moved on too, and the deletion looked like routine retention: never
// re-derived, the deleted 402 kept OUT where a fresh start says ok. Now the
// count tells (entries-added minus length grew by more than the trim took of
// the oldest entries, read while an XDEL of the hour is known). A trim alone,
// after it, is still no re-derive. Real redis-server (≥ 7: XINFO counts).
func TestAnOlderXDELBesideATrimIsSeen(t *testing.T) {
	srv := feedtest.StartReal(t, "XINFO's entries-added and max-deleted-entry-id need redis-server")
	c := srv.Client()
	ctx := context.Background()
	k := Keys{}
	base := time.Now()
	const n = 900 // one charge every 4 s for the last hour
	ids := produceCharges(t, c, func(i int) int64 { return base.Add(-time.Duration(n-i) * 4 * time.Second).UnixMilli() }, 0, n, -1)
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 50 * time.Millisecond, StatsEvery: 50 * time.Millisecond})
	f.caughtUp(c, 30*time.Second)
	trims := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.snapsOf(ReasonTrim))
	}
	// an XDEL of an entry 10 minutes old: max-deleted-entry-id moves, re-derived
	if err := c.XDel(ctx, k.Stream(), ids[n-150]).Err(); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the XDEL's trim re-derive", 30*time.Second, func(f *follower) bool { return len(f.snapsOf(ReasonTrim)) == 1 })
	// one more charge, followed, so the gap checks after the re-derive have
	// read the oldest entries
	trackAll(t, NewPublisher(c, PublisherOptions{}), usage("acme", "web", "/responses", 1))
	f.caughtUp(c, 30*time.Second)
	audits := func() int64 {
		f.mu.Lock()
		defer f.mu.Unlock()
		if st := f.lastStats(); st != nil {
			return st.Audits
		}
		return 0
	}
	for a := audits(); audits() < a+2; {
		time.Sleep(10 * time.Millisecond)
	}
	// in one MULTI, so in one interval between gap checks: an XDEL of an
	// entry 20 minutes old (older than the max, which stays) and a trim of
	// the 5 oldest entries (an hour old: routine retention on its own)
	_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.XDel(ctx, k.Stream(), ids[n-300])
		pipe.XTrimMinID(ctx, k.Stream(), ids[5])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.XInfoStream(ctx, k.Stream()).Result()
	if err != nil || in.MaxDeletedEntryID != ids[n-150] {
		t.Fatalf("max-deleted-entry-id %q (%v), want %s: not the case under test", in.MaxDeletedEntryID, err, ids[n-150])
	}
	f.waitFor("the older XDEL's trim re-derive", 30*time.Second, func(f *follower) bool { return len(f.snapsOf(ReasonTrim)) == 2 })
	// a trim of the oldest entries alone, once the rate limit has passed: none
	trackAll(t, NewPublisher(c, PublisherOptions{}), usage("acme", "web", "/responses", 1))
	if err := c.XTrimMinID(ctx, k.Stream(), ids[10]).Err(); err != nil {
		t.Fatal(err)
	}
	trackAll(t, NewPublisher(c, PublisherOptions{}), usage("acme", "web", "/responses", 1))
	f.caughtUp(c, 30*time.Second)
	for a := audits(); audits() < a+2*trimRederiveAudits; {
		time.Sleep(10 * time.Millisecond)
	}
	if got := trims(); got != 2 {
		f.mu.Lock()
		defer f.mu.Unlock()
		t.Errorf("%d trim re-derives after a trim of the oldest entries alone, want 2 (re-reads %v)", got, reasons(f.snaps))
	}
	f.convergedTo(c, "after the removals", 30*time.Second)
}

// produceCharges writes charges from to to of acme (web, /responses, 1 to 7
// credits) at tsOf(i) the way a producer does: the counters, the digest and
// the stream entry (its id from its time) in one MULTI, XADD with MAXLEN ~
// maxLen when it is positive. It returns the entries' ids.
func produceCharges(t *testing.T, c redis.UniversalClient, tsOf func(i int) int64, from, to int, maxLen int64) []string {
	t.Helper()
	ctx := context.Background()
	k := Keys{}
	var ids []string
	_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for i := from; i < to; i++ {
			e := model.Event{TS: tsOf(i), Workspace: "acme", Project: "web", Endpoint: "/responses", Credits: int64(1 + i%7), Status: 200}
			p := model.MonthlyUTC.AtMillis(e.TS).Key
			pipe.HIncrBy(ctx, k.Used(p), e.Workspace, e.Credits)
			pipe.HIncrBy(ctx, k.UsedBy(p), model.UsedByField(e.Workspace, e.Project, e.Endpoint), e.Credits)
			pipe.HIncrBy(ctx, k.Digest(p), DigestUsedField(e.Workspace), e.Credits)
			ids = append(ids, fmt.Sprintf("%d-0", e.TS))
			a := &redis.XAddArgs{Stream: k.Stream(), ID: ids[len(ids)-1], Values: e.Fields()}
			if maxLen > 0 {
				a.MaxLen, a.Approx = maxLen, true
			}
			pipe.XAdd(ctx, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestAHealBesideATrimIsNamedATrim: a re-read that heals a drift from
// counters read after entries the instance had read were removed is the
// trim's re-read, named so (mavtop_feed_resyncs_total{reason="trim"}, the
// note) and re-derived from what the stream holds — whichever saw the
// removal first, the audit's read or a gap check whose answer the heal's
// new session dropped. Before, either way swallowed it: the heal took the
// trimmed stream as the last state seen (or the gap check's answer, taken
// when asked, was dropped with its session), so the trim was never named
// and the instance kept every age, the burn and the 402 log where a fresh
// start shows none (measured before: re-reads [drift 0], acme aged 3 min and the
// 402 log holding gamma's where a fresh start shows no age and no 402). The
// removal and the drift are written while the audit's full read runs
// (scanBetween), in one MULTI.
func TestAHealBesideATrimIsNamedATrim(t *testing.T) {
	srv := feedtest.StartReal(t, "XINFO's entries-added needs redis-server")
	c := srv.Client()
	ctx := context.Background()
	base := time.Now()
	at := func(ago time.Duration) int64 { return base.Add(-ago).UnixMilli() }
	ids, early := backdated(base.Add(-15 * time.Minute))
	allocateBy(t, c, early, map[string]int64{"acme": 10_000, "gamma": 1_000})
	if err := NewPublisher(c, PublisherOptions{MaxLen: -1, IDs: ids}).TrackBatch(ctx, []model.Event{
		{TS: at(10 * time.Minute), Workspace: "gamma", Project: "web", Endpoint: "/responses", Credits: 30, Status: 200},
		{TS: at(8 * time.Minute), Workspace: "gamma", Project: "web", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "gamma-402"},
		{TS: at(3 * time.Minute), Workspace: "acme", Project: "batch", Endpoint: "/focus-groups", Credits: 900, Status: 200},
	}); err != nil {
		t.Fatal(err)
	}
	p := model.MonthlyUTC.At(base).Key
	var armed, fired atomic.Bool
	// The audit comes with a read (at most every Block): a gap check is at
	// most every 2 s, so the removal is the audit's to see first; a gap
	// check that sees it first has its answer dropped by the heal's new
	// session, the other way it was swallowed.
	long := startInstance(t, srv, SubscriberOptions{AuditEvery: 100 * time.Millisecond, Block: 2 * time.Second, fullEvery: 1, scanBetween: func() {
		if !armed.CompareAndSwap(true, false) {
			return
		}
		// acme's recharged counter (read after the used hash this call
		// follows) raised behind the stream's back, and every entry gone
		_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.HIncrBy(ctx, Keys{}.Recharged(p), "acme", 500)
			pipe.XTrimMaxLen(ctx, Keys{}.Stream(), 0)
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		fired.Store(true)
	}})
	long.settled(srv, "the instance before the trim")
	if before := long.screen(time.Now()); !before.Rows["gamma"].Out || before.Rows["acme"].LastTS != at(3*time.Minute) {
		t.Fatalf("before the trim the instance does not show gamma OUT and acme's newest event:\n%v", before)
	}
	long.mu.Lock()
	n0 := len(long.snaps)
	long.mu.Unlock()
	armed.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for !fired.Load() {
		if time.Now().After(deadline) {
			t.Fatal("no full audit read within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fresh := startInstance(t, srv, SubscriberOptions{AuditEvery: time.Second})
	fresh.settled(srv, "a fresh instance")
	var got, want screen
	for deadline := time.Now().Add(20 * time.Second); ; {
		long.settled(srv, "the instance after the trim")
		now := time.Now()
		got, want = long.screen(now), fresh.screen(now)
		if got.String() == want.String() || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	long.mu.Lock()
	after := append([]SnapshotMsg(nil), long.snaps[n0:]...)
	long.mu.Unlock()
	if got.String() != want.String() {
		t.Fatalf("after a heal beside a trim the instance shows\n%vwhere a fresh start shows\n%v(re-reads %v)", got, want, reasons(after))
	}
	if len(after) == 0 || after[0].Reason != ReasonTrim || !after[0].Rewound || after[0].UsedDelta != 0 || after[0].Changed != 1 {
		t.Errorf("re-reads after the drift and the trim: %v, want the first a trim, rewound, healing acme's recharge (1 workspace changed, no credit used lost)", reasons(after))
	}
	for _, sm := range after {
		if sm.Reason == ReasonDrift {
			t.Errorf("re-reads %v: a drift named where the same re-read was the trim's", reasons(after))
		}
	}
	if r := got.Rows["acme"]; r.Used != 900 || r.Remaining != 9_600 || r.LastTS != 0 {
		t.Errorf("acme after the heal: %+v, want 900 used and 9,600 remaining (the counters: 500 recharged) and no age (no entry left)", r)
	}
	if len(got.Refusals) != 0 || got.AllBurn != 0 {
		t.Errorf("after every entry was removed: 402 log %v, burn %.0f/h, want none (as a fresh start)", got.Refusals, got.AllBurn)
	}
}
