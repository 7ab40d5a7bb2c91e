package model_test

import (
	"maps"
	"slices"
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
		case model.AlertResolved:
			if want := "what mavtop shows has matched the counters for 5 min since: " + note; summary != want {
				t.Errorf("resolved says %q, want %q", summary, want)
			}
		}
		r := known[id]
		r.Apply(&tr)
		known[id] = r
	}
	step(t0, model.ConditionHolds, model.AlertFiring)
	step(t0.Add(time.Minute), model.ConditionHolds, "")
	step(t0.Add(model.ResyncHold), model.ConditionEnded, model.AlertResolved)
	step(t0.Add(model.ResyncHold+time.Minute), model.ConditionEnded, "")
}

// TestAResyncIsJudgedFromTheStoreByEveryInstance: two instances share one
// lifecycle; A re-read the counters after a restart, B did not see it (it
// started after, or missed the re-read). B resolved A's alert a second after
// it fired (it judged from its own memory only); now every instance judges
// the alert's hold from the stored record: it resolves once, at ResyncHold
// after it fired. A second restart fires again at once, whether it comes
// while the first holds (the first resolves, superseded, and the second
// fires) or after it resolved (the re-fire wait swallowed it for 10 min), and
// B seeing the same restart a few seconds after A fires nothing more.
func TestAResyncIsJudgedFromTheStoreByEveryInstance(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, t0)
	p := l.Period().Key
	id := model.AlertID(p, "", "", model.AlertResync, "restart")
	known := map[string]model.AlertRecord{}
	type instance struct {
		ev *model.AlertEvaluator
		h  model.FeedHealth
	}
	a := &instance{ev: model.NewAlertEvaluator(model.AlertOptions{}), h: model.FeedHealth{Connected: true, Since: t0}}
	b := &instance{ev: model.NewAlertEvaluator(model.AlertOptions{}), h: model.FeedHealth{Connected: true, Since: t0}}
	saw := func(in *instance, at time.Time, note string) {
		in.h.Resyncs = []model.Resync{{Reason: "restart", Note: note, At: at}}
	}
	// judge runs one instance's cycle at now with the evaluator and with
	// the full rule (they must agree) and records what it decides
	judge := func(in *instance, now time.Time) []string {
		t.Helper()
		trs := in.ev.Transitions(l, now, in.h, model.AlertRecords{Known: maps.Clone(known)}, nil)
		full := model.AlertOptions{}.Transitions(known, model.EvaluateAlerts(l, now, in.h, model.AlertOptions{}, nil), p, l.StreamID(), now)
		var got, want []string
		for _, tr := range trs {
			got = append(got, tr.Key()+": "+tr.Summary(p))
		}
		for _, tr := range full {
			want = append(want, tr.Key()+": "+tr.Summary(p))
		}
		if !slices.Equal(got, want) {
			t.Errorf("at %v: the evaluator decides %q, the full rule %q", now.Sub(t0), got, want)
		}
		for _, tr := range trs {
			r := known[tr.Alert.ID]
			r.Apply(&tr) // as the store records it: a resolution keeps its own alert
			known[tr.Alert.ID] = r
		}
		return got
	}
	expect := func(in *instance, now time.Duration, want ...string) {
		t.Helper()
		got := judge(in, t0.Add(now))
		if !slices.Equal(got, want) {
			t.Errorf("at %v: %q, want %q", now, got, want)
		}
	}
	first := "Redis restarted: counters re-read, −2,927 credits"
	second := "Redis restarted: counters re-read, −40 credits"
	saw(a, t0, first)
	expect(b, 0)
	expect(a, 0, id+"#firing: "+first)
	for _, at := range []time.Duration{time.Second, 2 * time.Minute, model.ResyncHold - time.Second} {
		expect(b, at) // B never saw it: it holds by the stored time
		expect(a, at)
	}
	saw(b, t0.Add(4*time.Second), first) // B's reconnect sees the same restart
	expect(b, 10*time.Second)
	expect(b, model.ResyncHold, id+"#resolved: what mavtop shows has matched the counters for 5 min since: "+first)
	expect(a, model.ResyncHold+time.Second)

	// a second restart two minutes after the first resolved: fires at once
	saw(a, t0.Add(7*time.Minute), second)
	expect(b, 7*time.Minute)
	id2 := model.EpisodeID(id, 2)
	expect(a, 7*time.Minute, id2+"#firing: "+second)
	expect(b, 7*time.Minute+time.Second)

	// a third while the second holds: the second resolves, superseded, and
	// the third fires
	third := "Redis restarted: counters re-read, −7 credits"
	saw(b, t0.Add(9*time.Minute), third)
	expect(a, 9*time.Minute)
	expect(b, 9*time.Minute, id2+"#resolved: superseded by a new re-read of the counters ("+third+"): "+second)
	expect(b, 9*time.Minute+time.Second, model.EpisodeID(id, 3)+"#firing: "+third)
	saw(a, t0.Add(9*time.Minute+3*time.Second), third)
	expect(a, 9*time.Minute+5*time.Second)
	expect(b, 9*time.Minute+10*time.Second)
}

