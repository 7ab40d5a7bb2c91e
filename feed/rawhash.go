package feed

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
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
// again.
type rawHash []byte

// errRawReply is a reply that is no array of bulk strings (go-redis read it
// as valid RESP, so only a server answering something else than HGETALL's
// reply gives it).
var errRawReply = errors.New("HGETALL: the reply is no array of strings")

// replyError is an error reply inside EXEC's (the key of another type:
// WRONGTYPE): a redis.Error, as go-redis's own for the same reply.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

// pairs is how many fields the reply holds; the error is the server's
// (replyError) or errRawReply.
func (r rawHash) pairs() (int, error) {
	if len(r) > 0 && r[0] == '-' {
		line, _, _ := bytes.Cut(r[1:], []byte("\r\n"))
		return 0, replyError(line)
	}
	n, at, ok := r.header('*', 0)
	if n == -1 { // a nil array: no field
		n = 0
	}
	if !ok || n < 0 || n%2 != 0 {
		return 0, fmt.Errorf("%w (%.40q)", errRawReply, []byte(r))
	}
	for i := 0; i < n; i++ {
		l, next, ok := r.header('$', at)
		if !ok || l < 0 || next+l+2 > len(r) {
			return 0, fmt.Errorf("%w (element %d)", errRawReply, i)
		}
		at = next + l + 2
	}
	return n / 2, nil
}

// all yields every field and its value, in Redis's order, as strings of the
// reply's buffer; nothing when the reply is no such array (pairs says why).
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

// header reads the line at r[at:], kind and a length ("$12\r\n"), and returns
// the length and where the line's data begins.
func (r rawHash) header(kind byte, at int) (n, next int, ok bool) {
	if at >= len(r) || r[at] != kind {
		return 0, 0, false
	}
	end := bytes.Index(r[at:], []byte("\r\n"))
	if end < 0 {
		return 0, 0, false
	}
	n, err := strconv.Atoi(unsafe.String(unsafe.SliceData(r[at+1:]), end-1))
	return n, at + end + 2, err == nil
}
