package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mavtop/client/sandbox"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/proxy"
)

// BenchmarkAddedLatency measures what the proxy adds to a call: POST /responses to
// the same sandbox, direct and through the proxy (tracking into a real Redis),
// interleaved in one run. "500rps": each at 500 requests/s, open loop (requests
// start on schedule whatever the previous ones are doing); "serial": one request at
// a time, direct and proxied in turn (the added cost without queueing). With
// "preflight" every call first reads its workspace's budget from Redis.
// Reports p50 and p99 of both and their differences.
//
//	go test ./proxy -run '^$' -bench AddedLatency -benchtime 5000x
func BenchmarkAddedLatency(b *testing.B) {
	for _, pre := range []bool{false, true} {
		for _, rate := range []int{500, 0} {
			name := "500rps"
			if rate == 0 {
				name = "serial"
			}
			if pre {
				name += "-preflight"
			}
			b.Run(name, func(b *testing.B) { benchAddedLatency(b, rate, pre) })
		}
	}
}

func benchAddedLatency(b *testing.B, rate int, preflight bool) {
	sb := sandbox.New(sandbox.Config{Allocation: 1 << 40, RateLimit: 1 << 30})
	up := httptest.NewServer(sb)
	defer up.Close()
	rs := feedtest.Start(b)
	rc := rs.Client()
	q := proxy.NewQueue(feed.NewPublisher(rc, feed.PublisherOptions{}), proxy.QueueOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Run(ctx)
	cfg := proxy.Config{Upstream: up.URL + sandbox.BasePath, Queue: q}
	if preflight {
		cfg.Budgets = feed.NewBalances(rc, feed.StoreOptions{})
	}
	px, err := proxy.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(px)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256}}
	body := []byte(`{"model":"mavera-1","input":"How are we doing?"}`)
	do := func(base string) (time.Duration, error) {
		req, _ := http.NewRequest(http.MethodPost, base+"/responses", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return d, err
	}
	direct, proxied := up.URL+sandbox.BasePath, srv.URL+sandbox.BasePath
	for range 200 { // warm the connection pools
		do(direct)
		do(proxied)
	}
	lat := [2][]time.Duration{make([]time.Duration, b.N), make([]time.Duration, b.N)}
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if rate == 0 {
			for k, base := range []string{direct, proxied} {
				d, err := do(base)
				if err != nil {
					failed.Add(1)
				}
				lat[k][i] = d
			}
			continue
		}
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		for k, base := range []string{direct, proxied} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := do(base)
				if err != nil {
					failed.Add(1)
				}
				lat[k][i] = d
			}()
		}
	}
	wg.Wait()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	pct := func(l []time.Duration, p float64) float64 {
		s := slices.Clone(l)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	d50, d99 := pct(lat[0], .50), pct(lat[0], .99)
	p50, p99 := pct(lat[1], .50), pct(lat[1], .99)
	b.ReportMetric(d50, "direct-p50-ms")
	b.ReportMetric(d99, "direct-p99-ms")
	b.ReportMetric(p50, "proxy-p50-ms")
	b.ReportMetric(p99, "proxy-p99-ms")
	b.ReportMetric(p50-d50, "added-p50-ms")
	b.ReportMetric(p99-d99, "added-p99-ms")
	b.ReportMetric(0, "ns/op")
	if err := waitBacklog(q); err != nil {
		b.Fatal(err)
	}
}

func waitBacklog(q *proxy.Queue) error {
	deadline := time.Now().Add(time.Minute)
	for q.Backlog() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("backlog %d after a minute", q.Backlog())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// BenchmarkLargeBodies sends 1 MB and 10 MB request bodies through the proxy and
// gets answers of the same size back (a JSON body with its usage at the end, and an
// SSE stream), and reports the peak heap in use while they flow. Flat means the
// same for both sizes: the proxy streams both ways and keeps only what it tracks.
// Bodies are generated and discarded on the fly, so the heap is the proxy's.
//
//	go test ./proxy -run '^$' -bench LargeBodies -benchtime 20x
func BenchmarkLargeBodies(b *testing.B) {
	for _, size := range []int{1 << 20, 10 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) { benchLargeBodies(b, size) })
	}
}

