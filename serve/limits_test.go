package serve

import (
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// TestHugeWindowIsClampedAndTheSessionEndsWithItsClient (issue 10): one
// window-change to 65535×65535 used to grow the server by gigabytes and leave a
// session nobody could end. The size is clamped to MaxWidth × MaxHeight, the
// heap stays bounded, and the session and its viewer go when the client leaves.
func TestHugeWindowIsClampedAndTheSessionEndsWithItsClient(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	c, err := f.dial("mallory\x1b]2;owned\a", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 80, 24)
	tm.waitScreen(waitLong, "acme-prod")
	before := heapMB()
	tm.send("j")
	if err := tm.s.WindowChange(65535, 65535); err != nil {
		t.Fatal(err)
	}
	// A frame as wide as the clamp is drawn: a border of MaxWidth-2 cells.
	edge := strings.Repeat("─", MaxWidth-2)
	waitFor(t, waitLong, "a frame at the clamped width", func() bool { return strings.Contains(tm.screen(), edge) })
	if strings.Contains(tm.screen(), edge+"─") {
		t.Fatal("a line wider than MaxWidth was drawn")
	}
	for range 3 { // a few more frames at that size
		tm.send("j")
		time.Sleep(100 * time.Millisecond)
	}
	after := heapMB()
	t.Logf("heap %.1f MB before, %.1f MB after a 65535×65535 window-change (clamped to %d×%d)", before, after, MaxWidth, MaxHeight)
	if after-before > 64 {
		t.Fatalf("heap grew by %.1f MB after the window-change", after-before)
	}
	if log := f.log.String(); strings.Contains(log, "\x1b]2;owned") {
		t.Fatalf("the user name reached the log raw:\n%s", log)
	}
	_ = c.Close() // the client leaves without a word
	waitFor(t, waitLong, "the session torn down", func() bool { return len(f.srv.Sessions()) == 0 && f.hub.Viewers() == 0 })
}

// TestLoginSucceedsWhileUnauthenticatedConnectionsAreHeld (issue 10): 300 idle
// TCP connections used to be held without limit, locking out logins under a
// descriptor limit. Past MaxStartups the oldest authenticating connection is
// closed, a real login still gets in, and the rest time out.
func TestLoginSucceedsWhileUnauthenticatedConnectionsAreHeld(t *testing.T) {
	f := startFixture(t, fixtureOpts{limits: Limits{AuthTimeout: 3 * time.Second}})
	var held []net.Conn
	for range 300 {
		conn, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatalf("dial %d: %v", len(held), err)
		}
		held = append(held, conn)
	}
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	closedByServer := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		buf := make([]byte, 512)
		for {
			_, err := c.Read(buf)
			if err == io.EOF || err != nil && !isTimeout(err) {
				return true
			}
			if err != nil {
				return false
			}
		}
	}
	countClosed := func() int {
		n := 0
		for _, c := range held {
			if closedByServer(c) {
				n++
			}
		}
		return n
	}
	waitFor(t, waitLong, "the server to close all but MaxStartups", func() bool { return countClosed() >= 300-DefaultMaxStartups })
	c, err := f.dial("dave", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatalf("a real login while 300 connections are held: %v", err)
	}
	tm := openTerm(t, c, 80, 24)
	tm.waitScreen(waitLong, "acme-prod")
	// The authentication deadline closes the rest.
	waitFor(t, waitLong, "every held connection closed by the auth deadline", func() bool { return countClosed() == 300 })
	if len(f.srv.Sessions()) != 1 {
		t.Fatalf("%d sessions, want the one login", len(f.srv.Sessions()))
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestSessionLimitsPerKeyAndInTotal: a key past its sessions, or anyone past the
// server's, is told why and let go; the others keep theirs.
func TestSessionLimitsPerKeyAndInTotal(t *testing.T) {
	f := startFixture(t, fixtureOpts{limits: Limits{MaxSessions: 3, MaxSessionsPerKey: 2}})
	open := func(key gossh.Signer) *term {
		c, err := f.dial("dave", gossh.PublicKeys(key))
		if err != nil {
			t.Fatal(err)
		}
		return openTerm(t, c, 80, 24)
	}
	a, b := open(f.reader), open(f.reader)
	a.waitScreen(waitLong, "acme-prod")
	b.waitScreen(waitLong, "acme-prod")
	third := open(f.reader)
	third.waitScreen(waitLong, "this key has its maximum of sessions")
	waitFor(t, waitLong, "the refused session closed", third.closed)
	admin := open(f.admin)
	admin.waitScreen(waitLong, "acme-prod")
	fourth := open(f.admin)
	fourth.waitScreen(waitLong, "the server has its maximum of sessions")
	waitFor(t, waitLong, "the refused session closed", fourth.closed)
	if n := len(f.srv.Sessions()); n != 3 {
		t.Fatalf("%d sessions, want 3", n)
	}
}
