package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestServeLoad is the hand-run measure of what each SSH viewer costs:
//
//	MAVTOP_SERVE_LOAD=1 go test ./cmd -run ServeLoad -v -timeout 30m
//
// starts `mavtop serve` as a process of its own (the test binary standing in
// for mavtop, see TestMain) on a real redis-server, publishes RATE (1000)
// events a second over WORKSPACES (50), measures serve's CPU for BASE (5)
// seconds with no viewer, connects VIEWERS (50) real SSH clients with 200×50
// terminals, and over SECONDS (60) logs the bytes each viewer read per second
// and serve's own CPU (utime+stime of its /proc/<pid>/stat): per viewer, and
// per viewer above the no-viewer base. The SSH clients and the publisher run
// in the test process; their CPU is logged apart. FPS (serve's default) sets
// --fps; PROFILE=file writes serve's CPU profile there (go tool pprof file),
// HEAP=file its live heap at the end of the window;
// DUMP=file viewer 0's bytes. Not in CI: it takes minutes and a quiet machine.
func TestServeLoad(t *testing.T) {
	if os.Getenv("MAVTOP_SERVE_LOAD") == "" {
		t.Skip("hand-run: MAVTOP_SERVE_LOAD=1")
	}
	env := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	viewers, rate, workspaces := env("VIEWERS", 50), env("RATE", 1000), env("WORKSPACES", 50)
	seconds, base := env("SECONDS", 60), env("BASE", 5)
	srv := feedtest.StartReal(t, "needs a real redis-server")
	ctx := context.Background()
	rc := srv.Client()
	store := feed.NewSettingsStore(rc, feed.StoreOptions{})
	for i := range workspaces {
		if err := store.SetWorkspace(ctx, fmt.Sprintf("ws-%03d", i), model.Settings{Allocation: 1_000_000_000}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--redis", srv.URL, "--max-sessions-per-key", strconv.Itoa(viewers), "--max-sessions", strconv.Itoa(viewers)}
	if fps := os.Getenv("FPS"); fps != "" {
		args = append(args, "--fps", fps)
	}
	var childEnv []string
	if name := os.Getenv("PROFILE"); name != "" {
		childEnv = append(childEnv, "MAVTOP_CPUPROFILE="+name)
	}
	heap := os.Getenv("HEAP")
	if heap != "" {
		childEnv = append(childEnv, "MAVTOP_HEAPPROFILE="+heap)
	}
	r := startServeProcess(t, childEnv, args...)
	waitUntil(t, 60*time.Second, "the feed to connect", func() bool { return r.gauge(t, "mavtop_feed_connected") == 1 })

	pub := feed.NewPublisher(rc, feed.PublisherOptions{})
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var sent atomic.Int64
	go func() { // paced by the clock: a late tick sends what is due, so the rate holds on a loaded machine
		begin := time.Now()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		k := 0
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			due := int(time.Since(begin).Seconds()*float64(rate)) - k
			evs := make([]model.Event, 0, max(due, 0))
			for range due {
				k++
				evs = append(evs, model.Event{Workspace: fmt.Sprintf("ws-%03d", k%workspaces), Project: "p0",
					Endpoint: "/responses", Credits: int64(1 + k%40), Status: 200})
			}
			if len(evs) > 0 && pub.TrackBatch(pctx, evs) == nil {
				sent.Add(int64(len(evs)))
			}
		}
	}()
	time.Sleep(3 * time.Second) // the rate settles
	// the base: serve following the stream with no viewer
	w := startWindow(r.pid, &sent, nil)
	time.Sleep(time.Duration(base) * time.Second)
	idle := w.end()

	counts := make([]atomic.Int64, viewers)
	var dump *os.File // DUMP=file: viewer 0's bytes, to see what changes between frames
	if name := os.Getenv("DUMP"); name != "" {
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dump = f
	}
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := gossh.Dial("tcp", r.sshAddr, &gossh.ClientConfig{User: "ops", Auth: []gossh.AuthMethod{gossh.PublicKeys(r.user)},
				HostKeyCallback: gossh.FixedHostKey(r.hostKey), Timeout: 30 * time.Second})
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { c.Close() })
			s, err := c.NewSession()
			if err != nil {
				t.Error(err)
				return
			}
			if err := s.RequestPty("xterm-256color", 50, 200, gossh.TerminalModes{}); err != nil {
				t.Error(err)
				return
			}
			out, _ := s.StdoutPipe()
			in, _ := s.StdinPipe()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := out.Read(buf)
					counts[i].Add(int64(n))
					if i == 0 && dump != nil {
						_, _ = dump.Write(buf[:n])
					}
					if bytes.Contains(buf[:n], []byte("\x1b[c")) {
						_, _ = in.Write([]byte("\x1b[?62;22c"))
					}
					if err != nil {
						return
					}
				}
			}()
			if err := s.Shell(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	waitUntil(t, 60*time.Second, "every session", func() bool { return r.gauge(t, "mavtop_ssh_sessions") == float64(viewers) })
	time.Sleep(5 * time.Second) // warm up: first frames

	w = startWindow(r.pid, &sent, counts)
	time.Sleep(time.Duration(seconds) * time.Second)
	m := w.end()
	if heap != "" { // the live heap with every viewer connected
		_ = os.Remove(heap)
		_ = syscall.Kill(r.pid, syscall.SIGUSR1)
		waitUntil(t, 30*time.Second, "the heap profile", func() bool { _, err := os.Stat(heap); return err == nil })
	}
	stop()
	var total int64
	lo, hi := int64(1<<62), int64(0)
	for _, d := range m.bytes {
		total += d
		lo, hi = min(lo, d), max(hi, d)
	}
	n := float64(viewers)
	t.Logf("no viewer: %.0f events/s, serve %.1f %% of a core (load average %s)", idle.rate(), idle.cpuPercent(), idle.load)
	t.Logf("%d viewers, %.0f events/s over %d workspaces, %.0f s (load average %s → %s): output per viewer %.1f KB/s (min %.1f, max %.1f); "+
		"serve alone %.1f %% of a core, %.2f %% per viewer (%.2f %% per viewer above the no-viewer base), RSS %.0f MB; "+
		"the test process (SSH clients, publisher) %.0f %% of a core",
		viewers, m.rate(), workspaces, m.seconds, m.load, loadavg(), float64(total)/n/m.seconds/1000, float64(lo)/m.seconds/1000, float64(hi)/m.seconds/1000,
		m.cpuPercent(), m.cpuPercent()/n, (m.cpuPercent()-idle.cpuPercent())/n, float64(m.rss)/1e6, m.selfPercent())
}

