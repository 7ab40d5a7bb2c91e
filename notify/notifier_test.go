package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/util/jsonclient"

	"mavtop/internal/backoff"
	"mavtop/model"
)

// startNotifier runs a notifier over one webhook at url, its retries
// compressed, collecting its results; stop ends it.
func startNotifier(t *testing.T, url string, opt Options) (n *Notifier, results func() []Result) {
	t.Helper()
	sinks, err := ParseSinks([]string{url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []Result
	if opt.Backoff == nil {
		opt.Backoff = &backoff.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}
	}
	opt.OnResult = func(r Result) { mu.Lock(); got = append(got, r); mu.Unlock() }
	n = New(sinks, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return n, func() []Result { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
}

// job is the firing (or resolution) of alert acme/threshold/<id>.
func job(id string, st model.AlertStatus) *Job {
	tr := transition()
	tr.Alert.ID, tr.Status = "2026-11/acme/-/threshold/"+id, st
	return &Job{Key: tr.Key(), Payload: NewPayload(&tr, "s")}
}

// One transition the receiver will not take — refused with a 503 for as
// long as it lasts, held without an answer, or refused for good with a 413 —
// holds up no other delivery to the same sink: each has its own retry
// schedule and the sink runs several attempts at once. The stuck one queued
// first, six others behind it (more than the attempts run at once).
func TestOneStuckDeliveryHoldsUpNoOther(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int // the stuck one's answer; 0: none, the request hangs
	}{{"refused 503", http.StatusServiceUnavailable}, {"hangs", 0}, {"refused 413 for good", http.StatusRequestEntityTooLarge}} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			rc := newReceiver(t)
			t.Cleanup(func() { close(release) }) // runs before the server closes
			stuck := job("stuck", model.AlertFiring)
			tries := 0
			rc.answer = func(p *Payload) int {
				if p.Key != stuck.Key {
					return 0
				}
				tries++
				if tc.code == 0 {
					rc.mu.Unlock() // hold the request, not the receiver
					<-release
					rc.mu.Lock()
					return http.StatusGatewayTimeout
				}
				return tc.code
			}
			n, results := startNotifier(t, rc.srv.URL, Options{})
			n.Enqueue(stuck)
			want := map[string]int{}
			for i := range 6 {
				j := job(fmt.Sprint(i), model.AlertFiring)
				want[j.Key] = 1
				n.Enqueue(j)
			}
			waitFor(t, "the six others delivered", func() bool { return len(rc.keys()) == 6 })
			if got := rc.keys(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("receiver took %v, want %v", got, want)
			}
			ofStuck := func() []Result {
				var rs []Result
				for _, r := range results() {
					if r.Key == stuck.Key {
						rs = append(rs, r)
					}
				}
				return rs
			}
			switch tc.code {
			case http.StatusServiceUnavailable: // retried meanwhile, on its own
				waitFor(t, "the stuck one retried", func() bool { return len(ofStuck()) >= 3 })
				for _, r := range ofStuck() {
					if r.Outcome != OutcomeRetrying || r.Final || r.Err != "503 Service Unavailable" {
						t.Errorf("stuck: %+v, want retrying 503", r)
					}
				}
			case http.StatusRequestEntityTooLarge: // failed at once, never tried again
				waitFor(t, "the stuck one given up", func() bool { return len(ofStuck()) > 0 })
				if rs := ofStuck(); len(rs) != 1 || rs[0].Outcome != OutcomeFailed || !rs[0].Final || rs[0].Attempts != 1 ||
					rs[0].Err != "413 Request Entity Too Large" {
					t.Errorf("stuck: %+v, want one attempt, failed: 413", rs)
				}
			default: // still under way
				if rs := ofStuck(); len(rs) != 0 {
					t.Errorf("stuck: %+v, want its one attempt still under way", rs)
				}
				rc.mu.Lock()
				if tries != 1 {
					t.Errorf("the hanging one was tried %d times, want 1 (under way)", tries)
				}
				rc.mu.Unlock()
			}
		})
	}
}

