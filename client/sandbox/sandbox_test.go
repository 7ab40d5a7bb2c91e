package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const key = "mvra_live_0123456789abcdefghijklmnopqrstuv"

type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func newTest(t *testing.T, cfg Config) (*Sandbox, *fakeNow) {
	clock := &fakeNow{t: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)}
	cfg.Now = clock.Now
	return New(cfg), clock
}

// do sends one request and decodes the JSON answer.
func do(t *testing.T, sb *Sandbox, method, path, auth, body string, hdr ...string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, BasePath+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, rec.Body.String())
	}
	return rec, out
}

func errOf(m map[string]any) map[string]any {
	e, _ := m["error"].(map[string]any)
	return e
}

func TestAuthenticationBodies(t *testing.T) {
	sb, _ := newTest(t, Config{})
	for _, tc := range []struct{ auth, code string }{
		{"", "missing_api_key"},
		{"Bearer mvra_live_tooShort", "invalid_api_key"},
		{"Bearer sk_live_0123456789abcdefghijklmnopqrstuvwxyz", "invalid_api_key"},
		{"Basic " + key, "invalid_api_key"},
		{"Bearer " + key + "!", "invalid_api_key"},
	} {
		rec, body := do(t, sb, "GET", "/usage", tc.auth, "")
		e := errOf(body)
		if rec.Code != 401 || e["type"] != "authentication_error" || e["code"] != tc.code || e["param"] != nil {
			t.Errorf("%q: %d %v", tc.auth, rec.Code, body)
		}
		if _, ok := e["message"].(string); !ok || strings.Contains(rec.Body.String(), "tooShort") {
			t.Errorf("%q: message %v", tc.auth, e["message"])
		}
	}
	if !wellFormedKey(key) || wellFormedKey(key[:31]) {
		t.Fatal("key format check")
	}
}

func TestErrorBodiesAndHeaders(t *testing.T) {
	sb, _ := newTest(t, Config{Allocation: 100, RateLimit: 2})
	auth := "Bearer " + key
	rec, body := do(t, sb, "POST", "/personas", auth, `{"name":"x","type":"B2B"}`)
	e := errOf(body)
	if rec.Code != 402 || e["type"] != "insufficient_credits" || e["code"] != "credits_exhausted" || e["param"] != nil {
		t.Fatalf("402: %d %v", rec.Code, body)
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", RequestIDHeader} {
		if rec.Header().Get(h) == "" {
			t.Errorf("402 lacks %s", h)
		}
	}
	if rec.Header().Get("X-RateLimit-Limit") != "2" || rec.Header().Get("X-RateLimit-Remaining") != "1" {
		t.Fatalf("rate headers: %v", rec.Header())
	}
	rec, body = do(t, sb, "POST", "/responses", auth, `{"model":"gpt-4","input":"hi"}`)
	if e := errOf(body); rec.Code != 400 || e["code"] != "invalid_model" || e["param"] != "model" || e["type"] != "invalid_request_error" {
		t.Fatalf("400: %v", body)
	}
	rec, body = do(t, sb, "GET", "/usage", auth, "")
	if e := errOf(body); rec.Code != 429 || e["type"] != "rate_limit_error" || e["code"] != "rate_limit_exceeded" ||
		!strings.Contains(e["message"].(string), "Please retry after") || rec.Header().Get("Retry-After") != "60" {
		t.Fatalf("429: %d %v %v", rec.Code, body, rec.Header())
	}
	sb2, _ := newTest(t, Config{})
	rec, body = do(t, sb2, "GET", "/nope", auth, "")
	if e := errOf(body); rec.Code != 404 || e["code"] != "resource_not_found" {
		t.Fatalf("404: %d %v", rec.Code, body)
	}
}

func TestRateLimitWindowSlides(t *testing.T) {
	sb, clock := newTest(t, Config{RateLimit: 3})
	auth := "Bearer " + key
	for i := 0; i < 3; i++ {
		if rec, _ := do(t, sb, "GET", "/usage", auth, ""); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
		clock.add(10 * time.Second)
	}
	rec, _ := do(t, sb, "GET", "/usage", auth, "")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "30" {
		t.Fatalf("4th at 30 s: %d retry-after %s", rec.Code, rec.Header().Get("Retry-After"))
	}
	clock.add(30 * time.Second) // the first request leaves the window
	if rec, _ := do(t, sb, "GET", "/usage", auth, ""); rec.Code != 200 || rec.Header().Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("after sliding: %d %v", rec.Code, rec.Header())
	}
}

