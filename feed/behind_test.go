package feed

import (
	"context"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAReReadBehindItsEntriesReadsTheHourBack: a re-read whose counters hold
// more entries after the last one delivered than it reads (maxCatchUp) starts
// the ledger afresh and reads the hour back (SnapshotMsg.Behind), so the
// entries it skipped decide the OUT rule as on a start. o2 used 30 of 100
// credits and was refused (OUT) while a dashboard watched; then, just before
// a resync re-read, a burst of more than maxCatchUp entries was written, among
// them a recharge of o2 and, after it, another credits_exhausted 402 of o2:
// OUT, as a start and check order them. Before (hostile23 #1), the re-read
// carried none of them (UnappliedKnown false) and took the recharge the
// counters show as the newest thing: ok on the dashboard that watched until
// o2's next 402, OUT on a start and in check.
func TestAReReadBehindItsEntriesReadsTheHourBack(t *testing.T) {
	srv := feedtest.StartReal(t, "needs redis-server")
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	allocate(t, c, map[string]int64{"o2": 100, "busy": 1_000_000})
	pub := NewPublisher(c, PublisherOptions{})
	trackAll(t, pub, usage("o2", "", "/responses", 30), refused("o2", "", "/responses", model.CodeCreditsExhausted))
	var reread *SnapshotMsg
	opt := SubscriberOptions{Block: 100 * time.Millisecond}
	opt.snapshotHook = func(reason Reason) {
		if reason != ReasonResync {
			return
		}
		burst := make([]model.Event, 0, 1000)
		for range maxCatchUp/1000 + 1 {
			burst = burst[:0]
			for range 1000 {
				burst = append(burst, usage("busy", "", "/responses", 1))
			}
			if err := pub.TrackBatch(ctx, burst); err != nil {
				t.Error(err)
			}
		}
		if err := pub.Track(ctx, model.Event{Workspace: "o2", Credits: 500, Kind: model.KindRecharge}); err != nil {
			t.Error(err)
		}
		if err := pub.Track(ctx, refused("o2", "", "/responses", model.CodeCreditsExhausted)); err != nil {
			t.Error(err)
		}
	}
	sub := NewSubscriber(c, opt)
	watching := runHour(t, sub, func(m Msg) {
		if s, ok := m.(*SnapshotMsg); ok && s.Reason == ReasonResync {
			reread = s
		}
	})
	level := func(r *hourRun) model.Level {
		v, _ := r.state.Ledger.Verdict("o2")
		return v.Level
	}
	watching.waitFor(t, "the watching ledger holding o2 OUT", func() bool {
		return watching.state.Ledger != nil && !watching.state.Ledger.HistoryPending() && level(watching) == model.LevelExhausted
	})
	sub.Resync()
	watching.waitFor(t, "the re-read with o2's recharge", func() bool {
		s, _ := watching.state.Ledger.Summary("o2")
		return reread != nil && s.Recharged == 500 && !watching.state.Ledger.HistoryPending()
	})
	time.Sleep(500 * time.Millisecond) // the follow applies what came after the re-read (nothing of o2)
	watching.mu.Lock()
	got := level(watching)
	known, behind, fresh := reread.Snap.UnappliedKnown, reread.Behind, reread.Fresh()
	watching.mu.Unlock()

	started := runHour(t, NewSubscriber(c, SubscriberOptions{Block: 100 * time.Millisecond}), nil)
	started.waitFor(t, "a fresh ledger with the hour read back", func() bool {
		return started.state.Ledger != nil && started.done != nil && !started.state.Ledger.HistoryPending()
	})
	started.mu.Lock()
	want := level(started)
	started.mu.Unlock()

	res, err := ReadSnapshot(ctx, c, keys, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	l := model.NewLedger(res.Rule, time.Now())
	l.Seed(res.Snap, time.Now())
	if err := ReadHistory(ctx, c, keys, res.Snap.StreamID, time.Now(), model.History, DefaultHistoryLimit,
		func(evs []model.Event, from time.Time, _ int64, _ bool) bool { l.Backfill(evs, from); return true }); err != nil {
		t.Fatal(err)
	}
	v, _ := l.Verdict("o2")
	if !behind || !fresh {
		t.Errorf("the re-read %d+ entries behind: behind %v fresh %v, want both", maxCatchUp, behind, fresh)
	}
	if got != want || want != model.LevelExhausted || v.Level != model.LevelExhausted {
		t.Errorf("o2 after a re-read %d+ entries behind (unapplied known %v): the dashboard that watched says %v, a fresh start %v, check's judgement %v; want OUT (exhausted) on all three",
			maxCatchUp, known, got, want, v.Level)
	}
}
