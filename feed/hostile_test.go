package feed

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// rawProduce writes one event the way a producer in another language does (the
// README's redis-py recipe): the counters and the XADD in one MULTI/EXEC, with
// the fields exactly as given, nothing validated or folded.
func rawProduce(t *testing.T, c redis.UniversalClient, ws, project, endpoint, code string, credits int64, fields map[string]any) {
	t.Helper()
	ctx := context.Background()
	k := Keys{}
	p := model.MonthlyUTC.At(time.Now()).Key
	_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HIncrBy(ctx, k.Used(p), ws, credits)
		pipe.HIncrBy(ctx, k.UsedBy(p), model.UsedByField(ws, project, endpoint), credits)
		if code != "" {
			pipe.HIncrBy(ctx, k.Refused(p), model.RefusedField(ws, project, code), 1)
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.Stream(), Values: fields})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostileEntriesCountLikeTheCounters (issue 10): entries with a long msg or
// req, codes in capitals, terminal sequences and a missing ts are counted,
// so the dashboard's ledger equals what check reads from the counters, by the
// follow path and by the snapshot path alike; junk hash fields (a name that is
// not UTF-8, a value that is no integer) are skipped without blinding anyone.
func TestHostileEntriesCountLikeTheCounters(t *testing.T) {
	servers(t, func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		live := startFollower(t, c, SubscriberOptions{})
		live.waitFor("the start snapshot", 5*time.Second, func(f *follower) bool { return f.ledger != nil })
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		base := func(extra map[string]any) map[string]any {
			m := map[string]any{"v": "1", "ts": ts, "ws": "acme", "endpoint": "/mave/chat", "credits": "100", "status": "200"}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		rawProduce(t, c, "acme", "", "/mave/chat", "", 100, base(map[string]any{"req": strings.Repeat("r", 129)}))
		rawProduce(t, c, "acme", "", "/mave/chat", "", 100, base(map[string]any{"msg": strings.Repeat("m", 5000)}))
		rawProduce(t, c, "acme", "", "/mave/chat", "Credits_Exhausted", 100, base(map[string]any{
			"status": "402", "code": "Credits_Exhausted", "msg": "\x1b]2;HACKED\a\x1b[31mred\x1b[0m x\ny",
		}))
		// no ts: the stream id's time is used
		rawProduce(t, c, "beta", "", "/responses", "", 7, map[string]any{"v": "1", "ws": "beta", "endpoint": "/responses", "credits": "7", "status": "200"})
		// junk in the hashes, written by hand
		p := model.MonthlyUTC.At(time.Now()).Key
		if err := c.HIncrBy(ctx, Keys{}.Used(p), "bad\xe9", 5).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.HSet(ctx, Keys{}.Recharged(p), "acme", "lots").Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.HSet(ctx, Keys{}.Settings(), "\x1b]2;x\a", `{"allocation":5}`).Err(); err != nil {
			t.Fatal(err)
		}

		res, err := ReadSnapshot(ctx, c, Keys{}, time.Now(), model.MonthlyUTC)
		if err != nil {
			t.Fatalf("a junk hash field blinds the snapshot: %v", err)
		}
		s := res.Snap
		if s.Used["acme"] != 300 || s.Used["beta"] != 7 || len(s.Used) != 2 {
			t.Fatalf("counters as check reads them: used %v, want acme 300, beta 7 and nothing else", s.Used)
		}
		if s.Refused[model.RefusedField("acme", "", model.CodeCreditsExhausted)] != 1 {
			t.Fatalf("refused %v: the capitalised code is not folded", s.Refused)
		}
		if res.BadCounterCount != 2 {
			t.Fatalf("bad counters %d (%v), want 2", res.BadCounterCount, res.BadCounters)
		}
		for field := range res.BadSettings {
			if !model.IsClean(field) {
				t.Fatalf("bad settings field reported raw: %q", field)
			}
		}
		for field := range res.BadCounters {
			if !model.IsClean(field) {
				t.Fatalf("bad counter field reported raw: %q", field)
			}
		}

		want := countersOf(s)
		live.caughtUp(c, 10*time.Second)
		if got := live.totals(); !got.equal(want) {
			t.Fatalf("follow path: dashboard ledger\n%v\ncounters\n%v", got, want)
		}
		if len(live.malformed) != 0 {
			t.Fatalf("entries with valid counted fields reported malformed: %+v", live.malformed)
		}
		late := startFollower(t, c, SubscriberOptions{})
		late.caughtUp(c, 10*time.Second)
		if got := late.totals(); !got.equal(want) {
			t.Fatalf("snapshot path: dashboard ledger\n%v\ncounters\n%v", got, want)
		}
		live.mu.Lock()
		defer live.mu.Unlock()
		rs := live.ledger.Refusals(nil, 10)
		if len(rs) != 1 || rs[0].Event.Code != model.CodeCreditsExhausted || !model.IsClean(rs[0].Event.Msg) || !strings.Contains(rs[0].Event.Msg, "␛]2;HACKED") {
			t.Fatalf("402 log holds %+v, want one credits_exhausted with its message made visible", rs)
		}
	})
}