func TestJobLifecycleAndCaps(t *testing.T) {
	sb, clock := newTest(t, Config{})
	auth := "Bearer " + key
	fg := `{"name":"n","workspace_id":"acme","sample_size":30,"questions":[{"type":"nps","text":"Recommend?"}]}`
	var ids []string
	for i := 0; i < 5; i++ {
		rec, body := do(t, sb, "POST", "/focus-groups", auth, fg)
		if rec.Code != 201 || body["status"] != "pending" || body["object"] != "focus_group" || body["usage"] != nil {
			t.Fatalf("create %d: %d %v", i, rec.Code, body)
		}
		ids = append(ids, body["id"].(string))
	}
	rec, body := do(t, sb, "POST", "/focus-groups", auth, fg)
	if e := errOf(body); rec.Code != 429 || e["code"] != "concurrency_limit_exceeded" || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("6th focus group: %d %v", rec.Code, body)
	}
	l, _ := sb.Ledger(key)
	if l.RunningJobs != 5 || l.Used == 0 {
		t.Fatalf("charged at creation: %+v", l)
	}
	clock.add(20 * time.Second)
	if _, body := do(t, sb, "GET", "/focus-groups/"+ids[0], auth, ""); body["status"] != "generating" {
		t.Fatalf("at 20 s: %v", body["status"])
	}
	clock.add(2 * time.Minute)
	var sum int64
	for _, id := range ids {
		_, body := do(t, sb, "GET", "/focus-groups/"+id, auth, "")
		u, _ := body["usage"].(map[string]any)
		if body["status"] != "completed" || u == nil || body["results"] == nil {
			t.Fatalf("done: %v", body)
		}
		sum += int64(u["credits_used"].(float64))
	}
	if l, _ := sb.Ledger(key); l.Used != sum || l.RunningJobs != 0 || l.Workspaces["acme"].ByEndpoint["/focus-groups"] != sum {
		t.Fatalf("ledger %+v, objects say %d", l, sum)
	}
	if rec, _ := do(t, sb, "GET", "/video-analyses/"+ids[0], auth, ""); rec.Code != 404 {
		t.Fatalf("a focus group id as a video: %d", rec.Code)
	}
}

func TestRepeatableCharges(t *testing.T) {
	charges := func() []string {
		sb, _ := newTest(t, Config{Seed: 7})
		var out []string
		for i := 0; i < 20; i++ {
			_, body := do(t, sb, "POST", "/responses", "Bearer "+key, `{"model":"mavera-1","input":"`+strings.Repeat("x", i*300)+`"}`)
			out = append(out, strconv.Itoa(int(body["usage"].(map[string]any)["credits_used"].(float64))))
		}
		return out
	}
	a, b := charges(), charges()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("same seed, different charges: %v vs %v", a, b)
	}
}

// TestPriceRanges draws many prices: all inside the documented ranges, and a small
// share (1–3 %, one per block of 64) of focus groups and videos above the
// estimator's upper bound.
func TestPriceRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var fgOver, videoOver overshooter
	const n = 20000
	over := 0
	for i := 0; i < n; i++ {
		size, q := 1+r.IntN(120), 1+r.IntN(12)
		p := focusGroupPrice(size, q, fgOver.next(r), r)
		base := int64(200)
		if size <= 25 {
			base = 75
		} else if size <= 50 {
			base = 125
		}
		upper := base + 2*int64(q)
		if p > upper {
			over++
			if p > upper+upper/10+2 {
				t.Fatalf("focus group %d/%d: %d far above %d", size, q, p, upper)
			}
		}
		if p < 50 {
			t.Fatalf("focus group %d/%d costs %d", size, q, p)
		}
	}
	if over < n/OvershootEvery || over > n/OvershootEvery+1 {
		t.Fatalf("focus groups above the upper bound: %d of %d, want one per %d", over, n, OvershootEvery)
	}
	over = 0
	for i := 0; i < n; i++ {
		s := 1 + r.IntN(600)
		p := videoPrice(s, videoOver.next(r), r)
		var upper int64
		switch {
		case s < 30:
			upper = 150
		case s < 60:
			upper = 250
		case s < 180:
			upper = 400
		default:
			upper = 600
		}
		if p > upper {
			over++
		}
		if p < 100 {
			t.Fatalf("video %d s costs %d", s, p)
		}
	}
	if over < n/OvershootEvery || over > n/OvershootEvery+1 {
		t.Fatalf("videos above the upper bound: %d of %d, want one per %d", over, n, OvershootEvery)
	}
	for i := 0; i < n; i++ {
		c, _, _ := chatPrice(r.IntN(400_000), r)
		if c < 1 || c > 5 {
			t.Fatalf("chat %d", c)
		}
		if m := mavePrice("simple", false, r); m < 10 || m > 15 {
			t.Fatalf("simple mave %d", m)
		}
		if m := mavePrice("complex", i%64 == 0, r); m < 35 || m > 60 {
			t.Fatalf("complex mave %d", m)
		}
	}
}

