package metrics

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rig is a hub over an embedded Redis, a collector and its HTTP server.
type rig struct {
	hub  *feed.Hub
	col  *Collector
	pub  *feed.Publisher
	set  *feed.SettingsStore
	url  string
	last string // id of the newest event published
	rdb  redis.UniversalClient
}

func startRig(t *testing.T, opt Options) *rig {
	t.Helper()
	emb, err := feed.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	return startRigOn(t, emb.Client(), emb.Close, opt)
}

// startRigOn is startRig over any Redis; closeRedis runs at cleanup.
func startRigOn(t *testing.T, c redis.UniversalClient, closeRedis func(), opt Options) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{hub: feed.NewHub(), pub: feed.NewPublisher(c, feed.PublisherOptions{}),
		set: feed.NewSettingsStore(c, feed.StoreOptions{}), rdb: c}
	sub := feed.NewSubscriber(c, feed.SubscriberOptions{StatsEvery: 50 * time.Millisecond, AuditEvery: 100 * time.Millisecond})
	r.col = New(r.hub, opt)
	reg, err := NewRegistry(r.col)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.url = "http://" + ln.Addr().String() + "/metrics"
	done := make(chan struct{}, 3)
	go func() { _ = r.hub.Run(ctx, sub); done <- struct{}{} }()
	go func() { _ = r.col.Run(ctx); done <- struct{}{} }()
	go func() { _ = Serve(ctx, ln, Handler(reg)); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
		closeRedis()
	})
	// The collector's viewer has joined and the first snapshot is in, with
	// its project credits (the used_by read, folded by the hub on a
	// goroutine of its own).
	waitFor(t, "the feed to connect", func() bool {
		ok := false
		r.hub.Read(func(l *model.Ledger, c *feed.ConnMsg, _ *feed.StatsMsg) {
			ok = l != nil && !l.UsedByPending() && c != nil && c.State == feed.Connected
		})
		return ok && r.hub.Viewers() == 1
	})
	return r
}

func (r *rig) publish(t *testing.T, evs ...model.Event) {
	t.Helper()
	for _, e := range evs {
		got, err := r.pub.Record(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		r.last = got.ID
	}
	waitFor(t, "the hub to read "+r.last, func() bool {
		id := ""
		r.hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) { id = l.StreamID() })
		return id == r.last
	})
}

// scrape fetches /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, b)
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// series flattens one family to "label=value,…" → value.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	f := fams[name]
	if f == nil {
		return out
	}
	if f.GetType() != typ {
		t.Errorf("%s is a %s, want %s", name, f.GetType(), typ)
	}
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(ls)
		v := m.GetGauge().GetValue()
		if typ == dto.MetricType_COUNTER {
			v = m.GetCounter().GetValue()
		}
		out[strings.Join(ls, ",")] = v
	}
	return out
}

func sameSeries(t *testing.T, name string, got, want map[string]float64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %v\n want %v", name, got, want)
	}
}

func usage(ws, project, endpoint string, credits int64) model.Event {
	return model.Event{Workspace: ws, Project: project, Endpoint: endpoint, Credits: credits, Status: 200}
}

func refusal(ws, project, endpoint, code string) model.Event {
	return model.Event{Workspace: ws, Project: project, Endpoint: endpoint, Status: 402, Code: code}
}

