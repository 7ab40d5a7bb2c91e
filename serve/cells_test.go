package serve

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
)

// frameModel shows whatever frame it is sent.
type frameModel struct{ frame string }

type showMsg string

func (m frameModel) Init() tea.Cmd { return nil }
func (m frameModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if s, ok := msg.(showMsg); ok {
		m.frame = string(s)
	}
	return m, nil
}
func (m frameModel) View() string { return m.frame }

// countingWriter counts the bytes that pass to the terminal.
type countingWriter struct {
	mu sync.Mutex
	n  int
	t  *vterm
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += len(p)
	c.mu.Unlock()
	return c.t.Write(p)
}

func (c *countingWriter) bytes() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// cellSession runs a real Bubble Tea program (its standard renderer, the
// alternate screen) whose output goes through a cellWriter to a vterm.
type cellSession struct {
	t   *testing.T
	p   *tea.Program
	out *countingWriter
	cw  *cellWriter
}

func startCellSession(t *testing.T, w, h int) *cellSession {
	out := &countingWriter{t: newVterm(w, h)}
	cw := newCellWriter(out)
	p := tea.NewProgram(frameModel{}, tea.WithInput(nil), tea.WithOutput(cw), tea.WithAltScreen(),
		tea.WithoutSignalHandler(), tea.WithFPS(120))
	done := make(chan struct{})
	go func() { defer close(done); _, _ = p.Run() }()
	t.Cleanup(func() { p.Kill(); <-done })
	p.Send(tea.WindowSizeMsg{Width: w, Height: h})
	return &cellSession{t: t, p: p, out: out, cw: cw}
}

