package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// gate stands before a receiver and answers 503 to every firing while shut,
// counting the refusals; everything else reaches the receiver.
type gate struct {
	mu      sync.Mutex
	shut    bool
	refused int
	srv     *httptest.Server
}

func newGate(t *testing.T, rc *receiver) *gate {
	g := &gate{shut: true}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p Payload
		_ = json.Unmarshal(body, &p)
		g.mu.Lock()
		refuse := g.shut && p.Status == model.AlertFiring
		if refuse {
			g.refused++
		}
		g.mu.Unlock()
		if refuse {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rc.srv.Config.Handler.ServeHTTP(w, req)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gate) refusals() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refused
}

func (g *gate) open() {
	g.mu.Lock()
	g.shut = false
	g.mu.Unlock()
}

// inOrder checks that the receiver got, for every alert, its firing before
// its resolution, each once.
func inOrder(t *testing.T, rc *receiver) {
	t.Helper()
	seen := map[string]model.AlertStatus{}
	for i, p := range rc.payloads() {
		switch prev := seen[p.ID]; {
		case p.Status == model.AlertFiring && prev != "":
			t.Errorf("payload %d: %s fired again after %s", i, p.ID, prev)
		case p.Status == model.AlertResolved && prev != model.AlertFiring:
			t.Errorf("payload %d: %s resolved before it fired (seen: %q)", i, p.ID, prev)
		}
		seen[p.ID] = p.Status
	}
}

// A resolution is decided while its firing is still being delivered (the
// receiver refuses firings), and the instance holding the firing stops
// mid-delivery: the other instance takes the firing over once its lease ends
// and sends it, and only then the resolution. The receiver gets each alert's
// firing, then its resolution, each once.
func TestAResolutionNeverReachesAReceiverBeforeItsFiring(t *testing.T) {
	srv, st, period := startStore(t)
	ctx := context.Background()
	rc := newReceiver(t)
	g := newGate(t, rc)
	lease := func(o *WatcherOptions) { o.Lease = time.Second }
	w1 := startInstanceWith(t, srv, "w1", g.srv.URL, lease)
	w2 := startInstanceWith(t, srv, "w2", g.srv.URL, lease)
	setUp(t, srv, model.Settings{Allocation: 1000}, 600) // 50 % fires (the run-out may too)
	fifty := model.AlertID(period, "acme", "", model.AlertThreshold, "50")
	var holder string
	waitFor(t, "the 50 % firing claimed and refused", func() bool {
		recs, _, err := st.Load(ctx, period)
		if err != nil || len(recs[fifty].Deliveries) == 0 || g.refusals() < 3 {
			return false
		}
		holder = recs[fifty].Deliveries[0].Owner
		return holder != ""
	})
	// the holder stops mid-delivery; the allocation is raised meanwhile
	for _, in := range []*instance{w1, w2} {
		if in.name == holder {
			in.stop()
		}
	}
	notifytest.NewUsage(t, srv.Client()).Set("acme", model.Settings{Allocation: 5000})
	waitFor(t, "the 50 % resolution claimed", func() bool {
		recs, _, err := st.Load(ctx, period)
		return err == nil && recs[fifty].Status == model.AlertResolved
	})
	// the survivor takes the firing over and is refused a while longer: time
	// enough for a resolution sent out of turn to arrive
	from := g.refusals()
	waitFor(t, "the taken-over firing refused 20 times more", func() bool { return g.refusals() >= from+20 })
	g.open()
	recs := settledAll(t, st, period, 1, fifty)
	if r := recs[fifty]; len(r.Deliveries) != 2 || r.Deliveries[0].Owner == holder {
		t.Errorf("50 %%: %d deliveries, the firing's held by %q (the stopped holder was %q)", len(r.Deliveries), r.Deliveries[0].Owner, holder)
	}
	once(t, rc, recs)
	inOrder(t, rc)
}

// startStale starts what the feed_stale tests share: a real redis-server to
// kill and restart (the test is skipped without one), a receiver, and returns
// them with the billing period and feed_stale's alert id in it.
func startStale(t *testing.T) (srv *feedtest.Server, rc *receiver, period, stale string) {
	t.Helper()
	srv = feedtest.StartReal(t, "needs redis-server to kill and restart")
	period = model.MonthlyUTC.At(time.Now()).Key
	return srv, newReceiver(t), period, model.AlertID(period, "", "", model.AlertStale, "")
}

