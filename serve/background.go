package serve

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"time"
)

// BackgroundTimeout bounds how long a session waits for its terminal to say
// its background colour (OSC 11) before it draws with the default (dark)
// palette: a terminal that never answers costs this much, once.
const BackgroundTimeout = 300 * time.Millisecond

// backgroundQuery asks for the background colour (OSC 11), then for the
// device attributes (DA1), which every terminal answers: a DA1 reply before
// any OSC 11 reply says the terminal will not answer the first, so the
// session need not wait out the timeout.
const backgroundQuery = "\x1b]11;?\x07\x1b[c"

// sessionInput reads a session's input in a goroutine of its own, so that the
// background query can wait with a timeout, and takes the terminal's replies
// to the query out of what the dashboard reads, whenever they come: a late
// reply would otherwise reach the dashboard as alt+] and digits, and digits
// are what a number field takes.
type sessionInput struct {
	chunks chan chunk
	buf    []byte // bytes read and filtered, not yet handed out
	carry  []byte // the start of a reply cut by a read, kept for the next
	err    error  // the read's error, once buf is drained
}

type chunk struct {
	b   []byte
	err error
}

// newSessionInput starts reading r until it fails or ctx ends (the session
// is over: nobody reads any more).
func newSessionInput(ctx context.Context, r io.Reader) *sessionInput {
	in := &sessionInput{chunks: make(chan chunk, 8)}
	go func() {
		for {
			b := make([]byte, 4096)
			n, err := r.Read(b)
			select {
			case in.chunks <- chunk{b[:n], err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return in
}

// Read hands out the session's input without the terminal's replies.
func (in *sessionInput) Read(p []byte) (int, error) {
	for len(in.buf) == 0 {
		if in.err != nil {
			return 0, in.err
		}
		c := <-in.chunks
		in.take(c)
	}
	n := copy(p, in.buf)
	in.buf = in.buf[n:]
	return n, nil
}

// take filters a chunk into buf; it returns the background reply and whether
// a DA1 reply was in it.
func (in *sessionInput) take(c chunk) (bg string, da1 bool) {
	if c.err != nil {
		in.err = c.err
	}
	data := append(in.carry, c.b...)
	in.carry = nil
	var rest []byte
	rest, bg, da1, in.carry = stripReplies(data)
	if c.err != nil && len(in.carry) > 0 { // no more input: what was held is input
		rest, in.carry = append(rest, in.carry...), nil
	}
	in.buf = append(in.buf, rest...)
	return bg, da1
}

// probe asks the terminal behind w for its background and waits at most
// timeout for the answer. answered is false when the terminal said nothing
// in time or said it does not know (its DA1 reply came first); input typed
// meanwhile is kept for the dashboard.
func (in *sessionInput) probe(w io.Writer, timeout time.Duration) (dark, answered bool) {
	if _, err := io.WriteString(w, backgroundQuery); err != nil {
		return true, false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true, false
		case c := <-in.chunks:
			bg, da1 := in.take(c)
			if bg != "" {
				if d, ok := darkFromOSC11(bg); ok {
					return d, true
				}
			}
			if da1 || c.err != nil {
				return true, false
			}
		}
	}
}

// stripReplies takes the terminal's replies to the background query out of
// b: OSC 11 ("ESC ] 11 ; rgb:… BEL" or "… ESC \") and DA1 ("ESC [ ? … c"). It
// returns the rest, the last background reply's colour ("rgb:…"), whether a
// DA1 reply was seen, and the start of a reply cut at the end of b (to be
// completed by the next read). A lone ESC or ESC ] / ESC [ at the end is not
// held: it may be a key, and keys must not wait.
func stripReplies(b []byte) (rest []byte, bg string, da1 bool, carry []byte) {
	rest = make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if b[i] != 0x1b {
			rest = append(rest, b[i])
			i++
			continue
		}
		tail := b[i:]
		switch {
		case bytes.HasPrefix(tail, []byte("\x1b]11;")):
			end, n := oscEnd(tail)
			if end < 0 {
				return rest, bg, da1, append([]byte(nil), tail...)
			}
			bg = string(tail[len("\x1b]11;"):end])
			i += n
		case bytes.HasPrefix(tail, []byte("\x1b[?")):
			j := 3
			for j < len(tail) && (tail[j] >= '0' && tail[j] <= '9' || tail[j] == ';') {
				j++
			}
			switch {
			case j == len(tail):
				return rest, bg, da1, append([]byte(nil), tail...)
			case tail[j] == 'c':
				da1 = true
				i += j + 1
			default: // another sequence (a key, a mode report): input
				rest = append(rest, tail[:j]...)
				i += j
			}
		case len(tail) >= 3 && isPrefix(tail, "\x1b]11;"):
			return rest, bg, da1, append([]byte(nil), tail...)
		default:
			rest = append(rest, b[i])
			i++
		}
	}
	return rest, bg, da1, nil
}

// oscEnd finds the end of the OSC sequence at the start of b: the index of its
// terminator and the sequence's length with it; -1 when it is not complete.
func oscEnd(b []byte) (end, n int) {
	for j := 2; j < len(b); j++ {
		switch {
		case b[j] == 0x07:
			return j, j + 1
		case b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\':
			return j, j + 2
		case b[j] == 0x1b && j+1 == len(b):
			return -1, 0
		}
	}
	return -1, 0
}

// isPrefix reports whether b is a proper prefix of s.
func isPrefix(b []byte, s string) bool { return len(b) < len(s) && strings.HasPrefix(s, string(b)) }

// darkFromOSC11 reads an OSC 11 reply's colour ("rgb:RRRR/GGGG/BBBB", one to
// four hex digits a component, or rgba:): dark when its HSL lightness is
// below one half, as termenv decides.
func darkFromOSC11(v string) (dark, ok bool) {
	spec, found := strings.CutPrefix(v, "rgb:")
	if !found {
		if spec, found = strings.CutPrefix(v, "rgba:"); !found {
			return false, false
		}
	}
	parts := strings.Split(spec, "/")
	if len(parts) < 3 {
		return false, false
	}
	var c [3]float64
	for i := range c {
		p := parts[i]
		if len(p) < 1 || len(p) > 4 {
			return false, false
		}
		n, err := strconv.ParseUint(p, 16, 16)
		if err != nil {
			return false, false
		}
		c[i] = float64(n) / float64(uint64(1)<<(4*len(p))-1)
	}
	lightness := (max(c[0], c[1], c[2]) + min(c[0], c[1], c[2])) / 2
	return lightness < 0.5, true
}
