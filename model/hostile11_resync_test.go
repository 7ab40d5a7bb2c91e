package model_test

import (
	"maps"
	"testing"
	"time"

	"mavtop/model"
)

// TestASecondDriftIsRaisedWhenTheStoreKeepsTheResolution (hostile11, issue
// 11): TestDifferentRereadsWithinAMinuteAreEachRaised keeps the firing
// record's Alert when it stores a resolution; the real store (mavtop alerts
// --json, real redis-server) keeps the resolution's Alert, whose ResyncAt is
// the new re-read's. Then otherReread compares the new re-read with itself
// and the next episode never fires: `mavtop watch` on a redis-server, HINCRBY
// {mavera}:used:<period> beta 5, 6 s later HINCRBY … 7: the alerts list shows
// counters_resync/drift resolved "superseded by a new re-read … +7 credits"
// and nothing firing, for good (mavtop_alerts_firing 0).
func TestASecondDriftIsRaisedWhenTheStoreKeepsTheResolution(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, t0)
	p := l.Period().Key
	id := model.AlertID(p, "", "", model.AlertResync, "drift")
	known := map[string]model.AlertRecord{}
	ev := model.NewAlertEvaluator(model.AlertOptions{})
	h := model.FeedHealth{Connected: true, Since: t0}
	note := func(fig string) string {
		return "the counters and the stream disagreed: counters re-read, " + fig + " credits"
	}
	firing := map[string]string{}
	judge := func(at time.Duration) {
		now := t0.Add(at)
		for _, tr := range ev.Transitions(l, now, h, model.AlertRecords{Known: maps.Clone(known)}, nil) {
			r := known[tr.Alert.ID]
			switch tr.Status {
			case model.AlertFiring:
				r = model.AlertRecord{Alert: tr.Alert, Status: model.AlertFiring, FiredAt: now, FiredStream: tr.Stream}
				firing[tr.Alert.ID] = tr.Summary(p)
			case model.AlertResolved:
				// as the store keeps it: the resolution's alert (its ResyncAt, Next)
				r.Alert = tr.Alert
				r.Status, r.ResolvedAt, r.ResolvedStream = model.AlertResolved, now, tr.Stream
				delete(firing, tr.Alert.ID)
			}
			known[tr.Alert.ID] = r
		}
	}
	h.Resyncs = []model.Resync{{Reason: "drift", Note: note("+5"), At: t0}}
	judge(time.Second)
	h.Resyncs = []model.Resync{{Reason: "drift", Note: note("+7"), At: t0.Add(6 * time.Second)}}
	for s := 7; s <= 40; s++ {
		judge(time.Duration(s) * time.Second)
	}
	if len(firing) != 1 {
		t.Fatalf("after a drift of +5 then one of +7 six seconds later: %d resync alerts firing (%v), want 1 saying +7 (known: %v)", len(firing), firing, keys(known))
	}
	for _, s := range firing {
		if s != note("+7") {
			t.Errorf("firing says %q, want %q", s, note("+7"))
		}
	}
	_ = id
}

func keys(m map[string]model.AlertRecord) []string {
	var out []string
	for k, r := range m {
		out = append(out, k+"="+string(r.Status))
	}
	return out
}
