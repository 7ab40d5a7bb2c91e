package cmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/internal/memlimit"
	"mavtop/model"
)

// TestMain lets the test binary stand in for mavtop (MAVTOP_AS_MAIN=1), so the
// tmux test runs the real program without a separate build: with main.go's
// memory policy, and a CPU profile of its whole run written to
// MAVTOP_CPUPROFILE when that is set (TestServeLoad's PROFILE), a heap
// profile to MAVTOP_HEAPPROFILE on SIGUSR1 (its HEAP).
//
// First it moves the default billing period when feedtest.EdgeEnv asks (in
// the program the tests start too), so the tests can be run as if now were
// at a period's start or end.
func TestMain(m *testing.M) {
	if say, err := feedtest.AtEdge(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	} else if say != "" && os.Getenv("MAVTOP_AS_MAIN") != "1" {
		fmt.Fprintln(os.Stderr, say)
	}
	if os.Getenv("MAVTOP_AS_MAIN") == "1" {
		os.Args = append([]string{"mavtop"}, strings.Fields(os.Getenv("MAVTOP_ARGS"))...)
		memlimit.Apply(os.Getenv)
		if name := os.Getenv("MAVTOP_HEAPPROFILE"); name != "" {
			heapProfileOnSignal(name)
		}
		if name := os.Getenv("MAVTOP_CPUPROFILE"); name != "" {
			if f, err := os.Create(name); err == nil && pprof.StartCPUProfile(f) == nil {
				code := Execute()
				pprof.StopCPUProfile()
				_ = f.Close()
				os.Exit(code)
			}
		}
		os.Exit(Execute())
	}
	os.Exit(m.Run())
}

// heapProfileOnSignal writes a heap profile to name (after a collection, so
// it shows the live heap) each time the process gets SIGUSR1.
func heapProfileOnSignal(name string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			runtime.GC()
			if f, err := os.Create(name + ".tmp"); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				_ = f.Close()
				_ = os.Rename(name+".tmp", name) // whole when it appears
			}
		}
	}()
}

// TestDemoInRealTerminal runs `mavtop` (demo mode) in tmux at 80×24, 100×30
// and 200×50 at once, for a minute each, and checks what a newcomer sees on
// every capture: the footer's "? help" and "q quit", nothing wider or taller
// than the terminal, no pace above 50× (the pace column parsed wherever it is
// shown; never ">999×"), and at least three distinct levels on screen at once
// on nine captures in ten and on the last; once the demo is up, the DEMO
// header, gauges and the 402 log.
func TestDemoInRealTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for a minute")
	}
	self, tmux := privateTmux(t)
	const watch = 60 * time.Second
	// All three run at once (not as parallel subtests, which GOMAXPROCS=2
	// would run two and one): about 70 s in all.
	type term struct {
		w, h                   int
		session                string
		up                     bool
		screen                 string
		captures, mixed, paces int
		levels                 map[string]bool
	}
	var terms []*term
	for _, size := range [][2]int{{80, 24}, {100, 30}, {200, 50}} {
		tm := &term{w: size[0], h: size[1], session: fmt.Sprintf("mavtop-test-%d-%d", os.Getpid(), size[0])}
		cmd := fmt.Sprintf("env -u REDIS_URL MAVTOP_AS_MAIN=1 %s; sleep 90", self)
		if out, err := tmux("new-session", "-d", "-s", tm.session, "-x", fmt.Sprint(tm.w), "-y", fmt.Sprint(tm.h), cmd).CombinedOutput(); err != nil {
			t.Fatalf("tmux: %v: %s", err, out)
		}
		defer tmux("kill-session", "-t", tm.session).Run()
		terms = append(terms, tm)
	}
	start := time.Now()
	for {
		done := time.Since(start) >= watch
		for _, tm := range terms {
			done = done && tm.up
		}
		if done {
			break
		}
		if time.Since(start) > watch+30*time.Second {
			for _, tm := range terms {
				if !tm.up {
					t.Fatalf("the demo did not come up at %d×%d in %s:\n%s", tm.w, tm.h, watch+30*time.Second, tm.screen)
				}
			}
		}
		for _, tm := range terms {
			out, err := tmux("capture-pane", "-p", "-t", tm.session).Output()
			if err != nil {
				t.Fatalf("capture-pane: %v", err)
			}
			tm.screen = string(out)
			screen, w, h := tm.screen, tm.w, tm.h
			// a 402 in the log, level words in the gauges: the demo is fully up
			if !tm.up && strings.Contains(screen, "DEMO") && strings.Contains(screen, "credits_exhausted") && strings.Contains(screen, "% used") {
				tm.up = true
				for _, want := range []string{"DEMO", "● connected", "Workspaces (6)", "% used", "402 refusals"} {
					if !strings.Contains(screen, want) {
						t.Errorf("%d×%d: screen lacks %q:\n%s", w, h, want, screen)
					}
				}
			}
			if !tm.up {
				continue
			}
			tm.captures++
			tm.levels = screenLevels(screen)
			if len(tm.levels) >= 3 {
				tm.mixed++
			}
			for _, p := range screenPaces(screen) {
				tm.paces++
				if p.over || p.value > 50 {
					t.Errorf("%d×%d: pace %s on screen at %s", w, h, p.text, time.Since(start).Round(time.Second))
				}
			}
			lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
			if len(lines) > h {
				t.Errorf("%d lines on a %d-line terminal", len(lines), h)
			}
			for _, l := range overflows(lines, w) {
				t.Errorf("%d×%d: %s", w, h, l)
			}
			if last := lines[len(lines)-1]; !strings.Contains(last, "? help") || !strings.Contains(last, "q quit") {
				t.Errorf("%d×%d: footer without ? help / q quit at %s: %q", w, h, time.Since(start).Round(time.Second), last)
			}
			if t.Failed() {
				t.Fatalf("%d×%d screen:\n%s", w, h, screen)
			}
		}
		time.Sleep(time.Second)
	}
	for _, tm := range terms {
		t.Logf("%d×%d: %d captures over %s, %d with three levels or more; %d paces read", tm.w, tm.h, tm.captures, watch, tm.mixed, tm.paces)
		if tm.mixed*10 < tm.captures*9 || len(tm.levels) < 3 {
			t.Errorf("%d×%d: three levels or more on %d of %d captures, %v on the last:\n%s", tm.w, tm.h, tm.mixed, tm.captures, tm.levels, tm.screen)
		}
		if tm.w >= 200 && tm.paces == 0 {
			t.Errorf("no pace column at %d×%d:\n%s", tm.w, tm.h, tm.screen)
		}
		tmux("send-keys", "-t", tm.session, "q").Run()
	}
}

