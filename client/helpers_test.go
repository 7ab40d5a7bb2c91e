package client_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/model"
)

// testKey is a well-formed key; tests assert it never leaks.
const testKey = "mvra_live_S3cr3tK3yF0rT3st1ng0nlyXYZ0123456789"

// jumpClock is a test clock whose Sleep returns at once after moving time forward,
// so waits (Retry-After, backoff, polling) cost no real time and are recorded.
type jumpClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newJumpClock() *jumpClock {
	return &jumpClock{now: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)}
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *jumpClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.slept = append(c.slept, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	c.mu.Unlock()
	return nil
}

func (c *jumpClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *jumpClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// env is a sandbox behind httptest and a tracked client calling it.
type env struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	srv   *httptest.Server
	clock *jumpClock
	tr    *client.MemoryTracker
	c     *client.Client
	// trackErrs collects tracker errors (there must be none).
	mu        sync.Mutex
	trackErrs []error
}

func newEnv(t *testing.T, cfg sandbox.Config, opts ...client.Option) *env {
	t.Helper()
	e := &env{t: t, clock: newJumpClock(), tr: client.NewMemoryTracker(true)}
	cfg.Now = e.clock.Now
	if cfg.OnRecharge == nil {
		// What the demo wiring does: publish a recharge event.
		cfg.OnRecharge = func(ws string, amount int64) {
			ev := model.Event{Kind: model.KindRecharge, TS: e.clock.Now().UnixMilli(), Workspace: ws, Credits: amount}
			if err := e.tr.Track(context.Background(), ev); err != nil {
				t.Errorf("recharge event: %v", err)
			}
		}
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	e.sb = sandbox.New(cfg)
	e.srv = httptest.NewServer(e.sb)
	t.Cleanup(e.srv.Close)
	base := []client.Option{
		client.WithBaseURL(e.srv.URL + sandbox.BasePath),
		client.WithAPIKey(testKey),
		client.WithClock(e.clock),
		client.WithRand(rand.New(rand.NewPCG(1, 2))),
		client.WithTracker(e.tr, "acme-prod", ""),
		client.WithTrackErrorHandler(func(err error) {
			e.mu.Lock()
			e.trackErrs = append(e.trackErrs, err)
			e.mu.Unlock()
		}),
	}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, err := range e.trackErrs {
			t.Errorf("tracker error: %v", err)
		}
	})
	return e
}

// count returns how many requests the sandbox saw for "METHOD /path".
func (e *env) count(tmpl string) int64 { return e.sb.Stats()[tmpl] }

// events returns the tracked usage events.
func (e *env) events() []model.Event {
	var out []model.Event
	for _, ev := range e.tr.Events() {
		if ev.Kind == model.KindUsage {
			out = append(out, ev)
		}
	}
	return out
}

// ledger returns the sandbox's ledger for testKey.
func (e *env) ledger() sandbox.Ledger {
	e.t.Helper()
	l, ok := e.sb.Ledger(testKey)
	if !ok {
		e.t.Fatal("no ledger for the test key")
	}
	return l
}

// assertNoKey fails if s contains the key or its secret part.
func assertNoKey(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, testKey) || strings.Contains(s, strings.TrimPrefix(testKey, "mvra_live_")) {
		t.Errorf("%s leaks the API key: %q", what, s)
	}
}

// sampleFocusGroup is a valid focus-group request.
func sampleFocusGroup(ws string, size, questions int) client.FocusGroupRequest {
	req := client.FocusGroupRequest{Name: "Pricing test", WorkspaceID: ws, SampleSize: size,
		PersonaIDs: []string{"clxp0000000000000000000001"}}
	for i := 0; i < questions; i++ {
		req.Questions = append(req.Questions, client.FocusGroupQuestion{Type: "open_ended", Text: "What do you think?"})
	}
	return req
}

func sampleVideo(ws string, seconds int) client.VideoAnalysisRequest {
	return client.VideoAnalysisRequest{
		VideoURL: "https://cdn.example.com/ad.mp4?duration=" + itoa(seconds), WorkspaceID: ws,
		Title: "Spring ad", Brand: "Acme", Product: "Rocket", PrimaryIntent: "Persuasive",
		Goal: "Measure attention across the spot",
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// statusServer answers every request with status and body (the body may echo the
// Authorization header through the {{auth}} placeholder).
func statusServer(t *testing.T, status int, body string, hdr map[string]string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		for k, v := range hdr {
			w.Header().Set(k, strings.ReplaceAll(v, "{{auth}}", auth))
		}
		w.WriteHeader(status)
		w.Write([]byte(strings.ReplaceAll(body, "{{auth}}", auth)))
	}))
	t.Cleanup(s.Close)
	return s
}
