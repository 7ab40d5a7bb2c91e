package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/model"
)

func TestAuthErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})

	// No key: refused before any request.
	nokey, err := client.New(client.WithBaseURL(e.srv.URL + sandbox.BasePath))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nokey.Usage(ctx); !errors.Is(err, client.ErrNoAPIKey) || !client.IsAuth(err) {
		t.Fatalf("no key: %v", err)
	}
	if n := e.count("GET /usage"); n != 0 {
		t.Fatalf("a keyless client sent %d requests", n)
	}

	// A malformed key: the documented 401 body.
	bad, _ := client.New(client.WithBaseURL(e.srv.URL+sandbox.BasePath), client.WithAPIKey("mvra_live_short"))
	_, err = bad.Usage(ctx)
	ae, ok := client.AsAPIError(err)
	if !ok || ae.Status != 401 || ae.Type != "authentication_error" || ae.Code != "invalid_api_key" || !client.IsAuth(err) {
		t.Fatalf("malformed key: %#v", err)
	}

	// A revoked key; the refusal of a creation is tracked (status 401) and not retried.
	e.sb.RevokeKey(testKey)
	_, err = e.c.CreateResponse(ctx, client.ResponseRequest{Input: "hi"})
	if ae, ok := client.AsAPIError(err); !ok || ae.Code != "revoked_api_key" || !client.IsAuth(err) {
		t.Fatalf("revoked key: %v", err)
	}
	if n := e.count("POST /responses"); n != 0 { // 401s are answered before routing and not counted
		t.Logf("sandbox counted %d", n)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Status != 401 || evs[0].Code != "revoked_api_key" || evs[0].Credits != 0 {
		t.Fatalf("events: %+v", evs)
	}
	if um := client.UserMessage(err); um.Error != "authentication_failed" || um.ActionURL != client.APIKeysURL {
		t.Fatalf("user message: %+v", um)
	}
}

func TestCreditsExhaustedIsNotRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{Allocation: 100})
	_, err := e.c.CreatePersona(ctx, client.PersonaRequest{Name: "Ops lead", Type: "B2B"})
	if !client.IsCreditsExhausted(err) || client.IsBudgetExceeded(err) || !client.IsPaymentRequired(err) {
		t.Fatalf("want credits_exhausted, got %v", err)
	}
	ae, _ := client.AsAPIError(err)
	if ae.Type != "insufficient_credits" || ae.RequestID == "" || ae.Message == "" {
		t.Fatalf("402 error: %+v", ae)
	}
	if n := e.count("POST /personas"); n != 1 {
		t.Fatalf("402 sent %d times, want exactly 1 (never retried)", n)
	}
	if s := e.clock.Slept(); len(s) != 0 {
		t.Fatalf("client waited %v after a 402", s)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Status != 402 || evs[0].Code != model.CodeCreditsExhausted || evs[0].Credits != 0 ||
		evs[0].Endpoint != "/personas" || evs[0].Msg == "" || evs[0].Req != ae.RequestID || !evs[0].Refused() {
		t.Fatalf("tracked: %+v", evs)
	}
	um := client.UserMessage(err)
	if um.Success || um.Error != "credits_exhausted" || um.ActionURL != "https://app.mavera.io/settings/billing" || !strings.Contains(um.Message, "run out of credits") {
		t.Fatalf("user message: %+v", um)
	}
	if l := e.ledger(); l.Used != 0 || l.Refused["credits_exhausted"] != 1 {
		t.Fatalf("ledger: %+v", l)
	}
}

func TestBudgetExceededWorkspaceAndProject(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	if err := e.sb.ConfigureWorkspace(testKey, sandbox.WorkspaceConfig{ID: "globex", UsageLimit: 400,
		Projects: map[string]sandbox.ProjectConfig{"batch": {UsageLimit: 40}}}); err != nil {
		t.Fatal(err)
	}
	g := e.c.In("globex", "")
	if _, err := g.CreatePersona(ctx, client.PersonaRequest{Name: "A", Type: "B2C"}); err != nil {
		t.Fatal(err)
	}
	// The project's limit (40) bites long before the workspace's (400).
	pb := e.c.In("globex", "batch")
	var refused error
	for i := 0; i < 20 && refused == nil; i++ {
		_, refused = pb.MaveChat(ctx, client.MaveChatRequest{Message: "Quick check on brand sentiment.", WorkspaceID: "globex"})
	}
	if !client.IsBudgetExceeded(refused) || !strings.Contains(refused.Error(), "project") {
		t.Fatalf("project limit: %v", refused)
	}
	var last model.Event
	for _, ev := range e.events() {
		last = ev
	}
	if last.Workspace != "globex" || last.Project != "batch" || last.Code != model.CodeBudgetExceeded || last.Status != 402 {
		t.Fatalf("last event: %+v", last)
	}
	// Then the workspace's.
	_, err := g.CreatePersona(ctx, client.PersonaRequest{Name: "B", Type: "B2C"})
	if !client.IsBudgetExceeded(err) || client.IsCreditsExhausted(err) || !strings.Contains(err.Error(), "workspace") {
		t.Fatalf("workspace limit: want budget_exceeded, got %v", err)
	}
	if um := client.UserMessage(err); um.Error != "budget_exceeded" || um.ActionURL != client.WorkspaceBudgetURL {
		t.Fatalf("user message: %+v", um)
	}
	if n := e.count("POST /personas"); n != 2 {
		t.Fatalf("POST /personas sent %d times, want 2", n)
	}
	l := e.ledger()
	gl := l.Workspaces["globex"]
	if gl.Refused["budget_exceeded"] != 2 || gl.Projects["batch"].Refused["budget_exceeded"] != 1 || gl.Projects["batch"].Used > 40 {
		t.Fatalf("ledger: %+v", gl)
	}
}

