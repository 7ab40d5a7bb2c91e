package feed

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// writeHour writes the hour the start tests read back: 5 credits of dry's
// web project 40 minutes ago and a credits_exhausted 402 ("dry-402") 30
// minutes ago.
func writeHour(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	midPeriod(t, rdb) // the last hour inside the period at any hour CI runs
	now := time.Now()
	pub := NewPublisher(rdb, PublisherOptions{Now: func() time.Time { return now }})
	at := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	if err := pub.TrackBatch(context.Background(), []model.Event{
		{TS: at(40 * time.Minute), Workspace: "dry", Project: "web", Endpoint: "/responses", Credits: 5, Status: 200},
		{TS: at(30 * time.Minute), Workspace: "dry", Endpoint: "/mave/chat", Status: 402, Code: model.CodeCreditsExhausted, Req: "dry-402"},
	}); err != nil {
		t.Fatal(err)
	}
}

// hourRun is a subscriber followed from its start into the dashboard's
// LedgerState, with what the start tests assert: its re-reads, the last page
// of the hour read back, the last stats and every message in order (for the
// failure messages: which path a run took).
type hourRun struct {
	mu    sync.Mutex
	state LedgerState
	snaps []Reason
	done  *HistoryMsg
	stats StatsMsg
	log   []string
	t0    time.Time
}

// runHour runs sub until the test ends; see, when not nil, looks at each
// message (under r.mu) before the state applies it.
func runHour(t *testing.T, sub *Subscriber, see func(Msg)) *hourRun {
	r := &hourRun{}
	r.run(t, sub, see)
	return r
}

// run is runHour into r, which a hook of sub may read (under r.mu) at once.
func (r *hourRun) run(t *testing.T, sub *Subscriber, see func(Msg)) {
	r.t0 = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = sub.Run(ctx, func(m Msg) {
			r.mu.Lock()
			defer r.mu.Unlock()
			at := time.Since(r.t0).Round(time.Millisecond)
			switch m := m.(type) {
			case *SnapshotMsg:
				r.snaps = append(r.snaps, m.Reason)
				r.log = append(r.log, fmt.Sprintf("%v snapshot %s", at, m.Reason))
			case *HistoryMsg:
				if m.Done {
					r.done = m
					r.log = append(r.log, fmt.Sprintf("%v history read back: %d entries, err %v", at, m.Read, m.Err))
				}
			case *ConnMsg:
				r.log = append(r.log, fmt.Sprintf("%v %s %v", at, m.State, m.Err))
			case *UsedByMsg:
				r.log = append(r.log, fmt.Sprintf("%v used_by read", at))
			case *StatsMsg:
				r.stats = *m
			}
			if see != nil {
				see(m)
			}
			r.state.Apply(m)
		})
	}()
	t.Cleanup(func() { cancel(); <-stopped })
}

