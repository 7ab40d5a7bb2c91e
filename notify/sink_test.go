package notify

import (
	"context"
	"encoding/json"
	"io"
	"maps"
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
// 503 while it returns true; answer, when it returns a status, answers a
// payload with it instead of taking it (both run under mu); onPost runs on
// every request it records, and delay holds each answer back.
type receiver struct {
	mu     sync.Mutex
	got    []Payload
	raw    []string
	calls  int
	fail   func() bool
	answer func(p *Payload) int
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
		var p Payload
		perr := json.Unmarshal(body, &p)
		if r.answer != nil && perr == nil {
			if code := r.answer(&p); code != 0 {
				w.WriteHeader(code)
				return
			}
		}
		r.raw = append(r.raw, string(body))
		if perr == nil {
			r.got = append(r.got, p)
		}
		if r.onPost != nil {
			r.onPost()
		}
		if d := r.delay; d > 0 {
			// a slow receiver (its request already counted), answering
			// requests side by side like any HTTP server
			r.mu.Unlock()
			time.Sleep(d)
			r.mu.Lock()
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
	p.Instance = "web-1/watch" // what the notifier stamps (TestNotifierNamesItsInstance)
	if err := sinks[0].Send(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.raw[0]), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "2026-11/acme/-/threshold/75", "key": "2026-11/acme/-/threshold/75#firing", "status": "firing",
		"kind": "threshold", "workspace": "acme", "project": "", "threshold": 75.0, "percent_used": 76.0, "percent_shown": "76 %", "used": 760.0,
		"cap": 1000.0, "cap_kind": "allocation", "level": "high", "period": "2026-11", "at": "2026-11-25T14:05:00Z",
		"summary": "acme used 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)", "source": "mavtop",
		"instance": "web-1/watch"}
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
	p.Instance = "web-1/watch"
	if err := sinks[0].Send(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || !strings.Contains(bodies[0], "acme used 75 % of its 1,000-credit cap") ||
		!strings.Contains(bodies[0], "mavtop firing: threshold") || !strings.Contains(bodies[0], "(sent by mavtop web-1/watch)") {
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
	want := map[string]int{}
	for i := range 5 {
		tr := transition()
		tr.Alert.ID = tr.Alert.ID + string(rune('a'+i))
		want[tr.Key()] = 1
		n.Enqueue(&Job{Key: tr.Key(), Payload: NewPayload(&tr, "s")})
	}
	waitFor(t, "5 payloads", func() bool { return len(r.payloads()) >= 5 })
	if got := r.keys(); !maps.Equal(got, want) {
		t.Fatalf("receiver got %v, want each of %v once", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	r.mu.Lock()
	refused := r.calls - len(r.got)
	r.mu.Unlock()
	// every refusal is one retry reported (attempts under way when the
	// receiver came back may add a few refusals to the 20)
	if retries < 20 || retries != refused || !strings.Contains(results[0].Err, "503") {
		t.Fatalf("%d retries for %d refusals, first %+v", retries, refused, results[0])
	}
}

// fakeClock is a clock that moves only when the notifier waits: each wait
// passes at once and moves it on by what was asked.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	c.mu.Unlock()
	return ch
}

func TestNotifierGivesUpAfterRetryForAndDropsOldest(t *testing.T) {
	clock := &fakeClock{}
	r := newReceiver(t)
	r.answer = func(p *Payload) int { // the second is refused; the third is taken
		if strings.HasSuffix(p.ID, "b") {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	sinks, _ := ParseSinks([]string{r.srv.URL}, nil)
	type seen struct {
		Result
		at time.Duration // on the clock, since the start
	}
	var mu sync.Mutex
	var got []seen
	n := New(sinks, Options{Queue: 2, RetryFor: time.Hour, Now: clock.Now, After: clock.After,
		Backoff: &backoff.Backoff{Min: 10 * time.Minute, Max: 10 * time.Minute},
		OnResult: func(res Result) {
			mu.Lock()
			got = append(got, seen{res, clock.Now().Sub(time.Time{})})
			mu.Unlock()
		}})
	var keys []string
	for i := range 3 { // the queue holds 2: the first is dropped
		tr := transition()
		tr.Alert.ID += string(rune('a' + i))
		keys = append(keys, tr.Key())
		n.Enqueue(&Job{Key: tr.Key(), Payload: NewPayload(&tr, "s")})
	}
	if n.Dropped() != 1 {
		t.Fatalf("dropped %d", n.Dropped())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	finals := func() int {
		mu.Lock()
		defer mu.Unlock()
		c := 0
		for _, s := range got {
			if s.Final {
				c++
			}
		}
		return c
	}
	waitFor(t, "every delivery finished", func() bool { return finals() == 3 })
	mu.Lock()
	defer mu.Unlock()
	// the first was dropped unsent; the third was sent; the second, refused,
	// was retried (5 to 10 min between attempts) while the hour lasted and
	// given up at the first attempt after it
	by := map[string][]seen{}
	for _, s := range got {
		by[s.Key] = append(by[s.Key], s)
	}
	if d := by[keys[0]]; len(d) != 1 || d[0].Outcome != OutcomeDropped || !d[0].Final {
		t.Errorf("first: %+v, want dropped", d)
	}
	if d := by[keys[2]]; len(d) != 1 || d[0].Outcome != OutcomeSent || r.keys()[keys[2]] != 1 {
		t.Errorf("third: %+v, want sent once", d)
	}
	for _, k := range keys[1:2] {
		d := by[k]
		if len(d) < 7 {
			t.Fatalf("%s: %d attempts in an hour of 5–10 min waits, want 7 at least: %+v", k, len(d), d)
		}
		for i, s := range d[:len(d)-1] {
			if s.Outcome != OutcomeRetrying || s.Final || s.at >= time.Hour || s.Attempts != i+1 {
				t.Errorf("%s attempt %d: %+v, want retrying within the hour", k, i+1, s)
			}
		}
		if last := d[len(d)-1]; last.Outcome != OutcomeFailed || !last.Final || last.at < time.Hour || !strings.Contains(last.Err, "503") {
			t.Errorf("%s last: %+v, want failed after the hour", k, last)
		}
	}
}

// TestRunOutPayloadSaysSpareInSeconds: a run_out payload gives how long
// before the period's end credits run out in seconds, the unit of every
// duration mavtop writes as JSON, and in seconds only: spare_hours (rounded
// to 0.1 h) beside it was one figure in two units.
func TestRunOutPayloadSaysSpareInSeconds(t *testing.T) {
	spare := 6*time.Hour + 26*time.Minute + 717362470
	tr := model.AlertTransition{Status: model.AlertFiring, At: time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC), Alert: model.Alert{
		ID: "2026-11/acme/-/run_out/-", Kind: model.AlertRunOut, Period: "2026-11", Workspace: "acme",
		Used: 600, Cap: 1000, CapKind: model.CapAllocation, PercentUsed: 60, Level: model.LevelWarn, BurnPerHour: 40, Spare: spare}}
	b, err := json.Marshal(NewPayload(&tr, tr.Summary("2026-11")))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["spare_seconds"] != 23160.71736247 {
		t.Errorf("spare_seconds %v; want 23160.71736247: %s", m["spare_seconds"], b)
	}
	if v, ok := m["spare_hours"]; ok {
		t.Errorf("spare_hours %v beside spare_seconds: %s", v, b)
	}
}
