package cmd

import (
	"strings"
	"testing"

	"mavtop/feed/feedtest"
)

// TestCommandsSayATLSServerNeedsRediss: redis:// to a Redis that speaks only
// TLS said "EOF" or "connection reset by peer": check UNKNOWN with that
// reason, emit retrying it for its --retry-for as if the server were down.
// Every command now says the server speaks TLS and to use rediss://; emit
// exits 1 after its first attempt, without retrying.
func TestCommandsSayATLSServerNeedsRediss(t *testing.T) {
	srv := feedtest.StartTLS(t)
	r := "--redis=" + srv.PlainURL
	const want = "this server speaks TLS: use rediss://"
	out, _, code := runMavtop(t, "check", r)
	if code != 3 || !strings.HasPrefix(out, "MAVTOP UNKNOWN - ") || !strings.Contains(out, want) {
		t.Errorf("check: exit %d, %q; want 3, UNKNOWN saying %q", code, out, want)
	}
	out, _, code = runMavtop(t, "check", r, "--json")
	if got := decodeOne(t, out); code != 3 || got.Status != "unknown" || !strings.Contains(got.Reason, want) {
		t.Errorf("check --json: exit %d, %+v", code, got)
	}
	_, errOut, code := runMavtop(t, "emit", r, "--ws", "acme", "--endpoint", "/r", "--credits", "1")
	if code != 1 || !strings.Contains(errOut, want) || strings.Contains(errOut, "retrying") {
		t.Errorf("emit: exit %d, stderr %q; want 1 at once, saying %q", code, errOut, want)
	}
	for _, args := range [][]string{{"budget", "show", r}, {"alerts", r}, {"budget", "period", r}} {
		if _, errOut, code := runMavtop(t, args...); code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, stderr %q; want 1, saying %q", args, code, errOut, want)
		}
	}
}
