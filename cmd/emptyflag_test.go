package cmd

import (
	"strings"
	"testing"

	"mavtop/model"
)

// TestAnEmptyFlagIsAUsageError: a string flag given an empty value where
// empty means nothing (--redis "", --key-prefix "", --counter-pattern "" …) is
// a usage error naming the flag, on every command that has it: exit 2, and for
// check UNKNOWN (3) with its status line on stdout. With $REDIS_URL naming a
// Redis whose one workspace is at 10 %, `check --redis ""` read it and said
// OK, and `--key-prefix ""` read {mavera}, without a word.
func TestAnEmptyFlagIsAUsageError(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "acme")
	f.track(t, model.Event{Workspace: "acme", Kind: model.KindUsage, Credits: 100, Endpoint: "/chat", Status: 200})
	t.Setenv("REDIS_URL", f.srv.URL)
	if out, _, code := runMavtop(t, "check"); code != 0 || !strings.HasPrefix(out, "MAVTOP OK") {
		t.Fatalf("check through $REDIS_URL: code %d\n%s", code, out)
	}
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"check", "--redis", ""}, "--redis"},
		{[]string{"check", "--key-prefix="}, "--key-prefix"},
		{[]string{"check", "--counter-pattern", ""}, "--counter-pattern"},
		{[]string{"check", "--source", ""}, "--source"},
		{[]string{"check", "--redis-sentinel-master", ""}, "--redis-sentinel-master"},
		{[]string{"check", "--default-alerts", ""}, "--default-alerts"},
		{[]string{"budget", "show", "--redis", ""}, "--redis"},
		{[]string{"budget", "show", "--key-prefix", ""}, "--key-prefix"},
		{[]string{"alerts", "--redis", ""}, "--redis"},
		{[]string{"alerts", "--key-prefix", ""}, "--key-prefix"},
		{[]string{"watch", "--redis", ""}, "--redis"},
		{[]string{"watch", "--instance", ""}, "--instance"},
		{[]string{"emit", "--redis", "", "--ws", "acme", "--credits", "1", "--endpoint", "/chat"}, "--redis"},
		{[]string{"serve", "--key-prefix", ""}, "--key-prefix"},
		{[]string{"proxy", "--upstream", ""}, "--upstream"},
		{[]string{"--redis", ""}, "--redis"}, // the dashboard: it started the demo
		{[]string{"--theme", ""}, "--theme"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runMavtop(t, tc.args...)
			want := 2
			if tc.args[0] == "check" {
				want = 3
				if !strings.HasPrefix(out, "MAVTOP UNKNOWN - "+tc.flag+" ''") {
					t.Errorf("stdout:\n%s", out)
				}
			}
			if code != want || !strings.Contains(errOut, tc.flag+" '': an empty value means nothing here") {
				t.Errorf("code %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
			}
		})
	}
	// --json too: one object, status unknown, the flag named
	out, _, code := runMavtop(t, "check", "--json", "--redis", "")
	if code != 3 || !strings.Contains(out, `"status":"unknown"`) || !strings.Contains(out, "--redis ''") {
		t.Errorf("check --json --redis '': code %d\n%s", code, out)
	}
	// a flag whose empty value has a meaning stays accepted (--metrics '': none served)
	if out, errOut, code := runMavtop(t, "watch", "--metrics", "", "--bogus"); code != 2 || strings.Contains(errOut, "--metrics ''") {
		t.Errorf("watch --metrics '': code %d\n%s%s", code, out, errOut)
	}
}

// TestCheckCountersWithNoKeyIsUnknown: with workspace settings and not one
// key matching --counter-pattern, `check --source counters` said
// "MAVTOP OK - 2 workspaces", every one 0 used, exit 0 — the default pattern
// on a Redis nothing counts in, and a typo in the pattern, alike. It is
// UNKNOWN naming the pattern; one key matching brings the rows' figures back.
func TestCheckCountersWithNoKeyIsUnknown(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "acme", "beta")
	for _, args := range [][]string{
		{"check", "--redis", f.srv.URL, "--source", "counters"},
		{"check", "--redis", f.srv.URL, "--source", "counters", "acme"},
	} {
		out, _, code := runMavtop(t, args...)
		if code != 3 || !strings.HasPrefix(out, "MAVTOP UNKNOWN - no key matches --counter-pattern mavera:credits_used:current_period:*: usage of the ") || !strings.Contains(out, "with settings is unknown, not 0") {
			t.Errorf("%v: code %d\n%s", args, code, out)
		}
	}
	if err := f.c.Set(f.ctx, "mavera:credits_used:current_period:acme", 800, 0).Err(); err != nil {
		t.Fatal(err)
	}
	typo := "mavera:credit_used:current_period:*"
	out, _, code := runMavtop(t, "check", "--redis", f.srv.URL, "--source", "counters", "--counter-pattern", typo, "--json")
	if code != 3 || !strings.Contains(out, `"status":"unknown"`) || !strings.Contains(out, "no key matches --counter-pattern "+typo) {
		t.Errorf("a typo in --counter-pattern: code %d\n%s", code, out)
	}
	// the right pattern: acme's 800 of 1000 read, judged by its level (high: WARNING)
	out, _, code = runMavtop(t, "check", "--redis", f.srv.URL, "--source", "counters")
	if code != 1 || !strings.Contains(out, "'acme_used'=800;") || strings.Contains(out, "no key matches") {
		t.Errorf("one key matching: code %d\n%s", code, out)
	}
}

