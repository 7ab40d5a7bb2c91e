package feedtest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ExecCut is a TCP proxy in front of a Redis for tests of a lost write or
// reply: it forwards every byte until a client sends EXEC while it is armed
// (Arm; StartExecCut arms CutAfterExec), cuts that client off there, once,
// and is PassThrough again. With refuse it also stops listening and cuts every
// other connection then, so the client cannot ask what happened (a Redis gone
// right after EXEC); without, the others and later ones are forwarded as before.
type ExecCut struct {
	// Addr is host:port and URL is redis://host:port/0 of the proxy.
	Addr, URL string

	l      net.Listener
	target string
	refuse bool
	mode   atomic.Int32 // a CutMode
	cuts   atomic.Int32
	mu     sync.Mutex
	conns  []net.Conn
	// closed: every connection was closed (Redis gone, or the test ended);
	// one accepted meanwhile is closed at once, never left open to Redis
	closed bool
}

// CutMode is what an ExecCut does at the next EXEC.
type CutMode int32

const (
	// PassThrough forwards EXEC and its reply.
	PassThrough CutMode = iota
	// CutBeforeExec cuts the client off instead of passing EXEC on: Redis
	// discards the MULTI, nothing is written.
	CutBeforeExec
	// CutAfterExec passes EXEC on, waits until Redis has answered (the MULTI
	// ran), drops the answer and cuts the client off: written, reply lost.
	CutAfterExec
)

// Arm sets what the proxy does at the next EXEC (one cut an arming).
func (p *ExecCut) Arm(m CutMode) { p.mode.Store(int32(m)) }

// StartExecCut listens on a free loopback port and forwards to target until
// the test ends, armed to cut the first EXEC after it ran (CutAfterExec).
func StartExecCut(t testing.TB, target string, refuse bool) *ExecCut {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ExecCut{Addr: l.Addr().String(), URL: "redis://" + l.Addr().String() + "/0", l: l, target: target, refuse: refuse}
	p.Arm(CutAfterExec)
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.closeAll()
	})
	return p
}

// closeAll closes every connection, and any accepted from now on.
func (p *ExecCut) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
}

// Cuts is how many connections were cut at an EXEC (one an arming).
func (p *ExecCut) Cuts() int { return int(p.cuts.Load()) }

func (p *ExecCut) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			// accepted before the listener closed, added after closeAll ran:
			// before, it stayed open to Redis ("Redis gone" answered)
			p.mu.Unlock()
			c.Close()
			s.Close()
			continue
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		var swallow atomic.Bool
		answered := make(chan struct{}, 1)
		go func() { // server → client; once swallowing, only note the answer
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 {
					if swallow.Load() {
						select {
						case answered <- struct{}{}:
						default:
						}
					} else if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go p.upstream(c, s, &swallow, answered)
	}
}

// exec is how a client sends EXEC (RESP, any case).
var execCmd = []byte("$4\r\nexec\r\n")

// upstream copies client → server and cuts the connection at an EXEC while
// the proxy is armed.
func (p *ExecCut) upstream(c, s net.Conn, swallow *atomic.Bool, answered <-chan struct{}) {
	defer s.Close()
	buf := make([]byte, 64<<10)
	// the last bytes of what was read before: a pipeline may reach the
	// proxy in several reads, EXEC split across two (the cut then missed,
	// and the MULTI went through: a flake of TestEmitEventIDMakesRetriesSafe
	// under -race, exit 0 where 3 was wanted)
	var tail []byte
	for {
		n, err := c.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			look := bytes.ToLower(append(append([]byte(nil), tail...), chunk...))
			tail = append(tail[:0], look[len(look)-min(len(look), len(execCmd)-1):]...)
			mode := CutMode(p.mode.Load())
			if mode != PassThrough && bytes.Contains(look, execCmd) && p.mode.CompareAndSwap(int32(mode), int32(PassThrough)) {
				swallow.Store(true)
				if p.refuse {
					p.l.Close()
				}
				if mode == CutAfterExec {
					if _, werr := s.Write(chunk); werr == nil {
						select { // the MULTI's replies, EXEC's last, come in one write
						case <-answered:
						case <-time.After(10 * time.Second):
						}
					}
				} // else never sent: the MULTI is discarded when s closes
				p.cuts.Add(1)
				if p.refuse {
					// Redis gone: every connection, pooled ones too, before
					// the client sees this one cut (closed after it, a pooled
					// connection still open read the event back and emit
					// said "Redis confirmed the write", exit 0 where 3 was
					// wanted: 1 run in 15 under load)
					p.closeAll()
				}
				c.Close()
				return
			}
			if _, werr := s.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
