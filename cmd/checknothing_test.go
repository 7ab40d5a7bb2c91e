package cmd

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestCheckOnNothingMeasuredIsUnknown: settings are no measure. With
// workspace settings (as `mavtop budget set` writes them, a settings entry in
// the stream included) and nothing a producer wrote, `check --source stream`
// (and auto, which falls back to it) said "MAVTOP OK - 1 workspace", 0 used,
// exit 0, for ever: a db or key prefix no producer writes to went green. It is
// UNKNOWN, nothing to judge, with every figure of the rows U in the perfdata
// and null in --json (not used=0, 402=0c). So is a stream holding usage events
// of this period while this period's counters are empty (the counters are
// missing, not zero). A quiet start of a period is still OK: the last
// period's counter, or an older usage event in the stream, says a producer
// writes here. Real redis-server; the period is model.MidPeriod's, stored.
func TestCheckOnNothingMeasuredIsUnknown(t *testing.T) {
	f := newFixture(t)
	keys := feed.Keys{}
	now := time.Now()
	cfg := model.MidPeriod(now)
	if err := f.store.SetPeriod(f.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	p := rule.At(now)
	prev := rule.At(p.Start.Add(-time.Millisecond))
	f.allocate(t, 1000, "acme")
	if err := f.store.SetProject(f.ctx, "acme", "p1", model.ProjectBudget{Limit: 500}); err != nil {
		t.Fatal(err)
	}
	r := "--redis=" + f.srv.URL

	type row struct {
		Workspace string `json:"workspace"`
		Used      *int64 `json:"used"`
		Refused   *int64 `json:"refused_402"`
		Check     string `json:"check"`
		Projects  []struct {
			Used *int64 `json:"used"`
		} `json:"projects"`
	}
	unknown := func(why string, args ...string) {
		t.Helper()
		args = append([]string{"check", r}, args...)
		out, _, code := runMavtop(t, args...)
		line := strings.SplitN(out, "\n", 2)[0]
		if code != 3 || !strings.HasPrefix(line, "MAVTOP UNKNOWN - ") || !strings.Contains(line, why) {
			t.Errorf("%v: exit %d, want 3 and UNKNOWN saying %q:\n%s", args, code, why, out)
		}
		// every perfdata value not known is U (the plugin guidelines)
		_, perf, _ := strings.Cut(line, " | ")
		for _, want := range []string{"'acme_used'=U;", "'acme_402'=U", "'acme/p1_used'=U;"} {
			if !strings.Contains(perf, want) {
				t.Errorf("%v: perfdata %q lacks %q", args, perf, want)
			}
		}
		out, _, code = runMavtop(t, append(args, "--json")...)
		got := decodeOne(t, out)
		var rows struct {
			Workspaces []row `json:"workspaces"`
		}
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		if code != 3 || got.Status != "unknown" || !strings.Contains(got.Reason, why) || len(rows.Workspaces) != 1 {
			t.Fatalf("%v --json: exit %d, %+v", args, code, got)
		}
		w := rows.Workspaces[0]
		if w.Used != nil || w.Refused != nil || w.Check != "unknown" || len(w.Projects) != 1 || w.Projects[0].Used != nil {
			t.Errorf("%v --json: row %s used %v, 402s %v, check %q, projects %+v; want null figures, unknown", args, w.Workspace, w.Used, w.Refused, w.Check, w.Projects)
		}
	}
	ok := func(what string, args ...string) {
		t.Helper()
		args = append([]string{"check", r}, args...)
		if out, _, code := runMavtop(t, args...); code != 0 || !strings.HasPrefix(out, "MAVTOP OK - 1 workspace, period") {
			t.Errorf("%s: %v: exit %d, want 0:\n%s", what, args, code, out)
		}
	}

	// settings alone (the stream holds the settings entries budget set wrote)
	if n, err := f.c.XLen(f.ctx, keys.Stream()).Result(); err != nil || n == 0 {
		t.Fatalf("the settings store wrote no settings entry (%d, %v): the case is not the one budget set leaves", n, err)
	}
	nothing := "nothing to judge: no usage recorded under key prefix {mavera}"
	unknown(nothing, "--source", "stream")
	unknown(nothing)
	unknown(nothing, "acme")
	unknown(nothing, "--stale", "1h")
	unknown("no key matches --counter-pattern", "--source", "counters")
	// a counter field that names no workspace measures none: said apart, and
	// nothing to judge still (it said OK, "1 field naming no workspace")
	f.hset(t, keys.Used(p.Key), "bad field!", 5)
	unknown(nothing + " (no counter of a workspace this period")
	unknown("1 field naming no workspace, not judged")
	if err := f.c.Del(f.ctx, keys.Used(p.Key)).Err(); err != nil {
		t.Fatal(err)
	}

	// a usage event of this period in the stream, its counters missing
	ev := model.Event{TS: now.Add(-time.Minute).UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 5, Status: 200}
	if err := f.c.XAdd(f.ctx, &redis.XAddArgs{Stream: keys.Stream(), ID: "*", Values: ev.Fields()}).Err(); err != nil {
		t.Fatal(err)
	}
	unknown("the stream holds usage events of this period from 1 workspace (acme): usage is unknown, not 0")

	// an older usage event (before this period): a producer writes here, the
	// period is quiet so far
	if err := f.c.Del(f.ctx, keys.Stream()).Err(); err != nil {
		t.Fatal(err)
	}
	oldTS := p.Start.Add(-24 * time.Hour).UnixMilli()
	ev.TS = oldTS
	if err := f.c.XAdd(f.ctx, &redis.XAddArgs{Stream: keys.Stream(), ID: fmt.Sprintf("%d-0", oldTS), Values: ev.Fields()}).Err(); err != nil {
		t.Fatal(err)
	}
	ok("an older usage event")

	// the last period's counter, the stream gone
	if err := f.c.Del(f.ctx, keys.Stream()).Err(); err != nil {
		t.Fatal(err)
	}
	unknown(nothing)
	f.hset(t, keys.Used(prev.Key), "acme", 40)
	ok("the last period's counter")

	// this period's counters: the figures come back, no U
	f.track(t, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 100, Status: 200})
	out, _, code := runMavtop(t, "check", r)
	if code != 0 || !strings.Contains(out, "'acme_used'=100;") || !strings.Contains(out, "'acme_402'=0c") || !strings.Contains(out, "'acme/p1_used'=0;") {
		t.Errorf("counters written: exit %d\n%s", code, out)
	}
}

