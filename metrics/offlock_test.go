package metrics

import (
	"fmt"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestAScrapeDoesNotHoldUpTheFeed: a scrape walks every workspace (counts by
// level, the bound's ranking) after the ledger changed; it must do that
// outside the hub's lock, or the feed (Hub.Handle: every viewer's events)
// and every join wait for it (~44 ms at 100k workspaces, idle; seconds on a
// loaded machine). The walk is held still by a hook while a batch is handed
// to the hub: the batch must be applied meanwhile, and the scrape must still
// show the ledger as it read it, then the batch at the next scrape.
func TestAScrapeDoesNotHoldUpTheFeed(t *testing.T) {
	now := time.Now()
	h := scaleHub(50, now)
	reg, err := NewRegistry(New(h, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	ws := modeltest.Workspace(7)
	before := counterSum(t, gather(t, reg), "mavtop_credits_used_total", ws)
	h.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{{ID: "1-1", TS: now.UnixMilli(), Workspace: ws, Project: "p0",
		Endpoint: modeltest.Endpoints[0], Credits: 5, Status: 200}}, LastID: "1-1"})

	applied := make(chan bool, 1)
	var more sync.WaitGroup
	walking = func() {
		done := make(chan struct{})
		go func() {
			h.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{{ID: "2-1", TS: now.UnixMilli(), Workspace: ws, Project: "p0",
				Endpoint: modeltest.Endpoints[0], Credits: 100, Status: 200}}, LastID: "2-1"})
			close(done)
		}()
		select {
		case <-done:
			applied <- true
		case <-time.After(10 * time.Second): // not a speed: the batch never goes through while the walk holds the lock
			applied <- false
			return
		}
		// and the feed goes on changing every workspace while the scrape
		// walks its clone (for the race detector: the states are shared)
		more.Go(func() {
			for k := range 200 {
				h.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{modeltest.Event(k, 50, now.UnixMilli())}, LastID: fmt.Sprintf("3-%d", k)})
			}
		})
	}
	t.Cleanup(func() { walking = nil })
	during := counterSum(t, gather(t, reg), "mavtop_credits_used_total", ws)
	walking = nil
	if !<-applied {
		t.Fatal("the hub could not apply a batch while a scrape walked the workspaces: the scrape holds the hub's lock")
	}
	if during != before+5 {
		t.Fatalf("the scrape during the batch shows %v credits for %s, want %v (the ledger as it was read)", during, ws, before+5)
	}
	more.Wait()
	var want float64
	h.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		s, _ := l.Summary(ws)
		want = float64(s.Used)
	})
	if after := counterSum(t, gather(t, reg), "mavtop_credits_used_total", ws); after != want || want < before+105 {
		t.Fatalf("the next scrape shows %v credits for %s, want %v (at least %v)", after, ws, want, before+105)
	}
}

// counterSum is the sum of family name's series labelled workspace=ws.
func counterSum(t *testing.T, fams map[string]*dto.MetricFamily, name, ws string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no %s", name)
	}
	var sum float64
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == "workspace" && l.GetValue() == ws {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