func TestScrapeEqualsTheLedger(t *testing.T) {
	r := startRig(t, Options{MaxProjects: 2, Sessions: func() int { return 3 }})
	ctx := context.Background()
	if err := r.set.SetWorkspace(ctx, "acme", model.Settings{Allocation: 10000, UsageLimit: 8000}); err != nil {
		t.Fatal(err)
	}
	if err := r.set.SetWorkspace(ctx, "beta", model.Settings{Allocation: 500}); err != nil {
		t.Fatal(err)
	}
	fg := usage("acme", "batch", "/focus-groups", 300)
	fg.Op, fg.Est = "focus-group", 250
	chat := usage("beta", "x", "/responses", 8)
	chat.Op, chat.Est = "chat", 10
	refusedFG := refusal("acme", "batch", "/focus-groups", model.CodeBudgetExceeded)
	refusedFG.Op, refusedFG.Est = "focus-group", 250 // a refusal carries no cost: not calibrated
	r.publish(t,
		usage("acme", "web", "/responses", 100), usage("acme", "web", "/mave/chat", 50),
		fg, usage("acme", "mobile", "/responses", 20), usage("acme", "", "/responses", 5),
		refusal("acme", "web", "/responses", model.CodeCreditsExhausted),
		refusal("acme", "web", "/responses", model.CodeCreditsExhausted),
		refusedFG,
		usage("beta", "x", "/responses", 600), chat,
		model.Event{Workspace: "beta", Kind: model.KindRecharge, Credits: 200},
		usage("gamma", "", "/responses", 7),
	)
	waitFor(t, "the calibration", func() bool { return len(r.col.Calibration()) == 2 })
	fams := scrape(t, r.url)

	// What the events say, by hand. acme's projects past the first two by use
	// (batch 300, web 150) fold into "other": mobile 20 + "" 5.
	sameSeries(t, "mavtop_credits_used_total", series(t, fams, "mavtop_credits_used_total", dto.MetricType_COUNTER), map[string]float64{
		"endpoint=/focus-groups,project=batch,workspace=acme": 300,
		"endpoint=/responses,project=web,workspace=acme":      100,
		"endpoint=/mave/chat,project=web,workspace=acme":      50,
		"endpoint=/responses,project=other,workspace=acme":    25,
		"endpoint=/responses,project=x,workspace=beta":        608,
		"endpoint=/responses,project=,workspace=gamma":        7,
	})
	sameSeries(t, "mavtop_refusals_total", series(t, fams, "mavtop_refusals_total", dto.MetricType_COUNTER), map[string]float64{
		"code=credits_exhausted,workspace=acme": 2,
		"code=budget_exceeded,workspace=acme":   1,
	})
	sameSeries(t, "mavtop_credits_allocation", series(t, fams, "mavtop_credits_allocation", dto.MetricType_GAUGE), map[string]float64{
		"workspace=acme": 10000, "workspace=beta": 500,
	})
	sameSeries(t, "mavtop_credits_remaining", series(t, fams, "mavtop_credits_remaining", dto.MetricType_GAUGE), map[string]float64{
		"workspace=acme": 8000 - 475, // the usage limit binds first
		"workspace=beta": 500 + 200 - 608,
	})
	sameSeries(t, "mavtop_credits_usage_limit", series(t, fams, "mavtop_credits_usage_limit", dto.MetricType_GAUGE), map[string]float64{"workspace=acme": 8000})
	sameSeries(t, "mavtop_credits_recharged_total", series(t, fams, "mavtop_credits_recharged_total", dto.MetricType_COUNTER), map[string]float64{
		"workspace=acme": 0, "workspace=beta": 200, "workspace=gamma": 0,
	})
	sameSeries(t, "mavtop_estimate_ratio", series(t, fams, "mavtop_estimate_ratio", dto.MetricType_GAUGE), map[string]float64{
		"operation=chat": 0.8, "operation=focus-group": 1.2,
	})
	sameSeries(t, "mavtop_estimate_jobs_total", series(t, fams, "mavtop_estimate_jobs_total", dto.MetricType_COUNTER), map[string]float64{
		"operation=chat": 1, "operation=focus-group": 1,
	})
	sameSeries(t, "mavtop_ssh_sessions", series(t, fams, "mavtop_ssh_sessions", dto.MetricType_GAUGE), map[string]float64{"": 3})
	sameSeries(t, "mavtop_feed_connected", series(t, fams, "mavtop_feed_connected", dto.MetricType_GAUGE), map[string]float64{"": 1})

	// The same numbers read from the hub's ledger, independently of the above.
	var want struct {
		used, refused      map[string]float64
		alloc, remain      map[string]float64
		usedTotal, refTot  float64
		period, periodLeft float64
	}
	want.used, want.refused, want.alloc, want.remain = map[string]float64{}, map[string]float64{}, map[string]float64{}, map[string]float64{}
	r.hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		tot := l.Totals()
		for ws, n := range tot.Used {
			want.used[ws] = float64(n)
			want.usedTotal += float64(n)
		}
		for f, n := range tot.Refused {
			ws, _, code, _ := model.SplitRefusedField(f)
			want.refused["code="+code+",workspace="+ws] += float64(n)
		}
		for _, s := range l.Summaries(nil) {
			if s.Settings.Allocation > 0 {
				want.alloc["workspace="+s.Name] = float64(s.Settings.Allocation)
			}
			if s.RemainingKnown {
				want.remain["workspace="+s.Name] = float64(s.Remaining)
			}
		}
		want.refTot = float64(l.RefusalTotals().Total())
		want.period = float64(l.Period().Start.Unix())
	})
	gotUsed := map[string]float64{}
	for k, v := range series(t, fams, "mavtop_credits_used_total", dto.MetricType_COUNTER) {
		for _, l := range strings.Split(k, ",") {
			if ws, ok := strings.CutPrefix(l, "workspace="); ok {
				gotUsed[ws] += v
			}
		}
	}
	sameSeries(t, "credits used by workspace vs ledger", gotUsed, want.used)
	sameSeries(t, "402s vs ledger", series(t, fams, "mavtop_refusals_total", dto.MetricType_COUNTER), want.refused)
	sameSeries(t, "allocation vs ledger", series(t, fams, "mavtop_credits_allocation", dto.MetricType_GAUGE), want.alloc)
	sameSeries(t, "remaining vs ledger", series(t, fams, "mavtop_credits_remaining", dto.MetricType_GAUGE), want.remain)
	if want.refTot != 3 || want.usedTotal != 300+100+50+25+608+7 {
		t.Errorf("ledger totals: %v 402s, %v credits", want.refTot, want.usedTotal)
	}
	sameSeries(t, "period start", series(t, fams, "mavtop_billing_period_start_timestamp_seconds", dto.MetricType_GAUGE), map[string]float64{"": want.period})

	// Feed stats arrive (lag, rate, counters) and the runtime collectors are there.
	waitFor(t, "feed stats", func() bool {
		return len(series(t, scrape(t, r.url), "mavtop_feed_events_total", dto.MetricType_COUNTER)) == 1
	})
	for _, name := range []string{"mavtop_feed_lag_seconds", "mavtop_feed_events_per_second", "mavtop_feed_reconnects_total", "mavtop_feed_malformed_total", "mavtop_feed_gaps_total", "go_goroutines", "process_start_time_seconds"} {
		if scrape(t, r.url)[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// TestIDsAheadAreReported: an entry whose id is an hour ahead of the clock
// pins feed_lag_seconds at 0, so a lag alert cannot fire; feed_ids_ahead_seconds
// says how far ahead the ids are, for an alert of its own.
func TestIDsAheadAreReported(t *testing.T) {
	r := startRig(t, Options{})
	r.publish(t, usage("acme", "a", "/responses", 10))
	future := time.Now().Add(time.Hour).UnixMilli()
	if err := r.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: feed.Keys{}.Stream(), ID: strconv.FormatInt(future, 10) + "-0",
		Values: []any{"v", "1", "kind", "usage", "ws", "acme", "endpoint", "/responses", "credits", "1", "status", "200", "ts", strconv.FormatInt(future, 10)}}).Err(); err != nil {
		t.Fatal(err)
	}
	var ahead map[string]float64
	waitFor(t, "ids ahead reported", func() bool {
		ahead = series(t, scrape(t, r.url), "mavtop_feed_ids_ahead_seconds", dto.MetricType_GAUGE)
		return ahead[""] > 3500
	})
	if ahead[""] > 3601 {
		t.Errorf("ids ahead %v s, want about 3,600", ahead[""])
	}
}

