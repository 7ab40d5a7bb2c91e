package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestCheckReadsTheHourBackOnceForItsRefusals: a budget_exceeded 402 counted
// this period makes check read the last hour back (whether it still stands:
// model.RefusalUndecided). It reads the hour once, decoding only the entries
// of the workspaces it must decide, and judges each as before: a 402 in the
// hour with no success of its project after it holds the limit reached, one
// older than the hour holds nothing. Before, the hour was read twice (a
// second time seeding every workspace the first read named): 25k entries
// took 26 XREVRANGEs of 2,000, now 3 of 10,000 (with the one of the newest
// entries, feed.ReadNewest).
func TestCheckReadsTheHourBackOnceForItsRefusals(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	cfg := model.MidPeriod(now) // the hour read back lies in this period (stored after the entries)
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	pk := rule.At(now).Key
	keys := feed.Keys{}
	const n, entries = 300, 25_000
	used, refused := map[string]any{}, map[string]any{}
	settings := map[string]any{}
	held := map[string]bool{}
	for i := range n {
		ws := fmt.Sprintf("w%03d", i)
		used[ws] = 100 + i
		settings[ws] = `{"allocation":100000}`
		if i%30 == 0 {
			refused[model.RefusedField(ws, "p1", model.CodeBudgetExceeded)] = 1
			held[ws] = i%60 == 0 // its 402 in the hour; the others' is older
		}
	}
	for key, h := range map[string]map[string]any{keys.Used(pk): used, keys.Refused(pk): refused, keys.Settings(): settings} {
		if err := f.c.HSet(f.ctx, key, h).Err(); err != nil {
			t.Fatal(err)
		}
	}
	start := now.Add(-50 * time.Minute).UnixMilli()
	pipe := f.c.Pipeline()
	k := 0
	add := func(ts int64, e model.Event) {
		e.TS = ts
		pipe.XAdd(f.ctx, &redis.XAddArgs{Stream: keys.Stream(), ID: fmt.Sprintf("%d-%d", ts, k), Values: e.Fields()})
		k++
	}
	for ws, in := range held {
		if in {
			add(start, model.Event{Workspace: ws, Project: "p1", Endpoint: "/responses", Status: 402, Code: model.CodeBudgetExceeded})
		}
	}
	for j := range entries {
		// successes of other projects only: nothing after the 402s decides them
		add(start+1+int64(j)*100, model.Event{Workspace: fmt.Sprintf("w%03d", j%n), Project: "p2", Endpoint: "/responses", Status: 200, Credits: 1})
	}
	if _, err := pipe.Exec(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetPeriod(f.ctx, cfg); err != nil { // its settings entry is the newest
		t.Fatal(err)
	}
	before := xrevranges(t, f.c)
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	// a minute for Redis to answer: the 5 s default timed the hour's read out
	// on a loaded machine (exit 3, "i/o timeout"); what is asserted is the
	// reads and the verdicts, not the speed
	code := run(root, []string{"check", "--json", "--redis-timeout=1m", "--redis=" + f.srv.URL}, &out)
	pages := xrevranges(t, f.c) - before
	var got struct {
		Workspaces []struct {
			Workspace    string `json:"workspace"`
			Verdict      string `json:"verdict"`
			LimitReached bool   `json:"limit_reached"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("exit %d: %v: %.300s", code, err, out.String())
	}
	if code != checkCritical || len(got.Workspaces) != n {
		t.Fatalf("exit %d, %d rows, want %d (critical): %.300s", code, len(got.Workspaces), checkCritical, out.String())
	}
	for _, r := range got.Workspaces {
		in, refusedWS := held[r.Workspace]
		if want := refusedWS && in; r.LimitReached != want || want != (r.Verdict == "critical") {
			t.Errorf("%s: limit_reached %v, verdict %s; want held %v", r.Workspace, r.LimitReached, r.Verdict, want)
		}
	}
	if pages > 5 {
		t.Errorf("check sent %d XREVRANGEs for %d entries in the hour: it read the hour back more than once", pages, entries)
	}
}
