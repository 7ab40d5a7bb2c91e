package cmd

import (
	"fmt"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
)

// The dashboard polls the lifecycle every second: an unchanged poll converts
// nothing and answers the same Version (the pane skips it); a changed record
// is converted again, alone, and shows in that same poll.
func TestLifecyclePollConvertsWhatChanged(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	entries := make([]notify.Entry, 100)
	for i := range entries {
		entries[i] = notify.Entry{Rev: uint64(i + 1), StoredAlert: feed.StoredAlert{AlertRecord: model.AlertRecord{
			Alert: model.Alert{ID: fmt.Sprintf("2026-11/ws%03d/-/threshold/50", i)}, Status: model.AlertFiring,
			FiredAt: at.Add(-time.Duration(i) * time.Minute)}}}
	}
	gen, copies := uint64(1), 0
	p := &lifecyclePoll{rows: map[string]polledRow{}, since: func(g uint64) ([]notify.Entry, []model.ForecastScore, uint64) {
		if g == gen {
			return nil, nil, g
		}
		copies++
		return entries, nil, gen
	}}
	l1 := p.poll()
	if len(l1.Entries) != 100 || p.converted != 100 || l1.Version != 1 {
		t.Fatalf("first poll: %d entries, %d converted, version %d", len(l1.Entries), p.converted, l1.Version)
	}
	for range 3 {
		if l := p.poll(); l.Version != 1 || len(l.Entries) != 100 {
			t.Fatalf("unchanged poll: version %d, %d entries", l.Version, len(l.Entries))
		}
	}
	if p.converted != 100 || copies != 1 {
		t.Errorf("three unchanged polls: %d converted, %d copies; want 100 and 1 (nothing again)", p.converted, copies)
	}

	// ws007's alert resolves; ws099's leaves the period's list
	changed := make([]notify.Entry, 0, 99)
	for i, e := range entries[:99] {
		if i == 7 {
			e.Rev, e.Status, e.ResolvedAt = 1000, model.AlertResolved, at.Add(time.Minute)
			changed = append([]notify.Entry{e}, changed...)
			continue
		}
		changed = append(changed, e)
	}
	entries, gen = changed, 2
	l2 := p.poll()
	if l2.Version != 2 || len(l2.Entries) != 99 {
		t.Fatalf("changed poll: version %d, %d entries; want 2 and 99", l2.Version, len(l2.Entries))
	}
	if e := l2.Entries[0]; e.ID != "2026-11/ws007/-/threshold/50" || e.Status != model.AlertResolved || !e.At.Equal(at.Add(time.Minute)) {
		t.Errorf("newest row %s %s at %v, want ws007 resolved at %v", e.ID, e.Status, e.At, at.Add(time.Minute))
	}
	if p.converted != 101 {
		t.Errorf("%d converted after one record changed, want 101 (the changed one alone again)", p.converted)
	}
	if len(p.rows) != 99 {
		t.Errorf("%d rows kept, want 99 (the one gone from the list dropped)", len(p.rows))
	}
}

// A large lifecycle is taken at most once in pace times what taking it cost
// (TestLifecyclePollConvertsWhatChanged's polls are unpaced): a poll right
// after a costly one answers the last lifecycle without asking the watcher,
// and a poll once the pause is over takes the change.
func TestLifecyclePollPacesALargeLifecycle(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	entries := make([]notify.Entry, pacedFrom)
	for i := range entries {
		entries[i] = notify.Entry{Rev: uint64(i + 1), StoredAlert: feed.StoredAlert{AlertRecord: model.AlertRecord{
			Alert: model.Alert{ID: fmt.Sprintf("2026-11/ws%05d/-/threshold/50", i)}, Status: model.AlertFiring,
			FiredAt: at.Add(-time.Duration(i) * time.Second)}}}
	}
	gen, asked := uint64(1), 0
	cost := 100 * time.Millisecond // a pause of 1 s: no stall between two polls outlasts it
	p := &lifecyclePoll{rows: map[string]polledRow{}, pace: 10, since: func(g uint64) ([]notify.Entry, []model.ForecastScore, uint64) {
		asked++
		if g == gen {
			return nil, nil, g
		}
		time.Sleep(cost) // what a build of ~44k records costs, scaled down
		return entries, nil, gen
	}}
	if l := p.poll(); l.Version != 1 || len(l.Entries) != pacedFrom {
		t.Fatalf("first poll: version %d, %d entries", l.Version, len(l.Entries))
	}
	gen = 2
	if l := p.poll(); l.Version != 1 || asked != 1 {
		t.Fatalf("a poll within the pause: version %d, the watcher asked %d times; want the last lifecycle (1) and 1", l.Version, asked)
	}
	time.Sleep(time.Until(p.next) + time.Millisecond)
	if l := p.poll(); l.Version != 2 || asked != 2 {
		t.Fatalf("a poll after the pause: version %d, the watcher asked %d times; want 2 and 2", l.Version, asked)
	}

	// a small lifecycle is never paced: each poll asks
	small := &lifecyclePoll{rows: map[string]polledRow{}, pace: 10, since: func(g uint64) ([]notify.Entry, []model.ForecastScore, uint64) {
		time.Sleep(cost)
		return entries[:10], nil, g + 1
	}}
	for i := range 3 {
		if l := small.poll(); l.Version != uint64(i+1) {
			t.Fatalf("small lifecycle, poll %d: version %d; want %d (unpaced)", i, l.Version, i+1)
		}
	}
}