// waitFor waits (30 s at most) until ok holds, called under r.mu.
func (r *hourRun) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		done := ok()
		r.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("waited 30 s for %s; snapshots %v, restarts %d:\n%s", what, r.snaps, r.stats.Restarts, strings.Join(r.log, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// projectsIn reports (under r.mu) whether the ledger holds the project
// credits: a re-read named a restart reads the hour back at once, even when
// it leaves used_by for later (a start read again), so the hour's last page
// may come before them.
func (r *hourRun) projectsIn() bool {
	return r.state.Ledger != nil && !r.state.Ledger.UsedByPending()
}

// checkHour asserts (under r.mu) that the hour came back whole (2 entries, the
// 402 in the log) and the ledger equals what Redis holds.
func (r *hourRun) checkHour(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	// writeHour's two events and the billing-period rule's settings entry
	if r.done.Err != nil || r.done.Read != 3 {
		t.Errorf("last history page: read %d, err %v; want 3 entries", r.done.Read, r.done.Err)
	}
	var reqs []string
	for _, e := range r.state.Ledger.Refusals(nil, model.DefaultRefusalLog) {
		reqs = append(reqs, e.Event.Req)
	}
	if len(reqs) != 1 || reqs[0] != "dry-402" {
		t.Errorf("402 log after the history: %v, want [dry-402]", reqs)
	}
	if got, want := countersOf(r.state.Ledger.Totals()), redisCounters(t, rdb, time.Now()); !got.equal(want) {
		t.Errorf("ledger totals differ from what Redis holds:\n got %v\nwant %v", got, want)
	}
}

// TestStartReadsHistoryWhenRedisRestartsDuringUsedBy: Redis going away
// between the start snapshot and its used_by read (a restart, the data kept)
// makes the next snapshot a restart; the last hour is still read back, so the
// 402 of half an hour ago is in the log. The used_by read either fails while
// the server is down or, as go-redis redials and retries inside the
// pipeline, completes against the server that came back: both must end in
// the restart's re-read (before, the start read no run id, so the second
// path resumed unnoticed: [start] and no restart, 1 run in 4 to 8).
func TestStartReadsHistoryWhenRedisRestartsDuringUsedBy(t *testing.T) {
	srv := feedtest.StartReal(t, "a server going away needs redis-server (CI requires it)")
	rdb := srv.Client()
	writeHour(t, rdb)
	killed, restarting := false, false
	restarted := make(chan struct{}) // closed once Restart has returned
	sub := NewSubscriber(rdb, SubscriberOptions{Block: 100 * time.Millisecond, StatsEvery: 10 * time.Millisecond})
	r := runHour(t, sub, func(m Msg) {
		switch m := m.(type) {
		case *SnapshotMsg:
			if !killed {
				killed = true
				srv.Kill() // before the used_by read that follows this message
			}
		case *ConnMsg:
			if m.State == Reconnecting && killed && !restarting {
				restarting = true
				go func() { // once the subscriber has given the read up
					srv.Restart()
					close(restarted)
				}()
			}
		}
	})
	r.waitFor(t, "the restart re-read and the hour read back", func() bool {
		return len(r.snaps) >= 2 && r.done != nil && r.stats.Restarts >= 1 && r.projectsIn()
	})
	<-restarted // the test must not end while Restart still runs
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.snaps) != 2 || r.snaps[1] != ReasonRestart || r.stats.Restarts != 1 {
		t.Errorf("snapshots %v, restarts %d; want [start restart], 1:\n%s", r.snaps, r.stats.Restarts, strings.Join(r.log, "\n"))
	}
	r.checkHour(t, rdb)
}

// TestARestartDuringTheStartsReadsIsSeen: a server that restarts during the
// start's reads, the data kept, while go-redis redials inside each read so no
// read fails and nothing says "reconnecting". Only the run id tells.
//   - just before the used_by read: used_by and the start snapshot are two
//     servers' reads, so the generation is read again and named a restart;
//   - just after it, as the hour is read back: the pages may come from both
//     servers, so the restart is counted once (the history's last page asks
//     the run id and the audit compares it) and needs no re-read, the
//     counters being the same.
//
// Before, the start read no run id: used_by was joined to the old snapshot,
// no restart was ever counted (snapshots [start], restarts 0), and the
// audits took the new server's run id as the first one.
func TestARestartDuringTheStartsReadsIsSeen(t *testing.T) {
	for _, tc := range []struct {
		stage string
		snaps []Reason
	}{
		{"before", []Reason{ReasonStart, ReasonRestart}},
		{"after", []Reason{ReasonStart}},
	} {
		t.Run(tc.stage+" the used_by read", func(t *testing.T) {
			srv := feedtest.StartReal(t, "a server restarting needs redis-server (CI requires it)")
			rdb := srv.Client()
			writeHour(t, rdb)
			opt := SubscriberOptions{Block: 100 * time.Millisecond, StatsEvery: 10 * time.Millisecond}
			var once sync.Once
			opt.usedByHook = func(stage string) {
				if stage == tc.stage {
					once.Do(srv.Restart)
				}
			}
			r := runHour(t, NewSubscriber(rdb, opt), nil)
			r.waitFor(t, "the restart counted and the hour read back", func() bool {
				return len(r.snaps) >= len(tc.snaps) && r.done != nil && r.stats.Restarts >= 1 && r.projectsIn()
			})
			r.mu.Lock()
			defer r.mu.Unlock()
			if !slices.Equal(r.snaps, tc.snaps) || r.stats.Restarts != 1 {
				t.Errorf("snapshots %v, restarts %d; want %v, 1:\n%s", r.snaps, r.stats.Restarts, tc.snaps, strings.Join(r.log, "\n"))
			}
			r.checkHour(t, rdb)
		})
	}
}
