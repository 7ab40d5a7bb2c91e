package cmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/creack/pty"
)

// TestNoColorAsksTheTerminalNothing: --no-color draws without colour, so its
// renderer does not ask the terminal for its background (OSC 11): on a
// terminal that does not answer, the screen stayed blank 5 s more than
// Bubble Tea's own start-up wait (10.3 s blank in all). The test
// binary runs itself on a real pty, as the terminal's foreground process (as
// mavtop runs), builds the renderer and asks it for the background; the test
// answers any question, and fails if one was asked after the child started.
func TestNoColorAsksTheTerminalNothing(t *testing.T) {
	if os.Getenv("MAVTOP_TEST_RENDERER_CHILD") == "1" {
		fmt.Println("READY") // Bubble Tea's start-up asked already (its init): not this test's concern
		f := &dashboardFlags{noColor: true, theme: "auto"}
		r, err := f.renderer()
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		_ = r.HasDarkBackground()
		fmt.Println("DONE")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoColorAsksTheTerminalNothing$")
	// termenv asks nothing under CI, screen or tmux: the child is on a plain terminal
	cmd.Env = append(os.Environ(), "MAVTOP_TEST_RENDERER_CHILD=1", "TERM=xterm-256color", "CI=")
	master, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	var out []byte
	buf := make([]byte, 256)
	for !bytes.Contains(out, []byte("DONE")) && !bytes.Contains(out, []byte("ERR")) {
		n, err := master.Read(buf)
		out = append(out, buf[:n]...)
		if bytes.Contains(buf[:n], []byte("\x1b]11;?")) {
			// answer, so a renderer that asks is not kept waiting
			_, _ = io.WriteString(master, "\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R")
		}
		if err != nil {
			break
		}
	}
	_ = cmd.Wait()
	if !bytes.Contains(out, []byte("DONE")) {
		t.Fatalf("the child did not finish: %q", out)
	}
	_, after, ok := bytes.Cut(out, []byte("READY"))
	if !ok {
		t.Fatalf("the child did not start: %q", out)
	}
	if bytes.Contains(after, []byte("\x1b]11;?")) {
		t.Fatalf("--no-color asked the terminal its background (OSC 11): %q", out)
	}
}
