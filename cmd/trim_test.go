package cmd

import (
	"context"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestATrimmedRefusalIsOneVerdict: a workspace recharged, then refused with
// credits_exhausted, is OUT on the long-running dashboard's hub and in check
// (the 402 is newer than the credit added). Another tool then removes the 402
// from the stream (XDEL, or XTRIM MAXLEN 0) while the counters stay: the
// counters alone cannot order a recharge and a 402 of the same period, and no
// entry says which came last any more, so check says ok — and the hub that
// read the 402 says the same within its re-read (before this it stayed OUT:
// the dashboard CRITICAL where check was OK, for as long as it ran).
func TestATrimmedRefusalIsOneVerdict(t *testing.T) {
	for _, how := range []string{"XDEL", "XTRIM MAXLEN 0"} {
		t.Run(how, func(t *testing.T) {
			srv := feedtest.Start(t)
			if !srv.Real {
				t.Skip("XINFO's entries-added needs redis-server (CI requires it)")
			}
			ctx := context.Background()
			c := srv.Client()
			if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "w", model.Settings{Allocation: 100}); err != nil {
				t.Fatal(err)
			}
			pub := feed.NewPublisher(c, feed.PublisherOptions{})
			now := time.Now()
			if err := pub.TrackBatch(ctx, []model.Event{
				{TS: now.Add(-3 * time.Minute).UnixMilli(), Workspace: "w", Endpoint: "/responses", Credits: 40, Status: 200},
				{TS: now.Add(-2 * time.Minute).UnixMilli(), Workspace: "w", Kind: model.KindRecharge, Credits: 50},
				{TS: now.Add(-time.Minute).UnixMilli(), Workspace: "w", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted, Req: "w-402"},
			}); err != nil {
				t.Fatal(err)
			}
			hctx, cancel := context.WithCancel(ctx)
			defer cancel()
			h := feed.NewHub()
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = h.Run(hctx, feed.NewSubscriber(c, feed.SubscriberOptions{AuditEvery: time.Second, Block: 200 * time.Millisecond}))
			}()
			defer func() { cancel(); <-done }()
			hubLevel := func() (lv model.Level, ok bool) {
				h.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
					if l == nil || l.HistoryPending() {
						return
					}
					s, found := l.Summary("w")
					lv, ok = s.Level, found
				})
				return lv, ok
			}
			checkLevel := func() (string, int) {
				t.Helper()
				var js surfaceJSON
				out, _, code := runMavtop(t, "check", "--redis="+srv.URL, "--json", "w")
				decodeInto(t, out, &js)
				return js.Workspaces[0].Level, code
			}
			waitHub := func(want model.Level) {
				t.Helper()
				deadline := time.Now().Add(20 * time.Second)
				for {
					lv, ok := hubLevel()
					if ok && lv == want {
						return
					}
					if time.Now().After(deadline) {
						var rs map[feed.Reason]int64
						h.Read(func(_ *model.Ledger, _ *feed.ConnMsg, st *feed.StatsMsg) {
							if st != nil {
								rs = st.Resyncs
							}
						})
						t.Fatalf("the hub shows w %v (known %v), want %v (re-reads %v)", lv, ok, want, rs)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			waitHub(model.LevelExhausted)
			if lv, code := checkLevel(); lv != "exhausted" || code != checkCritical {
				t.Fatalf("before the trim check says %s (exit %d), want exhausted (2) as the hub", lv, code)
			}
			stream := feed.Keys{}.Stream()
			switch how {
			case "XDEL":
				msgs, err := c.XRange(ctx, stream, "-", "+").Result()
				if err != nil {
					t.Fatal(err)
				}
				var id string
				for _, m := range msgs {
					if m.Values["req"] == "w-402" {
						id = m.ID
					}
				}
				if id == "" || c.XDel(ctx, stream, id).Val() != 1 {
					t.Fatalf("the 402's entry %q not deleted", id)
				}
			default:
				if err := c.XTrimMaxLen(ctx, stream, 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if lv, code := checkLevel(); lv != "ok" || code != checkOK {
				t.Fatalf("after the 402 was removed check says %s (exit %d), want ok (0): recharged and refused, their order lost", lv, code)
			}
			waitHub(model.LevelOK)
		})
	}
}
