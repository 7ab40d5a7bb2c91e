package notify

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestLifecycleIndexEqualsARebuild: the watcher keeps the period's entries,
// the firing count, the common delivery, the listed keys and the forecast
// scores as records change (lifeIndex), never rebuilt; after every step of a
// random sequence of changes (fire, resolve, re-fire as a new episode, a
// delivery's outcome, a period's rollover, a record deleted, one restored to
// an older version of itself) the snapshot must equal what a rebuild of
// every record from scratch gives (the build the index replaced), and a
// snapshot taken earlier must still hold what it held then.
func TestLifecycleIndexEqualsARebuild(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 5))
	w := NewWatcher(WatcherOptions{Store: feed.NewAlertStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")}) // nothing here reads Redis
	base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	periods := []string{"2026-10", "2026-11", "2026-12"}
	period := 1
	history := map[string][]feed.StoredAlert{}                                           // every version each id had
	at := func() time.Time { return base.Add(time.Duration(r.IntN(300)) * time.Second) } // many ties
	delivery := func(s model.AlertStatus, summary string) feed.Delivery {
		d := feed.Delivery{Summary: summary, Transition: model.AlertTransition{Status: s}}
		switch r.IntN(4) {
		case 0:
			d.Done = true
			d.Sinks = map[string]feed.SinkResult{"hook": {Result: feed.ResultSent, Attempts: 1}}
		case 1:
			d.Sinks = map[string]feed.SinkResult{"hook": {Result: feed.ResultRetrying, Err: "503 Service Unavailable"}}
		case 2:
			d.Done = true
			d.Sinks = map[string]feed.SinkResult{"hook": {Result: feed.ResultFailed, Err: "404 Not Found"}}
		}
		return d
	}
	newID := func(p string) string {
		ws := fmt.Sprintf("ws%d", r.IntN(25))
		if r.IntN(15) == 0 {
			ws = "" // the feed's
		}
		id := model.AlertID(p, ws, "", model.AlertThreshold, []string{"50", "75", "90"}[r.IntN(3)])
		if r.IntN(6) == 0 {
			id = model.AlertID(p, ws, "", model.AlertRefusals, model.CodeCreditsExhausted)
		}
		return model.EpisodeID(id, 1+r.IntN(3))
	}
	fire := func(id string) feed.StoredAlert {
		p, _, _ := cutPeriod(id)
		a := model.Alert{ID: id, Period: p, Level: model.Level(2 + r.IntN(3)), Kind: model.AlertThreshold}
		rec := feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: a, Status: model.AlertFiring, FiredAt: at()}}
		d := delivery(model.AlertFiring, "fired "+id)
		if r.IntN(3) == 0 { // a credits_exhausted 402 scored against its forecast
			a.Kind, a.Code, a.Workspace, a.ProjectedRunOut = model.AlertRefusals, model.CodeCreditsExhausted, idWorkspace(id), at()
			rec.Alert = a
			d.Transition = model.AlertTransition{Alert: a, Status: model.AlertFiring, At: rec.FiredAt}
		}
		rec.Deliveries = []feed.Delivery{d}
		return rec
	}
	var known []string // ids set, in order
	put := func(id string, rec feed.StoredAlert) {
		w.mu.Lock()
		w.setKnown(id, &rec) // kept: never written again here
		w.mu.Unlock()
		history[id] = append(history[id], rec)
		if !slices.Contains(known, id) {
			known = append(known, id)
		}
	}
	type kept struct {
		l    *Lifecycle
		want []Entry
	}
	var old []kept
	steps := map[string]int{}
	w.refresh(periods[period])
	for step := range 3000 {
		what := ""
		switch k := r.IntN(20); {
		case k < 6 || len(known) == 0:
			what = "fire"
			p := periods[period]
			if r.IntN(5) == 0 {
				p = periods[period-1] // the last period's, still firing
			}
			id := newID(p)
			put(id, fire(id))
		case k < 10:
			what = "resolve"
			id := known[r.IntN(len(known))]
			w.mu.Lock()
			p, ok := w.knownRecord(id)
			w.mu.Unlock()
			if !ok || p.Status != model.AlertFiring {
				continue
			}
			rec := *p // a new version; the one kept is never written
			rec.Status, rec.ResolvedAt = model.AlertResolved, rec.FiredAt.Add(time.Duration(1+r.IntN(200))*time.Second)
			rec.Deliveries = append(slices.Clone(rec.Deliveries), delivery(model.AlertResolved, "resolved "+id))
			put(id, rec)
		case k < 12:
			what = "re-fire" // the next episode of an alert
			id := known[r.IntN(len(known))]
			b, n := model.SplitEpisode(id)
			next := model.EpisodeID(b, n+1)
			put(next, fire(next))
		case k < 14:
			what = "delivered" // a delivery's outcome, nothing else
			id := known[r.IntN(len(known))]
			w.mu.Lock()
			p, ok := w.knownRecord(id)
			w.mu.Unlock()
			if !ok || len(p.Deliveries) == 0 {
				continue
			}
			rec := *p
			rec.Deliveries = slices.Clone(rec.Deliveries)
			rec.Deliveries[len(rec.Deliveries)-1] = delivery(rec.Status, rec.Deliveries[len(rec.Deliveries)-1].Summary)
			put(id, rec)
		case k < 16:
			what = "delete"
			id := known[r.IntN(len(known))]
			w.mu.Lock()
			w.dropKnown(id)
			w.mu.Unlock()
		case k < 18:
			what = "restore-older" // Redis back from an older copy
			id := known[r.IntN(len(known))]
			h := history[id]
			put(id, h[r.IntN(len(h))])
		case k < 19 && period < len(periods)-1:
			what = "rollover"
			period++
			w.mu.Lock()
			for id, rec := range w.known { // what the mirror drops: periods before the last
				if p, _, _ := cutPeriod(id); p < periods[period-1] {
					_ = rec
					w.dropKnown(id)
				}
			}
			w.mu.Unlock()
		default:
			what = "nothing"
		}
		steps[what]++
		w.refresh(periods[period])
		l := w.Lifecycle(0)
		w.mu.Lock()
		want, firing, delivery, scores, keys := rebuild(decoded(w.known), periods[period])
		w.mu.Unlock()
		if got := l.Entries(); !sameEntries(got, want) {
			t.Fatalf("step %d (%s): the index lists\n%s\na rebuild lists\n%s", step, what, entryList(got), entryList(want))
		}
		if f := l.Firing; f.Alerts != firing.Alerts || f.Workspaces != firing.Workspaces || f.Feed != firing.Feed || f.Worst != firing.Worst || w.Firing() != firing.Alerts {
			t.Fatalf("step %d (%s): firing %+v (Firing %d), a rebuild counts %+v", step, what, l.Firing, w.Firing(), firing)
		}
		if l.Delivery != delivery {
			t.Fatalf("step %d (%s): common delivery %q, a rebuild says %q", step, what, l.Delivery, delivery)
		}
		if !slices.Equal(l.Scores, scores) {
			t.Fatalf("step %d (%s): scores %v, a rebuild gives %v", step, what, l.Scores, scores)
		}
		for _, id := range known {
			k := lifecycleKey(id)
			if l.Lists(k) != keys[k] {
				t.Fatalf("step %d (%s): Lists(%q) %v, a rebuild %v", step, what, k, l.Lists(k), keys[k])
			}
		}
		if again := w.Lifecycle(l.Gen); again != nil {
			t.Fatalf("step %d (%s): a poll of the generation just taken got a new one", step, what)
		}
		if step%50 == 0 {
			old = append(old, kept{l, want})
		}
	}
	for i, k := range old {
		if got := k.l.Entries(); !sameEntries(got, k.want) {
			t.Fatalf("snapshot %d changed after it was taken:\n%s\nit held\n%s", i, entryList(got), entryList(k.want))
		}
	}
	for _, what := range []string{"fire", "resolve", "re-fire", "delivered", "delete", "restore-older", "rollover"} {
		if steps[what] == 0 {
			t.Errorf("no %s step was taken: the test proves less than it says", what)
		}
	}
}

