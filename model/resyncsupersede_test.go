package model_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"mavtop/model"
)

// TestEveryRereadFiresWhateverTheResolvedRecordKeeps (issue 11, hostile11):
// a re-read that supersedes a firing counters_resync episode resolves it
// and must fire its own next, at the next judgement. The rule judges that
// from the resolved record, so the outcome must not hang on which alert the
// record keeps: the resolution's (the store, model.AlertRecord.Apply), the
// firing's (the simulated store every earlier test used, which hid the
// bug), or the resolution as a version before the fix wrote it (its
// ResyncAt the superseding re-read's own time: records in Redis now). Two
// instances: A re-reads each drift, B sees some of the same drifts a few
// seconds later (one event, no episode more). Each of A's five re-reads is
// raised once, in order, with its figure, and the evaluator agrees with the
// full rule at every judgement.
func TestEveryRereadFiresWhateverTheResolvedRecordKeeps(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	note := func(fig string) string {
		return "the counters and the stream disagreed: counters re-read, " + fig + " credits"
	}
	for _, keeps := range []struct {
		name string
		// resolve records the resolution tr of the firing record r
		resolve func(r *model.AlertRecord, tr *model.AlertTransition, resyncAt time.Time)
	}{
		{"the resolution's alert (the store)", func(r *model.AlertRecord, tr *model.AlertTransition, _ time.Time) { r.Apply(tr) }},
		{"the firing's alert", func(r *model.AlertRecord, tr *model.AlertTransition, _ time.Time) {
			a := r.Alert
			r.Apply(tr)
			r.Alert = a
		}},
		{"the resolution as the version before wrote it", func(r *model.AlertRecord, tr *model.AlertTransition, resyncAt time.Time) {
			r.Apply(tr)
			r.Alert.ResyncAt = resyncAt // the superseding re-read's, as the judging instance's was kept
		}},
	} {
		t.Run(keeps.name, func(t *testing.T) {
			l := model.NewLedger(model.MonthlyUTC, t0)
			p := l.Period().Key
			id := model.AlertID(p, "", "", model.AlertResync, "drift")
			known := map[string]model.AlertRecord{}
			type instance struct {
				ev *model.AlertEvaluator
				h  model.FeedHealth
			}
			a := &instance{ev: model.NewAlertEvaluator(model.AlertOptions{}), h: model.FeedHealth{Connected: true, Since: t0}}
			b := &instance{ev: model.NewAlertEvaluator(model.AlertOptions{}), h: model.FeedHealth{Connected: true, Since: t0}}
			var fired []string // the firing summaries, in order
			judge := func(in *instance, at time.Duration) {
				t.Helper()
				now := t0.Add(at)
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
					t.Errorf("at %v: the evaluator decides %q, the full rule %q", at, got, want)
				}
				for _, tr := range trs {
					r := known[tr.Alert.ID]
					if tr.Status == model.AlertFiring {
						r.Apply(&tr)
						fired = append(fired, tr.Alert.ID+": "+tr.Summary(p))
					} else {
						keeps.resolve(&r, &tr, in.h.Resyncs[0].At)
					}
					known[tr.Alert.ID] = r
				}
			}
			saw := func(in *instance, at time.Duration, fig string) {
				in.h.Resyncs = []model.Resync{{Reason: "drift", Note: note(fig), At: t0.Add(at)}}
			}
			s := time.Second
			saw(a, 0, "+5")
			saw(b, 3*s, "+5") // B's audit finds the same drift: one event
			saw(a, 8*s, "+7") // the hostile's second HINCRBY, 8 s on
			saw(b, 10*s, "+7")
			saw(a, 20*s, "−3")
			saw(a, 25*s, "+2,000,000,000,070")
			saw(a, 90*s, "+2,000,000,000,070") // the same figures, another drift: later than ResyncSameEvent
			script := []struct {
				in *instance
				at time.Duration
				// the re-read the instance has made by then
				fig string
				rd  time.Duration
			}{
				{a, 1 * s, "+5", 0}, {b, 4 * s, "+5", 3 * s},
				{a, 9 * s, "+7", 8 * s}, {b, 11 * s, "+7", 10 * s},
				{a, 21 * s, "−3", 20 * s}, {b, 22 * s, "+7", 10 * s},
				{a, 26 * s, "+2,000,000,000,070", 25 * s}, {b, 27 * s, "+7", 10 * s},
				{a, 91 * s, "+2,000,000,000,070", 90 * s}, {b, 92 * s, "+7", 10 * s},
			}
			for _, st := range script {
				saw(st.in, st.rd, st.fig)
				for k := range 4 { // a few cycles each: a superseded episode's next fires at the next
					judge(st.in, st.at+time.Duration(k)*200*time.Millisecond)
				}
			}
			want := []string{
				id + ": " + note("+5"),
				model.EpisodeID(id, 2) + ": " + note("+7"),
				model.EpisodeID(id, 3) + ": " + note("−3"),
				model.EpisodeID(id, 4) + ": " + note("+2,000,000,000,070"),
				model.EpisodeID(id, 5) + ": " + note("+2,000,000,000,070"),
			}
			if !slices.Equal(fired, want) {
				t.Errorf("fired\n  %q\nwant\n  %q", fired, want)
			}
			firing := 0
			for _, r := range known {
				if r.Status == model.AlertFiring {
					firing++
				}
			}
			if firing != 1 {
				t.Errorf("%d episodes firing at the end, want the last one", firing)
			}
		})
	}
}

// TestAResolutionSaysWhichRereadItsEpisodeRaised: the record a resolution
// leaves (the store keeps the resolution's alert) names the re-read its
// episode raised, as its firing did — not the one that superseded it —
// and that one in Next: `mavtop alerts --json` showed a resolved drift
// whose resync_at was the next re-read's, later than its own fired_at.
func TestAResolutionSaysWhichRereadItsEpisodeRaised(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	l := model.NewLedger(model.MonthlyUTC, t0)
	p := l.Period().Key
	id := model.AlertID(p, "", "", model.AlertResync, "drift")
	ev := model.NewAlertEvaluator(model.AlertOptions{})
	known := map[string]model.AlertRecord{}
	h := model.FeedHealth{Connected: true, Since: t0, Resyncs: []model.Resync{{Reason: "drift", Note: "+5", At: t0}}}
	record := func(at time.Duration) []model.AlertTransition {
		trs := ev.Transitions(l, t0.Add(at), h, model.AlertRecords{Known: maps.Clone(known)}, nil)
		for _, tr := range trs {
			r := known[tr.Alert.ID]
			r.Apply(&tr)
			known[tr.Alert.ID] = r
		}
		return trs
	}
	if trs := record(time.Second); len(trs) != 1 || trs[0].Status != model.AlertFiring {
		t.Fatalf("first re-read: %+v, want it firing", trs)
	}
	h.Resyncs = []model.Resync{{Reason: "drift", Note: "+7", At: t0.Add(8 * time.Second)}}
	trs := record(9 * time.Second)
	if len(trs) != 1 || trs[0].Alert.ID != id || trs[0].Status != model.AlertResolved {
		t.Fatalf("second re-read: %+v, want the first resolved", trs)
	}
	r := known[id]
	if !r.Alert.ResyncAt.Equal(t0) || r.Alert.Note != "+5" || r.Alert.Next != "+7" {
		t.Errorf("the resolved record says re-read at %v, note %q, next %q; want %v, +5, +7", r.Alert.ResyncAt, r.Alert.Note, r.Alert.Next, t0)
	}
}
