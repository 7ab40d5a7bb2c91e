package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/redis/go-redis/v9"
	gossh "golang.org/x/crypto/ssh"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newKey returns a fresh client key.
func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeKeys writes an authorized_keys file holding keys.
func writeKeys(t testing.TB, name string, keys ...gossh.Signer) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("# test keys\n\n")
	for _, k := range keys {
		b.Write(gossh.MarshalAuthorizedKey(k.PublicKey()))
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeLauncher records launches.
type fakeLauncher struct {
	mu   sync.Mutex
	jobs []tui.Job
}

func (f *fakeLauncher) Launch(_ context.Context, job tui.Job, progress func(string)) (tui.LaunchResult, error) {
	f.mu.Lock()
	f.jobs = append(f.jobs, job)
	f.mu.Unlock()
	progress("running")
	return tui.LaunchResult{Actual: 3, JobID: "job-1"}, nil
}

func (f *fakeLauncher) Queue(context.Context, tui.Job, error) error { return nil }

func (f *fakeLauncher) Queued(context.Context) ([]tui.QueuedJob, error) { return nil, nil }

func (f *fakeLauncher) Cancel(context.Context, string) (bool, error) { return false, nil }

func (f *fakeLauncher) Jobs() []tui.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tui.Job(nil), f.jobs...)
}

// fixture is a running server over an embedded Redis with one workspace.
type fixture struct {
	hub      *feed.Hub
	rdb      redis.UniversalClient
	srv      *Server
	addr     string
	hostKey  gossh.PublicKey
	log      *syncBuffer
	pub      *feed.Publisher
	launcher *fakeLauncher
	// reader may connect; launcher may connect and launch.
	reader, admin gossh.Signer
	auth          *Auth
}

type fixtureOpts struct {
	color   bool // draw in colour (the fixture's sessions are colourless otherwise)
	limits  Limits
	idle    time.Duration
	noLaunc bool
	now     func() time.Time // the server's clock (time.Now)
	// redisServer runs the fixture on redis-server (feedtest) instead of the
	// embedded Redis.
	redisServer bool
}

// manualClock is a clock that moves only when told.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *manualClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func startFixture(t *testing.T, fo fixtureOpts) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var rdb redis.UniversalClient
	if fo.redisServer {
		rdb = feedtest.Start(t).Client()
	} else {
		emb, err := feed.StartEmbedded()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(emb.Close)
		rdb = emb.Client()
	}
	store := feed.NewSettingsStore(rdb, feed.StoreOptions{})
	if err := store.SetWorkspace(ctx, "acme-prod", model.Settings{Allocation: 10000}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{hub: feed.NewHub(), rdb: rdb, log: &syncBuffer{}, launcher: &fakeLauncher{},
		pub: feed.NewPublisher(rdb, feed.PublisherOptions{}), reader: newKey(t), admin: newKey(t)}
	if err := f.pub.Track(ctx, model.Event{Workspace: "acme-prod", Project: "web", Endpoint: "/responses", Credits: 1234, Status: 200}); err != nil {
		t.Fatal(err)
	}
	sub := feed.NewSubscriber(rdb, feed.SubscriberOptions{StatsEvery: 100 * time.Millisecond})
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = f.hub.Run(ctx, sub) }()
	t.Cleanup(func() { cancel(); <-hubDone })

	var err error
	f.auth, _, err = LoadAuth(writeKeys(t, "authorized_keys", f.reader, f.admin), writeKeys(t, "launch_keys", f.admin))
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := LoadOrCreateHostKey(filepath.Join(t.TempDir(), "mavtop", "ssh_host_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	f.hostKey = host.PublicKey()
	opt := Options{
		Hub: f.hub, Auth: f.auth, HostKey: host, Launcher: f.launcher,
		IdleTimeout: fo.idle, NoColor: !fo.color, Now: fo.now, Limits: fo.limits,
		Logger: slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if fo.noLaunc {
		opt.Launcher, opt.NoLauncher = nil, "set MAVERA_API_KEY to launch jobs"
	}
	f.srv, err = New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := f.srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return f
}

// dial connects with auth methods.
func (f *fixture) dial(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", f.addr, &gossh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: gossh.FixedHostKey(f.hostKey), Timeout: 5 * time.Second,
	})
}

// term is a client terminal: it keeps everything the server drew and answers
// the terminal queries a real terminal answers (wish asks for the background
// colour, then device attributes, when a session starts).
// answers is how a test terminal answers the queries a session sends:
// background is its reply to OSC 11 ("rgb:ffff/ffff/ffff"); "" answers only
// DA1, as a terminal that does not know its colours; silent answers nothing.
type answers struct {
	background string
	silent     bool
}

type term struct {
	answers
	t    *testing.T
	c    *gossh.Client
	s    *gossh.Session
	in   io.WriteCloser
	mu   sync.Mutex
	out  bytes.Buffer
	vt   *vterm // the screen as a terminal shows it
	done chan struct{}
	err  error
}

// openTerm opens a session with a PTY of w×h and starts a shell.
func openTerm(t *testing.T, c *gossh.Client, w, h int) *term {
	t.Helper()
	return openTermAs(t, c, w, h, answers{})
}

// openTermAs is openTerm with a terminal that answers queries as like says.
func openTermAs(t *testing.T, c *gossh.Client, w, h int, like answers) *term {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, c: c, s: s, done: make(chan struct{}), answers: like, vt: newVterm(512, 200)}
	if err := s.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if tm.in, err = s.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	go tm.read(out)
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); c.Close() })
	return tm
}

func (tm *term) read(r io.Reader) {
	defer close(tm.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			_, _ = tm.vt.Write(buf[:n])
			if tm.background != "" && !tm.silent && bytes.Contains(buf[:n], []byte("\x1b]11;?")) {
				_, _ = tm.in.Write([]byte("\x1b]11;" + tm.background + "\x1b\\"))
			}
			if !tm.silent && bytes.Contains(buf[:n], []byte("\x1b[c")) {
				_, _ = tm.in.Write([]byte("\x1b[?62;22c")) // DA1: a VT220
			}
		}
		if err != nil {
			tm.mu.Lock()
			tm.err = err
			tm.mu.Unlock()
			return
		}
	}
}

// raw is everything the server sent, escape sequences included.
func (tm *term) raw() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// screen is everything drawn so far, without escape sequences, then the
// screen as the terminal shows it now (frames after the first send only the
// cells that changed, so a new word may arrive in pieces).
func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.Strip(tm.out.String()) + "\n" + tm.vt.text()
}

// waitScreen waits until the output shows every one of want.
func (tm *term) waitScreen(d time.Duration, want ...string) {
	tm.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := tm.screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen lacks %q after %s:\n%s", missing, d, tail(s, 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := tm.in.Write([]byte(s)); err != nil {
		tm.t.Fatalf("send %q: %v", s, err)
	}
}

// closed reports whether the server ended the session.
func (tm *term) closed() bool {
	select {
	case <-tm.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
