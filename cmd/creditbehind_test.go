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
	names := []string{"o1", "o2", "o3"}
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
		return v["o1"] == model.LevelExhausted && v["o2"] == model.LevelExhausted && v["o3"] == model.LevelExhausted
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
	// the watching dashboard re-reads what was written behind the stream
	waitUntil(t, 20*time.Second, "the live hub re-read the credits", func() bool {
		ok := false
		live.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			s1, _ := l.Summary("o1")
			s3, _ := l.Summary("o3")
			ok = s1.Settings.Allocation == 1000 && s3.Recharged == 500
		})
		return ok
	})
	want := map[string]model.Level{"o1": model.LevelExhausted, "o2": model.LevelOK, "o3": model.LevelExhausted}
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
