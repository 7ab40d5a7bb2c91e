package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/proxy"
)

// metric returns the value of one series from the proxy's /metrics.
func metric(t *testing.T, r *rig, series string) float64 {
	t.Helper()
	return metricAt(t, r.srv.URL, series)
}

// metricAt returns the value of one series from the /metrics of the proxy at url.
func metricAt(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// Only API paths under the upstream's base go upstream; anything else is a 404
// from the proxy that the sandbox never sees.
func TestOnlyAPIPathsForwarded(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, path := range []string{"/", "/api/v2/responses", "/api/v1", "/api/v1/", "/api/v1//responses", "/api/v1/a/../responses", "/api/v1/responses%2F..%2Fusage", "/admin"} {
		req, _ := http.NewRequest(http.MethodGet, r.srv.URL, nil)
		req.URL.Opaque = path // sent as written, not cleaned
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	if n := len(r.sb.Stats()); n != 0 {
		t.Fatalf("the sandbox saw %v", r.sb.Stats())
	}
	// A body over the limit is refused before anything is sent.
	big := strings.NewReader(`{"model":"mavera-1","input":"` + strings.Repeat("x", proxy.DefaultMaxBody) + `"}`)
	req, _ := http.NewRequest(http.MethodPost, r.Base+"/responses", big)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || len(r.sb.Stats()) != 0 {
		t.Fatalf("oversized body: %d, sandbox saw %v", resp.StatusCode, r.sb.Stats())
	}
}

// Tracking never holds a request: with Redis killed, calls still succeed, the
// events wait in the queue (backlog and "Redis down" in /metrics), and once Redis
// is back they are all written, to the credit of the sandbox's ledger.
func TestRedisAwayDoesNotBlockRequests(t *testing.T) {
	r := newRig(t, rigOptions{noPreflight: true})
	if !r.redis.Real {
		t.Skip("needs redis-server (Kill and Restart)")
	}
	body := map[string]any{"model": "mavera-1", "input": "hi"}
	if status, _ := post(t, r.Base+"/responses", testKey, body, nil); status != http.StatusOK {
		t.Fatalf("first call: %d", status)
	}
	r.settle()
	r.redis.Kill()
	const calls = 20
	for i := range calls {
		if status, b := post(t, r.Base+"/responses", testKey, body, nil); status != http.StatusOK {
			t.Fatalf("call %d with Redis away: %d %v", i, status, b)
		}
	}
	if b := metric(t, r, "mavtop_proxy_tracking_backlog"); b < calls {
		t.Fatalf("backlog %v, want at least %d", b, calls)
	}
	waitFor(t, "Redis marked down", func() bool { return metric(t, r, "mavtop_proxy_tracking_redis_down") == 1 })
	r.redis.Restart()
	r.settle()
	snap := r.snapshot()
	if got, want := snap.Used["default"], r.ledger().Used; got != want {
		t.Fatalf("after Redis came back: Redis %d, sandbox %d", got, want)
	}
	if st := r.q.Stats(); st.Dropped != 0 || st.Unknown != 0 || st.Published != calls+1 {
		t.Fatalf("queue stats %+v, want %d published, none dropped or unknown", st, calls+1)
	}
}

// The queue drops (and counts) what does not fit rather than wait.
func TestQueueBounded(t *testing.T) {
	q := proxy.NewQueue(blockedSink{}, proxy.QueueOptions{Capacity: 3})
	e := model.Event{Workspace: "w", Endpoint: "/responses", Status: 200, Credits: 1, TS: 1}
	for range 5 {
		q.Add(e)
	}
	if st := q.Stats(); st.Backlog != 3 || st.Dropped != 2 {
		t.Fatalf("stats %+v, want backlog 3 and 2 dropped", st)
	}
	if q.Add(model.Event{Workspace: "bad ws"}) || q.Stats().Invalid != 1 {
		t.Fatal("an invalid event was queued")
	}
}

type blockedSink struct{}

func (blockedSink) TrackBatch(ctx context.Context, _ []model.Event) error {
	<-ctx.Done()
	return ctx.Err()
}

// A stream passes through event by event: the upstream sends its second event
// only after the client has read the first, which a buffering proxy would never
// deliver. The credits come from the final event.
func TestStreamingIsNotBuffered(t *testing.T) {
	read := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Request-Id", "req_stream")
		fmt.Fprint(w, "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_s\"}}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-read:
		case <-time.After(10 * time.Second):
			return // the proxy held the first event back
		}
		fmt.Fprint(w, "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_s\",\"usage\":{\"credits_used\":4}}}\n\ndata: [DONE]\n\n")
	}))
	defer up.Close()
	rs := newRig(t, rigOptions{noPreflight: true})
	pub := feed.NewPublisher(rs.rc, feed.PublisherOptions{Now: rs.clock.Now})
	q := proxy.NewQueue(pub, proxy.QueueOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Run(ctx)
	px, err := proxy.New(proxy.Config{Upstream: up.URL + "/api/v1", Queue: q, Now: rs.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(px)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/responses", strings.NewReader(`{"model":"mavera-1","input":"hi","stream":true}`))
	req.Header.Set(proxy.WorkspaceHeader, "streamy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "event: response.created\n" {
		t.Fatalf("first line %q, %v", first, err)
	}
	close(read)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), `"credits_used":4`) || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("rest of the stream: %q", rest)
	}
	waitFor(t, "the stream's event", func() bool { return q.Stats().Published == 1 })
	snap := rs.snapshot()
	if got := snap.UsedBy[model.UsedByField("streamy", "", "/responses")]; got != 4 {
		t.Fatalf("streamed credits in Redis: %d, want 4", got)
	}
}
