package feed

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// runPattern1 runs the seed's Pattern 1 code unchanged (testdata/pattern1.py)
// against url, calling track_credits for responses lo..hi-1, and returns what
// its get_tracked_usage says afterwards.
func runPattern1(t *testing.T, url string, lo, hi int) map[string]int64 {
	t.Helper()
	pyOnce.Do(func() { pyPath = pythonWithRedis() })
	py := pyPath
	if py == "" {
		if os.Getenv(feedtest.RequireEnv) == "1" {
			t.Fatal("no python3 with redis-py (apt-get install python3-redis): the seed's Pattern 1 code cannot be run")
		}
		t.Skip("no python3 with redis-py")
	}
	seed, err := os.ReadFile("testdata/pattern1.py")
	if err != nil {
		t.Fatal(err)
	}
	calls, err := os.ReadFile("testdata/pattern1_calls.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-", strconv.Itoa(lo), strconv.Itoa(hi))
	cmd.Stdin = strings.NewReader(string(seed) + "\n" + string(calls))
	cmd.Env = append(os.Environ(), "REDIS_URL="+url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the seed's Pattern 1 code: %v\n%s", err, out)
	}
	got := map[string]int64{}
	for _, f := range strings.Fields(string(out)) {
		ws, v, _ := strings.Cut(f, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("get_tracked_usage printed %q", out)
		}
		got[ws] = n
	}
	return got
}

// pyPath is the Python that runs the seed's code, looked for once.
var (
	pyOnce sync.Once
	pyPath string
)

// pattern1Want is what responses 0..hi-1 of pattern1_calls.py add up to.
func pattern1Want(hi int) map[string]int64 {
	want := map[string]int64{}
	for i := range hi {
		want[[]string{"acme", "beta", "default"}[i%3]] += int64(i%7 + 1)
	}
	return want
}

// sourceRun runs a Source into a LedgerState, as the hub does.
type sourceRun struct {
	mu    sync.Mutex
	state LedgerState
	snaps []SnapshotMsg
	conns []ConnMsg
}

