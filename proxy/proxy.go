// Package proxy is `mavtop proxy`: a reverse proxy in front of the Mavera API that
// tracks every answer's credits into the usage stream, pre-flights priced jobs
// against the workspace's remaining credits and local budgets, and otherwise
// forwards requests and answers unchanged. Applications only change their base URL.
package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mavtop/client"
	"mavtop/estimator"
	"mavtop/model"
)

// Headers an application may send to attribute its calls; they are not forwarded.
const (
	// WorkspaceHeader names the workspace of a call whose body has no workspace_id.
	WorkspaceHeader = "X-Mavtop-Workspace"
	// ProjectHeader names the project of a call.
	ProjectHeader = "X-Mavtop-Project"
)

// Upstream attribution headers, as the mavtop client sends them (the sandbox
// attributes calls by them; the real API ignores them).
const (
	upstreamWorkspace = "X-Mavera-Workspace"
	upstreamProject   = "X-Mavera-Project"
	requestIDHeader   = "X-Request-Id"
)

// Defaults of Config.
const (
	// DefaultUpstream is the real API's base URL.
	DefaultUpstream = "https://app.mavera.io/api/v1"
	// DefaultMaxBody bounds a request body.
	DefaultMaxBody = 16 << 20
	// DefaultUpstreamTimeout bounds the wait for upstream's response headers (a
	// Mave answer takes 30–90 s).
	DefaultUpstreamTimeout = 3 * time.Minute
	// DefaultBudgetTimeout bounds the pre-flight's read of the budgets.
	DefaultBudgetTimeout = 250 * time.Millisecond
	// DefaultDrainTimeout bounds how long the proxy goes on reading an answer its
	// application left in the middle of, to learn what the call was charged.
	DefaultDrainTimeout = 30 * time.Second
	// maxDrain bounds the bytes read from such an answer.
	maxDrain = 64 << 20
)

// Config configures a Proxy.
type Config struct {
	// Upstream is the API base URL requests go to (DefaultUpstream). The proxy
	// serves the same paths: base_url = http://host:8787/api/v1.
	Upstream string
	// Workspace attributes calls that name none (client.DefaultWorkspace).
	Workspace string
	// Keys, when set, replaces proxy tokens by real API keys; an unknown token is
	// refused with 401. Nil: every Authorization is forwarded as it came.
	Keys *Keys
	// Budgets, when set, turns on the pre-flight check; nil forwards everything.
	Budgets Budgets
	// Queue receives the usage events; required.
	Queue *Queue
	// MaxBody bounds a request body in bytes (DefaultMaxBody); larger is a 413.
	MaxBody int64
	// UpstreamTimeout bounds the wait for upstream's response headers (DefaultUpstreamTimeout).
	UpstreamTimeout time.Duration
	// BudgetCache is how long a budget read may judge the chats and Mave questions
	// after it (DefaultBudgetCache); negative: every priced call reads the live
	// counters. Jobs and personas always do. See budgetCache for the rule.
	BudgetCache time.Duration
	// BudgetTimeout bounds the pre-flight's read of the budgets (DefaultBudgetTimeout);
	// past it the request goes ahead unchecked (counted).
	BudgetTimeout time.Duration
	// DrainTimeout bounds how long an answer is read on after its application went
	// away (DefaultDrainTimeout): its usage, usually at the end, says what was charged.
	DrainTimeout time.Duration
	// JobPoll is how long a job created through the proxy may go without a poll
	// through it before the proxy polls it upstream itself (DefaultJobPoll);
	// negative: never, such jobs are then recorded as untracked. See jobs.go.
	JobPoll time.Duration
	// Transport sends requests upstream (a tuned *http.Transport).
	Transport http.RoundTripper
	// Now stamps events (time.Now).
	Now func() time.Time
	// Log receives upstream errors, refusals and skipped checks; never a key.
	Log *slog.Logger
	// PeriodUnreadable, when set, says why the stored billing-period config
	// the proxy's tracking or pre-flight read last cannot be read ("" when it
	// can): /metrics' mavtop_proxy_period_config_unreadable. The
	// (*feed.PeriodLog).Unreadable that the Queue's publisher and the
	// Budgets share is one; it also says it in the log, once per change.
	PeriodUnreadable func() string
}