func TestFoldedProjectsStayFoldedAsTheyGrow(t *testing.T) {
	r := startRig(t, Options{MaxProjects: 2})
	r.publish(t, usage("acme", "a", "/responses", 10), usage("acme", "b", "/responses", 20), usage("acme", "c", "/responses", 5))
	used := func() map[string]float64 {
		return series(t, scrape(t, r.url), "mavtop_credits_used_total", dto.MetricType_COUNTER)
	}
	sameSeries(t, "first", used(), map[string]float64{
		"endpoint=/responses,project=a,workspace=acme":     10,
		"endpoint=/responses,project=b,workspace=acme":     20,
		"endpoint=/responses,project=other,workspace=acme": 5,
	})
	// c outgrows a and a newcomer arrives: the named series keep their names, so
	// no counter ever goes down (a drop would read as a reset to rate()).
	r.publish(t, usage("acme", "c", "/responses", 100), usage("acme", "d", "/responses", 1000))
	sameSeries(t, "later", used(), map[string]float64{
		"endpoint=/responses,project=a,workspace=acme":     10,
		"endpoint=/responses,project=b,workspace=acme":     20,
		"endpoint=/responses,project=other,workspace=acme": 1105,
	})
}

func TestListen(t *testing.T) {
	for in, want := range map[string]string{"9464": "127.0.0.1:9464", ":9464": "127.0.0.1:9464", "0.0.0.0:9464": "0.0.0.0:9464", "[::1]:9464": "[::1]:9464", "localhost:1": "localhost:1"} {
		if got, err := ListenAddr(in); err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	ln, err := Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !IsLoopback(ln.Addr()) {
		t.Errorf("a port-only address bound %s", ln.Addr())
	}
	_, err = Listen(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("second listen on %s: %v", ln.Addr(), err)
	}
	if _, err := Listen("127.0.0.1:99999"); err == nil {
		t.Error("a bad port was accepted")
	}
}

// TestScrapeSurvivesNamesThatAreNotUTF8 (issue 10): a counter hash field that is
// not UTF-8, or holds terminal sequences, must not take /metrics down (it used
// to answer 500, every series gone): the scrape answers 200 with every label
// valid UTF-8 and the feed's own series present.
func TestScrapeSurvivesNamesThatAreNotUTF8(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	p := model.MonthlyUTC.At(time.Now()).Key
	k := feed.Keys{}
	for field, n := range map[string]int64{"bad\xe9": 5, "acme": 3} {
		if err := c.HIncrBy(ctx, k.Used(p), field, n).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for field, n := range map[string]int64{"acme/p\xff/\x1b]2;x\a": 3, "bad\xe9//\xe9": 5} {
		if err := c.HIncrBy(ctx, k.UsedBy(p), field, n).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.HIncrBy(ctx, k.Refused(p), "acme/\xfe/CODE\xe9", 1).Err(); err != nil {
		t.Fatal(err)
	}
	r := startRigOn(t, c, func() {}, Options{})
	r.publish(t, usage("acme", "", "/responses", 10))
	fams := scrape(t, r.url) // fails on anything but 200 and valid text
	if got := series(t, fams, "mavtop_feed_connected", dto.MetricType_GAUGE); got[""] != 1 {
		t.Errorf("mavtop_feed_connected = %v, want 1", got)
	}
	for name, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if !model.IsClean(l.GetValue()) {
					t.Errorf("%s: label %s=%q is not clean", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	sameSeries(t, "mavtop_credits_used_total", series(t, fams, "mavtop_credits_used_total", dto.MetricType_COUNTER), map[string]float64{
		"endpoint=/responses,project=,workspace=acme": 10,
		"endpoint=␛]2;x␇,project=,workspace=acme":     3,
	})
}

// TestResyncsAreCounted: a counter written without its stream entry is found by
// the audit, healed (the scrape shows the counters), and counted by reason.
func TestResyncsAreCounted(t *testing.T) {
	r := startRig(t, Options{})
	r.publish(t, usage("acme", "web", "/responses", 100))
	p := model.MonthlyUTC.At(time.Now()).Key
	if err := r.rdb.HIncrBy(context.Background(), feed.Keys{}.Used(p), "acme", 40).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a drift re-read counted", func() bool {
		return series(t, scrape(t, r.url), "mavtop_feed_resyncs_total", dto.MetricType_COUNTER)["reason=drift"] == 1
	})
	var used int64
	r.hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		s, _ := l.Summary("acme")
		used = s.Used
	})
	if used != 140 {
		t.Errorf("acme shows %d after the audit, the counters say 140", used)
	}
	if n := series(t, scrape(t, r.url), "mavtop_feed_audits_total", dto.MetricType_COUNTER)[""]; n < 1 {
		t.Errorf("%v audits counted", n)
	}
	// The counter written without the digest: the digest no longer sums the
	// counters, and /metrics says the audits read the counters.
	waitFor(t, "the audit off the digest", func() bool {
		return series(t, scrape(t, r.url), "mavtop_feed_audit_by_digest", dto.MetricType_GAUGE)[""] == 0
	})
}

// TestAuditByDigestIsShown: while every producer keeps the digest, /metrics
// says the audits read it, and counts them.
func TestAuditByDigestIsShown(t *testing.T) {
	r := startRig(t, Options{})
	r.publish(t, usage("acme", "web", "/responses", 100))
	waitFor(t, "audits by the digest", func() bool {
		m := scrape(t, r.url)
		return series(t, m, "mavtop_feed_audit_by_digest", dto.MetricType_GAUGE)[""] == 1 &&
			series(t, m, "mavtop_feed_digest_audits_total", dto.MetricType_COUNTER)[""] >= 1
	})
	if n := series(t, scrape(t, r.url), "mavtop_feed_digest_misses_total", dto.MetricType_COUNTER)[""]; n != 0 {
		t.Errorf("%v digest misses with one producer keeping it", n)
	}
}

// TestAKeyOfAnotherTypeIsNamed: a counter hash SET to a string is named in
// /metrics (feed_unreadable_key{key}), every workspace reads unknown
// (workspace_level NaN, counted in counters_unreadable), and the feed stays
// connected; deleted, the series goes.
func TestAKeyOfAnotherTypeIsNamed(t *testing.T) {
	srv := feedtest.StartReal(t, "WRONGTYPE needs redis-server (CI requires it)")
	r := startRigOn(t, srv.Client(), func() {}, Options{})
	r.publish(t, usage("acme", "web", "/responses", 95), usage("globex", "web", "/responses", 5))
	ctx := context.Background()
	// the used hash: every workspace's usage is unknown (a refused key of
	// another type leaves only the 402s unknown: cmd's TestAnUnreadable402CountLeavesUsageKnown)
	key := feed.Keys{}.Used(model.MonthlyUTC.At(time.Now()).Key)
	if err := r.rdb.Set(ctx, key, "oops", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the key named and both workspaces unknown", func() bool {
		m := scrape(t, r.url)
		return series(t, m, "mavtop_feed_unreadable_key", dto.MetricType_GAUGE)["key="+key] == 1 &&
			series(t, m, "mavtop_counters_unreadable", dto.MetricType_GAUGE)[""] == 2 &&
			math.IsNaN(series(t, m, "mavtop_workspace_level", dto.MetricType_GAUGE)["workspace=acme"]) &&
			series(t, m, "mavtop_feed_connected", dto.MetricType_GAUGE)[""] == 1
	})
	if err := r.rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the key no longer named", func() bool {
		m := scrape(t, r.url)
		_, named := series(t, m, "mavtop_feed_unreadable_key", dto.MetricType_GAUGE)["key="+key]
		return !named && series(t, m, "mavtop_counters_unreadable", dto.MetricType_GAUGE)[""] == 0
	})
}

