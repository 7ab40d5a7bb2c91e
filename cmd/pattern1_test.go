package cmd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// seedPattern1 runs the seed's Pattern 1 code unchanged (feed/testdata) for
// responses lo..hi-1 against url.
func seedPattern1(t *testing.T, url string, lo, hi int) {
	t.Helper()
	var py string
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import redis").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		if os.Getenv(feedtest.RequireEnv) == "1" {
			t.Fatal("no python3 with redis-py (apt-get install python3-redis): the seed's Pattern 1 code cannot be run")
		}
		t.Skip("no python3 with redis-py")
	}
	var code []byte
	for _, f := range []string{"../feed/testdata/pattern1.py", "../feed/testdata/pattern1_calls.py"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code = append(code, b...)
		code = append(code, '\n')
	}
	cmd := exec.Command(py, "-", strconv.Itoa(lo), strconv.Itoa(hi))
	cmd.Stdin = strings.NewReader(string(code))
	cmd.Env = append(os.Environ(), "REDIS_URL="+url)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the seed's Pattern 1 code: %v\n%s", err, out)
	}
}

// TestPattern1ShowsInCheckAndDashboard: a Redis holding only the seed's
// Pattern 1 counters, written by the seed's own track_credits, shows its
// workspaces with their exact totals in `check --json` (source auto) and on the
// dashboard, which keeps following as the seed's code writes on.
func TestPattern1ShowsInCheckAndDashboard(t *testing.T) {
	srv := feedtest.StartReal(t, "the seed's code runs against redis-server (CI requires it)")
	ctx := context.Background()
	c := srv.Client()
	want := func(hi int) map[string]int64 {
		w := map[string]int64{}
		for i := range hi {
			w[[]string{"acme", "beta", "default"}[i%3]] += int64(i%7 + 1)
		}
		return w
	}
	seedPattern1(t, srv.URL, 0, 60)
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 100}); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := runMavtop(t, "check", "--redis", srv.URL, "--json")
	var res struct {
		Source     string `json:"source"`
		Note       string `json:"source_note"`
		Workspaces []struct {
			Workspace string `json:"workspace"`
			Used      int64  `json:"used"`
			Level     string `json:"level"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("check --json: exit %d %q (%s): %v", code, out, errOut, err)
	}
	got := map[string]int64{}
	for _, w := range res.Workspaces {
		got[w.Workspace] = w.Used
	}
	w60 := want(60)
	if res.Source != "counters" || res.Note != feed.CounterNote || len(got) != len(w60) {
		t.Fatalf("check --json: source %q note %q, workspaces %v; want counters and %v", res.Source, res.Note, got, w60)
	}
	for ws, n := range w60 {
		if got[ws] != n {
			t.Errorf("check --json: %s used %d, want %d", ws, got[ws], n)
		}
	}
	// acme used 84 of 100: past 75 %, level high, so check warns (exit 1).
	if code != checkWarning {
		t.Errorf("check exit %d, want %d (acme at %d of 100)", code, checkWarning, w60["acme"])
	}

	// The dashboard, on the hub the dashboard command starts with its flags' source.
	sf := sourceFlags{kind: "auto", pattern: feed.DefaultCounterPattern, every: 50 * time.Millisecond}
	usage, err := sf.source(c, "", feed.DefaultAuditEvery)
	if err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hub := startHub(hctx, usage, nil, nil)
	tm := teatest.NewTestModel(t, tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.DefaultRenderer()}),
		teatest.WithInitialTermSize(220, 50))
	var seen []byte
	shows := func(w map[string]int64) func([]byte) bool {
		return func(b []byte) bool {
			seen = append(seen, b...)
			if len(seen) > 1<<20 {
				seen = seen[len(seen)-1<<19:]
			}
			s := ansi.Strip(string(seen))
			if !strings.Contains(s, "Pattern 1") {
				return false
			}
			for ws, n := range w {
				if !lineWith(s, ws, estimator.FormatCredits(n)) {
					return false
				}
			}
			return true
		}
	}
	teatest.WaitFor(t, tm.Output(), shows(w60), teatest.WithDuration(20*time.Second))
	seedPattern1(t, srv.URL, 60, 150)
	teatest.WaitFor(t, tm.Output(), shows(want(150)), teatest.WithDuration(20*time.Second))
	hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
		for ws, n := range want(150) {
			if s, _ := l.Summary(ws); s.Used != n {
				t.Errorf("dashboard ledger: %s used %d, want %d", ws, s.Used, n)
			}
		}
	})
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
}

// lineWith reports whether some line of s holds both a and b.
func lineWith(s, a, b string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, a) && strings.Contains(line, b) {
			return true
		}
	}
	return false
}