func cutPeriod(id string) (period, rest string, ok bool) {
	for i := range len(id) {
		if id[i] == '/' {
			return id[:i], id[i+1:], true
		}
	}
	return "", id, false
}

// rebuild is the lifecycle as build made it before the index, from every
// record: the entries newest first, the firing count (as the pane counted
// it), the common delivery, the scores and the keys listed.
func rebuild(known map[string]*feed.StoredAlert, period string) ([]Entry, model.FiringCount, string, []model.ForecastScore, map[string]bool) {
	var out []Entry
	var scores []model.ForecastScore
	type scored struct {
		id string
		s  model.ForecastScore
	}
	var all []scored
	for id, r := range known {
		if s, ok := scoreOf(r); ok {
			all = append(all, scored{id, s})
		}
		if r.Alert.Period != period && r.Status != model.AlertFiring {
			continue
		}
		out = append(out, EntryOf(r))
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := b.At().Compare(a.At()); c != 0 {
			return c
		}
		return cmp.Compare(a.Alert.ID, b.Alert.ID)
	})
	slices.SortFunc(all, func(a, b scored) int {
		if c := b.s.Refused.Compare(a.s.Refused); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.s.Workspace, b.s.Workspace), cmp.Compare(a.id, b.id))
	})
	for _, s := range all[:min(len(all), MaxScores)] {
		scores = append(scores, s.s)
	}
	var c model.FiringCount
	keys := map[string]bool{}
	delivery := ""
	for i := range out {
		e := &out[i]
		if e.Status == model.AlertFiring {
			c.Add(idWorkspace(e.Alert.ID), e.Alert.Level)
		}
		keys[lifecycleKey(e.Alert.ID)] = true
	}
	if len(out) >= 2 && out[0].DeliveryText() != "" {
		delivery = out[0].DeliveryText()
		for i := range out {
			if out[i].DeliveryText() != delivery {
				delivery = ""
				break
			}
		}
	}
	return out, c, delivery, scores, keys
}