// Proxy is the http.Handler of `mavtop proxy`: the API paths under the upstream's
// base path, and /metrics. It is safe for concurrent use.
type Proxy struct {
	cfg     Config
	up      *url.URL
	base    string
	rp      *httputil.ReverseProxy
	m       *metrics
	metrics http.Handler
	jobs    jobs
	budgets *budgetCache
	log     *slog.Logger

	lastSkip atomic.Int64
}

// New returns a proxy for cfg.
func New(cfg Config) (*Proxy, error) {
	if cfg.Upstream == "" {
		cfg.Upstream = DefaultUpstream
	}
	up, err := url.Parse(cfg.Upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, fmt.Errorf("upstream %q is not an http(s) URL", cfg.Upstream)
	}
	if cfg.Queue == nil {
		return nil, errors.New("proxy: no tracking queue")
	}
	if cfg.Workspace == "" {
		cfg.Workspace = client.DefaultWorkspace
	}
	if !model.IsID(cfg.Workspace) {
		return nil, fmt.Errorf("workspace %q is not 1–64 of [A-Za-z0-9._:-]", cfg.Workspace)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.UpstreamTimeout <= 0 {
		cfg.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if cfg.BudgetTimeout <= 0 {
		cfg.BudgetTimeout = DefaultBudgetTimeout
	}
	if cfg.BudgetCache == 0 {
		cfg.BudgetCache = DefaultBudgetCache
	}
	if cfg.JobPoll == 0 {
		cfg.JobPoll = DefaultJobPoll
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport(cfg.UpstreamTimeout)
	}
	p := &Proxy{cfg: cfg, up: up, base: strings.TrimSuffix(up.Path, "/"), log: cfg.Log,
		jobs: jobs{m: map[string]*pendingJob{}}}
	p.m = newMetrics(cfg.Queue, p.PendingJobs, cfg.PeriodUnreadable)
	if cfg.BudgetCache > 0 {
		p.budgets = &budgetCache{ttl: cfg.BudgetCache}
	}
	p.metrics = promhttp.HandlerFor(p.m.reg, promhttp.HandlerOpts{Registry: p.m.reg})
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      cfg.Transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
	}
	return p, nil
}

// NewTransport returns the upstream transport: keep-alive connections enough for
// hundreds of requests a second, bounded dial, TLS and header waits.
func NewTransport(headerTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// Server returns an http.Server for the proxy with bounded header and body reads
// and idle keep-alive connections closed after idle.
func (p *Proxy) Server(idle time.Duration) *http.Server {
	return &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
}

// bufferPool recycles the 32 kB copy buffers of the reverse proxy, so streaming
// large bodies does not allocate per request.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// exchange is one request on its way through, shared with the response side.
type exchange struct {
	method   string
	rel      string // path below the base, "/focus-groups/clx1"
	endpoint string // its template, "/focus-groups/{id}"
	ws       string
	project  string
	grant    *Grant
	op       string
	est      int64
	// bodyWS is the request body's workspace_id, set when a streamed body was read to its end.
	bodyWS atomic.Pointer[string]
	status int
	reqID  string
	// in is the application's request context; the upstream request of a call that
	// may spend runs on a context of its own (see rewrite), cancelled by cancelUp.
	in       context.Context
	cancelUp context.CancelFunc
	// auth is the Authorization sent upstream (a created job's polls reuse it).
	auth string
	// metered is set once an answer came and a meter owns the upstream request.
	metered atomic.Bool
}

// spends reports whether a call of this method may be charged (reads are free).
func spends(method string) bool { return method != http.MethodGet && method != http.MethodHead }

type exchangeKey struct{}

// ServeHTTP forwards API requests and serves /metrics.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		p.metrics.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w}
	endpoint := "other"
	// Deferred: the reverse proxy aborts the handler with a panic when the copy of
	// an answer fails, and such a request is still counted.
	defer func() { p.m.observe(endpoint, rw.code(), time.Since(start).Seconds()) }()
	p.serve(rw, r, &endpoint)
}

// serve handles one API request and sets endpoint to its template for the metrics.
func (p *Proxy) serve(w *statusWriter, r *http.Request, endpoint *string) {
	rel, ok := strings.CutPrefix(r.URL.Path, p.base)
	if !ok || !apiPath(rel) || strings.Contains(r.URL.RawPath, "%") {
		writeError(w, http.StatusNotFound, "not_found_error", "resource_not_found",
			"mavtop proxy forwards only API paths under "+p.base+"/ (set your base URL to http://this-host"+p.base+").", "")
		return
	}
	x := &exchange{method: r.Method, rel: rel, endpoint: Template(rel), in: r.Context()}
	*endpoint = x.endpoint
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, POST, PATCH, PUT, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "Method "+r.Method+" is not forwarded.", "")
		return
	}
	if p.cfg.Keys != nil {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		g, ok := p.cfg.Keys.Lookup(tok)
		if !ok {
			p.m.unauth.Inc()
			writeError(w, http.StatusUnauthorized, "authentication_error", "invalid_api_key",
				"Unknown proxy token: this mavtop proxy only accepts the tokens of its keys file.", "")
			return
		}
		x.grant = &g
	}
	if !p.attribute(w, r, x) {
		return
	}
	if r.ContentLength > p.cfg.MaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
			fmt.Sprintf("The request body is larger than this proxy's limit of %d bytes.", p.cfg.MaxBody), "")
		return
	}
	var jb *jobBody
	if r.Body != nil && r.Body != http.NoBody {
		body := http.MaxBytesReader(w, r.Body, p.cfg.MaxBody)
		if r.Method == http.MethodPost && bodyEndpoints[x.endpoint] {
			raw, err := io.ReadAll(body)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
						fmt.Sprintf("The request body is larger than this proxy's limit of %d bytes.", p.cfg.MaxBody), "")
				}
				return
			}
			jb = &jobBody{}
			if json.Unmarshal(raw, jb) != nil {
				jb = nil
			} else if model.IsID(jb.WorkspaceID) {
				if x.grant != nil && jb.WorkspaceID != x.grant.Workspace {
					writeError(w, http.StatusForbidden, "permission_error", "workspace_not_granted",
						"This proxy token is granted workspace "+x.grant.Workspace+" only; the body's workspace_id names another.", "workspace_id")
					return
				}
				x.ws = jb.WorkspaceID
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
		} else {
			r.Body = &bodyScan{rc: body, x: x}
		}
	}
	if r.Method == http.MethodPost && p.cfg.Budgets != nil {
		if q, ok := quote(x.endpoint, jb, r.Header); ok {
			x.op, x.est = string(q.Op), q.Estimate
			if p.refuse(w, r, x, q) {
				return
			}
		}
	}
	defer func() {
		if x.cancelUp != nil && !x.metered.Load() {
			x.cancelUp()
		}
	}()
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
}

