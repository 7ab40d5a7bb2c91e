package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// RetryPolicy says when and how long the client retries.
//
// The rule:
//   - 400, 401, 402, 403, 404 and other 4xx: never retried (402 above all: retrying
//     cannot conjure credits).
//   - 429: retried after Retry-After (or DefaultRetryAfter when absent), at most
//     MaxRateLimitRetries times; a Retry-After longer than MaxRetryAfter is returned to
//     the caller instead of waited for. Creations are retried too: a 429 means the
//     API refused the request before doing anything.
//   - 5xx and connection errors: reads (GET) are retried up to MaxRetries times with
//     capped exponential backoff and jitter. Creations (POST) are not idempotent and
//     the API offers no idempotency key, so they are retried only after a connection
//     error that happened before a single byte of the request was written (the API
//     cannot have seen it); after a 5xx or a timeout the job may exist and may have
//     been charged, so the error is returned and reconciliation settles the count.
//   - A cancelled context ends every wait at once.
type RetryPolicy struct {
	// MaxRetries is the retries after a 5xx or connection error (default 3; negative: none).
	MaxRetries int
	// BaseDelay is the first retry's longest wait (default 500 ms): each retry waits
	// between half and all of min(MaxDelay, BaseDelay·2ⁿ) for the n-th (0-based).
	BaseDelay time.Duration
	// MaxDelay caps every backoff wait (default 8 s).
	MaxDelay time.Duration
	// MaxRateLimitRetries is how many 429s in a row are waited out (default 3; negative: none).
	MaxRateLimitRetries int
	// MaxRetryAfter is the longest Retry-After waited for (default 60 s).
	MaxRetryAfter time.Duration
	// DefaultRetryAfter is the wait after a 429 without Retry-After (default 5 s).
	DefaultRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = 3
	}
	if p.MaxRetries < 0 {
		p.MaxRetries = 0
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 8 * time.Second
	}
	if p.MaxRateLimitRetries == 0 {
		p.MaxRateLimitRetries = 3
	}
	if p.MaxRateLimitRetries < 0 {
		p.MaxRateLimitRetries = 0
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 60 * time.Second
	}
	if p.DefaultRetryAfter <= 0 {
		p.DefaultRetryAfter = 5 * time.Second
	}
	return p
}

// TransportError is a call that got no HTTP answer: connection refused, reset,
// timeout. Its message never holds the API key.
type TransportError struct {
	// Method and Path say which call failed ("POST", "/focus-groups").
	Method, Path string
	// MayHaveReached is false when not a byte of the request was written, so the API
	// cannot have seen it.
	MayHaveReached bool
	msg            string
	err            error
}

// Error says which call failed and why.
func (e *TransportError) Error() string { return e.Method + " " + e.Path + ": " + e.msg }

// Unwrap returns the underlying error (url.Error, net.OpError, context errors).
func (e *TransportError) Unwrap() error { return e.err }

// request is one API call.
type request struct {
	method string
	// path is relative to the base URL, ids included ("/focus-groups/clx1").
	path  string
	query url.Values
	body  any
	// create marks a non-idempotent creation (see RetryPolicy).
	create bool
}

// reply is what the caller learns about a successful exchange.
type reply struct {
	status    int
	requestID string
}

// maxBody bounds what the client reads of a response.
const maxBody = 8 << 20

