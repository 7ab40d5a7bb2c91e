package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mavtop/internal/backoff"
	"mavtop/model"
)

// receiver is a local HTTP endpoint that records what it gets; fail answers
// 503 while it returns true; onPost runs on every request it records, and
// delay holds each answer back.
type receiver struct {
	mu     sync.Mutex
	got    []Payload
	raw    []string
	calls  int
	fail   func() bool
	onPost func()
	delay  time.Duration
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls++
		if r.fail != nil && r.fail() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.raw = append(r.raw, string(body))
		var p Payload
		if json.Unmarshal(body, &p) == nil {
			r.got = append(r.got, p)
		}
		if r.onPost != nil {
			r.onPost()
		}
		if r.delay > 0 {
			time.Sleep(r.delay) // a slow receiver (its request already counted)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) payloads() []Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Payload(nil), r.got...)
}

func transition() model.AlertTransition {
	return model.AlertTransition{Status: model.AlertFiring, At: time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC),
		Alert: model.Alert{ID: "2026-11/acme/-/threshold/75", Kind: model.AlertThreshold, Period: "2026-11", Workspace: "acme",
			Threshold: 75, Used: 760, Cap: 1000, CapKind: model.CapAllocation, PercentUsed: 76, Level: model.LevelHigh}}
}

func TestWebhookPayload(t *testing.T) {
	r := newReceiver(t)
	sinks, err := ParseSinks([]string{r.srv.URL + "/hook?token=secret"}, nil)
	if err != nil || len(sinks) != 1 || sinks[0].Name() != "webhook:"+strings.TrimPrefix(r.srv.URL, "http://") {
		t.Fatalf("sinks %v %v", sinks, err)
	}
	tr := transition()
	p := NewPayload(&tr, tr.Summary("2026-11"))
	if err := sinks[0].Send(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.raw[0]), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "2026-11/acme/-/threshold/75", "key": "2026-11/acme/-/threshold/75#firing", "status": "firing",
		"kind": "threshold", "workspace": "acme", "project": "", "threshold": 75.0, "percent_used": 76.0, "used": 760.0,
		"cap": 1000.0, "cap_kind": "allocation", "level": "high", "period": "2026-11", "at": "2026-11-25T14:05:00Z",
		"summary": "acme used 75 % of its 1,000-credit allocation (760 credits used, 76 %)", "source": "mavtop"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("payload has %d fields, want %d: %s", len(m), len(want), r.raw[0])
	}
}

func TestWebhookErrorsRetryOrNot(t *testing.T) {
	for _, tc := range []struct {
		code      int
		permanent bool
	}{{503, false}, {429, false}, {500, false}, {404, true}, {400, true}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tc.code) }))
		sinks, _ := ParseSinks([]string{srv.URL}, nil)
		tr := transition()
		p := NewPayload(&tr, "s")
		err := sinks[0].Send(context.Background(), &p)
		_, perm := err.(*PermanentError)
		if err == nil || perm != tc.permanent {
			t.Errorf("%d: err %v, permanent %v", tc.code, err, perm)
		}
		srv.Close()
	}
	if _, err := ParseSinks([]string{"nosuchchat://x"}, nil); err == nil {
		t.Error("an unknown scheme was accepted")
	}
	if _, err := ParseSinks([]string{"https://hooks.example/secret-token"}, nil); err != nil {
		t.Error(err)
	}
}

// A redirect that would turn the POST into a GET (301, 302, 303) is not
// followed, or a GET answered 200 elsewhere would count as sent; one that
// keeps the POST and its body (307, 308) delivers the payload.
func TestWebhookRedirects(t *testing.T) {
	for _, tc := range []struct {
		code int
		sent bool
	}{{301, false}, {302, false}, {303, false}, {307, true}, {308, true}} {
		var mu sync.Mutex
		var posts []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/hook" {
				http.Redirect(w, req, "/moved", tc.code)
				return
			}
			body, _ := io.ReadAll(req.Body)
			mu.Lock()
			if req.Method == http.MethodPost {
				posts = append(posts, string(body))
			}
			mu.Unlock()
		}))
		sinks, _ := ParseSinks([]string{srv.URL + "/hook"}, nil)
		tr := transition()
		p := NewPayload(&tr, "s")
		err := sinks[0].Send(context.Background(), &p)
		_, perm := err.(*PermanentError)
		mu.Lock()
		n := len(posts)
		delivered := n == 1 && strings.Contains(posts[0], `"key":"2026-11/acme/-/threshold/75#firing"`)
		mu.Unlock()
		if tc.sent && (err != nil || !delivered) {
			t.Errorf("%d: err %v, %d payloads delivered", tc.code, err, n)
		}
		if !tc.sent && (!perm || n != 0) {
			t.Errorf("%d: err %v (want a permanent error), %d POSTs reached the target", tc.code, err, n)
		}
		srv.Close()
	}
}