func TestRateLimitWaitsForRetryAfter(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	e.sb.InjectFault(sandbox.Fault{Method: "POST", Path: "/responses", Status: 429, RetryAfter: 7})
	resp, err := e.c.CreateResponse(ctx, client.ResponseRequest{Input: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.count("POST /responses"); n != 2 {
		t.Fatalf("POST sent %d times, want 2 (429, then success)", n)
	}
	slept := e.clock.Slept()
	if len(slept) != 1 || slept[0] < 7*time.Second || slept[0] > 8*time.Second {
		t.Fatalf("waited %v, want Retry-After 7 s (+ ≤10 %% jitter)", slept)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Status != 200 || evs[0].Credits != resp.Credits() {
		t.Fatalf("a call that succeeded after a 429 must publish once, its success: %+v", evs)
	}

	// A Retry-After beyond the bound is handed back, not slept through.
	e.sb.InjectFault(sandbox.Fault{Path: "/usage", Status: 429, RetryAfter: 3600})
	_, err = e.c.Usage(ctx)
	if ae, ok := client.AsAPIError(err); !ok || !client.IsRateLimited(err) || ae.RetryAfter != time.Hour {
		t.Fatalf("long Retry-After: %v", err)
	}
	if len(e.clock.Slept()) != 1 {
		t.Fatalf("slept through a one-hour Retry-After: %v", e.clock.Slept())
	}
}

func TestRateLimitSlidingWindow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{RateLimit: 3})
	for i := 0; i < 3; i++ {
		if _, err := e.c.Usage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rl := e.c.RateLimit()
	if !rl.Known || rl.Limit != 3 || rl.Remaining != 0 || !rl.Reset.After(e.clock.Now()) {
		t.Fatalf("rate limit after 3 of 3: %+v", rl)
	}
	// The fourth waits out the window (Retry-After ≈ 60 s) and then succeeds.
	if _, err := e.c.Usage(ctx); err != nil {
		t.Fatal(err)
	}
	slept := e.clock.Slept()
	if len(slept) != 1 || slept[0] < 60*time.Second || slept[0] > 67*time.Second {
		t.Fatalf("waited %v, want about 60 s", slept)
	}
	if rl := e.c.RateLimit(); rl.Remaining != 2 {
		t.Fatalf("after the window slid: %+v", rl)
	}

	// Cancellation ends the wait at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	e.clock.Advance(-time.Nanosecond) // stay inside the window
	for i := 0; i < 3; i++ {
		e.c.Usage(ctx)
	}
	if _, err := e.c.Usage(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestServerErrorRetryRule(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})

	// A read: 500, then success.
	e.sb.InjectFault(sandbox.Fault{Method: "GET", Path: "/usage", Status: 500})
	if _, err := e.c.Usage(ctx); err != nil {
		t.Fatalf("500 then success: %v", err)
	}
	if n := e.count("GET /usage"); n != 2 {
		t.Fatalf("GET /usage sent %d times, want 2", n)
	}
	if s := e.clock.Slept(); len(s) != 1 || s[0] < 250*time.Millisecond || s[0] > 500*time.Millisecond {
		t.Fatalf("backoff %v, want 250–500 ms", s)
	}

	// Reads give up after MaxRetries, with growing, capped backoff.
	e.sb.InjectFault(sandbox.Fault{Method: "GET", Path: "/usage", Status: 503, Times: 10})
	_, err := e.c.Usage(ctx)
	if ae, ok := client.AsAPIError(err); !ok || ae.Status != 503 || ae.Code != "service_unavailable" {
		t.Fatalf("persistent 503: %v", err)
	}
	if n := e.count("GET /usage"); n != 2+4 {
		t.Fatalf("GET /usage sent %d times in all, want 6 (1 + 3 retries)", n)
	}
	s := e.clock.Slept()[1:]
	if len(s) != 3 || s[1] < 500*time.Millisecond || s[2] < time.Second || s[2] > 2*time.Second {
		t.Fatalf("backoffs %v", s)
	}
	e.sb.ClearFaults()

	// A creation: a 500 is not retried (the job may exist), and its outcome is tracked.
	e.sb.InjectFault(sandbox.Fault{Method: "POST", Path: "/focus-groups", Status: 500})
	_, err = e.c.CreateFocusGroup(ctx, sampleFocusGroup("acme-prod", 10, 2))
	if ae, ok := client.AsAPIError(err); !ok || ae.Status != 500 {
		t.Fatalf("POST 500: %v", err)
	}
	if n := e.count("POST /focus-groups"); n != 1 {
		t.Fatalf("POST /focus-groups sent %d times, want 1", n)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Status != 500 || evs[0].Code != "internal_error" || evs[0].Credits != 0 {
		t.Fatalf("events: %+v", evs)
	}
	if um := client.UserMessage(err); um.Error != "service_unavailable" {
		t.Fatalf("user message: %+v", um)
	}
}

func TestTimeout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{}, client.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}))

	// A read that times out once is retried.
	e.sb.InjectFault(sandbox.Fault{Path: "/usage", Hang: true})
	if _, err := e.c.Usage(ctx); err != nil {
		t.Fatalf("timeout then success: %v", err)
	}
	if n := e.count("GET /usage"); n != 2 {
		t.Fatalf("GET /usage sent %d times, want 2", n)
	}

	// A creation that times out is not: the API may have it.
	e.sb.InjectFault(sandbox.Fault{Method: "POST", Path: "/mave/chat", Hang: true})
	_, err := e.c.MaveChat(ctx, client.MaveChatRequest{Message: "Slow one"})
	var te *client.TransportError
	if !errors.As(err, &te) || !te.MayHaveReached {
		t.Fatalf("POST timeout: %#v", err)
	}
	if n := e.count("POST /mave/chat"); n != 1 {
		t.Fatalf("POST /mave/chat sent %d times, want 1", n)
	}
	if len(e.events()) != 0 {
		t.Fatalf("a call without an HTTP answer has no status to track: %+v", e.events())
	}
	if um := client.UserMessage(err); um.Error != "unavailable" {
		t.Fatalf("user message: %+v", um)
	}

	// A context deadline ends a call the same way, without retry.
	e.sb.InjectFault(sandbox.Fault{Path: "/usage", Hang: true})
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := e.c.Usage(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
}