func sameEntries(got, want []Entry) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := &got[i], &want[i]
		if g.Alert.ID != w.Alert.ID || g.Status != w.Status || !g.At().Equal(w.At()) || g.Summary != w.Summary ||
			g.Said != w.DeliveryText() || g.DeliveryText() != w.DeliveryText() || g.Alert.Level != w.Alert.Level {
			return false
		}
	}
	return true
}

func entryList(es []Entry) string {
	s := ""
	for i := range es {
		e := &es[i]
		s += fmt.Sprintf("  %s %s %s %q\n", e.At().Format("15:04:05"), e.Status, e.Alert.ID, e.Said)
	}
	return s
}

// decoded is every record of known, decoded.
func decoded(known map[string]feed.PackedAlert) map[string]*feed.StoredAlert {
	out := make(map[string]*feed.StoredAlert, len(known))
	for id, p := range known {
		out[id] = p.Decode()
	}
	return out
}

// TestARecordIsKeptPacked: the watcher's known record and the snapshot's
// entry keep the record packed (feed.PackedAlert), never a decoded copy of
// it (a decoded record held ~1.1 KB, of ~170k at 100k workspaces); the
// entry decodes it on demand, as stored.
func TestARecordIsKeptPacked(t *testing.T) {
	w := NewWatcher(WatcherOptions{Store: feed.NewAlertStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")}) // nothing here reads Redis
	rec := &feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: "2026-11/acme/-/threshold/50", Period: "2026-11", Level: model.LevelWarn},
		Status: model.AlertFiring, FiredAt: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)},
		Deliveries: []feed.Delivery{{Summary: "acme crossed 50 %"}}}
	w.mu.Lock()
	w.setKnown(rec.Alert.ID, rec)
	w.mu.Unlock()
	w.refresh("2026-11")
	var got *Entry
	w.Lifecycle(0).Each(func(e *Entry) bool { got = e; return false })
	w.mu.Lock()
	known := w.known[rec.Alert.ID]
	w.mu.Unlock()
	if got == nil || got.StoredAlert != nil || known.Bytes() == 0 {
		t.Fatalf("a decoded record is kept: entry %+v, known %d bytes packed", got, known.Bytes())
	}
	if !reflect.DeepEqual(got.Record(), rec) || !reflect.DeepEqual(known.Decode(), rec) {
		t.Errorf("the record kept decodes to %+v, not as stored", got.Record())
	}
	if got.ID != rec.Alert.ID || got.Status != rec.Status || got.Level != rec.Alert.Level || !got.At().Equal(rec.FiredAt) ||
		got.Summary != "acme crossed 50 %" || got.Said != "waiting: no mavtop runs with --notify" {
		t.Errorf("the entry says %+v", got)
	}
	if es := w.Entries(); len(es) != 1 || !reflect.DeepEqual(es[0].StoredAlert, rec) {
		t.Errorf("Entries hands out %+v, want the record decoded", es)
	}
}