// A watcher started while Redis is down cannot read any counters, but its
// own alert does not wait for them: once --stale has passed it announces the
// feed_stale firing ("cannot reach Redis") on its own, and once Redis answers
// it records it there and resolves it, each once and in order.
func TestRedisDownFromTheStartIsAlerted(t *testing.T) {
	srv, rc, period, stale := startStale(t)
	srv.Kill()
	in := startInstanceWith(t, srv, "w", rc.srv.URL, func(o *WatcherOptions) { o.Alert.Stale = 300 * time.Millisecond })
	waitFor(t, "the feed_stale firing while Redis is down", func() bool { return rc.keys()[stale+"#firing"] == 1 })
	p := rc.payloads()[0]
	if p.Kind != model.AlertStale || p.Status != model.AlertFiring || !strings.Contains(p.Summary, "mavtop cannot reach Redis") {
		t.Errorf("first payload %+v", p)
	}
	if n := in.w.Firing(); n != 1 {
		t.Errorf("the watcher counts %d firing, want 1", n)
	}
	srv.Restart()
	recs := settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 1, stale)
	waitFor(t, "the feed_stale resolution", func() bool {
		recs = settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 1, stale)
		return recs[stale].Status == model.AlertResolved
	})
	once(t, rc, recs)
	inOrder(t, rc)
}

// Redis comes back without its data (a restart that lost it): the counters
// are read again from nothing, and feed_stale, announced while Redis was away
// with the stream id the watcher had read then, resolves at once, not when
// the next event's id passes the lost one (it stayed firing). Until the
// counters are read again, the ledger holding the lost history judges
// nothing else (it fired the lost 50 % and run-out alerts a second time).
func TestFeedStaleResolvesAfterARestartThatLostTheData(t *testing.T) {
	srv, rc, period, stale := startStale(t)
	setUp(t, srv, model.Settings{Allocation: 1000}, 600)
	startInstanceWith(t, srv, "w", rc.srv.URL, func(o *WatcherOptions) { o.Alert.Stale = 300 * time.Millisecond })
	// the 50 % firing says the watcher read the event
	settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 1, model.AlertID(period, "acme", "", model.AlertThreshold, "50"))
	srv.Kill()
	waitFor(t, "the feed_stale firing while Redis is down", func() bool { return rc.keys()[stale+"#firing"] == 1 })
	srv.RestartFrom("")
	waitFor(t, "the feed_stale resolution with no event since", func() bool { return rc.keys()[stale+"#resolved"] == 1 })
	recs := settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 1, stale)
	// beside it only the alert of the loss itself (model.AlertResync,
	// reset): the rest were lost with the data
	reset := model.AlertID(period, "", "", model.AlertResync, "reset")
	waitFor(t, "the reset's alert", func() bool { return rc.keys()[reset+"#firing"] == 1 })
	recs = settledAll(t, feed.NewAlertStore(srv.Client(), ""), period, 2, stale, reset)
	if r := recs[stale]; r.Status != model.AlertResolved || len(recs) != 2 {
		t.Errorf("feed_stale is %s in Redis, beside %d other alerts (the rest were lost; want the reset's alone)", r.Status, len(recs)-1)
	}
	if n := rc.keys()[stale+"#firing"]; n != 1 {
		t.Errorf("feed_stale fired %d times", n)
	}
	inOrder(t, rc)
}

// A firing announced while Redis was away is still being refused by the
// receiver when Redis is back, and another instance — which never lost
// Redis — resolves it: the resolution waits until the first instance's
// firing got through (it was recorded as delivered at once, and the other
// instance sent the resolution first).
func TestAResolutionWaitsForAFiringAnnouncedWithoutRedis(t *testing.T) {
	srv, rc, period, stale := startStale(t)
	g := newGate(t, rc)
	srv.Kill()
	startInstanceWith(t, srv, "away", g.srv.URL, func(o *WatcherOptions) {
		o.Alert.Stale, o.Every, o.Lease = 300*time.Millisecond, time.Second, 2*time.Second
	})
	waitFor(t, "the firing announced without Redis, refused", func() bool { return g.refusals() >= 3 })
	srv.Restart()
	startInstanceWith(t, srv, "quick", g.srv.URL, nil)
	st := feed.NewAlertStore(srv.Client(), "")
	waitFor(t, "feed_stale resolved in Redis", func() bool {
		recs, _, err := st.Load(context.Background(), period)
		return err == nil && recs[stale].Status == model.AlertResolved
	})
	from := g.refusals()
	waitFor(t, "the firing refused 20 times more", func() bool { return g.refusals() >= from+20 })
	g.open()
	recs := settledAll(t, st, period, 1, stale)
	once(t, rc, recs)
	inOrder(t, rc)
}

// A record of feed_stale in Redis that holds no delivery (written by hand or
// by a foreign writer) when Redis comes back does not stop a watcher that
// announced feed_stale on its own while Redis was away (it indexed the
// record's first delivery: a panic).
func TestARecordWithoutDeliveriesDoesNotStopTheWatcher(t *testing.T) {
	srv, rc, period, stale := startStale(t)
	c := srv.Client()
	b, err := json.Marshal(feed.StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: stale, Kind: model.AlertStale, Period: period}, Status: model.AlertResolved}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(context.Background(), feed.Keys{}.Alerts(period), stale, b).Err(); err != nil {
		t.Fatal(err)
	}
	data := srv.CopyData()
	srv.Kill()
	in := startInstanceWith(t, srv, "w", rc.srv.URL, func(o *WatcherOptions) { o.Alert.Stale = 300 * time.Millisecond })
	waitFor(t, "the feed_stale firing while Redis is down", func() bool { return rc.keys()[stale+"#firing"] == 1 })
	srv.RestartFrom(data)
	from := in.w.cycles.Load()
	waitFor(t, "three cycles with Redis back", func() bool { return in.w.cycles.Load() >= from+3 && in.w.StoreErr() == nil })
	if n := rc.keys()[stale+"#firing"]; n != 1 {
		t.Errorf("feed_stale fired %d times", n)
	}
}