// repeat is an endless reader of one byte.
type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func benchLargeBodies(b *testing.B, size int) {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	evStart := []byte("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"")
	evEnd := []byte("\"}\n\n")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			for n := 0; n < size; n += len(chunk) {
				w.Write(evStart)
				w.Write(chunk)
				w.Write(evEnd)
			}
			io.WriteString(w, "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"credits_used\":5}}}\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"resp_big","output":[{"text":"`)
		for n := 0; n < size; n += len(chunk) {
			w.Write(chunk)
		}
		io.WriteString(w, `"}],"usage":{"credits_used":5}}`)
	}))
	defer up.Close()
	rs := feedtest.Start(b)
	q := proxy.NewQueue(feed.NewPublisher(rs.Client(), feed.PublisherOptions{}), proxy.QueueOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Run(ctx)
	px, err := proxy.New(proxy.Config{Upstream: up.URL + "/api/v1", Queue: q})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(px)
	defer srv.Close()
	body := func() io.Reader {
		return io.MultiReader(strings.NewReader(`{"model":"mavera-1","input":"`), io.LimitReader(repeat('y'), int64(size)), strings.NewReader(`"}`))
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	b.SetBytes(2 * int64(size))
	b.ResetTimer()
	for i := range b.N {
		path := "/api/v1/responses"
		if i%2 == 1 {
			path += "/stream"
		}
		resp, err := http.Post(srv.URL+path, "application/json", body())
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n < int64(size) {
			b.Fatalf("answer of %d bytes", n)
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	if err := waitBacklog(q); err != nil {
		b.Fatal(err)
	}
	if st := q.Stats(); st.Published != int64(b.N) {
		b.Fatalf("%d events for %d calls", st.Published, b.N)
	}
	b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-heap-growth-MB")
}

// BenchmarkHotPath is the proxy's own cost for one POST /responses, without the
// network: the upstream is an in-memory transport answering a canned body, the
// events go to a sink that drops them, and the budgets come from a counter instead
// of Redis. It reports the time and allocations per call and the budget reads per
// call: with the budget cache a chat reads none in the steady state, without it
// (budget-cache < 0) one, a Redis round trip each.
//
//	go test ./proxy -run '^$' -bench HotPath -benchmem
func BenchmarkHotPath(b *testing.B) {
	for _, c := range []struct {
		name  string
		pre   bool
		cache time.Duration
	}{{"no-preflight", false, 0}, {"preflight-cached", true, 0}, {"preflight-live", true, -1}} {
		b.Run(c.name, func(b *testing.B) {
			var reads atomic.Int64
			cfg := proxy.Config{Upstream: "http://api.test/api/v1", BudgetCache: c.cache, Transport: cannedTransport{}}
			if c.pre {
				cfg.Budgets = countingBudgets{n: &reads}
			}
			q := proxy.NewQueue(discardSink{}, proxy.QueueOptions{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			q.Run(ctx)
			cfg.Queue = q
			px, err := proxy.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			body := []byte(`{"model":"mavera-1","input":"How are we doing?"}`)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				req := httptest.NewRequest(http.MethodPost, "http://proxy.test/api/v1/responses", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+testKey)
				req.Header.Set(proxy.WorkspaceHeader, "acme")
				w := httptest.NewRecorder()
				px.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(reads.Load())/float64(b.N), "budget-reads/op")
		})
	}
}

const cannedAnswer = `{"id":"resp_1","object":"response","status":"completed","model":"mavera-1","output":[{"type":"message","content":[{"type":"output_text","text":"Fine."}]}],"usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7,"credits_used":2}}`

// cannedTransport answers every request with cannedAnswer.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_1"}}
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(strings.NewReader(cannedAnswer)),
		ContentLength: int64(len(cannedAnswer)), Request: r, ProtoMajor: 1, ProtoMinor: 1}, nil
}

type discardSink struct{}

func (discardSink) TrackBatch(context.Context, []model.Event) error { return nil }

// countingBudgets counts its reads and affords everything.
type countingBudgets struct{ n *atomic.Int64 }

func (c countingBudgets) Budget(context.Context, string, string) (feed.Budget, error) {
	c.n.Add(1)
	return feed.Budget{Settings: model.Settings{Allocation: 1 << 40}}, nil
}