func TestAssumptionHelpers(t *testing.T) {
	for u, want := range map[string]int{
		"https://x/v.mp4?duration=45": 45, "https://x/v.mp4?a=1&duration=200": 200, "https://x/v.mp4#t=12": 12,
		"https://x/v.mp4": 0, "https://x/v.mp4?duration=abc": 0,
	} {
		if got, _ := VideoSecondsFromURL(u); got != want {
			t.Errorf("%s: %d, want %d", u, got, want)
		}
	}
	if MaveComplexity("short?") != "simple" || MaveComplexity(strings.Repeat("a", 200)) != "moderate" || MaveComplexity(strings.Repeat("a", 500)) != "complex" {
		t.Fatal("mave complexity")
	}
}

func TestUsageAndPools(t *testing.T) {
	var mu sync.Mutex
	var recharges []string
	sb, _ := newTest(t, Config{OnRecharge: func(ws string, n int64) {
		mu.Lock()
		recharges = append(recharges, ws+":"+strconv.FormatInt(n, 10))
		mu.Unlock()
	}})
	auth := "Bearer " + key
	sb.ConfigureWorkspace(key, WorkspaceConfig{ID: "own", Allocation: 350, AutoRecharge: AutoRecharge{Enabled: true, Threshold: 100, Amount: 1000}})
	if rec, _ := do(t, sb, "POST", "/personas", auth, `{"name":"p","type":"B2C"}`, WorkspaceHeader, "own"); rec.Code != 201 {
		t.Fatalf("persona in own pool: %d", rec.Code)
	}
	if rec, _ := do(t, sb, "POST", "/personas", auth, `{"name":"p","type":"B2C"}`); rec.Code != 201 {
		t.Fatalf("persona in account pool: %d", rec.Code)
	}
	_, u := do(t, sb, "GET", "/usage", auth, "")
	cr := u["credits"].(map[string]any)
	if cr["used"].(float64) != 600 || cr["included"].(float64) != 5350 || cr["remaining"].(float64) != 5350+1000-600 {
		t.Fatalf("usage credits: %v", cr)
	}
	for _, f := range []string{"billing_period", "transcription", "storage", "api_requests", "rate_limit", "auto_recharge", "limits"} {
		if u[f] == nil {
			t.Errorf("usage lacks %s", f)
		}
	}
	if len(recharges) != 1 || recharges[0] != "own:1000" {
		t.Fatalf("recharges: %v", recharges)
	}
	l, _ := sb.Ledger(key)
	if l.Workspaces["own"].Remaining != 350+1000-300 || l.Workspaces["default"].Used != 300 || l.Remaining != 4700 {
		t.Fatalf("ledger: %+v", l)
	}
}

// The API answers every path or method it does not have with its own 404 body:
// never the router's plain-text 404, a 405 or a redirect.
func TestUnknownPathsAndMethodsAnswerTheAPIs404(t *testing.T) {
	sb, _ := newTest(t, Config{})
	auth := "Bearer " + key
	for _, tc := range []struct {
		method, path, auth, message string
	}{
		{"GET", "/nope", auth, "No such endpoint: GET /nope"},
		{"DELETE", "/focus-groups", auth, "No such endpoint: DELETE /focus-groups"},
		{"PUT", "/focus-groups/clx1", auth, "No such endpoint: PUT /focus-groups/clx1"},
		{"POST", "/usage", auth, "No such endpoint: POST /usage"},
		{"GET", "/mave/chat", auth, "No such endpoint: GET /mave/chat"},
		{"GET", "/focus-groups/a/b", auth, "No such endpoint: GET /focus-groups/a/b"},
		{"GET", "", "", "No such path: /api/v1 (the API lives under /api/v1)"},
		{"GET", "x/usage", "", "No such path: /api/v1x/usage (the API lives under /api/v1)"},
	} {
		req := httptest.NewRequest(tc.method, BasePath+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: %d, body is not JSON: %q", tc.method, tc.path, rec.Code, rec.Body.String())
		}
		e := errOf(body)
		if rec.Code != 404 || e["type"] != typeNotFound || e["code"] != "resource_not_found" || e["message"] != tc.message {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, rec.Code, body)
		}
	}
	// Inside the API an unknown endpoint is still a call: counted under its own name.
	if got := sb.Stats(); got["DELETE /focus-groups"] != 1 || got["GET /nope"] != 1 || len(got) != 6 {
		t.Fatalf("stats %v", got)
	}
	// Without a key, an unknown endpoint is refused like any other call.
	if rec, body := do(t, sb, "GET", "/nope", "", ""); rec.Code != 401 || errOf(body)["code"] != "missing_api_key" {
		t.Fatalf("no key: %d %v", rec.Code, body)
	}
}