// failXInfo fails every XINFO while on is set (the stream's end cannot be
// read: a restarted server's dials refused while a connection made before
// already answers) and passes every other command.
// failXInfo fails XINFO while on is set: a refused dial, or while noPerm is
// set too, Redis's NOPERM reply (an error that will not pass).
type failXInfo struct{ on, noPerm *atomic.Bool }

// replyErr is a reply from Redis (redis.Error), as go-redis's own.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

func (h failXInfo) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h failXInfo) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.on.Load() && cmd.Name() == "xinfo" {
			cmd.SetErr(errors.New("dial tcp: connect: connection refused"))
			if h.noPerm != nil && h.noPerm.Load() {
				cmd.SetErr(replyErr("NOPERM User w has no permissions to run the 'xinfo|stream' command"))
			}
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}

func (h failXInfo) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// The cycles of TestFeedStaleResolvesAfterARestartThatLostTheData, in the
// orders its timing left to chance, driven one by one: a ledger read before
// Redis lost its data (acme at 600 of 1,000 credits, its 50 % fired) is
// judged against the lifecycle the loss emptied. It fires nothing again —
// not in a cycle that reads the lifecycle but not the stream's end (the
// restarted server's dials were refused a while: the old ledger was judged
// whole and fired the 50 % a second time, the flake), nor once a producer's
// write after the restart takes the stream's end past what the ledger read,
// before the feed reads the counters again. The ledger of that re-read
// judges as any other: the 50 % its counters hold fires.
func TestALedgerRedisLostJudgesNothingButTheFeedsOwnAlert(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	var unreadable, noPerm atomic.Bool
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = c.Close() })
	c.AddHook(failXInfo{&unreadable, &noPerm})
	st := feed.NewAlertStore(c, "")
	write := func() string {
		t.Helper()
		time.Sleep(2 * time.Millisecond) // a later id than any before
		id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: feed.Keys{}.Stream(), Values: []any{"v", "1"}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	rule := model.PeriodRule{StartDay: 1, Location: time.UTC}
	now := time.Now()
	period := rule.At(now)
	ledger := func(at string) *model.Ledger {
		l := model.NewLedger(rule, now)
		l.Seed(&model.Snapshot{Period: period, StreamID: at, Used: map[string]int64{"acme": 600},
			Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}, now)
		return l
	}
	fifty := model.AlertID(period.Key, "acme", "", model.AlertThreshold, "50")
	fired := func() bool {
		t.Helper()
		recs, _, err := st.Load(ctx, period.Key)
		if err != nil {
			t.Fatal(err)
		}
		return recs[fifty].Status == model.AlertFiring
	}
	w := NewWatcher(WatcherOptions{Store: st, Now: func() time.Time { return now }, Instance: "w"})
	// as Run sets it from a ledger read from the stream (the counters'
	// source, or none known yet, clears nothing and holds nothing)
	w.source = feed.SourceStream
	h := model.FeedHealth{Connected: true, Since: now}
	old := ledger(write())
	w.cycle(ctx, old, h, false)
	w.cycle(ctx, old, h, false) // reads its claim back from the store
	if !fired() {
		t.Fatal("fixture: the 50 % did not fire before the loss")
	}
	// the restart that lost the data
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	unreadable.Store(true)
	w.cycle(ctx, old, h, false)
	if fired() {
		t.Fatal("a cycle that could not read the stream's end fired the lost 50 % again")
	}
	unreadable.Store(false)
	w.cycle(ctx, old, h, false)
	if fired() {
		t.Fatal("the lost 50 % fired again with the stream behind the ledger")
	}
	if end := write(); model.CompareStreamIDs(end, old.StreamID()) <= 0 {
		t.Fatalf("fixture: the write after the restart (%s) is not past the ledger (%s)", end, old.StreamID())
	}
	w.cycle(ctx, old, h, false)
	if fired() {
		t.Fatal("the lost 50 % fired again once a write took the stream's end past the ledger")
	}
	// a reply that will not pass (NOPERM) judges a ledger whole, but not
	// one a cycle has found lost (hostile19: it fired the lost 50 % again)
	unreadable.Store(true)
	noPerm.Store(true)
	w.cycle(ctx, old, h, false)
	unreadable.Store(false)
	noPerm.Store(false)
	if fired() {
		t.Fatal("the lost 50 % fired again at a NOPERM for XINFO")
	}
	end, err := st.StreamEnd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.cycle(ctx, ledger(end), h, false)
	if !fired() {
		recs, _, _ := st.Load(ctx, period.Key)
		t.Errorf("the counters read again hold 600 of 1,000 credits, and the 50 %% did not fire: %v", recs)
	}
}