// A chat service through shoutrrr: its generic webhook service, pointed at a
// local fake, receives the summary.
func TestChatThroughShoutrrr(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	url := "generic://" + strings.TrimPrefix(srv.URL, "http://") + "/chat?disabletls=yes&template=json"
	sinks, err := ParseSinks([]string{url}, nil)
	if err != nil || sinks[0].Name() != "generic" {
		t.Fatalf("%v %v", sinks, err)
	}
	tr := transition()
	p := NewPayload(&tr, tr.Summary("2026-11"))
	if err := sinks[0].Send(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || !strings.Contains(bodies[0], "acme used 75 % of its 1,000-credit allocation") ||
		!strings.Contains(bodies[0], "mavtop firing: threshold") {
		t.Fatalf("chat got %q", bodies)
	}
}

func TestNotifierRetriesUntilTheReceiverRecovers(t *testing.T) {
	r := newReceiver(t)
	failing := true
	r.fail = func() bool { return failing }
	sinks, _ := ParseSinks([]string{r.srv.URL}, nil)
	var mu sync.Mutex
	var results []Result
	retries := 0
	n := New(sinks, Options{
		Backoff: &backoff.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond},
		OnResult: func(res Result) {
			mu.Lock()
			defer mu.Unlock()
			results = append(results, res)
			if res.Outcome == OutcomeRetrying {
				retries++
				if retries == 20 { // the receiver comes back after 20 refusals
					r.mu.Lock()
					failing = false
					r.mu.Unlock()
				}
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	for i := range 5 {
		tr := transition()
		tr.Alert.ID = tr.Alert.ID + string(rune('a'+i))
		n.Enqueue(&Job{Key: tr.Key(), Payload: NewPayload(&tr, "s")})
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(r.payloads()) < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := r.payloads()
	if len(got) != 5 {
		t.Fatalf("receiver got %d payloads, want 5", len(got))
	}
	for i, p := range got { // in order, each once
		if want := "2026-11/acme/-/threshold/75" + string(rune('a'+i)); p.ID != want {
			t.Fatalf("payload %d is %s, want %s", i, p.ID, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if retries != 20 || !strings.Contains(results[0].Err, "503") {
		t.Fatalf("%d retries, first %+v", retries, results[0])
	}
}

func TestNotifierGivesUpAfterRetryForAndDropsOldest(t *testing.T) {
	var clock time.Time
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	r := newReceiver(t)
	r.fail = func() bool { return true }
	sinks, _ := ParseSinks([]string{r.srv.URL}, nil)
	var outcomes []string
	n := New(sinks, Options{Queue: 2, RetryFor: time.Hour, Now: now,
		Sleep: func(context.Context, time.Duration) error { // each wait moves the clock 10 min
			mu.Lock()
			clock = clock.Add(10 * time.Minute)
			mu.Unlock()
			return nil
		},
		OnResult: func(res Result) { mu.Lock(); outcomes = append(outcomes, res.Outcome); mu.Unlock() }})
	for i := range 3 { // the queue holds 2: the first is dropped
		tr := transition()
		tr.Alert.ID += string(rune('a' + i))
		n.Enqueue(&Job{Key: tr.Key(), Payload: NewPayload(&tr, "s")})
	}
	if n.Dropped() != 1 {
		t.Fatalf("dropped %d", n.Dropped())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	count := func(o string) int {
		mu.Lock()
		defer mu.Unlock()
		c := 0
		for _, x := range outcomes {
			if x == o {
				c++
			}
		}
		return c
	}
	for count(OutcomeFailed) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// the second is tried at 0, 10, …, 60 min: 6 retries, then given up an
	// hour after it was queued; the third, queued at 0 too, fails at once
	if count(OutcomeDropped) != 1 || count(OutcomeFailed) != 2 || count(OutcomeRetrying) != 6 {
		t.Fatalf("outcomes %v", outcomes)
	}
}
