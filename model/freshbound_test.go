package model_test

import (
	"testing"
	"time"

	"mavtop/model"
	"mavtop/model/modeltest"
)

// TestEvaluatorHoldsNoFirstJudgement: the alert evaluator keeps the alerts
// it judged afresh for its transitions from one call to the next (a few a
// second), but not a first judgement's: at 10k workspaces, most past a
// threshold, the first call has thousands due, and holding their alerts
// would keep that much for the life of the process.
func TestEvaluatorHoldsNoFirstJudgement(t *testing.T) {
	const n = 10_000
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, now.Add(-time.Hour))
	l.Seed(modeltest.Snapshot(n, now), now)
	ev := model.NewAlertEvaluator(model.AlertOptions{})
	h := model.FeedHealth{Connected: true, Since: now.Add(-time.Hour)}
	trs := ev.Transitions(l, now, h, model.AlertRecords{Known: map[string]model.AlertRecord{}, Tracked: true}, nil)
	held, most := ev.FreshHeld()
	if len(trs) <= most {
		t.Fatalf("the fixture wants more than %d transitions at once, got %d", most, len(trs))
	}
	if held > most {
		t.Errorf("after a first judgement of %d transitions the evaluator holds room for %d alerts, want at most %d", len(trs), held, most)
	}
}
