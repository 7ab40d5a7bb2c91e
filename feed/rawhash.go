package feed

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"
)

// rawHash is an HGETALL reply as a RESP2 server sends it and go-redis's
// RawCmd keeps it, byte for byte: an array of bulk strings, each field
// followed by its value ("*4\r\n$2\r\nws\r\n$3\r\n120\r\n..."), or an error
// reply ("-WRONGTYPE ...\r\n") when the key cannot be read. Its strings are
// read in place (all): one buffer a hash, where go-redis's StringSliceCmd
// allocated a string for each field and each value (two allocations a
// workspace a hash, a third of mavtop check's own CPU at 10k workspaces).
// The strings all yields share the reply's buffer, which nothing writes
// again. go-redis read the reply as RESP (every length it holds was
// followed), so only its shape is checked here.
type rawHash []byte

// errRawReply is a reply that is no array of bulk strings: a server that
// answers HGETALL with something else.
var errRawReply = errors.New("HGETALL: the reply is no array of strings")

// replyError is an error reply inside EXEC's (the key of another type:
// WRONGTYPE): a redis.Error, as go-redis's own for the same reply.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

// err is the server's error reply (replyError), or errRawReply for a reply
// that is no array.
func (r rawHash) err() error {
	if len(r) > 0 && r[0] == '-' {
		line, _, _ := bytes.Cut(r[1:], []byte("\r\n"))
		return replyError(line)
	}
	if n, _, ok := r.header('*', 0); !ok || n < -1 || n%2 == 1 { // *-1: a nil array, no field
		return fmt.Errorf("%w (%.40q)", errRawReply, []byte(r))
	}
	return nil
}

// pairs is how many fields the reply holds (0 for an error reply).
func (r rawHash) pairs() int {
	n, _, ok := r.header('*', 0)
	if !ok || n < 0 || n%2 != 0 {
		return 0
	}
	return n / 2
}

// all yields every field and its value, in Redis's order, as strings of the
// reply's buffer; it stops at an element that is no bulk string.
func (r rawHash) all(yield func(field, value string) bool) {
	n, at, ok := r.header('*', 0)
	if !ok || n%2 != 0 {
		return
	}
	var kv [2]string
	for i := 0; i < n; i++ {
		l, next, ok := r.header('$', at)
		if !ok || l < 0 || next+l+2 > len(r) {
			return
		}
		kv[i%2] = unsafe.String(unsafe.SliceData(r[next:]), l)
		at = next + l + 2
		if i%2 == 1 && !yield(kv[0], kv[1]) {
			return
		}
	}
}

// header reads the line at r[at:]: kind and a length ("$12\r\n", "*-1\r\n"),
// and returns the length and where the line's data begins.
func (r rawHash) header(kind byte, at int) (n, next int, ok bool) {
	if at >= len(r) || r[at] != kind {
		return 0, 0, false
	}
	i, neg := at+1, false
	if i < len(r) && r[i] == '-' {
		i, neg = i+1, true
	}
	start := i
	for ; i < len(r) && r[i] >= '0' && r[i] <= '9'; i++ {
		n = n*10 + int(r[i]-'0')
		if n > 1<<40 {
			return 0, 0, false
		}
	}
	if i == start || i+1 >= len(r) || r[i] != '\r' || r[i+1] != '\n' {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	return n, i + 2, true
}
