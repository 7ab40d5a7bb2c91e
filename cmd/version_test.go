package cmd

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: --version, -v and `version` print the same lines, with the Go
// version this binary was built with.
func TestVersion(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append([]string{"--config", ""}, args...))
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	short := run("--version")
	if !strings.HasPrefix(short, "mavtop ") || !strings.Contains(short, "built with "+runtime.Version()) {
		t.Fatalf("--version printed %q", short)
	}
	if got := run("-v"); got != short {
		t.Errorf("-v printed %q, --version %q", got, short)
	}
	if got := run("version"); got != short {
		t.Errorf("version printed %q, --version %q", got, short)
	}
	// a test binary carries no module list; -v adds to the same first lines
	if all := run("version", "-v"); !strings.HasPrefix(all, short[:strings.Index(short, "\n")]) {
		t.Errorf("version -v printed %q", all)
	}
}