// attribute settles the call's workspace and project from the headers, the token's
// grant and the default (the body's workspace_id, read later, wins over all but a
// grant: with a token, its workspace wins and a body naming another is refused).
// It answers 400 and returns false for a malformed header.
func (p *Proxy) attribute(w http.ResponseWriter, r *http.Request, x *exchange) bool {
	pick := func(names ...string) (string, string) {
		for _, n := range names {
			if v := r.Header.Get(n); v != "" {
				return v, n
			}
		}
		return "", ""
	}
	ws, wsFrom := pick(WorkspaceHeader, upstreamWorkspace)
	project, projFrom := pick(ProjectHeader, upstreamProject)
	for _, c := range [...]struct{ v, from string }{{ws, wsFrom}, {project, projFrom}} {
		if c.v != "" && !model.IsID(c.v) {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_field", c.from+" must be 1–64 of [A-Za-z0-9._:-].", c.from)
			return false
		}
	}
	if x.grant != nil {
		// A token's workspace (and project, when the file names one) is what the
		// operator granted: a header cannot move its spend, nor its budget check,
		// to another workspace.
		ws, project = x.grant.Workspace, first(x.grant.Project, project)
	}
	x.ws, x.project = first(ws, p.cfg.Workspace), project
	return true
}

// first returns the first non-empty string.
func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// rewrite sends the request to the upstream's same path: the proxy's own headers
// removed, the attribution and (with a keys file) the real key set. A call that
// may spend is not cancelled when its application goes away: the API may charge
// it all the same, and only its answer says how much (see meter.drain).
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	x, _ := pr.In.Context().Value(exchangeKey{}).(*exchange)
	if spends(x.method) {
		ctx, cancel := context.WithCancel(context.WithoutCancel(pr.Out.Context()))
		x.cancelUp = cancel
		pr.Out = pr.Out.WithContext(ctx)
	}
	out := pr.Out
	out.URL.Scheme, out.URL.Host = p.up.Scheme, p.up.Host
	out.URL.Path, out.URL.RawPath = p.base+x.rel, ""
	out.Host = p.up.Host
	h := out.Header
	h.Del(WorkspaceHeader)
	h.Del(ProjectHeader)
	h.Del(VideoSecondsHeader)
	h.Set(upstreamWorkspace, x.ws)
	if x.project != "" {
		h.Set(upstreamProject, x.project)
	} else {
		h.Del(upstreamProject)
	}
	if x.grant != nil {
		h.Set("Authorization", "Bearer "+x.grant.APIKey)
	}
	x.auth = h.Get("Authorization")
}