// TestDifferentRereadsWithinAMinuteAreEachRaised is issue 11's hostile
// review: one instance logged 7 drift re-reads, the alert history held 2
// ("−85 credits", "+60 credits"), and a +2,000,000,000,070 re-read 7 s after
// the +60 one reached no alert: ResyncSameEvent, meant to merge several
// instances seeing one event, swallowed every re-read of one instance within
// a minute of the last firing. A re-read newer than the stored one that says
// another thing is another event: the firing episode resolves, superseded
// (naming it), and the next fires with its figure; another instance seeing
// the same re-read (the same note) stays that one episode.
func TestDifferentRereadsWithinAMinuteAreEachRaised(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, t0)
	p := l.Period().Key
	id := model.AlertID(p, "", "", model.AlertResync, "drift")
	known := map[string]model.AlertRecord{}
	a := model.NewAlertEvaluator(model.AlertOptions{})
	b := model.NewAlertEvaluator(model.AlertOptions{})
	ha := model.FeedHealth{Connected: true, Since: t0}
	hb := ha
	judge := func(ev *model.AlertEvaluator, h model.FeedHealth, at time.Duration) []string {
		t.Helper()
		now := t0.Add(at)
		var got []string
		for _, tr := range ev.Transitions(l, now, h, model.AlertRecords{Known: maps.Clone(known)}, nil) {
			got = append(got, tr.Key()+": "+tr.Summary(p))
			r := known[tr.Alert.ID]
			r.Apply(&tr) // as the store records it: a resolution keeps its own alert
			known[tr.Alert.ID] = r
		}
		return got
	}
	expect := func(ev *model.AlertEvaluator, h model.FeedHealth, at time.Duration, want ...string) {
		t.Helper()
		if got := judge(ev, h, at); !slices.Equal(got, want) {
			t.Errorf("at %v: %q, want %q", at, got, want)
		}
	}
	note := func(fig string) string {
		return "the counters and the stream disagreed: counters re-read, " + fig + " credits"
	}
	saw := func(h *model.FeedHealth, at time.Duration, fig string) {
		h.Resyncs = []model.Resync{{Reason: "drift", Note: note(fig), At: t0.Add(at)}}
	}
	saw(&ha, 0, "−85")
	expect(a, ha, time.Second, id+"#firing: "+note("−85"))
	saw(&ha, 20*time.Second, "+60")
	expect(a, ha, 21*time.Second, id+"#resolved: superseded by a new re-read of the counters ("+note("+60")+"): "+note("−85"))
	id2 := model.EpisodeID(id, 2)
	expect(a, ha, 22*time.Second, id2+"#firing: "+note("+60"))
	saw(&hb, 23*time.Second, "+60") // B sees the same drift: one event
	expect(b, hb, 24*time.Second)
	saw(&ha, 27*time.Second, "+2,000,000,000,070")
	expect(a, ha, 28*time.Second, id2+"#resolved: superseded by a new re-read of the counters ("+note("+2,000,000,000,070")+"): "+note("+60"))
	expect(a, ha, 29*time.Second, model.EpisodeID(id, 3)+"#firing: "+note("+2,000,000,000,070"))
	expect(b, hb, 30*time.Second)
	expect(a, ha, 31*time.Second)
}
