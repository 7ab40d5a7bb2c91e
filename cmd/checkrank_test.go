package cmd

import (
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/model"
)

// TestCriticalIsNotHiddenByUnknown: an exhausted workspace is CRITICAL (exit
// 2) beside whatever else check finds. Fields that name no workspace — a 10
// kB settings field, a used field with an ESC, a refused field that splits
// into nothing — are named (sanitised) after the status and never judged: they
// change no status. A workspace whose counter cannot be read is UNKNOWN, and
// its reason is still said, but CRITICAL ranks above it (the plugin
// convention: CRITICAL > WARNING > UNKNOWN > OK). check WS judges WS only.
func TestCriticalIsNotHiddenByUnknown(t *testing.T) {
	f := newFixture(t)
	f.allocate(t, 1000, "ord", "calm")
	f.track(t,
		model.Event{Workspace: "ord", Endpoint: "/r", Credits: 1000, Status: 200},
		model.Event{Workspace: "ord", Endpoint: "/r", Status: 402, Code: model.CodeCreditsExhausted},
		model.Event{Workspace: "calm", Endpoint: "/r", Credits: 100, Status: 200},
	)
	keys, period := feed.Keys{}, f.period
	r := "--redis=" + f.srv.URL
	if out, _, code := runMavtop(t, "check", r, "ord"); code != checkCritical {
		t.Fatalf("control: check ord exit %d, want 2\n%s", code, out)
	}
	junk := map[string][2]string{ // hash, field
		"long settings": {keys.Settings(), strings.Repeat("x", 10_000)},
		"esc settings":  {keys.Settings(), "or\x1bd"},
		"esc used":      {keys.Used(period), "ord\x1b[2J"},
		"bad refused":   {keys.Refused(period), "\x1b//credits_exhausted"},
	}
	for _, j := range junk {
		f.hset(t, j[0], j[1], "{}")
	}
	out, _, code := runMavtop(t, "check", r, "ord")
	if code != checkCritical || !strings.HasPrefix(out, "MAVTOP CRITICAL - ") {
		t.Errorf("check ord beside fields naming no workspace: exit %d, want 2\n%s", code, out)
	}
	if strings.Contains(out, "xxxx") || strings.Contains(out, "\x1b") {
		t.Errorf("check ord names fields that are not ord's, or raw:\n%q", out)
	}
	out, _, code = runMavtop(t, "check", r)
	status, _, _ := strings.Cut(out, "\n")
	if code != checkCritical || !strings.HasPrefix(status, "MAVTOP CRITICAL - ") {
		t.Errorf("check beside fields naming no workspace: exit %d, want 2\n%s", code, out)
	}
	if !strings.Contains(status, "4 fields naming no workspace") || strings.Contains(out, "\x1b") || strings.Contains(status, strings.Repeat("x", 200)) {
		t.Errorf("check's status line does not count the 4 fields naming no workspace, sanitised:\n%q", status)
	}
	for _, name := range []string{"ord", "calm"} {
		if rowOf(out, name) == "" {
			t.Errorf("no row for %s:\n%s", name, out)
		}
	}
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 5 { // status, header, 2 rows, legend
		t.Errorf("check printed %d lines, want 5 (no row for a field naming no workspace):\n%s", n, out)
	}

	// an unreadable counter: UNKNOWN alone, CRITICAL beside an exhausted workspace
	f.hset(t, keys.Used(period), "broken", "notanumber")
	out, _, code = runMavtop(t, "check", r, "broken")
	if code != checkUnknown {
		t.Errorf("check broken: exit %d, want 3\n%s", code, out)
	}
	out, _, code = runMavtop(t, "check", r, "broken", "calm")
	if code != checkUnknown {
		t.Errorf("check broken calm: exit %d, want 3 (UNKNOWN over OK)\n%s", code, out)
	}
	for _, args := range [][]string{{"check", r}, {"check", r, "broken", "ord"}, {"check", r, "ord", "nosuch"}} {
		out, _, code = runMavtop(t, args...)
		status, _, _ := strings.Cut(out, "\n")
		if code != checkCritical || !strings.HasPrefix(status, "MAVTOP CRITICAL - ord ") {
			t.Errorf("%v: exit %d, want 2 (CRITICAL over UNKNOWN), ord first\n%s", args[2:], code, status)
		}
		want := `counter "used:broken" cannot be read`
		if args[len(args)-1] == "nosuch" {
			want = "no such workspace: nosuch"
		}
		if !strings.Contains(status, want) {
			t.Errorf("%v: the UNKNOWN reason %q is not said:\n%s", args[2:], want, status)
		}
		if rowOf(out, "ord") == "" || !strings.HasSuffix(strings.TrimSpace(rowOf(out, "ord")), "critical") {
			t.Errorf("%v: ord's row %q", args[2:], rowOf(out, "ord"))
		}
	}
	out, _, code = runMavtop(t, "check", r, "--json")
	if code != checkCritical || !strings.Contains(out, `"status":"critical"`) || !strings.Contains(out, `cannot be read`) {
		t.Errorf("check --json: exit %d, want 2 with the UNKNOWN reason\n%.400s", code, out)
	}
}
