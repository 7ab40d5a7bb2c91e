package client

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimitInfo is the latest X-RateLimit-* headers the API sent.
type RateLimitInfo struct {
	// Known is false until a response carried the headers.
	Known bool
	// Limit is the requests allowed per window (per minute, per key).
	Limit int
	// Remaining is the requests left in the window.
	Remaining int
	// Reset is when the window frees up (X-RateLimit-Reset, a Unix time).
	Reset time.Time
	// Seen is when the headers arrived (client clock).
	Seen time.Time
}

type rateState struct {
	mu   sync.Mutex
	info RateLimitInfo
}

// record keeps the headers of a response that carried them.
func (r *rateState) record(h http.Header, now time.Time) {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err1 != nil || err2 != nil {
		return
	}
	info := RateLimitInfo{Known: true, Limit: limit, Remaining: remaining, Seen: now}
	if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		info.Reset = time.Unix(reset, 0)
	}
	r.mu.Lock()
	if !r.info.Seen.After(now) {
		r.info = info
	}
	r.mu.Unlock()
}

// RateLimit returns the latest rate-limit headers, so a screen can show requests left.
func (c *Client) RateLimit() RateLimitInfo {
	c.sh.rate.mu.Lock()
	defer c.sh.rate.mu.Unlock()
	return c.sh.rate.info
}