// TestCheckPattern1PerfdataSaysUnmeasuredAsU: the Pattern 1 counters count
// credits by workspace only; a workspace's 402s and its projects' usage are
// not measured, so their perfdata is U, not 0 (it said 'acme_402'=0c).
func TestCheckPattern1PerfdataSaysUnmeasuredAsU(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "acme")
	if err := f.store.SetProject(f.ctx, "acme", "p1", model.ProjectBudget{Limit: 500}); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Set(f.ctx, "mavera:credits_used:current_period:acme", 300, 0).Err(); err != nil {
		t.Fatal(err)
	}
	out, _, code := runMavtop(t, "check", "--redis", f.srv.URL, "--source", "counters")
	line := strings.SplitN(out, "\n", 2)[0]
	if code != 0 || !strings.Contains(line, "'acme_used'=300;;;0;1000 'acme_402'=U 'acme/p1_used'=U;;;0;500") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestCheckJSONLastFlagWins: --json=false then --json on a line with a usage
// error asks for JSON, as the flag itself would be; the UNKNOWN is one object.
func TestCheckJSONLastFlagWins(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--json=false", "--json", "--bogus"},
		{"check", "--json", "--bogus", "--json=true"},
	} {
		out, _, code := runMavtop(t, args...)
		got := decodeOne(t, out)
		if code != 3 || got.Status != "unknown" || !strings.Contains(got.Reason, "unknown flag: --bogus") {
			t.Errorf("%v: exit %d, %+v", args, code, got)
		}
	}
	if out, _, code := runMavtop(t, "check", "--json", "--json=false", "--bogus"); code != 3 || !strings.HasPrefix(out, "MAVTOP UNKNOWN - unknown flag: --bogus") {
		t.Errorf("--json then --json=false: exit %d\n%s", code, out)
	}
}
