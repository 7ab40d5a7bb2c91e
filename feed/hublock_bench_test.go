package feed

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// lockProbe takes the hub's lock every millisecond until stop is called
// and returns the longest it waited for it: how long the feed (Hub.Handle),
// a join or a scrape would have waited meanwhile.
func lockProbe(h *Hub) (stop func() time.Duration) {
	quit, done := make(chan struct{}), make(chan time.Duration)
	go func() {
		var longest time.Duration
		for {
			select {
			case <-quit:
				done <- longest
				return
			case <-time.After(time.Millisecond):
			}
			t0 := time.Now()
			h.Read(func(*model.Ledger, *ConnMsg, *StatsMsg) {})
			longest = max(longest, time.Since(t0))
		}
	}()
	return func() time.Duration { close(quit); return <-done }
}

// BenchmarkHubLockHold measures the longest the hub's lock is held (a
// goroutine taking it every ms: feed-wait-max-ms) at 100k workspaces:
//
//   - usedby: the start's used_by read (1.2M fields) handed to a hub with
//     two viewers, until the hub's ledger holds it (fold-ms);
//   - join: a viewer joining (until its copy is made, on its goroutine) after
//     a batch of 10 events, with four viewers joined;
//   - stuck: 200 batches of 10 events to a hub with one reading viewer and
//     five that never read (a queue of 64: each falls behind every ~6
//     batches and is handed a fresh copy).
func BenchmarkHubLockHold(b *testing.B) {
	const n = 100_000
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	seeded := func(usedByLater bool) (*Hub, map[string]int64) {
		snap := modeltest.Snapshot(n, now)
		usedBy := snap.UsedBy
		if usedByLater {
			snap.UsedBy, snap.UsedByLater = nil, true
		}
		h := NewHub()
		h.Handle(&SnapshotMsg{Gen: 1, Snap: snap, Rule: model.MonthlyUTC, At: now})
		return h, usedBy
	}
	batch := func(k int) *BatchMsg {
		m := &BatchMsg{Gen: 1}
		for j := range 10 {
			m.Events = append(m.Events, modeltest.Event(k*10+j, n, now.UnixMilli()+int64(k)))
		}
		m.LastID = fmt.Sprintf("%d-0", k+1)
		return m
	}
	report := func(b *testing.B, longest time.Duration) {
		b.ReportMetric(float64(longest.Microseconds())/1000, "feed-wait-max-ms")
	}
	b.Run(fmt.Sprintf("usedby-%dk", n/1000), func(b *testing.B) {
		var longest, fold time.Duration
		for range b.N {
			b.StopTimer()
			h, usedBy := seeded(true)
			viewers := []*Viewer{h.Join(), h.JoinUnordered()}
			b.StartTimer()
			stop := lockProbe(h)
			t0 := time.Now()
			h.Handle(&UsedByMsg{Gen: 1, UsedBy: usedBy, StreamID: "0-0"})
			for pending := true; pending; {
				h.Read(func(l *model.Ledger, _ *ConnMsg, _ *StatsMsg) { pending = l.UsedByPending() })
				if pending {
					time.Sleep(time.Millisecond)
				}
			}
			fold = max(fold, time.Since(t0))
			longest = max(longest, stop())
			b.StopTimer()
			for _, v := range viewers {
				v.Close()
			}
			b.StartTimer()
		}
		report(b, longest)
		b.ReportMetric(float64(fold.Milliseconds()), "fold-ms")
	})
	b.Run(fmt.Sprintf("join-%dk", n/1000), func(b *testing.B) {
		h, _ := seeded(false)
		var readers sync.WaitGroup
		for range 4 {
			v := h.Join()
			readers.Go(func() {
				for {
					if _, err := v.Next(b.Context()); err != nil {
						return
					}
				}
			})
		}
		var longest time.Duration
		b.ResetTimer()
		for i := range b.N {
			h.Handle(batch(i))
			stop := lockProbe(h)
			v := h.Join()
			if _, err := v.Next(b.Context()); err != nil {
				b.Fatal(err)
			}
			longest = max(longest, stop())
			v.Close()
		}
		report(b, longest)
	})
	b.Run(fmt.Sprintf("stuck-%dk", n/1000), func(b *testing.B) {
		var longest time.Duration
		for range b.N {
			b.StopTimer()
			h, _ := seeded(false)
			h.maxQueue = 64
			reader := h.Join()
			for range 5 {
				h.Join()
			}
			b.StartTimer()
			stop := lockProbe(h)
			for k := range 200 {
				h.Handle(batch(k))
				if _, err := reader.Next(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			longest = max(longest, stop())
		}
		report(b, longest)
	})
}