// TestOverflows: a capture whose header scrolled away, or a pane line whose
// right border is cut or moved, is an overflow; a screen that fits is not.
func TestOverflows(t *testing.T) {
	fits := []string{"mavtop  DEMO    ? help", "╭─ Pane ─────╮╭─ Two ──╮", "│ ok ⚠ 👩    ││ b      │", "╰────────────╯╰────────╯", "? help • q quit"}
	if got := overflows(fits, 24); len(got) != 0 {
		t.Errorf("a screen that fits: %v", got)
	}
	for name, lines := range map[string][]string{
		"header scrolled away": {"│ row     │", "╰─────────╯"},
		"right border cut":     {"mavtop", "│ a row that went on a"},
		"border moved by one":  {"mavtop", "│ a wide 👩 cell   │"},
	} {
		if got := overflows(lines, 21); len(got) == 0 {
			t.Errorf("%s: not seen as an overflow", name)
		}
	}
}

// TestScreenParsing: the capture parsers find the levels and paces a row
// shows, ">999×" included, and nothing outside the rows.
func TestScreenParsing(t *testing.T) {
	screen := "header 20 × 6 questions\n" +
		"┃▸ umbrella  ✖ OUT   ━━━╋ 98 % used 1,475 / 1,500 out now 1.5k/h >999×  3 2 s ago┃\n" +
		"┃  initech   ▲ crit  ━━━╋ 90 % used 2,707 / 3,000 out in 6 min 2.7k/h  181×  0 now┃\n" +
		"┃  acme-prod ✓ ok    ━━─┼ 15 % used 3,013 / 20,000 lasts period 3.0k/h 0.6× 0 now┃\n"
	levels := screenLevels(screen)
	if len(levels) != 3 || !levels["✖ OUT"] || !levels["▲ crit"] || !levels["✓ ok"] {
		t.Errorf("levels %v", levels)
	}
	got := fmt.Sprint(screenPaces(screen))
	if want := "[{>999× 999 true} {181× 181 false} {0.6× 0.6 false}]"; got != want {
		t.Errorf("paces %s, want %s", got, want)
	}
}