// TestADurationBelowItsMeaningIsAUsageError: a duration flag given a value
// that means nothing — --redis-timeout and --counter-poll of 0 or less,
// check's --stale 0, --audit below 0 — is a usage error naming the flag, on
// every command that has it, from the command line or the environment: exit
// 2, and for check UNKNOWN (3) with its status line on stdout. Before,
// `check --redis-timeout 0` said "Redis cannot be read: … context deadline
// exceeded", `check --stale 0` judged no staleness (OK), `--counter-poll 0`
// polled every 5 s and `watch --audit -1s` audited only after reconnects, each
// without a word. The values that mean something stay accepted.
func TestADurationBelowItsMeaningIsAUsageError(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "acme")
	f.track(t, model.Event{Workspace: "acme", Kind: model.KindUsage, Credits: 100, Endpoint: "/chat", Status: 200})
	t.Setenv("REDIS_URL", f.srv.URL)
	cases := []struct {
		args []string
		env  string // MAVTOP_… set for the case
		want string
	}{
		{[]string{"check", "--redis-timeout", "0"}, "", "--redis-timeout 0s: want a positive duration (leave it out for the default, 5s)"},
		{[]string{"check", "--redis-timeout=-1s"}, "", "--redis-timeout -1s: want a positive duration"},
		{[]string{"check"}, "MAVTOP_REDIS_TIMEOUT=0s", "--redis-timeout 0s: want a positive duration"},
		{[]string{"check", "--stale", "0"}, "", "--stale 0s: want a positive duration (leave it out for none)"},
		{[]string{"check", "--counter-poll", "0"}, "", "--counter-poll 0s: want a positive duration"},
		{[]string{"budget", "show", "--redis-timeout", "0"}, "", "--redis-timeout 0s: want a positive duration"},
		{[]string{"alerts", "--redis-timeout", "-5s"}, "", "--redis-timeout -5s: want a positive duration"},
		{[]string{"emit", "--redis-timeout", "0", "--ws", "acme", "--credits", "1", "--endpoint", "/chat"}, "", "--redis-timeout 0s: want a positive duration"},
		{[]string{"watch", "--audit", "-1s"}, "", "--audit -1s: want a duration of 0 or more"},
		{[]string{"watch", "--counter-poll", "0"}, "", "--counter-poll 0s: want a positive duration"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(append(tc.args, tc.env), " "), func(t *testing.T) {
			if k, v, ok := strings.Cut(tc.env, "="); ok {
				t.Setenv(k, v)
			}
			out, errOut, code := runMavtop(t, tc.args...)
			want := 2
			if tc.args[0] == "check" {
				want = 3
				if !strings.HasPrefix(out, "MAVTOP UNKNOWN - "+tc.want) {
					t.Errorf("stdout:\n%s", out)
				}
			}
			if code != want || !strings.Contains(errOut, tc.want) {
				t.Errorf("code %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
			}
		})
	}
	// --json: one object, status unknown, the flag named
	if out, _, code := runMavtop(t, "check", "--json", "--stale", "0"); code != 3 || !strings.Contains(out, `"status":"unknown"`) || !strings.Contains(out, "--stale 0s: want a positive duration") {
		t.Errorf("check --json --stale 0: code %d\n%s", code, out)
	}
	// the values that mean something: a positive --stale, --redis-timeout,
	// --counter-poll; --audit 0 (only after reconnects) is not refused
	if out, errOut, code := runMavtop(t, "check", "--stale", "1h", "--redis-timeout", "3s", "--counter-poll", "1s", "--crit", "100", "--warn", "100"); code != 0 || !strings.HasPrefix(out, "MAVTOP OK") {
		t.Errorf("check with meaningful values: code %d\n%s%s", code, out, errOut)
	}
	if _, errOut, _ := runMavtop(t, "watch", "--audit", "0", "--bogus"); strings.Contains(errOut, "--audit") {
		t.Errorf("watch --audit 0 refused: %s", errOut)
	}
}
