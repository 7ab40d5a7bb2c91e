package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"mavtop/client/sandbox"
	"mavtop/model"
	"mavtop/proxy"
)

func sdk(base, key string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{option.WithBaseURL(base), option.WithAPIKey(key), option.WithMaxRetries(0)}, opts...)...)
}

func creditsOf(u responses.ResponseUsage) int64 {
	var n int64
	if f, ok := u.JSON.ExtraFields["credits_used"]; ok {
		json.Unmarshal([]byte(f.Raw()), &n)
	}
	return n
}

// The official OpenAI SDK, pointed at the proxy, makes plain and streaming
// Responses calls against the sandbox; each is tracked with the credits the
// sandbox charged, attributed by the X-Mavtop-* headers.
func TestOpenAISDKThroughProxy(t *testing.T) {
	r := newRig(t, rigOptions{})
	c := sdk(r.Base, testKey, option.WithHeader(proxy.WorkspaceHeader, "acme"), option.WithHeader(proxy.ProjectHeader, "web"))
	ctx := context.Background()
	params := responses.ResponseNewParams{Model: "mavera-1", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hello")}}

	resp, err := c.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	plain := creditsOf(resp.Usage)
	if resp.OutputText() == "" || plain < 1 || plain > 5 {
		t.Fatalf("plain call: text %q, credits %d", resp.OutputText(), plain)
	}

	stream := c.Responses.NewStreaming(ctx, params)
	var text strings.Builder
	var streamed int64
	deltas := 0
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			deltas++
			text.WriteString(ev.Delta)
		case "response.completed":
			streamed = creditsOf(ev.Response.Usage)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if deltas < 2 || text.String() != resp.OutputText() || streamed < 1 {
		t.Fatalf("stream: %d deltas, text %q (plain %q), credits %d", deltas, text.String(), resp.OutputText(), streamed)
	}

	r.settle()
	snap := r.snapshot()
	l := r.ledger()
	if got, want := snap.Used["acme"], l.Workspaces["acme"].Used; got != want || got != plain+streamed {
		t.Fatalf("Redis has %d for acme, the sandbox charged %d, the SDK saw %d+%d", got, want, plain, streamed)
	}
	if got, want := snap.UsedBy[model.UsedByField("acme", "web", "/responses")], l.Workspaces["acme"].Projects["web"].Used; got != want {
		t.Fatalf("acme/web/responses: Redis %d, sandbox %d", got, want)
	}
	// Nothing in Redis holds the key.
	assertNoKey(t, r)
}

// assertNoKey scans every Redis value of the rig for the API key.
func assertNoKey(t *testing.T, r *rig) {
	t.Helper()
	ctx := context.Background()
	keys, err := r.rc.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		dump, err := r.rc.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dump, testKey) || strings.Contains(dump, testKey[len("mvra_live_"):]) {
			t.Fatalf("Redis key %s holds the API key", k)
		}
	}
}

