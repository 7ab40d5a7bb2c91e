package proxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mavtop/client/sandbox"
	"mavtop/feed"
	"mavtop/model"
	"mavtop/proxy"
)

// events returns every usage event of the rig's stream, oldest first.
func (r *rig) events() []model.Event {
	r.t.Helper()
	msgs, err := r.rc.XRange(context.Background(), feed.Keys{}.Stream(), "-", "+").Result()
	if err != nil {
		r.t.Fatal(err)
	}
	var out []model.Event
	for _, m := range msgs {
		e, err := model.DecodeEvent(m.ID, m.Values)
		if err != nil {
			r.t.Fatalf("entry %s: %v", m.ID, err)
		}
		if e.Kind == model.KindUsage {
			out = append(out, e)
		}
	}
	return out
}

// proxyTo starts a proxy in front of upstream (an API base URL) tracking into the
// rig's Redis, with cfg's other fields; it returns the proxy's API base URL.
func (r *rig) proxyTo(upstream string, cfg proxy.Config) string {
	r.t.Helper()
	cfg.Upstream, cfg.Queue, cfg.Now = upstream, r.q, r.clock.Now
	px, err := proxy.New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	srv := httptest.NewServer(px)
	r.t.Cleanup(srv.Close)
	return srv.URL + "/api/v1"
}

// filler is n bytes of text deltas: more than any socket buffer holds, so a proxy
// writing them to an application that left finds out it left.
func filler(w io.Writer, n int) {
	chunk := "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"" + strings.Repeat("x", 32<<10) + "\"}\n\n"
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := io.WriteString(w, chunk); err != nil {
			return
		}
	}
}

const completed = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_cut\",\"status\":\"completed\",\"usage\":{\"credits_used\":7}}}\n\ndata: [DONE]\n\n"

// leaveAfterFirstLine posts a streamed call, reads one line of the answer and
// hangs up (the connection closed, as a killed application's is).
func leaveAfterFirstLine(t *testing.T, base, ws string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest(http.MethodPost, base+"/responses", strings.NewReader(`{"model":"mavera-1","input":"hi","stream":true}`))
	req.Header.Set(proxy.WorkspaceHeader, ws)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || line != "event: response.created\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	resp.Body.Close()
}

// An application that hangs up in the middle of a stream does not make its
// charge vanish: the proxy reads the rest of the answer on its own, finds the
// final event's usage and records it. When the rest does not come within the
// drain timeout, the call is recorded with its status, 0 credits, the code
// client_disconnected and a message saying the charge is unknown.
func TestClientLeavingMidStream(t *testing.T) {
	r := newRig(t, rigOptions{noPreflight: true})
	left := map[string]chan struct{}{"quick": make(chan struct{}), "slow": make(chan struct{})}
	hang := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ws := req.Header.Get("X-Mavera-Workspace")
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_cut\"}}\n\n")
		w.(http.Flusher).Flush()
		<-left[ws]
		filler(w, 8<<20) // the proxy's writes to the gone application fail on the way
		if ws == "slow" {
			w.(http.Flusher).Flush()
			<-hang // never says its usage
			return
		}
		fmt.Fprint(w, completed)
	}))
	defer up.Close()
	defer close(hang)
	leaveAfterFirstLine(t, r.proxyTo(up.URL+"/api/v1", proxy.Config{}), "quick")
	close(left["quick"])
	waitFor(t, "the drained stream's event", func() bool { return r.q.Stats().Published == 1 })
	if got := r.snapshot().UsedBy[model.UsedByField("quick", "", "/responses")]; got != 7 {
		t.Fatalf("credits of the stream its application left: %d in Redis, want the 7 its final event said (%+v)", got, r.events())
	}

	leaveAfterFirstLine(t, r.proxyTo(up.URL+"/api/v1", proxy.Config{DrainTimeout: 300 * time.Millisecond}), "slow")
	close(left["slow"])
	waitFor(t, "the cut stream's event", func() bool { return r.q.Stats().Published == 2 })
	evs := r.events()
	e := evs[len(evs)-1]
	if e.Workspace != "slow" || e.Status != http.StatusOK || e.Credits != 0 || e.Code != proxy.CodeClientLeft ||
		!strings.Contains(e.Msg, "unknown") || !strings.Contains(e.Msg, "events") {
		t.Fatalf("cut stream recorded as %+v, want status 200, 0 credits, code %s, a message saying the charge is unknown", e, proxy.CodeClientLeft)
	}
}

// An upstream that breaks its answer off records the call with its status, 0
// credits (unless the usage had already passed) and the code upstream_reset.
func TestUpstreamResetMidStream(t *testing.T) {
	r := newRig(t, rigOptions{noPreflight: true})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_cut\"}}\n\n")
		if strings.HasPrefix(req.Header.Get("X-Mavera-Workspace"), "late") {
			fmt.Fprint(w, strings.TrimSuffix(completed, "data: [DONE]\n\n")) // usage passed, [DONE] never comes
		}
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection is torn down mid-answer
	}))
	defer up.Close()
	base := r.proxyTo(up.URL+"/api/v1", proxy.Config{})
	for _, ws := range []string{"early", "late"} {
		req, _ := http.NewRequest(http.MethodPost, base+"/responses", strings.NewReader(`{"model":"mavera-1","input":"hi","stream":true}`))
		req.Header.Set(proxy.WorkspaceHeader, ws)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) // ends in an error: the answer is cut
		resp.Body.Close()
	}
	waitFor(t, "both events", func() bool { return r.q.Stats().Published == 2 })
	byWS := map[string]model.Event{}
	for _, e := range r.events() {
		byWS[e.Workspace] = e
	}
	if e := byWS["early"]; e.Status != http.StatusOK || e.Credits != 0 || e.Code != proxy.CodeUpstreamReset || !strings.Contains(e.Msg, "unknown") {
		t.Fatalf("stream cut before its usage recorded as %+v, want 200, 0 credits, %s, charge unknown", e, proxy.CodeUpstreamReset)
	}
	if e := byWS["late"]; e.Credits != 7 || e.Code != "" {
		t.Fatalf("stream cut after its usage recorded as %+v, want the 7 credits and no code", e)
	}
	if got := metricAt(t, strings.TrimSuffix(base, "/api/v1"), `mavtop_proxy_cut_answers_total{code="upstream_reset"}`); got != 1 {
		t.Fatalf("cut answers metric %v, want 1", got)
	}
}

