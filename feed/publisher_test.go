package feed

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mavtop/model"

	"mavtop/feed/feedtest"
)

// futureMonth is the start of a calendar month two months ahead: tests stamp
// events there so their hashes' EXPIREAT is always in the future.
func futureMonth() time.Time {
	return model.MonthlyUTC.At(time.Now()).End.AddDate(0, 2, 0)
}

func TestTrackWritesCountersAndEntryInOneTransaction(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	clock := newClock(futureMonth().Add(36 * time.Hour))
	pub := NewPublisher(c, PublisherOptions{Now: clock.Now})

	if err := pub.Track(ctx, usage("acme", "research", "/focus-groups", 120)); err != nil {
		t.Fatal(err)
	}
	if err := pub.Track(ctx, usage("acme", "", "/responses", 3)); err != nil {
		t.Fatal(err)
	}
	if err := pub.Track(ctx, refused("acme", "research", "/focus-groups", model.CodeBudgetExceeded)); err != nil {
		t.Fatal(err)
	}
	if err := pub.Track(ctx, model.Event{Workspace: "beta", Kind: model.KindRecharge, Credits: 500}); err != nil {
		t.Fatal(err)
	}

	p := model.MonthlyUTC.At(clock.Now())
	k := Keys{}
	got := redisCounters(t, c, clock.Now())
	want := counters{
		Period:    p.Key,
		Used:      map[string]int64{"acme": 123},
		UsedBy:    map[string]int64{"acme/research//focus-groups": 120, "acme///responses": 3},
		Refused:   map[string]int64{"acme/research/budget_exceeded": 1},
		Recharged: map[string]int64{"beta": 500},
	}
	if !got.equal(want) {
		t.Fatalf("counters:\n%v\nwant:\n%v", got, want)
	}
	// The recharge-only workspace still shows up in used (with 0).
	if v, err := c.HGet(ctx, k.Used(p.Key), "beta").Result(); err != nil || v != "0" {
		t.Errorf("used beta = %q, %v; want 0", v, err)
	}
	// Every period hash expires 35 days after the period ends.
	for _, key := range []string{k.Used(p.Key), k.UsedBy(p.Key), k.Refused(p.Key), k.Recharged(p.Key)} {
		at, err := c.ExpireTime(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if want := ExpireAt(p).Unix(); int64(at/time.Second) != want {
			t.Errorf("%s expires at %d, want %d (period end + 35 days)", key, int64(at/time.Second), want)
		}
	}
	msgs, err := c.XRange(ctx, k.Stream(), "-", "+").Result()
	if err != nil || len(msgs) != 4 {
		t.Fatalf("stream has %d entries (%v), want 4", len(msgs), err)
	}
	e, err := model.DecodeEvent(msgs[0].ID, msgs[0].Values)
	if err != nil {
		t.Fatal(err)
	}
	if e.TS != clock.Now().UnixMilli() || e.Credits != 120 || e.Project != "research" {
		t.Errorf("first entry decodes to %+v", e)
	}
}

func TestTrackRejectsBadEventsAndWritesNothing(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	bad := []model.Event{
		{Workspace: "", Endpoint: "/responses", Credits: 1, Status: 200},
		{Workspace: "acme corp", Endpoint: "/responses", Credits: 1, Status: 200},
		{Workspace: "acme", Endpoint: "responses", Credits: 1, Status: 200},
		{Workspace: "acme", Endpoint: "/responses", Credits: -5, Status: 200},
		{Workspace: "acme", Endpoint: "/responses", Credits: 1, Status: 99},
		{Workspace: "acme", Kind: model.KindSettings, Msg: "{}"},
	}
	for _, e := range bad {
		if err := pub.Track(ctx, e); err == nil {
			t.Errorf("Track(%+v) = nil, want an error", e)
		}
	}
	// One bad event in a batch: nothing of the batch is written.
	batch := []model.Event{usage("acme", "", "/responses", 1), {Workspace: "acme", Endpoint: "/x", Status: 700}}
	err := pub.TrackBatch(ctx, batch)
	var we *WriteError
	if !errors.As(err, &we) || we.Written != 0 || !strings.Contains(err.Error(), "invalid event 2 of 2") {
		t.Errorf("TrackBatch = %v, want invalid event 2 of 2 with nothing written", err)
	}
	if n, _ := c.DBSize(ctx).Result(); n != 0 {
		keys, _ := c.Keys(ctx, "*").Result()
		t.Errorf("bad events wrote keys: %v", keys)
	}
}

func TestTrackBatchAndLateEventsLandInTheirOwnPeriod(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	start := futureMonth()
	clock := newClock(start.Add(time.Hour)) // 01:00 on the 1st of a month
	pub := NewPublisher(c, PublisherOptions{Now: clock.Now, ChunkSize: 7})

	var evs []model.Event
	for i := range 100 {
		e := usage("acme", "", "/responses", int64(i%5+1))
		if i%10 == 0 {
			e.TS = start.Add(-time.Minute).UnixMilli() // late: belongs to the previous month
		}
		evs = append(evs, e)
	}
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var late, now int64
	for i, e := range evs {
		if i%10 == 0 {
			late += e.Credits
		} else {
			now += e.Credits
		}
	}
	cur := redisCounters(t, c, clock.Now())
	prev := redisCounters(t, c, start.Add(-time.Minute))
	if cur.Used["acme"] != now || prev.Used["acme"] != late {
		t.Errorf("used: this period %d (want %d), previous period %d (want %d)", cur.Used["acme"], now, prev.Used["acme"], late)
	}
	if n, _ := c.XLen(ctx, Keys{}.Stream()).Result(); n != 100 {
		t.Errorf("stream length %d, want 100", n)
	}
	if st := pub.Stats(); st.Written != 100 || st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestPublisherFollowsStoredPeriodConfig(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	// Periods start on the 15th in Tokyo.
	if err := NewSettingsStore(c, StoreOptions{}).SetPeriod(ctx, model.PeriodConfig{StartDay: 15, TZ: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	m := futureMonth()
	// 14th, 23:30 Tokyo time: still the period that started on the 15th of the month before.
	ts := time.Date(m.Year(), m.Month(), 14, 23, 30, 0, 0, tokyo)
	clock := newClock(ts)
	pub := NewPublisher(c, PublisherOptions{Now: clock.Now})
	if err := pub.Track(ctx, usage("acme", "", "/responses", 4)); err != nil {
		t.Fatal(err)
	}
	key := time.Date(m.Year(), m.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	if v, err := c.HGet(ctx, Keys{}.Used(key), "acme").Result(); err != nil || v != "4" {
		t.Errorf("used:%s acme = %q, %v; want 4", key, v, err)
	}
}

func TestKeysUseTheHashTag(t *testing.T) {
	k := Keys{}
	for _, key := range []string{k.Stream(), k.Used("2026-11"), k.UsedBy("2026-11"), k.Refused("2026-11"), k.Recharged("2026-11"), k.Settings(), k.Acks("x")} {
		if !strings.HasPrefix(key, "{mavera}:") {
			t.Errorf("%s lacks the {mavera} hash tag", key)
		}
	}
	if got := (Keys{Prefix: "{acme}"}).Used("2026-11"); got != "{acme}:used:2026-11" {
		t.Errorf("custom prefix: %s", got)
	}
}
