package cmd

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"mavtop/feed/feedtest"
)

// TestEveryJSONErrorIsOneObject: budget show --json on an empty db (or under
// a mistyped --key-prefix) printed nothing on stdout, exit 1, and so did
// every other error of budget show, alerts, emit and estimate with --json: a
// script piping it to jq read an empty input. Each now prints exactly one
// object on stdout, {"status":"error","code":N,"reason":…} as check's UNKNOWN
// object is named, N its exit code; the text (stderr) is unchanged.
func TestEveryJSONErrorIsOneObject(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	srv := feedtest.Start(t)
	empty := feedtest.Start(t)
	r := "--redis=" + srv.URL
	if _, errOut, code := runMavtop(t, "budget", "set", "acme", r, "--allocation", "1000"); code != 0 {
		t.Fatalf("budget set: exit %d, %s", code, errOut)
	}
	down := "--redis=" + closedPort(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		reason string
	}{
		{"budget show, empty db", []string{"budget", "show", "--redis=" + empty.URL}, 1, "no workspaces found in "},
		{"budget show, mistyped prefix", []string{"budget", "show", r, "--key-prefix", "{maverra}"}, 1, "under key prefix {maverra}"},
		{"budget show, no such workspace", []string{"budget", "show", r, "nosuch"}, 1, "workspace nosuch has no settings"},
		{"budget show, Redis down", []string{"budget", "show", down}, 1, "connect to redis"},
		{"budget show, no Redis", []string{"budget", "show"}, 2, "no Redis configured"},
		{"budget show, unknown flag", []string{"budget", "show", r, "--bogus"}, 2, "unknown flag: --bogus"},
		{"budget show, empty prefix", []string{"budget", "show", r, "--key-prefix", ""}, 2, "--key-prefix"},
		{"budget show, two workspaces", []string{"budget", "show", r, "a", "b"}, 2, "accepts at most 1 arg"},
		{"alerts, empty db", []string{"alerts", "--redis=" + empty.URL}, 1, "no workspaces found in "},
		{"alerts, mistyped prefix", []string{"alerts", r, "--key-prefix", "{maverra}"}, 1, "under key prefix {maverra}"},
		{"alerts, bad period", []string{"alerts", r, "--period", "2026-13"}, 2, "--period"},
		{"alerts, Redis down", []string{"alerts", down}, 1, "connect to redis"},
		{"alerts, no Redis", []string{"alerts"}, 2, "no Redis configured"},
		{"alerts, unknown flag", []string{"alerts", r, "--bogus"}, 2, "unknown flag: --bogus"},
		{"emit, no credits", []string{"emit", r, "--ws", "acme", "--endpoint", "/r"}, 2, "--credits is required"},
		{"emit, bad kind", []string{"emit", r, "--ws", "acme", "--credits", "1", "--kind", "gift"}, 2, "--kind"},
		{"emit, bad workspace", []string{"emit", r, "--ws", "a b", "--endpoint", "/r", "--credits", "1"}, 2, "invalid event"},
		{"emit, Redis down", []string{"emit", down, "--ws", "acme", "--endpoint", "/r", "--credits", "1", "--retry-for", "0"}, 1, "connect to redis"},
		{"emit, no Redis", []string{"emit", "--ws", "acme", "--endpoint", "/r", "--credits", "1"}, 2, "no Redis configured"},
		{"estimate, no operation", []string{"estimate"}, 2, "estimate takes one OPERATION"},
		{"estimate, bad sample", []string{"estimate", "focus-group", "--sample-size", "-4"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := 1 // --json after the command's name, and last
			if tc.args[0] == "budget" {
				at = 2
			}
			first := append(append(slices.Clone(tc.args[:at]), "--json"), tc.args[at:]...)
			for _, args := range [][]string{first, append(slices.Clone(tc.args), "--json")} {
				out, errOut, code := runMavtop(t, args...)
				got := decodeError(t, out)
				if code != tc.code || got.Status != "error" || got.Code != tc.code || !strings.Contains(got.Reason, tc.reason) || got.Reason == "" {
					t.Errorf("%v: exit %d, %+v; want %d, status error, code %d, reason saying %q", args, code, got, tc.code, tc.code, tc.reason)
				}
				if !strings.Contains(errOut, got.Reason) {
					t.Errorf("%v: stderr %q does not say %q", args, errOut, got.Reason)
				}
			}
			// without --json, no JSON
			if out, _, _ := runMavtop(t, tc.args...); strings.Contains(out, `"status"`) {
				t.Errorf("%v without --json printed %q", tc.args, out)
			}
		})
	}
	// a verdict already printed (estimate's exit 3) is the one object
	out, _, code := runMavtop(t, "estimate", "focus-group", "--sample-size", "40", "--questions", "6", "--remaining", "150", "--json")
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&v); err != nil || dec.More() || code != 3 || v["status"] != "not_affordable" || v["affordable"] != false {
		t.Errorf("estimate not affordable: exit %d, %q; want 3 and its verdict alone", code, out)
	}
}