// overflows says which lines of a capture show that the view did not fit: a
// capture never holds more cells than the pane (the renderer cuts a wide line,
// tmux keeps the bottom of a tall view), so an overflow shows as the header
// pushed off the first line, or a pane's line whose right border is not in the
// last column (cut off, or moved by a cell the program measured otherwise than
// the terminal).
func overflows(lines []string, w int) []string {
	var bad []string
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "mavtop") {
		return []string{"the header is not on the first line"}
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			bad = append(bad, fmt.Sprintf("line %d is %d cells wide on a %d-wide terminal: %q", i, n, w, l))
			continue
		}
		first, _ := utf8.DecodeRuneInString(l)
		last, _ := utf8.DecodeLastRuneInString(l)
		if strings.ContainsRune("│┃╭┏╰┗", first) && (!strings.ContainsRune("│┃╮┓╯┛", last) || ansi.StringWidth(l) != w) {
			bad = append(bad, fmt.Sprintf("line %d of a pane does not end with its right border in column %d: %q", i, w, l))
		}
	}
	return bad
}

// screenLevels returns the level words shown in the workspace rows of a capture.
func screenLevels(screen string) map[string]bool {
	seen := map[string]bool{}
	for _, l := range strings.Split(screen, "\n") {
		for _, lvl := range []string{"✓ ok", "▲ warn", "▲ high", "▲ crit", "✖ OUT"} {
			if strings.Contains(l, lvl+" ") {
				seen[lvl] = true
			}
		}
	}
	return seen
}

// shownPace is one value of the pace column as drawn.
type shownPace struct {
	text  string
	value float64
	over  bool // ">999×"
}

var paceRE = regexp.MustCompile(`(>?)(\d+(?:\.\d+)?)×`)

// screenPaces returns the pace values in the workspace rows of a capture (rows
// carry a level word; a pace is a number followed by ×).
func screenPaces(screen string) []shownPace {
	var out []shownPace
	for _, l := range strings.Split(screen, "\n") {
		if len(screenLevels(l)) == 0 {
			continue
		}
		for _, m := range paceRE.FindAllStringSubmatch(l, -1) {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				continue
			}
			out = append(out, shownPace{text: m[0], value: v, over: m[1] == ">"})
		}
	}
	return out
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

// TestDemoLogInRealTerminal runs `mavtop --log FILE` (the demo) in tmux and
// goes through the estimator as an operator would: a job in the workspace
// that ran out is refused by the pane's own pre-flight, queued with r and
// cancelled with x y. The file read back holds the start, the connection, the
// counters read, the refusal (who refused it), the queued and the cancelled job.
func TestDemoLogInRealTerminal(t *testing.T) {
	self, tmux := privateTmux(t)
	file := t.TempDir() + "/mavtop.log"
	var screen string
	session, until := startDemoInTmux(t, tmux, self, "mavtop-log", "--log "+file, 120, 36, &screen)
	keys := func(k ...string) {
		t.Helper()
		if out, err := tmux(append([]string{"send-keys", "-t", session}, k...)...).CombinedOutput(); err != nil {
			t.Fatalf("send-keys: %v: %s", err, out)
		}
	}
	until("the demo", "DEMO", "umbrella-research", "% used")
	keys("/")
	// Bubble Tea v1 reads printable keys that arrive together as one message
	// ("/umbrella-research"), which is no "/": type the name once the filter
	// is open (it failed so once in a full run on the idle machine)
	until("the filter", "filter: ")
	keys("-l", "umbrella-research")
	until("the name typed", "filter: umbrella-research")
	keys("Enter")
	keys("e")
	until("the estimator on umbrella-research", "remaining in umbrella-research")
	keys("Enter")
	until("the pane's refusal", "press r to queue it")
	keys("r")
	until("the queued job", "Retry queue", "waiting: needs 102")
	keys("x")
	until("the question", "Cancel the queued focus-group in umbrella-research?")
	keys("y")
	until("the cancelled job", "cancelled the queued focus-group in umbrella-research")
	keys("q")
	var log string
	waitUntil(t, 30*time.Second, "the log", func() bool {
		b, _ := os.ReadFile(file)
		log = string(b)
		return strings.Contains(log, "msg=\"queued job cancelled\"")
	})
	for _, want := range []string{
		`msg="dashboard started" demo=true launching=true`,
		`msg=redis state=connected`,
		`msg="counters read" reason=start`,
		`level=WARN msg="launch refused" workspace=umbrella-research operation=focus-group required=102 by="the estimator's pre-flight" err="Estimated 85 credits`,
		`msg="queued for retry" workspace=umbrella-research operation=focus-group required=102`,
		`msg="queued job cancelled" id=`,
		` removed=true`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if t.Failed() {
		t.Fatalf("the log:\n%s\nthe screen:\n%s", log, screen)
	}
}

// TestSGRLines: scripts/sgrlines.pl (the README picture's capture for freeze)
// starts every line with the colours the line before ended in, and spells out
// the default colours and every later change whole, bold keeping its colour.
func TestSGRLines(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl is not installed")
	}
	c := exec.Command("perl", "../scripts/sgrlines.pl")
	c.Env = append(os.Environ(), "FG=1;2;3", "BG=4;5;6")
	c.Stdin = strings.NewReader("\x1b[38;2;0;95;215m┏━\n┃\x1b[39m x \x1b[38;5;9m\x1b[1mB\x1b[0m\n")
	out, err := c.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "\x1b[0;38;2;1;2;3;48;2;4;5;6m\x1b[0;38;2;0;95;215;48;2;4;5;6m┏━\n" +
		"\x1b[0;38;2;0;95;215;48;2;4;5;6m┃\x1b[0;38;2;1;2;3;48;2;4;5;6m x \x1b[0;38;5;9;48;2;4;5;6m\x1b[0;1;38;5;9;48;2;4;5;6mB\x1b[0;38;2;1;2;3;48;2;4;5;6m\n"
	if string(out) != want {
		t.Errorf("got  %q\nwant %q", out, want)
	}
}

