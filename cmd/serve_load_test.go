package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
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
// MAVTOP_SERVE_LOAD=1 go test ./cmd -run ServeLoad -v -timeout 30m
// starts mavtop serve on a real redis-server, connects VIEWERS (50) real SSH
// clients with 200×50 terminals, publishes RATE (1000) events a second over
// WORKSPACES (50) for SECONDS (60), and logs the bytes each viewer read per
// second and the process's CPU (serve, the SSH clients and the publisher
// together: an upper bound on serve's) per viewer. FPS (serve's default)
// sets --fps. Not in CI: it takes minutes and a quiet machine.
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
	viewers, rate, workspaces, seconds := env("VIEWERS", 50), env("RATE", 1000), env("WORKSPACES", 50), env("SECONDS", 60)
	srv := feedtest.Start(t)
	if !srv.Real {
		t.Skip("needs a real redis-server")
	}
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
	r := startServe(t, args...)
	waitUntil(t, 15*time.Second, "the feed to connect", func() bool { return r.gauge(t, "mavtop_feed_connected") == 1 })

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

	pub := feed.NewPublisher(rc, feed.PublisherOptions{})
	pctx, stop := context.WithCancel(ctx)
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
	time.Sleep(5 * time.Second) // warm up: first frames, the rate settles
	var before, after syscall.Rusage
	start := time.Now()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b0 := make([]int64, viewers)
	for i := range counts {
		b0[i] = counts[i].Load()
	}
	s0 := sent.Load()
	time.Sleep(time.Duration(seconds) * time.Second)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	el := time.Since(start).Seconds()
	s1 := sent.Load()
	stop()
	var total int64
	lo, hi := int64(1<<62), int64(0)
	for i := range counts {
		d := counts[i].Load() - b0[i]
		total += d
		lo, hi = min(lo, d), max(hi, d)
	}
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()).Seconds() / el
	t.Logf("%d viewers, %.0f events/s over %d workspaces, %.0f s: output per viewer %.1f KB/s (min %.1f, max %.1f); process CPU %.0f %% of a core, %.2f %% per viewer (serve, clients and publisher together)",
		viewers, float64(s1-s0)/el, workspaces, el, float64(total)/float64(viewers)/el/1000, float64(lo)/el/1000, float64(hi)/el/1000, cpu*100, cpu*100/float64(viewers))
}