func TestMalformedBodies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})

	e.sb.InjectFault(sandbox.Fault{Path: "/usage", Status: 200, Body: `{"object":"usage","credits":{"used":`})
	_, err := e.c.Usage(ctx)
	var me *client.MalformedResponseError
	if !errors.As(err, &me) || me.Status != 200 || !strings.Contains(me.Snippet, `"credits"`) || !strings.Contains(err.Error(), "200") {
		t.Fatalf("malformed 200: %v", err)
	}

	// A creation answered with garbage: tracked with code malformed_response.
	e.sb.InjectFault(sandbox.Fault{Method: "POST", Path: "/responses", Status: 200, Body: "<html>oops</html>", AfterHandling: true})
	if _, err := e.c.CreateResponse(ctx, client.ResponseRequest{Input: "hi"}); !errors.As(err, &me) {
		t.Fatalf("malformed creation: %v", err)
	}
	evs := e.events()
	if len(evs) != 1 || evs[0].Code != "malformed_response" || evs[0].Status != 200 || evs[0].Credits != 0 {
		t.Fatalf("events: %+v", evs)
	}

	// An error status with a non-JSON body still is an *APIError with the status.
	e.sb.InjectFault(sandbox.Fault{Path: "/usage", Status: 502, Body: "<html>Bad gateway</html>", Times: 4})
	_, err = e.c.Usage(ctx)
	ae, ok := client.AsAPIError(err)
	if !ok || ae.Status != 502 || !strings.Contains(ae.Message, "Bad gateway") || ae.Code != "" {
		t.Fatalf("502 HTML: %v", err)
	}
	// An empty error body.
	e.sb.InjectFault(sandbox.Fault{Path: "/workspaces", Status: 404, Body: " "})
	_, err = e.c.ListWorkspaces(ctx, client.ListWorkspacesParams{})
	if ae, ok := client.AsAPIError(err); !ok || ae.Status != 404 || ae.Message != "empty body" {
		t.Fatalf("empty 404: %v", err)
	}
}

func TestConnectionErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	// Dropped connections on a read are retried.
	e.sb.InjectFault(sandbox.Fault{Path: "/usage", Disconnect: true, Times: 2})
	if _, err := e.c.Usage(ctx); err != nil {
		t.Fatalf("disconnect twice then success: %v", err)
	}
	// A refused connection cannot have reached the API: even a creation is retried,
	// and the error says so.
	dead, _ := client.New(client.WithBaseURL("http://127.0.0.1:1/api/v1"), client.WithAPIKey(testKey), client.WithClock(e.clock))
	before := len(e.clock.Slept())
	_, err := dead.CreatePersona(ctx, client.PersonaRequest{Name: "x", Type: "B2B"})
	var te *client.TransportError
	if !errors.As(err, &te) || te.MayHaveReached {
		t.Fatalf("refused connection: %#v", err)
	}
	if n := len(e.clock.Slept()) - before; n != 3 {
		t.Fatalf("retried %d times, want 3", n)
	}
	assertNoKey(t, "transport error", err.Error())
}
