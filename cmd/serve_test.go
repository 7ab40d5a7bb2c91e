package cmd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
	gossh "golang.org/x/crypto/ssh"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/serve"
)

// lockedBuffer is a goroutine-safe stderr for a command running in the background.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runningServe is `mavtop serve` running in the background.
type runningServe struct {
	stderr        *lockedBuffer
	sshAddr       string
	metricsURL    string
	hostKey       gossh.PublicKey
	stop          context.CancelFunc
	done          chan error
	user          gossh.Signer
	authorizedKey string
	pid           int // the serve process's (startServeProcess), 0 in this one
}

var listenLine = regexp.MustCompile(`(?m)msg="mavtop serve listening" addr=(\S+) .*? metrics=(\S+)$`)

// startServe runs `mavtop serve` with args on free ports and a fresh key.
func startServe(t *testing.T, args ...string) *runningServe {
	t.Helper()
	r, args, hostKey := prepareServe(t, args)
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(r.stderr)
	go func() { r.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	r.awaitListening(t, hostKey)
	return r
}

// prepareServe makes a fresh user key and its authorized_keys file, and
// returns the serve command line (free ports, args appended) and where serve
// is to keep its host key.
func prepareServe(t *testing.T, args []string) (r *runningServe, cmdline []string, hostKey string) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no configuration file of the machine's
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	user, _ := gossh.NewSignerFromKey(priv)
	r = &runningServe{stderr: &lockedBuffer{}, done: make(chan error, 1), user: user,
		authorizedKey: filepath.Join(dir, "authorized_keys")}
	if err := os.WriteFile(r.authorizedKey, gossh.MarshalAuthorizedKey(user.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey = filepath.Join(dir, "data", "ssh_host_ed25519")
	return r, append([]string{"serve", "--ssh", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
		"--authorized-keys", r.authorizedKey, "--host-key", hostKey}, args...), hostKey
}

// awaitListening waits for serve's listening line, takes its addresses from
// it, and reads back the host key serve made.
func (r *runningServe) awaitListening(t *testing.T, hostKey string) {
	t.Helper()
	waitUntil(t, 30*time.Second, "serve to listen", func() bool {
		m := listenLine.FindStringSubmatch(r.stderr.String())
		if m == nil {
			return false
		}
		r.sshAddr, r.metricsURL = m[1], m[2]
		return true
	})
	signer, created, err := serve.LoadOrCreateHostKey(hostKey)
	if err != nil || created {
		t.Fatalf("host key not kept at %s: created %v, %v", hostKey, created, err)
	}
	r.hostKey = signer.PublicKey()
}

// viewer is one SSH dashboard session.
type viewer struct {
	c   *gossh.Client
	s   *gossh.Session
	in  io.WriteCloser
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *runningServe) connect(t *testing.T) *viewer {
	t.Helper()
	c, err := gossh.Dial("tcp", r.sshAddr, &gossh.ClientConfig{User: "ops", Auth: []gossh.AuthMethod{gossh.PublicKeys(r.user)},
		HostKeyCallback: gossh.FixedHostKey(r.hostKey), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer{c: c, s: s}
	if err := s.RequestPty("xterm", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, _ := s.StdoutPipe()
	v.in, _ = s.StdinPipe()
	go func() {
		buf := make([]byte, 16<<10)
		for {
			n, err := out.Read(buf)
			v.mu.Lock()
			v.out.Write(buf[:n])
			v.mu.Unlock()
			if bytes.Contains(buf[:n], []byte("\x1b[c")) {
				_, _ = v.in.Write([]byte("\x1b[?62;22c")) // answer the device-attributes query, like a terminal
			}
			if err != nil {
				return
			}
		}
	}()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return v
}

func (v *viewer) screen() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return ansi.Strip(v.out.String())
}

func (v *viewer) shows(want ...string) bool {
	s := v.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// gauge scrapes one unlabelled metric.
func (r *runningServe) gauge(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(r.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	f := fams[name]
	if f == nil || len(f.Metric) != 1 {
		t.Fatalf("no single %s in the scrape", name)
	}
	return f.Metric[0].GetGauge().GetValue()
}

// redisClients counts the connections redis-server has, ours excepted.
func redisClients(t *testing.T, c *redis.Client) (total, xread int) {
	t.Helper()
	if c == nil { // the embedded server has no CLIENT LIST: the hub's count has to do
		return 0, 0
	}
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if strings.Contains(l, "cmd=client|list") || strings.Contains(l, "cmd=client ") {
			continue // this very connection
		}
		total++
		if strings.Contains(l, "cmd=xread") {
			xread++
		}
	}
	return total, xread
}

func TestServeTwentyViewersShareOneSubscription(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	rc := srv.Client()
	if err := feed.NewSettingsStore(rc, feed.StoreOptions{}).SetWorkspace(ctx, "ops-east", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := feed.NewPublisher(rc, feed.PublisherOptions{}).Track(ctx, model.Event{Workspace: "ops-east", Endpoint: "/responses", Credits: 420, Status: 200}); err != nil {
		t.Fatal(err)
	}
	// one key for all twenty: the per-key session limit is raised to let them in
	r := startServe(t, "--redis", srv.URL, "--max-sessions-per-key", "20")
	var counter *redis.Client
	if srv.Real {
		counter = redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 1})
		defer counter.Close()
	}

	waitUntil(t, 15*time.Second, "the feed to connect", func() bool { return r.gauge(t, "mavtop_feed_connected") == 1 })
	before, _ := redisClients(t, counter)

	const n = 20
	viewers := make([]*viewer, n)
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Add(1)
		go func() { defer wg.Done(); viewers[i] = r.connect(t) }()
	}
	wg.Wait()
	for i, v := range viewers {
		waitUntil(t, 20*time.Second, fmt.Sprintf("viewer %d's gauges", i), func() bool { return v.shows("ops-east", "% used", "420") })
	}
	if got := r.gauge(t, "mavtop_ssh_sessions"); got != n {
		t.Errorf("ssh sessions = %v, want %d", got, n)
	}
	// The hub's readers: every session, plus the metrics collector (the
	// alert watcher and the log's events-only reader are not counted).
	if got := r.gauge(t, "mavtop_feed_viewers"); got != n+1 {
		t.Errorf("hub viewers = %v, want %d", got, n+1)
	}
	during, xread := redisClients(t, counter)
	t.Logf("redis connections: %d before the viewers, %d with %d viewers (%d in XREAD)", before, during, n, xread)
	// One stream reader for all; the shared pool may grow by a connection or
	// two when the audit, the alert store and the metrics read at once, but a
	// subscription per viewer would add n.
	if during >= before+n/4 || xread > 1 {
		t.Errorf("%d viewers took Redis from %d to %d connections (%d reading the stream): each must not subscribe on its own", n, before, during, xread)
	}

	for _, v := range viewers {
		v.c.Close()
	}
	waitUntil(t, 15*time.Second, "every viewer to leave the hub", func() bool {
		return r.gauge(t, "mavtop_feed_viewers") == 1 && r.gauge(t, "mavtop_ssh_sessions") == 0
	})
	log := r.stderr.String()
	if got := strings.Count(log, "ssh session started"); got != n {
		t.Errorf("%d connects logged, want %d", got, n)
	}
	if got := strings.Count(log, "ssh session ended"); got != n {
		t.Errorf("%d disconnects logged, want %d", got, n)
	}
}

func TestServeWithoutRedisServesTheDemo(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	r := startServe(t)
	v := r.connect(t)
	waitUntil(t, 30*time.Second, "the demo on the screen", func() bool { return v.shows("DEMO", "% used") })
	if !strings.Contains(r.stderr.String(), "demo=true") {
		t.Errorf("the start log does not say demo:\n%s", r.stderr.String())
	}
}

func TestServeStartupErrors(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	_, stderr, code := runMavtop(t, "serve", "--ssh", "127.0.0.1:0", "--authorized-keys", missing, "--host-key", filepath.Join(dir, "hk"))
	if code != 2 || !strings.Contains(stderr, "--authorized-keys") || !strings.Contains(stderr, missing) {
		t.Errorf("missing authorized keys: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "hk")); err == nil {
		t.Error("a host key was generated although the server did not start")
	}

	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody yet\n"), 0o600)
	_, stderr, code = runMavtop(t, "serve", "--ssh", "127.0.0.1:0", "--authorized-keys", empty, "--host-key", filepath.Join(dir, "hk"))
	if code != 2 || !strings.Contains(stderr, "no usable public key") {
		t.Errorf("empty authorized keys: exit %d, %s", code, stderr)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keys := filepath.Join(dir, "keys")
	os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600)
	_, stderr, code = runMavtop(t, "serve", "--ssh", taken.Addr().String(), "--authorized-keys", keys, "--host-key", filepath.Join(dir, "hk"))
	if code != 1 || !strings.Contains(stderr, "already in use") {
		t.Errorf("ssh port taken: exit %d, %s", code, stderr)
	}
	_, stderr, code = runMavtop(t, "serve", "--ssh", "127.0.0.1:0", "--metrics", taken.Addr().String(), "--authorized-keys", keys, "--host-key", filepath.Join(dir, "hk"))
	if code != 1 || !strings.Contains(stderr, "metrics: "+taken.Addr().String()+" is already in use") {
		t.Errorf("metrics port taken: exit %d, %s", code, stderr)
	}
	// The dashboard too refuses before it takes the terminal.
	_, stderr, code = runMavtop(t, "--metrics", taken.Addr().String())
	if code != 1 || !strings.Contains(stderr, "already in use") {
		t.Errorf("dashboard, metrics port taken: exit %d, %s", code, stderr)
	}
}
