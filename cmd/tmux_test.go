package cmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
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

// TestDemoInRealTerminal runs `mavtop` (demo mode) in tmux at 80×24, 100×30
// and 200×50 at once, for a minute each, and checks what a newcomer sees on
// every capture: the footer's "? help" and "q quit", nothing wider or taller
// than the terminal; and once the demo is up, the DEMO header, gauges, the 402
// log and at least three distinct levels.
func TestDemoInRealTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for a minute")
	}
	self, tmux := privateTmux(t)
	const watch = 60 * time.Second
	levels := []string{"✓ ok", "▲ warn", "▲ high", "▲ crit", "✖ OUT"}
	for _, size := range [][2]int{{80, 24}, {100, 30}, {200, 50}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			t.Parallel()
			w, h := size[0], size[1]
			session := fmt.Sprintf("mavtop-test-%d-%d", os.Getpid(), w)
			cmd := fmt.Sprintf("env -u REDIS_URL MAVTOP_AS_MAIN=1 %s; sleep 90", self)
			if out, err := tmux("new-session", "-d", "-s", session, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmd).CombinedOutput(); err != nil {
				t.Fatalf("tmux: %v: %s", err, out)
			}
			defer tmux("kill-session", "-t", session).Run()
			start := time.Now()
			up := false
			seen := map[string]bool{}
			var screen string
			for time.Since(start) < watch || !up {
				if time.Since(start) > watch+30*time.Second {
					t.Fatalf("the demo did not come up in %s:\n%s", watch+30*time.Second, screen)
				}
				out, err := tmux("capture-pane", "-p", "-t", session).Output()
				if err != nil {
					t.Fatalf("capture-pane: %v", err)
				}
				screen = string(out)
				// a 402 in the log, level words in the gauges: the demo is fully up
				if !up && strings.Contains(screen, "DEMO") && strings.Contains(screen, "credits_exhausted") && strings.Contains(screen, "% used") {
					up = true
					for _, want := range []string{"DEMO", "● connected", "Workspaces (6)", "% used", "402 refusals"} {
						if !strings.Contains(screen, want) {
							t.Errorf("screen lacks %q:\n%s", want, screen)
						}
					}
				}
				if !up {
					time.Sleep(250 * time.Millisecond)
					continue
				}
				for _, l := range levels {
					if strings.Contains(screen, l) {
						seen[l] = true
					}
				}
				lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
				if len(lines) > h {
					t.Errorf("%d lines on a %d-line terminal", len(lines), h)
				}
				for i, l := range lines {
					if n := ansi.StringWidth(l); n > w {
						t.Errorf("line %d is %d cells wide on a %d-wide terminal: %q", i, n, w, l)
					}
				}
				if last := lines[len(lines)-1]; !strings.Contains(last, "? help") || !strings.Contains(last, "q quit") {
					t.Errorf("footer without ? help / q quit at %s: %q", time.Since(start).Round(time.Second), last)
				}
				if t.Failed() {
					t.Fatalf("screen:\n%s", screen)
				}
				time.Sleep(2 * time.Second)
			}
			if len(seen) < 3 {
				t.Errorf("levels seen over %s: %v, want at least three:\n%s", watch, seen, screen)
			}
			tmux("send-keys", "-t", session, "q").Run()
		})
	}
}

// privateTmux returns the test binary (which stands in for mavtop) and a
// command builder for a private tmux server, killed at the end of the test: the
// user's sessions are not touched, and one server serves every session (a
// server exits with its last session).
func privateTmux(t *testing.T) (self string, tmux func(args ...string) *exec.Cmd) {
	t.Helper()
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
	socket := fmt.Sprintf("mavtop-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux = func(args ...string) *exec.Cmd {
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
	t.Cleanup(func() { _ = tmux("kill-server").Run() })
	return self, tmux
}

// TestHostileEntriesInRealTerminal (issue 10): stream entries carrying a window
// title (OSC 2), a clipboard write (OSC 52), the alternate screen, a clear and
// a newline reach a real terminal as visible text only: tmux's pane title and
// paste buffers are unchanged and the dashboard stays on screen.
func TestHostileEntriesInRealTerminal(t *testing.T) {
	srv := feedtest.Start(t)
	self, tmux := privateTmux(t)
	if out, err := tmux("set-option", "-g", "set-clipboard", "on").CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	const w, h = 120, 40
	session := fmt.Sprintf("mavtop-hostile-%d", os.Getpid())
	cmd := fmt.Sprintf("env MAVTOP_AS_MAIN=1 MAVTOP_ARGS='--redis %s' %s; sleep 30", srv.URL, self)
	if out, err := tmux("new-session", "-d", "-s", session, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	defer tmux("kill-session", "-t", session).Run()
	if out, err := tmux("select-pane", "-t", session, "-T", "untouched").CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	capture := func() string {
		out, err := tmux("capture-pane", "-p", "-t", session).Output()
		if err != nil {
			t.Fatalf("capture-pane: %v", err)
		}
		return string(out)
	}
	waitUntil(t, 30*time.Second, "the dashboard", func() bool { return strings.Contains(capture(), "Workspaces") })

	ctx := context.Background()
	c := srv.Client()
	p := model.MonthlyUTC.At(time.Now()).Key
	k := feed.Keys{}
	attacks := []string{
		"\x1b]2;HACKED\a\x1b[31mred\x1b[0m x\ny",
		"\x1b]52;c;SEFDS0VE\a clipboard",
		"\x1b[?1049l\x1b[2J\x1b[H blank",
		"\x9b2J c1 \u202eevil",
	}
	for i, msg := range attacks {
		_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.HIncrBy(ctx, k.Used(p), "acme", 100)
			pipe.HIncrBy(ctx, k.UsedBy(p), "acme///mave/chat", 100)
			pipe.HIncrBy(ctx, k.Refused(p), "acme//Credits_Exhausted", 1)
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.Stream(), Values: map[string]any{
				"v": "1", "ts": fmt.Sprint(time.Now().UnixMilli()), "ws": "acme", "endpoint": "/mave/chat",
				"credits": "100", "status": "402", "code": "Credits_Exhausted", "msg": msg, "req": fmt.Sprintf("req-%d-%s", i, strings.Repeat("x", 130)),
			}})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var screen string
	waitUntil(t, 30*time.Second, "the entries on screen, made visible", func() bool {
		screen = capture()
		return strings.Contains(screen, "␛]2;HACKED") && strings.Contains(screen, "400")
	})
	title, err := tmux("display-message", "-p", "-t", session, "#{pane_title}").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(title)); got != "untouched" {
		t.Errorf("pane title = %q: an entry retitled the terminal", got)
	}
	if bufs, _ := tmux("list-buffers").Output(); len(bufs) != 0 {
		t.Errorf("an entry wrote the clipboard: %s", bufs)
	}
	for _, want := range []string{"Workspaces", "402", "credits_exhausted"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q (cleared or switched?):\n%s", want, screen)
		}
	}
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > w {
			t.Errorf("line %d is %d wide on a %d-wide terminal: %q", i, n, w, l)
		}
	}
	tmux("send-keys", "-t", session, "q").Run()
}
