package cmd

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestMain lets the test binary stand in for mavtop (MAVTOP_AS_MAIN=1), so the
// tmux test runs the real program without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("MAVTOP_AS_MAIN") == "1" {
		os.Args = append([]string{"mavtop"}, strings.Fields(os.Getenv("MAVTOP_ARGS"))...)
		os.Exit(Execute())
	}
	os.Exit(m.Run())
}

// TestDemoInRealTerminal runs `mavtop` (demo mode) in tmux at 100×30, 80×24 and
// 200×50 and checks what a newcomer sees: the DEMO header, gauges, the 402 log,
// nothing wider than the terminal.
func TestDemoInRealTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("MAVTOP_REQUIRE_REDIS_SERVER") == "1" { // CI installs both
			t.Fatal("tmux is not installed")
		}
		t.Skip("tmux is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// a private tmux server: the user's sessions are not touched, and one
	// server serves every size (a server exits with its last session)
	socket := fmt.Sprintf("mavtop-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) *exec.Cmd {
		return exec.Command("tmux", append([]string{"-L", socket}, args...)...)
	}
	var out []byte
	for try := 0; ; try++ { // a new server now and then exits at birth ("server exited unexpectedly")
		if out, err = tmux("new-session", "-d", "-s", "keepalive", "sleep 300").CombinedOutput(); err == nil {
			break
		}
		if try == 4 {
			t.Fatalf("tmux: %v: %s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer tmux("kill-server").Run()
	for _, size := range [][2]int{{100, 30}, {80, 24}, {200, 50}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			w, h := size[0], size[1]
			session := fmt.Sprintf("mavtop-test-%d-%d", os.Getpid(), w)
			cmd := fmt.Sprintf("env -u REDIS_URL MAVTOP_AS_MAIN=1 %s; sleep 30", self)
			if out, err := tmux("new-session", "-d", "-s", session, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmd).CombinedOutput(); err != nil {
				t.Fatalf("tmux: %v: %s", err, out)
			}
			defer tmux("kill-session", "-t", session).Run()
			var screen string
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				out, err := tmux("capture-pane", "-p", "-t", session).Output()
				if err != nil {
					t.Fatalf("capture-pane: %v", err)
				}
				screen = string(out)
				// a 402 in the log, level words in the gauges: the demo is fully up
				if strings.Contains(screen, "DEMO") && strings.Contains(screen, "credits_exhausted") && strings.Contains(screen, "% used") {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			for _, want := range []string{"DEMO", "● connected", "Workspaces (6)", "% used", "402 refusals", "credits_exhausted"} {
				if !strings.Contains(screen, want) {
					t.Errorf("screen lacks %q:\n%s", want, screen)
				}
			}
			lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
			if len(lines) > h {
				t.Errorf("%d lines on a %d-line terminal", len(lines), h)
			}
			for i, l := range lines {
				if n := utf8.RuneCountInString(l); n > w {
					t.Errorf("line %d is %d wide on a %d-wide terminal: %q", i, n, w, l)
				}
			}
			tmux("send-keys", "-t", session, "q").Run()
		})
	}
}
