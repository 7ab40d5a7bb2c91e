package tui

import (
	"fmt"
	"github.com/charmbracelet/x/ansi"
	"mavtop/feed"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// agreedTable: a producer's text, what a frame draws of it and the width the
// layout gives it (cellWidth, the function every pane measures with). tmux
// 3.3a draws "⚠️" 1 cell and "👍🏽" 4 where the layout counted 2 each.
var agreedTable = []struct{ in, drawn string }{
	{"⚠️", "⚠ "},                  // U+26A0 U+FE0F: text-default base, selector dropped
	{"⚠", "⚠"},                    // alone: 1 everywhere
	{"❤️", "❤ "},                  // U+2764 U+FE0F
	{"☺️", "☺ "},                  // U+263A U+FE0F
	{"👍🏽", "👍"},                   // skin tone dropped
	{"👩🏽‍💻", "👩‍💻"},               // skin tone inside a joined sequence
	{"👩‍💻", "👩‍💻"},                // joined after a wide base: agreed
	{"🇫🇷", "🇫🇷"},                  // flag
	{"中", "中"},                    // wide
	{"🏳️‍🌈", "🏳 "},                // joined after a text-default base: the base only
	{"❤️‍🔥", "❤ "},                // the same
	{"1️⃣", "1⃣ "},                // keycap: the combining mark stays
	{"👍\ufe0e", "👍"},              // text selector after an emoji: dropped
	{"☎\ufe0e", "☎"},              // after a text base: dropped
	{"e\u0301", "e\u0301"},        // combining accent: untouched
	{"a ⚠️ b 👍🏽 c", "a ⚠  b 👍 c"}, // within text
}

// TestTextIsDrawnAtAWidthTerminalsAgreeOn: every sequence of agreedTable, run
// through the screen's path (model.Sanitize where a pane draws it, safeFrame
// on the frame), is drawn as the table says, at the width the layout measured
// the producer's text at; where tmux is installed, the cursor lands there
// after printing the drawn string.
func TestTextIsDrawnAtAWidthTerminalsAgreeOn(t *testing.T) {
	for _, c := range agreedTable {
		in := model.Sanitize(c.in)
		got := safeFrame(in)
		if got != c.drawn {
			t.Errorf("safeFrame(%q) = %q, want %q", c.in, got, c.drawn)
		}
		if w, want := cellWidth(got), cellWidth(in); w != want {
			t.Errorf("%q is drawn %q, %d cells where the layout measured %d", c.in, got, w, want)
		}
		if again := safeFrame(got); again != got {
			t.Errorf("safeFrame is not idempotent on %q: %q", got, again)
		}
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("MAVTOP_REQUIRE_REDIS_SERVER") == "1" { // CI installs both
			t.Fatal("tmux is not installed")
		}
		t.Skip("tmux is not installed: widths not measured in a terminal")
	}
	socket := fmt.Sprintf("mavtop-agreed-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) *exec.Cmd {
		return exec.Command("tmux", append([]string{"-L", socket}, args...)...)
	}
	defer tmux("kill-server").Run()
	for try := 0; ; try++ { // a new server now and then exits at birth; one keeps it alive
		out, err := tmux("new-session", "-d", "-s", "keepalive", "sleep 300").CombinedOutput()
		if err == nil {
			break
		}
		if try == 4 {
			t.Fatalf("tmux: %v: %s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	dir := t.TempDir()
	for i, c := range agreedTable {
		file := filepath.Join(dir, fmt.Sprint(i))
		drawn := safeFrame(model.Sanitize(c.in))
		if err := os.WriteFile(file, []byte(drawn+"|"), 0o600); err != nil {
			t.Fatal(err)
		}
		session := fmt.Sprint("s", i)
		if out, err := tmux("new-session", "-d", "-s", session, "-x", "40", "-y", "3", "cat "+file+"; sleep 60").CombinedOutput(); err != nil {
			t.Fatalf("tmux: %v: %s", err, out)
		}
		want := cellWidth(model.Sanitize(c.in)) + 1 // and the "|"
		var x int
		for deadline := time.Now().Add(20 * time.Second); ; {
			screen, _ := tmux("capture-pane", "-p", "-t", session).Output()
			out, _ := tmux("display", "-p", "-t", session, "#{cursor_x}").Output()
			x, _ = strconv.Atoi(strings.TrimSpace(string(out)))
			if strings.Contains(string(screen), "|") || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if x != want {
			t.Errorf("%q drawn %q: tmux's cursor at %d, the layout measured %d", c.in, drawn, x-1, want-1)
		}
		_ = tmux("kill-session", "-t", session).Run()
	}
}

// emojiMsg is the message of the issue: sequences terminals draw at widths
// they agree on (👩‍💻, 🇫🇷) and ones they do not (⚠️ 1 or 2, 👍🏽 2 or 4).
const emojiMsg = "out of credits 👩‍💻 ⚠️ 🇫🇷 👍🏽"

// TestAnEmojiMessageKeepsTheLayout: a 402 whose message holds emoji leaves
// every line of the 100×30 frame exactly 100 cells wide, as drawn (no
// selector or skin tone left whose width terminals dispute), in the list,
// on the 402 alone (enter) and in the workspace's detail view.
func TestAnEmojiMessageKeepsTheLayout(t *testing.T) {
	const w, h = 100, 30
	m, hub := newApp(t, w, h, Options{})
	hub.Handle(&feed.SnapshotMsg{Gen: 2, Rule: model.MonthlyUTC, At: testNow, Reason: feed.ReasonStart,
		Snap: &model.Snapshot{Period: model.MonthlyUTC.At(testNow), StreamID: "0-0",
			Settings: map[string]model.Settings{"acme": {Allocation: 1000}}}})
	hub.Handle(&feed.BatchMsg{Gen: 2, Events: []model.Event{
		{ID: "1-0", TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "acme", Endpoint: "/x", Status: 402,
			Code: model.CodeCreditsExhausted, Msg: emojiMsg},
	}})
	m = pump(t, m)
	check := func(what string, m Model) {
		t.Helper()
		s := view(m)
		if !strings.Contains(s, "👩‍💻 ⚠") {
			t.Errorf("%s: the message is not on screen:\n%s", what, s)
		}
		lines := strings.Split(s, "\n")
		if len(lines) != h {
			t.Errorf("%s: %d lines, want %d", what, len(lines), h)
		}
		for i, l := range lines {
			if got := cellWidth(l); got != w {
				t.Errorf("%s: line %d is %d cells, want %d: %q", what, i, got, w, ansi.Strip(l))
			}
			if firstDisputed(strings.ReplaceAll(l, "👩‍💻", "")) >= 0 {
				t.Errorf("%s: line %d draws a sequence terminals disagree on: %q", what, i, ansi.Strip(l))
			}
		}
	}
	check("list", m)
	m2, _ := m.Update(press("enter"))
	check("the 402 alone", m2.(Model))
}
