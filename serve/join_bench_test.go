package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// BenchmarkServeJoin measures what an SSH viewer's join costs at 1k, 10k and
// 100k workspaces, along the real path: a wish server over a hub holding n
// workspaces and an hour of their history, an x/crypto/ssh client asking for
// a 200×50 pty, until its first frame's rows arrive (ms/op: the time from
// dial to the first row; B/op: what the process allocated meanwhile, the
// server's and the client's; retained-B/op: the heap each session keeps once
// its first frame is drawn; cpu-ms/op: the process's CPU per join, the
// feed's share included; slowest-first-frame-ms: the slowest join). The
// dashboards draw at serve's default --fps (4): the first frame with rows
// comes after about two frame periods (~0.5 s; ~0.1 s at 20). Events keep
// arriving (one batch of 100 every 100 ms, 1,000 a second), so the join
// competes with the feed as in serve.
func BenchmarkServeJoin(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) { serveJoin(b, n) })
	}
}

func serveJoin(b *testing.B, n int) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hub := feed.NewHub()
	hub.Handle(&feed.SnapshotMsg{Gen: 1, Snap: modeltest.Snapshot(n, now), Rule: model.MonthlyUTC, At: now.Add(-time.Hour),
		History: modeltest.History(n, n, now), HistoryFrom: now.Add(-time.Hour)})
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	var feeding sync.WaitGroup
	feeding.Go(func() { // 1,000 events a second, as the hunt's serve saw
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for k := 0; ; {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			evs := make([]model.Event, 100)
			for i := range evs {
				k++
				evs[i] = modeltest.Event(k*7919, n, now.UnixMilli())
			}
			hub.Handle(&feed.BatchMsg{Events: evs, LastID: evs[len(evs)-1].ID})
		}
	})
	defer feeding.Wait()
	defer cancel()

	user := newKey(b)
	auth, _, err := LoadAuth(writeKeys(b, "authorized_keys", user), "")
	if err != nil {
		b.Fatal(err)
	}
	host, _, err := LoadOrCreateHostKey(filepath.Join(b.TempDir(), "host"))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{Hub: hub, Auth: auth, HostKey: host, NoColor: true, IdleTimeout: -1,
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits: Limits{MaxSessions: 1 << 20, MaxSessionsPerKey: 1 << 20}})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var clients []*gossh.Client
	var slowest time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		c, first := serveJoinOnce(b, ln.Addr().String(), user, host.PublicKey())
		clients = append(clients, c)
		slowest = max(slowest, first)
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(slowest.Microseconds())/1e3, "slowest-first-frame-ms")
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "retained-B/op")
	for _, c := range clients {
		c.Close()
	}
}

// processCPU is the process's CPU time so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serveJoinOnce connects one viewer and waits for its first frame's rows
// (a workspace's name on screen); it returns the client and how long that took.
func serveJoinOnce(b *testing.B, addr string, user gossh.Signer, hostKey gossh.PublicKey) (*gossh.Client, time.Duration) {
	start := time.Now()
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "ops", Auth: []gossh.AuthMethod{gossh.PublicKeys(user)},
		HostKeyCallback: gossh.FixedHostKey(hostKey), Timeout: 60 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 50, 200, gossh.TerminalModes{}); err != nil {
		b.Fatal(err)
	}
	out, _ := s.StdoutPipe()
	in, _ := s.StdinPipe()
	if err := s.Shell(); err != nil {
		b.Fatal(err)
	}
	rows := make(chan struct{})
	go func() {
		var seen bytes.Buffer
		buf := make([]byte, 32<<10)
		shown := false
		for {
			k, err := out.Read(buf)
			if !shown {
				seen.Write(buf[:k])
				if bytes.Contains(buf[:k], []byte("\x1b[c")) {
					_, _ = in.Write([]byte("\x1b[?62;22c")) // DA1: a VT220
				}
				if bytes.Contains(seen.Bytes(), []byte("ws-0")) {
					shown = true
					close(rows)
				}
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-rows:
	case <-time.After(60 * time.Second):
		b.Fatalf("no rows within 60 s")
	}
	return c, time.Since(start)
}
