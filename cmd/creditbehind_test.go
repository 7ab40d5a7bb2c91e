package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestACreditAddedBehindTheStreamIsOneVerdict: three workspaces used 30 of
// 100 credits and were refused with credits_exhausted while a dashboard
// watched; then credit came: o2's allocation raised with budget set (stamped
// raised_at), o1's raised in the settings hash alone (no raised_at, no
// entry), o3 recharged by a raw HINCRBY of its counter and digest (no
// entry). The dashboard that watched healed o1 and o3 by the gap its re-read
// filled ("✓ ok 3 %", "✓ ok 5 %") while check said CRITICAL "refused with
// 402 credits_exhausted at 3 % used" and a dashboard started afterwards ✖
// OUT: three verdicts (issue 11). The rule (README "Forecasts", the OUT
// rule): a credit ends an OUT when it is dated after the 402 — a recharge
// entry, a raise stamped raised_at —; one with no dated entry cannot be
// ordered against a 402 the stream dates, so the OUT stands on every
// surface. o2 is ok everywhere, o1 and o3 OUT everywhere: the watching
// dashboard's ledger, one started afterwards (its history read back) and
// check (status, text, --json).
//
// Two more, where the watching dashboard's own path ordered otherwise than
// a start (model.OutByRefusal is now the one rule of all): o4's allocation
// raised by a settings entry and its hash write with no raised_at (as a
// producer of the contract could write it): the watching dashboard took
// the higher allocation for credit added and said ok, a start and check
// found no date and said OUT. o5 refused again by a call the API answered
// 5 s before o5's allocation was raised (budget set), its entry written
// after the raise (a producer's latency): the watching dashboard, by stream
// order, said OUT; a start and check, by the 402's trusted time against
// raised_at (README "Which clock, in one rule"), ok. Now o4 is OUT and o5
// ok everywhere.
func TestACreditAddedBehindTheStreamIsOneVerdict(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	ready := func(hub *feed.Hub) func() bool {
		return func() bool {
			in := false
			hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
				in = l != nil && !l.HistoryPending() && !l.UsedByPending()
			})
			return in
		}
	}
	live := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{AuditEvery: 100 * time.Millisecond}), nil, nil)
	waitUntil(t, 10*time.Second, "the live hub's ledger", ready(live))
	names := []string{"o1", "o2", "o3", "o4", "o5"}
	f.allocate(t, 100, names...)
	for _, ws := range names {
		f.track(t, model.Event{Workspace: ws, Endpoint: "/responses", Credits: 30, Status: 200},
			model.Event{Workspace: ws, Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	}
	verdicts := func(hub *feed.Hub) map[string]model.Level {
		out := map[string]model.Level{}
		hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			for _, ws := range names {
				if v, ok := l.Verdict(ws); ok {
					out[ws] = v.Level
				}
			}
		})
		return out
	}
	waitUntil(t, 10*time.Second, "the live hub saw every 402", func() bool {
		v := verdicts(live)
		for _, ws := range names {
			if v[ws] != model.LevelExhausted {
				return false
			}
		}
		return true
	})
	if err := f.store.SetWorkspace(f.ctx, "o2", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	f.hset(t, feed.Keys{}.Settings(), "o1", `{"allocation":1000}`)
	if _, err := f.c.TxPipelined(f.ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(f.ctx, feed.Keys{}.Recharged(f.period), "o3", 500)
		p.HIncrBy(f.ctx, feed.Keys{}.Digest(f.period), feed.DigestRechargedField("o3"), 500)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	o4 := model.Event{TS: time.Now().UnixMilli(), Workspace: "o4", Kind: model.KindSettings, Msg: `{"allocation":1000}`}
	if _, err := f.c.TxPipelined(f.ctx, func(p redis.Pipeliner) error {
		p.HSet(f.ctx, feed.Keys{}.Settings(), "o4", o4.Msg)
		p.XAdd(f.ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), Values: o4.Fields()})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raised, err := f.store.UpdateWorkspace(f.ctx, "o5", func(s *model.Settings) error { s.Allocation = 1000; return nil })
	if err != nil || raised.RaisedAt == 0 {
		t.Fatalf("raise o5: %v (raised_at %d)", err, raised.RaisedAt)
	}
	f.track(t, model.Event{TS: raised.RaisedAt - 5000, Workspace: "o5", Endpoint: "/responses", Status: 402, Code: model.CodeCreditsExhausted})
	// the watching dashboard re-reads what was written behind the stream
	waitUntil(t, 20*time.Second, "the live hub re-read the credits", func() bool {
		ok := false
		live.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			s1, _ := l.Summary("o1")
			s3, _ := l.Summary("o3")
			s4, _ := l.Summary("o4")
			s5, _ := l.Summary("o5")
			ok = s1.Settings.Allocation == 1000 && s3.Recharged == 500 && s4.Settings.Allocation == 1000 && s5.Refused[model.RefusedCredits] == 2
		})
		return ok
	})
	want := map[string]model.Level{"o1": model.LevelExhausted, "o2": model.LevelOK, "o3": model.LevelExhausted,
		"o4": model.LevelExhausted, "o5": model.LevelOK}
	for ws, lv := range verdicts(live) {
		if lv != want[ws] {
			t.Errorf("%s: the dashboard that watched says %v, want %v", ws, lv, want[ws])
		}
	}
	fresh := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{}), nil, nil)
	waitUntil(t, 10*time.Second, "a fresh hub's ledger, its history read back", ready(fresh))
	for ws, lv := range verdicts(fresh) {
		if lv != want[ws] {
			t.Errorf("%s: a dashboard started afterwards says %v, want %v", ws, lv, want[ws])
		}
	}
	r := "--redis=" + f.srv.URL
	for ws, lv := range want {
		out, _, code := runMavtop(t, "check", r, ws)
		wantCode := checkOK
		if lv == model.LevelExhausted {
			wantCode = checkCritical
		}
		if code != wantCode || lv == model.LevelExhausted && !strings.Contains(out, ws+" refused with 402 credits_exhausted") {
			t.Errorf("check %s: exit %d, want %d (%v)\n%s", ws, code, wantCode, lv, out)
		}
	}
	js, _, _ := runMavtop(t, "check", r, "--json")
	var got surfaceJSON
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	for _, row := range got.Workspaces {
		if lv, ok := want[row.Workspace]; ok && row.Level != lv.String() {
			t.Errorf("%s: check --json level %q, want %q", row.Workspace, row.Level, lv)
		}
	}
}