func post(t *testing.T, url, token string, body any, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func focusGroup(ws string, sample, questions int) map[string]any {
	qs := make([]map[string]string, questions)
	for i := range qs {
		qs[i] = map[string]string{"type": "open_ended", "text": fmt.Sprintf("Question %d?", i+1)}
	}
	return map[string]any{"name": "fg", "workspace_id": ws, "sample_size": sample, "questions": qs}
}

// A focus group the workspace cannot afford is refused by the proxy with the
// API's 402 shape and never reaches the sandbox; the refusal is recorded.
func TestPreflightRefusesUnaffordableFocusGroup(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.setWorkspace("lean", model.Settings{Allocation: 150})
	// 50 respondents, 5 questions: estimate 125 + 2×5 = 135, 162 with the buffer.
	status, body := post(t, r.Base+"/focus-groups", testKey, focusGroup("lean", 50, 5), nil)
	if status != http.StatusPaymentRequired || errorCode(body) != proxy.CodePreflightRefused {
		t.Fatalf("got %d %v, want 402 %s", status, body, proxy.CodePreflightRefused)
	}
	msg := errorMessage(body)
	for _, want := range []string{"Estimated 135 credits", "162 with the 20 % buffer", "only 150 remaining in lean", "reduce sample size"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if e, _ := body["error"].(map[string]any); e["type"] != "insufficient_credits" {
		t.Errorf("type %v, want insufficient_credits", e["type"])
	}
	if n := r.sb.Stats()["POST /focus-groups"]; n != 0 {
		t.Fatalf("the sandbox received %d focus-group creations, want 0", n)
	}
	// An affordable one goes through (10 respondents, 2 questions: 79 → 94 required).
	if status, body := post(t, r.Base+"/focus-groups", testKey, focusGroup("lean", 10, 2), nil); status != http.StatusCreated {
		t.Fatalf("affordable focus group: %d %v", status, body)
	}
	if n := r.sb.Stats()["POST /focus-groups"]; n != 1 {
		t.Fatalf("the sandbox received %d focus-group creations, want 1", n)
	}
	r.settle()
	snap := r.snapshot()
	if got := snap.Refused[model.RefusedField("lean", "", proxy.CodePreflightRefused)]; got != 1 {
		t.Fatalf("refused counter %d, want 1", got)
	}
	if got := metric(t, r, `mavtop_proxy_preflight_refusals_total{code="preflight_refused"}`); got != 1 {
		t.Fatalf("refusals metric %v, want 1", got)
	}
	if got := metric(t, r, `mavtop_proxy_requests_total{endpoint="/focus-groups",status="402"}`); got != 1 {
		t.Fatalf("402 requests metric %v, want 1", got)
	}
}

// Local usage limits refuse with budget_exceeded, naming the budget: the
// project's when its limit is what is short, the workspace's otherwise.
func TestLocalBudgetsRefuse(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.setWorkspace("acme", model.Settings{Allocation: 5000, UsageLimit: 4000})
	r.setProject("acme", "web", model.ProjectBudget{Limit: 100})
	hdr := map[string]string{proxy.WorkspaceHeader: "acme", proxy.ProjectHeader: "web"}
	// A persona costs 300: over the project's limit of 100, within the workspace's.
	status, body := post(t, r.Base+"/personas", testKey, map[string]any{"name": "P", "type": "B2B", "pipeline_type": "north_star"}, hdr)
	if status != http.StatusPaymentRequired || errorCode(body) != model.CodeBudgetExceeded || !strings.Contains(errorMessage(body), "project acme/web") {
		t.Fatalf("got %d %v, want 402 budget_exceeded naming project acme/web", status, body)
	}
	// Spend 90 of the project's 100 through the proxy, then a chat (5, 6 with the
	// buffer) is still allowed and a persona elsewhere hits the workspace limit.
	for range 3 {
		if status, body := post(t, r.Base+"/responses", testKey, map[string]any{"model": "mavera-1", "input": "hi"}, hdr); status != http.StatusOK {
			t.Fatalf("chat: %d %v", status, body)
		}
	}
	r.setWorkspace("acme", model.Settings{Allocation: 5000, UsageLimit: 200})
	r.settle()
	status, body = post(t, r.Base+"/personas", testKey, map[string]any{"name": "P", "type": "B2B", "pipeline_type": "north_star"}, map[string]string{proxy.WorkspaceHeader: "acme"})
	if status != http.StatusPaymentRequired || errorCode(body) != model.CodeBudgetExceeded || !strings.Contains(errorMessage(body), "workspace acme") {
		t.Fatalf("got %d %v, want 402 budget_exceeded naming workspace acme", status, body)
	}
	if n := r.sb.Stats()["POST /personas"]; n != 0 {
		t.Fatalf("the sandbox received %d persona creations, want 0", n)
	}
	r.settle()
	snap := r.snapshot()
	if got := snap.Refused[model.RefusedField("acme", "web", model.CodeBudgetExceeded)] + snap.Refused[model.RefusedField("acme", "", model.CodeBudgetExceeded)]; got != 2 {
		t.Fatalf("budget_exceeded counted %d times, want 2", got)
	}
}

// With a keys file, an application holds only a proxy token: a known one is
// swapped for the real key and attributes its calls; an unknown one is a 401 that
// never reaches the sandbox.
func TestProxyTokens(t *testing.T) {
	tok := "pxy_team_alpha_0123456789"
	keys, err := proxy.ParseKeys(strings.NewReader("# team alpha\n" + tok + " " + testKey + " alpha mobile\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{keys: keys})

	status, body := post(t, r.Base+"/responses", "pxy_unknown_token_0000000", map[string]any{"model": "mavera-1", "input": "hi"}, nil)
	if status != http.StatusUnauthorized || errorCode(body) != "invalid_api_key" {
		t.Fatalf("unknown token: %d %v, want 401 invalid_api_key", status, body)
	}
	status, _ = post(t, r.Base+"/responses", testKey, map[string]any{"model": "mavera-1", "input": "hi"}, nil)
	if status != http.StatusUnauthorized {
		t.Fatalf("a real key instead of a token: %d, want 401", status)
	}
	if n := r.sb.Stats()["POST /responses"]; n != 0 {
		t.Fatalf("the sandbox received %d requests, want 0", n)
	}
	c := sdk(r.Base, tok)
	resp, err := c.Responses.New(context.Background(), responses.ResponseNewParams{Model: "mavera-1", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	snap := r.snapshot()
	if got := snap.UsedBy[model.UsedByField("alpha", "mobile", "/responses")]; got != creditsOf(resp.Usage) || got != r.ledger().Used {
		t.Fatalf("alpha/mobile: Redis %d, SDK %d, sandbox %d", got, creditsOf(resp.Usage), r.ledger().Used)
	}

	// A token's grant wins over forged attribution headers: the spend stays in alpha/mobile.
	forged := map[string]string{proxy.WorkspaceHeader: "victim", proxy.ProjectHeader: "other", "X-Mavera-Workspace": "victim"}
	if status, body := post(t, r.Base+"/responses", tok, map[string]any{"model": "mavera-1", "input": "hi"}, forged); status != http.StatusOK {
		t.Fatalf("forged headers: %d %v", status, body)
	}
	// A body naming another workspace is refused before upstream.
	before := r.sb.Stats()["POST /mave/chat"]
	status, body = post(t, r.Base+"/mave/chat", tok, map[string]any{"message": "hi", "workspace_id": "victim"}, nil)
	if status != http.StatusForbidden || errorCode(body) != "workspace_not_granted" || r.sb.Stats()["POST /mave/chat"] != before {
		t.Fatalf("body workspace_id of another workspace: %d %v, want 403 workspace_not_granted, not forwarded", status, body)
	}
	r.settle()
	snap = r.snapshot()
	if snap.Used["victim"] != 0 || snap.Used["alpha"] != r.ledger().Used {
		t.Fatalf("victim charged %d, alpha %d, sandbox %d: a header moved a token's spend", snap.Used["victim"], snap.Used["alpha"], r.ledger().Used)
	}
}

// Eight applications call through the proxy at once for 60 s of sandbox time
// (chats plain and streamed, Mave, personas, focus groups polled to the end,
// across workspaces and projects, running into 402s): the Redis counters equal the
// sandbox's ledger to the credit, per workspace, project and endpoint.
func TestConcurrentClientsMatchLedger(t *testing.T) {
	// 3,000 credits in the account: the run ends in 402 credits_exhausted.
	// A fifth of the jobs fail (and are refunded): tracked as job_failed, 0 credits.
	r := newRig(t, rigOptions{sandbox: sandbox.Config{Allocation: 3000, FailRate: 0.2}})
	r.setWorkspace("w2", model.Settings{Allocation: 400})
	const clients, seconds = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runApp(r, i, seconds)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r.settle()
	snap := r.snapshot()
	l := r.ledger()
	if l.RunningJobs != 0 {
		t.Fatalf("%d jobs still running", l.RunningJobs)
	}
	var total int64
	for ws, wl := range l.Workspaces {
		if snap.Used[ws] != wl.Used {
			t.Errorf("%s: Redis %d, sandbox %d", ws, snap.Used[ws], wl.Used)
		}
		for ep, n := range wl.ByEndpoint {
			var got int64
			for f, v := range snap.UsedBy {
				if w, _, e, _ := model.SplitUsedByField(f); w == ws && e == ep {
					got += v
				}
			}
			if got != n {
				t.Errorf("%s %s: Redis %d, sandbox %d", ws, ep, got, n)
			}
		}
		for pid, pl := range wl.Projects {
			var got int64
			for f, v := range snap.UsedBy {
				if w, p, _, _ := model.SplitUsedByField(f); w == ws && p == pid {
					got += v
				}
			}
			if got != pl.Used {
				t.Errorf("%s/%s: Redis %d, sandbox %d", ws, pid, got, pl.Used)
			}
		}
		for code, n := range wl.Refused {
			var got int64
			for f, v := range snap.Refused {
				if w, _, c, _ := model.SplitRefusedField(f); w == ws && c == code {
					got += v
				}
			}
			if got != n {
				t.Errorf("%s refused %s: Redis %d, sandbox %d", ws, code, got, n)
			}
		}
		total += wl.Used
	}
	var redisTotal int64
	for _, v := range snap.Used {
		redisTotal += v
	}
	if redisTotal != l.Used || total != l.Used {
		t.Fatalf("total: Redis %d, sandbox %d (by workspace %d)", redisTotal, l.Used, total)
	}
	if l.Used < 1000 || len(l.Refused) == 0 {
		t.Fatalf("the run did not exercise enough: %d credits used, refusals %v", l.Used, l.Refused)
	}
	if r.px.PendingJobs() != 0 {
		t.Fatalf("%d jobs created through the proxy were never tracked", r.px.PendingJobs())
	}
	t.Logf("%d credits over %d requests, refusals %v, preflight refusals %d", l.Used, l.Requests, l.Refused,
		snap.Refused[model.RefusedField("w2", "batch", proxy.CodePreflightRefused)])
}

// runApp is one application: each second of sandbox time it makes a call, a
// different one by turn, and advances the clock by 1 s / clients.
func runApp(r *rig, app, seconds int) error {
	ws := []string{"w0", "w1", "w2"}[app%3]
	project := []string{"", "api", "batch"}[app%3]
	c := sdk(r.Base, testKey, option.WithHeader(proxy.WorkspaceHeader, ws), option.WithHeader(proxy.ProjectHeader, project))
	hdr := map[string]string{proxy.WorkspaceHeader: ws, proxy.ProjectHeader: project}
	ctx := context.Background()
	params := responses.ResponseNewParams{Model: "mavera-1", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("status?")}}
	for s := range seconds {
		var err error
		switch (s + app) % 6 {
		case 0, 3:
			_, err = c.Responses.New(ctx, params)
		case 1:
			st := c.Responses.NewStreaming(ctx, params)
			for st.Next() {
			}
			err = st.Err()
		case 2:
			_, err = call(r, http.MethodPost, "/mave/chat", map[string]any{"message": "What do buyers think?", "workspace_id": ws}, hdr)
		case 4:
			err = runFocusGroup(r, ws, hdr)
		case 5:
			if s%12 == 5 {
				_, err = call(r, http.MethodPost, "/personas", map[string]any{"name": "P", "type": "B2C", "pipeline_type": "north_star"}, hdr)
			}
		}
		if err != nil && !apiRefusal(err) {
			return fmt.Errorf("app %d second %d: %w", app, s, err)
		}
		r.clock.Advance(time.Second / 8)
	}
	return nil
}

// apiRefusal reports whether err is an API answer (402, 429), which the test expects.
func apiRefusal(err error) bool {
	var ae *openai.Error
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusPaymentRequired || ae.StatusCode == http.StatusTooManyRequests
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.status == http.StatusPaymentRequired || he.status == http.StatusTooManyRequests
	}
	return false
}

type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// call sends one request through the proxy with the test key.
func call(r *rig, method, path string, body any, hdr map[string]string) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, r.Base+path, rd)
	req.Header.Set("Authorization", "Bearer "+testKey)
	for k, v := range hdr {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, &httpError{status: resp.StatusCode, body: string(raw)}
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// runFocusGroup creates a small focus group and polls it until it finishes,
// moving the sandbox clock while it waits.
func runFocusGroup(r *rig, ws string, hdr map[string]string) error {
	fg, err := call(r, http.MethodPost, "/focus-groups", focusGroup(ws, 10, 2), hdr)
	if err != nil {
		return err
	}
	id, _ := fg["id"].(string)
	for range 1000 {
		got, err := call(r, http.MethodGet, "/focus-groups/"+id, nil, hdr)
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusTooManyRequests {
			r.clock.Advance(time.Second) // rate limited: wait on the sandbox's clock
			continue
		}
		if err != nil {
			return err
		}
		if st := got["status"]; st == "completed" || st == "failed" {
			return nil
		}
		r.clock.Advance(100 * time.Millisecond)
	}
	return fmt.Errorf("focus group %s never finished", id)
}

// The budget cache never admits what the live counters would refuse: with an
// entry that stays fresh for an hour, chats are admitted against what was read
// minus the estimates admitted since, so the workspace's spend stops within its
// allocation; a chat the cache cannot admit is judged live (and refused); after a
// recharge of the allocation the next chat goes through at once, because a refusal
// never comes from the cache.
func TestBudgetCacheNeverOveradmits(t *testing.T) {
	r := newRig(t, rigOptions{budgetCache: time.Hour})
	const allocation = 40
	r.setWorkspace("tight", model.Settings{Allocation: allocation})
	hdr := map[string]string{proxy.WorkspaceHeader: "tight"}
	chat := map[string]any{"model": "mavera-1", "input": "hi"}
	admitted, refused := 0, 0
	for range 40 {
		status, body := post(t, r.Base+"/responses", testKey, chat, hdr)
		r.settle() // the live reads see every charge: what differs is the cache alone
		switch {
		case status == http.StatusOK:
			admitted++
		case status == http.StatusPaymentRequired && errorCode(body) == proxy.CodePreflightRefused:
			refused++
		default:
			t.Fatalf("chat: %d %v", status, body)
		}
	}
	used := r.snapshot().Used["tight"]
	if used > allocation || used != r.ledger().Workspaces["tight"].Used {
		t.Fatalf("%d credits spent (sandbox %d) against an allocation of %d", used, r.ledger().Workspaces["tight"].Used, allocation)
	}
	cached := metric(t, r, "mavtop_proxy_preflight_cached_total")
	if admitted < 3 || refused == 0 || cached < 1 {
		t.Fatalf("%d admitted (%v from the cache), %d refused: the run did not exercise the cache", admitted, cached, refused)
	}
	r.setWorkspace("tight", model.Settings{Allocation: 1000})
	if status, body := post(t, r.Base+"/responses", testKey, chat, hdr); status != http.StatusOK {
		t.Fatalf("after the allocation was raised: %d %v", status, body)
	}
	t.Logf("%d chats admitted (%v from the cache), %d refused, %d credits", admitted, cached, refused, used)
}
