package feed

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestATrimmedStreamShowsWhatAFreshStartShows is the convergence invariant for
// entries removed from the stream by another tool while the counters stay (an
// XTRIM, an XDEL, a producer's short MAXLEN ~): the instance that read them
// and a mavtop started afresh on the same Redis show, per workspace, the same
// used, remaining, level, OUT, age of the newest event, burn and forecast,
// the same all-workspace burn and the same 402 log. Both judge from what Redis
// still holds (the counters and the stream's entries left): before this, after
// gamma's 402 (newer than its recharge) was trimmed, the long-running instance
// showed gamma OUT and every age it had read while a fresh one and check said
// ok with no age.
func TestATrimmedStreamShowsWhatAFreshStartShows(t *testing.T) {
	for _, how := range []string{"XTRIM MAXLEN 0", "XTRIM MINID middle", "XDEL the 402", "MAXLEN ~ 100 under load"} {
		t.Run(how, func(t *testing.T) {
			srv := feedtest.Start(t)
			if !srv.Real {
				t.Skip("XTRIM MINID and XINFO's entries-added need redis-server (CI requires it)")
			}
			c := srv.Client()
			ctx := context.Background()
			base := time.Now()
			at := func(ago time.Duration) int64 { return base.Add(-ago).UnixMilli() }
			store := NewSettingsStore(c, StoreOptions{})
			for ws, alloc := range map[string]int64{"acme": 10_000, "beta": 1_000, "gamma": 1_000} {
				if err := store.SetWorkspace(ctx, ws, model.Settings{Allocation: alloc}); err != nil {
					t.Fatal(err)
				}
			}
			maxLen := int64(-1)
			if strings.HasPrefix(how, "MAXLEN") {
				maxLen = 100
			}
			pub := NewPublisher(c, PublisherOptions{MaxLen: maxLen})
			track := func(evs ...model.Event) {
				t.Helper()
				if err := pub.TrackBatch(ctx, evs); err != nil {
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
			case "MAXLEN ~ 100 under load":
				// The producer's cap trims whole nodes of 100 entries while
				// mavtop follows: 2,000 charges of epsilon, 1 credit each.
				for i := range 20 {
					evs := make([]model.Event, 100)
					for j := range evs {
						evs[j] = model.Event{TS: at(50*time.Second - time.Duration(i*100+j)*10*time.Millisecond), Workspace: "epsilon", Project: "web", Endpoint: "/responses", Credits: 1, Status: 200}
					}
					track(evs...)
				}
				if n := c.XLen(ctx, stream).Val(); n >= 1000 {
					t.Fatalf("the producer's MAXLEN ~ 100 left %d entries", n)
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
				t.Errorf("re-reads after %s: %v, want a trim, rewound, losing no credit", how, trims)
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
	if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	// 10 credits every 2 s for 20 minutes: 18,000 credits/h
	pub := NewPublisher(c, PublisherOptions{MaxLen: -1})
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
	} {
		now = now.Add(13 * time.Second) // past the once-a-minute cadence (12 audits of 1 s)
		in := &redis.XInfoStream{Length: step.length, EntriesAdded: step.added, MaxDeletedEntryID: step.maxDel, LastGeneratedID: id(time.Second)}
		if got := s.removedRead(in, step.first); got != step.want {
			t.Errorf("%d %s: %q, want %q", i, step.what, got, step.want)
		}
	}
}