// When the API gives no answer (connection refused or dropped, no headers in
// time) the proxy answers 502 or 504 and records the call that may have spent
// with that status, 0 credits and the code; a read (GET) is answered the same
// and not recorded. A 502 the API itself sends is recorded as any error is.
func TestUpstreamErrorsRecorded(t *testing.T) {
	r := newRig(t, rigOptions{noPreflight: true})
	base := r.proxyTo(r.up.URL+sandbox.BasePath, proxy.Config{UpstreamTimeout: 300 * time.Millisecond})
	chat := map[string]any{"model": "mavera-1", "input": "hi"}
	hdr := func(ws string) map[string]string { return map[string]string{proxy.WorkspaceHeader: ws} }

	r.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/responses", Disconnect: true})
	if status, body := post(t, base+"/responses", testKey, chat, hdr("dropped")); status != http.StatusBadGateway || errorCode(body) != proxy.CodeUpstreamUnavailable {
		t.Fatalf("dropped connection: %d %v", status, body)
	}
	r.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/responses", Hang: true})
	if status, body := post(t, base+"/responses", testKey, chat, hdr("hung")); status != http.StatusGatewayTimeout || errorCode(body) != proxy.CodeUpstreamTimeout {
		t.Fatalf("hung upstream: %d %v", status, body)
	}
	r.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/responses", Status: http.StatusBadGateway, Body: "<html>502 Bad Gateway</html>"})
	if status, _ := post(t, base+"/responses", testKey, chat, hdr("lb")); status != http.StatusBadGateway {
		t.Fatalf("the API's own 502: %d", status)
	}
	// Times 2: the transport retries a read once on a fresh connection.
	r.sb.InjectFault(sandbox.Fault{Method: http.MethodGet, Path: "/usage", Disconnect: true, Times: 2})
	req, _ := http.NewRequest(http.MethodGet, base+"/usage", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("dropped read: %d", resp.StatusCode)
	}
	// Nothing listens here any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/api/v1"
	ln.Close()
	if status, body := post(t, r.proxyTo(dead, proxy.Config{})+"/responses", testKey, chat, hdr("unreachable")); status != http.StatusBadGateway || errorCode(body) != proxy.CodeUpstreamUnavailable {
		t.Fatalf("unreachable upstream: %d %v", status, body)
	}

	r.settle()
	want := map[string]struct {
		status int
		code   string
	}{
		"dropped": {502, proxy.CodeUpstreamUnavailable}, "hung": {504, proxy.CodeUpstreamTimeout},
		"lb": {502, ""}, "unreachable": {502, proxy.CodeUpstreamUnavailable},
	}
	evs := r.events()
	if len(evs) != len(want) {
		t.Fatalf("%d events %+v, want %d (the failed read is not recorded)", len(evs), evs, len(want))
	}
	for _, e := range evs {
		w, ok := want[e.Workspace]
		if !ok || e.Status != w.status || e.Code != w.code || e.Credits != 0 || e.Endpoint != "/responses" {
			t.Errorf("event %+v, want status %d code %q and 0 credits", e, w.status, w.code)
		}
	}
	if snap := r.snapshot(); snap.Used["dropped"]+snap.Used["hung"]+snap.Used["lb"] != r.ledger().Used {
		t.Fatalf("Redis %v, sandbox %d", snap.Used, r.ledger().Used)
	}
}

// An upstream error message that echoes the API key (and carries terminal escapes)
// is recorded with its code, the key masked and the escapes made harmless: the
// Authorization never reaches the usage stream.
func TestUpstreamErrorEchoingKeyRedacted(t *testing.T) {
	r := newRig(t, rigOptions{noPreflight: true})
	msg := "No credits left for Bearer " + testKey + " \x1b]0;pwn\x07"
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"type": "insufficient_credits", "code": "credits_exhausted", "message": msg, "param": nil}})
	r.sb.InjectFault(sandbox.Fault{Method: http.MethodPost, Path: "/responses", Status: http.StatusPaymentRequired, Body: string(body)})
	if status, _ := post(t, r.Base+"/responses", testKey, map[string]any{"model": "mavera-1", "input": "hi"}, nil); status != http.StatusPaymentRequired {
		t.Fatalf("status %d, want the API's 402", status)
	}
	r.settle()
	evs := r.events()
	if len(evs) != 1 || evs[0].Status != http.StatusPaymentRequired || evs[0].Code != "credits_exhausted" {
		t.Fatalf("events %+v, want one 402 credits_exhausted", evs)
	}
	rest := strings.TrimPrefix(testKey, "mvra_live_")
	if m := evs[0].Msg; strings.Contains(m, rest) || strings.ContainsAny(m, "\x1b\x07") || !strings.HasPrefix(m, "No credits left for Bearer mvra_") {
		t.Fatalf("recorded message %q: the key or an escape is in the stream", m)
	}
}
