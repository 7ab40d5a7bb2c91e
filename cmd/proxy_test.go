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

	stderr := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	root.SetArgs([]string{"proxy", "--config", conf, "--redis", rs.URL, "--upstream", up.URL + sandbox.BasePath})
	root.SetOut(io.Discard)
	root.SetErr(stderr)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var addr string
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
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+sandbox.BasePath+"/responses", strings.NewReader(`{"model":"mavera-1","input":"hi"}`))
	req.Header.Set("Authorization", "Bearer mvra_live_cmdProxyTest000000000000000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("proxy: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("proxy did not stop")
	}
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
