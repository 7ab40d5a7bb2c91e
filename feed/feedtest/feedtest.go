// Package feedtest gives tests a Redis to talk to: a real redis-server on a free
// loopback port when the binary is on PATH (AOF on, so Kill and Restart keep the
// data), else the embedded miniredis, said so in the test log. With
// MAVTOP_REQUIRE_REDIS_SERVER=1 (CI) a missing redis-server fails the test.
package feedtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// RequireEnv is the environment variable that makes a missing redis-server fatal.
const RequireEnv = "MAVTOP_REQUIRE_REDIS_SERVER"

// Server is a Redis for one test, stopped by t.Cleanup.
type Server struct {
	// Addr is host:port and URL is redis://host:port/0.
	Addr, URL string
	// Real is true for redis-server, false for the embedded fallback.
	Real bool

	t    testing.TB
	dir  string
	bin  string
	mini *miniredis.Miniredis

	// args are the redis-server arguments after the port, bind and dir ones;
	// conf, when set, is the config file given first (a sentinel needs one).
	args []string
	conf string

	mu      sync.Mutex
	cmd     *exec.Cmd
	clients []redis.UniversalClient
}

// durable keeps every acknowledged write on disk before its reply (AOF,
// fsync always), so a SIGKILL loses nothing a client was told about.
var durable = []string{"--appendonly", "yes", "--appendfsync", "always"}

// Start starts a Redis for t: redis-server when on PATH, else miniredis.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		requireReal(t)
		t.Log("feedtest: redis-server not on PATH; using the embedded miniredis (no Kill/Restart data durability, no max-deleted-entry-id)")
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			t.Fatalf("feedtest: start miniredis: %v", err)
		}
		s := &Server{Addr: m.Addr(), URL: "redis://" + m.Addr() + "/0", t: t, mini: m}
		t.Cleanup(s.close)
		return s
	}
	return startReal(t, bin, durable)
}

// StartReal starts a redis-server for t as Start does, and skips t where
// there is none, why being the skip's message (what the test needs of a real
// server: Kill and Restart with the data, ACLs, INFO commandstats). With
// RequireEnv=1 (CI) a missing redis-server fails t instead, as with Start.
func StartReal(t testing.TB, why string) *Server {
	t.Helper()
	s := Start(t)
	if !s.Real {
		t.Skip(why)
	}
	return s
}

// requireReal fails t when CI requires redis-server and it is missing.
func requireReal(t testing.TB) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("feedtest: %s=1 but redis-server is not on PATH: install it (apt-get install redis-server)", RequireEnv)
	}
}

// startReal starts redis-server with args on a free loopback port.
func startReal(t testing.TB, bin string, args []string) *Server {
	t.Helper()
	s := newReal(t, bin, args)
	s.start()
	return s
}

// newReal prepares a redis-server on a free loopback port without starting it.
func newReal(t testing.TB, bin string, args []string) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), bin: bin, Real: true, args: args}
	port, err := freePort()
	if err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.URL = "redis://" + s.Addr + "/0"
	t.Cleanup(s.close)
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	logf, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatalf("feedtest: %v", err)
	}
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--daemonize", "no", "--protected-mode", "no",
		"--loglevel", "warning"}, s.args...)
	if s.conf != "" {
		args = append([]string{s.conf}, args...)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.t.Fatalf("feedtest: start redis-server: %v", err)
	}
	logf.Close()
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("feedtest: redis-server on %s did not answer: %v\n%s", s.Addr, err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Client returns a new client for the server, closed at cleanup. Like
// feed.Connect's it fails fast while the server is down instead of retrying.
func (s *Server) Client() redis.UniversalClient {
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{s.Addr},
		DialTimeout:           time.Second,
		ContextTimeoutEnabled: true,
	})
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	return c
}

// Kill stops the server at once (SIGKILL for redis-server): clients see their
// connections drop. The data stays in the directory for Restart.
func (s *Server) Kill() {
	s.t.Helper()
	if s.mini != nil {
		s.mini.Close()
		return
	}
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

// Restart starts the server again on the same port and directory; redis-server
// reloads its append-only file.
func (s *Server) Restart() {
	s.t.Helper()
	if s.mini != nil {
		if err := s.mini.Restart(); err != nil {
			s.t.Fatalf("feedtest: restart miniredis: %v", err)
		}
		return
	}
	s.Kill()
	s.start()
}

// CopyData copies the server's data files as they are now and returns where
// the copy is, for RestartFrom: a restart onto an older state of the data, the
// way a restore from a backup, a lost fsync or a failover to a lagging replica
// brings a server back. redis-server only (the test must skip otherwise).
func (s *Server) CopyData() string {
	s.t.Helper()
	if s.mini != nil {
		s.t.Fatalf("feedtest: CopyData needs redis-server")
	}
	dst := filepath.Join(s.t.TempDir(), "data")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(s.dir, "appendonlydir"))); err != nil {
		s.t.Fatalf("feedtest: copy data: %v", err)
	}
	return dst
}

// RestartFrom kills the server and starts it on the data copied by CopyData;
// from "" starts it with no data at all (a server that lost everything).
func (s *Server) RestartFrom(from string) {
	s.t.Helper()
	if s.mini != nil {
		s.t.Fatalf("feedtest: RestartFrom needs redis-server")
	}
	s.Kill()
	aof := filepath.Join(s.dir, "appendonlydir")
	if err := os.RemoveAll(aof); err != nil {
		s.t.Fatalf("feedtest: remove data: %v", err)
	}
	if from != "" {
		if err := os.CopyFS(aof, os.DirFS(from)); err != nil {
			s.t.Fatalf("feedtest: restore data: %v", err)
		}
	}
	s.start()
}

// Dir is the server's data directory ("" for the embedded one).
func (s *Server) Dir() string { return s.dir }

func (s *Server) close() {
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()
	for _, c := range clients {
		_ = c.Close()
	}
	if s.mini != nil {
		s.mini.Close()
		return
	}
	s.Kill()
}
