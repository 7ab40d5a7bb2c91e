package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestEmitExitsZeroWhenTheEventIsRecorded: a key emit writes holding a string
// makes Redis refuse that one write and run the rest. The event is recorded,
// so emit exits 0 and says on stderr which key, what it holds and that a
// retry would count twice; a script that retries until exit 0 records the
// event once: Redis's counters and stream hold it once, every key but the
// refused one. It exited 1 ("writes nothing") while Redis held the event.
// The key of another type keeps its own TTL:
// the period's EXPIREAT, queued beside the refused write, gave it 35 days past
// the period's end; the hashes written get it.
func TestEmitExitsZeroWhenTheEventIsRecorded(t *testing.T) {
	srv := feedtest.Start(t)
	t.Setenv("REDIS_URL", srv.URL)
	c := srv.Client()
	ctx := context.Background()
	k := feed.Keys{}
	refusal := []string{"--ws", "acme", "--project", "research", "--endpoint", "/mave/chat", "--credits", "3",
		"--status", "402", "--code", "credits_exhausted", "--retry-for", "0"}
	recharge := []string{"--ws", "acme", "--kind", "recharge", "--credits", "500", "--retry-for", "0"}
	// Each key a 402 or a recharge touches. The period is the one emit stamps
	// (now): read at the test's start and end, a test crossing a month end
	// says so rather than failing on it.
	p := model.MonthlyUTC.At(time.Now())
	for _, tc := range []struct {
		key, part string
		args      []string
	}{
		{k.Used(p.Key), "the used counter", refusal},
		{k.UsedBy(p.Key), "the used-by-endpoint counter", refusal},
		{k.Refused(p.Key), "the refusals counter", refusal},
		{k.Digest(p.Key), "the audit digest", refusal},
		{k.Stream(), "the stream entry", refusal},
		{k.Recharged(p.Key), "the recharged counter", recharge},
	} {
		t.Run(tc.part, func(t *testing.T) {
			c.FlushAll(ctx)
			c.Set(ctx, tc.key, "x", 2*time.Hour) // not emit's: its TTL is its owner's
			var out, errOut string
			tries := 0
			for code := -1; code != 0 && tries < 3; tries++ { // a script that retries on failure
				out, errOut, code = runMavtop(t, append([]string{"emit"}, tc.args...)...)
			}
			if model.MonthlyUTC.At(time.Now()).Key != p.Key {
				t.Skip("the month changed during the test")
			}
			if tries != 1 || !strings.Contains(errOut, "warning: event recorded, but") || !strings.Contains(errOut, tc.key+" ("+tc.part+")") ||
				!strings.Contains(errOut, "holds a string") || !strings.Contains(errOut, "do not emit it again") {
				t.Errorf("took %d runs; stderr %q; want exit 0 at once, naming %s", tries, errOut, tc.key)
			}
			if strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr %q: want one warning line per refused key", errOut)
			}
			n, _ := c.XLen(ctx, k.Stream()).Result()
			want := map[string]string{
				k.Used(p.Key) + " acme":                               "3",
				k.UsedBy(p.Key) + " acme/research//mave/chat":         "3",
				k.Refused(p.Key) + " acme/research/credits_exhausted": "1",
				k.Digest(p.Key) + " " + feed.DigestUsedField("acme"):  "3",
			}
			lead := "refusal recorded "
			if tc.args[3] == "recharge" {
				want = map[string]string{k.Recharged(p.Key) + " acme": "500", k.Used(p.Key) + " acme": "0"}
				lead = "recharge recorded "
			}
			if tc.key == k.Stream() {
				if n != 0 || !strings.HasPrefix(out, lead+"without a stream entry:") {
					t.Errorf("stream %d entries, stdout %q; want none, said so", n, out)
				}
			} else if n != 1 || !strings.HasPrefix(out, lead+"1") {
				t.Errorf("stream %d entries, stdout %q; want 1, its id printed", n, out)
			}
			for kf, v := range want {
				key, field, _ := strings.Cut(kf, " ")
				if key == tc.key {
					continue
				}
				if got, err := c.HGet(ctx, key, field).Result(); got != v {
					t.Errorf("HGET %s %s = %q (%v), want %s: the event once", key, field, got, err, v)
				}
				if ttl := c.TTL(ctx, key).Val(); ttl < 30*24*time.Hour {
					t.Errorf("TTL %s = %v: want the period's, 35 days past its end", key, ttl)
				}
			}
			if typ, ttl := c.Type(ctx, tc.key).Val(), c.TTL(ctx, tc.key).Val(); typ != "string" || ttl <= 0 || ttl > 2*time.Hour {
				t.Errorf("%s: %s, TTL %v after emit; want the string it was, its own TTL (2h) untouched", tc.key, typ, ttl)
			}
		})
	}
	// --json carries the warnings too.
	c.FlushAll(ctx)
	c.Set(ctx, k.Digest(p.Key), "x", 0)
	out, errOut, code := runMavtop(t, append([]string{"emit", "--json"}, refusal...)...)
	var got struct {
		ID       string   `json:"id"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || got.ID == "" || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], k.Digest(p.Key)) {
		t.Errorf("--json: exit %d, stdout %q (%v), stderr %q; want the id and one warning naming the digest", code, out, err, errOut)
	}
}

// TestEmitExitsOneOnlyWhenNothingWasWritten: Redis refusing the whole write
// (the settings key holding a string, so the period cannot be read; out of
// memory, so the MULTI is aborted) exits 1, says nothing was written and names
// the key it can, and Redis holds nothing of the event: a retry is safe.
func TestEmitExitsOneOnlyWhenNothingWasWritten(t *testing.T) {
	srv := feedtest.StartReal(t, "needs CONFIG SET maxmemory")
	t.Setenv("REDIS_URL", srv.URL)
	c := srv.Client()
	ctx := context.Background()
	args := []string{"emit", "--ws", "acme", "--endpoint", "/responses", "--credits", "5", "--retry-for", "0"}
	c.Set(ctx, feed.Keys{}.Settings(), "x", 0)
	_, errOut, code := runMavtop(t, args...)
	if code != 1 || !strings.Contains(errOut, feed.Keys{}.Settings()) || !strings.Contains(errOut, "nothing written") {
		t.Errorf("settings holding a string: exit %d, stderr %q; want 1 naming the key", code, errOut)
	}
	if n, _ := c.DBSize(ctx).Result(); n != 1 {
		t.Errorf("Redis holds %d keys, want the settings key alone", n)
	}
	c.Del(ctx, feed.Keys{}.Settings())
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runMavtop(t, args...)
	c.ConfigSet(ctx, "maxmemory", "0")
	if code != 1 || !strings.Contains(errOut, "EXECABORT") || !strings.Contains(errOut, "nothing written") {
		t.Errorf("out of memory: exit %d, stderr %q; want 1", code, errOut)
	}
	if n, _ := c.DBSize(ctx).Result(); n != 0 {
		t.Errorf("Redis holds %d keys after an aborted MULTI, want 0", n)
	}
}

// TestEmitAfterALostReply: the write reaches Redis and runs, but its reply is
// lost. While Redis can still be asked, emit asks (the publisher's acks) and
// exits 0, the event recorded once; when Redis is gone for --retry-for right
// after EXEC, emit exits 3 ("may or may not be recorded"), not 1 ("nothing
// written"): Redis does hold the event, so a retry on 1 would count it twice.
func TestEmitAfterALostReply(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	used := acmeUsed(c)
	for _, tc := range []struct {
		name   string
		refuse bool
		code   int
		says   string
	}{
		{"Redis still there", false, 0, "usage recorded (stream id unknown: the reply was lost, Redis confirmed the write): 7 credits"},
		{"Redis gone after EXEC", true, 3, "may or may not be recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.FlushAll(ctx)
			proxy := feedtest.StartExecCut(t, srv.Addr, tc.refuse)
			out, errOut, code := runMavtop(t, emitAcme(proxy.URL, "7", "--retry-for", "1s")...)
			if proxy.Cuts() != 1 {
				t.Fatalf("the proxy cut %d connections at EXEC, want 1 (exit %d, %q, %q)", proxy.Cuts(), code, out, errOut)
			}
			t.Logf("exit %d, stdout %q, stderr %q", code, out, errOut)
			if code != tc.code || !strings.Contains(out+errOut, tc.says) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d saying %q", code, out, errOut, tc.code, tc.says)
			}
			waitUntil(t, 10*time.Second, "Redis to hold the event", func() bool { return used() == "7" })
			emittedOnce(t, c, "7")
		})
	}
}

// TestEmitEventIDMakesRetriesSafe: a script that emits again with the same
// --event-id after any exit status records the event once. After an unknown
// outcome (exit 3: Redis gone right after EXEC, which ran) the retry finds the
// event recorded and writes nothing; after "nothing written" (exit 1) the
// retry writes it; a third run writes nothing. Redis's counters and stream
// hold each event once.
func TestEmitEventIDMakesRetriesSafe(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	k := feed.Keys{}
	used := acmeUsed(c)
	ev := func(url, id, credits string) []string {
		return emitAcme(url, credits, "--event-id", id, "--retry-for", "1s")
	}
	proxy := feedtest.StartExecCut(t, srv.Addr, true)
	out0, errOut, code := runMavtop(t, ev(proxy.URL, "req-1", "7")...)
	if code != 3 || proxy.Cuts() != 1 || !strings.Contains(errOut, "emitting it again with --event-id req-1 is safe") {
		t.Fatalf("Redis gone after EXEC: exit %d, stdout %q, stderr %q, cuts %d; want 3 saying a retry is safe", code, out0, errOut, proxy.Cuts())
	}
	waitUntil(t, 10*time.Second, "Redis to hold the event", func() bool { return used() == "7" })
	out, errOut, code := runMavtop(t, ev(srv.URL, "req-1", "7")...)
	if code != 0 || !strings.HasPrefix(out, "already recorded: an earlier emit with --event-id req-1") {
		t.Errorf("retry after exit 3: exit %d, stdout %q, stderr %q; want 0, already recorded", code, out, errOut)
	}

	c.Set(ctx, k.Settings(), "x", 0)
	if _, errOut, code := runMavtop(t, ev(srv.URL, "req-2", "4")...); code != 1 {
		t.Fatalf("settings holding a string: exit %d, stderr %q; want 1", code, errOut)
	}
	c.Del(ctx, k.Settings())
	for i, want := range []string{"usage recorded 1", "already recorded"} {
		out, errOut, code := runMavtop(t, ev(srv.URL, "req-2", "4")...)
		if code != 0 || !strings.HasPrefix(out, want) {
			t.Errorf("run %d after exit 1: exit %d, stdout %q, stderr %q; want 0, %q", i+2, code, out, errOut, want)
		}
	}
	if n, _ := c.XLen(ctx, k.Stream()).Result(); n != 2 || used() != "11" {
		t.Errorf("Redis holds used %s in %d entries; want 7 + 4 in 2", used(), n)
	}
	if _, errOut, code := runMavtop(t, ev(srv.URL, "req 3", "1")...); code != 2 || !strings.Contains(errOut, "--event-id") {
		t.Errorf("a bad --event-id: exit %d, stderr %q; want 2", code, errOut)
	}
}
