package model_test

import (
	"maps"
	"testing"
	"time"

	"mavtop/model"
)

// TestAResyncFiresThenResolvesAfterItsHold: a re-read of the counters of a
// reason raised as an alert (model.ResyncReasons) holds its AlertResync for
// ResyncHold, with the dashboard's note as its sentence, then ends; one
// that no re-read of its reason was made is ended (a fresh instance fires
// nothing). The incremental evaluator the watcher uses judges the same as
// EvaluateAlerts and the transitions are one firing, then one resolution.
func TestAResyncFiresThenResolvesAfterItsHold(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, t0)
	p := l.Period().Key
	note := "Redis restarted: counters re-read, −2,927 credits"
	h := model.FeedHealth{Connected: true, Since: t0, Resyncs: []model.Resync{{Reason: "restart", Note: note, At: t0}}}
	id := model.AlertID(p, "", "", model.AlertResync, "restart")
	ev := model.NewAlertEvaluator(model.AlertOptions{})
	known := map[string]model.AlertRecord{}
	step := func(now time.Time, want model.AlertCondition, wantStatus model.AlertStatus) {
		t.Helper()
		var got *model.Alert
		all := model.EvaluateAlerts(l, now, h, model.AlertOptions{}, nil)
		for i := range all {
			if all[i].Kind == model.AlertResync && all[i].Reason != "restart" && all[i].Condition != model.ConditionEnded {
				t.Errorf("%s at %v: %v, want ended (no re-read of it)", all[i].ID, now, all[i].Condition)
			}
			if all[i].ID == id {
				got = &all[i]
			}
		}
		if got == nil || got.Condition != want || got.Note != note {
			t.Fatalf("at %v: %+v, want %s %v with the note", now, got, id, want)
		}
		trs := ev.Transitions(l, now, h, model.AlertRecords{Known: maps.Clone(known)}, nil)
		if wantStatus == "" {
			if len(trs) != 0 {
				t.Errorf("at %v: %+v, want none", now, trs)
			}
			return
		}
		if len(trs) != 1 || trs[0].Alert.ID != id || trs[0].Status != wantStatus {
			t.Fatalf("at %v: %+v, want %s %s", now, trs, id, wantStatus)
		}
		tr := trs[0]
		summary := tr.Summary(p)
		switch wantStatus {
		case model.AlertFiring:
			if summary != note {
				t.Errorf("firing says %q, want %q", summary, note)
			}
			known[id] = model.AlertRecord{Alert: tr.Alert, Status: model.AlertFiring, FiredAt: now, FiredStream: tr.Stream}
		case model.AlertResolved:
			if want := "what mavtop shows has matched the counters for 5 min since: " + note; summary != want {
				t.Errorf("resolved says %q, want %q", summary, want)
			}
			r := known[id]
			r.Status, r.ResolvedAt = model.AlertResolved, now
			known[id] = r
		}
	}
	step(t0, model.ConditionHolds, model.AlertFiring)
	step(t0.Add(time.Minute), model.ConditionHolds, "")
	step(t0.Add(model.ResyncHold), model.ConditionEnded, model.AlertResolved)
	step(t0.Add(model.ResyncHold+time.Minute), model.ConditionEnded, "")
}