// TestARefusedProjectAgreesInRealTerminal: the demo's hooli-ml starts with its
// project training at its usage limit, refused with 402 budget_exceeded (its
// owner raises the limit a minute and a half after the live refusals start).
// In tmux at 200×50 the row and the refusal's alert (what the banner said),
// then with hooli-ml's detail open the row and the detail, say the same: the
// limit is reached (no "out in 13 s" beside the
// banner, no pace, no "out of credits" for a workspace with credits left).
func TestARefusedProjectAgreesInRealTerminal(t *testing.T) {
	self, tmux := privateTmux(t)
	var screen string
	session, until := startDemoInTmux(t, tmux, self, "mavtop-refused", "", 200, 50, &screen)
	// the alerts pane holds the lifecycle's alerts of the refusal, once each
	// (the banner's "got 402" is the refusals alert's moment, not listed again)
	until("the row and the refusal's alert", "DEMO", "90,000 / 90,000     limit reached",
		"firing: the API refuses hooli-ml's calls with 402 budget_exce", "firing: hooli-ml/training reached its usage limit")
	tmux("send-keys", "-t", session, "/").Run()
	until("the filter", "filter: ")
	tmux("send-keys", "-t", session, "-l", "hooli-ml").Run()
	until("the name typed", "filter: hooli-ml")
	tmux("send-keys", "-t", session, "Enter").Run()
	tmux("send-keys", "-t", session, "Enter").Run()
	until("the row and the detail",
		"100 % /training", "90,000 / 90,000     limit reached",
		"project training's usage limit (sets the level)")
	var row string
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "hooli-ml ") && strings.Contains(l, "/training") {
			row = l
		}
	}
	if !strings.Contains(row, "▲ crit") || strings.Contains(row, "OUT") || strings.Contains(row, "×") || strings.Contains(row, "out in") {
		t.Errorf("row %q: want ▲ crit (the workspace has credits: not OUT), limit reached, no pace", row)
	}
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "project training's usage limit (sets the level)") && !strings.Contains(l, " · limit reached") {
			t.Errorf("the detail's forecast of the limit %q: want limit reached", l)
		}
	}
	if strings.Contains(screen, "out of credits") {
		t.Errorf("the detail says out of credits for a workspace with credits left:\n%s", screen)
	}
	tmux("send-keys", "-t", session, "q").Run()
}

// startDemoInTmux starts the demo (MAVTOP_ARGS args, "" for none) in a session
// of the private tmux server at w×h, killed when the test ends, and returns
// the session's name and until, which waits up to 60 s for every one of want
// on screen (what names it in the failure), leaving the screen in *screen.
func startDemoInTmux(t *testing.T, tmux func(args ...string) *exec.Cmd, self, name, args string, w, h int, screen *string) (string, func(what string, want ...string)) {
	t.Helper()
	session := fmt.Sprintf("%s-%d", name, os.Getpid())
	env := "env -u REDIS_URL MAVTOP_AS_MAIN=1"
	if args != "" {
		env += " MAVTOP_ARGS='" + args + "'"
	}
	if out, err := tmux("new-session", "-d", "-s", session, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), env+" "+self+"; sleep 30").CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = tmux("kill-session", "-t", session).Run() })
	return session, func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			out, err := tmux("capture-pane", "-p", "-t", session).Output()
			if err != nil {
				t.Fatalf("capture-pane: %v", err)
			}
			*screen = string(out)
			missing := ""
			for _, s := range want {
				if !strings.Contains(*screen, s) {
					missing = s
				}
			}
			if missing == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s (%q) on screen:\n%s", what, missing, *screen)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