// show sends a frame and waits until the terminal shows exactly what a
// terminal given the whole frame at once shows, cell by cell (text and
// style); it returns the bytes the frame cost. It waits for the cells, not
// the text alone: a frame that only restyles (two rows of the same text
// swapped) reads as the old one until it is drawn.
func (s *cellSession) show(frame string) int {
	s.t.Helper()
	want := newVterm(s.out.t.w, s.out.t.h)
	_, _ = want.Write([]byte(strings.ReplaceAll(frame, "\n", "\r\n")))
	before := s.out.bytes()
	s.p.Send(showMsg(frame))
	deadline := time.Now().Add(10 * time.Second)
	for {
		diff := s.out.t.differs(want)
		if diff == "" {
			return s.out.bytes() - before
		}
		if time.Now().After(deadline) {
			if fl := strings.Split(frame, "\n"); diff != "text" {
				s.t.Fatalf("%s (frame: %q)", diff, fl)
			}
			s.t.Fatalf("the terminal shows\n%s\nwant\n%s", s.out.t.text(), want.text())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// differs says how t differs from want: "text" when the text does, the first
// cell that does when only styles do, "" when they are alike.
func (t *vterm) differs(want *vterm) string {
	if t.text() != want.text() {
		return "text"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	want.mu.Lock()
	defer want.mu.Unlock()
	for y := range want.grid {
		for x := range want.grid[y] {
			if g, e := t.grid[y][x], want.grid[y][x]; g != e {
				return fmt.Sprintf("cell %d,%d is %+v, want %+v", x, y, g, e)
			}
		}
	}
	return ""
}

// TestCellWriterShowsEveryFrame drives a real Bubble Tea program through
// random frames — styled runs, wide graphemes, rows that swap, lines that
// shorten and grow, frames that lose and gain lines, a bell, a resize — and
// checks after each that the viewer's screen is the frame, cell by cell.
func TestCellWriterShowsEveryFrame(t *testing.T) {
	const w, h = 60, 20
	s := startCellSession(t, w, h)
	rng := rand.New(rand.NewPCG(1, 16))
	styles := []string{"", "\x1b[1m", "\x1b[38;5;245m", "\x1b[38;2;200;10;10m", "\x1b[1;4m", "\x1b[48;5;22m\x1b[97m"}
	words := []string{"ws-001", "acme", "漢字", "né", "ne\u0301", "━━━━", "─\u0301┼─", "4.87k", "12 %", " ", "  ", "█▌", "⣿⡇", "✓\ufe0f", "a\u200d"}
	line := func() string {
		var b strings.Builder
		width := 0
		for width < w-8 && rng.IntN(12) > 0 {
			st, wd := styles[rng.IntN(len(styles))], words[rng.IntN(len(words))]
			b.WriteString(st + wd)
			if st != "" {
				b.WriteString("\x1b[0m")
			}
			width += len([]rune(wd)) * 2
		}
		return b.String()
	}
	lines := make([]string, h)
	for i := range lines {
		lines[i] = line()
	}
	for step := range 300 {
		switch k := rng.IntN(10); {
		case k < 5: // a few rows change
			for range 1 + rng.IntN(4) {
				lines[rng.IntN(len(lines))] = line()
			}
		case k < 7: // two rows swap, as a sort moves them
			i, j := rng.IntN(len(lines)), rng.IntN(len(lines))
			lines[i], lines[j] = lines[j], lines[i]
		case k < 8 && len(lines) > 2: // the frame loses lines
			lines = lines[:len(lines)-1-rng.IntN(2)]
		case k < 9 && len(lines) < h: // … and gains them
			lines = append(lines, line())
		default: // a row gets a digit changed inside a styled run
			i := rng.IntN(len(lines))
			lines[i] = strings.Replace(lines[i], "4.87k", fmt.Sprintf("%d.%02dk", rng.IntN(10), rng.IntN(100)), 1)
		}
		frame := append([]string(nil), lines...)
		if step%37 == 0 {
			frame[0] = "\a" + frame[0] // a bell rides on the first line
		}
		if step == 150 { // a resize: the next frame is drawn whole
			s.p.Send(tea.WindowSizeMsg{Width: w, Height: h})
			s.cw.invalidate()
		}
		if f := strings.Join(frame, "\n"); f != "" { // Bubble Tea draws nothing for an empty view
			s.show(f)
		}
	}
}

// TestParseLineKeepsGraphemes: the cells parseLine finds (its quick path
// for ASCII, box drawing, blocks and braille included) are the graphemes and
// widths ansi.DecodeSequence finds, on random lines mixing those with
// combining marks, variation selectors, joiners, wide graphemes and styles.
func TestParseLineKeepsGraphemes(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 16))
	parts := []string{"a", "Z", " ", "━", "─", "█", "▌", "⣿", "⡇", "\u0301", "\ufe0f", "\u200d", "漢", "✓", "👍", "\U0001F3FD",
		"\x1b[1m", "\x1b[0m", "\x1b[38;5;245m", "🇫", "🇷", "é"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		var want []cell
		p := ansi.NewParser()
		var state byte
		for rest := s; len(rest) > 0; {
			seq, width, n, st := ansi.DecodeSequence(rest, state, p)
			state = st
			if width > 0 {
				want = append(want, cell{g: seq})
				for range width - 1 {
					want = append(want, cell{cont: true})
				}
			}
			rest = rest[n:]
		}
		got := parseLine(s, nil).cells
		for i := range got {
			got[i].style = ""
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: cells %+v, want %+v", s, got, want)
		}
	}
}

// TestCellWriterSendsTheCellsThatChanged: a 200×50 screen of styled rows
// where every row changes one number between two frames costs what the
// numbers cost, not the rows (Bubble Tea alone re-sends every changed row:
// about 400 bytes each here).
func TestCellWriterSendsTheCellsThatChanged(t *testing.T) {
	const w, h = 200, 50
	s := startCellSession(t, w, h)
	frame := func(used int) string {
		rows := make([]string, h)
		for i := range rows {
			bar := "\x1b[38;5;2m" + strings.Repeat("━", 40) + "\x1b[0m\x1b[38;5;245m" + strings.Repeat("─", 60) + "\x1b[0m"
			rows[i] = fmt.Sprintf("┃ ws-%03d  \x1b[32m✓ ok\x1b[0m  %s  \x1b[1m%6d\x1b[0m used%s┃", i, bar, used+i, strings.Repeat(" ", w-130))
		}
		return strings.Join(rows, "\n")
	}
	full := s.show(frame(100000))
	next := s.show(frame(100007))
	t.Logf("first frame %d bytes, the next (one number changed per row) %d bytes", full, next)
	if full < h*300 {
		t.Fatalf("the first frame cost %d bytes: it should be drawn whole", full)
	}
	if next > h*40 {
		t.Fatalf("a frame changing one digit per row cost %d bytes, want at most %d (40 a row)", next, h*40)
	}
}

// TestViewerShowsRedisNumbersOnceQuiet: a colour session on redis-server
// watches three workspaces take 600 events in bursts (frames go out while
// they arrive, each sending only the cells that changed); once the feed is
// quiet, the screen the viewer's terminal shows holds, on each workspace's
// row, exactly the credits Redis holds.
func TestViewerShowsRedisNumbersOnceQuiet(t *testing.T) {
	f := startFixture(t, fixtureOpts{color: true, redisServer: true})
	ctx := t.Context()
	names := []string{"acme-prod", "beta-stage", "gamma-dev"}
	store := feed.NewSettingsStore(f.rdb, feed.StoreOptions{})
	for _, ws := range names[1:] {
		if err := store.SetWorkspace(ctx, ws, model.Settings{Allocation: 10000}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := f.dial("ops", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 200, 50)
	tm.waitScreen(15*time.Second, "acme-prod", "1,234 / 10,000")
	rng := rand.New(rand.NewPCG(16, 1))
	for burst := range 30 {
		evs := make([]model.Event, 20)
		for i := range evs {
			evs[i] = model.Event{Workspace: names[(burst+i)%3], Project: "web", Endpoint: "/responses", Credits: int64(1 + rng.IntN(17)), Status: 200}
		}
		if err := f.pub.TrackBatch(ctx, evs); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // let frames go out mid-stream
	}
	key := feed.Keys{}.Used(model.MonthlyUTC.At(time.Now()).Key)
	want := map[string]string{}
	for _, ws := range names {
		n, err := f.rdb.HGet(ctx, key, ws).Int64()
		if err != nil {
			t.Fatal(err)
		}
		want[ws] = estimator.FormatCredits(n) + " / 10,000"
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		missing := ""
		lines := tm.vt.lines()
		for _, ws := range names {
			found := false
			for _, l := range lines {
				if strings.Contains(l, " "+ws+" ") && strings.Contains(l, want[ws]) {
					found = true
				}
			}
			if !found {
				missing = ws + ": " + want[ws]
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the viewer's screen lacks %s (Redis's credits):\n%s", missing, strings.Join(lines[:12], "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkCellWriterFrame: what a session's cellWriter costs for one
// 200×50 frame of styled rows where every row changed a number (the
// steady-traffic case): comparing and writing the changed cells.
func BenchmarkCellWriterFrame(b *testing.B) {
	const w, h = 200, 50
	frame := func(used int) []string {
		rows := make([]string, h)
		for i := range rows {
			bar := "\x1b[38;5;2m" + strings.Repeat("━", 40) + "\x1b[0m\x1b[38;5;245m" + strings.Repeat("─", 60) + "\x1b[0m"
			rows[i] = fmt.Sprintf("┃ ws-%03d  \x1b[32m✓ ok\x1b[0m  %s  \x1b[1m%6d\x1b[0m used of 1,000,000 · 12.5 %% · runs out in 3 d%s┃", i, bar, used+i, strings.Repeat(" ", w-167))
		}
		return rows
	}
	frames := [2][]string{frame(100000), frame(100007)}
	c := newCellWriter(io.Discard)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.frame = frames[i%2]
		c.buf.Reset()
		c.render("\x1b[1;1H")
	}
}