func runSource(t *testing.T, src Source) *sourceRun {
	t.Helper()
	r := &sourceRun{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.Run(ctx, func(m Msg) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.state.Apply(m)
			switch m := m.(type) {
			case *SnapshotMsg:
				r.snaps = append(r.snaps, *m)
			case *ConnMsg:
				r.conns = append(r.conns, *m)
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *sourceRun) used() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int64{}
	if r.state.Ledger == nil {
		return out
	}
	for _, s := range r.state.Ledger.Summaries(nil) {
		if s.Used != 0 {
			out[s.Name] = s.Used
		}
	}
	return out
}

func (r *sourceRun) waitUsed(t *testing.T, want map[string]int64, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !maps.Equal(r.used(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the ledger holds %v, want %v", what, r.used(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPattern1CountersAreFollowedExactly runs the seed's own track_credits
// (redis-py, unchanged) before and while a CounterSource follows, by polling
// and then by keyspace notifications alone, and through a key deleted under
// it: the ledger always ends equal to what the seed's get_tracked_usage says.
func TestPattern1CountersAreFollowedExactly(t *testing.T) {
	srv := feedtest.StartReal(t, "the seed's code runs against redis-server (CI requires it)")
	c := srv.Client()
	ctx := context.Background()
	if seen := runPattern1(t, srv.URL, 0, 90); !maps.Equal(seen, pattern1Want(90)) {
		t.Fatalf("get_tracked_usage says %v, want %v", seen, pattern1Want(90))
	}
	if k, err := DetectSource(ctx, c, Keys{}, SourceAuto, DefaultCounterPattern, time.Now()); err != nil || k != SourceCounters {
		t.Fatalf("auto picks %q (%v), want counters when only Pattern 1 keys exist", k, err)
	}
	if err := NewSettingsStore(c, StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if k, _ := DetectSource(ctx, c, Keys{}, SourceAuto, DefaultCounterPattern, time.Now()); k != SourceCounters {
		t.Fatalf("auto picks %q after a budget was set, want counters still", k)
	}

	src, err := NewCounterSource(c, CounterOptions{Every: 50 * time.Millisecond, ScanCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := runSource(t, src)
	r.waitUsed(t, pattern1Want(90), "the start snapshot")
	seen := runPattern1(t, srv.URL, 90, 300)
	r.waitUsed(t, seen, "polling")
	if !maps.Equal(seen, pattern1Want(300)) {
		t.Fatalf("get_tracked_usage says %v, want %v", seen, pattern1Want(300))
	}
	r.mu.Lock()
	s, _ := r.state.Ledger.Summary("acme")
	note := r.snaps[0].Source
	r.mu.Unlock()
	if s.Settings.Allocation != 1000 || s.Used != seen["acme"] || note != CounterLabel {
		t.Errorf("acme: used %d of %d (want %d of 1000); source %q", s.Used, s.Settings.Allocation, seen["acme"], note)
	}

	// A key that expired or was deleted: start over from what is left.
	if err := c.Del(ctx, "mavera:credits_used:current_period:beta").Err(); err != nil {
		t.Fatal(err)
	}
	delete(seen, "beta")
	r.waitUsed(t, seen, "after beta's key was deleted")

	// Keyspace notifications alone (polls an hour apart) keep it exact too.
	if err := c.ConfigSet(ctx, "notify-keyspace-events", "K$").Err(); err != nil {
		t.Fatal(err)
	}
	src2, err := NewCounterSource(srv.Client(), CounterOptions{Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r2 := runSource(t, src2)
	r2.waitUsed(t, seen, "the second source's snapshot")
	for n := int64(0); n == 0; { // the source has subscribed before the writes it must see
		var err error
		if n, err = c.PubSubNumPat(ctx).Result(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	more := runPattern1(t, srv.URL, 300, 400)
	r2.waitUsed(t, more, "keyspace notifications")
}

func TestCounterPatternMustBeAPrefix(t *testing.T) {
	for _, p := range []string{"", "*", "mavera:*:x", "mavera:[ab]*", "mavera:credits", "a?*"} {
		if _, err := CounterPrefix(p); err == nil {
			t.Errorf("CounterPrefix(%q) accepted it", p)
		}
	}
	if p, err := CounterPrefix(DefaultCounterPattern); err != nil || p != "mavera:credits_used:current_period:" {
		t.Errorf("CounterPrefix(default) = %q, %v", p, err)
	}
}

// TestAutoSourcePicksTheStreamWhenItIsInUse: Pattern 1 keys left over from
// before a migration do not win over the stream contract, even at the start of
// a period nobody has written in yet.
func TestAutoSourcePicksTheStreamWhenItIsInUse(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	now := time.Now()
	if err := c.Set(ctx, "mavera:credits_used:current_period:acme", 5, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if k, err := DetectSource(ctx, c, Keys{}, SourceAuto, DefaultCounterPattern, now); err != nil || k != SourceCounters {
		t.Fatalf("only Pattern 1 keys: auto picks %q (%v), want counters", k, err)
	}
	cur := model.MonthlyUTC.At(now)
	prev := model.MonthlyUTC.At(cur.Start.Add(-time.Millisecond))
	if err := c.HSet(ctx, Keys{}.Used(prev.Key), "acme", 7).Err(); err != nil {
		t.Fatal(err)
	}
	if k, err := DetectSource(ctx, c, Keys{}, SourceAuto, DefaultCounterPattern, now); err != nil || k != SourceStream {
		t.Fatalf("last period's stream counters exist: auto picks %q (%v), want stream", k, err)
	}
	if err := c.Del(ctx, Keys{}.Used(prev.Key)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := NewPublisher(c, PublisherOptions{}).Track(ctx, usage("beta", "", "/responses", 1)); err != nil {
		t.Fatal(err)
	}
	if k, err := DetectSource(ctx, c, Keys{}, SourceAuto, DefaultCounterPattern, now); err != nil || k != SourceStream {
		t.Fatalf("this period's stream counters exist: auto picks %q (%v), want stream", k, err)
	}
	for _, k := range []SourceKind{SourceStream, SourceCounters} {
		if got, err := DetectSource(ctx, c, Keys{}, k, DefaultCounterPattern, now); err != nil || got != k {
			t.Errorf("DetectSource(%q) = %q, %v", k, got, err)
		}
	}
}

func TestCounterPollsTakeAtMostTheirShare(t *testing.T) {
	for _, tc := range []struct {
		every, took time.Duration
		share       float64
		want        time.Duration
	}{
		{5 * time.Second, 2 * time.Millisecond, 0.01, 5 * time.Second},
		{5 * time.Second, 80 * time.Millisecond, 0.01, 8 * time.Second},
		{50 * time.Millisecond, time.Second, 0.05, 20 * time.Second},
	} {
		got := pollPause(tc.every, tc.took, tc.share)
		if got != tc.want {
			t.Errorf("pollPause(%v, %v, %g) = %v, want %v", tc.every, tc.took, tc.share, got, tc.want)
		}
		if share := float64(tc.took) / float64(tc.took+got); share > tc.share {
			t.Errorf("a poll of %v every %v takes %.3f of the time, more than %g", tc.took, tc.took+got, share, tc.share)
		}
	}
}

// TestUnreadableCountersAreNamedToViewers: a counter a producer wrote as a
// float (INCRBYFLOAT), a negative or a value past int64 leaves its workspace out
// of the ledger; the snapshot names it (SnapshotMsg.BadCounters) so a viewer
// can say so, as check does, also when the counter goes bad under a running
// source (the poll that sees it fall starts a new snapshot).
func TestUnreadableCountersAreNamedToViewers(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	const p = "mavera:credits_used:current_period:"
	for k, v := range map[string]string{"acme": "40", "neg": "-5", "over": "99999999999999999999"} {
		if err := c.Set(ctx, p+k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	src, err := NewCounterSource(c, CounterOptions{Every: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := runSource(t, src)
	r.waitUsed(t, map[string]int64{"acme": 40}, "the start")
	bad := func() map[string]string {
		r.mu.Lock()
		defer r.mu.Unlock()
		out := map[string]string{}
		if n := len(r.snaps); n > 0 {
			for k, why := range r.snaps[n-1].BadCounters {
				out[k] = why.Error()
			}
		}
		return out
	}
	want := map[string]string{p + "neg": "-5 is negative", p + "over": `"99999999999999999999" is not an integer`}
	if got := bad(); !maps.Equal(got, want) {
		t.Fatalf("the start's snapshot names %v, want %v", got, want)
	}
	if err := c.IncrByFloat(ctx, p+"acme", 0.5).Err(); err != nil {
		t.Fatal(err)
	}
	r.waitUsed(t, map[string]int64{}, "acme's counter made a float")
	want[p+"acme"] = `"40.5" is not an integer`
	if got := bad(); !maps.Equal(got, want) {
		t.Fatalf("the re-read names %v, want %v", got, want)
	}
}

// TestCounterReadingsAreOrderedByRedisClock: every reading of the Pattern 1
// counters carries Redis's TIME before and after it (model.ReadPosition),
// so that two instances polling on their own cadences know which of them
// has read further (issue 11: one that had not polled yet resolved what the
// other fired). The snapshot's From is not after a write made before it
// and its To is after the TIME read once it is done; a poll that finds
// nothing new still moves the ledger's reading forward, never back; a
// reading begun after another's To holds every change that one held.
func TestCounterReadingsAreOrderedByRedisClock(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "mavera:credits_used:current_period:acme", 5, 0).Err(); err != nil {
		t.Fatal(err)
	}
	serverNow := func() string {
		tm, err := c.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return model.ServerTimeID(tm.Unix(), int64(tm.Nanosecond()/1000))
	}
	before := serverNow()
	src, err := NewCounterSource(c, CounterOptions{Every: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := runSource(t, src)
	r.waitUsed(t, map[string]int64{"acme": 5}, "the snapshot")
	read := func() (string, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.state.Ledger.ReadTo()
	}
	from0, to0 := read()
	if from0 == "" || model.CompareStreamIDs(from0, before) < 0 || model.CompareStreamIDs(to0, from0) <= 0 {
		t.Fatalf("the snapshot's reading: from %q to %q, want from at or after %q and to after it", from0, to0, before)
	}
	// nothing written: the polls move the reading forward all the same
	deadline := time.Now().Add(30 * time.Second)
	for {
		from, to := read()
		if model.CompareStreamIDs(from, to0) >= 0 && model.CompareStreamIDs(to, from) > 0 {
			break
		}
		if model.CompareStreamIDs(from, from0) < 0 || model.CompareStreamIDs(to, to0) < 0 {
			t.Fatalf("the reading went back: from %q to %q after from %q to %q", from, to, from0, to0)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no poll began after the snapshot's reading ended: from %q to %q (snapshot's to %q)", from, to, to0)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// a write, then a reading that began after it holds it
	if err := c.IncrBy(ctx, "mavera:credits_used:current_period:acme", 7).Err(); err != nil {
		t.Fatal(err)
	}
	wrote := serverNow()
	for {
		from, _ := read()
		if model.CompareStreamIDs(from, wrote) > 0 {
			if got := r.used()["acme"]; got != 12 {
				t.Fatalf("a reading from %q, after the write at %q, holds acme %d, want 12 (what Redis holds)", from, wrote, got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no poll began after the write at %q", wrote)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, err := c.Get(ctx, "mavera:credits_used:current_period:acme").Int64(); err != nil || v != 12 {
		t.Fatalf("GET: %d %v", v, err)
	}
}
