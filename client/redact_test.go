package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"mavtop/client"
	"mavtop/client/sandbox"
)

// TestKeyNeverLeaks makes calls fail in every way, against a server that echoes the
// Authorization header into bodies and headers, and checks that no error message,
// tracked event or user message holds the key.
func TestKeyNeverLeaks(t *testing.T) {
	ctx := context.Background()
	echoErr := `{"error":{"message":"bad key {{auth}}","type":"authentication_error","code":"invalid_api_key","param":"{{auth}}"}}`
	cases := []struct {
		name   string
		status int
		body   string
		hdr    map[string]string
	}{
		{"401 echoing the key", 401, echoErr, nil},
		{"402 echoing the key", 402, `{"error":{"message":"no credits for {{auth}}","type":"insufficient_credits","code":"credits_exhausted"}}`, nil},
		{"429 echoing the key", 429, echoErr, map[string]string{"Retry-After": "3600"}},
		{"500 HTML echoing the key", 500, "<html>{{auth}}</html>", nil},
		{"200 malformed echoing the key", 200, "{{{auth}}", nil},
		{"400 with the key in the request id", 400, echoErr, map[string]string{"X-Request-Id": "{{auth}}"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := statusServer(t, tc.status, tc.body, tc.hdr)
			tr := client.NewMemoryTracker(true)
			c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey(testKey), client.WithClock(newJumpClock()),
				client.WithTracker(tr, "acme-prod", ""), client.WithRetry(client.RetryPolicy{MaxRetries: -1}))
			if err != nil {
				t.Fatal(err)
			}
			calls := []func() error{
				func() error { _, err := c.Usage(ctx); return err },
				func() error { _, err := c.CreateResponse(ctx, client.ResponseRequest{Input: "x"}); return err },
				func() error { _, err := c.CreateFocusGroup(ctx, sampleFocusGroup("w", 5, 1)); return err },
			}
			for i, call := range calls {
				err := call()
				if err == nil {
					t.Fatalf("call %d succeeded", i)
				}
				assertNoKey(t, "error", err.Error())
				assertNoKey(t, "error %#v", fmt.Sprintf("%#v", err))
				var ae *client.APIError
				if errors.As(err, &ae) {
					raw, _ := json.Marshal(ae)
					assertNoKey(t, "APIError fields", string(raw))
				}
				um, _ := json.Marshal(client.UserMessage(err))
				assertNoKey(t, "user message", string(um))
			}
			for _, ev := range tr.Events() {
				raw, _ := json.Marshal(ev)
				assertNoKey(t, "event", string(raw))
			}
		})
	}

	// Transport failures: refused connection, timeout.
	e := newEnv(t, sandbox.Config{}, client.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	e.sb.InjectFault(sandbox.Fault{Path: "/*", Hang: true, Times: 100})
	if _, err := e.c.Usage(ctx); err == nil {
		t.Fatal("hung call succeeded")
	} else {
		assertNoKey(t, "timeout error", err.Error())
	}
	e.sb.ClearFaults()
	dead, _ := client.New(client.WithBaseURL("http://127.0.0.1:1"), client.WithAPIKey(testKey), client.WithRetry(client.RetryPolicy{MaxRetries: -1}))
	if _, err := dead.Usage(ctx); err == nil {
		t.Fatal("dead server answered")
	} else {
		assertNoKey(t, "connection error", err.Error())
	}
}
