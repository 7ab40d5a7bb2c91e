package feed

import (
	"net"
	"sync"
	"testing"
)

// tcpProxy forwards TCP from a loopback port to a Redis and keeps both ends
// of every connection it made, so a test can cut them (cutAll) or send new
// ones elsewhere (target). pipe moves one connection's bytes both ways and
// closes both ends when either is done.
type tcpProxy struct {
	l      net.Listener
	pipe   func(client, server net.Conn)
	mu     sync.Mutex
	target string
	conns  []net.Conn
}

// startProxy listens on a free loopback port and forwards to target with
// pipe until the test ends, when it stops listening and cuts every connection.
func startProxy(t *testing.T, target string, pipe func(client, server net.Conn)) *tcpProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{l: l, pipe: pipe, target: target}
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		p.cutAll()
		p.mu.Unlock()
	})
	return p
}

func (p *tcpProxy) addr() string { return p.l.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.pipe(c, s)
	}
}

// cutAll closes every connection made so far; the caller holds p.mu.
func (p *tcpProxy) cutAll() {
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
