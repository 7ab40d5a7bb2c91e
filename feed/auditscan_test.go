package feed

import (
	"context"
	"fmt"
	"hash/maphash"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestScanAgreesReadsPiecewiseAndSeesEveryHash: the audit's full read done a
// page at a time (scanAgrees) agrees with what was delivered over hashes of
// several pages, leaves out a workspace written through the stream after the
// delivered id (its counters moved while the pages were read), and finds a
// write behind the stream's back in each hash it reads — used, recharged,
// used_by, refused, settings — in a workspace it knew or a new one.
func TestScanAgreesReadsPiecewiseAndSeesEveryHash(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	pub := NewPublisher(c, PublisherOptions{})
	store := NewSettingsStore(c, StoreOptions{})
	var evs []model.Event
	for i := range 900 { // 2,700 used_by fields: more than one HSCAN page
		ws := fmt.Sprintf("ws-%03d", i)
		for _, p := range []string{"web", "batch", "api"} {
			evs = append(evs, usage(ws, p, "/responses", int64(1+i%7)))
		}
		if i%50 == 0 {
			evs = append(evs, refused(ws, "web", "/responses", model.CodeCreditsExhausted))
		}
	}
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []string{"ws-001", "ws-002"} {
		if err := store.SetWorkspace(ctx, ws, model.Settings{Allocation: 5000}); err != nil {
			t.Fatal(err)
		}
	}
	// fields the snapshot cleans or skips: the piecewise read must do the same
	per := model.MonthlyUTC.At(time.Now()).Key
	c.HSet(ctx, keys.UsedBy(per), "ws-003/bad project!/responses", 5, "ws-003/web/bad endpoint", 2)
	c.HSet(ctx, keys.Used(per), "not an id!", 7, "ws-004x", "many")
	c.HSet(ctx, keys.Refused(per), "ws-006/web/Weird Code!", 1)
	res, err := ReadSnapshot(ctx, c, keys, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Snap.UsedBy); n <= scanPage {
		t.Fatalf("%d used_by fields: not more than a page", n)
	}
	if res.BadCounterCount != 2 {
		t.Fatalf("%d bad counter fields, want 2 (the set-up changed?)", res.BadCounterCount)
	}
	delivered := tallyOf(maphash.MakeSeed(), res.Snap, res.rawSettings)
	p, at := res.Snap.Period, res.Snap.StreamID
	agrees := func() bool {
		t.Helper()
		ok, err := scanAgrees(ctx, c, keys, p, "", delivered, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !agrees() {
		t.Fatal("the counters as delivered: the piecewise read disagrees")
	}
	// written through the stream after the delivered id: left out, not a difference
	trackAll(t, pub, usage("ws-005", "web", "/responses", 40), usage("ws-new", "web", "/x", 3))
	if !agrees() {
		t.Fatal("a workspace written through the stream while the pages were read counted as a difference")
	}
	for _, w := range []struct {
		what      string
		key, f    string
		do, undo  func() error
		isSetting bool
	}{
		{what: "used", key: keys.Used(p.Key), f: "ws-010"},
		{what: "recharged", key: keys.Recharged(p.Key), f: "ws-011"},
		{what: "used_by", key: keys.UsedBy(p.Key), f: model.UsedByField("ws-012", "web", "/responses")},
		{what: "used_by of a new endpoint", key: keys.UsedBy(p.Key), f: model.UsedByField("ws-013", "web", "/other")},
		{what: "refused", key: keys.Refused(p.Key), f: model.RefusedField("ws-050", "web", model.CodeCreditsExhausted)},
		{what: "used of a workspace never delivered", key: keys.Used(p.Key), f: "ws-stranger"},
	} {
		if err := c.HIncrBy(ctx, w.key, w.f, 1).Err(); err != nil {
			t.Fatal(err)
		}
		if agrees() {
			t.Errorf("%s: %s +1 behind the stream's back, yet the piecewise read agrees", w.what, w.f)
		}
		if err := c.HIncrBy(ctx, w.key, w.f, -1).Err(); err != nil {
			t.Fatal(err)
		}
		if w.what == "used of a workspace never delivered" || w.what == "used_by of a new endpoint" {
			c.HDel(ctx, w.key, w.f) // a field at 0 is a field the snapshot would count as a workspace
		}
		if !agrees() {
			t.Errorf("%s: put back, yet the piecewise read disagrees", w.what)
		}
	}
	old := c.HGet(ctx, keys.Settings(), "ws-002").Val()
	c.HSet(ctx, keys.Settings(), "ws-002", `{"allocation":6000}`)
	if agrees() {
		t.Error("a setting changed behind the stream's back, yet the piecewise read agrees")
	}
	c.HSet(ctx, keys.Settings(), "ws-002", old)
	if !agrees() {
		t.Error("the setting put back, yet the piecewise read disagrees")
	}
	// the billing period config changed behind the stream's back: the
	// periods are cut otherwise, whatever the counters hold
	c.HSet(ctx, keys.Settings(), PeriodSettingsField, `{"start_day":15}`)
	if agrees() {
		t.Error("the billing period config changed behind the stream's back, yet the piecewise read agrees")
	}
	c.HSet(ctx, keys.Settings(), PeriodSettingsField, `{"start_day":1}`)
	if !agrees() {
		t.Error("the period config says calendar months again, yet the piecewise read disagrees")
	}
	// the delivered entry gone (a flush, a restore, a restart onto older
	// data): what follows it is not what moved the counters since
	if err := c.XDel(ctx, keys.Stream(), at).Err(); err != nil {
		t.Fatal(err)
	}
	if agrees() {
		t.Error("the delivered entry is gone from the stream, yet the piecewise read agrees")
	}
}

// TestScanAgreesComparesAWorkspaceChargedDuringEveryScan: a workspace written
// through the stream while every page is read (a producer charging it more
// often than a scan lasts) is compared all the same — its fields against what
// was delivered plus its entries up to each page — so a write to any of its
// counters behind the stream's back is a difference. Before, the scan left
// such a workspace out, and an edit of it went unhealed for ever.
func TestScanAgreesComparesAWorkspaceChargedDuringEveryScan(t *testing.T) {
	srv := feedtest.StartReal(t, "the piecewise read's MULTI pages need redis-server (CI requires it)")
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	pub := NewPublisher(c, PublisherOptions{})
	var evs []model.Event
	for i := range 1500 { // 3,000 used_by fields: pages read at different ids
		ws := fmt.Sprintf("ws-%04d", i)
		evs = append(evs, usage(ws, "web", "/responses", int64(1+i%7)), usage(ws, "batch", "/responses", 2))
	}
	evs = append(evs, usage("busy", "web", "/responses", 10), refused("busy", "web", "/responses", model.CodeCreditsExhausted))
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	res, err := ReadSnapshot(ctx, c, keys, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	delivered := tallyOf(maphash.MakeSeed(), res.Snap, res.rawSettings)
	p, at := res.Snap.Period, res.Snap.StreamID
	// the busy workspace is charged (a success, a 402, a recharge, a new
	// endpoint) after every hash the scan reads, so every scan sees it move
	n := 0
	charge := func() {
		n++
		trackAll(t, pub, usage("busy", "web", "/responses", 7), refused("busy", "web", "/responses", model.CodeCreditsExhausted),
			model.Event{Kind: model.KindRecharge, Workspace: "busy", Credits: 100}, usage("busy", "api", fmt.Sprintf("/e%d", n), 1))
	}
	agrees := func() bool {
		t.Helper()
		ok, err := scanAgrees(ctx, c, keys, p, "", delivered, at, charge)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !agrees() {
		t.Fatal("a workspace charged through the stream during the scan counted as a difference")
	}
	for _, w := range []struct{ key, f string }{
		{keys.Used(p.Key), "busy"},
		{keys.Recharged(p.Key), "busy"},
		{keys.UsedBy(p.Key), model.UsedByField("busy", "web", "/responses")},
		{keys.Refused(p.Key), model.RefusedField("busy", "web", model.CodeCreditsExhausted)},
	} {
		if err := c.HIncrBy(ctx, w.key, w.f, 1000).Err(); err != nil {
			t.Fatal(err)
		}
		if agrees() {
			t.Errorf("%s %s +1000 behind the stream's back while it is charged during the scan, yet the piecewise read agrees", w.key, w.f)
		}
		if err := c.HIncrBy(ctx, w.key, w.f, -1000).Err(); err != nil {
			t.Fatal(err)
		}
		if !agrees() {
			t.Errorf("%s %s put back, yet the piecewise read disagrees", w.key, w.f)
		}
	}
	if got, want := redisCounters(t, c, time.Now()).Used["busy"], int64(10+8*n); got != want {
		t.Errorf("busy used %d in Redis, want %d (the set-up changed?)", got, want)
	}
}