// modifyResponse leaves the answer as it is and reads it as it streams past.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	x, _ := resp.Request.Context().Value(exchangeKey{}).(*exchange)
	if x == nil {
		return nil
	}
	x.status, x.reqID = resp.StatusCode, resp.Header.Get(requestIDHeader)
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	m := &meter{rc: resp.Body, p: p, x: x}
	x.metered.Store(true)
	if mt == "text/event-stream" {
		m.sse = &sseScan{}
	} else {
		m.js = &jsonScan{}
	}
	resp.Body = m
	return nil
}

// upstreamError answers a request upstream did not answer: 504 after a timeout,
// else 502, in the API's error shape. A call that may spend is recorded with that
// status, 0 credits and the code, so the dashboard's log shows it: whether the
// API did the work is unknown (reconciliation with GET /usage settles it).
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	x, _ := r.Context().Value(exchangeKey{}).(*exchange)
	if x == nil || x.in.Err() != nil && !spends(x.method) {
		return // a read the application gave up on
	}
	p.m.upstream.Inc()
	p.log.Warn("upstream did not answer", "method", r.Method, "endpoint", x.endpoint, "err", errors.Unwrap(err))
	status, code := http.StatusBadGateway, CodeUpstreamUnavailable
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		status, code = http.StatusGatewayTimeout, CodeUpstreamTimeout
	}
	msg := "mavtop proxy: the API did not answer (" + code + "); the call may or may not have been made."
	if spends(x.method) {
		p.track(client.Outcome{Workspace: x.ws, Project: x.project, Endpoint: x.endpoint, Status: status,
			Code: code, Msg: msg + " Its charge, if any, is unknown.", Op: x.op, Est: x.est}, x.auth)
	}
	if x.in.Err() == nil {
		writeError(w, status, "api_error", code, msg, "")
	}
}

// Codes of the answers the proxy gives when upstream gave none.
const (
	// CodeUpstreamUnavailable: the API could not be reached or broke the connection (502).
	CodeUpstreamUnavailable = "upstream_unavailable"
	// CodeUpstreamTimeout: the API sent no response headers in time (504).
	CodeUpstreamTimeout = "upstream_timeout"
)