// loadWindow is what one measuring window of TestServeLoad saw.
type loadWindow struct {
	pid         int
	sent        *atomic.Int64
	counts      []atomic.Int64
	start       time.Time
	cpu0, self0 time.Duration
	sent0       int64
	b0          []int64
	load        string

	seconds   float64
	cpu, self time.Duration
	events    int64
	bytes     []int64
	rss       int64
}

// startWindow begins a window: serve's (pid) CPU, the test process's CPU,
// the events sent and each viewer's bytes (counts, may be nil) so far.
func startWindow(pid int, sent *atomic.Int64, counts []atomic.Int64) *loadWindow {
	w := &loadWindow{pid: pid, sent: sent, counts: counts, load: loadavg(), start: time.Now()}
	w.cpu0, _ = procCPU(pid)
	w.self0 = selfCPU()
	w.sent0 = sent.Load()
	for i := range counts {
		w.b0 = append(w.b0, counts[i].Load())
	}
	return w
}

// end closes the window and returns it with its differences.
func (w *loadWindow) end() *loadWindow {
	cpu, rss := procCPU(w.pid)
	w.cpu, w.rss = cpu-w.cpu0, rss
	w.self = selfCPU() - w.self0
	w.events = w.sent.Load() - w.sent0
	w.seconds = time.Since(w.start).Seconds()
	for i := range w.counts {
		w.bytes = append(w.bytes, w.counts[i].Load()-w.b0[i])
	}
	return w
}

func (w *loadWindow) rate() float64        { return float64(w.events) / w.seconds }
func (w *loadWindow) cpuPercent() float64  { return w.cpu.Seconds() * 100 / w.seconds }
func (w *loadWindow) selfPercent() float64 { return w.self.Seconds() * 100 / w.seconds }

// procCPU returns a process's CPU time (utime+stime, all its threads) and RSS
// from /proc; zero when it cannot be read.
func procCPU(pid int) (cpu time.Duration, rss int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:])) // field 3 (state) on
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, pages * int64(os.Getpagesize()) // CLK_TCK is 100 on Linux
}

// selfCPU is the test process's CPU time so far (not its children's).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// startServeProcess runs `mavtop serve` with args as a process of its own
// (the test binary standing in for mavtop, see TestMain), env added to its
// environment; the cleanup ends it with SIGTERM, as a service manager would.
func startServeProcess(t *testing.T, env []string, args ...string) *runningServe {
	t.Helper()
	r, args, hostKey := prepareServe(t, args)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(append(os.Environ(), "MAVTOP_AS_MAIN=1", "MAVTOP_ARGS="+strings.Join(args, " ")), env...)
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.pid = cmd.Process.Pid
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("serve did not stop on SIGTERM")
		}
	})
	r.awaitListening(t, hostKey)
	return r
}
