package feed

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/model"
)

// ConnectOptions say which Redis to use.
type ConnectOptions struct {
	// URL is redis://[user:pass@]host:port[/db] or rediss:// for TLS. Several
	// addresses separated by commas (URLs or host:port; credentials and TLS come
	// from the first) mean a Redis Cluster, or the Sentinels when SentinelMaster
	// is set.
	URL string
	// SentinelMaster is the master name to ask the Sentinels at URL for.
	SentinelMaster string
	// DialTimeout bounds connecting (5 s).
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for each reply, and each write (0:
	// go-redis's 5 s). A one-shot command gives its whole --redis-timeout,
	// which its context bounds too: without it a reply that takes longer
	// than 5 s to arrive (a hash of 100k workspaces) failed with "i/o
	// timeout" whatever --redis-timeout said.
	ReadTimeout time.Duration
	// MaxRetries is go-redis's per-command retry count (0: its default, -1: none,
	// and then one dial attempt per command: for callers with their own backoff).
	MaxRetries int
	// Protocol is the RESP version spoken (0: go-redis's default, RESP3 where
	// the server has it). 2 makes a hash's HGETALL reply a flat array, which
	// ReadWorkspaceSnapshot reads without building a map of it.
	Protocol int
	// OneShot is a client for one command's few reads (mavtop check): its
	// pipelines and MULTIs share the one connection its commands use, instead
	// of go-redis's dedicated pipeline pool (v9.23: PipelinePoolSize), which
	// dialled a second connection for the first MULTI (a connect, HELLO and
	// CLIENT SETINFO more, and 256 KiB of buffers), used once. That
	// connection reads through the pipeline pool's 128 KiB buffer
	// (redis.DefaultPipelineBufferSize), not go-redis's 32 KiB: a MULTI's
	// reply at 100k workspaces is ~15 MB, four times the read calls.
	OneShot bool
}

// NewClient builds a go-redis UniversalClient for opt without contacting Redis:
// a plain client for one address, a Cluster client for several, a failover
// client when SentinelMaster is set.
func NewClient(opt ConnectOptions) (redis.UniversalClient, error) {
	parts := strings.Split(opt.URL, ",")
	var uo redis.UniversalOptions
	for i, raw := range parts {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return nil, fmt.Errorf("redis address list %s has an empty entry", RedactURL(opt.URL))
		}
		if !strings.Contains(raw, "://") {
			if strings.Contains(raw, "@") {
				return nil, fmt.Errorf("redis address %s holds credentials: write redis://user:password@host:port", RedactURL(raw))
			}
			if !strings.Contains(raw, ":") {
				return nil, fmt.Errorf("redis address %s: want redis://host:port or host:port", RedactURL(raw))
			}
			uo.Addrs = append(uo.Addrs, raw)
			continue
		}
		o, err := redis.ParseURL(raw)
		if err != nil {
			// Not wrapped: the parser's message quotes the URL, password and all.
			return nil, fmt.Errorf("redis URL %s: %s (want redis://[user:password@]host:port[/db])", RedactURL(raw), urlProblem(err))
		}
		uo.Addrs = append(uo.Addrs, o.Addr)
		if i == 0 {
			uo.Username, uo.Password, uo.DB, uo.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
		}
	}
	if len(uo.Addrs) > 1 && uo.TLSConfig != nil {
		// Each node is verified against its own host name.
		uo.TLSConfig = uo.TLSConfig.Clone()
		uo.TLSConfig.ServerName = ""
	}
	if opt.SentinelMaster != "" {
		uo.MasterName = opt.SentinelMaster
		uo.SentinelUsername, uo.SentinelPassword = uo.Username, uo.Password
	} else if len(uo.Addrs) > 1 && uo.DB != 0 {
		return nil, errors.New("redis cluster has only database 0; drop the /db from the URL")
	}
	uo.DialTimeout = opt.DialTimeout
	if uo.DialTimeout <= 0 {
		uo.DialTimeout = 5 * time.Second
	}
	if opt.ReadTimeout > 0 {
		uo.ReadTimeout, uo.WriteTimeout = opt.ReadTimeout, opt.ReadTimeout
	}
	uo.MaxRetries = opt.MaxRetries
	if opt.MaxRetries < 0 {
		uo.DialerRetries = 1 // fail fast means the dial too: the caller retries
	}
	uo.ContextTimeoutEnabled = true
	uo.Protocol = opt.Protocol
	if opt.OneShot {
		uo.PipelinePoolSize = -1 // pipelines on the main pool (go-redis's doc)
		uo.ReadBufferSize = redis.DefaultPipelineBufferSize
	}
	return redis.NewUniversalClient(&uo), nil
}