// TestEveryJSONSuccessSaysItsStatus: emit --json on success printed the
// entry without a "status" (so did budget show, alerts and estimate), while an
// error's object has one: a script had to tell them apart by which keys were
// there. Every --json object now says its status.
func TestEveryJSONSuccessSaysItsStatus(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	srv := feedtest.Start(t)
	r := "--redis=" + srv.URL
	if _, errOut, code := runMavtop(t, "budget", "set", "acme", r, "--allocation", "1000"); code != 0 {
		t.Fatalf("budget set: exit %d, %s", code, errOut)
	}
	emit := []string{"emit", r, "--ws", "acme", "--endpoint", "/r", "--credits", "1", "--json"}
	for _, tc := range []struct {
		name   string
		args   []string
		status string
	}{
		{"emit", emit, "recorded"},
		{"emit with an event id", append(slices.Clone(emit), "--event-id", "e1"), "recorded"},
		{"emit of an event recorded", append(slices.Clone(emit), "--event-id", "e1"), "already_recorded"},
		{"budget show", []string{"budget", "show", r, "--json"}, "ok"},
		{"budget show acme", []string{"budget", "show", r, "acme", "--json"}, "ok"},
		{"alerts", []string{"alerts", r, "--json"}, "ok"},
		{"estimate", []string{"estimate", "focus-group", "--sample-size", "40", "--questions", "6", "--json"}, "ok"},
		{"estimate affordable", []string{"estimate", "focus-group", "--sample-size", "40", "--questions", "6", "--remaining", "100000", "--json"}, "ok"},
	} {
		out, errOut, code := runMavtop(t, tc.args...)
		var v map[string]any
		dec := json.NewDecoder(strings.NewReader(out))
		if err := dec.Decode(&v); err != nil || dec.More() || code != 0 || v["status"] != tc.status {
			t.Errorf("%s: exit %d, stdout %q (%v), stderr %q; want one object with status %q", tc.name, code, out, err, errOut, tc.status)
		}
	}
}

type jsonError struct {
	Status string `json:"status"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// decodeError reads stdout as exactly one JSON object.
func decodeError(t *testing.T, out string) jsonError {
	t.Helper()
	var got jsonError
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout %q is no JSON object: %v", out, err)
	}
	if dec.More() {
		t.Fatalf("stdout %q holds more than one JSON object", out)
	}
	return got
}

// jsonErrorOf checks that out is one error object of exit code, and returns
// what stdout held beside it: "" when that was all.
func jsonErrorOf(t *testing.T, out string, code int) string {
	t.Helper()
	if got := decodeError(t, out); got.Status != "error" || got.Code != code || got.Reason == "" {
		t.Errorf("stdout %q: want status error, code %d and a reason", out, code)
		return out
	}
	return ""
}
