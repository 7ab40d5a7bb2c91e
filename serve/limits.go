package serve

import (
	"context"
	"net"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
)

// Resource limits of the SSH server. An SSH peer is untrusted until it has
// authenticated, and an authorized key is still not trusted with the server's
// memory, descriptors or CPU: every limit below holds whatever a peer sends.
const (
	// MaxWidth and MaxHeight clamp a session's terminal size (PTY request and
	// window changes): a frame costs O(width × height) to draw and to keep, so
	// a window of 65535×65535 would cost gigabytes. 500×200 is more than any
	// screen shows at a readable font; a larger terminal gets a 500×200 frame.
	MaxWidth  = 500
	MaxHeight = 200
	// DefaultAuthTimeout is how long a connection may take to authenticate
	// before it is closed (OpenSSH's LoginGraceTime, shorter).
	DefaultAuthTimeout = 15 * time.Second
	// DefaultMaxStartups is how many connections may be authenticating at once
	// (OpenSSH's MaxStartups). Past it the oldest such connection is closed, so
	// idle connections cannot hold the server's descriptors and a new login
	// still gets its chance.
	DefaultMaxStartups = 64
	// DefaultMaxSessions bounds sessions in total. A session at MaxWidth ×
	// MaxHeight holds about 30 MB (measured: TestHugeWindowIsClamped…), so 32
	// bound the dashboards' memory near 1 GB whatever the viewers ask.
	DefaultMaxSessions = 32
	// DefaultMaxSessionsPerKey bounds the sessions of one public key.
	DefaultMaxSessionsPerKey = 8
)

// Limits are the server's resource limits; zero fields take the defaults above.
type Limits struct {
	// AuthTimeout closes a connection not authenticated within it.
	AuthTimeout time.Duration
	// MaxStartups is the most connections authenticating at once.
	MaxStartups int
	// MaxSessions is the most sessions at once; authenticated connections are
	// bounded by MaxSessions + MaxStartups.
	MaxSessions int
	// MaxSessionsPerKey is the most sessions of one public key at once.
	MaxSessionsPerKey int
}

func (l *Limits) fill() {
	if l.AuthTimeout <= 0 {
		l.AuthTimeout = DefaultAuthTimeout
	}
	if l.MaxStartups <= 0 {
		l.MaxStartups = DefaultMaxStartups
	}
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultMaxSessions
	}
	if l.MaxSessionsPerKey <= 0 {
		l.MaxSessionsPerKey = DefaultMaxSessionsPerKey
	}
}

// clampSize is the program's message filter: a window size past MaxWidth ×
// MaxHeight (or below zero) is clamped before the dashboard or the renderer
// sees it, so drawing costs what is drawn, not what was asked.
func clampSize(_ tea.Model, msg tea.Msg) tea.Msg {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		ws.Width = min(max(ws.Width, 0), MaxWidth)
		ws.Height = min(max(ws.Height, 0), MaxHeight)
		return ws
	}
	return msg
}

// conns tracks the live connections for the startup and total limits.
type conns struct {
	mu   sync.Mutex
	live map[*liveConn]struct{}
	// seq numbers connections in order of arrival: max-startups evicts the
	// oldest by it, with no clock (a test's fixed Options.Now would tie them).
	seq uint64
}

type liveConn struct {
	ctx  ssh.Context
	conn net.Conn
	seq  uint64
}

// authenticated reports whether the handshake finished: the ssh package sets
// the connection in the context only then.
func (c *liveConn) authenticated() bool { return c.ctx.Value(ssh.ContextKeyConn) != nil }

// admit is the server's ConnCallback. It refuses a connection when
// MaxSessions + MaxStartups are authenticated (a connection may hold no
// session, or one that was refused), closes the oldest authenticating
// connection when MaxStartups are, and closes this one if it has not
// authenticated within AuthTimeout.
func (s *Server) admit(ctx ssh.Context, conn net.Conn) net.Conn {
	lim := s.opt.Limits
	c := &liveConn{ctx: ctx, conn: conn}
	s.conns.mu.Lock()
	s.conns.seq++
	c.seq = s.conns.seq
	var pending []*liveConn
	authed := 0
	for lc := range s.conns.live {
		if lc.authenticated() {
			authed++
		} else {
			pending = append(pending, lc)
		}
	}
	if authed >= lim.MaxSessions+lim.MaxStartups {
		s.conns.mu.Unlock()
		s.log.Warn("ssh connection refused: too many connections", "remote", conn.RemoteAddr().String(), "authenticated", authed)
		return nil
	}
	var evict *liveConn
	if len(pending) >= lim.MaxStartups {
		for _, p := range pending {
			if evict == nil || p.seq < evict.seq {
				evict = p
			}
		}
		delete(s.conns.live, evict)
	}
	s.conns.live[c] = struct{}{}
	s.conns.mu.Unlock()
	if evict != nil {
		s.log.Debug("ssh connection closed: too many authenticating (max-startups)", "remote", evict.conn.RemoteAddr().String())
		_ = evict.conn.Close()
	}
	context.AfterFunc(ctx, func() {
		s.conns.mu.Lock()
		delete(s.conns.live, c)
		s.conns.mu.Unlock()
	})
	deadline := time.AfterFunc(lim.AuthTimeout, func() {
		if !c.authenticated() {
			s.log.Debug("ssh connection closed: not authenticated in time", "remote", conn.RemoteAddr().String(), "after", lim.AuthTimeout.String())
			_ = conn.Close()
		}
	})
	context.AfterFunc(ctx, func() { deadline.Stop() })
	return conn
}

// register adds sess to the live sessions unless that would pass the total or
// per-key limit; then it returns why not, and adds nothing. Check and insert
// are one step, so concurrent logins cannot both take the last place.
func (s *Server) register(sess *Session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.opt.Limits.MaxSessions {
		return "the server has its maximum of sessions; try again later"
	}
	n := 0
	for other := range s.sessions {
		if other.Fingerprint == sess.Fingerprint {
			n++
		}
	}
	if n >= s.opt.Limits.MaxSessionsPerKey {
		return "this key has its maximum of sessions open; close one first"
	}
	s.sessions[sess] = struct{}{}
	return ""
}
