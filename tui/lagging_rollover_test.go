package tui

import (
	"fmt"
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/model"
)

// TestALaggingViewerSeesTheRollover: a dashboard (an SSH viewer drawing
// slowly, a loaded machine) more than DefaultViewerQueue messages behind when
// the rollover's re-read comes has its queue replaced by a copy of the hub's
// ledger (feed.LedgerMsg, Resync) and never sees the SnapshotMsg whose
// Fresh() resets the job log, yet it gets the pages of that generation's
// hour read back: it listed their jobs again (a job twice, calibrated
// twice) and never said the new billing period, its old alerts kept
// (hostile23 #4). LedgerMsg.Fresh carries the reset; the period is compared
// with the ledger it replaces. The same viewer drawing in time lists each
// job once too (TestARolloverListsEachJobOnce).
func TestALaggingViewerSeesTheRollover(t *testing.T) {
	for _, lagging := range []bool{false, true} {
		t.Run(fmt.Sprintf("lagging=%v", lagging), func(t *testing.T) {
			m, hub := newApp(t, 100, 30, Options{})
			job := func(id, req string, credits int64) model.Event {
				return model.Event{ID: id, TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/mave/chat", Op: "chat",
					Est: 10, Credits: credits, Status: 200, Req: req}
			}
			hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{job("100-0", "live", 8)}, LastID: "100-0"})
			m = pump(t, m)
			next := model.MonthlyUTC.At(testNow).End // the rollover's re-read, of the next period
			hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: next, Reason: feed.ReasonRollover, NewPeriod: true,
				Snap: &model.Snapshot{Period: model.MonthlyUTC.At(next), StreamID: "300-0",
					Used: map[string]int64{"acme": 8}, Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}})
			if lagging {
				// the viewer has not drawn since: the generation's live batches
				// fill its queue past DefaultViewerQueue
				for i := range feed.DefaultViewerQueue + 10 {
					id := fmt.Sprintf("%d-0", 400+i)
					hub.Handle(&feed.BatchMsg{Gen: 2, Events: []model.Event{{ID: id, TS: testNow.UnixMilli(), Workspace: "acme",
						Endpoint: "/responses", Credits: 0, Status: 200}}, LastID: id})
				}
			}
			hub.Handle(&feed.HistoryMsg{Gen: 2, Events: []model.Event{job("200-0", "unread", 5), job("100-0", "live", 8)}, From: testNow, Done: true})
			m = pump(t, m)
			recent := m.jobs.Recent(nil)
			if m.jobs.Seen() != 2 || len(recent) != 2 {
				t.Errorf("after the rollover the job log holds %d jobs %+v, want the live one and the unread one, once each", m.jobs.Seen(), recent)
			}
			// the alerts pane: the old period's rows go and the new period is said
			// (handleFeed's newPeriod case), by the SnapshotMsg alone
			if v := view(m); !strings.Contains(v, "new billing period") {
				t.Errorf("after the rollover the screen does not say the new billing period (the old period's alerts stay):\n%s", v)
			}
		})
	}
}