// TestCreditsUsedSumToTheUsedCounter: a workspace whose used counter holds
// credits that no used_by field names (a producer writing Pattern 1's INCRBY
// alone) had no mavtop_credits_used_total series at all, and one with some
// used_by fields had fewer credits in its series than the dashboard shows.
// The rest is the series {project="",endpoint="unattributed"}: the sum over a
// workspace's series is its used counter.
func TestCreditsUsedSumToTheUsedCounter(t *testing.T) {
	srv := feedtest.StartReal(t, "the counters written by hand")
	c := srv.Client()
	ctx := context.Background()
	now := time.Now()
	cfg := model.MidPeriod(now) // mid-period whatever the hour
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetPeriod(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	p := rule.At(now).Key
	k := feed.Keys{}
	c.HSet(ctx, k.Used(p), "solo", 40, "part", 50)
	c.HSet(ctx, k.UsedBy(p), "part/web//responses", 30)
	r := startRigOn(t, c, func() {}, Options{})
	want := map[string]float64{
		"endpoint=unattributed,project=,workspace=solo":  40,
		"endpoint=/responses,project=web,workspace=part": 30,
		"endpoint=unattributed,project=,workspace=part":  20,
	}
	waitFor(t, "the used counters in series", func() bool {
		got := series(t, scrape(t, r.url), "mavtop_credits_used_total", dto.MetricType_COUNTER)
		return maps.Equal(got, want)
	})
	// an event through the producer's MULTI names its own credits
	r.publish(t, usage("solo", "", "/responses", 5))
	want["endpoint=unattributed,project=,workspace=solo"] = 40
	want["endpoint=/responses,project=,workspace=solo"] = 5
	waitFor(t, "the event named, the rest as it was", func() bool {
		return maps.Equal(series(t, scrape(t, r.url), "mavtop_credits_used_total", dto.MetricType_COUNTER), want)
	})
}