// Connect is NewClient followed by a PING, so a wrong address or password shows
// at once. The caller closes the client.
func Connect(ctx context.Context, opt ConnectOptions) (redis.UniversalClient, error) {
	c, err := NewClient(opt)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if addr, ok := plainBehindTLS(opt.URL); ok {
			// not wrapped: the cause is the timeout, which a caller with a
			// backoff would retry as if the server were down
			return nil, fmt.Errorf("connect to redis %s: the TLS handshake did not complete: %s answers plain Redis, without TLS; use redis:// (was: %s)",
				RedactURL(opt.URL), addr, scrubSecrets(err.Error(), opt.URL))
		}
		if m := ExplainConnError(c, err); m != err {
			return nil, fmt.Errorf("connect to redis %s: %w", RedactURL(opt.URL), m)
		}
		return nil, &redactedError{msg: scrubSecrets(fmt.Sprintf("connect to redis %s: %v", RedactURL(opt.URL), err), opt.URL), err: err}
	}
	return c, nil
}

// TLSMismatchError is a plain-text (redis://) connection to a server that
// speaks only TLS: redis-server with only --tls-port drops the client, and
// go-redis said "EOF" or "connection reset by peer", which every retry loop
// (emit's --retry-for, the dashboard's reconnects) read as a server that is
// down, for ever. It wraps no network error: nothing retried will work.
type TLSMismatchError struct {
	// Addr is the server's address; Was is what the connection said.
	Addr, Was string
}

func (e *TLSMismatchError) Error() string {
	return fmt.Sprintf("%s: this server speaks TLS: use rediss:// (was: %s)", e.Addr, e.Was)
}

// Short is the error in a few words, as the dashboard's header shows it: at
// most 24 cells, what the header keeps of a reason at 80 columns.
func (e *TLSMismatchError) Short() string { return "TLS only: use rediss://" }

// ExplainConnError returns err, or a *TLSMismatchError when c speaks plain
// text and its server, asked once, speaks TLS. It asks only for an error of a
// connection the server closed (EOF, reset), what a TLS-only server does to
// a plain-text client, never for a refusal or a timeout; at most a second.
func ExplainConnError(c redis.UniversalClient, err error) error {
	if err == nil {
		return err
	}
	var pe *PlainServerError
	if errors.As(err, &pe) {
		return err
	}
	if addr := tlsAddr(c); addr != "" && handshakeStuck(err) && answersPlain(addr) {
		return &PlainServerError{Addr: addr, Was: err.Error()}
	}
	if !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return err
	}
	var addr string
	switch c := c.(type) {
	case *redis.Client:
		if o := c.Options(); o.TLSConfig == nil && o.Network != "unix" {
			addr = o.Addr
		}
	case *redis.ClusterClient:
		if o := c.Options(); o.TLSConfig == nil && len(o.Addrs) > 0 {
			addr = o.Addrs[0]
		}
	}
	if addr == "" || !speaksTLS(addr) {
		return err
	}
	return &TLSMismatchError{Addr: addr, Was: err.Error()}
}

// PlainServerError is a TLS (rediss://) connection to a server that speaks
// only plain text: the server waits for a command and the TLS handshake for
// its answer, until a deadline, which every retry loop read as a server that
// is down (the dashboard's header said "context deadline exceeded", for
// ever). It wraps no network error: nothing retried will work.
type PlainServerError struct {
	// Addr is the server's address; Was is what the connection said.
	Addr, Was string
}

func (e *PlainServerError) Error() string {
	return fmt.Sprintf("%s: the TLS handshake did not complete: this server answers plain Redis, without TLS: use redis:// (was: %s)", e.Addr, e.Was)
}

// Short is the error in a few words, as the dashboard's header shows it: at
// most 24 cells, what the header keeps of a reason at 80 columns.
func (e *PlainServerError) Short() string { return "no TLS: use redis://" }

// tlsAddr is the address c dials with TLS, or "" when it speaks plain text.
func tlsAddr(c redis.UniversalClient) string {
	switch c := c.(type) {
	case *redis.Client:
		if o := c.Options(); o.TLSConfig != nil && o.Network != "unix" {
			return o.Addr
		}
	case *redis.ClusterClient:
		if o := c.Options(); o.TLSConfig != nil && len(o.Addrs) > 0 {
			return o.Addrs[0]
		}
	}
	return ""
}

