package serve

import (
	"io"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func TestDarkFromCOLORFGBG(t *testing.T) {
	for _, tt := range []struct {
		in          string
		dark, known bool
	}{
		{"15;0", true, true},  // white on black
		{"0;15", false, true}, // black on white
		{"0;default;15", false, true},
		{"7;8", true, true},   // grey background
		{"12;7", false, true}, // light grey background
		{"", false, false},
		{"15;x", false, false},
		{"15;99", false, false},
	} {
		dark, known := darkFromCOLORFGBG(tt.in)
		if dark != tt.dark || known != tt.known {
			t.Errorf("%q: dark=%v known=%v, want %v %v", tt.in, dark, known, tt.dark, tt.known)
		}
	}
}

// TestTerminalBackground: the session asks its terminal for its background
// (OSC 11). A terminal that answers light gets the light palette; one that
// answers only the device attributes, or nothing at all, gets the dark one
// without waiting long; and a reply that comes late is not typed into the
// dashboard (its digits would land in a number field).
func TestTerminalBackground(t *testing.T) {
	const okDark, okLight = "\x1b[38;5;77m", "\x1b[38;5;28m" // the ok level's colour, 256-colour cube
	for _, tt := range []struct {
		name string
		like answers
		want string
		ok   string
	}{
		{"answers light", answers{background: "rgb:ffff/ffff/ffff"}, "light (terminal)", okLight},
		{"answers dark", answers{background: "rgb:1c1c/1c1c/1c1c"}, "dark (terminal)", okDark},
		{"answers DA1 only", answers{}, "dark (default: no answer)", okDark},
		{"answers nothing", answers{silent: true}, "dark (default: no answer)", okDark},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := startFixture(t, fixtureOpts{color: true})
			key := f.admin
			c, err := f.dial("alice", gossh.PublicKeys(key))
			if err != nil {
				t.Fatal(err)
			}
			tm := openTermAs(t, c, 100, 30, tt.like)
			// a sanity bound, not a speed target: the bug was a blank screen for 15 s
			tm.waitScreen(5*time.Second, "acme-prod", "% used")
			if got := f.sessionOf(t, key).Background(); got != tt.want {
				t.Errorf("background %q, want %q", got, tt.want)
			}
			if !strings.Contains(tm.raw(), tt.ok) {
				t.Errorf("the ok level is not drawn in %q", tt.ok)
			}
			if tt.like.silent {
				// the reply comes after all: it is not input (in the
				// filter, a text field, its letters and digits would be)
				tm.send("/")
				tm.waitScreen(waitLong, "filter:")
				tm.send("\x1b]11;rgb:0000/0000/0000\x1b\\")
				tm.send("\x1b[?62;22c")
				tm.send("acme")
				tm.waitScreen(waitLong, "filter: acme")
				if s := tm.screen(); strings.Contains(s, "rgb:") || strings.Contains(s, "62;22") {
					t.Fatalf("the late reply was typed:\n%s", tail(s, 2000))
				}
			}
		})
	}
}

// TestStripReplies: replies are taken out wherever reads cut them; keys stay.
func TestStripReplies(t *testing.T) {
	in := &sessionInput{chunks: make(chan chunk, 8)}
	for _, c := range []string{"a\x1b]1", "1;rgb:ff/ff/ff\x1b", "\\b\x1b[?62;", "22cc\x1b", "[A\x1b]11;rgb:0/0/0\x07d"} {
		in.chunks <- chunk{b: []byte(c)}
	}
	in.chunks <- chunk{err: io.EOF}
	got, err := io.ReadAll(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "abc\x1b[Ad" {
		t.Fatalf("input %q, want %q", got, "abc\x1b[Ad")
	}
	for _, tt := range []struct {
		v        string
		dark, ok bool
	}{
		{"rgb:ffff/ffff/ffff", false, true}, {"rgb:0000/0000/0000", true, true}, {"rgb:1c/1c/1c", true, true},
		{"rgb:f0f0/f0f0/f0f0", false, true}, {"rgba:ffff/ffff/ffff/ffff", false, true}, {"rgb:fff", false, false}, {"#ffffff", false, false},
	} {
		if dark, ok := darkFromOSC11(tt.v); dark != tt.dark || ok != tt.ok {
			t.Errorf("%q: dark=%v ok=%v", tt.v, dark, ok)
		}
	}
}