// refuse runs the pre-flight check; when the call cannot be afforded it answers
// 402, records the refusal and returns true.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, x *exchange, q estimator.Quote) bool {
	cached := p.budgets != nil && !liveOp(q.Op)
	if cached && p.budgets.admit(x.ws, x.project, q, time.Now()) {
		p.m.cachedAdmits.Inc()
		return false
	}
	read := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.BudgetTimeout)
	b, err := p.cfg.Budgets.Budget(ctx, x.ws, x.project)
	cancel()
	if err != nil {
		p.m.unchecked.Inc()
		if now := time.Now().UnixNano(); now-p.lastSkip.Load() > int64(time.Second) {
			p.lastSkip.Store(now)
			p.log.Warn("pre-flight skipped: budgets unreadable, request forwarded unchecked", "ws", x.ws, "endpoint", x.endpoint, "err", err)
		}
		return false
	}
	ref := judge(q, x.ws, x.project, b)
	if cached {
		var reserved int64
		if ref == nil {
			reserved = q.Estimate
		}
		p.budgets.store(x.ws, x.project, b, read, reserved)
	}
	if ref == nil {
		return false
	}
	p.m.refusals.WithLabelValues(ref.code).Inc()
	p.log.Info("pre-flight refused", "ws", x.ws, "project", x.project, "endpoint", x.endpoint, "code", ref.code, "estimate", q.Estimate)
	writeError(w, http.StatusPaymentRequired, "insufficient_credits", ref.code, ref.msg, "")
	p.track(client.Outcome{Workspace: x.ws, Project: x.project, Endpoint: x.endpoint, Status: http.StatusPaymentRequired,
		Code: ref.code, Msg: ref.msg, Op: x.op, Est: x.est}, x.auth)
	return true
}

// track queues an outcome's event; auth is the Authorization the call went upstream
// with, masked wherever the answer's message or request id echoes it.
func (p *Proxy) track(o client.Outcome, auth string) {
	p.cfg.Queue.Add(o.Event(p.cfg.Now(), client.Redact(auth)))
}

// apiPath reports whether rel is a path the proxy forwards: "/" and segments of
// printable ASCII, no empty, "." or ".." segment.
func apiPath(rel string) bool {
	if len(rel) < 2 || rel[0] != '/' || len(rel) > 512 {
		return false
	}
	for _, seg := range strings.Split(rel[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; c <= ' ' || c >= 0x7f {
				return false
			}
		}
	}
	return true
}

// Template returns the endpoint of an API path as the usage stream and the metrics
// name it: segments that are words (lower-case letters and dashes) stay, any other
// (an id) becomes {id}: "/video-analyses/clx1/chat" → "/video-analyses/{id}/chat".
func Template(rel string) string {
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	for i, s := range segs {
		if !word(s) {
			segs[i] = "{id}"
		}
	}
	t := "/" + strings.Join(segs, "/")
	if len(t) > model.MaxEndpointLen {
		t = t[:model.MaxEndpointLen]
	}
	return t
}

func word(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// writeError answers in the API's error shape.
func writeError(w http.ResponseWriter, status int, typ, code, msg, param string) {
	var p *string
	if param != "" {
		p = &param
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code, "param": p}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// statusWriter remembers the status written; Unwrap lets the reverse proxy flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// bodyScan passes a request body upstream and notes its workspace_id on the way.
type bodyScan struct {
	rc   io.ReadCloser
	x    *exchange
	scan jsonScan
	done bool
}

func (b *bodyScan) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.scan.feed(p[:n])
	if err == io.EOF && !b.done {
		b.done = true
		b.scan.finish()
		if ws := b.scan.str("workspace_id"); model.IsID(ws) && b.x.grant == nil {
			b.x.bodyWS.Store(&ws)
		}
	}
	return n, err
}

func (b *bodyScan) Close() error { return b.rc.Close() }
