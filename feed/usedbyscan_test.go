package feed

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// usedByAt is what a MULTI of HGETALL and XINFO STREAM at stream id at would
// have read of used_by: the hash as Redis holds it now (parsed as the whole
// read parses it), less the credits of the entries written after at.
func usedByAt(t *testing.T, c redis.UniversalClient, p model.Period, at string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	raw, err := c.HGetAll(ctx, Keys{}.UsedBy(p.Key)).Result()
	if err != nil {
		t.Fatal(err)
	}
	res := &SnapshotResult{Snap: &model.Snapshot{Period: p}, BadCounters: map[string]error{}}
	m, _ := res.parseCounts("used_by", raw, model.CleanUsedByField)
	after, err := c.XRange(ctx, Keys{}.Stream(), "("+at, "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	made := map[string]bool{} // fields the entries after at made
	for _, msg := range after {
		e, err := model.DecodeEvent(msg.ID, msg.Values)
		if err != nil || e.Kind != model.KindUsage || !p.Contains(e.TS) {
			continue
		}
		f := model.UsedByField(e.Workspace, e.Project, e.Endpoint)
		if m[f] -= e.Credits; m[f] == 0 {
			made[f] = true
		}
	}
	// a field whose every credit came after at was not there at at, unless
	// an entry up to at wrote it (a 402 adds 0)
	before, err := c.XRange(ctx, Keys{}.Stream(), "-", at).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range before {
		if e, err := model.DecodeEvent(msg.ID, msg.Values); err == nil && e.Kind == model.KindUsage {
			delete(made, model.UsedByField(e.Workspace, e.Project, e.Endpoint))
		}
	}
	for f := range made {
		delete(m, f)
	}
	return m
}

// rawUsage writes what a producer of the README's recipe writes for one
// usage call, its project and endpoint as given (not cleaned): the stream
// entry and the counters, in one MULTI.
func rawUsage(t *testing.T, c redis.UniversalClient, p model.Period, ws, project, endpoint string, credits int64) {
	t.Helper()
	ctx := context.Background()
	k := Keys{}
	_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HIncrBy(ctx, k.Used(p.Key), ws, credits)
		pipe.HIncrBy(ctx, k.UsedBy(p.Key), ws+"/"+project+"/"+endpoint, credits)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.Stream(), Values: []any{"v", "1", "ts", strconv.FormatInt(time.Now().UnixMilli(), 10),
			"ws", ws, "project", project, "endpoint", endpoint, "credits", strconv.FormatInt(credits, 10), "status", "200"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// needRedis7 skips on a redis-server older than 7, which does not count the
// entries it added: there the start reads used_by whole, as it did.
func needRedis7(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	info, err := c.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			if major, _, _ := strings.Cut(v, "."); major < "7" && len(major) == 1 {
				t.Skipf("redis-server %s does not count the entries it added (XINFO STREAM entries-added): the start reads used_by whole", v)
			}
		}
	}
}

// withPage runs the test with the scan's page at n fields.
func withPage(t *testing.T, n int64) {
	old := usedByPage
	usedByPage = n
	t.Cleanup(func() { usedByPage = old })
}

// TestTheUsedByScanEqualsHGETALL: the start's used_by read walks the hash
// with HSCAN while producers write to it — to fields the scan has passed and
// fields it has not, to new fields by the hundred (the hash grows and
// rehashes under the scan, which then returns fields twice), under project
// and endpoint names the reader cleans, and between the scan and its fix-up
// read — and returns what HGETALL read in one MULTI with the stream's id
// would have: every field equal, none missing or extra, a field returned
// twice counted once. On a real redis-server (Redis ≥ 7 counts the entries
// it added, which the read checks).
func TestTheUsedByScanEqualsHGETALL(t *testing.T) {
	srv := feedtest.StartReal(t, "no redis-server on PATH")
	c := srv.Client()
	needRedis7(t, c)
	ctx := context.Background()
	withPage(t, 40)
	p := model.MonthlyUTC.At(time.Now())
	pub := NewPublisher(c, PublisherOptions{})
	track := func(e model.Event) {
		t.Helper()
		if err := pub.Track(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// 2,000 fields written without entries (as if the stream were trimmed),
	// a few hundred with them, a junk field or two
	seed := map[string]any{}
	for i := range 2000 {
		seed[model.UsedByField(fmt.Sprintf("ws-%d", i%400), fmt.Sprintf("p%d", i/400), "/responses")] = strconv.Itoa(i)
	}
	seed["acme/not an id!/chat"] = "7"
	seed["acme//chat"] = "5" // the same clean field as the one above
	seed["beta/web/broken"] = "lots"
	if err := c.HSet(ctx, Keys{}.UsedBy(p.Key), seed).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		track(mixedEvent(i))
	}
	var pages, again int
	hook := func(stage string) {
		switch stage {
		case "page":
			pages++
			if pages%3 != 0 {
				return
			}
			// fields early and late in the scan's order, new ones by the
			// dozen, a 402 (0 credits: a field with nothing in it)
			for i := range 12 {
				track(usage(fmt.Sprintf("ws-%d", (pages*37+i*11)%400), fmt.Sprintf("p%d", i%5), "/responses", int64(i+1)))
				track(usage(fmt.Sprintf("new-%d-%d", pages, i), "web", "/mave/chat", 3))
			}
			track(refused(fmt.Sprintf("late-%d", pages), "web", "/mave/chat", model.CodeCreditsExhausted))
			rawUsage(t, c, p, "acme", "not an id!", "chat", 2)
		case "again":
			again++
			// between the scan and its fix-up: fields it reads again, one
			// it does not, a new one
			track(usage("ws-7", "p2", "/responses", 5))
			track(usage("new-3-1", "web", "/mave/chat", 4))
			track(usage("ws-399", "p4", "/responses", 6))
			track(usage(fmt.Sprintf("after-%d", again), "web", "/mave/chat", 8))
			track(refused(fmt.Sprintf("after402-%d", again), "web", "/mave/chat", model.CodeCreditsExhausted))
			rawUsage(t, c, p, "acme", "not an id!", "chat", 1)
		}
	}
	res := &SnapshotResult{Snap: &model.Snapshot{Period: p}, BadCounters: map[string]error{}}
	got, _, at, err := scanUsedBy(ctx, c, Keys{}, res, hook)
	if err != nil {
		t.Fatal(err)
	}
	if pages < 30 || again == 0 {
		t.Fatalf("%d pages, %d fix-up reads: the test wrote too little during the scan", pages, again)
	}
	want := usedByAt(t, c, p, at)
	if !maps.Equal(got, want) {
		var diff []string
		for f := range want {
			if g, ok := got[f]; !ok || g != want[f] {
				diff = append(diff, fmt.Sprintf("%s: got %d (%v), want %d", f, g, ok, want[f]))
			}
		}
		for f := range got {
			if _, ok := want[f]; !ok {
				diff = append(diff, fmt.Sprintf("%s: got %d, want none", f, got[f]))
			}
		}
		slices.Sort(diff)
		t.Fatalf("the scan read %d fields at %s, HGETALL %d; %d differ:\n%s", len(got), at, len(want), len(diff), strings.Join(diff, "\n"))
	}
	if res.BadCounters[`used_by:beta/web/broken`] == nil || res.BadCounterCount != 1 {
		t.Errorf("bad counters %v (%d), want used_by:beta/web/broken once", res.BadCounters, res.BadCounterCount)
	}
}

// TestTheStartReadsUsedByInPages: a start on a real redis-server reads the
// used_by hash in commands of at most a page each (MONITOR sees every
// command): no HGETALL of it, every HSCAN's COUNT, every HMGET's fields and
// every XRANGE's COUNT of the read at most the page, while producers write;
// nor do the audits after it (the start reads the digest, so they go by it:
// without it the first audit read every hash in one MULTI, used_by with
// them); and the ledger's project credits then equal what Redis holds.
func TestTheStartReadsUsedByInPages(t *testing.T) {
	srv := feedtest.StartReal(t, "no redis-server on PATH")
	c := srv.Client()
	needRedis7(t, c)
	ctx := context.Background()
	const page = 50
	withPage(t, page)
	p := model.MonthlyUTC.At(time.Now())
	pub := NewPublisher(c, PublisherOptions{})
	seed := map[string]any{}
	for i := range 3000 {
		seed[model.UsedByField(fmt.Sprintf("ws-%d", i%600), fmt.Sprintf("p%d", i/600), "/responses")] = "0"
	}
	if err := c.HSet(ctx, Keys{}.UsedBy(p.Key), seed).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := pub.Track(ctx, mixedEvent(i)); err != nil {
			t.Fatal(err)
		}
	}

	// MONITOR on a plain connection: go-redis v9.23's Monitor races its own
	// pool (the race detector caught putConn reading the buffer its reader
	// goroutine fills, and the lines stopped: "0 HSCANs seen")
	mon, err := net.Dial("tcp", c.(*redis.Client).Options().Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Close() })
	monr := bufio.NewReader(mon)
	if _, err := mon.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	if ok, err := monr.ReadString('\n'); err != nil || ok != "+OK\r\n" {
		t.Fatalf("MONITOR: %q, %v", ok, err) // on once it answers
	}
	cmds := make(chan string, 100_000)
	go func() {
		defer close(cmds)
		for {
			line, err := monr.ReadString('\n')
			if err != nil {
				return
			}
			cmds <- strings.TrimSuffix(strings.TrimPrefix(line, "+"), "\r\n")
		}
	}()
	var seen []string
	var seenMu sync.Mutex
	go func() {
		for line := range cmds {
			seenMu.Lock()
			seen = append(seen, line)
			seenMu.Unlock()
		}
	}()

	var (
		mu    sync.Mutex
		state LedgerState
		done  bool
		stats StatsMsg
		whole bool
		pages int
	)
	opt := SubscriberOptions{Block: 100 * time.Millisecond, HistoryLimit: -1, AuditEvery: 20 * time.Millisecond, StatsEvery: 10 * time.Millisecond, Backoff: &Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
	opt.usedByHook = func(stage string) {
		switch stage {
		case "page":
			pages++
			if pages%4 == 0 {
				for i := range 5 {
					if err := pub.Track(ctx, usage(fmt.Sprintf("ws-%d", (pages*31+i)%600), "p1", "/responses", 3)); err != nil {
						t.Error(err)
					}
				}
			}
		case "whole":
			whole = true
		}
	}
	runState(t, c, opt, &mu, &state, func(m Msg) {
		switch m := m.(type) {
		case *UsedByMsg:
			done = true
		case *StatsMsg:
			stats = *m
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ok := done
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the used_by read did not come")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for { // and some audits after it
		mu.Lock()
		ok := stats.Audits >= 3
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no audits after the start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the last commands reach the monitor
	seenMu.Lock()
	start := slices.Clone(seen) // the start's commands, before this test's own reads
	seenMu.Unlock()
	tail, err := c.XRevRangeN(ctx, Keys{}.Stream(), "+", "-", 1).Result()
	if err != nil || len(tail) != 1 {
		t.Fatal(err)
	}
	for {
		mu.Lock()
		ok := compareIDs(state.Ledger.StreamID(), tail[0].ID) >= 0
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the follow did not reach the stream's end")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	got := countersOf(state.Ledger.Totals())
	mu.Unlock()
	if want := redisCounters(t, c, time.Now()); !got.equal(want) {
		t.Errorf("ledger:\n%v\nredis:\n%v", got, want)
	}
	if whole || pages < 3000/page/2 {
		t.Fatalf("read whole %v, %d pages: want the scan, %d pages or more", whole, pages, 3000/page/2)
	}
	key := strings.ToLower(Keys{}.UsedBy(p.Key))
	var scans, rereads int
	for _, line := range start {
		l := strings.ToLower(line)
		args := monitorArgs(l)
		if len(args) == 0 {
			continue
		}
		switch args[0] {
		case "hgetall":
			if len(args) > 1 && args[1] == key {
				t.Errorf("the start read used_by whole: %s", line)
			}
		case "hscan":
			scans++
			// the start's read a page; the audits' (scanAgrees) theirs
			if n := countArg(args); n <= 0 || n > max(page, scanPage) {
				t.Errorf("HSCAN with COUNT %d, want 1 to %d: %s", n, max(page, scanPage), line)
			}
		case "hmget":
			rereads++
			if len(args)-2 > page {
				t.Errorf("HMGET of %d fields, want at most %d", len(args)-2, page)
			}
		case "xrange", "xrevrange":
			if n := countArg(args); n <= 0 || n > max(page, usedByMaxGap+1, maxScanEntries+2) {
				t.Errorf("%s without a bounded COUNT: %s", args[0], line)
			}
		}
	}
	if scans < 3000/page/2 {
		t.Errorf("%d HSCANs seen by MONITOR, want %d or more", scans, 3000/page/2)
	}
	t.Logf("%d HSCAN, %d HMGET seen", scans, rereads)
}

// monitorArgs splits a MONITOR line (`1700000000.123456 [0 127.0.0.1:1234]
// "hscan" "key" "0" "count" "50"`) into its quoted arguments.
func monitorArgs(line string) []string {
	var args []string
	for {
		i := strings.IndexByte(line, '"')
		if i < 0 {
			return args
		}
		line = line[i+1:]
		var b strings.Builder
		for len(line) > 0 && line[0] != '"' {
			if line[0] == '\\' && len(line) > 1 {
				b.WriteByte(line[1])
				line = line[2:]
				continue
			}
			b.WriteByte(line[0])
			line = line[1:]
		}
		args = append(args, b.String())
		if len(line) > 0 {
			line = line[1:]
		}
	}
}

// countArg is the COUNT argument of a command, -1 when none.
func countArg(args []string) int {
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "count" {
			n, err := strconv.Atoi(args[i+1])
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