// The transitions of one alert reach a sink in the order they were decided
// — its resolution never before its firing, however long the firing is
// refused — while other alerts go by: alert x's firing is refused until
// alert y's firing has arrived (and at least once), and x's resolution waits
// behind it.
func TestTransitionsOfOneAlertKeepTheirOrder(t *testing.T) {
	rc := newReceiver(t)
	xf, xr, yf := job("x", model.AlertFiring), job("x", model.AlertResolved), job("y", model.AlertFiring)
	refused := 0
	rc.answer = func(p *Payload) int {
		if p.Key == xf.Key && (refused == 0 || !slices.ContainsFunc(rc.got, func(q Payload) bool { return q.Key == yf.Key })) {
			refused++
			return http.StatusServiceUnavailable
		}
		return 0
	}
	n, _ := startNotifier(t, rc.srv.URL, Options{})
	n.Enqueue(xf)
	n.Enqueue(xr)
	n.Enqueue(yf)
	waitFor(t, "all three", func() bool { return len(rc.keys()) == 3 })
	var order []string
	for _, p := range rc.payloads() {
		order = append(order, p.Key)
	}
	if want := []string{yf.Key, xf.Key, xr.Key}; !slices.Equal(order, want) {
		t.Errorf("arrived %q, want %q", order, want)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if refused == 0 || rc.calls != refused+3 {
		t.Errorf("x's firing refused %d times, %d calls: want refusals before y arrived, then one call each", refused, rc.calls)
	}
}

// A full queue drops its oldest delivery together with the later
// transitions of the same alert, so that none overtakes it once the store
// hands them out again; the others stay and are sent.
func TestAFullQueueDropsAnAlertsTransitionsTogether(t *testing.T) {
	rc := newReceiver(t)
	sinks, _ := ParseSinks([]string{rc.srv.URL}, nil)
	var dropped []string
	n := New(sinks, Options{Queue: 2, OnResult: func(r Result) {
		if r.Outcome == OutcomeDropped {
			dropped = append(dropped, r.Key) // Enqueue's goroutine: no Run yet
		}
	}})
	xf, xr, yf := job("x", model.AlertFiring), job("x", model.AlertResolved), job("y", model.AlertFiring)
	n.Enqueue(xf)
	n.Enqueue(xr)
	n.Enqueue(yf) // full: x's firing goes, and its resolution with it
	if want := []string{xf.Key, xr.Key}; !slices.Equal(dropped, want) || n.Dropped() != 2 {
		t.Fatalf("dropped %q (%d), want %q", dropped, n.Dropped(), want)
	}
	zr := job("y", model.AlertResolved)
	n.Enqueue(zr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	waitFor(t, "y's two transitions", func() bool { return len(rc.keys()) == 2 })
	var order []string
	for _, p := range rc.payloads() {
		order = append(order, p.Key)
	}
	if want := []string{yf.Key, zr.Key}; !slices.Equal(order, want) {
		t.Errorf("arrived %q, want %q", order, want)
	}
}

// Every payload names the instance that delivered it (sanitised: it comes
// from a flag or the host name).
func TestNotifierNamesItsInstance(t *testing.T) {
	rc := newReceiver(t)
	n, _ := startNotifier(t, rc.srv.URL, Options{Instance: "web-1/watch\x1b[2J"})
	n.Enqueue(job("x", model.AlertFiring))
	waitFor(t, "the payload", func() bool { return len(rc.payloads()) == 1 })
	if got, want := rc.payloads()[0].Instance, "web-1/watch␛[2J"; got != want {
		t.Errorf("instance %q, want %q", got, want)
	}
}

// A chat service's refusal is permanent or worth a retry by the same rule as
// a webhook's answer, whichever way the shoutrrr service words it.
func TestChatRefusalsRetryOrNot(t *testing.T) {
	for _, tc := range []struct {
		code      int
		permanent bool
	}{{400, true}, {401, true}, {404, true}, {413, true}, {408, false}, {429, false}, {500, false}, {503, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tc.code) }))
		sinks, err := ParseSinks([]string{"generic://" + strings.TrimPrefix(srv.URL, "http://") + "/chat?disabletls=yes"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := transition()
		p := NewPayload(&tr, "s")
		err = sinks[0].Send(context.Background(), &p)
		var perm *PermanentError
		if err == nil || errors.As(err, &perm) != tc.permanent {
			t.Errorf("generic answered %d: err %v, permanent %v", tc.code, err, errors.As(err, &perm))
		}
		srv.Close()
	}
	for _, tc := range []struct {
		err       error
		permanent bool
	}{
		{errors.New("failed to send notification: HTTP 403"), true},               // pagerduty
		{errors.New("unexpected response status code: 404"), true},                // googlechat
		{fmt.Errorf("sending: %w", jsonclient.Error{StatusCode: 410}), true},      // slack, telegram…
		{fmt.Errorf("sending: %w", jsonclient.Error{StatusCode: 429}), false},     // rate limited
		{errors.New("send failed: 502 Bad Gateway"), false},                       // teams, mattermost
		{errors.New("dial tcp 127.0.0.1:25: connect: connection refused"), false}, // smtp down
		{errors.New("smtp: 450 4.2.1 mailbox busy, try again later"), false},      // SMTP codes are not HTTP
		{errors.New("error 1: 404 page: HTTP 503 Service Unavailable"), false},    // the HTTP status is what counts
	} {
		_, perm := chatError(tc.err).(*PermanentError)
		if perm != tc.permanent {
			t.Errorf("%v: permanent %v, want %v", tc.err, perm, tc.permanent)
		}
	}
}
