package feed

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Embedded is an in-process Redis (miniredis) for demo mode and for tests on a
// machine without redis-server. It speaks the same protocol, so everything in
// this package works on it; see the README for what it lacks (XINFO STREAM has
// no max-deleted-entry-id, so gap detection falls back to the first entry).
type Embedded struct {
	m *miniredis.Miniredis
	c redis.UniversalClient
}

// StartEmbedded starts an embedded Redis on a free loopback port.
func StartEmbedded() (*Embedded, error) {
	m, err := miniredis.Run()
	if err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	c, err := NewClient(ConnectOptions{URL: "redis://" + m.Addr()})
	if err != nil {
		m.Close()
		return nil, err
	}
	return &Embedded{m: m, c: c}, nil
}

// Addr returns host:port.
func (e *Embedded) Addr() string { return e.m.Addr() }

// URL returns redis://host:port, for mavtop --redis or REDIS_URL.
func (e *Embedded) URL() string { return "redis://" + e.m.Addr() }

// Client returns a client connected to the embedded server (shared; do not close).
func (e *Embedded) Client() redis.UniversalClient { return e.c }

// Close stops the server and closes the client.
func (e *Embedded) Close() {
	_ = e.c.Close()
	e.m.Close()
}
