package feed

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// stateRun is a LedgerState fed by a subscriber, as the dashboard, watch and
// /metrics keep one: the ledger survives a drift heal (it is re-seeded, not
// replaced), which is where a refusal the counters never held stayed.
type stateRun struct {
	mu    sync.Mutex
	st    LedgerState
	snaps []Reason
}

func startState(t *testing.T, c redis.UniversalClient, opt SubscriberOptions) *stateRun {
	t.Helper()
	r := &stateRun{}
	if opt.Backoff == nil {
		opt.Backoff = &Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
	}
	if opt.Block == 0 {
		opt.Block = 200 * time.Millisecond
	}
	runState(t, c, opt, &r.mu, &r.st, func(m Msg) {
		if s, ok := m.(*SnapshotMsg); ok {
			r.snaps = append(r.snaps, s.Reason)
		}
	})
	return r
}

// waitState polls cond under the lock until it holds, or fails after timeout.
func (r *stateRun) wait(t *testing.T, what string, timeout time.Duration, cond func(l *model.Ledger) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		ok := r.st.Ledger != nil && cond(r.st.Ledger)
		snaps := append([]Reason(nil), r.snaps...)
		r.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (snapshots %v)", timeout, what, snaps)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// judged is one workspace as every surface judges it: the ledger's summary
// (dashboard, /metrics' level and exhausted), its credits_exhausted refusal
// alert (watch, the alerts pane) and check's judgement of the counters.
type judged struct {
	level     model.Level
	blocked   bool
	used      int64
	exhausted model.AlertCondition // of the credits_exhausted refusal alert (0: none)
}

func judgeLedger(l *model.Ledger, ws string) judged {
	s, _ := l.Summary(ws)
	j := judged{level: s.Level, blocked: s.Blocked, used: s.Used}
	for _, a := range model.EvaluateAlerts(l, time.Now(), model.FeedHealth{Connected: true}, model.AlertOptions{}, nil) {
		if a.Workspace == ws && a.Kind == model.AlertRefusals && a.Code == model.CodeCreditsExhausted {
			j.exhausted = a.Condition
		}
	}
	return j
}

// TestARefusalTheCountersNeverHeldIsNotOut is hunt11's first defect: an entry
// repeats status (200, then 402, code credits_exhausted) inside the
// producer's MULTI, so the counters record a 200. The audit re-reads the
// counters (drift), and from then on the workspace is judged by them: not
// OUT, not exhausted, no credits_exhausted alert holding — on the ledger
// that applied the entry and on one started afterwards, which reads the
// entry back with the hour's history. Before the fix both stayed OUT for good.
// The class: the code repeated (budget_exceeded, then credits_exhausted) and
// the project repeated (the counters charge another project) too.
func TestARefusalTheCountersNeverHeldIsNotOut(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []any // the entry after v, ts, ws, endpoint, credits
		incr   func(p redis.Pipeliner, ctx context.Context, keys Keys, period string)
	}{
		{"status 200 then 402", []any{"status", "200", "code", "credits_exhausted", "status", "402"}, nil},
		{"code repeated", []any{"status", "402", "code", "budget_exceeded", "code", "credits_exhausted"},
			func(p redis.Pipeliner, ctx context.Context, keys Keys, period string) {
				p.HIncrBy(ctx, keys.Refused(period), model.RefusedField("plain", "", "budget_exceeded"), 1)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := feedtest.Start(t)
			c := srv.Client()
			ctx := context.Background()
			keys := Keys{}
			now := time.Now()
			rule := midPeriod(t, c)
			period := rule.At(now).Key
			allocate(t, c, map[string]int64{"plain": 1000})
			pub := NewPublisher(c, PublisherOptions{})
			trackAll(t, pub, usage("plain", "", "/responses", 118))

			live := startState(t, c, SubscriberOptions{AuditEvery: 300 * time.Millisecond, Now: time.Now})
			live.wait(t, "the start", 20*time.Second, func(l *model.Ledger) bool {
				return !l.HistoryPending() && !l.UsedByPending()
			})
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HIncrBy(ctx, keys.Used(period), "plain", 3)
				p.HIncrBy(ctx, keys.UsedBy(period), model.UsedByField("plain", "", "/responses"), 3)
				if tc.incr != nil {
					tc.incr(p, ctx, keys, period)
				}
				p.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), Values: append([]any{
					"v", "1", "ts", ts, "ws", "plain", "endpoint", "/responses", "credits", "3"}, tc.fields...)})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			live.wait(t, "the disagreeing entry read and the drift healed", 30*time.Second, func(l *model.Ledger) bool {
				return l.Uncounted() == 1 && len(live.snaps) > 1
			})
			// a few more audits: nothing is left to heal, the judgement stays
			time.Sleep(time.Second)
			live.mu.Lock()
			got := judgeLedger(live.st.Ledger, "plain")
			live.mu.Unlock()
			res, err := ReadWorkspaceSnapshot(ctx, c, keys, time.Now(), rule)
			if err != nil {
				t.Fatal(err)
			}
			var check model.Level
			model.JudgeSnapshot(res.Snap, nil, nil, func(j *model.Judged) {
				if j.Name == "plain" {
					check = j.Status.Level
				}
			})
			if got.used != 121 || got.blocked || got.level != check || got.exhausted == model.ConditionHolds {
				t.Errorf("after the drift heal: %+v, check's level %v; want used 121, not blocked, check's level, no credits_exhausted holding (snapshots %v)",
					got, check, live.snaps)
			}

			// a dashboard or watch started afterwards reads the entry back
			later := startState(t, c, SubscriberOptions{AuditEvery: 300 * time.Millisecond, Now: time.Now})
			later.wait(t, "the later start and its history", 20*time.Second, func(l *model.Ledger) bool {
				return !l.HistoryPending() && !l.UsedByPending() && len(l.Refusals(nil, 10)) == 1
			})
			later.mu.Lock()
			got = judgeLedger(later.st.Ledger, "plain")
			later.mu.Unlock()
			if got.used != 121 || got.blocked || got.level != check || got.exhausted == model.ConditionHolds {
				t.Errorf("started afterwards: %+v, check's level %v; want used 121, not blocked, check's level, no credits_exhausted holding", got, check)
			}
		})
	}
}
