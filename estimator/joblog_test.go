package estimator

import (
	"fmt"
	"testing"
	"time"

	"mavtop/model"
)

func launch(id int, op string, est, actual int64, status int) model.Event {
	return model.Event{ID: fmt.Sprintf("%d-0", id), TS: int64(id) * 1000, Workspace: "acme", Endpoint: "/x",
		Op: op, Est: est, Credits: actual, Status: status}
}

// TestJobLogTakesLiveAndPastOnce: live entries in stream order, then the last
// hour read back newest first in pages (overlapping each other): every launch
// counts once, the list keeps the newest, and the calibration holds only the
// paid jobs with an estimate.
func TestJobLogTakesLiveAndPastOnce(t *testing.T) {
	l := NewJobLog(3)
	live := []model.Event{launch(100, "focus-group", 85, 97, 200), launch(101, "chat", 5, 4, 200),
		launch(102, "focus-group", 85, 0, 402), {ID: "103-0", Workspace: "acme", Endpoint: "/x", Credits: 7, Status: 200}}
	for i := range live {
		l.Add(&live[i])
	}
	l.Add(&live[1]) // a batch delivered twice
	past := []model.Event{launch(90, "focus-group", 85, 81, 200), launch(80, "chat", 5, 6, 200)}
	for i := range past {
		l.AddPast(&past[i])
	}
	l.AddPast(&past[0]) // the next page starts where the last ended
	if l.Seen() != 5 {
		t.Fatalf("seen %d, want 5 launches", l.Seen())
	}
	var ids []string
	for _, r := range l.Recent(nil) {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[102-0 101-0 100-0]" {
		t.Fatalf("recent %v", ids)
	}
	rows := l.Calibration()
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	fg, chat := rows[0], rows[1]
	if fg.Op != FocusGroup {
		fg, chat = chat, fg
	}
	// focus groups: 97/85 and 81/85 (the 402 costs nothing and is left out)
	if fg.Count != 2 || fg.Estimated != 170 || fg.Actual != 178 || fg.Above != 1 || fg.AboveShare != 0.5 {
		t.Errorf("focus-group %+v", fg)
	}
	if chat.Count != 2 || chat.Estimated != 10 || chat.Actual != 10 || chat.Above != 1 || chat.MaxRatio != 1.2 {
		t.Errorf("chat %+v", chat)
	}
	if r, ok := JobFromEvent(&live[2]); !ok || !r.Refused() || r.At != time.UnixMilli(102_000) {
		t.Errorf("refusal %+v", r)
	}
}

// TestWaitingState is the one rule the queue's poller and the pane follow.
func TestWaitingState(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	w := Waiting{Required: 16_581, LastTriedRemaining: 12_002}
	for _, tt := range []struct {
		w         Waiting
		remaining int64
		known     bool
		due       bool
		reason    string
	}{
		{w, 12_002, true, false, "waiting: needs 16,581, 12,002 left"},
		{Waiting{Required: 100, LastTriedRemaining: 500}, 400, true, false, "waiting: refused at 500 left, tried again once credits rise above it"},
		{Waiting{Required: 100, LastTriedRemaining: 500}, 501, true, true, "due: 501 left covers 100, tried at the next poll"},
		{w, 20_000, false, false, "waiting: no allocation set, so no balance to wait for"},
		{Waiting{Required: 100, Leased: true, LeaseUntil: now.Add(time.Minute)}, 1000, true, false, "running: a mavtop is trying it now"},
		{Waiting{Required: 100, Leased: true, LeaseUntil: now.Add(-time.Minute)}, 1000, true, true, "due: 1,000 left covers 100, tried at the next poll"},
		{Waiting{Required: 100, NotBefore: now.Add(45 * time.Second), LastError: "503 unavailable"}, 1000, true, false, "failed: 503 unavailable; next try in 45 s"},
	} {
		got := tt.w.State(tt.remaining, tt.known, now)
		if got.Due != tt.due || got.Reason != tt.reason {
			t.Errorf("%+v at %d: %+v, want %v %q", tt.w, tt.remaining, got, tt.due, tt.reason)
		}
	}
}

// TestAJobIsDatedByTheTrustedTime (issue 11): the job log's time is when the
// launch ended as mavtop can tell (model.Event.At), not a producer's ts that
// is hours off: a launch Redis took at 12:00:00 whose tracker's clock ran
// 3 h ahead (or behind, or wrote ts 0) is listed at 12:00:00.
func TestAJobIsDatedByTheTrustedTime(t *testing.T) {
	redis := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, ts := range []int64{redis.Add(3 * time.Hour).UnixMilli(), redis.Add(-3 * time.Hour).UnixMilli(), 0} {
		e := launch(1, "chat", 5, 4, 200)
		e.ID, e.TS = fmt.Sprintf("%d-0", redis.UnixMilli()), ts
		if r, ok := JobFromEvent(&e); !ok || !r.At.Equal(redis) {
			t.Errorf("ts %v: the job is at %v, want the stream id's time %v", time.UnixMilli(ts).UTC(), r.At.UTC(), redis)
		}
	}
}