// handshakeStuck reports an error a TLS client gets from a plain-text
// server: a deadline (the server waits for a command's end of line), or a
// record that is no TLS at all (the server answered the ClientHello as
// a command). Never a refusal: nothing listens there.
func handshakeStuck(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// answersPlain reports whether addr answers a plain-text PING as Redis does
// (PONG, or an error such as NOAUTH): at most a second.
func answersPlain(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return false
	}
	return strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") || strings.HasPrefix(line, "-ERR")
}

// speaksTLS reports whether addr answers a TLS ClientHello as a TLS server
// does: the handshake completes, or the server sends a TLS alert (a client
// certificate it requires). Only the protocol is asked: no certificate is
// checked and nothing is sent over the connection.
func speaksTLS(addr string) bool {
	d := &net.Dialer{Timeout: time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a probe of the protocol, no data sent
	if err == nil {
		_ = conn.Close()
		return true
	}
	var alert tls.AlertError
	return errors.As(err, &alert)
}

// redactedError carries an error whose text was scrubbed of the URL's
// credentials; errors.Is and As still see the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// urlProblem names what is wrong with a Redis URL without quoting it: the URL
// parser's own messages quote the URL, or the part of it around the fault,
// which may be the password.
func urlProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid URL escape"):
		return "a % not followed by two hex digits (write % in a password as %25)"
	case strings.Contains(msg, "invalid port"):
		return "the port is not a number (a password with : or @ must be %-escaped)"
	case strings.Contains(msg, "missing ']'"):
		return "an IPv6 host lacks its closing ]"
	case strings.Contains(msg, "invalid URL scheme"):
		return "the scheme is not redis://, rediss:// or unix://"
	case strings.Contains(msg, "database number"), strings.Contains(msg, "URL path"):
		return "the path is not a database number"
	case strings.Contains(msg, "control character"), strings.Contains(msg, "invalid character"):
		return "it holds a space or control character"
	}
	return "it is not a valid URL"
}

// scrubSecrets removes from msg every password written in urls (as given and
// %-decoded), for text that may quote a URL whatever RedactURL did.
func scrubSecrets(msg, urls string) string {
	for _, p := range strings.Split(urls, ",") {
		_, rest, ok := strings.Cut(p, "://")
		if !ok {
			continue
		}
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			continue
		}
		cred := rest[:at]
		if _, pw, ok := strings.Cut(cred, ":"); ok {
			cred = pw
		}
		if len(cred) < 3 {
			continue // too short to scrub without mangling the text; RedactURL hid it
		}
		msg = strings.ReplaceAll(msg, cred, "xxxxx")
		if dec, err := url.PathUnescape(cred); err == nil && len(dec) >= 3 {
			msg = strings.ReplaceAll(msg, dec, "xxxxx")
		}
	}
	return msg
}

// RedactURL hides the password of a Redis URL, or of each of a comma-separated
// list: redis://user:xxxxx@host:6379/0. The last "@" ends the credentials, so a
// password holding an unescaped "@" is still hidden.
func RedactURL(url string) string {
	parts := strings.Split(model.Sanitize(url), ",")
	for i, p := range parts {
		scheme, rest, ok := strings.Cut(p, "://")
		if !ok {
			rest = p // host:port, or credentials written without a scheme
		}
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			continue
		}
		cred, host := rest[:at], rest[at+1:]
		if user, _, ok := strings.Cut(cred, ":"); ok {
			cred = user + ":xxxxx"
		} else {
			cred = "xxxxx"
		}
		if ok {
			parts[i] = scheme + "://" + cred + "@" + host
		} else {
			parts[i] = cred + "@" + host
		}
	}
	return strings.Join(parts, ",")
}

// plainBehindTLS reports whether the first address of a rediss:// URL answers
// a plain-text PING as Redis does (+PONG, or an error reply such as -NOAUTH):
// a server without TLS, where the TLS handshake waits for ever and go-redis
// says only "context deadline exceeded". It returns that address. It asks at
// most for a second, only after a connection failed.
func plainBehindTLS(urls string) (string, bool) {
	first, _, _ := strings.Cut(urls, ",")
	if !strings.HasPrefix(strings.TrimSpace(first), "rediss://") {
		return "", false
	}
	o, err := redis.ParseURL(strings.TrimSpace(first))
	if err != nil {
		return "", false
	}
	return o.Addr, answersPlain(o.Addr)
}
