package tui

import (
	"testing"

	"mavtop/feed"
	"mavtop/model"
)

// TestAppForgetsTheJobsRedisLost: after a re-read that went back in time
// (SnapshotMsg.Rewound) the estimator's job log and calibration hold only the
// jobs the hour read back for that generation holds, as on a fresh start: not
// the job Redis lost, and not history pages read before the rewind.
func TestAppForgetsTheJobsRedisLost(t *testing.T) {
	m, hub := newApp(t, 100, 30, Options{})
	job := func(id, req string, credits int64) model.Event {
		return model.Event{ID: id, TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/mave/chat", Op: "chat",
			Est: 10, Credits: credits, Status: 200, Req: req}
	}
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{job("100-0", "kept", 8), job("200-0", "lost", 30)}, LastID: "200-0"})
	m = pump(t, m)
	if n := m.jobs.Seen(); n != 2 {
		t.Fatalf("%d jobs before the rewind, want 2", n)
	}
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonRestart, Rewound: true,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "150-0",
			Used: map[string]int64{"acme": 8}, Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}})
	// a page of the start's history, read before the rewind, then this generation's
	hub.Handle(&feed.HistoryMsg{Gen: 1, Events: []model.Event{job("200-0", "lost", 30)}, From: testNow, Done: true})
	hub.Handle(&feed.HistoryMsg{Gen: 2, Events: []model.Event{job("100-0", "kept", 8)}, From: testNow, Done: true})
	m = pump(t, m)
	recent := m.jobs.Recent(nil)
	if m.jobs.Seen() != 1 || len(recent) != 1 || recent[0].Req != "kept" {
		t.Fatalf("after the rewind the job log holds %d jobs %+v, want only the kept one", m.jobs.Seen(), recent)
	}
	cal := m.jobs.Calibration()
	if len(cal) != 1 || cal[0].Count != 1 {
		t.Errorf("calibration after the rewind %+v, want the one kept job", cal)
	}
}

// TestARolloverListsEachJobOnce: a re-read into a new billing period starts a
// fresh ledger whose hour is read back (SnapshotMsg.Fresh), and the job log
// is filled from that hour as at a start: a job the live stream delivered
// and the read-back holds again is listed once, and one written before the
// re-read that the follow never delivered (it resumes from the re-read's
// id) is listed too.
func TestARolloverListsEachJobOnce(t *testing.T) {
	m, hub := newApp(t, 100, 30, Options{})
	job := func(id, req string, credits int64) model.Event {
		return model.Event{ID: id, TS: testNow.UnixMilli(), Workspace: "acme", Endpoint: "/mave/chat", Op: "chat",
			Est: 10, Credits: credits, Status: 200, Req: req}
	}
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: []model.Event{job("100-0", "live", 8)}, LastID: "100-0"})
	m = pump(t, m)
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonRollover, NewPeriod: true,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "300-0",
			Used: map[string]int64{"acme": 8}, Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}})
	hub.Handle(&feed.HistoryMsg{Gen: 2, Events: []model.Event{job("200-0", "unread", 5), job("100-0", "live", 8)}, From: testNow, Done: true})
	m = pump(t, m)
	recent := m.jobs.Recent(nil)
	if m.jobs.Seen() != 2 || len(recent) != 2 {
		t.Fatalf("after the rollover the job log holds %d jobs %+v, want the live one and the unread one, once each", m.jobs.Seen(), recent)
	}
}
