package feed

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestARechargeBehindTheStreamIsNoUnappliedEntry: the OUT rule's timing
// window (issue 11). o1 and o2 used 30 of 100 credits and were refused with
// credits_exhausted while a dashboard watched. Then, while its subscriber
// was about to re-read the counters (a resync here; a gap, a reconnect
// alike) and after the last entry it delivered, a producer wrote an entry
// (so the re-read is ahead of what the dashboard applied), o1 was recharged
// by a raw HINCRBY of its counter (no entry: a credit with no date) and o2
// by a recharge entry. The watching dashboard took o1's credit for one of
// the entries it never applied, dated, and said ok, while a dashboard
// started afterwards and check's judgement (the counters, then the history
// read back) said OUT. Now the re-read carries those entries
// (model.Snapshot.Unapplied) and the ledger applies them to the OUT rule:
// o1 is OUT, o2 ok, on all three.
func TestARechargeBehindTheStreamIsNoUnappliedEntry(t *testing.T) {
	srv := feedtest.StartReal(t, "the OUT rule's re-read window needs redis-server (CI requires it)")
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	period := model.MonthlyUTC.At(time.Now()).Key
	allocate(t, c, map[string]int64{"o1": 100, "o2": 100})
	pub := NewPublisher(c, PublisherOptions{})
	for _, ws := range []string{"o1", "o2"} {
		trackAll(t, pub, usage(ws, "", "/responses", 30), refused(ws, "", "/responses", model.CodeCreditsExhausted))
	}
	var sub *Subscriber
	var reread *SnapshotMsg
	opt := SubscriberOptions{Block: 100 * time.Millisecond}
	opt.snapshotHook = func(reason Reason) {
		if reason != ReasonResync {
			return
		}
		// (on the subscriber's goroutine: errors are reported, not fatal)
		if err := pub.Track(ctx, usage("busy", "", "/responses", 1)); err != nil {
			t.Error(err)
		}
		if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HIncrBy(ctx, keys.Recharged(period), "o1", 500)
			p.HIncrBy(ctx, keys.Digest(period), DigestRechargedField("o1"), 500)
			return nil
		}); err != nil {
			t.Error(err)
		}
		if err := pub.Track(ctx, model.Event{Workspace: "o2", Credits: 500, Kind: model.KindRecharge}); err != nil {
			t.Error(err)
		}
	}
	sub = NewSubscriber(c, opt)
	watching := runHour(t, sub, func(m Msg) {
		if s, ok := m.(*SnapshotMsg); ok && s.Reason == ReasonResync {
			reread = s
		}
	})
	levels := func(r *hourRun) map[string]model.Level {
		out := map[string]model.Level{}
		for _, ws := range []string{"o1", "o2"} {
			if v, ok := r.state.Ledger.Verdict(ws); ok {
				out[ws] = v.Level
			}
		}
		return out
	}
	watching.waitFor(t, "the watching ledger holding both OUT", func() bool {
		if watching.state.Ledger == nil || watching.state.Ledger.HistoryPending() {
			return false
		}
		lv := levels(watching)
		return lv["o1"] == model.LevelExhausted && lv["o2"] == model.LevelExhausted
	})
	sub.Resync()
	watching.waitFor(t, "the re-read with both credits", func() bool {
		s1, _ := watching.state.Ledger.Summary("o1")
		s2, _ := watching.state.Ledger.Summary("o2")
		return reread != nil && s1.Recharged == 500 && s2.Recharged == 500
	})
	watching.mu.Lock()
	if !reread.Snap.UnappliedKnown || len(reread.Snap.Unapplied) < 2 {
		t.Errorf("the re-read carries %d entries the ledger never applied (known %v), want the 2 written before it: the window was not opened",
			len(reread.Snap.Unapplied), reread.Snap.UnappliedKnown)
	}
	want := map[string]model.Level{"o1": model.LevelExhausted, "o2": model.LevelOK}
	for ws, lv := range levels(watching) {
		if lv != want[ws] {
			t.Errorf("%s: the dashboard that watched says %v after the re-read, want %v", ws, lv, want[ws])
		}
	}
	watching.mu.Unlock()

	fresh := runHour(t, NewSubscriber(c, SubscriberOptions{Block: 100 * time.Millisecond}), nil)
	fresh.waitFor(t, "a fresh ledger with the hour read back", func() bool {
		return fresh.state.Ledger != nil && fresh.done != nil && !fresh.state.Ledger.HistoryPending()
	})
	fresh.mu.Lock()
	for ws, lv := range levels(fresh) {
		if lv != want[ws] {
			t.Errorf("%s: a dashboard started afterwards says %v, want %v", ws, lv, want[ws])
		}
	}
	fresh.mu.Unlock()

	// check's judgement: the counters, then the history ordering what they
	// cannot (cmd's judgedLedger)
	res, err := ReadSnapshot(ctx, c, keys, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	l := model.NewLedger(res.Rule, time.Now())
	l.Seed(res.Snap, time.Now())
	undecided := model.RefusalUndecided(res.Snap)
	if err := ReadHistory(ctx, c, keys, res.Snap.StreamID, time.Now(), model.History, DefaultHistoryLimit,
		func(evs []model.Event, from time.Time, _ int64, _ bool) bool {
			l.Backfill(evs, from)
			for ws := range undecided {
				if l.RefusalDecided(ws) {
					delete(undecided, ws)
				}
			}
			return len(undecided) > 0
		}); err != nil {
		t.Fatal(err)
	}
	for ws, lv := range want {
		if v, _ := l.Verdict(ws); v.Level != lv {
			t.Errorf("%s: check's judgement %v, want %v", ws, v.Level, lv)
		}
	}
}
