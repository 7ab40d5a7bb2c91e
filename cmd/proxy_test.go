package cmd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mavtop/client/sandbox"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

var proxyListenLine = regexp.MustCompile(`msg="mavtop proxy listening" addr=(\S+)`)

// `mavtop proxy` in front of the sandbox: a call through it is answered as the
// sandbox answered it and its credits land in Redis; mavtop.toml's proxy keys
// fill the flags; SIGTERM-like cancellation stops it cleanly.
func TestProxyCommand(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	rs := feedtest.Start(t)
	sb := sandbox.New(sandbox.Config{})
	up := httptest.NewServer(sb)
	defer up.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "mavtop.toml")
	os.WriteFile(conf, []byte("[proxy]\nworkspace = \"from-file\"\nlisten = \"127.0.0.1:0\"\n"), 0o600)

	addr, stderr, stop := startProxyCmd(t, "--config", conf, "--redis", rs.URL, "--upstream", up.URL+sandbox.BasePath)
	if status := proxyPost(t, addr, "mvra_live_cmdProxyTest000000000000000", nil); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	stop()
	// Stopping wrote the queued event: the credits are in Redis under the file's workspace.
	l, _ := sb.Ledger("mvra_live_cmdProxyTest000000000000000")
	res, err := feed.ReadSnapshot(context.Background(), rs.Client(), feed.Keys{}, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Snap.Used["from-file"]; got != l.Used || got == 0 {
		t.Fatalf("Redis has %d for from-file, the sandbox charged %d", got, l.Used)
	}
	if strings.Contains(stderr.String(), "cmdProxyTest") {
		t.Fatalf("the log holds the key: %s", stderr.String())
	}
}

// startProxyCmd runs `mavtop proxy args…` in this process until stop, which
// cancels it (as SIGTERM does) and fails t unless it stops cleanly; addr is
// where it listens, stderr its log.
func startProxyCmd(t *testing.T, args ...string) (addr string, stderr *lockedBuffer, stop func()) {
	t.Helper()
	stderr = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	root.SetArgs(append([]string{"proxy"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(stderr)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(stderr.String())
		}
	})
	waitUntil(t, 30*time.Second, "the proxy to listen", func() bool {
		m := proxyListenLine.FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr, stderr, func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("proxy: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("proxy did not stop")
		}
	}
}

// proxyPost makes a /responses call through the proxy at addr with the
// API key and headers given, and returns the answer's status.
func proxyPost(t *testing.T, addr, key string, hdr map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+sandbox.BasePath+"/responses", strings.NewReader(`{"model":"mavera-1","input":"hi"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestTheProxyCommandSaysOnceThatItRecordsIntoTheFallbackPeriod: `mavtop
// proxy` with a stored period config no one can read records its calls into
// model.PeriodFallback's period and says so once on its log (its tracking and
// its pre-flight share one feed.PeriodLog), its /metrics
// mavtop_proxy_period_config_unreadable 1. Before, it fell back without a
// word. (The repair is proxy's TestTheProxySaysOnceThatItRecordsIntoTheFallbackPeriod,
// on a clock moved past the config's one-minute refresh.)
func TestTheProxyCommandSaysOnceThatItRecordsIntoTheFallbackPeriod(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	rs := feedtest.Start(t)
	ctx := context.Background()
	if err := rs.Client().HSet(ctx, feed.Keys{}.Settings(), feed.PeriodSettingsField, "{\"start_day\":0,\"tz\":\"\x1b]0;owned\x07\"}").Err(); err != nil {
		t.Fatal(err)
	}
	sb := sandbox.New(sandbox.Config{})
	up := httptest.NewServer(sb)
	defer up.Close()
	addr, stderr, stop := startProxyCmd(t, "--listen", "127.0.0.1:0", "--redis", rs.URL, "--upstream", up.URL+sandbox.BasePath)
	const key = "mvra_live_cmdProxyPeriod00000000000000"
	for range 3 {
		if status := proxyPost(t, addr, key, map[string]string{"X-Mavtop-Workspace": "acme"}); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stop()
	l, _ := sb.Ledger(key)
	fallback := model.PeriodFallback.At(time.Now()).Key
	if v, _ := rs.Client().HGet(ctx, feed.Keys{}.Used(fallback), "acme").Int64(); v != l.Used || v == 0 {
		t.Errorf("used:%s acme %d, the sandbox charged %d", fallback, v, l.Used)
	}
	log := stderr.String()
	if n := strings.Count(log, `msg="period config unreadable (billing period config`); n != 1 ||
		!strings.Contains(log, "level=WARN") || !strings.Contains(log, "period="+fallback) {
		t.Errorf("the proxy's log says the period config is unreadable %d times (want 1, WARN, naming period %s):\n%s", n, fallback, log)
	}
	if strings.ContainsAny(log, "\x1b\x07") {
		t.Errorf("the log holds a control character: %q", log)
	}
	if !strings.Contains(string(metrics), "\nmavtop_proxy_period_config_unreadable 1\n") {
		t.Errorf("/metrics lacks mavtop_proxy_period_config_unreadable 1")
	}
}

// Without Redis, or with a bad keys file, the proxy refuses to start (exit 2).
func TestProxyStartupErrors(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("REDIS_URL", "")
	bad := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(bad, []byte("short mvra_live_x ws\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"proxy"}, "needs one: no Redis configured"},
		{[]string{"proxy", "--keys", bad, "--redis", "redis://127.0.0.1:1/0"}, "line 1: token shorter than 16"},
		{[]string{"proxy", "--upstream", "ftp://x"}, "is not an http(s) URL"},
	} {
		root := newRootCmd()
		root.SetArgs(c.args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.Execute()
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want exit 2 with %q", c.args, err, c.want)
		}
	}
}