// send performs req with the retry rule and decodes a 2xx body into out (nil:
// discard). It returns *APIError for a non-2xx answer, *MalformedResponseError for a
// 2xx that is not JSON, *TransportError when no answer came, or ctx's error.
func (c *Client) send(ctx context.Context, req request, out any) (reply, error) {
	sh := c.sh
	if sh.key == "" {
		return reply{}, ErrNoAPIKey
	}
	var payload []byte
	if req.body != nil {
		var err error
		if payload, err = json.Marshal(req.body); err != nil {
			return reply{}, fmt.Errorf("%s %s: encode request: %w", req.method, req.path, err)
		}
	}
	target := sh.base + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	retries, limited := 0, 0
	for {
		status, hdr, body, err := c.exchange(ctx, req, target, payload)
		if err != nil {
			if ctx.Err() != nil {
				return reply{}, fmt.Errorf("%s %s: %w", req.method, req.path, ctx.Err())
			}
			var te *TransportError
			retryable := errors.As(err, &te) && (!req.create || !te.MayHaveReached)
			if retryable && retries < sh.retry.MaxRetries {
				if werr := sh.clock.Sleep(ctx, sh.backoff.Delay(retries+1)); werr != nil {
					return reply{}, fmt.Errorf("%s %s: %w", req.method, req.path, werr)
				}
				retries++
				continue
			}
			return reply{}, err
		}
		rid := hdr.Get("X-Request-Id")
		if status >= 200 && status < 300 {
			if out != nil {
				if err := json.Unmarshal(body, out); err != nil {
					return reply{status: status, requestID: rid}, &MalformedResponseError{
						Status: status, Method: req.method, Path: req.path,
						Snippet: sh.red.snippet(body, 200), Err: err,
					}
				}
			}
			return reply{status: status, requestID: rid}, nil
		}
		apiErr := c.parseError(req, status, hdr, body)
		switch {
		case status == http.StatusTooManyRequests:
			wait := apiErr.RetryAfter
			if wait <= 0 {
				wait = sh.retry.DefaultRetryAfter
			}
			if limited >= sh.retry.MaxRateLimitRetries || wait > sh.retry.MaxRetryAfter {
				return reply{}, apiErr
			}
			// A little jitter so that clients refused together do not return together.
			if werr := sh.clock.Sleep(ctx, wait+sh.backoff.Jitter(wait/10+time.Millisecond)); werr != nil {
				return reply{}, fmt.Errorf("waiting out a 429: %w", werr)
			}
			limited++
			continue
		case status >= 500 && !req.create && retries < sh.retry.MaxRetries:
			wait := sh.backoff.Delay(retries + 1)
			if apiErr.RetryAfter > wait && apiErr.RetryAfter <= sh.retry.MaxRetryAfter {
				wait = apiErr.RetryAfter
			}
			if werr := sh.clock.Sleep(ctx, wait); werr != nil {
				return reply{}, fmt.Errorf("%s %s: %w", req.method, req.path, werr)
			}
			retries++
			continue
		}
		return reply{}, apiErr
	}
}

// exchange sends one HTTP request and reads the answer.
func (c *Client) exchange(ctx context.Context, req request, target string, payload []byte) (int, http.Header, []byte, error) {
	sh := c.sh
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteHeaderField: func(string, []string) { wrote.Store(true) }}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), req.method, target, body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %s", req.method, req.path, sh.red.clean(err.Error()))
	}
	hreq.Header.Set("Authorization", "Bearer "+sh.key)
	hreq.Header.Set("Accept", "application/json")
	if payload != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hreq.Header.Set("User-Agent", "mavtop")
	// The sandbox attributes calls by these (sandbox/assumptions.go); the real API
	// documents no such headers.
	if c.scope.Workspace != "" {
		hreq.Header.Set("X-Mavera-Workspace", c.scope.Workspace)
	}
	if c.scope.Project != "" {
		hreq.Header.Set("X-Mavera-Project", c.scope.Project)
	}
	resp, err := sh.http.Do(hreq)
	if err != nil {
		return 0, nil, nil, &TransportError{
			Method: req.method, Path: req.path, MayHaveReached: wrote.Load(),
			msg: sh.red.clean(err.Error()), err: err,
		}
	}
	defer resp.Body.Close()
	sh.rate.record(resp.Header, sh.clock.Now())
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, &TransportError{
			Method: req.method, Path: req.path, MayHaveReached: true,
			msg: "reading the response: " + sh.red.clean(err.Error()), err: err,
		}
	}
	return resp.StatusCode, resp.Header, data, nil
}

// parseError builds the *APIError of a non-2xx answer. A body that is not the
// documented {"error":{…}} JSON (an HTML page from a proxy, say) still gives an
// APIError with the status and an excerpt, so status-based helpers keep working.
func (c *Client) parseError(req request, status int, hdr http.Header, body []byte) *APIError {
	red := c.sh.red
	e := &APIError{
		Status: status, Method: req.method, Path: req.path,
		RequestID:  red.clean(hdr.Get("X-Request-Id")),
		RetryAfter: parseRetryAfter(hdr.Get("Retry-After"), c.sh.clock.Now()),
	}
	var env struct {
		Error *struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    string          `json:"code"`
			Param   json.RawMessage `json:"param"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
		if len(bytes.TrimSpace(body)) == 0 {
			e.Message = "empty body"
		} else {
			e.Message = fmt.Sprintf("body is not the documented error JSON: %q", red.snippet(body, 200))
		}
		return e
	}
	e.Type = red.clean(env.Error.Type)
	e.Code = red.clean(env.Error.Code)
	e.Message = red.clean(env.Error.Message)
	var param string
	if json.Unmarshal(env.Error.Param, &param) == nil {
		e.Param = red.clean(param)
	}
	return e
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
